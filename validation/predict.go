package validation

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"roofline/estimator"
	"roofline/hardware"
	"roofline/models"
)

// Options says how Predict turns rows into predictions.
type Options struct {
	// LoadModel resolves a row's model (a catalogue id, a Hugging Face id or a path to a
	// config.json). Required.
	LoadModel func(ctx context.Context, name string) (*models.Model, error)
	// Catalogue looks up the rows' GPUs. Required.
	Catalogue *hardware.Catalogue
	// Profile, when set, replaces every row's engine profile.
	Profile *estimator.Profile
	// ClosedForm predicts with the closed form (Deployment.Serve) instead of the seeded
	// simulation (Deployment.Simulate, seed 1).
	ClosedForm bool
	// Workers bounds the predictions run at once (default 4).
	Workers int
	// Progress, when set, is called after each configuration is predicted with the
	// number done and the total (configurations, not rows), one call at a time.
	Progress func(done, total int)
}

var stageRe = regexp.MustCompile(`^(.*)-s\d+-[a-z0-9_]+$`)

// Predict predicts every row, sharing one prediction between rows of the same configuration
// (same deployment and workload). A row that cannot be predicted keeps a nil Predicted and
// says why in Reason; Predict itself never fails. The per-token rows of a configuration whose
// means contradict each other (CheckMeans) are withheld: Reason starts with WithheldPrefix. Ids of the form "<run>-sN-<metric>" mark
// load stage N of a serving run, aggregated by Summarise.
func Predict(ctx context.Context, rows []Row, o Options) []Result {
	out := make([]Result, len(rows))
	groups := map[string][]int{}
	var order []string
	withheld := map[int]string{}
	for _, c := range CheckMeans(rows) {
		for _, i := range c.Withheld {
			withheld[i] = c.Reason()
		}
	}
	for i, r := range rows {
		ks := configKey(r)
		if _, ok := groups[ks]; !ok {
			order = append(order, ks)
		}
		groups[ks] = append(groups[ks], i)
		out[i] = Result{ID: r.ID, Source: r.Source, Model: r.Model, GPU: r.GPU, Engine: r.Engine, EngineVersion: r.EngineVersion, Workload: r.Workload, Metric: r.Metric, Measured: r.Value, weight: float64(max(r.NumRequests, 1))}
		out[i].Technique, out[i].EnforceEager = r.Tech.Name(), r.EnforceEager
		if out[i].Technique != "" {
			out[i].pairKey = pairKey(r)
		}
		if r.Workload == "offline" || r.Workload == "static" || r.Workload == "concurrency" || r.BatchSize > 0 || r.Concurrency > 0 {
			out[i].batch = max(r.BatchSize, r.Concurrency)
		}
		if m := stageRe.FindStringSubmatch(r.ID); m != nil {
			out[i].run = m[1] + "|" + r.Metric
		}
	}
	var mu sync.Mutex
	done := 0
	jobs := make(chan string)
	var wg sync.WaitGroup
	workers := o.Workers
	if workers <= 0 {
		workers = 4
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ks := range jobs {
				idx := groups[ks]
				s, method, err := predictOne(ctx, rows[idx[0]], o)
				mu.Lock()
				for _, i := range idx {
					r := &out[i]
					r.Method = method
					r.Profile, r.ModelClass, r.Vendor, r.GPUID = s.Profile, s.ModelClass, s.Vendor, s.GPUID
					r.Warnings = s.Support
					if err != nil {
						r.Reason = err.Error()
						continue
					}
					if why, ok := withheld[i]; ok {
						r.Reason = why
						continue
					}
					if sv := s.Serving; rows[i].Workload == "rate" && sv.MaxRequestRate > 0 {
						r.Load = estimator.LoadFraction(rows[i].RequestRate, sv)
					}
					if s.Latency != nil && isLatencyMetric(rows[i].Metric) {
						// Read at the edge (atEdge): its residual belongs to the load it was predicted at.
						r.Load = estimator.LoadFraction(0, *s.Latency)
						r.EdgeRate = s.EdgeRate
					} else if s.EdgeNote != "" && isLatencyMetric(rows[i].Metric) {
						r.Note = s.EdgeNote
					}
					v, ok, why := MetricValue(s, rows[i])
					if !ok {
						r.Reason = why
						continue
					}
					r.Predicted = &v
					if r.Measured != 0 {
						sg := 100 * (v - r.Measured) / r.Measured
						a := math.Abs(sg)
						r.ErrPct, r.APEPct = &sg, &a
					}
				}
				done++
				if o.Progress != nil {
					o.Progress(done, len(order))
				}
				mu.Unlock()
			}
		}()
	}
	for _, ks := range order {
		jobs <- ks
	}
	close(jobs)
	wg.Wait()
	return out
}

