package validation

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

// Result is one row of the accuracy report: a measured value, its prediction and the error.
// Predicted, ErrPct and APEPct are nil when the row could not be predicted (Reason says why).
type Result struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	Model  string `json:"model"`
	GPU    string `json:"gpu"`
	Engine string `json:"engine"`
	// EngineVersion is the row's engine_version (empty: the newest profile); Profile names
	// the engine profile the prediction used.
	EngineVersion string `json:"engine_version"`
	Profile       string `json:"profile,omitempty"`
	// Workload is the row's workload kind; ModelClass "dense" or "moe"; Vendor the GPU vendor.
	Workload   string `json:"workload"`
	ModelClass string `json:"model_class,omitempty"`
	Vendor     string `json:"gpu_vendor,omitempty"`
	GPUID      string `json:"gpu_id,omitempty"`
	// Load is the offered request rate ÷ the predicted sustainable rate of an open-loop row
	// (workload rate; 0 otherwise: a closed loop's batch is its concurrency, so its latency
	// does not diverge near capacity): WorkloadClass puts rows at or above NearCapacityLoad
	// in their own interval cells.
	Load float64 `json:"load_fraction,omitempty"`
	// EdgeRate is, for a latency row of an MLPerf Server/Interactive run (tpot_limit_ms set),
	// the request rate (req/s, whole deployment) its prediction was read at: the deployment's
	// own edge (see Predict); 0 when read at the row's own rate.
	EdgeRate float64 `json:"edge_request_rate,omitempty"`
	// IntervalLo and IntervalHi bound the prediction at IntervalLevel (see Intervals).
	IntervalLo *float64 `json:"interval_lo"`
	IntervalHi *float64 `json:"interval_hi"`
	Metric     string   `json:"metric"`
	Measured   float64  `json:"measured"`
	Predicted  *float64 `json:"predicted"`
	ErrPct     *float64 `json:"error_pct"` // signed: (predicted − measured)/measured
	APEPct     *float64 `json:"ape_pct"`
	InSample   bool     `json:"in_sample"`
	// EnforceEager: the row's run had CUDA graphs off (enforce_eager column); omitted when false.
	EnforceEager bool   `json:"enforce_eager,omitempty"`
	Reason       string `json:"reason,omitempty"`
	// Note qualifies a predicted row: how its prediction departs from what the row states
	// (an MLPerf row whose bounds the deployment never meets is read at its own rate).
	Note string `json:"note,omitempty"`
	// Warnings are the engine-support warnings of the row's deployment (a release that may
	// predate its GPU, its model or its layout: estimator.ReleaseGPUWarning,
	// ReleaseModelWarning, LayoutWarning); the row is predicted beside them. Omitted when
	// there are none.
	Warnings []string `json:"warnings,omitempty"`
	Method   string   `json:"method,omitempty"`
	// Technique is the row's technique (speculative, disaggregation, offload, multi-node,
	// baseline) when its file has the technique columns.
	Technique string `json:"technique,omitempty"`
	run       string
	weight    float64
	pairKey   string // rows of one source, deployment, workload and metric (technique.go)
	batch     int    // static batch size or closed-loop concurrency; 0 when the row has neither
}

// Group summarises the APE (absolute percentage error, %) of a set of rows. The statistics
// are nil (JSON null, "—" in tables) when no row of the group was predicted: an error of a
// group without predictions is unknown, not 0.
type Group struct {
	Key       string   `json:"key"`
	Rows      int      `json:"rows"`
	Predicted int      `json:"predicted"`
	MedianAPE *float64 `json:"median_ape_pct"`
	MeanAPE   *float64 `json:"mean_ape_pct"`
	P90APE    *float64 `json:"p90_ape_pct"`
	Bias      *float64 `json:"bias_pct"` // median signed error
}

