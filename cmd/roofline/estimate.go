package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"roofline/estimator"
	"roofline/hardware"
	"roofline/units"
	"roofline/validation"
)

// workloadFlags are the client-side flags shared by estimate, validate and sweep.
type workloadFlags struct {
	inputLen, outputLen, prefixLen int
	concurrency, batchSize         int
	numRequests                    int
	rate, burstiness               float64
	rangeRatio                     float64
	inputDist, outputDist          string
}

func (f *workloadFlags) register(fs *pflag.FlagSet) {
	fs.IntVar(&f.inputLen, "input-len", 0, "prompt tokens per request (required)")
	fs.IntVar(&f.outputLen, "output-len", 0, "output tokens per request (required)")
	fs.IntVar(&f.prefixLen, "prefix-len", 0, "leading prompt tokens shared by all requests and served from the prefix cache")
	fs.IntVar(&f.concurrency, "concurrency", 0, "closed loop: requests kept in flight")
	floatVar(fs, &f.rate, "request-rate", 0, positive, "open loop: Poisson arrivals, requests/s for the whole deployment")
	floatVar(fs, &f.burstiness, "burstiness", 1, positive, "gamma shape of inter-arrival gaps (1 = Poisson, <1 burstier)")
	fs.IntVar(&f.batchSize, "batch-size", 0, "static batch: requests that start together and run to completion")
	fs.IntVar(&f.numRequests, "num-requests", 0, "requests (offline run when given alone; simulated requests otherwise)")
	floatVar(fs, &f.rangeRatio, "random-range-ratio", 0, halfOpen01, "draw lengths uniformly in [⌊L·(1−r)⌋, ⌈L·(1+r)⌉] as vllm bench serve does")
	fs.StringVar(&f.inputDist, "input-dist", "", "draw prompt lengths: uniform:MIN:MAX, normal:MEAN:STD or hist:FILE.csv (rows: tokens,weight); the closed form uses the mean")
	fs.StringVar(&f.outputDist, "output-dist", "", "draw output lengths, as --input-dist")
}

