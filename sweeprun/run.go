package sweeprun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"roofline/bench"
	"roofline/estimator"
)

// ResultsFile is the name of the results file in the output directory.
const ResultsFile = "results.jsonl"

// DefaultReadyPaths are polled in turn until one answers 200: vLLM, SGLang and
// TensorRT-LLM answer /health; Ollama and other OpenAI-compatible servers /v1/models.
var DefaultReadyPaths = []string{"/health", "/v1/models"}

// Predictor predicts a run: the server's arguments (flags and environment), the client
// configuration it ran with and its records (an open loop's prediction replays their
// scheduled send times). It returns nil and a reason when it cannot predict.
type Predictor func(server Params, client bench.Config, recs []bench.Record) (*estimator.Serving, string)

// Options describe a sweep. Durations are wall-clock time.
type Options struct {
	Launcher Launcher
	// ServerArgs and ServerEnv are the grids of server arguments and environment
	// variables; every pair is one server configuration (nil: one empty configuration).
	ServerArgs, ServerEnv []Params
	// Clients is the grid of client arguments, run in order against each server.
	Clients []Params
	// Explicit, when not empty, replaces the grids: each entry's Args, Env and Clients
	// (nil Clients: the Clients grid) is one server configuration (the survivors of the
	// estimator's sweep, each with its own loads).
	Explicit []Config
	// Bench is the client configuration the client arguments modify (URL is set per run).
	Bench bench.Config
	// Dir receives results.jsonl, logs/ and records/ (created if missing).
	Dir string
	// Continue keeps the results already in Dir and runs only the configurations
	// missing from them (an interrupted one runs again).
	Continue bool
	// ReadyPaths are polled until one answers 200 (nil: DefaultReadyPaths);
	// ReadyTimeout bounds the wait (0: 10 minutes).
	ReadyPaths   []string
	ReadyTimeout time.Duration
	// Grace is the time between SIGTERM and SIGKILL (0: 10 s); Rest the pause after a
	// server stops, before the next starts.
	Grace, Rest time.Duration
	// GPUsAvailable refuses configurations that need more GPUs (negative: no limit).
	GPUsAvailable int
	// Predict, when not nil, predicts each run.
	Predict Predictor
	// Constraints are SLOs applied to the measured results (Result.MeetsSLO).
	Constraints []estimator.Constraint
	// Log receives one line per event (server started, ready, run finished); nil: none.
	Log io.Writer
	// OnRequest, when set, is called as each request of a benchmark completes, with the
	// run's planned request count (0: bounded by time instead); one call at a time.
	OnRequest func(total int, r bench.Record)
	// Reorder, when not nil, is called after each finished server configuration with
	// every result so far and the configurations still to run, and returns the order to
	// run them in (sweep --run --calibrate re-ranks them on a refitted profile).
	Reorder func(done []Result, remaining []Config) []Config
}

// Config is one server configuration of a sweep.
type Config struct {
	Index   int    // position in the grid, from 1 (names the log file)
	Args    Params // server arguments (flags)
	Env     Params // environment variables
	GPUs    int    // GPUs it needs (0: unknown or none)
	Command string // the command with "$PORT" for the port
	Skip    string // why it is not run ("" when it runs)
	// Clients are the client configurations run against this server (nil: Options.Clients).
	Clients []Params
}

// All returns the arguments and environment together, as results record them.
func (c Config) All() Params { return append(append(Params{}, c.Args...), c.Env...) }

