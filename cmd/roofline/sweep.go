package main

import (
	"context"
	"io"
	"math"
	"strings"

	"github.com/spf13/pflag"

	"roofline/estimator"
	"roofline/hardware"
	"roofline/internal/flagvalue"
	"roofline/internal/progress"
	"roofline/report"
)

const sweepSynopsis = "sweep --model M --gpus all|G1,G2 [--num-gpus 1,2,4,8] [--weight-dtype bf16,fp8] [--kv-dtype bf16,fp8] [--engine vllm,... | --profile P] " +
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
	profile             string
	weightDtypes        []string
	kvDtypes            []string
	maxNumSeqs          []int
	maxBatched          []int
	memFrac             float64
	maxModelLen         int
	enforceEager        bool
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
	fs.StringSliceVar(&f.engines, "engine", []string{"vllm"}, "engine profiles: "+strings.Join(estimator.EngineNames(), ", ")+" (NAME@VERSION for a release, e.g. vllm@0.7.3)")
	fs.StringVar(&f.profile, "profile", "", "engine profile TOML file (e.g. from roofline calibrate) instead of --engine")
	fs.StringSliceVar(&f.weightDtypes, "weight-dtype", nil, "weight dtypes, e.g. bf16,fp8 (default: the checkpoint's)")
	fs.StringSliceVar(&f.kvDtypes, "kv-dtype", nil, "KV-cache dtypes, e.g. bf16,fp8 (default: the model's 16-bit dtype)")
	fs.IntSliceVar(&f.maxNumSeqs, "max-num-seqs", nil, "max running sequences per replica, a list (default: the profile's)")
	fs.IntSliceVar(&f.maxBatched, "max-num-batched-tokens", nil, "token budgets per step, a list (default: the profile's)")
	flagvalue.Float(fs, &f.memFrac, "gpu-memory-utilization", 0, flagvalue.Fraction, "fraction of GPU memory the engine may use (default from the profile)")
	fs.IntVar(&f.maxModelLen, "max-model-len", 0, "longest sequence in tokens (default: the model's max context)")
	positiveIfGiven(fs, "max-model-len")
	fs.BoolVar(&f.enforceEager, "enforce-eager", false, enforceEagerHelp)
	fs.IntVar(&f.inputLen, "input-len", 0, "prompt tokens per request (required)")
	fs.IntVar(&f.outputLen, "output-len", 0, "output tokens per request (required)")
	fs.IntVar(&f.prefixLen, "prefix-len", 0, "leading prompt tokens shared by all requests (prefix cache)")
	fs.StringVar(&f.concurrency, "concurrency", "", "closed loop: list or range, e.g. 1-512 (powers of two and midpoints) or 8,32,64")
	fs.StringVar(&f.rate, "request-rate", "", "open loop: req/s list or range, e.g. 0.5-16")
	flagvalue.Float(fs, &f.burstiness, "burstiness", 1, flagvalue.Positive, "gamma shape of inter-arrival gaps with --request-rate (1 = Poisson)")
	fs.IntVar(&f.numRequests, "num-requests", 0, "requests per run in the generated bench commands (default max(100, 5×concurrency))")
	fs.StringArrayVar(&f.constraints, "constraint", nil, "SLO every result meets, repeatable: ttft:p95<500ms, itl:p99<40ms, e2e:median<5s, output_tok_s_per_user>30, …")
	fs.StringVar(&f.objective, "objective", estimator.ObjectiveThroughput, "ranking: "+strings.Join(estimator.Objectives(), ", "))
	flagvalue.Float(fs, &f.price, "price-per-gpu-hour", 0, flagvalue.NonNegative, "USD per GPU-hour for every GPU (default: the catalogue's on-demand price; none = no cost)")
	fs.IntVar(&f.top, "top", 20, "configurations to print (0 = all that meet the constraints)")
	fs.StringVar(&f.emitScript, "emit-script", "", "write a shell script that serves and benchmarks each printed configuration")
	flagvalue.Choice(fs, &f.output, "output", "o", "table", "output format: table or json", "table", "json")
	fs.BoolVar(&f.disagg, "disagg", false, "search prefill:decode (xPyD) splits of each --num-gpus beside colocated DP×TP, ranked by goodput per GPU under the --constraint SLOs")
	fs.StringVar(&f.kvTransfer, "kv-transfer", "rdma", "with --disagg: KV transport between instances (nvlink, rdma, tcp)")
	f.loop.register(fs)
	fs.BoolVar(&f.simulate, "simulate", false, "simulate every configuration (default: closed form, and the simulation for points that meet the constraints outside the closed form's region of validity)")
}

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
	if fs.Changed("kv-transfer") && !f.disagg {
		return usageErr("--kv-transfer %s: the KV transport between prefill and decode instances, searched with --disagg; without --disagg there is none", f.kvTransfer)
	}
	if f.profile != "" && fs.Changed("engine") {
		return usageErr("sweep: give --engine (a list of embedded profiles) or --profile FILE (one profile), not both")
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
	cons, err := estimator.ParseConstraints(f.constraints)
	if err != nil {
		return sp, nil, usageErr("--constraint: %v", err)
	}
	sp.Workload = estimator.Workload{InputLen: f.inputLen, OutputLen: f.outputLen, PrefixLen: f.prefixLen, Burstiness: f.burstiness, NumRequests: f.numRequests}
	if err := sp.SetLoads(f.concurrency, f.rate); err != nil {
		return sp, nil, usageErr("%v", err)
	}
	m, err := loadModel(ctx, e, f.model)
	if err != nil {
		return sp, nil, err
	}
	gpus, err := pickGPUs(f.gpus, f.gpuFiles)
	if err != nil {
		return sp, nil, err
	}
	if f.profile != "" {
		p, _, err := resolveProfile("engine", "", f.profile)
		if err != nil {
			return sp, nil, err
		}
		sp.Profiles = []*estimator.Profile{p}
	} else if sp.Profiles, err = estimator.EnginesByName(f.engines); err != nil {
		return sp, nil, asUsage(err)
	}
	sp.Model, sp.GPUs, sp.NumGPUs, sp.MaxTP = m, gpus, f.numGPUs, f.maxTP
	sp.WeightDtypes, sp.KVDtypes = f.weightDtypes, f.kvDtypes
	sp.MaxNumSeqs, sp.MaxNumBatchedTokens = f.maxNumSeqs, f.maxBatched
	sp.MemoryFraction, sp.MaxModelLen, sp.EnforceEager = f.memFrac, f.maxModelLen, f.enforceEager
	if err := sp.Check(); err != nil {
		return sp, nil, asUsage(err)
	}
	return sp, cons, nil
}

