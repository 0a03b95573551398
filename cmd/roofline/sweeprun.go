package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"roofline/bench"
	"roofline/estimator"
	"roofline/models"
	"roofline/sweeprun"
	"roofline/units"
	"roofline/validation"
)

// loopFlags are the flags of "sweep --run" and "sweep --dry-run".
type loopFlags struct {
	run, dryRun, cont, calibrate bool
	quiet                        bool
	framework, serverCmd, bin    string
	serverArgs, clientArgs, env  string
	served, outDir, host         string
	readyPaths                   []string
	readyTimeout, grace, rest    time.Duration
	gpusAvailable                int
}

func (f *loopFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&f.run, "run", false, "start each configuration's server, benchmark it and record it beside the prediction (see --output-dir)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print every server command and the number of runs of --run, and run nothing")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "no progress bar on stderr (of the sweep, or with --run of each benchmark's requests; --run's event lines stay)")
	fs.StringVar(&f.framework, "framework", "", "server to launch: vllm, sglang, trtllm or ollama (maps argument names to its native flags)")
	fs.StringVar(&f.serverCmd, "server-cmd", "", "command template for any other server: {name} takes a --server-args value, {port} the port, {host}, {model}")
	fs.StringVar(&f.bin, "server-bin", "", "executable of --framework's server (default vllm, python, trtllm-serve or ollama on PATH)")
	fs.StringVar(&f.serverArgs, "server-args", "", "grid of server arguments, e.g. 'tp_size*dp_size=[(1,4),(2,2)];max_num_seqs=[64,256]' (* ties, ; separates)")
	fs.StringVar(&f.clientArgs, "client-args", "", "grid of benchmark arguments, e.g. 'concurrency=[8,32];num_requests=200'")
	fs.StringVar(&f.env, "server-env", "", "grid of server environment variables, e.g. 'OLLAMA_NUM_PARALLEL=[1,4]'")
	fs.StringVar(&f.served, "served-model-name", "", "model name the benchmark requests (default --model)")
	fs.StringVar(&f.outDir, "output-dir", "sweep-results", "directory for results.jsonl, logs/ and records/")
	fs.BoolVar(&f.cont, "continue", false, "keep the results already in --output-dir and run only the missing configurations")
	fs.StringSliceVar(&f.readyPaths, "ready-path", nil, "path polled until it answers 200 (default /health, then /v1/models)")
	fs.DurationVar(&f.readyTimeout, "ready-timeout", 10*time.Minute, "how long a server may take to become ready")
	fs.DurationVar(&f.grace, "grace", 10*time.Second, "time between SIGTERM and SIGKILL when stopping a server")
	fs.DurationVar(&f.rest, "rest", 0, "pause between one server's stop and the next one's start")
	fs.IntVar(&f.gpusAvailable, "gpus-available", -1, "refuse configurations needing more GPUs (default: what nvidia-smi -L or rocm-smi lists; unlimited for --server-cmd and ollama)")
	fs.StringVar(&f.host, "host", "127.0.0.1", "address servers bind (loopback by default; anything else exposes them)")
	fs.BoolVar(&f.calibrate, "calibrate", false, "with --run: refit the engine profile after each server configuration and re-rank the rest")
}

// active reports whether the loop was asked for.
func (f *loopFlags) active() bool { return f.run || f.dryRun }