// EngineName is the --engine value a row predicts with: ENGINE, or ENGINE@VERSION when the
// row names the release.
func EngineName(r Row) string {
	if r.EngineVersion == "" || r.Engine == "" {
		return r.Engine
	}
	return r.Engine + "@" + r.EngineVersion
}

// Prediction is one configuration's predicted serving metrics and its GPU count.
type Prediction struct {
	Serving estimator.Serving
	// Latency, when not nil, is what the row's latency metrics (TTFT, TPOT, ITL, E2E) are read
	// from instead of Serving: for an MLPerf Server/Interactive row, the serving metrics at the
	// deployment's own edge rate (atEdge). Throughput metrics always come from Serving.
	Latency *estimator.Serving
	// EdgeRate is the request rate (req/s) Latency was predicted at; 0 when Latency is nil.
	EdgeRate float64
	// EdgeNote says why a row with MLPerf bounds (tpot_limit_ms) has no edge: its latency
	// rows carry it in their note. Empty when Latency is set or the row has no bounds.
	EdgeNote string
	NumGPUs  int
	// Disagg holds the parts of a disaggregated fleet's prediction (KV transfer…); nil otherwise.
	Disagg *estimator.DisaggServing
	// Profile names the engine profile used (for NAME@VERSION, the one whose range holds VERSION).
	Profile string
	// ModelClass is "moe" or "dense"; Vendor the GPU's vendor (lower case).
	ModelClass, Vendor string
	// GPUID is the catalogue id of the row's GPU.
	GPUID string
	// Lanes is the number of independent schedulers (DP replicas × PP micro-batches) that
	// Serving.Batch describes one of; 0 is read as 1.
	Lanes int
	// Support holds the deployment's engine-support warnings (estimator.IsSupport: a release
	// that may predate the GPU or lack the layout); the prediction stands beside them.
	Support []string
}

