package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"roofline/internal/progress"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"roofline/estimator"
	"roofline/hardware"
	"roofline/units"
)

const sweepSynopsis = "sweep --model M --gpus all|G1,G2 [--num-gpus 1,2,4,8] [--weight-dtype bf16,fp8] [--kv-dtype bf16,fp8] [--engine vllm,...] " +
	"[--max-num-seqs 64,256] [--max-num-batched-tokens 2048,8192] --input-len I --output-len O (--concurrency 1-512 | --request-rate 0.5-16) " +
	"[--constraint ttft:p95<500ms ...] [--objective cost|throughput-per-gpu|latency|goodput] [--top K] [--emit-script FILE] [--output table|json]\n" +
	"       sweep --run|--dry-run (--framework vllm|sglang|trtllm|ollama | --server-cmd TEMPLATE) [--server-args GRID] [--client-args GRID] [--server-env GRID]\n" +
	"             [--model M --gpus G (for predictions)] --input-len I --output-len O [--output-dir DIR] [--continue] [--calibrate] [--constraint …]"

// sweepFlags are the flags of sweep (lists where a deployment flag takes one value).
type sweepFlags struct {
	model               string
	gpus                string
	gpuFiles            []string
	numGPUs             []int
	maxTP               int
	engines             []string
	weightDtypes        []string
	kvDtypes            []string
	maxNumSeqs          []int
	maxBatched          []int
	memFrac             float64
	maxModelLen         int
	inputLen, outputLen int
	prefixLen           int
	concurrency, rate   string
	burstiness          float64
	numRequests         int
	constraints         []string
	objective           string
	price               float64
	top                 int
	emitScript, output  string
	simulate            bool
	disagg              bool
	kvTransfer          string
	loop                loopFlags // --run, --dry-run and their flags (sweeprun.go)
	engineChanged       bool
}

func (f *sweepFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.model, "model", "", "model: Hugging Face id, catalogue id or path to a config.json (required)")
	fs.StringVar(&f.gpus, "gpus", "", "GPUs: comma list of ids or aliases, or all (required)")
	fs.StringVar(&f.gpus, "gpu", "", "same as --gpus")
	fs.StringSliceVar(&f.gpuFiles, "gpu-file", nil, "extra GPU catalogue TOML files (add or override entries)")
	fs.IntSliceVar(&f.numGPUs, "num-gpus", []int{1, 2, 4, 8}, "total GPU counts; each is split every valid way into tp·pp·dp (and ep for MoE)")
	fs.IntVar(&f.maxTP, "max-tp", 8, "largest tensor-parallel size (GPUs of one node)")
	fs.StringSliceVar(&f.engines, "engine", []string{"vllm"}, "engine profiles: "+strings.Join(estimator.EngineNames(), ", "))
	fs.StringSliceVar(&f.weightDtypes, "weight-dtype", nil, "weight dtypes, e.g. bf16,fp8 (default: the checkpoint's)")
	fs.StringSliceVar(&f.kvDtypes, "kv-dtype", nil, "KV-cache dtypes, e.g. bf16,fp8 (default: the model's 16-bit dtype)")
	fs.IntSliceVar(&f.maxNumSeqs, "max-num-seqs", nil, "max running sequences per replica, a list (default: the profile's)")
	fs.IntSliceVar(&f.maxBatched, "max-num-batched-tokens", nil, "token budgets per step, a list (default: the profile's)")
	floatVar(fs, &f.memFrac, "gpu-memory-utilization", 0, fraction, "fraction of GPU memory the engine may use (default from the profile)")
	fs.IntVar(&f.maxModelLen, "max-model-len", 0, "longest sequence in tokens (default: the model's max context)")
	fs.IntVar(&f.inputLen, "input-len", 0, "prompt tokens per request (required)")
	fs.IntVar(&f.outputLen, "output-len", 0, "output tokens per request (required)")
	fs.IntVar(&f.prefixLen, "prefix-len", 0, "leading prompt tokens shared by all requests (prefix cache)")
	fs.StringVar(&f.concurrency, "concurrency", "", "closed loop: list or range, e.g. 1-512 (powers of two and midpoints) or 8,32,64")
	fs.StringVar(&f.rate, "request-rate", "", "open loop: req/s list or range, e.g. 0.5-16")
	floatVar(fs, &f.burstiness, "burstiness", 1, positive, "gamma shape of inter-arrival gaps with --request-rate (1 = Poisson)")
	fs.IntVar(&f.numRequests, "num-requests", 0, "requests per run in the generated bench commands (default max(100, 5×concurrency))")
	fs.StringArrayVar(&f.constraints, "constraint", nil, "SLO every result meets, repeatable: ttft:p95<500ms, itl:p99<40ms, e2e:median<5s, output_tok_s_per_user>30, …")
	fs.StringVar(&f.objective, "objective", estimator.ObjectiveThroughput, "ranking: "+strings.Join(estimator.Objectives(), ", "))
	floatVar(fs, &f.price, "price-per-gpu-hour", 0, nonNegative, "USD per GPU-hour for every GPU (default: the catalogue's on-demand price; none = no cost)")
	fs.IntVar(&f.top, "top", 20, "configurations to print (0 = all that meet the constraints)")
	fs.StringVar(&f.emitScript, "emit-script", "", "write a shell script that serves and benchmarks each printed configuration")
	fs.StringVarP(&f.output, "output", "o", "table", "output format: table or json")
	fs.BoolVar(&f.disagg, "disagg", false, "search prefill:decode (xPyD) splits of each --num-gpus beside colocated DP×TP, ranked by goodput per GPU under the --constraint SLOs")
	fs.StringVar(&f.kvTransfer, "kv-transfer", "rdma", "with --disagg: KV transport between instances (nvlink, rdma, tcp)")
	f.loop.register(fs)
	fs.BoolVar(&f.simulate, "simulate", false, "simulate every configuration (default: closed form, and the simulation for points that meet the constraints outside the closed form's region of validity)")
}