// Summary is the accuracy report's summary: overall and grouped APE.
type Summary struct {
	Overall  Group   `json:"overall"`
	BySource []Group `json:"by_source"`
	ByMetric []Group `json:"by_metric"`
	ByGPU    []Group `json:"by_gpu"`
	ByEngine []Group `json:"by_engine"`
	// ByModel groups rows by the model id (the per-model accuracy targets).
	ByModel []Group `json:"by_model"`
	// ByEngineVersion groups rows by engine release and the profile that predicted them,
	// e.g. "vllm@0.5.4 [vllm-0.5]"; rows without a release read "vllm@newest [vllm]".
	ByEngineVersion []Group `json:"by_engine_version"`
	// ByRunMetric aggregates serving runs with several load stages (ids "…-sN-metric"):
	// measured and predicted are request-weighted over the stages first.
	ByRunMetric []Group `json:"by_run_metric"`
	OutOfSample Group   `json:"out_of_sample"`
	// OutOfSampleBySource and OutOfSampleByModel are the held-out part of every source and
	// model some of whose rows are in-sample (a constant was chosen looking at them): the
	// figure those rows cannot flatter. Empty when no row is in-sample.
	OutOfSampleBySource []Group `json:"out_of_sample_by_source"`
	OutOfSampleByModel  []Group `json:"out_of_sample_by_model"`
	// ByTechnique and GainSigns appear when rows carry technique columns (technique.go).
	ByTechnique []Group    `json:"by_technique,omitempty"`
	GainSigns   *GainSigns `json:"gain_signs,omitempty"`
	// SmallBatchDecode groups decode-speed rows (ITL and TPOT) at a static batch size or
	// concurrency ≤ 8 by engine and batch: where fixed per-layer and per-step costs and
	// small-M GEMM efficiency decide the step time.
	SmallBatchDecode []Group `json:"small_batch_decode"`
	// InconsistentMeans lists, once per configuration, why its per-token rows were withheld
	// (CheckMeans: measured E2E ≠ TTFT + TPOT·(output_len − 1)).
	InconsistentMeans []string `json:"inconsistent_means"`
}

// group summarises rows under key.
func group(key string, rows []Result) Group {
	g := Group{Key: key, Rows: len(rows)}
	var apes, errs []float64
	for _, r := range rows {
		if r.APEPct != nil {
			apes = append(apes, *r.APEPct)
			errs = append(errs, *r.ErrPct)
		}
	}
	g.Predicted = len(apes)
	if len(apes) == 0 {
		return g
	}
	sort.Float64s(apes)
	sort.Float64s(errs)
	s := 0.0
	for _, a := range apes {
		s += a
	}
	g.MeanAPE = fptr(s / float64(len(apes)))
	g.MedianAPE = fptr(estimator.Percentile(apes, 0.5))
	g.P90APE = fptr(estimator.Percentile(apes, 0.9))
	g.Bias = fptr(estimator.Percentile(errs, 0.5))
	return g
}