// sweepLoop runs (or, with --dry-run, prints) the sweep loop.
func sweepLoop(ctx context.Context, e *env, f *sweepFlags, fs *pflag.FlagSet) error {
	lf := &f.loop
	if lf.run && lf.dryRun {
		return usageErr("--run and --dry-run: give one")
	}
	if lf.calibrate && !lf.run {
		return usageErr("--calibrate: only with --run")
	}
	if lf.host == "" {
		return usageErr("--host: give an address such as 127.0.0.1")
	}
	if ip := net.ParseIP(lf.host); lf.host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(e.stderr, "roofline: warning: --host %s: servers will accept connections from beyond this machine\n", lf.host)
	}
	o := sweeprun.Options{Dir: lf.outDir, Continue: lf.cont, ReadyPaths: lf.readyPaths, ReadyTimeout: lf.readyTimeout,
		Grace: lf.grace, Rest: lf.rest, GPUsAvailable: lf.gpusAvailable}
	pl := &progressLog{w: e.stderr, quiet: lf.quiet}
	o.Log, o.OnRequest = pl, pl.request
	defer pl.finish()
	o.Launcher = sweeprun.Launcher{Framework: lf.framework, Template: lf.serverCmd, Bin: lf.bin, Model: f.model, Host: lf.host}
	if err := o.Launcher.Validate(); err != nil {
		return usageErr("%v", err)
	}
	if lf.bin != "" && lf.serverCmd != "" {
		return usageErr("--server-bin: only with --framework (a --server-cmd names its own executable)")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--ready-timeout", lf.readyTimeout}, {"--grace", lf.grace}} {
		if d.v <= 0 {
			return usageErr("%s %v: must be > 0", d.name, d.v)
		}
	}
	if lf.rest < 0 {
		return usageErr("--rest %v: must be ≥ 0", lf.rest)
	}
	for _, p := range lf.readyPaths {
		if !strings.HasPrefix(p, "/") {
			return usageErr("--ready-path %q: must start with /", p)
		}
	}
	var err error
	for _, g := range []struct {
		flag, text string
		dst        *[]sweeprun.Params
	}{{"--server-args", lf.serverArgs, &o.ServerArgs}, {"--client-args", lf.clientArgs, &o.Clients}, {"--server-env", lf.env, &o.ServerEnv}} {
		if *g.dst, err = sweeprun.ParseGrid(g.text); err != nil {
			return usageErr("%s: %v", g.flag, err)
		}
	}
	for _, p := range o.ServerEnv {
		for _, kv := range p {
			if strings.ContainsAny(kv.Name, "-.") {
				return usageErr("--server-env %s: not an environment variable name", kv.Name)
			}
		}
	}
	if lf.gpusAvailable < -1 {
		return usageErr("--gpus-available %d: must be ≥ 0", lf.gpusAvailable)
	}
	if !fs.Changed("gpus-available") && lf.serverCmd == "" && lf.framework != "ollama" {
		o.GPUsAvailable = countGPUs()
	}

	// The benchmark's base configuration: the sweep's workload flags.
	served := lf.served
	if served == "" {
		served = f.model
	}
	o.Bench = bench.Config{Model: served, InputLen: f.inputLen, OutputLen: f.outputLen, PrefixLen: f.prefixLen,
		NumRequests: f.numRequests, Timeout: 10 * time.Minute, Seed: 1,
		APIKey: e.getenv("OPENAI_API_KEY")} // as bench: sent as a Bearer token, never printed or recorded
	fromEstimator := lf.serverCmd == "" && lf.serverArgs == "" && lf.env == "" && lf.clientArgs == "" && lf.framework != "ollama"
	var ranked string
	if fromEstimator {
		// No grid: run the --top survivors of the estimator's sweep with the engine's flags.
		if !f.engineChanged {
			f.engines = []string{lf.framework}
		}
		if len(f.engines) != 1 || f.engines[0] != lf.framework {
			return usageErr("--engine %s: with --framework %s and no --server-args, the sweep ranks the %s profile only (leave --engine out)", strings.Join(f.engines, ","), lf.framework, lf.framework)
		}
		if o.Explicit, ranked, err = estimatorConfigs(ctx, e, f); err != nil {
			return err
		}
		o.Clients = nil
	}
	if !fromEstimator && len(o.Clients) == 1 && len(o.Clients[0]) == 0 && (f.concurrency != "" || f.rate != "") {
		// No --client-args: the loads of --concurrency or --request-rate.
		key, text := "concurrency", f.concurrency
		if text == "" {
			key, text = "request_rate", f.rate
		}
		vs, err := estimator.ParseRange(text, key == "concurrency")
		if err != nil {
			return usageErr("--%s: %v", strings.ReplaceAll(key, "_", "-"), err)
		}
		o.Clients = nil
		for _, v := range vs {
			o.Clients = append(o.Clients, sweeprun.Params{{Name: key, Value: strconv.FormatFloat(v, 'g', -1, 64)}})
		}
	}
	allClients := append([]sweeprun.Params{}, o.Clients...)
	for _, c := range o.Explicit {
		allClients = append(allClients, c.Clients...)
	}
	for _, c := range allClients {
		cfg, err := sweeprun.ClientConfig(o.Bench, c)
		if err != nil {
			return usageErr("--client-args: %v", err)
		}
		if cfg.Model == "" {
			return usageErr("--served-model-name or --model: the model name the benchmark requests is required")
		}
		if cfg.InputLen < 1 || cfg.OutputLen < 1 {
			return usageErr("--input-len and --output-len (or input_len and output_len in --client-args) are required (tokens ≥ 1)")
		}
		cfg.URL = "http://127.0.0.1:1" // set per run; checked here for the other fields
		if err := cfg.Validate(); err != nil {
			return usageErr("--client-args %s: %v", c, err)
		}
	}

	pr, note := newLoopPredictor(ctx, e, f, o.ServerEnv)
	if pr != nil {
		o.Predict = pr.predict
	} else {
		o.Predict = func(sweeprun.Params, bench.Config, []bench.Record) (*estimator.Serving, string) { return nil, note }
	}
	cons := []estimator.Constraint{}
	for _, s := range f.constraints {
		c, err := estimator.ParseConstraint(s)
		if err != nil {
			return usageErr("--constraint: %v", err)
		}
		cons = append(cons, c)
	}
	o.Constraints = cons

	plan, err := sweeprun.Plan(o)
	if err != nil {
		return usageErr("%v", err)
	}
	if o.GPUsAvailable == 0 && !fs.Changed("gpus-available") {
		fmt.Fprintln(e.stderr, "roofline: warning: nvidia-smi -L and rocm-smi list no GPU: configurations needing one are refused (give --gpus-available N to override)")
	}
	clientsOf := func(c sweeprun.Config) []sweeprun.Params {
		if len(c.Clients) > 0 {
			return c.Clients
		}
		if len(o.Clients) == 0 {
			return []sweeprun.Params{{}}
		}
		return o.Clients
	}
	runs, skipped := 0, 0
	for _, c := range plan {
		if c.Skip != "" {
			skipped++
		} else {
			runs += len(clientsOf(c))
		}
	}
	if lf.dryRun {
		w := e.stdout
		if fromEstimator {
			fmt.Fprintf(w, "roofline sweep --dry-run: the %s; %d server configurations, %d runs", ranked, len(plan)-skipped, runs)
		} else {
			fmt.Fprintf(w, "roofline sweep --dry-run: %d server configurations × %d client configurations = %d runs", len(plan)-skipped, len(o.Clients), runs)
		}
		if skipped > 0 {
			fmt.Fprintf(w, " (%d configurations refused)", skipped)
		}
		fmt.Fprintln(w)
		for _, c := range plan {
			fmt.Fprintf(w, "\n[%d] %s\n", c.Index, c.Command)
			if c.Skip != "" {
				fmt.Fprintf(w, "    refused: %s\n", c.Skip)
				continue
			}
			for _, cl := range clientsOf(c) {
				cfg, _ := sweeprun.ClientConfig(o.Bench, cl)
				fmt.Fprintf(w, "    bench %s\n", benchLine(cfg))
				if pr != nil {
					fmt.Fprintf(w, "      predicted: %s\n", pr.closedForm(c.All(), cfg))
				}
			}
		}
		fmt.Fprintf(w, "\n$PORT is a free port picked at each start; results would go to %s/%s\n", lf.outDir, sweeprun.ResultsFile)
		if note != "" {
			fmt.Fprintf(w, "note: %s\n", note)
		}
		return nil
	}
	if runs == 0 {
		return usageErr("no configuration can run: %s", plan[0].Skip)
	}
	if note != "" {
		fmt.Fprintf(e.stderr, "sweep: note: %s\n", note)
	}
	if lf.calibrate {
		if pr == nil {
			return usageErr("--calibrate: needs a prediction (%s)", note)
		}
		o.Reorder = pr.recalibrate
	}
	res, runErr := sweeprun.Run(ctx, o)
	if res == nil && runErr != nil {
		if errors.Is(runErr, context.Canceled) {
			return &exitError{code: 130, err: fmt.Errorf("sweep: interrupted")}
		}
		return asUsage(runErr)
	}
	writeLoopTable(e.stdout, res, cons)
	fmt.Fprintf(e.stdout, "results: %s/%s (one JSON object per run), server logs in %s/logs, request records in %s/records\n", lf.outDir, sweeprun.ResultsFile, lf.outDir, lf.outDir)
	if errors.Is(runErr, context.Canceled) {
		return &exitError{code: 130, err: fmt.Errorf("sweep: interrupted; %d results kept in %s (--continue runs the rest)", len(res), lf.outDir)}
	}
	return runErr
}