// sweepOutput is the JSON document of a sweep (and what report reads back).
type sweepOutput struct {
	Kind        string        `json:"kind"` // "sweep"
	Model       string        `json:"model"`
	Workload    sweepWorkload `json:"workload"`
	Objective   string        `json:"objective"`
	Constraints []string      `json:"constraints"`
	Evaluated   int64         `json:"evaluated"`
	Fits        int64         `json:"fits"`
	Met         int64         `json:"meet_constraints"`
	Invalid     int64         `json:"invalid_splits_skipped"`
	Distinct    int64         `json:"closed_form_runs"`
	Simulated   int64         `json:"simulated_runs"`
	Fronts      []frontInfo   `json:"pareto_fronts"`
	Configs     []sweepPoint  `json:"configs"`
	Front       []sweepPoint  `json:"front"`
	Notes       []string      `json:"notes"`
	Method      string        `json:"method"`
}

type sweepWorkload struct {
	Kind        string  `json:"workload"`
	InputLen    int     `json:"input_len"`
	OutputLen   int     `json:"output_len"`
	PrefixLen   int     `json:"prefix_len"`
	Burstiness  float64 `json:"burstiness,omitempty"`
	NumRequests int     `json:"num_requests,omitempty"`
}

type frontInfo struct {
	Name string `json:"name"`
	X    string `json:"x"`
	Y    string `json:"y"`
	Size int    `json:"size"`
}

// sweepPoint is a point as printed (with its launch commands).
type sweepPoint = estimator.SweepPoint

func runSweep(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "sweep", sweepSynopsis)
	var f sweepFlags
	f.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.Changed("gpus") && fs.Changed("gpu") {
		return usageErr("sweep: give --gpus or its alias --gpu, not both")
	}
	if f.loop.active() {
		if f.disagg {
			return usageErr("--disagg: not with --run or --dry-run (the loop launches one server per configuration)")
		}
		f.engineChanged = fs.Changed("engine")
		return sweepLoop(ctx, e, &f, fs)
	}
	if f.disagg {
		return sweepDisagg(ctx, e, &f)
	}
	return sweep(ctx, e, &f)
}