func predictOne(ctx context.Context, r Row, o Options) (Prediction, string, error) {
	model := r.Model
	if strings.HasSuffix(model, ".json") && !filepath.IsAbs(model) {
		model = filepath.Join(filepath.Dir(r.File), model)
	}
	m, err := o.LoadModel(ctx, model)
	if err != nil {
		return Prediction{}, "", err
	}
	g, err := o.Catalogue.Lookup(r.GPU)
	if err != nil {
		return Prediction{}, "", err
	}
	p := o.Profile
	if p == nil {
		p, _, err = estimator.Engine(EngineName(r))
		if err != nil {
			return Prediction{}, "", err
		}
	}
	mc := "dense"
	if m.MoE != nil {
		mc = "moe"
	}
	// What a row is, known before it is predicted: a row refused from here on (a context
	// longer than the model's, a layout the engine refuses) still counts under its release's
	// profile, GPU and model class in the report.
	id := Prediction{Profile: p.Name, ModelClass: mc, Vendor: strings.ToLower(g.Vendor), GPUID: g.ID}
	tp, pp, dp := r.TP, max(r.PP, 1), max(r.DP, 1)
	if tp == 0 {
		tp = max(1, r.NumGPUs/(pp*dp))
	}
	kv := r.KVDtype
	spec := estimator.Spec{Model: m, GPU: g, TP: tp, PP: pp, DP: dp, EP: r.EP, WeightDtype: r.WeightDtype, KVDtype: kv, Profile: p,
		MemoryFraction: r.GPUMemUtil, MaxNumSeqs: r.MaxNumSeqs, MaxNumBatchedTokens: r.MaxNumBatchedTokens,
		MaxModelLen: MaxModelLen(m.MaxContextLen, r.InputLen+r.OutputLen), SchedulerSteps: r.NumSchedulerSteps, EnforceEager: r.EnforceEager}
	if err := applyTechnique(&spec, r, o); err != nil {
		return id, "", err
	}
	var d *estimator.Deployment
	if !r.Tech.Disaggregated() {
		if d, err = estimator.New(spec); err != nil {
			return id, "", err
		}
	}
	if r.TPOTLimitMs > 0 && d != nil {
		// The harness sized the engine's per-step token budget so a full step stays within
		// the scenario's TPOT bound (see budgetForStep).
		spec := d.Spec
		spec.MaxNumBatchedTokens = budgetForStep(d, r.TPOTLimitMs/1e3)
		if d2, err := estimator.New(spec); err == nil {
			d = d2
		}
	}
	lanes := 1
	var support []string
	if d != nil {
		lanes = d.Lanes()
		for _, w := range d.Warnings() {
			if estimator.IsSupport(w) {
				support = append(support, w.Error())
			}
		}
	}
	w := estimator.Workload{InputLen: r.InputLen, OutputLen: r.OutputLen, PrefixLen: r.PrefixLen, Concurrency: r.Concurrency, RequestRate: r.RequestRate, BatchSize: r.BatchSize, NumRequests: r.NumRequests}
	switch r.Workload {
	case "static":
		w.Kind = estimator.Static
		if w.BatchSize == 0 {
			w.BatchSize = max(r.Concurrency, 1)
		}
	case "concurrency":
		w.Kind = estimator.Concurrency
	case "rate":
		w.Kind = estimator.Rate
		if math.IsInf(w.RequestRate, 1) {
			w.Kind = estimator.Offline
		}
	case "offline":
		w.Kind = estimator.Offline
		if w.NumRequests == 0 {
			// Not stated (trtllm-bench, MLPerf Offline): enough requests for every DP
			// replica to fill its batch and reach the steady state.
			w.NumRequests = max(r.Concurrency, 1000*lanes)
		}
	default:
		return id, "", fmt.Errorf("workload %q: allowed values are static, concurrency, rate, offline", r.Workload)
	}
	if lim := 3000 * lanes; w.Kind != estimator.Static && w.NumRequests > lim {
		w.NumRequests = lim // 3000 per replica: steady state is reached long before; keeps the report fast
	}
	if r.Tech.Name() != "" && r.Tech.Name() != "baseline" {
		pr, method, err := predictTechnique(spec, d, r, w)
		pr.Support = support
		return pr, method, err
	}
	var s estimator.Serving
	method := "closed-form"
	if o.ClosedForm || r.Tech.Name() == "baseline" {
		s, err = d.Serve(w)
	} else {
		method = "simulation"
		s, err = d.Simulate(w, 1)
	}
	var latency *estimator.Serving
	var edgeRate float64
	var edgeNote string
	if err == nil && w.Kind == estimator.Rate && r.TPOTLimitMs > 0 {
		latency, edgeRate, edgeNote = atEdge(d, w, r, o.ClosedForm)
	}
	// A row without its lengths is kept (the measurement stands) but cannot be predicted:
	// the reason names the row's column, not the estimate flag the workload check names.
	if err != nil && r.InputLen < 1 {
		err = fmt.Errorf("input_len empty or 0: the row gives no prompt length, so it cannot be predicted")
	} else if err != nil && r.OutputLen < 1 {
		err = fmt.Errorf("output_len empty or 0: the row gives no output length, so it cannot be predicted")
	}
	out := id
	out.Serving, out.Latency, out.EdgeRate, out.EdgeNote = s, latency, edgeRate, edgeNote
	out.NumGPUs, out.Lanes, out.Support = d.NumGPUs, d.Lanes(), support
	return out, method, err
}

// MaxModelLen is the engine's max_model_len for a validation row, which rows do not record:
// the request's own length rounded up to 1024 tokens (benchmarks of large models on small
// cards lower max_model_len until the model fits; the KV capacity does not depend on it).
func MaxModelLen(ctxLen, need int) int {
	l := (need + 1023) / 1024 * 1024
	if ctxLen > 0 && l > ctxLen && need <= ctxLen {
		l = ctxLen
	}
	return max(l, need)
}