// benchLine is the roofline bench command of a client configuration (without --url).
func benchLine(c bench.Config) string {
	s := fmt.Sprintf("--model %s --input-len %d --output-len %d", c.Model, c.InputLen, c.OutputLen)
	if c.PrefixLen > 0 {
		s += fmt.Sprintf(" --prefix-len %d", c.PrefixLen)
	}
	if c.RequestRate > 0 {
		s += fmt.Sprintf(" --request-rate %g --burstiness %g", c.RequestRate, c.Burstiness)
	}
	if c.Concurrency > 0 {
		s += fmt.Sprintf(" --concurrency %d", c.Concurrency)
	}
	if c.NumRequests > 0 {
		s += fmt.Sprintf(" --num-requests %d", c.NumRequests)
	}
	if c.Duration > 0 {
		s += fmt.Sprintf(" --duration %s", c.Duration)
	}
	if c.Warmup > 0 {
		s += fmt.Sprintf(" --warmup %d", c.Warmup)
	}
	return s
}

// countGPUs is the number of GPUs nvidia-smi -L or rocm-smi --showid lists; 0 when
// neither answers.
func countGPUs() int {
	if out, err := exec.Command("nvidia-smi", "-L").Output(); err == nil {
		return countGPULines(string(out))
	}
	if out, err := exec.Command("rocm-smi", "--showid").Output(); err == nil {
		return countGPULines(string(out))
	}
	return 0
}