// sweepSpace validates the flags and builds the space (errors are usage errors).
func (f *sweepFlags) space(ctx context.Context, e *env) (estimator.SweepSpace, []estimator.Constraint, error) {
	var sp estimator.SweepSpace
	if f.model == "" {
		return sp, nil, usageErr("--model is required (a Hugging Face id such as meta-llama/Llama-3.1-70B-Instruct, or a config.json path)")
	}
	if f.gpus == "" {
		return sp, nil, usageErr("--gpus is required: a comma list of GPU ids or aliases, or all (run 'roofline gpus list')")
	}
	if f.inputLen < 1 || f.outputLen < 1 {
		return sp, nil, usageErr("--input-len and --output-len are required (tokens ≥ 1)")
	}
	if (f.concurrency == "") == (f.rate == "") {
		return sp, nil, usageErr("give one of --concurrency (e.g. 1-512) or --request-rate (e.g. 0.5-16)")
	}
	if f.maxTP < 1 {
		return sp, nil, usageErr("--max-tp %d: must be ≥ 1", f.maxTP)
	}
	if f.price < 0 || math.IsNaN(f.price) {
		return sp, nil, usageErr("--price-per-gpu-hour %g: must be ≥ 0", f.price)
	}
	if f.top < 0 {
		return sp, nil, usageErr("--top %d: must be ≥ 0", f.top)
	}
	if err := estimator.CheckObjective(f.objective); err != nil {
		return sp, nil, usageErr("%v", err)
	}
	for _, n := range f.numGPUs {
		if n < 1 || n > 4096 {
			return sp, nil, usageErr("--num-gpus %d: must be between 1 and 4096", n)
		}
	}
	for _, v := range f.maxNumSeqs {
		if v < 1 {
			return sp, nil, usageErr("--max-num-seqs %d: must be ≥ 1", v)
		}
	}
	for _, v := range f.maxBatched {
		if v < 1 {
			return sp, nil, usageErr("--max-num-batched-tokens %d: must be ≥ 1", v)
		}
	}
	var cons []estimator.Constraint
	for _, s := range f.constraints {
		c, err := estimator.ParseConstraint(s)
		if err != nil {
			return sp, nil, usageErr("--constraint: %v", err)
		}
		cons = append(cons, c)
	}
	w := estimator.Workload{InputLen: f.inputLen, OutputLen: f.outputLen, PrefixLen: f.prefixLen, Burstiness: f.burstiness, NumRequests: f.numRequests}
	if f.concurrency != "" {
		vs, err := estimator.ParseRange(f.concurrency, true)
		if err != nil {
			return sp, nil, usageErr("--concurrency: %v", err)
		}
		w.Kind = estimator.Concurrency
		for _, v := range vs {
			if v > 1<<20 {
				return sp, nil, usageErr("--concurrency %g: at most %d", v, 1<<20)
			}
			sp.Concurrencies = append(sp.Concurrencies, int(v))
		}
	} else {
		vs, err := estimator.ParseRange(f.rate, false)
		if err != nil {
			return sp, nil, usageErr("--request-rate: %v", err)
		}
		w.Kind, sp.RequestRates = estimator.Rate, vs
	}
	probe := w
	probe.Concurrency, probe.RequestRate = 1, 1
	if err := probe.Validate(); err != nil {
		return sp, nil, usageErr("%v", err)
	}
	if f.memFrac < 0 || f.memFrac > 1 {
		return sp, nil, usageErr("--gpu-memory-utilization %g: must be in (0, 1]", f.memFrac)
	}
	if f.maxModelLen < 0 {
		return sp, nil, usageErr("--max-model-len %d: must be ≥ 1", f.maxModelLen)
	}
	if err := w.CheckMaxModelLen(f.maxModelLen); err != nil {
		return sp, nil, asUsage(err)
	}
	m, err := loadModel(ctx, e, f.model)
	if err != nil {
		return sp, nil, err
	}
	gpus, err := pickGPUs(f.gpus, f.gpuFiles)
	if err != nil {
		return sp, nil, err
	}
	seen := map[string]bool{}
	for _, name := range f.engines {
		name = strings.TrimSpace(name)
		if seen[name] {
			continue
		}
		seen[name] = true
		p, ok, err := estimator.Engine(name)
		if err != nil {
			return sp, nil, err
		}
		if !ok {
			return sp, nil, usageErr("--engine %q: allowed values are %s", name, strings.Join(estimator.EngineNames(), ", "))
		}
		sp.Profiles = append(sp.Profiles, p)
	}
	for _, d := range append(append([]string{}, f.weightDtypes...), f.kvDtypes...) {
		if _, err := units.CanonicalDtype(d); err != nil || d == "" {
			return sp, nil, usageErr("--weight-dtype/--kv-dtype %q: allowed values are %s", d, strings.Join(units.Dtypes(), ", "))
		}
	}
	sp.Model, sp.GPUs, sp.NumGPUs, sp.MaxTP = m, gpus, f.numGPUs, f.maxTP
	sp.WeightDtypes, sp.KVDtypes = f.weightDtypes, f.kvDtypes
	sp.MaxNumSeqs, sp.MaxNumBatchedTokens = f.maxNumSeqs, f.maxBatched
	sp.MemoryFraction, sp.MaxModelLen, sp.Workload = f.memFrac, f.maxModelLen, w
	return sp, cons, nil
}

