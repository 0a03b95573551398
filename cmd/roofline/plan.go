package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"roofline/estimator"
	"roofline/units"
)

const planSynopsis = "plan --model M (--target-rate R | --target-users U) --input-len I --output-len O [--constraint ttft:p95<500ms ...] " +
	"[--gpus all|G1,G2] [--weight-dtype bf16,fp8] [--kv-dtype bf16,fp8] [--max-num-seqs 64,256] [--max-num-batched-tokens 512,2048] [--engine vllm] [--price-per-gpu-hour X] [--output table|json]"

type planOutput struct {
	Kind        string              `json:"kind"` // "plan"
	Model       string              `json:"model"`
	Workload    sweepWorkload       `json:"workload"`
	TargetRate  float64             `json:"target_request_rate,omitempty"`
	TargetUsers int                 `json:"target_users,omitempty"`
	Constraints []string            `json:"constraints"`
	Cheapest    *estimator.Fleet    `json:"cheapest"`
	PerGPU      []estimator.GPUPlan `json:"per_gpu"`
	Notes       []string            `json:"notes"`
	Method      string              `json:"method"`
}

func runPlan(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "plan", planSynopsis)
	model := fs.String("model", "", "model: Hugging Face id, catalogue id or path to a config.json (required)")
	gpus := fs.String("gpus", "all", "GPUs: comma list of ids or aliases, or all")
	fs.StringVar(gpus, "gpu", "all", "same as --gpus")
	var gpuFiles, wds, kvds, cons []string
	var mnss, mnbts []int
	fs.StringSliceVar(&gpuFiles, "gpu-file", nil, "extra GPU catalogue TOML files (add or override entries)")
	rate := floatFlag(fs, "target-rate", 0, positive, "open-loop load to serve, requests/s (Poisson)")
	users := fs.Int("target-users", 0, "closed-loop load to serve: users each with one request in flight")
	inLen := fs.Int("input-len", 0, "prompt tokens per request (required)")
	outLen := fs.Int("output-len", 0, "output tokens per request (required)")
	prefix := fs.Int("prefix-len", 0, "leading prompt tokens shared by all requests (prefix cache)")
	fs.StringArrayVar(&cons, "constraint", nil, "SLO, repeatable: ttft:p95<500ms, itl:p99<40ms, e2e:median<5s, output_tok_s_per_user>30, …")
	fs.StringSliceVar(&wds, "weight-dtype", nil, "weight dtypes to consider, e.g. bf16,fp8 (default: the checkpoint's)")
	fs.StringSliceVar(&kvds, "kv-dtype", nil, "KV-cache dtypes to consider (default: the model's 16-bit dtype)")
	fs.IntSliceVar(&mnss, "max-num-seqs", nil, "max running sequences per replica to consider (default: the profile's)")
	fs.IntSliceVar(&mnbts, "max-num-batched-tokens", []int{512, 2048, 0}, "token budgets per step to consider; small budgets split prefills and bound ITL (0: the profile's)")
	engine := fs.String("engine", "vllm", "engine profile: "+strings.Join(estimator.EngineNames(), ", "))
	maxPer := fs.Int("max-gpus-per-replica", 8, "largest replica (tp·pp GPUs); replicas use 1, 2, 4, 8, … GPUs")
	maxReplicas := fs.Int("max-replicas", 4096, "largest number of replicas tried")
	price := floatFlag(fs, "price-per-gpu-hour", 0, nonNegative, "USD per GPU-hour for every GPU (default: the catalogue's on-demand price)")
	maxModelLen := fs.Int("max-model-len", 0, "longest sequence in tokens (default: the model's max context)")
	out := fs.StringP("output", "o", "table", "output format: table or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkOutput(*out, "table", "json"); err != nil {
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
	for _, v := range mnss {
		if v < 1 {
			return usageErr("--max-num-seqs %d: must be ≥ 1", v)
		}
	}
	for _, v := range mnbts {
		if v < 0 {
			return usageErr("--max-num-batched-tokens %d: must be ≥ 1 (0: the profile's)", v)
		}
	}
	var constraints []estimator.Constraint
	for _, s := range cons {
		c, err := estimator.ParseConstraint(s)
		if err != nil {
			return usageErr("--constraint: %v", err)
		}
		constraints = append(constraints, c)
	}
	w := estimator.Workload{InputLen: *inLen, OutputLen: *outLen, PrefixLen: *prefix, Kind: estimator.Rate, RequestRate: *rate}
	if *users > 0 {
		w.Kind, w.Concurrency, w.RequestRate = estimator.Concurrency, *users, 0
	}
	if err := w.Validate(); err != nil {
		return usageErr("%v", err)
	}
	if err := w.CheckMaxModelLen(*maxModelLen); err != nil {
		return asUsage(err)
	}
	prof, ok, err := estimator.Engine(*engine)
	if err != nil {
		return err
	}
	if !ok {
		return usageErr("--engine %q: allowed values are %s", *engine, strings.Join(estimator.EngineNames(), ", "))
	}
	m, err := loadModel(ctx, e, *model)
	if err != nil {
		return err
	}
	list, err := pickGPUs(*gpus, gpuFiles)
	if err != nil {
		return err
	}
	if len(wds) == 0 {
		wds = []string{""}
	}
	if len(kvds) == 0 {
		kvds = []string{""}
	}
	if len(mnss) == 0 {
		mnss = []int{0}
	}
	for _, d := range append(append([]string{}, wds...), kvds...) {
		if _, err := units.CanonicalDtype(d); err != nil {
			return usageErr("--weight-dtype/--kv-dtype %q: allowed values are %s", d, strings.Join(units.Dtypes(), ", "))
		}
	}
	po := planOutput{Kind: "plan", Model: m.ID, TargetRate: *rate, TargetUsers: *users, Constraints: []string{}, Notes: []string{},
		Workload: sweepWorkload{Kind: w.Kind, InputLen: w.InputLen, OutputLen: w.OutputLen, PrefixLen: w.PrefixLen},
		Method:   "closed form, and the simulation for fleets meeting the SLOs outside its region of validity; replicas split the load evenly (data parallel); the smallest replica count meeting the SLOs is found by doubling then bisection"}
	for _, c := range constraints {
		po.Constraints = append(po.Constraints, c.String())
	}
	pl := estimator.Planner{Model: m, Profile: prof, Workload: w, Constraints: constraints, WeightDtypes: wds, KVDtypes: kvds, MaxNumSeqs: mnss,
		MaxNumBatchedTokens: mnbts, MaxGPUsPerReplica: *maxPer, MaxReplicas: *maxReplicas, PricePerGPUHour: *price, MaxModelLen: *maxModelLen}
	for _, g := range list {
		pg, err := pl.GPU(g)
		if err != nil {
			return err
		}
		po.PerGPU = append(po.PerGPU, pg)
		if b := pg.Best; b != nil && b.CostPerHour != nil && (po.Cheapest == nil || *b.CostPerHour < *po.Cheapest.CostPerHour) {
			po.Cheapest = b
		}
	}
	if po.Cheapest == nil {
		met, unpriced := false, []string{}
		for i, pg := range po.PerGPU {
			met = met || pg.Best != nil
			if *price == 0 && list[i].PriceUSDPerHour <= 0 {
				unpriced = append(unpriced, list[i].ID)
			}
		}
		switch {
		case !met:
			po.Notes = append(po.Notes, "no fleet meets the load and constraints: relax a constraint or the load")
		case len(unpriced) > 0:
			po.Notes = append(po.Notes, "no priced fleet meets the load and constraints: give --price-per-gpu-hour for GPUs without a price ("+strings.Join(unpriced, ", ")+"), or relax a constraint")
		default:
			po.Notes = append(po.Notes, "no priced fleet meets the load and constraints: relax a constraint")
		}
	}
	if *out == "json" {
		return writeJSON(e.stdout, po)
	}
	writePlanTable(e.stdout, po)
	return nil
}

