package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"roofline/estimator"
	"roofline/hardware"
	"roofline/units"
	"roofline/validation"
)

// Estimate is the document of "roofline estimate": one data model for the text, markdown,
// CSV and JSON renderers. Latencies are in ms, rates in tok/s and req/s, memory in bytes,
// costs in USD (per hour, per 1M tokens, per request), energy in J per 1k output tokens.
type Estimate struct {
	Model  ModelInfo  `json:"model_info"`
	GPU    GPUInfo    `json:"hardware"`
	Server ServerInfo `json:"server_config"`
	Client ClientInfo `json:"client_config"`
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
	Provenance estimator.Provenance           `json:"provenance"`
	Parameters []estimator.Parameter          `json:"parameters"`
	// Nodes and Crossings describe a deployment larger than one scale-up domain.
	Nodes       int                            `json:"nodes,omitempty"`
	GPUsPerNode int                            `json:"gpus_per_node,omitempty"`
	Crossings   []string                       `json:"crosses_nodes,omitempty"`
	Technique   *estimator.TechniqueComparison `json:"technique,omitempty"`
	// TTFTBreakdown (--explain) splits the closed form's mean TTFT; TTFTBreakdownNote says
	// which mean it decomposes.
	TTFTBreakdown     *estimator.TTFTBreakdown `json:"ttft_breakdown_ms,omitempty"`
	TTFTBreakdownNote string                   `json:"ttft_breakdown_note,omitempty"`
}

// ModelInfo names the model and its parameter counts (total, and active per token).
type ModelInfo struct {
	ID           string `json:"id"`
	ParamsTotal  int64  `json:"params_total"`
	ParamsActive int64  `json:"params_active"`
}

// GPUInfo names the GPU, the GPU count and the TDP per GPU (W).
type GPUInfo struct {
	ID      string  `json:"id"`
	Name    string  `json:"name"`
	NumGPUs int     `json:"num_gpus"`
	TDP     float64 `json:"tdp_watts"`
}

// ServerInfo is the deployment as the engine is configured: parallelism, dtypes and
// scheduler limits (tokens, sequences, fraction of GPU memory).
type ServerInfo struct {
	Engine string `json:"engine"`
	// EngineRelease names the framework and release range predicted, e.g. "vllm@0.7.3
	// (profile vllm-v0, versions >=0.6, <0.8)".
	EngineRelease string `json:"engine_release"`
	// EnforceEager: CUDA/HIP graphs off (estimator.Spec.EnforceEager); omitted when false.
	EnforceEager        bool    `json:"enforce_eager"`
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
	// NumSchedulerSteps is vLLM V0's --num-scheduler-steps (estimator.Spec.SchedulerSteps):
	// decode steps per scheduler call; omitted when 0 or 1 (every step scheduled).
	NumSchedulerSteps int `json:"num_scheduler_steps,omitempty"`
}