// parseDist reads a length distribution spec (see --input-dist).
func parseDist(flag, spec string) (*estimator.LengthDist, error) {
	kind, rest, _ := strings.Cut(spec, ":")
	bad := func(err error) error {
		return usageErr("--%s %q: %v (want uniform:MIN:MAX, normal:MEAN:STD or hist:FILE.csv)", flag, spec, err)
	}
	switch kind {
	case "uniform", "normal":
		a, b, ok := strings.Cut(rest, ":")
		x, err1 := strconv.ParseFloat(a, 64)
		y, err2 := strconv.ParseFloat(b, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, bad(fmt.Errorf("two numbers expected"))
		}
		d := &estimator.LengthDist{Kind: kind, Min: int(x), Max: int(y), Mean: x, Std: y}
		return d, nil
	case "hist":
		f, err := os.Open(rest)
		if err != nil {
			return nil, bad(err)
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil {
			return nil, bad(err)
		}
		d := &estimator.LengthDist{Kind: "histogram"}
		for i, r := range recs {
			if len(r) < 2 {
				return nil, bad(fmt.Errorf("line %d: want tokens,weight", i+1))
			}
			v, err1 := strconv.Atoi(strings.TrimSpace(r[0]))
			w, err2 := strconv.ParseFloat(strings.TrimSpace(r[1]), 64)
			if err1 != nil || err2 != nil {
				if i == 0 {
					continue // header
				}
				return nil, bad(fmt.Errorf("line %d: want tokens,weight", i+1))
			}
			d.Values, d.Weights = append(d.Values, v), append(d.Weights, w)
		}
		return d, nil
	}
	return nil, bad(fmt.Errorf("unknown kind %q", kind))
}

func (f *workloadFlags) workload() (estimator.Workload, error) {
	w := estimator.Workload{InputLen: f.inputLen, OutputLen: f.outputLen, PrefixLen: f.prefixLen,
		Concurrency: f.concurrency, RequestRate: f.rate, Burstiness: f.burstiness, BatchSize: f.batchSize, NumRequests: f.numRequests}
	// A load flag counts as given when it is not zero (its default): a negative or NaN
	// value then fails Validate with the flag's name, rather than "give a load".
	n := 0
	for _, set := range []bool{f.concurrency != 0, f.rate != 0, f.batchSize != 0} {
		if set {
			n++
		}
	}
	switch {
	case n > 1:
		return w, usageErr("give one of --concurrency, --request-rate, --batch-size")
	case f.concurrency != 0:
		w.Kind = estimator.Concurrency
	case f.rate != 0:
		w.Kind = estimator.Rate
	case f.batchSize != 0:
		w.Kind = estimator.Static
	case f.numRequests != 0:
		w.Kind = estimator.Offline
	default:
		return w, usageErr("give a load: --concurrency C, --request-rate R, --batch-size B, or --num-requests N (offline)")
	}
	if f.rangeRatio < 0 || f.rangeRatio >= 1 {
		return w, usageErr("--random-range-ratio %g: must be in [0, 1)", f.rangeRatio)
	}
	if f.rangeRatio > 0 {
		w.InputDist, w.OutputDist = estimator.RangeRatioDist(f.inputLen, f.rangeRatio), estimator.RangeRatioDist(f.outputLen, f.rangeRatio)
	}
	var err error
	if f.inputDist != "" {
		if w.InputDist, err = parseDist("input-dist", f.inputDist); err != nil {
			return w, err
		}
	}
	if f.outputDist != "" {
		if w.OutputDist, err = parseDist("output-dist", f.outputDist); err != nil {
			return w, err
		}
	}
	if err := w.Validate(); err != nil {
		return w, asUsage(err)
	}
	return w, nil
}

// report is the result of estimate: one data model for every renderer.
type report struct {
	Model  modelInfo  `json:"model_info"`
	GPU    gpuInfo    `json:"hardware"`
	Server serverInfo `json:"server_config"`
	Client clientInfo `json:"client_config"`
	estimator.Serving
	OutputTokSPerGPU float64          `json:"output_tok_s_per_gpu"`
	TotalTokSPerGPU  float64          `json:"total_tok_s_per_gpu"`
	KVCacheTokens    int              `json:"kv_cache_tokens"`
	MaxConcurrency   int              `json:"max_concurrency"`
	Memory           estimator.Memory `json:"memory"`
	CostPerHour      *float64         `json:"cost_usd_per_hour"`
	CostOut          *float64         `json:"cost_usd_per_1m_output_tokens"`       // all GPU time (estimator.Cost)
	CostIn           *float64         `json:"cost_usd_per_1m_input_tokens"`        // prefill share of GPU time
	CostOutSplit     *float64         `json:"cost_usd_per_1m_output_tokens_split"` // the rest of it
	CostPerRequest   *float64         `json:"cost_usd_per_request"`
	PriceSource      string           `json:"price_source"`
	PriceOffering    string           `json:"price_offering"`
	// Power is the electricity cost at TDP of all GPUs, beside the rental cost.
	PowerUSDPerKWh   float64  `json:"power_usd_per_kwh"`
	PowerCostPerHour *float64 `json:"power_cost_usd_per_hour"`
	PowerSource      string   `json:"power_price_source"`
	EnergyPer1k      float64  `json:"energy_j_per_1k_output_tokens"`
	Percentiles      string   `json:"percentile_method"`
	// Intervals holds an 80% prediction interval per headline metric (ttft_ms_mean, …),
	// from the accuracy report's out-of-sample residuals (data/validation/intervals.csv).
	Intervals  map[string]validation.Interval `json:"intervals"`
	Provenance provenance                     `json:"provenance"`
	Parameters []estimator.Parameter          `json:"parameters"`
	// Nodes and Crossings describe a deployment larger than one scale-up domain.
	Nodes       int              `json:"nodes,omitempty"`
	GPUsPerNode int              `json:"gpus_per_node,omitempty"`
	Crossings   []string         `json:"crosses_nodes,omitempty"`
	Technique   *techniqueReport `json:"technique,omitempty"`
	// TTFTBreakdown (--explain) splits the closed form's mean TTFT; TTFTBreakdownNote says
	// which mean it decomposes.
	TTFTBreakdown     *estimator.TTFTBreakdown `json:"ttft_breakdown_ms,omitempty"`
	TTFTBreakdownNote string                   `json:"ttft_breakdown_note,omitempty"`
}

type modelInfo struct {
	ID           string `json:"id"`
	ParamsTotal  int64  `json:"params_total"`
	ParamsActive int64  `json:"params_active"`
}

type gpuInfo struct {
	ID      string  `json:"id"`
	Name    string  `json:"name"`
	NumGPUs int     `json:"num_gpus"`
	TDP     float64 `json:"tdp_watts"`
}

type serverInfo struct {
	Engine string `json:"engine"`
	// EngineRelease names the framework and release range predicted, e.g. "vllm@0.7.3
	// (profile vllm-v0, versions >=0.6, <0.8)".
	EngineRelease       string  `json:"engine_release"`
	TP                  int     `json:"tp"`
	PP                  int     `json:"pp"`
	DP                  int     `json:"dp"`
	EP                  int     `json:"ep"`
	WeightDtype         string  `json:"weight_dtype"`
	KVDtype             string  `json:"kv_dtype"`
	ComputeDtype        string  `json:"compute_dtype"`
	MaxNumSeqs          int     `json:"max_num_seqs"`
	MaxNumBatchedTokens int     `json:"max_num_batched_tokens"`
	MaxModelLen         int     `json:"max_model_len"`
	MemoryFraction      float64 `json:"gpu_memory_utilization"`
}

type clientInfo struct {
	Workload    string  `json:"workload"`
	InputLen    int     `json:"input_len"`
	OutputLen   int     `json:"output_len"`
	PrefixLen   int     `json:"prefix_len"`
	Concurrency int     `json:"concurrency,omitempty"`
	RequestRate float64 `json:"request_rate,omitempty"`
	Burstiness  float64 `json:"burstiness,omitempty"`
	BatchSize   int     `json:"batch_size,omitempty"`
	NumRequests int     `json:"num_requests,omitempty"`
}

func runEstimate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "estimate", "estimate --model M --gpu G [--num-gpus N --tp --pp --dp --ep] [--weight-dtype --kv-dtype] [--engine E | --profile P] --input-len I --output-len O [--prefix-len P] [--concurrency C | --request-rate R | --batch-size B] [--simulate] [--price-per-gpu-hour X | --price-offering on-demand|reserved|spot|purchase] [--power-usd-per-kwh X] [--output table|json|csv|markdown]")
	var df deployFlags
	var wf workloadFlags
	var tf techFlags
	df.register(fs, true)
	wf.register(fs)
	tf.register(fs)
	explain := fs.Bool("explain", false, "split mean TTFT into queueing, prefill-budget wait, prefill compute, decode interference, start-up burst and fixed per-request cost")
	simulate := fs.Bool("simulate", false, "always run the discrete-event simulation (default: the closed form inside its region of validity, the simulation outside it; method_reason says which)")
	seed := fs.Uint64("seed", 1, "simulation seed")
	price := floatFlag(fs, "price-per-gpu-hour", 0, nonNegative, "USD per GPU-hour (default: the catalogue's price for --price-offering)")
	offering := fs.String("price-offering", "on-demand", "which public price to cost with: "+strings.Join(hardware.Offerings, ", ")+" (purchase: list price amortised over 5 years)")
	kwhDefault, kwhSource := hardware.PowerPrice()
	kwh := floatFlag(fs, "power-usd-per-kwh", kwhDefault, nonNegative, "electricity price for the power cost shown beside the rental cost, USD per kWh (default: "+kwhSource+")")
	out := fs.StringP("output", "o", "table", "output format: table, json, csv or markdown")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkOutput(*out, "table", "json", "csv", "markdown"); err != nil {
		return err
	}
	if *price < 0 {
		return usageErr("--price-per-gpu-hour %g: must be ≥ 0", *price)
	}
	w, err := wf.workload()
	if err != nil {
		return err
	}
	d, pv, err := df.build(ctx, e)
	if err != nil {
		return err
	}
	if tf.active() {
		if *simulate {
			return usageErr("--simulate: speculative decoding, --disagg, --kv-offload and --prefixes are modelled in the closed form only")
		}
		if d, err = tf.baselineSpec(d); err != nil {
			return err
		}
	}
	if !contains(hardware.Offerings, *offering) {
		return usageErr("--price-offering %q: allowed values are %s", *offering, strings.Join(hardware.Offerings, ", "))
	}
	pr := priceChoice{usd: *price, source: "--price-per-gpu-hour", offering: *offering}
	if *price == 0 {
		p, err := hardware.SelectPrice(d.GPU, *offering)
		switch {
		case err == nil:
			pr = priceChoice{usd: p.USDPerHour, source: p.Source, offering: *offering}
		case *offering != "on-demand":
			return usageErr("--price-offering: %v", err)
		default:
			pr = priceChoice{offering: *offering}
		}
	}
	pr.kwh, pr.kwhSource = *kwh, kwhSource
	if fs.Changed("power-usd-per-kwh") {
		pr.kwhSource = "--power-usd-per-kwh"
	}
	r, err := estimate(d, pv, w, *simulate, *seed, pr)
	if err != nil {
		return err
	}
	if *explain {
		explainTTFT(d, w, &r)
	}
	if tf.active() || tf.specTokens != 0 || tf.specAcceptLen != 0 || tf.specRates != nil || tf.specDraft != "" {
		p := pr.usd
		if r.Technique, err = tf.technique(ctx, e, d, r.Serving, w, p); err != nil {
			return err
		}
	}
	switch *out {
	case "json":
		return writeJSON(e.stdout, r)
	case "csv":
		return writeEstimateCSV(e.stdout, r)
	case "markdown":
		writeEstimateText(e.stdout, r, true)
	default:
		writeEstimateText(e.stdout, r, false)
	}
	return nil
}