func writePlanTable(w io.Writer, o planOutput) {
	load := fmt.Sprintf("%s req/s (Poisson)", units.Sig(o.TargetRate))
	if o.TargetUsers > 0 {
		load = fmt.Sprintf("%d concurrent users", o.TargetUsers)
	}
	cons := "none"
	if len(o.Constraints) > 0 {
		cons = strings.Join(o.Constraints, ", ")
	}
	fmt.Fprintf(w, "roofline plan: %s for %s, input %d / output %d tokens; constraints: %s\n\n", o.Model, load, o.Workload.InputLen, o.Workload.OutputLen, cons)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "GPU\tmin GPUs to fit\tfleet\ttotal GPUs\tweights/KV\t$/hour\t$/1M out tokens\tTTFT p95 ms\tITL p99 ms\ttok/s/user\t")
	rows := append([]estimator.GPUPlan(nil), o.PerGPU...)
	sort.SliceStable(rows, func(a, b int) bool {
		ca, cb := rows[a].Best, rows[b].Best
		switch {
		case ca == nil || cb == nil:
			return ca != nil
		case (ca.CostPerHour == nil) != (cb.CostPerHour == nil):
			return ca.CostPerHour != nil
		case ca.CostPerHour != nil && *ca.CostPerHour != *cb.CostPerHour:
			return *ca.CostPerHour < *cb.CostPerHour
		}
		return false
	})
	for _, r := range rows {
		var fit []string
		keys := make([]string, 0, len(r.MinGPUs))
		for k := range r.MinGPUs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := "none ≤ 128"
			if r.MinGPUs[k] > 0 {
				v = fmt.Sprint(r.MinGPUs[k])
			}
			if len(keys) > 1 {
				v = k + ": " + v
			}
			fit = append(fit, v)
		}
		b := r.Best
		if b == nil {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t-\t-\t-\t-\t\n", r.GPU, strings.Join(fit, ", "))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d × (tp=%d pp=%d)\t%d\t%s/%s\t%s\t%s\t%s\t%s\t%s\t\n", r.GPU, strings.Join(fit, ", "), b.Replicas, b.TP, b.PP, b.TotalGPUs,
			b.WeightDtype, b.KVDtype, money2(b.CostPerHour), money2(b.CostPer1MOut), ms(b.TTFT.P95), ms(b.ITL.P99), units.Sig(b.OutputTokSPerUser))
	}
	tw.Flush()
	if c := o.Cheapest; c != nil {
		fmt.Fprintf(w, "\ncheapest: %d × %s as %d replicas of tp=%d pp=%d (%s weights, %s KV): $%.2f/hour, $%.4f per 1M output tokens (price: %s)\n",
			c.TotalGPUs, c.GPU, c.Replicas, c.TP, c.PP, c.WeightDtype, c.KVDtype, *c.CostPerHour, deref(c.CostPer1MOut), c.PriceSource)
		fmt.Fprintf(w, "launch (vLLM; dp = replicas): %s\n", c.Launch.VLLM)
	}
	var noPrice []string
	for _, r := range o.PerGPU {
		switch r.Note {
		case "":
		case "no price":
			noPrice = append(noPrice, r.GPU)
		default:
			fmt.Fprintf(w, "note: %s: %s\n", r.GPU, r.Note)
		}
	}
	if len(noPrice) > 0 {
		fmt.Fprintf(w, "note: no price in the catalogue for %s (give --price-per-gpu-hour); their fleets use the fewest GPUs\n", strings.Join(noPrice, ", "))
	}
	for _, n := range o.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

func money2(p *float64) string {
	if p == nil {
		return "no price"
	}
	return units.Sig(*p)
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}