// MetricValue picks a row's metric out of a prediction: the value in the metric's unit, or
// false and the reason (unknown metric, overloaded deployment, metric not applicable).
func MetricValue(p Prediction, r Row) (float64, bool, string) {
	s := p.Serving
	dist := func(d estimator.Dist, q string) (float64, bool) {
		switch q {
		case "mean":
			return d.Mean, true
		case "median":
			return d.Median, true
		case "p90":
			return d.P90, true
		case "p95":
			return d.P95, true
		case "p99":
			return d.P99, true
		}
		return 0, false
	}
	parts := strings.Split(r.Metric, "_ms_")
	if isLatencyMetric(r.Metric) {
		if p.Latency != nil {
			s = *p.Latency
		}
		var d estimator.Dist
		switch parts[0] {
		case "ttft":
			d = s.TTFT
		case "itl":
			d = s.ITL
		case "tpot":
			d = s.TPOT
		case "e2e":
			d = s.E2E
		default:
			return 0, false, "unknown metric " + r.Metric
		}
		v, ok := dist(d, parts[1])
		if !ok {
			return 0, false, "unknown metric " + r.Metric
		}
		if math.IsInf(v, 1) || s.Overloaded {
			return 0, false, fmt.Sprintf("overloaded: arrivals exceed the sustainable %.3g req/s, so latency grows without bound", s.MaxRequestRate)
		}
		return v, true, ""
	}
	switch r.Metric {
	case "output_tok_s_per_user":
		if !s.OutputTokSPerUser.Known() {
			return 0, false, fmt.Sprintf("overloaded: arrivals exceed the sustainable %.3g req/s, so there is no steady streaming speed", s.MaxRequestRate)
		}
		if s.OutputTokSPerUser == 0 {
			return 0, false, "output_tok_s_per_user needs more than one output token"
		}
		return float64(s.OutputTokSPerUser), true, ""
	case "kv_transfer_ms_mean", "kv_transfer_bw_GBps":
		if p.Disagg == nil {
			return 0, false, r.Metric + " needs a disaggregated row (prefill_replicas, decode_replicas)"
		}
		if r.Metric == "kv_transfer_ms_mean" {
			return p.Disagg.KVTransferMs, true, ""
		}
		return p.Disagg.KVTransferBytes / (p.Disagg.KVTransferMs * 1e-3) / 1e9, true, ""
	case "output_tok_s":
		return s.OutputTokS, true, ""
	case "output_tok_s_per_gpu":
		return s.OutputTokS / float64(p.NumGPUs), true, ""
	case "decode_tok_s_per_gpu":
		// Decode steps alone (SGLang's per-rank "gen throughput" log line): the running
		// sequences of every lane over the decode time per output token.
		if s.DecodeStepMs <= 0 || s.Batch <= 0 {
			return 0, false, "decode_tok_s_per_gpu needs a running batch with decode steps"
		}
		return s.Batch * float64(max(p.Lanes, 1)) / (s.DecodeStepMs * 1e-3) / float64(p.NumGPUs), true, ""
	case "total_tok_s":
		return s.TotalTokS, true, ""
	case "request_per_s":
		return s.RequestPerS, true, ""
	case "batch_elapsed_s":
		if s.BatchElapsedS == 0 {
			return 0, false, "batch_elapsed_s needs a static or offline workload"
		}
		return s.BatchElapsedS, true, ""
	}
	return 0, false, "unknown metric " + r.Metric
}

// isLatencyMetric is true for the TTFT, ITL, TPOT and E2E metrics (ttft_ms_mean…): the ones a
// Prediction's Latency serving answers.
func isLatencyMetric(metric string) bool {
	return len(strings.Split(metric, "_ms_")) == 2 && !strings.HasPrefix(metric, "kv_transfer")
}