// estimate predicts a workload on a deployment and assembles the report.
// priceChoice is the GPU-hour price a cost is computed with and the electricity price.
type priceChoice struct {
	usd       float64 // USD per GPU-hour; 0: no price
	source    string
	offering  string
	kwh       float64 // USD per kWh
	kwhSource string
}

func estimate(d *estimator.Deployment, pv provenance, w estimator.Workload, simulate bool, seed uint64, pr priceChoice) (report, error) {
	var s estimator.Serving
	if err := d.CheckFits(); err != nil {
		return report{}, err // the one fits rule: the engine would refuse to start
	}
	var err error
	if simulate {
		s, err = d.Simulate(w, seed)
		s.MethodReason = "--simulate"
	} else {
		s, err = d.Predict(w, seed)
	}
	if err != nil {
		return report{}, err
	}
	mem := d.Memory()
	pc := d.Model.Params()
	r := report{
		Model:   modelInfo{ID: d.Model.ID, ParamsTotal: pc.Total, ParamsActive: pc.Active},
		GPU:     gpuInfo{ID: d.GPU.ID, Name: d.GPU.Name, NumGPUs: d.NumGPUs, TDP: d.GPU.TDPWatts},
		Server:  serverInfo{Engine: d.Profile.Name, EngineRelease: d.Profile.Label(), TP: d.TP, PP: d.PP, DP: d.DP, EP: d.EP, WeightDtype: d.WeightDtypeResolved, KVDtype: d.KVDtypeResolved, ComputeDtype: d.ComputeDtype, MaxNumSeqs: d.MaxNumSeqs, MaxNumBatchedTokens: d.MaxNumBatchedTokens, MaxModelLen: d.MaxModelLen, MemoryFraction: d.MemoryFraction},
		Client:  clientInfo{Workload: w.Kind, InputLen: w.InputLen, OutputLen: w.OutputLen, PrefixLen: w.PrefixLen, Concurrency: w.Concurrency, RequestRate: w.RequestRate, BatchSize: w.BatchSize, NumRequests: w.NumRequests},
		Serving: s, Memory: mem, KVCacheTokens: mem.KVCacheTokens * d.DP, Provenance: pv, Parameters: d.Parameters(),
	}
	if w.Kind == estimator.Rate {
		r.Client.Burstiness = w.Burstiness
	}
	if d.Nodes() > 1 {
		r.Nodes, r.GPUsPerNode, r.Crossings = d.Nodes(), d.Fabric().GPUsPerNode, d.Crossings()
	}
	r.MaxConcurrency = d.ConcurrencyAt(w.InputLen+w.OutputLen) * d.DP
	gpus := float64(d.NumGPUs)
	r.OutputTokSPerGPU = s.OutputTokS / gpus
	r.TotalTokSPerGPU = s.TotalTokS / gpus
	r.Percentiles = "closed-form approximation (residual step wait, start-up burst of a closed loop, two-point ITL mixture); use --simulate for simulated distributions"
	if s.Method == "simulation" {
		r.Percentiles = "simulated; linear interpolation between order statistics (numpy default, as vllm bench serve)"
	}
	price := pr.usd
	if price > 0 {
		r.PriceSource, r.PriceOffering = pr.source, pr.offering
	} else {
		r.PriceSource = fmt.Sprintf("no price for %s: give --price-per-gpu-hour USD or price_usd_per_hour in a --gpu-file", d.GPU.ID)
	}
	r.PowerUSDPerKWh, r.PowerSource = pr.kwh, pr.kwhSource
	if d.GPU.TDPWatts > 0 && pr.kwh > 0 {
		v := d.GPU.TDPWatts / 1000 * pr.kwh * gpus
		r.PowerCostPerHour = &v
	}
	if c, ok := estimator.CostOf(price*gpus, &s); ok {
		r.CostPerHour, r.CostOut = &c.PerHour, &c.Per1MOutput
		r.CostIn, r.CostOutSplit, r.CostPerRequest = fptr(c.Per1MInputSplit), fptr(c.Per1MOutputSplit), fptr(c.PerRequest)
	} else if price > 0 {
		r.CostPerHour = fptr(price * gpus) // the fleet costs this much; per token is undefined
	}
	if s.OutputTokS > 0 {
		r.EnergyPer1k = d.GPU.TDPWatts * gpus / s.OutputTokS * 1000
	}
	r.Warnings = append(r.Warnings, warnStrings(d.Warnings())...)
	addIntervals(&r, d, w)
	if r.Warnings == nil {
		r.Warnings = []string{}
	}
	return r, nil
}

