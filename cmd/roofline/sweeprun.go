package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"roofline/bench"
	"roofline/estimator"
	"roofline/internal/progress"
	"roofline/sweeprun"
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
	pl := &progress.Log{W: e.stderr, Quiet: lf.quiet, What: "sweep run", Unit: "requests"}
	o.Log, o.OnRequest = pl, func(total int, r bench.Record) { pl.Item(total, !r.OK()) }
	defer pl.Finish()
	o.Launcher = sweeprun.Launcher{Framework: lf.framework, Template: lf.serverCmd, Bin: lf.bin, Model: f.model, Host: lf.host}
	if err := o.Launcher.Validate(); err != nil {
		return usageErr("%v", err)
	}
	err := o.ParseGrids(lf.serverArgs, lf.clientArgs, lf.env)
	if err == nil {
		err = o.Check()
	}
	if err != nil {
		return usageErr("%v", err)
	}
	if lf.gpusAvailable < -1 || (lf.gpusAvailable < 0 && fs.Changed("gpus-available")) {
		// -1 is the unset value (unlimited for --server-cmd and ollama); given, it lifted
		// the limit silently.
		return usageErr("--gpus-available %d: must be ≥ 0", lf.gpusAvailable)
	}
	if !fs.Changed("gpus-available") && lf.serverCmd == "" && lf.framework != "ollama" {
		o.GPUsAvailable = sweeprun.CountGPUs()
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
	if f.enforceEager && !fromEstimator {
		return usageErr("--enforce-eager: with --server-args, --client-args, --server-env or --server-cmd the grid names the server's flags: give enforce_eager=[true] in --server-args (vllm --enforce-eager, sglang --disable-cuda-graph)")
	}
	var ranked string
	if fromEstimator {
		// No grid: run the --top survivors of the estimator's sweep with the engine's flags.
		if !f.engineChanged {
			f.engines = []string{lf.framework}
		}
		// One profile of the framework's engine: its newest (--engine NAME) or the release
		// the servers run (--engine NAME@VERSION, e.g. vllm@0.7.3 for vLLM V0).
		fam := ""
		if len(f.engines) == 1 {
			fam = engineFamily(f.engines[0])
		}
		if f.profile != "" {
			p, _, err := resolveProfile("engine", "", f.profile)
			if err != nil {
				return err
			}
			fam = p.Family()
			if fam != lf.framework {
				return usageErr("--profile %s: a profile of engine %s; --framework %s launches %s servers: give a %s profile", f.profile, fam, lf.framework, lf.framework, lf.framework)
			}
		}
		if fam != lf.framework {
			return usageErr("--engine %s: with --framework %s and no --server-args, the sweep ranks one %s profile: --engine %s or %s@VERSION (or leave --engine out)", strings.Join(f.engines, ","), lf.framework, lf.framework, lf.framework, lf.framework)
		}
		if o.Explicit, ranked, err = estimatorConfigs(ctx, e, f, lf.framework); err != nil {
			return err
		}
		o.Clients = nil
	}
	if !fromEstimator && len(o.Clients) == 1 && len(o.Clients[0]) == 0 && (f.concurrency != "" || f.rate != "") {
		// No --client-args: the loads of --concurrency or --request-rate.
		if o.Clients, err = sweeprun.LoadGrid(f.concurrency, f.rate); err != nil {
			return usageErr("%v", err)
		}
	}
	if err := o.CheckClients(); err != nil {
		return usageErr("%v", err)
	}

	pr, note := newLoopPredictor(ctx, e, f, o.ServerEnv)
	o.Predict = sweeprun.NoPrediction(note)
	if pr != nil {
		o.Predict = pr.Predict
	}
	cons, err := estimator.ParseConstraints(f.constraints)
	if err != nil {
		return usageErr("--constraint: %v", err)
	}
	o.Constraints = cons

	plan, err := sweeprun.Plan(o)
	if err != nil {
		return usageErr("%v", err)
	}
	if o.GPUsAvailable == 0 && !fs.Changed("gpus-available") {
		fmt.Fprintln(e.stderr, "roofline: warning: nvidia-smi -L and rocm-smi list no GPU: configurations needing one are refused (give --gpus-available N to override)")
	}
	runs, _ := o.CountRuns(plan)
	if lf.dryRun {
		var predicted func(sweeprun.Params, bench.Config) string
		if pr != nil {
			predicted = pr.ClosedForm
		}
		o.WriteDryRun(e.stdout, plan, ranked, note, predicted)
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
		o.Reorder = pr.Recalibrate
	}
	res, runErr := sweeprun.Run(ctx, o)
	if res == nil && runErr != nil {
		if errors.Is(runErr, context.Canceled) {
			return &exitError{code: 130, err: fmt.Errorf("sweep: interrupted")}
		}
		return asUsage(runErr)
	}
	sweeprun.WriteTable(e.stdout, res, cons)
	fmt.Fprintf(e.stdout, "results: %s/%s (one JSON object per run), server logs in %s/logs, request records in %s/records\n", lf.outDir, sweeprun.ResultsFile, lf.outDir, lf.outDir)
	if errors.Is(runErr, context.Canceled) {
		return &exitError{code: 130, err: fmt.Errorf("sweep: interrupted; %d results kept in %s (--continue runs the rest)", len(res), lf.outDir)}
	}
	return runErr
}