// Plan lists the server configurations of o: every pair of ServerArgs × ServerEnv, its
// command, and Skip set for those needing more GPUs than o.GPUsAvailable. Errors are
// bad input (an argument the framework cannot express, a client argument that does
// not apply).
func Plan(o Options) ([]Config, error) {
	if err := o.Launcher.Validate(); err != nil {
		return nil, err
	}
	args, envs := o.ServerArgs, o.ServerEnv
	if len(args) == 0 {
		args = []Params{{}}
	}
	if len(envs) == 0 {
		envs = []Params{{}}
	}
	var todo []Config
	if len(o.Explicit) > 0 {
		todo = o.Explicit
	} else {
		for _, a := range args {
			for _, e := range envs {
				todo = append(todo, Config{Args: a, Env: e})
			}
		}
	}
	var out []Config
	for _, c := range todo {
		for _, cl := range append(append([]Params{}, o.Clients...), c.Clients...) {
			if _, err := ClientConfig(o.Bench, cl); err != nil {
				return nil, err
			}
		}
		line, vars, err := o.Launcher.Command(c.Args, c.Env, 0)
		if err != nil {
			return nil, err
		}
		c.Index, c.Command = len(out)+1, Display(line, vars)
		if c.GPUs, err = GPUsNeeded(o.Launcher.Framework, c.Args); err != nil {
			return nil, err
		}
		c.Skip = ""
		if o.GPUsAvailable >= 0 && c.GPUs > o.GPUsAvailable {
			c.Skip = fmt.Sprintf("needs %d GPU(s), %d available (--gpus-available)", c.GPUs, o.GPUsAvailable)
		}
		out = append(out, c)
	}
	return out, nil
}

// Run runs the sweep: for each configuration it starts the server on a free port in a
// process group of its own (output to logs/NNN.log), waits until a ready path answers,
// benchmarks every client configuration (records to records/NNN-MMM.jsonl), writes one
// Result per run to results.jsonl as it finishes, stops the group (SIGTERM, SIGKILL
// after Grace) and rests. A server that fails is recorded and the sweep goes on. When
// ctx ends, the running server is stopped, the run in progress is recorded as
// interrupted, and Run returns every result with ctx's error.
func Run(ctx context.Context, o Options) ([]Result, error) {
	plan, err := Plan(o)
	if err != nil {
		return nil, err
	}
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = 10 * time.Minute
	}
	if o.Grace <= 0 {
		o.Grace = 10 * time.Second
	}
	if len(o.ReadyPaths) == 0 {
		o.ReadyPaths = DefaultReadyPaths
	}
	for _, d := range []string{o.Dir, filepath.Join(o.Dir, "logs"), filepath.Join(o.Dir, "records")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	rs := &resultSet{path: filepath.Join(o.Dir, ResultsFile), log: o.Log}
	if err := rs.open(o.Continue); err != nil {
		return nil, err
	}
	defer rs.close()
	var remaining []Config
	for _, c := range plan {
		if c.Skip != "" {
			rs.logf("[%d/%d] skipped: %s: %s", c.Index, len(plan), c.Command, c.Skip)
			continue
		}
		remaining = append(remaining, c)
	}
	first := true
	for len(remaining) > 0 {
		c := remaining[0]
		remaining = remaining[1:]
		clients := c.Clients
		if len(clients) == 0 {
			clients = o.Clients
		}
		if len(clients) == 0 {
			clients = []Params{{}}
		}
		var todo []int
		for j, cl := range clients {
			if !rs.done[Result{ServerArgs: c.All(), ClientArgs: cl}.Key()] {
				todo = append(todo, j)
			}
		}
		if len(todo) == 0 {
			continue
		}
		if !first && o.Rest > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(o.Rest):
			}
		}
		first = false
		if err := ctx.Err(); err != nil {
			break
		}
		if err := runServer(ctx, o, rs, c, len(plan), clients, todo); err != nil {
			break
		}
		if o.Reorder != nil && len(remaining) > 0 {
			remaining = o.Reorder(rs.all, remaining)
		}
	}
	if err := rs.judge(o.Constraints); err != nil {
		return rs.all, err
	}
	return rs.all, ctx.Err()
}

