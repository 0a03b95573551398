package sweeprun

import (
	"fmt"
	"io"
	"math"
	"os/exec"
	"strings"
	"text/tabwriter"
	"time"

	"roofline/bench"
	"roofline/estimator"
	"roofline/units"
)

// BenchLine is the flags of the "roofline bench" command that runs a client configuration
// (without --url): lengths in tokens, rate in req/s, duration as a Go duration.
func BenchLine(c bench.Config) string {
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

// CountGPUs is the number of GPUs nvidia-smi -L or rocm-smi --showid lists; 0 when
// neither answers.
func CountGPUs() int {
	if out, err := exec.Command("nvidia-smi", "-L").Output(); err == nil {
		return CountGPULines(string(out))
	}
	if out, err := exec.Command("rocm-smi", "--showid").Output(); err == nil {
		return CountGPULines(string(out))
	}
	return 0
}

// CountGPULines counts the distinct GPUs of nvidia-smi -L ("GPU 0: NVIDIA H200 (UUID:
// GPU-…)", one line each) or rocm-smi --showid ("GPU[0]		: Device ID: 0x74a1", several
// lines each): lines starting with "GPU", told apart by the text before their first colon.
func CountGPULines(out string) int {
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

// WriteTable prints measured beside predicted for every run (TTFT and TPOT means in ms,
// output tok/s; error = (predicted − measured)/measured), the SLO verdict and the measured
// Pareto front, then the reason of every failed run.
func WriteTable(w io.Writer, rs []Result, cons []estimator.Constraint) {
	fmt.Fprintf(w, "roofline sweep --run: %d runs; measured / predicted (error = (predicted − measured)/measured)\n", len(rs))
	if len(cons) > 0 {
		var cs []string
		for _, c := range cons {
			cs = append(cs, c.String())
		}
		fmt.Fprintf(w, "SLO constraints on the measured runs: %s\n", strings.Join(cs, ", "))
	}
	srvVary, srvCommon := splitVarying(rs, func(r Result) Params { return r.ServerArgs })
	cliVary, cliCommon := splitVarying(rs, func(r Result) Params { return r.ClientArgs })
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
		if r.Status != StatusOK && r.Error != "" {
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
func splitVarying(rs []Result, get func(Result) Params) (func(Result) Params, Params) {
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
	var common Params
	if len(rs) > 1 {
		for _, kv := range get(rs[0]) {
			if !varies(kv.Name) {
				common = append(common, kv)
			}
		}
	}
	return func(r Result) Params {
		var out Params
		for _, kv := range get(r) {
			if varies(kv.Name) || len(rs) == 1 {
				out = append(out, kv)
			}
		}
		return out
	}, common
}

func orDash(p Params) string {
	if len(p) == 0 {
		return "-"
	}
	return p.String()
}

// ClientsOf is the client configurations run against c: its own, else o.Clients, else one
// empty configuration (o.Bench as it is).
func (o Options) ClientsOf(c Config) []Params {
	if len(c.Clients) > 0 {
		return c.Clients
	}
	if len(o.Clients) == 0 {
		return []Params{{}}
	}
	return o.Clients
}

// CountRuns counts the benchmark runs of plan (server × client configurations) and the
// server configurations refused.
func (o Options) CountRuns(plan []Config) (runs, refused int) {
	for _, c := range plan {
		if c.Skip != "" {
			refused++
		} else {
			runs += len(o.ClientsOf(c))
		}
	}
	return runs, refused
}

// WriteDryRun prints what "sweep --dry-run" shows: the count of server configurations and
// runs (ranked, when not "", says which estimator ranking chose them), each server
// configuration of plan with its command line or why it is refused, the roofline bench
// command of each client configuration (with, when predicted is not nil, a one-line
// prediction), where results would go and the note.
func (o Options) WriteDryRun(w io.Writer, plan []Config, ranked, note string, predicted func(Params, bench.Config) string) {
	runs, skipped := o.CountRuns(plan)
	if ranked != "" {
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
		for _, cl := range o.ClientsOf(c) {
			cfg, _ := ClientConfig(o.Bench, cl)
			fmt.Fprintf(w, "    bench %s\n", BenchLine(cfg))
			if predicted != nil {
				fmt.Fprintf(w, "      predicted: %s\n", predicted(c.All(), cfg))
			}
		}
	}
	fmt.Fprintf(w, "\n$PORT is a free port picked at each start; results would go to %s/%s\n", o.Dir, ResultsFile)
	if note != "" {
		fmt.Fprintf(w, "note: %s\n", note)
	}
}

// CheckClients checks every client configuration (the Clients grid and those of Explicit)
// on o.Bench before anything starts: a model name, lengths ≥ 1 token and a valid
// bench.Config. The error names the flag or the grid entry.
func (o Options) CheckClients() error {
	allClients := append([]Params{}, o.Clients...)
	for _, c := range o.Explicit {
		allClients = append(allClients, c.Clients...)
	}
	for _, c := range allClients {
		cfg, err := ClientConfig(o.Bench, c)
		if err != nil {
			return fmt.Errorf("--client-args: %v", err)
		}
		if cfg.Model == "" {
			return fmt.Errorf("--served-model-name or --model: the model name the benchmark requests is required")
		}
		if cfg.InputLen < 1 || cfg.OutputLen < 1 {
			return fmt.Errorf("--input-len and --output-len (or input_len and output_len in --client-args) are required (tokens ≥ 1)")
		}
		cfg.URL = "http://127.0.0.1:1" // set per run; checked here for the other fields
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("--client-args %s: %v", c, err)
		}
	}
	return nil
}

// Check checks the options the command line sets: ready timeout and grace > 0, rest ≥ 0,
// ready paths starting with "/", and server-env names that are environment variable names.
// The error names the flag.
func (o Options) Check() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--ready-timeout", o.ReadyTimeout}, {"--grace", o.Grace}} {
		if d.v <= 0 {
			return fmt.Errorf("%s %v: must be > 0", d.name, d.v)
		}
	}
	if o.Rest < 0 {
		return fmt.Errorf("--rest %v: must be ≥ 0", o.Rest)
	}
	for _, p := range o.ReadyPaths {
		if !strings.HasPrefix(p, "/") {
			return fmt.Errorf("--ready-path %q: must start with /", p)
		}
	}
	for _, p := range o.ServerEnv {
		for _, kv := range p {
			if strings.ContainsAny(kv.Name, "-.") {
				return fmt.Errorf("--server-env %s: not an environment variable name", kv.Name)
			}
		}
	}
	return nil
}

// ParseGrids parses the server-argument, client-argument and server-environment grids
// (ParseGrid) into o.ServerArgs, o.Clients and o.ServerEnv; the error names the flag.
func (o *Options) ParseGrids(serverArgs, clientArgs, env string) error {
	var err error
	for _, g := range []struct {
		flag, text string
		dst        *[]Params
	}{{"--server-args", serverArgs, &o.ServerArgs}, {"--client-args", clientArgs, &o.Clients}, {"--server-env", env, &o.ServerEnv}} {
		if *g.dst, err = ParseGrid(g.text); err != nil {
			return fmt.Errorf("%s: %v", g.flag, err)
		}
	}
	return nil
}

// NoPrediction is a Predictor that records every run without a prediction, with reason.
func NoPrediction(reason string) Predictor {
	return func(Params, bench.Config, []bench.Record) (*estimator.Serving, string) { return nil, reason }
}