func fmtDist(d estimator.Dist) (string, string, string) {
	if math.IsInf(d.Mean, 1) {
		return "unbounded", "unbounded", "unbounded"
	}
	return units.Sig(d.Mean), units.Sig(d.Median), units.Sig(d.P99)
}

func money(p *float64) string {
	if p == nil {
		return "unknown (no price)"
	}
	return "$" + strconv.FormatFloat(*p, 'f', 4, 64)
}

func writeEstimateText(w io.Writer, r report, markdown bool) {
	sec := func(title string) {
		if markdown {
			fmt.Fprintf(w, "\n## %s\n\n| | |\n|---|---|\n", title)
		} else {
			fmt.Fprintf(w, "\n%s\n", title)
		}
	}
	var tw *tabwriter.Writer
	row := func(k, v string) {
		if markdown {
			fmt.Fprintf(w, "| %s | %s |\n", k, v)
		} else {
			fmt.Fprintf(tw, "  %s\t%s\n", k, v)
		}
	}
	flush := func() {
		if tw != nil {
			tw.Flush()
		}
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	}
	flush()
	if markdown {
		fmt.Fprintf(w, "# roofline estimate: %s on %d× %s\n", r.Model.ID, r.GPU.NumGPUs, r.GPU.ID)
	} else {
		fmt.Fprintf(w, "roofline estimate: %s on %d× %s (%s)\n", r.Model.ID, r.GPU.NumGPUs, r.GPU.ID, r.Method)
		if r.MethodReason != "" {
			fmt.Fprintf(w, "method: %s: %s\n", r.Method, r.MethodReason)
		}
	}
	sec("Model")
	row("model", r.Model.ID)
	row("parameters", fmt.Sprintf("%s B total, %s B active per token", units.Sig(float64(r.Model.ParamsTotal)/1e9), units.Sig(float64(r.Model.ParamsActive)/1e9)))
	flush()
	sec("Hardware")
	row("GPU", fmt.Sprintf("%d× %s", r.GPU.NumGPUs, r.GPU.Name))
	row("memory per GPU", fmt.Sprintf("%s (%s), %s", r.Memory.TotalBytes, r.Memory.TotalBytes.GiBString(), r.Memory.TotalSource))
	flush()
	sec("Server config")
	row("engine profile", r.Server.EngineRelease)
	row("parallelism", fmt.Sprintf("tp=%d pp=%d dp=%d ep=%d", r.Server.TP, r.Server.PP, r.Server.DP, r.Server.EP))
	row("dtypes", fmt.Sprintf("weights %s, KV %s, GEMMs in %s", r.Server.WeightDtype, r.Server.KVDtype, r.Server.ComputeDtype))
	if r.Nodes > 1 {
		row("topology", fmt.Sprintf("%d nodes of %d GPUs", r.Nodes, r.GPUsPerNode))
		for _, c := range r.Crossings {
			row("crosses nodes", c)
		}
	}
	row("scheduler", fmt.Sprintf("max_num_seqs %d, max_num_batched_tokens %d, max_model_len %d, gpu_memory_utilization %.2f", r.Server.MaxNumSeqs, r.Server.MaxNumBatchedTokens, r.Server.MaxModelLen, r.Server.MemoryFraction))
	flush()
	sec("Client config")
	load := ""
	switch r.Client.Workload {
	case estimator.Concurrency:
		load = fmt.Sprintf("closed loop, concurrency %d", r.Client.Concurrency)
	case estimator.Rate:
		load = fmt.Sprintf("open loop, %.3g req/s (gamma shape %.2g; 1 = Poisson)", r.Client.RequestRate, r.Client.Burstiness)
	case estimator.Static:
		load = fmt.Sprintf("static batch of %d", r.Client.BatchSize)
	case estimator.Offline:
		load = fmt.Sprintf("offline, %d requests at once", r.Client.NumRequests)
	}
	row("load", load)
	row("lengths", fmt.Sprintf("input %d tokens (%d shared prefix), output %d tokens", r.Client.InputLen, r.Client.PrefixLen, r.Client.OutputLen))
	flush()
	sec("Results")
	if r.Overloaded {
		row("OVERLOADED", fmt.Sprintf("max sustainable rate %s req/s", units.Sig(r.MaxRequestRate)))
	}
	row("output throughput", fmt.Sprintf("%s tok/s (%s tok/s per GPU)", units.Sig(r.OutputTokS), units.Sig(r.OutputTokSPerGPU)))
	row("total throughput", fmt.Sprintf("%s tok/s (%s tok/s per GPU)", units.Sig(r.TotalTokS), units.Sig(r.TotalTokSPerGPU)))
	row("request throughput", fmt.Sprintf("%s req/s (max sustainable %s req/s)", units.Sig(r.RequestPerS), units.Sig(r.MaxRequestRate)))
	for _, m := range []struct {
		n string
		d estimator.Dist
	}{{"TTFT", r.TTFT}, {"ITL", r.ITL}, {"TPOT", r.TPOT}, {"E2E", r.E2E}} {
		a, b, c := fmtDist(m.d)
		row(m.n+" (ms)", fmt.Sprintf("mean %s, median %s, p99 %s", a, b, c))
	}
	row("per-user speed", fmt.Sprintf("%s tok/s", units.Sig(r.OutputTokSPerUser)))
	row("running batch", fmt.Sprintf("%s sequences per replica (mean)", units.Sig(r.Batch)))
	row("KV cache", fmt.Sprintf("%d tokens in all; max concurrency %d at %d tokens/request", r.KVCacheTokens, r.MaxConcurrency, r.Client.InputLen+r.Client.OutputLen))
	row("memory per GPU", fmt.Sprintf("weights %s, activations %s, non-torch %s, KV %s", r.Memory.WeightsBytes, r.Memory.ActivationBytes, r.Memory.NonTorchBytes, r.Memory.KVCacheBytes))
	switch {
	case r.Overloaded:
		row("utilisation", "none at a steady state: overloaded (queues grow without bound)")
	case r.MFU == 0 && r.MBU == 0:
		row("utilisation", "unknown")
	default:
		row("utilisation", fmt.Sprintf("MFU %.1f%%, MBU %.1f%%, %s-bound", 100*r.MFU, 100*r.MBU, r.Bound))
	}
	switch {
	case r.CostPerHour == nil:
		row("cost", "unknown: "+r.PriceSource)
	case r.CostOut == nil: // a price but no steady throughput
		why := "no steady output throughput"
		if r.Overloaded {
			why = "overloaded: no steady output throughput"
		}
		row("cost", fmt.Sprintf("none per 1M output tokens (%s; %s per hour for the fleet)", why, money(r.CostPerHour)))
	default:
		row("cost", fmt.Sprintf("%s per 1M output tokens, all GPU time; split by prefill share of GPU time %.0f%%: %s per 1M input, %s per 1M output tokens",
			money(r.CostOut), 100*r.PrefillShare, money(r.CostIn), money(r.CostOutSplit)))
	}
	row("energy", fmt.Sprintf("%s J per 1k output tokens (at TDP %g W per GPU)", units.Sig(r.EnergyPer1k), r.GPU.TDP))
	if r.CostPerHour != nil || r.PowerCostPerHour != nil {
		rent := "no price"
		if r.CostPerHour != nil {
			rent = fmt.Sprintf("$%.2f per hour (%s)", *r.CostPerHour, r.PriceOffering)
		}
		pw := "unknown (no TDP)"
		if r.PowerCostPerHour != nil {
			pw = fmt.Sprintf("$%.3f per hour at TDP and %s USD/kWh", *r.PowerCostPerHour, units.Sig(r.PowerUSDPerKWh))
		}
		row("GPU cost", fmt.Sprintf("rental %s; power %s (included in rental prices; the own cost of purchased GPUs)", rent, pw))
	}
	flush()
	if r.Technique != nil {
		writeTechniqueText(w, r.Technique, markdown)
		flush()
	}
	if len(r.Intervals) > 0 {
		sec("80% prediction intervals (from out-of-sample residuals of the validation data)")
		ks := make([]string, 0, len(r.Intervals))
		for k := range r.Intervals {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		reason := ""
		for _, k := range ks {
			iv := r.Intervals[k]
			row(k, fmt.Sprintf("%s – %s (%d residuals, cell %s)", units.Sig(iv.Lo), units.Sig(iv.Hi), iv.Rows, iv.Cell))
			if iv.Reason != "" {
				reason = iv.Reason
			}
		}
		if reason != "" {
			row("note", reason)
		}
		flush()
	}
	if b := r.TTFTBreakdown; b != nil {
		sec("TTFT breakdown (mean, ms)")
		row("queueing before admission", units.Sig(b.QueueMs))
		row("waiting for prefill budget", units.Sig(b.BudgetWaitMs))
		row("prefill compute", fmt.Sprintf("%s (%d chunk(s))", units.Sig(b.PrefillMs), b.Chunks))
		row("decode interference", units.Sig(b.InterferenceMs))
		row("start-up burst", units.Sig(b.StartupBurstMs))
		row("fixed per-request cost", fmt.Sprintf("%s (%s)", units.Sig(b.FixedMs), b.FixedSource))
		row("total", fmt.Sprintf("%s — %s", units.Sig(b.Total()), r.TTFTBreakdownNote))
		flush()
	}
	sec("Provenance")
	row("model", r.Provenance.Model)
	row("GPU", r.Provenance.GPU)
	row("engine", r.Provenance.Profile)
	if r.PriceSource != "" {
		row("price", r.PriceSource)
	}
	if r.PowerSource != "" {
		row("power price", r.PowerSource)
	}
	row("percentiles", r.Percentiles)
	flush()
	sec("Parameters")
	for _, p := range r.Parameters {
		v := units.Sig(p.Value) + " " + p.Unit
		if u, rest, _ := strings.Cut(p.Unit, " "); u == "B" || u == "B/s" || u == "FLOP/s" {
			v = strings.TrimSpace(units.Prefixed(p.Value, u) + " " + rest)
		}
		row(p.Name, v+" — "+p.Source)
	}
	flush()
	for _, s := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", s)
	}
}