// countGPULines counts the distinct GPUs of nvidia-smi -L ("GPU 0: NVIDIA H200 (UUID:
// GPU-…)", one line each) or rocm-smi --showid ("GPU[0]		: Device ID: 0x74a1", several
// lines each): lines starting with "GPU", told apart by the text before their first colon.
func countGPULines(out string) int {
	seen := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "GPU") {
			continue
		}
		if id, _, ok := strings.Cut(l, ":"); ok {
			seen[strings.TrimSpace(id)] = true
		}
	}
	return len(seen)
}

// loopPredictor predicts each run from the sweep's --model and --gpus and the server
// arguments; with --calibrate its profile is refitted as runs finish.
type loopPredictor struct {
	model   *models.Model
	profile *estimator.Profile
	engine  string
	ignore  map[string]bool
	base    estimator.Spec
	log     io.Writer // where --calibrate reports each refit (nil: nowhere)
}

// newLoopPredictor returns nil and the reason when no prediction can be made.
func newLoopPredictor(ctx context.Context, e *env, f *sweepFlags, env []sweeprun.Params) (*loopPredictor, string) {
	if f.model == "" {
		return nil, "no --model: runs are recorded without a prediction"
	}
	if f.gpus == "" {
		return nil, "no --gpus: runs are recorded without a prediction (give the GPU the servers run on)"
	}
	m, err := loadModel(ctx, e, f.model)
	if err != nil {
		return nil, fmt.Sprintf("--model %s: %v: runs are recorded without a prediction", f.model, err)
	}
	gpus, err := pickGPUs(f.gpus, f.gpuFiles)
	if err != nil || len(gpus) != 1 {
		return nil, fmt.Sprintf("--gpus %q: name the one GPU the servers run on to predict", f.gpus)
	}
	engine := "vllm"
	if len(f.engines) > 0 {
		engine = f.engines[0]
	}
	if f.loop.framework != "" && f.loop.framework != "ollama" && !f.engineChanged {
		engine = f.loop.framework
	}
	prof, _, err := resolveProfile("engine", engine, "")
	if err != nil {
		return nil, err.Error()
	}
	p := &loopPredictor{model: m, profile: prof, engine: engine, ignore: map[string]bool{}, log: e.stderr}
	for _, ps := range env {
		for _, kv := range ps {
			p.ignore[kv.Name] = true
		}
	}
	p.base = estimator.Spec{Model: m, GPU: gpus[0], MaxModelLen: f.maxModelLen, MemoryFraction: f.memFrac}
	return p, ""
}