// pickGPUs resolves "all" or a comma list of ids/aliases against the catalogue.
func pickGPUs(list string, files []string) ([]*hardware.GPU, error) {
	cat, err := gpuCatalogue(files)
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(strings.TrimSpace(list), "all") {
		return cat.List(), nil
	}
	var out []*hardware.GPU
	seen := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		g, err := cat.Lookup(name)
		if err != nil {
			return nil, usageErr("--gpus: %v", err)
		}
		if !seen[g.ID] {
			seen[g.ID] = true
			out = append(out, g)
		}
	}
	if len(out) == 0 {
		return nil, usageErr("--gpus %q: no GPU named (give ids or aliases, or all)", list)
	}
	return out, nil
}

func sweep(ctx context.Context, e *env, f *sweepFlags) error {
	if err := checkOutput(f.output, "table", "json"); err != nil {
		return err
	}
	sp, cons, err := f.space(ctx, e)
	if err != nil {
		return err
	}
	bar := progress.New(e.stderr, "sweep", "configurations", 0, f.loop.quiet)
	res, err := estimator.Sweep(ctx, sp, estimator.SweepOptions{Constraints: cons, Objective: f.objective,
		PriceUSDPerGPUHour: f.price, Top: f.top, Progress: func(done, total int64) { bar.Set(int(done), int(total)) }, Simulate: f.simulate, NumRequests: f.numRequests})
	bar.Done()
	if err != nil {
		return asUsage(err)
	}
	out := sweepOutput{Kind: "sweep", Model: sp.Model.ID, Objective: f.objective, Constraints: []string{},
		Evaluated: res.Evaluated, Fits: res.Fits, Met: res.Met, Invalid: res.InvalidSplits, Distinct: res.Distinct, Simulated: res.Simulated,
		Configs: []sweepPoint{}, Front: []sweepPoint{}, Notes: []string{},
		Method: "closed form (mean-field continuous batching); percentiles are closed-form approximations"}
	out.Workload = sweepWorkload{Kind: sp.Workload.Kind, InputLen: sp.Workload.InputLen, OutputLen: sp.Workload.OutputLen,
		PrefixLen: sp.Workload.PrefixLen, NumRequests: sp.Workload.NumRequests}
	if sp.Workload.Kind == estimator.Rate {
		out.Workload.Burstiness = sp.Workload.Burstiness
	}
	for _, c := range cons {
		out.Constraints = append(out.Constraints, c.String())
	}
	out.Fronts = []frontInfo{
		{estimator.FrontThroughputInteractivity, "output_tok_s_per_gpu (maximised)", "output_tok_s_per_user (maximised)", res.FrontSizes[estimator.FrontThroughputInteractivity]},
		{estimator.FrontCostLatency, "cost_usd_per_1m_output_tokens (minimised)", "e2e_ms.median (minimised)", res.FrontSizes[estimator.FrontCostLatency]},
	}
	for _, p := range res.Points {
		l := estimator.LaunchFor(sp.Model, p.SweepConfig, sp.Workload)
		p.Launch = &l
		out.Configs = append(out.Configs, p)
	}
	// The front without repeats: configurations that differ only in a knob that does not
	// change the prediction sit on the same spot; the best-ranked one stands for them.
	spot := map[[3]float64]bool{}
	for _, p := range res.Front {
		cost := math.NaN()
		if p.CostPer1MOutput != nil {
			cost = *p.CostPer1MOutput
		}
		k := [3]float64{p.OutputTokSPerGPU, p.OutputTokSPerUser, cost*1e6 + p.E2E.Median}
		if !spot[k] {
			spot[k] = true
			out.Front = append(out.Front, p)
		}
	}
	out.Notes = append(out.Notes, res.Skipped...)
	var noPrice []string
	for _, g := range sp.GPUs {
		if g.PriceUSDPerHour == 0 && f.price == 0 {
			noPrice = append(noPrice, g.ID)
		}
	}
	if len(noPrice) > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("no price in the catalogue for %s: their configurations have no cost (give --price-per-gpu-hour)", strings.Join(noPrice, ", ")))
	}
	if f.objective == estimator.ObjectiveCost && len(noPrice) > 0 {
		out.Notes = append(out.Notes, "objective cost: configurations without a price rank last")
	}
	if res.Met == 0 {
		out.Notes = append(out.Notes, "no configuration meets every constraint: relax a constraint or widen the space")
	}
	if f.emitScript != "" {
		if err := writeSweepScript(f.emitScript, out); err != nil {
			return err
		}
	}
	if f.output == "json" {
		return writeJSON(e.stdout, out)
	}
	writeSweepTable(e.stdout, out)
	return nil
}