func groupBy(rows []Result, key func(Result) string) []Group {
	m := map[string][]Result{}
	for _, r := range rows {
		m[key(r)] = append(m[key(r)], r)
	}
	var out []Group
	for k, rs := range m {
		out = append(out, group(k, rs))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// heldOut groups the out-of-sample rows of every key (source, model) that has in-sample rows
// too; a key with none is already in full in its by-key section.
func heldOut(rows []Result, key func(Result) string) []Group {
	tuned := map[string]bool{}
	for _, r := range rows {
		if r.InSample {
			tuned[key(r)] = true
		}
	}
	var oos []Result
	for _, r := range rows {
		if tuned[key(r)] && !r.InSample {
			oos = append(oos, r)
		}
	}
	// [] in JSON when nothing is in-sample; a key whose every row is in-sample is listed
	// with nothing held out.
	out := append([]Group{}, groupBy(oos, key)...)
	for k := range tuned {
		found := false
		for _, g := range out {
			found = found || g.Key == k
		}
		if !found {
			out = append(out, Group{Key: k})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Summarise groups results by source, metric, GPU and engine, and aggregates the load
// stages of each serving run (request-weighted) before computing its APE.
func Summarise(rows []Result) Summary {
	s := Summary{Overall: group("all", rows)}
	s.BySource = groupBy(rows, func(r Result) string { return sourceKey(r) })
	s.ByMetric = groupBy(rows, func(r Result) string { return r.Metric })
	s.ByGPU = groupBy(rows, func(r Result) string { return r.GPU })
	s.ByEngine = groupBy(rows, func(r Result) string { return r.Engine })
	s.ByModel = groupBy(rows, func(r Result) string { return r.Model })
	s.ByEngineVersion = groupBy(rows, engineVersionKey)
	var oos []Result
	for _, r := range rows {
		if !r.InSample {
			oos = append(oos, r)
		}
	}
	s.OutOfSample = group("out-of-sample", oos)
	s.OutOfSampleBySource = heldOut(rows, sourceKey)
	s.OutOfSampleByModel = heldOut(rows, func(r Result) string { return r.Model })
	s.InconsistentMeans = []string{}
	seen := map[string]bool{}
	for _, r := range rows {
		if strings.HasPrefix(r.Reason, WithheldPrefix) && !seen[r.Reason] {
			seen[r.Reason] = true
			s.InconsistentMeans = append(s.InconsistentMeans, strings.TrimPrefix(r.Reason, WithheldPrefix))
		}
	}
	sort.Strings(s.InconsistentMeans)
	var small []Result
	for _, r := range rows {
		if r.batch >= 1 && r.batch <= 8 && (strings.HasPrefix(r.Metric, "itl_") || strings.HasPrefix(r.Metric, "tpot_")) {
			small = append(small, r)
		}
	}
	s.SmallBatchDecode = groupBy(small, func(r Result) string { return fmt.Sprintf("%s, batch %d", r.Engine, r.batch) })
	// Runs: request-weighted measured and predicted over stages, then APE per run.
	type agg struct {
		m, p, w float64
		ok      bool
		metric  string
	}
	runs := map[string]*agg{}
	for _, r := range rows {
		if r.run == "" {
			continue
		}
		a := runs[r.run]
		if a == nil {
			a = &agg{ok: true, metric: r.Metric}
			runs[r.run] = a
		}
		if r.Predicted == nil {
			a.ok = false
			continue
		}
		a.m += r.Measured * r.weight
		a.p += *r.Predicted * r.weight
		a.w += r.weight
	}
	var runRows []Result
	for k, a := range runs {
		rr := Result{ID: k, Metric: a.metric}
		if a.ok && a.w > 0 && a.m != 0 {
			m, p := a.m/a.w, a.p/a.w
			sg := 100 * (p - m) / m
			ap := math.Abs(sg)
			rr.Measured, rr.Predicted, rr.ErrPct, rr.APEPct = m, &p, &sg, &ap
		}
		runRows = append(runRows, rr)
	}
	s.ByRunMetric = groupBy(runRows, func(r Result) string { return r.Metric })
	summariseTechniques(&s, rows)
	return s
}

// engineVersionKey is "ENGINE@VERSION [PROFILE]" ("newest" when the row names no release).
func engineVersionKey(r Result) string {
	v := r.EngineVersion
	if v == "" {
		v = "newest"
	}
	k := r.Engine + "@" + v
	if r.Profile != "" {
		k += " [" + r.Profile + "]"
	}
	return k
}

// sourceKey shortens a source to its id prefix (e.g. TRT017) or first words.
func sourceKey(r Result) string {
	if i := strings.IndexAny(r.ID, "-_"); i > 0 {
		return r.ID[:i]
	}
	return r.Source
}

// WriteTable renders the summary as a text table (every row first when all is set) and the notes.
func WriteTable(w io.Writer, rows []Result, s Summary, all bool) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if all {
		fmt.Fprintln(tw, "id\tmetric\tmeasured\tpredicted\terror %\tnote")
		for _, r := range rows {
			p, e := "-", "-"
			if r.Predicted != nil {
				p = units.Sig(*r.Predicted)
			}
			if r.ErrPct != nil {
				e = fmt.Sprintf("%+.1f", *r.ErrPct)
			}
			note := strings.TrimSpace(r.Reason + " " + r.Note)
			if r.InSample {
				note = strings.TrimSpace("in-sample " + note)
			}
			for _, x := range r.Warnings {
				note = strings.TrimSpace(note + " warning: " + x)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Metric, units.Sig(r.Measured), p, e, note)
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	sec := func(title string, gs []Group) {
		fmt.Fprintf(tw, "%s\trows\tpredicted\tmedian APE %%\tmean APE %%\tp90 APE %%\tbias %%\n", title)
		f := func(format string, p *float64) string {
			if p == nil {
				return "—" // no predicted row: the error is unknown
			}
			return fmt.Sprintf(format, *p)
		}
		for _, g := range gs {
			fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\t%s\t%s\t%s\n", g.Key, g.Rows, g.Predicted, f("%.1f", g.MedianAPE), f("%.1f", g.MeanAPE), f("%.1f", g.P90APE), f("%+.1f", g.Bias))
		}
		fmt.Fprintln(tw, "\t\t\t\t\t\t")
	}
	sec("overall", []Group{s.Overall, s.OutOfSample})
	if len(s.ByTechnique) > 0 {
		sec("by technique", s.ByTechnique)
	}
	sec("by source", s.BySource)
	sec("by metric", s.ByMetric)
	sec("by GPU", s.ByGPU)
	sec("by engine", s.ByEngine)
	sec("by model", s.ByModel)
	sec("by engine version [profile]", s.ByEngineVersion)
	if len(s.OutOfSampleBySource) > 0 {
		sec("out of sample, by source with in-sample rows (their held-out rows)", s.OutOfSampleBySource)
		sec("out of sample, by model with in-sample rows (their held-out rows)", s.OutOfSampleByModel)
	}
	if len(s.ByRunMetric) > 0 {
		sec("serving runs (request-weighted over stages), by metric", s.ByRunMetric)
	}
	if len(s.SmallBatchDecode) > 0 {
		sec("decode ITL/TPOT at batch or concurrency ≤ 8, by engine", s.SmallBatchDecode)
	}
	tw.Flush()
	if g := s.GainSigns; g != nil {
		fmt.Fprintf(w, "gain over the baseline: sign right on %d of %d pairs (technique row vs the same source's row without it)\n", g.Right, g.Pairs)
		if g.MedianRatioAPE != nil {
			fmt.Fprintf(w, "  median APE of the gain ratio (technique/baseline, predicted vs measured): %.1f%%\n", *g.MedianRatioAPE)
		}
		for _, t := range g.ByTechnique {
			fmt.Fprintf(w, "  %s: %d of %d\n", t.Technique, t.Right, t.Pairs)
		}
	}
	if len(s.InconsistentMeans) > 0 {
		fmt.Fprintf(w, "withheld: %d configurations whose measured means contradict E2E = TTFT + TPOT·(output_len − 1) by more than %g%%:\n", len(s.InconsistentMeans), MeansTolerancePct)
		for _, m := range s.InconsistentMeans {
			fmt.Fprintln(w, "  "+m)
		}
	}
	warned := 0
	for _, r := range rows {
		if len(r.Warnings) > 0 {
			warned++
		}
	}
	if warned > 0 {
		fmt.Fprintf(w, "warning: %d rows predict an engine release on a GPU or in a layout it may not support (each row's warnings: --rows, or --output json)\n", warned)
	}
	noted := 0
	for _, r := range rows {
		if r.Note != "" && r.Predicted != nil {
			noted++
		}
	}
	if noted > 0 && !all {
		// Without --rows the table showed no sign of them.
		fmt.Fprintf(w, "note: %d latency rows of MLPerf Server/Interactive runs were read at their own rate, not at the deployment's edge, because none was found (e.g. the predicted deployment meets their bounds at no rate); each says why (--rows, or note in --output json)\n", noted)
	}
	if un := s.Overall.Rows - s.Overall.Predicted; un > 0 && !all {
		// The summary counts them only as rows minus predicted; an engine release refused on
		// its GPU or layout, a deployment that does not fit, a metric it cannot give, … each
		// says why in its row.
		fmt.Fprintf(w, "note: %d of %d rows not predicted, each with its reason (--rows, or reason in --output json)\n", un, s.Overall.Rows)
	}
	for _, n := range Notes() {
		fmt.Fprintln(w, "note: "+n)
	}
}

// Accuracy is the document of "roofline accuracy": every row's prediction (in-sample rows
// marked), the rows left out and why, the error summary, the coverage of the 80%
// prediction intervals and the notes on the data.
type Accuracy struct {
	Rows     []Result   `json:"rows"`
	Skipped  []*BadRow  `json:"skipped_rows"`
	Summary  Summary    `json:"summary"`
	Coverage []Coverage `json:"interval_coverage"`
	Notes    []string   `json:"notes"`
}

// Evaluate predicts every row (Predict with opts), marks the rows used to choose profile
// constants (InSample), and summarises the errors (Summarise) and the intervals' coverage
// (Intervals); skipped are the rows left out before, reported as they are.
func Evaluate(ctx context.Context, rows []Row, skipped []*BadRow, opts Options) Accuracy {
	res := Predict(ctx, rows, opts)
	inSample := InSample()
	for i := range res {
		res[i].InSample = inSample(res[i].ID)
	}
	return Accuracy{Rows: res, Skipped: skipped, Summary: Summarise(res), Coverage: Intervals(res), Notes: Notes()}
}