func (p *loopPredictor) deployment(server sweeprun.Params) (*estimator.Deployment, []string, error) {
	spec := p.base
	spec.Profile = p.profile
	unmodelled, err := sweeprun.ApplyArgs(&spec, server, p.ignore)
	if err != nil {
		return nil, nil, err
	}
	d, err := estimator.New(spec)
	return d, unmodelled, err
}

func (p *loopPredictor) predict(server sweeprun.Params, cfg bench.Config, recs []bench.Record) (*estimator.Serving, string) {
	d, unmodelled, err := p.deployment(server)
	if err != nil {
		return nil, err.Error()
	}
	s, err := d.Simulate(sweeprun.RunWorkload(cfg, recs), cfg.Seed)
	if err != nil {
		return nil, err.Error()
	}
	for _, u := range unmodelled {
		s.Warnings = append(s.Warnings, fmt.Sprintf("server argument %s is not modelled: the prediction ignores it", u))
	}
	s.Warnings = append(s.Warnings, "profile "+p.profile.Name)
	return &s, ""
}

// recalibrate refits the profile on every ok run so far (the fit of validate
// --calibrate-out) and orders the remaining configurations by predicted output tok/s
// per GPU at their first client configuration, highest first.
func (p *loopPredictor) recalibrate(done []sweeprun.Result, remaining []sweeprun.Config) []sweeprun.Config {
	samples := loopSamples(done, func(args sweeprun.Params) (*estimator.Deployment, error) {
		d, _, err := p.deployment(args)
		return d, err
	})
	if len(samples) == 0 {
		return remaining
	}
	fit, err := estimator.Calibrate(samples, p.profile, validation.RunFitParams)
	if err != nil {
		return remaining
	}
	fit.Profile.Name = strings.TrimSuffix(p.profile.Name, "-calibrated") + "-calibrated"
	if p.log != nil {
		fmt.Fprintf(p.log, "sweep: refitted %s on %d decode-step samples of the finished runs (MAPE %.2f%% → %.2f%%); re-ranking %d configurations\n",
			fit.Profile.Name, fit.N, fit.MAPE0, fit.MAPE, len(remaining))
	}
	p.profile = fit.Profile
	score := map[int]float64{}
	for _, c := range remaining {
		score[c.Index] = math.Inf(-1)
		d, _, err := p.deployment(c.All())
		if err != nil {
			continue
		}
		if s, err := d.Serve(estimator.Workload{Kind: estimator.Concurrency, Concurrency: 1, InputLen: 512, OutputLen: 128}); err == nil {
			score[c.Index] = s.OutputTokS / float64(d.NumGPUs)
		}
	}
	sort.SliceStable(remaining, func(i, j int) bool { return score[remaining[i].Index] > score[remaining[j].Index] })
	return remaining
}