// pickGPUs resolves "all" or a comma list of ids/aliases against the catalogue.
func pickGPUs(list string, files []string) ([]*hardware.GPU, error) {
	cat, err := gpuCatalogue(files)
	if err != nil {
		return nil, err
	}
	gpus, err := cat.Pick(list)
	if err != nil {
		return nil, usageErr("--gpus: %v", err)
	}
	return gpus, nil
}

func sweep(ctx context.Context, e *env, f *sweepFlags) error {
	sp, cons, err := f.space(ctx, e)
	if err != nil {
		return err
	}
	if err := engineRunsOnNone(sp.Profiles, sp.GPUs); err != nil {
		return err
	}
	bar := progress.New(e.stderr, "sweep", "configurations", 0, f.loop.quiet)
	res, err := estimator.Sweep(ctx, sp, estimator.SweepOptions{Constraints: cons, Objective: f.objective,
		PriceUSDPerGPUHour: f.price, Top: f.top, Progress: func(done, total int64) { bar.Set(int(done), int(total)) }, Simulate: f.simulate, NumRequests: f.numRequests})
	bar.Done()
	if err != nil {
		return asUsage(err)
	}
	if res.Evaluated == 0 && len(res.Skipped) > 0 {
		// Every GPU × dtype × engine of the space was refused (--weight-dtype fp4 under
		// trtllm without FP4 tensor cores, …): an empty ranking would read as "relax a constraint".
		return usageErr("%s (no configuration of the sweep can run: nothing to rank)", res.Skipped[0])
	}
	out := report.NewSweep(sp, cons, res, f.objective, f.price)
	if f.emitScript != "" {
		if err := report.WriteSweepScriptFile(f.emitScript, out); err != nil {
			return usageErr("--emit-script: %v", err)
		}
	}
	return render(e.stdout, f.output, out, func(w io.Writer) { report.WriteSweepTable(w, out) })
}

// engineRunsOnNone is the usage error of a sweep or plan in which no engine profile of
// profiles runs on any GPU of gpus (estimator.CheckEngineGPU: --engine trtllm with only AMD,
// Intel or Google accelerators): nothing can be predicted, so it names the first refusal
// rather than report an empty ranking with "relax a constraint". nil when some pair runs
// (refused pairs are then notes of the result). A nil profile is the default, which runs
// anywhere.
func engineRunsOnNone(profiles []*estimator.Profile, gpus []*hardware.GPU) error {
	if len(profiles) == 0 {
		profiles = []*estimator.Profile{nil}
	}
	var tries []func() error
	for _, p := range profiles {
		for _, g := range gpus {
			tries = append(tries, func() error { return estimator.CheckEngineGPU(p, g) })
		}
	}
	if first := firstRefusal(tries); first != nil {
		return usageErr("%v (no GPU of --gpus runs the engine: nothing to rank)", first)
	}
	return nil
}