// ClientInfo is the workload: its kind, lengths (tokens) and load (concurrency, req/s,
// gamma shape, batch or request count).
type ClientInfo struct {
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

// Price is the GPU-hour price a cost is computed with and the electricity price.
type Price struct {
	USDPerGPUHour float64 // 0: no price
	Source        string  // where the GPU-hour price came from
	Offering      string  // on-demand, reserved, spot or purchase (hardware.Offerings)
	USDPerKWh     float64 // electricity, for the power cost at TDP
	KWhSource     string
}

// ChoosePrice is the GPU-hour price of an estimate: usd when > 0 (given by
// --price-per-gpu-hour), else the catalogue's price for offering (hardware.SelectPrice;
// on-demand without a price is no price). Errors name --price-offering: an unknown
// offering, or one the GPU has no price for.
func ChoosePrice(g *hardware.GPU, usd float64, offering string) (Price, error) {
	known := false
	for _, o := range hardware.Offerings {
		known = known || o == offering
	}
	if !known {
		return Price{}, fmt.Errorf("--price-offering %q: allowed values are %s", offering, strings.Join(hardware.Offerings, ", "))
	}
	if usd > 0 {
		return Price{USDPerGPUHour: usd, Source: "--price-per-gpu-hour", Offering: offering}, nil
	}
	p, err := hardware.SelectPrice(g, offering)
	switch {
	case err == nil:
		return Price{USDPerGPUHour: p.USDPerHour, Source: p.Source, Offering: offering}, nil
	case offering != "on-demand":
		return Price{}, fmt.Errorf("--price-offering: %v", err)
	}
	return Price{Offering: offering}, nil
}

// NewEstimate predicts w on d (the closed form inside its region of validity, the
// simulation outside it or when simulate is set; seed drives the simulation) and assembles
// the document: per-GPU rates, KV capacity, cost at pr (estimator.CostOf), power at TDP,
// energy per 1k output tokens and 80% prediction intervals (validation.EmbeddedIntervals).
// Errors: a deployment the engine would refuse (Deployment.CheckFits), or a workload the
// prediction refuses.
func NewEstimate(d *estimator.Deployment, pv estimator.Provenance, w estimator.Workload, simulate bool, seed uint64, pr Price) (Estimate, error) {
	var s estimator.Serving
	if err := d.CheckFits(); err != nil {
		return Estimate{}, err // the one fits rule: the engine would refuse to start
	}
	var err error
	if simulate {
		s, err = d.Simulate(w, seed)
		s.MethodReason = "--simulate"
	} else {
		s, err = d.Predict(w, seed)
	}
	if err != nil {
		return Estimate{}, err
	}
	mem := d.Memory()
	pc := d.Model.Params()
	r := Estimate{
		Model:   ModelInfo{ID: d.Model.ID, ParamsTotal: pc.Total, ParamsActive: pc.Active},
		GPU:     GPUInfo{ID: d.GPU.ID, Name: d.GPU.Name, NumGPUs: d.NumGPUs, TDP: d.GPU.TDPWatts},
		Server:  ServerInfo{Engine: d.Profile.Name, EngineRelease: d.Profile.Label(), EnforceEager: d.EnforceEager, TP: d.TP, PP: d.PP, DP: d.DP, EP: d.EP, WeightDtype: d.WeightDtypeResolved, KVDtype: d.KVDtypeResolved, ComputeDtype: d.ComputeDtype, MaxNumSeqs: d.MaxNumSeqs, MaxNumBatchedTokens: d.MaxNumBatchedTokens, MaxModelLen: d.MaxModelLen, MemoryFraction: d.MemoryFraction, NumSchedulerSteps: multiStep(d.SchedulerSteps)},
		Client:  ClientInfo{Workload: w.Kind, InputLen: w.InputLen, OutputLen: w.OutputLen, PrefixLen: w.PrefixLen, Concurrency: w.Concurrency, RequestRate: w.RequestRate, BatchSize: w.BatchSize, NumRequests: w.NumRequests},
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
	price := pr.USDPerGPUHour
	if price > 0 {
		r.PriceSource, r.PriceOffering = pr.Source, pr.Offering
	} else {
		r.PriceSource = fmt.Sprintf("no price for %s: give --price-per-gpu-hour USD or price_usd_per_hour in a --gpu-file", d.GPU.ID)
	}
	r.PowerUSDPerKWh, r.PowerSource = pr.USDPerKWh, pr.KWhSource
	if d.GPU.TDPWatts > 0 && pr.USDPerKWh > 0 {
		v := d.GPU.TDPWatts / 1000 * pr.USDPerKWh * gpus
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
	r.Warnings = append(r.Warnings, estimator.Messages(d.Warnings())...)
	if oneOutputToken(r.Client, w) {
		r.Warnings = append(r.Warnings, OneTokenNote)
	}
	rho := estimator.LoadFraction(w.RequestRate, s)
	if !r.Overloaded && rho >= validation.NearCapacityLoad && w.Kind == estimator.Rate {
		r.Warnings = append(r.Warnings, NearCapacityNote(rho))
	}
	addIntervals(&r, d, w, rho)
	if d.EnforceEager && len(r.Intervals) > 0 {
		r.Warnings = append(r.Warnings, EagerIntervalsNote)
	}
	if r.Warnings == nil {
		r.Warnings = []string{}
	}
	return r, nil
}

// EagerIntervalsNote is the warning of an estimate with CUDA graphs off (--enforce-eager)
// that has prediction intervals: their residuals are out-of-sample rows, and every row run
// with --enforce-eager (the validation data's enforce_eager column) is in-sample.
const EagerIntervalsNote = "--enforce-eager: the 80% prediction intervals come from out-of-sample runs with CUDA graphs on (the embedded runs with --enforce-eager are in-sample)"

// NearCapacityNote is the warning of an online estimate at load ρ (request rate ÷ sustainable
// rate) ≥ validation.NearCapacityLoad: a step lasts about its fixed cost ÷ (1 − ρ), so a
// relative error e in the predicted capacity moves TTFT and TPOT by about e·ρ/(1 − ρ).
func NearCapacityNote(rho float64) string {
	return fmt.Sprintf("near capacity: the load is %.0f%% of the sustainable rate, where a step lasts about its fixed cost ÷ (1 − ρ); a 10%% error in the predicted capacity moves TTFT and TPOT by about %.0f%% (ρ/(1 − ρ) × 10%%), so read them as the order of magnitude and use the intervals", 100*rho, 10*rho/(1-rho))
}

// OneTokenNote is the warning of an estimate whose requests produce one output token each.
const OneTokenNote = "output length 1 token: no token follows the first, so ITL and TPOT are 0 ms by vllm bench serve's convention (roofline bench leaves such requests out of them), per-user speed, output/(E2E − TTFT), has no interval to divide by and is printed as -, and the running batch (sequences decoding) is 0"

// oneOutputToken reports whether every request of the workload produces exactly one token.
func oneOutputToken(c ClientInfo, w estimator.Workload) bool {
	return w.OutputDist == nil && c.OutputLen == 1
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

// WriteEstimateText prints the document as "roofline estimate" does: sections of
// key–value rows (a tab-aligned table, or markdown tables when markdown is set), then the
// warnings.
func WriteEstimateText(w io.Writer, r Estimate, markdown bool) {
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
			fmt.Fprintf(w, "| %s | %s |\n", mdCell(k), mdCell(v))
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
	if r.Server.EnforceEager {
		row("CUDA graphs", "off (--enforce-eager): every step pays the per-layer host dispatch")
	}
	row("parallelism", fmt.Sprintf("tp=%d pp=%d dp=%d ep=%d", r.Server.TP, r.Server.PP, r.Server.DP, r.Server.EP))
	row("dtypes", fmt.Sprintf("weights %s, KV %s, GEMMs in %s", r.Server.WeightDtype, r.Server.KVDtype, r.Server.ComputeDtype))
	if r.Nodes > 1 {
		row("topology", fmt.Sprintf("%d nodes of %d GPUs", r.Nodes, r.GPUsPerNode))
		for _, c := range r.Crossings {
			row("crosses nodes", c)
		}
	}
	sched := fmt.Sprintf("max_num_seqs %d, max_num_batched_tokens %d, max_model_len %d, gpu_memory_utilization %.2f", r.Server.MaxNumSeqs, r.Server.MaxNumBatchedTokens, r.Server.MaxModelLen, r.Server.MemoryFraction)
	if r.Server.NumSchedulerSteps > 1 {
		sched += fmt.Sprintf(", num_scheduler_steps %d", r.Server.NumSchedulerSteps)
	}
	row("scheduler", sched)
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
	if r.Technique != nil {
		// The report is the deployment without the technique; the technique's effect is in its own table.
		sec("Results of the baseline, the same deployment without the technique (its effect: the table below)")
	} else {
		sec("Results")
	}
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
	if r.Client.OutputLen == 1 && r.OutputTokSPerUser == 0 {
		row("per-user speed", "- (one output token: no streaming interval)")
	} else if r.Overloaded && (!r.OutputTokSPerUser.Known() || r.OutputTokSPerUser == 0) {
		// output/(E2E − TTFT) of two unbounded times: not a speed of 0.
		row("per-user speed", "- (overloaded: no steady state)")
	} else {
		row("per-user speed", fmt.Sprintf("%s tok/s", units.Sig(float64(r.OutputTokSPerUser))))
	}
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
		if r.PriceOffering == "purchase" {
			// A purchase is not a rental, and its amortised price leaves power out (the
			// price source says so): it read "rental $0.68 per hour (purchase)".
			rent = strings.TrimSuffix(rent, " (purchase)")
			row("GPU cost", fmt.Sprintf("purchase %s, list price amortised, power not in it; power %s, paid on top of a purchase", rent, pw))
		} else {
			row("GPU cost", fmt.Sprintf("rental %s; power %s (included in rental prices)", rent, pw))
		}
	}
	flush()
	if r.Technique != nil {
		WriteTechniqueText(w, r.Technique, markdown)
		flush()
	}
	if len(r.Intervals) > 0 {
		sec("80% prediction intervals (from out-of-sample residuals of the validation data)")
		ks := slices.Sorted(maps.Keys(r.Intervals))
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
		row(p.Name, paramValue(p, true)+" — "+p.Source)
	}
	flush()
	if markdown && len(r.Warnings) > 0 {
		// Their own section: a line right after a table is one more row of it in GitHub
		// Markdown, so the warnings rendered as rows of the parameter table.
		fmt.Fprint(w, "\n## Warnings\n\n")
		for _, s := range r.Warnings {
			fmt.Fprintf(w, "- %s\n", s)
		}
		return
	}
	for _, s := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", s)
	}
}

// WriteEstimateCSV prints the document as one CSV header and one row (latency
// percentiles in ms, rates in tok/s and req/s, costs in USD; enforce_eager true when CUDA
// graphs were off, as server_config.enforce_eager in JSON); it returns the write error.
func WriteEstimateCSV(w io.Writer, r Estimate) error {
	cw := csv.NewWriter(w)
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	p := func(v *float64) string {
		if v == nil {
			return ""
		}
		return f(*v)
	}
	head := []string{"model", "gpu", "num_gpus", "tp", "pp", "dp", "engine", "weight_dtype", "kv_dtype", "enforce_eager", "workload", "input_len", "output_len", "concurrency", "request_rate", "batch_size",
		"output_tok_s", "total_tok_s", "request_per_s", "output_tok_s_per_gpu"}
	vals := []string{r.Model.ID, r.GPU.ID, strconv.Itoa(r.GPU.NumGPUs), strconv.Itoa(r.Server.TP), strconv.Itoa(r.Server.PP), strconv.Itoa(r.Server.DP), r.Server.Engine, r.Server.WeightDtype, r.Server.KVDtype, strconv.FormatBool(r.Server.EnforceEager),
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

// multiStep is n scheduler steps as ServerInfo.NumSchedulerSteps keeps them: 0 when every
// step is scheduled (n ≤ 1).
func multiStep(n int) int {
	if n <= 1 {
		return 0
	}
	return n
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
func addIntervals(r *Estimate, d *estimator.Deployment, w estimator.Workload, loadFraction float64) {
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
	if w.Kind == estimator.Rate {
		q.Load = loadFraction
	}
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

// ExplainTTFT attaches the closed form's TTFT breakdown at the same load
// (estimator.TTFTBreakdown); when the estimate itself was simulated the note says which
// mean the parts add up to.
func (r *Estimate) ExplainTTFT(d *estimator.Deployment, w estimator.Workload) {
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

// WriteTechniqueText renders a technique comparison as one table (metric, baseline, with
// the technique, relative change), then its details.
// mdCell escapes a Markdown table cell: a "|" in the text (an interval's cell key
// "*|throughput|*|*|*") ended the cell and broke the table into extra columns.
func mdCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func WriteTechniqueText(w io.Writer, t *estimator.TechniqueComparison, markdown bool) {
	if markdown {
		fmt.Fprintf(w, "\n## Technique beside the baseline\n\n%s\n\n| metric | baseline | with technique | change |\n|---|---|---|---|\n", t.Technique)
	} else {
		fmt.Fprintf(w, "\nTechnique beside the baseline (same deployment without it)\n  %s\n", t.Technique)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if !markdown {
		fmt.Fprintf(tw, "  metric\tbaseline\twith technique\tchange\n")
	}
	row := func(name string, a, b float64) {
		ch := "—"
		if a != 0 && !math.IsInf(a, 0) && !math.IsInf(b, 0) && !math.IsNaN(a) && !math.IsNaN(b) {
			ch = fmt.Sprintf("%+.1f%%", 100*(b-a)/a)
		}
		f := func(v float64) string {
			if math.IsInf(v, 1) {
				return "unbounded"
			}
			if math.IsNaN(v) {
				return "-" // not predicted (per-user speed when overloaded)
			}
			return units.Sig(v)
		}
		if markdown {
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", mdCell(name), f(a), f(b), ch)
		} else {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", name, f(a), f(b), ch)
		}
	}
	a, b := t.Baseline, t.With
	row("GPUs", float64(a.NumGPUs), float64(b.NumGPUs))
	row("TTFT mean (ms)", float64(a.TTFTMs), float64(b.TTFTMs))
	row("TPOT mean (ms)", float64(a.TPOTMs), float64(b.TPOTMs))
	row("E2E mean (ms)", float64(a.E2EMs), float64(b.E2EMs))
	row("output throughput (tok/s)", a.OutputTokS, b.OutputTokS)
	row("output tok/s per GPU", a.OutputTokSPerGPU, b.OutputTokSPerGPU)
	row("per-user speed (tok/s)", float64(a.OutputTokSPerUser), float64(b.OutputTokSPerUser))
	row("max sustainable rate (req/s)", a.MaxRequestRate, b.MaxRequestRate)
	row("KV cache (tokens, all replicas)", float64(a.KVCacheTokens), float64(b.KVCacheTokens))
	row("weights per GPU (GB)", a.WeightsBytes/1e9, b.WeightsBytes/1e9)
	if a.CostOut != nil && b.CostOut != nil {
		row("cost per 1M output tokens (USD)", *a.CostOut, *b.CostOut)
	}
	tw.Flush()
	for _, d := range t.Details {
		if markdown {
			fmt.Fprintf(w, "\n- %s", d)
		} else {
			fmt.Fprintf(w, "  %s\n", d)
		}
	}
	if markdown && len(t.Details) > 0 {
		fmt.Fprintln(w)
	}
}