// closedForm is a one-line closed-form prediction of a run, for --dry-run.
func (p *loopPredictor) closedForm(server sweeprun.Params, cfg bench.Config) string {
	d, _, err := p.deployment(server)
	if err != nil {
		return "none: " + err.Error()
	}
	s, err := d.Serve(sweeprun.RunWorkload(cfg, nil))
	if err != nil {
		return "none: " + err.Error()
	}
	return fmt.Sprintf("TTFT mean %s ms, TPOT mean %s ms, %s output tok/s (closed form, profile %s)", ms(s.TTFT.Mean), ms(s.TPOT.Mean), units.Sig(s.OutputTokS), p.profile.Name)
}

// estimatorConfigs runs the estimator's sweep over the usual sweep flags and returns its
// --top survivors as server configurations (the engine's own arguments) with their
// loads as client configurations, and a phrase saying what was ranked.
func estimatorConfigs(ctx context.Context, e *env, f *sweepFlags) ([]sweeprun.Config, string, error) {
	sp, cons, err := f.space(ctx, e)
	if err != nil {
		return nil, "", err
	}
	if len(sp.GPUs) != 1 {
		return nil, "", usageErr("--gpus %q: --run launches servers on this machine: name the one GPU type it has", f.gpus)
	}
	res, err := estimator.Sweep(ctx, sp, estimator.SweepOptions{Constraints: cons, Objective: f.objective, PriceUSDPerGPUHour: f.price, Top: f.top})
	if err != nil {
		return nil, "", asUsage(err)
	}
	if len(res.Points) == 0 {
		return nil, "", usageErr("no configuration meets every constraint: nothing to run (relax a --constraint or widen the space)")
	}
	ckpt := sp.Model.Quant.Dtype
	var out []sweeprun.Config
	index := map[string]int{}
	for _, p := range res.Points {
		args := sweeprun.Params{{Name: "tp_size", Value: strconv.Itoa(p.TP)}}
		add := func(name string, v int) {
			if v > 1 {
				args = append(args, sweeprun.Param{Name: name, Value: strconv.Itoa(v)})
			}
		}
		add("pp_size", p.PP)
		add("dp_size", p.DP)
		add("ep_size", p.EP)
		add("max_num_seqs", p.MaxNumSeqs)
		add("max_num_batched_tokens", p.MaxNumBatchedTokens)
		add("max_model_len", p.MaxModelLen)
		if p.KVDtype == "fp8" && p.Engine != "trtllm" {
			v := "fp8"
			if p.Engine == "sglang" {
				v = "fp8_e4m3" // sglang.launch_server names the FP8 format
			}
			args = append(args, sweeprun.Param{Name: "kv_cache_dtype", Value: v})
		}
		if p.WeightDtype == "fp8" && ckpt != "fp8" && p.Engine != "trtllm" {
			args = append(args, sweeprun.Param{Name: "quantization", Value: "fp8"})
		}
		if p.MemoryFraction > 0 && p.Engine != "trtllm" {
			args = append(args, sweeprun.Param{Name: "gpu_memory_utilization", Value: strconv.FormatFloat(p.MemoryFraction, 'g', -1, 64)})
		}
		load := sweeprun.Params{{Name: "concurrency", Value: strconv.Itoa(p.Concurrency)}}
		if p.RequestRate > 0 {
			load = sweeprun.Params{{Name: "request_rate", Value: strconv.FormatFloat(p.RequestRate, 'g', -1, 64)}}
		}
		k := args.Key()
		if i, ok := index[k]; ok {
			out[i].Clients = append(out[i].Clients, load)
			continue
		}
		index[k] = len(out)
		out = append(out, sweeprun.Config{Args: args, Clients: []sweeprun.Params{load}})
	}
	return out, fmt.Sprintf("%d best of %d configurations by %s (estimator sweep, --top %d)", len(res.Points), res.Evaluated, f.objective, f.top), nil
}

