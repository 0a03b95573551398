package main

import (
	"context"
	"io"
	"math"
	"strings"

	"roofline/estimator"
	"roofline/hardware"
	"roofline/internal/flagvalue"
	"roofline/report"
)

const planSynopsis = "plan --model M (--target-rate R | --target-users U) --input-len I --output-len O [--constraint ttft:p95<500ms ...] " +
	"[--gpus all|G1,G2] [--weight-dtype bf16,fp8] [--kv-dtype bf16,fp8] [--max-num-seqs 64,256] [--max-num-batched-tokens 512,2048] [--engine vllm | --profile P] [--price-per-gpu-hour X] [--output table|json]"

func runPlan(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "plan", planSynopsis)
	model := fs.String("model", "", "model: Hugging Face id, catalogue id or path to a config.json (required)")
	gpus := fs.String("gpus", "all", "GPUs: comma list of ids or aliases, or all")
	fs.StringVar(gpus, "gpu", "all", "same as --gpus")
	var gpuFiles, wds, kvds, cons []string
	var mnss, mnbts []int
	fs.StringSliceVar(&gpuFiles, "gpu-file", nil, "extra GPU catalogue TOML files (add or override entries)")
	rate := flagvalue.NewFloat(fs, "target-rate", 0, flagvalue.Positive, "open-loop load to serve, requests/s (Poisson)")
	users := fs.Int("target-users", 0, "closed-loop load to serve: users each with one request in flight")
	positiveIfGiven(fs, "target-users")
	inLen := fs.Int("input-len", 0, "prompt tokens per request (required)")
	outLen := fs.Int("output-len", 0, "output tokens per request (required)")
	prefix := fs.Int("prefix-len", 0, "leading prompt tokens shared by all requests (prefix cache)")
	fs.StringArrayVar(&cons, "constraint", nil, "SLO, repeatable: ttft:p95<500ms, itl:p99<40ms, e2e:median<5s, output_tok_s_per_user>30, …")
	fs.StringSliceVar(&wds, "weight-dtype", nil, "weight dtypes to consider, e.g. bf16,fp8 (default: the checkpoint's)")
	fs.StringSliceVar(&kvds, "kv-dtype", nil, "KV-cache dtypes to consider (default: the model's 16-bit dtype)")
	fs.IntSliceVar(&mnss, "max-num-seqs", nil, "max running sequences per replica to consider (default: the profile's)")
	fs.IntSliceVar(&mnbts, "max-num-batched-tokens", []int{512, 2048, 0}, "token budgets per step to consider; small budgets split prefills and bound ITL (0: the profile's)")
	engine := fs.String("engine", "vllm", "engine profile: "+strings.Join(estimator.EngineNames(), ", ")+" (NAME@VERSION for a release, e.g. vllm@0.7.3)")
	profile := fs.String("profile", "", "engine profile TOML file (e.g. from roofline calibrate); overrides --engine")
	maxPer := fs.Int("max-gpus-per-replica", 8, "largest replica (tp·pp GPUs); replicas use 1, 2, 4, 8, … GPUs")
	maxReplicas := fs.Int("max-replicas", 4096, "largest number of replicas tried")
	price := flagvalue.NewFloat(fs, "price-per-gpu-hour", 0, flagvalue.NonNegative, "USD per GPU-hour for every GPU (default: the catalogue's on-demand price)")
	maxModelLen := fs.Int("max-model-len", 0, "longest sequence in tokens (default: the model's max context)")
	eager := fs.Bool("enforce-eager", false, enforceEagerHelp)
	positiveIfGiven(fs, "max-model-len")
	out := outputFlag(fs, "table", "json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *model == "":
		return usageErr("--model is required")
	case (*rate > 0) == (*users > 0):
		return usageErr("give one of --target-rate R (requests/s) or --target-users U")
	case *rate < 0 || math.IsNaN(*rate) || math.IsInf(*rate, 0) || *users < 0:
		return usageErr("--target-rate and --target-users must be positive")
	case *inLen < 1 || *outLen < 1:
		return usageErr("--input-len and --output-len are required (tokens ≥ 1)")
	case *maxPer < 1 || *maxReplicas < 1:
		return usageErr("--max-gpus-per-replica and --max-replicas must be ≥ 1")
	case *price < 0 || math.IsNaN(*price):
		return usageErr("--price-per-gpu-hour %g: must be ≥ 0", *price)
	}
	constraints, err := estimator.ParseConstraints(cons)
	if err != nil {
		return usageErr("--constraint: %v", err)
	}
	w := estimator.Workload{InputLen: *inLen, OutputLen: *outLen, PrefixLen: *prefix, Kind: estimator.Rate, RequestRate: *rate}
	if *users > 0 {
		w.Kind, w.Concurrency, w.RequestRate = estimator.Concurrency, *users, 0
	}
	prof, psrc, err := resolveProfile("engine", *engine, *profile)
	if err != nil {
		return err
	}
	m, err := loadModel(ctx, e, *model)
	if err != nil {
		return err
	}
	list, err := pickGPUs(*gpus, gpuFiles)
	if err != nil {
		return err
	}
	if err := engineRunsOnNone([]*estimator.Profile{prof}, list); err != nil {
		return err
	}
	if err := planRunsOnNone(estimator.Spec{Model: m, Profile: prof, MaxModelLen: *maxModelLen, EnforceEager: *eager}, list, wds, kvds); err != nil {
		return err
	}
	pl := estimator.Planner{Model: m, Profile: prof, Workload: w, Constraints: constraints, WeightDtypes: wds, KVDtypes: kvds, MaxNumSeqs: mnss,
		MaxNumBatchedTokens: mnbts, MaxGPUsPerReplica: *maxPer, MaxReplicas: *maxReplicas, PricePerGPUHour: *price, MaxModelLen: *maxModelLen, EnforceEager: *eager}
	if err := pl.Check(); err != nil {
		return asUsage(err)
	}
	po, err := report.NewPlan(pl, list, *rate, *users)
	if err != nil {
		return err
	}
	po.EngineSource = psrc
	return render(e.stdout, *out, po, func(w io.Writer) { report.WritePlanTable(w, po) })
}

// planRunsOnNone is the usage error of a plan in which no GPU of gpus can run any weight ×
// KV dtype of wds × kvds under prof (estimator.New refuses each: --weight-dtype fp4 under
// --engine trtllm on a GPU without FP4 tensor cores, a dtype the GPU has no rate for): the
// planner would skip every configuration and print an empty plan. It names the first
// refusal; nil when any combination can be built. Empty lists mean the checkpoint's dtypes.
// tmpl carries the model, profile and the flags every configuration shares (max_model_len,
// enforce_eager); its GPU and dtypes are set here.
func planRunsOnNone(tmpl estimator.Spec, gpus []*hardware.GPU, wds, kvds []string) error {
	if len(wds) == 0 {
		wds = []string{""}
	}
	if len(kvds) == 0 {
		kvds = []string{""}
	}
	var tries []func() error
	for _, g := range gpus {
		for _, wd := range wds {
			for _, kv := range kvds {
				s := tmpl
				s.GPU, s.WeightDtype, s.KVDtype = g, wd, kv
				tries = append(tries, func() error { _, err := estimator.New(s); return err })
			}
		}
	}
	if first := firstRefusal(tries); first != nil {
		return usageErr("%v (no GPU and dtype given can run: nothing to predict)", first)
	}
	return nil
}

// firstRefusal runs tries in order: nil as soon as one succeeds, else the first one's error
// (nil when there are none).
func firstRefusal(tries []func() error) error {
	var first error
	for _, try := range tries {
		err := try()
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}