// atEdge is the serving at which an MLPerf Server or Interactive row's latencies are predicted
// and its request rate (req/s), or nil to read them at the row's own rate.
//
// MLPerf reports for these scenarios the highest LoadGen target QPS whose run meets the
// scenario's p99 bounds (MLPerf Inference rules: a Server run is valid only if its p99 TTFT
// and p99 TPOT stay within the bounds; submitters raise target_qps until the next step up
// fails). Such a run sits at the edge of its system's bounds, and its latencies are those of
// that edge: in 22 of the 32 MLPerf v5.1 Server/Interactive runs of modern.csv the nearer of
// the two measured p99s is at 77–99% of its bound (17–99% over all 32). Near the edge latency
// grows as a step's fixed cost ÷ (1 − ρ), so reading it at the measured rate turns a few per
// cent of error in the predicted capacity into a factor of several in TTFT and TPOT. The
// prediction instead takes the deployment's own edge: λ*, the largest rate whose p99 TPOT and
// p99 TTFT meet the row's tpot_limit_ms and ttft_limit_ms, found by bisection (edgeBisections
// halvings) over (0, edgeMaxLoad × the predicted capacity], each rate simulated with
// edgeRequests(ρ) requests per replica (the closed form when closedForm, whose TPOT has no
// spread: p99 = mean), and the latencies there. When the bounds hold up to edgeMaxLoad, the
// latencies are read there; when they fail at every rate tried (a deployment that cannot meet
// them at all), the row keeps its own rate (nil) and note says so. No constant is fitted to
// measurements: edgeMaxLoad, edgeRequests and edgeBisections are numerical choices (see there).
func atEdge(d *estimator.Deployment, w estimator.Workload, r Row, closedForm bool) (*estimator.Serving, float64, string) {
	probe := w
	probe.RequestRate = 1
	cf, err := d.Serve(probe)
	if err != nil || !(cf.MaxRequestRate > 0) {
		return nil, 0, "no sustainable rate predicted, so no edge: latencies read at the row's own rate"
	}
	never := fmt.Sprintf("the predicted deployment meets the MLPerf bounds (p99 TPOT ≤ %g ms", r.TPOTLimitMs)
	if r.TTFTLimitMs > 0 {
		never += fmt.Sprintf(", p99 TTFT ≤ %g ms", r.TTFTLimitMs)
	}
	never += fmt.Sprintf(") at no rate up to %g%% of its capacity: latencies read at the row's own rate", 100*edgeMaxLoad)
	meets := func(s estimator.Serving) bool {
		return s.TPOT.P99 <= r.TPOTLimitMs && (r.TTFTLimitMs <= 0 || s.TTFT.P99 <= r.TTFTLimitMs)
	}
	at := func(lam float64) (estimator.Serving, bool) {
		w.RequestRate = lam
		if closedForm {
			s, err := d.Serve(w)
			return s, err == nil
		}
		w.NumRequests = edgeRequests(lam/cf.MaxRequestRate) * d.Lanes()
		s, err := d.Simulate(w, 1)
		return s, err == nil
	}
	hi := edgeMaxLoad * cf.MaxRequestRate
	if s, ok := at(hi); !ok {
		return nil, 0, fmt.Sprintf("no simulation at %g%% of the predicted capacity, so no edge: latencies read at the row's own rate", 100*edgeMaxLoad)
	} else if meets(s) {
		return &s, hi, ""
	}
	lo, found := 0.0, false
	var best estimator.Serving
	for i := 0; i < edgeBisections; i++ {
		mid := (lo + hi) / 2
		if s, ok := at(mid); ok && meets(s) {
			lo, best, found = mid, s, true
		} else {
			hi = mid
		}
	}
	if !found {
		return nil, 0, never
	}
	return &best, lo, ""
}

// edgeRequests is the simulated requests per replica at load ρ (offered rate ÷ predicted
// capacity) in atEdge's search: 1.2/(1 − ρ)², 20% beyond a queue's relaxation time in arrivals
// (heavy-traffic limit), and at least the simulation's default of 1000 for an open loop. MLPerf
// runs last at least 600 s (LoadGen's minimum duration), long enough to relax at their loads.
func edgeRequests(rho float64) int {
	rho = min(rho, edgeMaxLoad)
	return max(1000, int(math.Ceil(1.2/((1-rho)*(1-rho)))))
}

// Numerical settings of atEdge's search.
const (
	// edgeMaxLoad is the highest load (fraction of the predicted capacity) the edge is searched
	// up to: a queue relaxes to its steady state over ~1/(1 − ρ)² arrivals (heavy-traffic
	// limit), 2,500 at 0.98 but 10,000 at 0.99, so above it a run of edgeRequests(0.98) = 3000
	// requests per replica would report p99s set by its own length.
	edgeMaxLoad = 0.98
	// edgeBisections halvings of (0, edgeMaxLoad × capacity] place the edge within 0.1% of the
	// capacity (0.98 / 2¹⁰).
	edgeBisections = 10
)

// budgetForStep is the per-step token budget (max_num_batched_tokens, a multiple of 256
// from 256 to 65536) of an engine tuned for a TPOT bound: the largest whose full step — one
// prefill chunk of that many tokens — takes at most limit seconds. MLPerf Server and
// Interactive harnesses are tuned this way: the submitter raises max_num_tokens and the
// offered load until the p99 TPOT nears the scenario's bound, so every step that carries
// prefill work is about as long as the bound allows.
func budgetForStep(d *estimator.Deployment, limit float64) int {
	best := 256
	for b := 256; b <= 65536; b += 256 {
		if d.StepSeconds(&estimator.Batch{Prefill: []estimator.Chunk{{New: b}}}) > limit {
			break
		}
		best = b
	}
	return best
}