// newLoopPredictor returns nil and the reason when no prediction can be made.
func newLoopPredictor(ctx context.Context, e *env, f *sweepFlags, env []sweeprun.Params) (*sweeprun.ModelPredictor, string) {
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
	prof, _, err := resolveProfile("engine", engine, f.profile)
	if err != nil {
		return nil, err.Error()
	}
	base := estimator.Spec{Model: m, GPU: gpus[0], MaxModelLen: f.maxModelLen, MemoryFraction: f.memFrac}
	return sweeprun.NewModelPredictor(base, prof, env, e.stderr), ""
}

// estimatorConfigs runs the estimator's sweep over the usual sweep flags and returns its
// --top survivors as server configurations (the engine's own arguments) with their
// loads as client configurations, and a phrase saying what was ranked.
//
// Under --framework trtllm the points with dp > 1 are left out before the --top are taken,
// and the ranking says how many: trtllm-serve starts one engine with no data-parallel flag,
// so DP replicas need a server each behind a router, and attention DP + EP needs
// enable_attention_dp: true in an --extra_llm_api_options file (give both as --server-args).
func estimatorConfigs(ctx context.Context, e *env, f *sweepFlags, framework string) ([]sweeprun.Config, string, error) {
	sp, cons, err := f.space(ctx, e)
	if err != nil {
		return nil, "", err
	}
	if len(sp.GPUs) != 1 {
		return nil, "", usageErr("--gpus %q: --run launches servers on this machine: name the one GPU type it has", f.gpus)
	}
	top := f.top
	if framework == "trtllm" {
		top = 0 // every ranked point: the top are taken among those trtllm-serve can launch
	}
	res, err := estimator.Sweep(ctx, sp, estimator.SweepOptions{Constraints: cons, Objective: f.objective, PriceUSDPerGPUHour: f.price, Top: top})
	if err != nil {
		return nil, "", asUsage(err)
	}
	left := ""
	if framework == "trtllm" {
		var kept []estimator.SweepPoint
		dp := 0
		for _, p := range res.Points {
			switch {
			case p.DP > 1:
				dp++
			case f.top <= 0 || len(kept) < f.top:
				kept = append(kept, p)
			}
		}
		res.Points = kept
		if dp > 0 {
			left = fmt.Sprintf("; %d ranked configurations with dp > 1 left out: trtllm-serve has no data-parallel flag (replicas need a server each behind a router; attention DP + EP needs --tp_size tp·dp --ep_size ep with enable_attention_dp: true in an --extra_llm_api_options file, which --server-args can pass)", dp)
		}
	}
	if len(res.Points) == 0 {
		return nil, "", usageErr("no configuration meets every constraint: nothing to run (relax a --constraint or widen the space%s)", left)
	}
	out := sweeprun.FromSweep(res.Points, sp.Model.Quant.Dtype)
	return out, fmt.Sprintf("%d best of %d configurations by %s (estimator sweep, --top %d%s)", len(res.Points), res.Evaluated, f.objective, f.top, left), nil
}

// benchResultSamples reads DIR/results.jsonl of sweep --run and returns the decode-step
// samples of its ok runs on model × gpu with the base profile.
func benchResultSamples(ctx context.Context, e *env, dir, model, gpu string, gpuFiles []string, prof *estimator.Profile) ([]estimator.StepSample, error) {
	if model == "" || gpu == "" {
		return nil, usageErr("--bench-results: --model and --gpu are required (the model and GPU the servers ran)")
	}
	rs, err := sweeprun.ReadResultsDir(dir)
	if err != nil {
		return nil, usageErr("--bench-results: %v", err)
	}
	m, err := loadModel(ctx, e, model)
	if err != nil {
		return nil, err
	}
	g, err := lookupGPU(gpuFiles, gpu, "--gpu")
	if err != nil {
		return nil, err
	}
	samples, err := sweeprun.ResultSamples(rs, estimator.Spec{Model: m, GPU: g, Profile: prof})
	if err != nil {
		return nil, usageErr("--bench-results %s: %v", dir, err)
	}
	return samples, nil
}

// engineFamily is the engine an --engine value names: NAME of NAME or NAME@VERSION.
func engineFamily(engine string) string {
	fam, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(engine)), "@")
	return strings.TrimSpace(fam)
}