// runServer runs one server configuration; it returns ctx's error when interrupted.
func runServer(ctx context.Context, o Options, rs *resultSet, c Config, total int, clients []Params, todo []int) error {
	host := o.Launcher.host()
	port, err := freePort(host)
	logRel := filepath.Join("logs", fmt.Sprintf("%03d.log", c.Index))
	shown := c.Command // with the port once it is known
	base := func(j int) Result {
		return Result{ServerArgs: c.All(), ClientArgs: clients[j], Command: shown, GPUs: c.GPUs, ServerLog: logRel, ErrorPct: map[string]float64{}}
	}
	failAll := func(status, msg string) {
		for _, j := range todo {
			r := base(j)
			r.Status, r.Error = status, msg
			rs.predict(o, &r, nil)
			rs.add(r)
		}
	}
	if err != nil {
		failAll(StatusServerFailed, "no free port: "+err.Error())
		return nil
	}
	line, vars, err := o.Launcher.Command(c.Args, c.Env, port)
	if err != nil { // Plan checked the same arguments
		failAll(StatusServerFailed, err.Error())
		return nil
	}
	shown = Display(line, vars)
	logPath := filepath.Join(o.Dir, logRel)
	if f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
		fmt.Fprintf(f, "=== roofline sweep: %s: %s\n", time.Now().UTC().Format(time.RFC3339), shown)
		f.Close()
	}
	rs.logf("[%d/%d] starting: %s", c.Index, total, shown)
	start := time.Now()
	srv, err := startServer(line, vars, logPath)
	if err != nil {
		failAll(StatusServerFailed, "start: "+err.Error())
		return nil
	}
	defer func() {
		srv.stop(o.Grace)
		rs.logf("[%d/%d] stopped (%s)", c.Index, total, srv.status)
	}()
	tail := func() string {
		t := logTail(logPath, 20)
		if t == "" {
			return ""
		}
		return "; last lines of the server log:\n" + t
	}
	baseURL := "http://" + hostPort(host, port)
	if status, err := srv.waitReady(ctx, baseURL, o.ReadyPaths, o.ReadyTimeout); err != nil {
		if status == StatusInterrupted {
			r := base(todo[0])
			r.Status, r.Error = StatusInterrupted, "interrupted while waiting for the server"
			rs.add(r)
			return ctx.Err()
		}
		rs.logf("[%d/%d] %s: %v", c.Index, total, status, err)
		failAll(status, err.Error()+tail())
		return nil
	}
	rs.logf("[%d/%d] ready after %.1f s", c.Index, total, time.Since(start).Seconds())
	for k, j := range todo {
		r := base(j)
		if !srv.alive() {
			r.Status, r.Error = StatusBenchFailed, fmt.Sprintf("server exited during an earlier run (%s)%s", srv.status, tail())
			rs.predict(o, &r, nil)
			rs.add(r)
			continue
		}
		cfg, err := ClientConfig(o.Bench, clients[j])
		if err != nil { // Plan checked the same arguments
			r.Status, r.Error = StatusBenchFailed, err.Error()
			rs.add(r)
			continue
		}
		cfg.URL = baseURL
		recRel := filepath.Join("records", fmt.Sprintf("%03d-%03d.jsonl", c.Index, j+1))
		r.Records = recRel
		recs, runErr := runBench(ctx, srv, cfg, filepath.Join(o.Dir, recRel), o.OnRequest)
		sum := bench.Summarize(recs, bench.Options{})
		sum.Run = cfg.RunInfo(len(recs), "requested (sweep --input-len/--output-len or --client-args)")
		if sum.Failed > 0 && ctx.Err() == nil {
			// Failed requests may mean the server died: give its exit a moment to show.
			select {
			case <-srv.exited:
			case <-time.After(time.Second):
			}
		}
		if len(recs) > 0 {
			r.Measured = &sum
		}
		switch {
		case ctx.Err() != nil:
			r.Status, r.Error = StatusInterrupted, fmt.Sprintf("interrupted after %d requests", len(recs))
		case !srv.alive():
			r.Status, r.Error = StatusBenchFailed, fmt.Sprintf("server exited during the run (%s)%s", srv.status, tail())
		case runErr != nil:
			r.Status, r.Error = StatusBenchFailed, runErr.Error()+tail()
		case sum.Completed == 0:
			r.Status, r.Error = StatusBenchFailed, fmt.Sprintf("no request succeeded (%d failed: %v)", sum.Failed, sum.Errors)
		default:
			r.Status = StatusOK
		}
		rs.predict(o, &r, recs)
		rs.add(r)
		rs.logf("[%d/%d] %s (%d/%d): %s", c.Index, total, clients[j], k+1, len(todo), describe(r))
		if r.Status == StatusInterrupted {
			return ctx.Err()
		}
	}
	return nil
}