// writeLoopTable prints measured beside predicted for every run.
func writeLoopTable(w io.Writer, rs []sweeprun.Result, cons []estimator.Constraint) {
	fmt.Fprintf(w, "roofline sweep --run: %d runs; measured / predicted (error = (predicted − measured)/measured)\n", len(rs))
	if len(cons) > 0 {
		var cs []string
		for _, c := range cons {
			cs = append(cs, c.String())
		}
		fmt.Fprintf(w, "SLO constraints on the measured runs: %s\n", strings.Join(cs, ", "))
	}
	srvVary, srvCommon := splitVarying(rs, func(r sweeprun.Result) sweeprun.Params { return r.ServerArgs })
	cliVary, cliCommon := splitVarying(rs, func(r sweeprun.Result) sweeprun.Params { return r.ClientArgs })
	if len(srvCommon) > 0 {
		fmt.Fprintf(w, "every server: %s\n", srvCommon)
	}
	if len(cliCommon) > 0 {
		fmt.Fprintf(w, "every client: %s\n", cliCommon)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tserver\tclient\tstatus\tTTFT mean ms\tTPOT mean ms\toutput tok/s\terror tok/s\tSLO\tfront\t")
	pair := func(m, p float64, have bool) string {
		ms := "-"
		if !math.IsNaN(m) {
			ms = units.Sig(m)
		}
		if !have || math.IsNaN(p) || math.IsInf(p, 0) {
			return ms + " / -"
		}
		return ms + " / " + units.Sig(p)
	}
	for i, r := range rs {
		var mt, mp, mo = math.NaN(), math.NaN(), math.NaN()
		if r.Measured != nil {
			mt, mp, mo = r.Measured.TTFT.Mean, r.Measured.TPOT.Mean, r.Measured.OutputTokS
		}
		var pt, pp, po float64
		if r.Predicted != nil {
			pt, pp, po = r.Predicted.TTFT.Mean, r.Predicted.TPOT.Mean, r.Predicted.OutputTokS
		}
		errTok := "-"
		if v, ok := r.ErrorPct["output_tok_s"]; ok {
			errTok = fmt.Sprintf("%+.1f%%", v)
		}
		slo := "-"
		if r.MeetsSLO != nil {
			slo = map[bool]string{true: "met", false: "missed"}[*r.MeetsSLO]
		}
		front := ""
		if r.Pareto {
			front = "*"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", i+1, orDash(srvVary(r)), orDash(cliVary(r)), r.Status,
			pair(mt, pt, r.Predicted != nil), pair(mp, pp, r.Predicted != nil), pair(mo, po, r.Predicted != nil), errTok, slo, front)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nfront: * = on the measured Pareto front of output tok/s per GPU vs output tok/s per user (runs meeting the SLOs)")
	for i, r := range rs {
		if r.Status != sweeprun.StatusOK && r.Error != "" {
			first, _, _ := strings.Cut(r.Error, "\n")
			fmt.Fprintf(w, "run %d %s: %s (log: %s)\n", i+1, r.Status, first, r.ServerLog)
		}
		if r.Predicted == nil && r.PredictedReason != "" && i == 0 {
			fmt.Fprintf(w, "no prediction: %s\n", r.PredictedReason)
		}
	}
}

// splitVarying splits the arguments of results into those whose value differs between
// results (returned as a function of the result) and those common to all.
func splitVarying(rs []sweeprun.Result, get func(sweeprun.Result) sweeprun.Params) (func(sweeprun.Result) sweeprun.Params, sweeprun.Params) {
	values := map[string]map[string]bool{}
	count := map[string]int{}
	for _, r := range rs {
		for _, kv := range get(r) {
			if values[kv.Name] == nil {
				values[kv.Name] = map[string]bool{}
			}
			values[kv.Name][kv.Value] = true
			count[kv.Name]++
		}
	}
	varies := func(name string) bool { return len(values[name]) > 1 || count[name] != len(rs) }
	var common sweeprun.Params
	if len(rs) > 1 {
		for _, kv := range get(rs[0]) {
			if !varies(kv.Name) {
				common = append(common, kv)
			}
		}
	}
	return func(r sweeprun.Result) sweeprun.Params {
		var out sweeprun.Params
		for _, kv := range get(r) {
			if varies(kv.Name) || len(rs) == 1 {
				out = append(out, kv)
			}
		}
		return out
	}, common
}

func orDash(p sweeprun.Params) string {
	if len(p) == 0 {
		return "-"
	}
	return p.String()
}

// loopSamples turns every ok result into decode-step samples (validation.RunSamples, the
// fit of validate --calibrate-out) on the deployment its server arguments describe; the
// workload's lengths are the measured mean prompt and completion tokens per request.
func loopSamples(rs []sweeprun.Result, deploy func(sweeprun.Params) (*estimator.Deployment, error)) []estimator.StepSample {
	var samples []estimator.StepSample
	for _, r := range rs {
		m := r.Measured
		if r.Status != sweeprun.StatusOK || m == nil || m.Completed == 0 {
			continue
		}
		d, err := deploy(r.ServerArgs)
		if err != nil {
			continue
		}
		w := estimator.Workload{InputLen: max(1, m.TotalInputTokens/m.Completed), OutputLen: max(1, m.TotalOutputTokens/m.Completed)}
		if ss, _, _, err := validation.RunSamples(d, w, *m); err == nil {
			samples = append(samples, ss...)
		}
	}
	return samples
}

// benchResultSamples reads DIR/results.jsonl of sweep --run and returns the decode-step
// samples of its ok runs on model × gpu with the base profile.
func benchResultSamples(ctx context.Context, e *env, dir, model, gpu string, gpuFiles []string, prof *estimator.Profile) ([]estimator.StepSample, error) {
	if model == "" || gpu == "" {
		return nil, usageErr("--bench-results: --model and --gpu are required (the model and GPU the servers ran)")
	}
	f, err := os.Open(filepath.Join(dir, sweeprun.ResultsFile))
	if err != nil {
		return nil, usageErr("--bench-results: %v", err)
	}
	defer f.Close()
	rs, err := sweeprun.ReadResults(f)
	if err != nil {
		return nil, usageErr("--bench-results: %v", err)
	}
	m, err := loadModel(ctx, e, model)
	if err != nil {
		return nil, err
	}
	cat, err := gpuCatalogue(gpuFiles)
	if err != nil {
		return nil, err
	}
	g, err := cat.Lookup(gpu)
	if err != nil {
		return nil, usageErr("--gpu: %v", err)
	}
	var firstErr error
	samples := loopSamples(rs, func(args sweeprun.Params) (*estimator.Deployment, error) {
		spec := estimator.Spec{Model: m, GPU: g, Profile: prof}
		if _, err := sweeprun.ApplyArgs(&spec, args, nil); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return nil, err
		}
		d, err := estimator.New(spec)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return d, err
	})
	if len(samples) == 0 {
		why := "no ok run with more than one output token"
		if firstErr != nil {
			why += " (" + firstErr.Error() + ")"
		}
		return nil, usageErr("--bench-results %s: %s", dir, why)
	}
	return samples, nil
}

// progressLog shows each benchmark's requests with the shared progress bar and finishes
// the bar before every event line of the sweep, so bars and lines never mix.
type progressLog struct {
	mu    sync.Mutex
	w     io.Writer
	quiet bool
	cur   *progress
}

func (p *progressLog) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur != nil {
		p.cur.done()
		p.cur = nil
	}
	return p.w.Write(b)
}

func (p *progressLog) request(total int, r bench.Record) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		p.cur = newProgress(p.w, "sweep run", "requests", total, p.quiet)
	}
	p.cur.add(!r.OK())
}

func (p *progressLog) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur != nil {
		p.cur.done()
		p.cur = nil
	}
}