func writeEstimateCSV(w io.Writer, r report) error {
	cw := csv.NewWriter(w)
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	p := func(v *float64) string {
		if v == nil {
			return ""
		}
		return f(*v)
	}
	head := []string{"model", "gpu", "num_gpus", "tp", "pp", "dp", "engine", "weight_dtype", "kv_dtype", "workload", "input_len", "output_len", "concurrency", "request_rate", "batch_size",
		"output_tok_s", "total_tok_s", "request_per_s", "output_tok_s_per_gpu"}
	vals := []string{r.Model.ID, r.GPU.ID, strconv.Itoa(r.GPU.NumGPUs), strconv.Itoa(r.Server.TP), strconv.Itoa(r.Server.PP), strconv.Itoa(r.Server.DP), r.Server.Engine, r.Server.WeightDtype, r.Server.KVDtype,
		r.Client.Workload, strconv.Itoa(r.Client.InputLen), strconv.Itoa(r.Client.OutputLen), strconv.Itoa(r.Client.Concurrency), f(r.Client.RequestRate), strconv.Itoa(r.Client.BatchSize),
		f(r.OutputTokS), f(r.TotalTokS), f(r.RequestPerS), f(r.OutputTokSPerGPU)}
	for _, m := range []struct {
		n string
		d estimator.Dist
	}{{"ttft_ms", r.TTFT}, {"itl_ms", r.ITL}, {"tpot_ms", r.TPOT}, {"e2e_ms", r.E2E}} {
		for _, q := range []struct {
			n string
			v float64
		}{{"mean", m.d.Mean}, {"median", m.d.Median}, {"p90", m.d.P90}, {"p95", m.d.P95}, {"p99", m.d.P99}} {
			head = append(head, m.n+"_"+q.n)
			vals = append(vals, f(q.v))
		}
	}
	head = append(head, "kv_cache_tokens", "max_concurrency", "overloaded", "max_request_rate", "cost_usd_per_1m_output_tokens", "cost_usd_per_1m_input_tokens", "cost_usd_per_1m_output_tokens_split", "bound", "method")
	vals = append(vals, strconv.Itoa(r.KVCacheTokens), strconv.Itoa(r.MaxConcurrency), strconv.FormatBool(r.Overloaded), f(r.MaxRequestRate), p(r.CostOut), p(r.CostIn), p(r.CostOutSplit), r.Bound, r.Method)
	cw.Write(head)
	cw.Write(vals)
	cw.Flush()
	return cw.Error()
}