func writeSweepTable(w io.Writer, o sweepOutput) {
	fmt.Fprintf(w, "roofline sweep: %s, %s workload, input %d / output %d tokens\n", o.Model, o.Workload.Kind, o.Workload.InputLen, o.Workload.OutputLen)
	cons := "none"
	if len(o.Constraints) > 0 {
		cons = strings.Join(o.Constraints, ", ")
	}
	fmt.Fprintf(w, "evaluated %d configurations (%d fit in memory, %d meet the constraints; %d closed-form runs, the rest memoized; %d simulated: outside the closed form's region of validity or --simulate)\n", o.Evaluated, o.Fits, o.Met, o.Distinct, o.Simulated)
	fmt.Fprintf(w, "constraints: %s; ranked by %s; showing %d\n\n", cons, o.Objective, len(o.Configs))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rank\tGPU\tGPUs\ttp/pp/dp/ep\tengine\tweights/KV\tmax seqs\tmax tokens\tload\ttok/s/GPU\ttok/s/user\tTTFT p95 ms\tITL p99 ms\tE2E median s\t$/1M out\tfront\t")
	for _, c := range o.Configs {
		p := c
		load := fmt.Sprintf("c=%d", p.Concurrency)
		if p.RequestRate > 0 {
			load = fmt.Sprintf("%s req/s", units.Sig(p.RequestRate))
		}
		cost := "-"
		if p.CostPer1MOutput != nil {
			cost = units.Sig(*p.CostPer1MOutput)
		}
		front := ""
		for _, fr := range p.ParetoFronts {
			front += map[string]string{estimator.FrontThroughputInteractivity: "T", estimator.FrontCostLatency: "C"}[fr]
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d/%d/%d/%d\t%s\t%s/%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", p.Rank, p.GPU, p.NumGPUs, p.TP, p.PP, p.DP, p.EP,
			p.Engine, p.WeightDtype, p.KVDtype, p.MaxNumSeqs, p.MaxNumBatchedTokens, load, units.Sig(p.OutputTokSPerGPU), units.Sig(p.OutputTokSPerUser),
			ms(p.TTFT.P95), ms(p.ITL.P99), ms(p.E2E.Median/1e3), cost, front)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nPareto fronts (over all %d configurations meeting the constraints): ", o.Met)
	for i, f := range o.Fronts {
		if i > 0 {
			fmt.Fprint(w, "; ")
		}
		fmt.Fprintf(w, "%s %d points (%s vs %s)", map[string]string{estimator.FrontThroughputInteractivity: "T", estimator.FrontCostLatency: "C"}[f.Name]+" = "+f.Name, f.Size, f.X, f.Y)
	}
	fmt.Fprintln(w)
	for _, n := range o.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintln(w, "launch commands: --output json (configs[].launch) or --emit-script FILE")
}

// ms prints a latency with 3 significant figures, or "unbounded".
func ms(v float64) string {
	if math.IsInf(v, 1) {
		return "unbounded"
	}
	return units.Sig(v)
}

// writeSweepScript writes a bash script that, for each printed configuration, starts the
// server of its engine, waits for it, runs the matching roofline bench and stops it.
func writeSweepScript(path string, o sweepOutput) error {
	var b strings.Builder
	b.WriteString("#!/usr/bin/env bash\n")
	fmt.Fprintf(&b, "# Generated by roofline sweep: the %d best configurations of %s (objective %s).\n", len(o.Configs), o.Model, o.Objective)
	b.WriteString("# Each run starts the server, waits until it answers, benchmarks it and stops it.\n")
	b.WriteString("# Results go to sweep-results/RANK.jsonl (one JSON line per request; roofline bench --summarize FILE),\n")
	b.WriteString("# server logs to sweep-results/RANK.server.log. A configuration that fails is reported and skipped;\n")
	b.WriteString("# the script goes on with the next and exits 1 when any failed.\n")
	b.WriteString("set -uo pipefail\nmkdir -p sweep-results\nfailed=0\n\n")
	b.WriteString("# wait_ready PID: until the server answers; fails at once when its process exits, or after 20 min.\n")
	b.WriteString("wait_ready() {\n\tfor _ in $(seq 1 600); do\n\t\tkill -0 \"$1\" 2>/dev/null || { echo \"server exited before it was ready\" >&2; return 1; }\n" +
		"\t\tcurl -sf http://localhost:" + fmt.Sprint(estimator.LaunchPort) + "/v1/models >/dev/null && return 0\n\t\tsleep 2\n\tdone\n\techo \"server did not answer within 20 min\" >&2\n\treturn 1\n}\n\n")
	b.WriteString("# stop PID: stop the server and wait for it to exit.\nstop() {\n\tkill \"$1\" 2>/dev/null\n\twait \"$1\" 2>/dev/null\n\treturn 0\n}\n\n")
	for _, c := range o.Configs {
		p := c
		l := p.Launch
		cmd := l.VLLM
		switch p.Engine {
		case "sglang":
			if l.SGLang != "" {
				cmd = l.SGLang
			}
		case "trtllm":
			cmd = l.TRTLLM
		}
		fmt.Fprintf(&b, "# rank %d: %d× %s tp=%d pp=%d dp=%d ep=%d, predicted %s output tok/s per GPU, %s tok/s per user\n",
			p.Rank, p.NumGPUs, p.GPU, p.TP, p.PP, p.DP, p.EP, units.Sig(p.OutputTokSPerGPU), units.Sig(p.OutputTokSPerUser))
		for _, n := range l.Notes {
			fmt.Fprintf(&b, "# note: %s\n", n)
		}
		fmt.Fprintf(&b, "%s >sweep-results/%d.server.log 2>&1 &\nserver=$!\nif wait_ready $server; then\n"+
			"\t%s --record sweep-results/%d.jsonl || { echo \"rank %d: bench failed\" >&2; failed=$((failed + 1)); }\n"+
			"else\n\techo \"rank %d: skipped, the server did not start (sweep-results/%d.server.log)\" >&2\n\tfailed=$((failed + 1))\nfi\nstop $server\n\n",
			cmd, p.Rank, l.Bench, p.Rank, p.Rank, p.Rank, p.Rank)
	}
	b.WriteString("if [ \"$failed\" -gt 0 ]; then\n\techo \"$failed configuration(s) failed\" >&2\n\texit 1\nfi\n")
	if err := os.WriteFile(path, []byte(b.String()), 0o755); err != nil {
		return usageErr("--emit-script: %v", err)
	}
	return nil
}