// runBench runs one benchmark, cancelled if the server exits, with each record written
// to path as it completes.
func runBench(ctx context.Context, srv *server, cfg bench.Config, path string, onRequest func(int, bench.Record)) ([]bench.Record, error) {
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-srv.exited:
			cancel()
		case <-bctx.Done():
		}
	}()
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var mu sync.Mutex
	return bench.Run(bctx, cfg, func(r bench.Record) {
		mu.Lock()
		bench.WriteRecord(f, r)
		if onRequest != nil {
			onRequest(cfg.NumRequests, r)
		}
		mu.Unlock()
	})
}

func hostPort(host string, port int) string {
	if bytes.ContainsRune([]byte(host), ':') {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return host + ":" + strconv.Itoa(port)
}

// describe is a one-line account of a result for the log.
func describe(r Result) string {
	s := r.Status
	if m := r.Measured; m != nil && m.Completed == 0 {
		s += fmt.Sprintf(", 0 completed, %d failed", m.Failed)
	} else if m != nil {
		s += fmt.Sprintf(", %d completed, TTFT mean %.4g ms, TPOT mean %.4g ms, %.4g output tok/s", m.Completed, m.TTFT.Mean, m.TPOT.Mean, m.OutputTokS)
	}
	if e, ok := r.ErrorPct["ttft_ms_mean"]; ok {
		s += fmt.Sprintf(" (prediction %+.1f%% TTFT", e)
		if e2, ok := r.ErrorPct["output_tok_s"]; ok {
			s += fmt.Sprintf(", %+.1f%% tok/s", e2)
		}
		s += ")"
	}
	if r.Error != "" && r.Status != StatusOK {
		msg, _, _ := bytes.Cut([]byte(r.Error), []byte("\n"))
		s += ": " + string(msg)
	}
	return s
}

// resultSet is results.jsonl: the results so far and the file they are appended to.
type resultSet struct {
	path string
	f    *os.File
	all  []Result
	done map[string]bool // keys of results not to run again
	log  io.Writer
	mu   sync.Mutex
}

func (s *resultSet) logf(format string, a ...any) {
	if s.log != nil {
		fmt.Fprintf(s.log, "sweep: "+format+"\n", a...)
	}
}

// open reads the existing results (with cont) or refuses to overwrite them.
func (s *resultSet) open(cont bool) error {
	s.done = map[string]bool{}
	b, err := os.ReadFile(s.path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if len(bytes.TrimSpace(b)) > 0 {
		if !cont {
			return fmt.Errorf("--output-dir: %s already holds results: give --continue to run only the missing configurations, or another directory", s.path)
		}
		old, err := ReadResults(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("--continue: %s: %v", s.path, err)
		}
		for _, r := range old {
			if r.Status == StatusInterrupted { // runs again
				continue
			}
			s.all = append(s.all, r)
			s.done[r.Key()] = true
		}
		if err := s.rewrite(); err != nil {
			return err
		}
	}
	s.f, err = os.OpenFile(s.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	return err
}

// add appends r to the file at once, so that a killed sweep keeps it.
func (s *resultSet) add(r Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.all = append(s.all, r)
	if err := WriteResult(s.f, r); err != nil {
		s.logf("writing %s: %v", s.path, err)
	}
}

// predict fills Predicted (or PredictedReason) and ErrorPct of r.
func (s *resultSet) predict(o Options, r *Result, recs []bench.Record) {
	if o.Predict == nil {
		r.PredictedReason = "no prediction asked for"
		return
	}
	cfg, err := ClientConfig(o.Bench, r.ClientArgs)
	if err != nil {
		r.PredictedReason = err.Error()
		return
	}
	p, reason := o.Predict(r.ServerArgs, cfg, recs)
	r.Predicted, r.PredictedReason = p, reason
	if p != nil && r.Measured != nil && r.Status == StatusOK {
		r.ErrorPct = ErrorPct(*p, *r.Measured)
	}
}

// judge applies the constraints and the measured front to every result and rewrites
// the file with them.
func (s *resultSet) judge(cons []estimator.Constraint) error {
	Judge(s.all, cons)
	return s.rewrite()
}

// rewrite replaces the file with s.all (write to a temporary file, then rename).
func (s *resultSet) rewrite() error {
	var buf bytes.Buffer
	for _, r := range s.all {
		if err := WriteResult(&buf, r); err != nil {
			return err
		}
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, s.path)
}

func (s *resultSet) close() {
	if s.f != nil {
		s.f.Close()
	}
}