// fptr returns a pointer to v, or nil when v is NaN or infinite (JSON null).
func fptr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// addIntervals attaches 80% prediction intervals to the headline metrics from the embedded
// residual table (validation.EmbeddedIntervals); cost bounds follow the throughput's.
func addIntervals(r *report, d *estimator.Deployment, w estimator.Workload) {
	t, err := validation.EmbeddedIntervals()
	if err != nil {
		r.Warnings = append(r.Warnings, "no prediction intervals: "+err.Error())
		return
	}
	mc := "dense"
	if d.Model.MoE != nil {
		mc = "moe"
	}
	q := validation.Query{Engine: d.Profile.Family(), Workload: w.Kind, ModelClass: mc, Vendor: strings.ToLower(d.GPU.Vendor), GPU: d.GPU.ID, Profile: d.Profile.Name}
	vals := map[string]float64{"output_tok_s": r.OutputTokS, "total_tok_s": r.TotalTokS, "request_per_s": r.RequestPerS, "output_tok_s_per_gpu": r.OutputTokSPerGPU}
	for _, m := range []struct {
		n string
		d estimator.Dist
	}{{"ttft_ms", r.TTFT}, {"itl_ms", r.ITL}, {"tpot_ms", r.TPOT}, {"e2e_ms", r.E2E}} {
		vals[m.n+"_mean"], vals[m.n+"_median"], vals[m.n+"_p99"] = m.d.Mean, m.d.Median, m.d.P99
	}
	r.Intervals = map[string]validation.Interval{}
	for k, v := range vals {
		if v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
			continue
		}
		q.Metric, q.Value = k, v
		if iv, ok := t.Interval(q); ok {
			r.Intervals[k] = iv
		}
	}
	if iv, ok := r.Intervals["output_tok_s"]; ok && r.CostOut != nil && iv.Lo > 0 {
		c := *r.CostOut
		r.Intervals["cost_usd_per_1m_output_tokens"] = validation.Interval{Lo: c * r.OutputTokS / iv.Hi, Hi: c * r.OutputTokS / iv.Lo,
			Level: iv.Level, Rows: iv.Rows, Cell: iv.Cell, Reason: iv.Reason}
	}
}

// explainTTFT attaches the closed form's TTFT breakdown at the same load; when the estimate
// itself was simulated the note says which mean the parts add up to.
func explainTTFT(d *estimator.Deployment, w estimator.Workload, r *report) {
	cf, err := d.Serve(w)
	if err != nil || cf.Explain == nil {
		r.TTFTBreakdownNote = "no breakdown: the closed form does not apply to this workload"
		return
	}
	r.TTFTBreakdown = cf.Explain
	r.TTFTBreakdownNote = "the closed form's mean TTFT"
	if r.Method != "closed-form" {
		r.TTFTBreakdownNote = fmt.Sprintf("the closed form's mean TTFT at the same load; the reported mean (%s ms) is the simulation's", units.Sig(r.TTFT.Mean))
	}
}
