package validation

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"roofline/data"
)

// Prediction intervals.
//
// The residual of a predicted row is d = ln(measured / predicted). For a cell of rows
// (engine release, metric class, workload class, model class, GPU vendor) the interval at level L
// (0.8) is [p·e^{d_lo}, p·e^{d_hi}] for a prediction p, with d_lo and d_hi the
// ⌊(n+1)(1−L)/2⌋-th and ⌈(n+1)(1+L)/2⌉-th of the cell's n sorted out-of-sample residuals
// (split-conformal ranks: conformalBounds). The engine release is the
// profile the row was predicted with (trtllm[trtllm-0.x], vllm[vllm-v0], …): releases of one
// engine err differently (TensorRT-LLM 0.17's max-throughput grid within ~9%, the post-1.0
// perf overview within ~29%), so pooling them made one too wide and the other too narrow.
// A cell needs MinCellRows rows; otherwise the next coarser cell is used (drop vendor and
// model class, then workload; then the same three for the engine family; then every engine,
// then pool every metric). Outside what the data covers — an engine with no rows on that GPU, model class or
// engine release — both log-bounds are multiplied by WidenFactor per reason, and the reason
// is given.

// IntervalLevel is the nominal coverage of the intervals.
const IntervalLevel = 0.8

// MinCellRows is the fewest residuals a cell needs before its quantiles are used.
const MinCellRows = 20

// WidenFactor multiplies both log-bounds of an interval for each way the deployment lies
// outside the validation data. A stated choice (not fitted): 1.5 widens an 80% interval
// roughly to the 90–95% one of a Gaussian.
const WidenFactor = 1.5

// Interval is a prediction interval: Lo ≤ value ≤ Hi with nominal probability Level.
type Interval struct {
	Lo     float64 `json:"lo"`
	Hi     float64 `json:"hi"`
	Level  float64 `json:"level"`
	Rows   int     `json:"rows"`             // residuals the interval was drawn from
	Cell   string  `json:"cell"`             // which cell of the table
	Reason string  `json:"reason,omitempty"` // why it was widened
}

// IntervalCell is one cell of the residual table: quantiles of ln(measured/predicted).
type IntervalCell struct {
	Key    string // engine|metric|workload|model|vendor with "*" for pooled dimensions
	N      int
	LogLo  float64
	LogHi  float64
	sorted []float64
}

// IntervalTable holds the cells and what the data covers.
type IntervalTable struct {
	Cells map[string]*IntervalCell
	// Seen lists "engine|gpu:NAME", "engine|model:CLASS" and "engine|profile:NAME" that have rows.
	Seen map[string]bool
}

// MetricClass pools metric names whose residuals behave alike: ttft, token (TPOT, ITL),
// e2e (E2E, batch elapsed time), throughput (tokens/s, requests/s) and cost.
func MetricClass(metric string) string {
	switch {
	case strings.HasPrefix(metric, "ttft"):
		return "ttft"
	case strings.HasPrefix(metric, "tpot"), strings.HasPrefix(metric, "itl"):
		return "token"
	case strings.HasPrefix(metric, "e2e"), metric == "batch_elapsed_s":
		return "e2e"
	case strings.HasPrefix(metric, "cost"):
		return "cost"
	}
	return "throughput"
}

// NearCapacityLoad is the load (offered request rate ÷ predicted sustainable rate) from which
// an open-loop row counts as near capacity: a step then lasts about its fixed cost ÷ (1 − ρ), so a
// relative capacity error e moves latency by about e·ρ/(1 − ρ), four times e at ρ = 0.8.
const NearCapacityLoad = 0.8

// WorkloadClass is "static" (a fixed batch of identical requests run to completion, no
// in-flight batching), "offline" (every request at once, continuous batching), "online"
// (rate, concurrency) or "online-near-capacity" (an open-loop load at or above
// NearCapacityLoad of the predicted sustainable rate; Result.Load). Static batches are their own regime:
// no queue, no mixing of prefill and decode, so their residuals do not describe an offline
// run's and vice versa; near capacity, latency errors are amplified (NearCapacityLoad).
func WorkloadClass(w string, load float64) string {
	switch w {
	case "static":
		return "static"
	case "offline":
		return "offline"
	}
	if load >= NearCapacityLoad {
		return "online-near-capacity"
	}
	return "online"
}

func cellKey(engine, metric, workload, model, vendor string) string {
	return strings.Join([]string{engine, metric, workload, model, vendor}, "|")
}

// levels returns the keys of a row's cells from the most specific to the coarsest: the
// engine release's profile first (written ENGINE[PROFILE], e.g. trtllm[trtllm-0.x]; a
// release's error distribution is its own), then the engine family, then every engine.
func levels(engine, profile, metric, workload, model, vendor string) []string {
	if profile != "" {
		rel := engine + "[" + profile + "]"
		return []string{
			cellKey(rel, metric, workload, model, vendor),
			cellKey(rel, metric, workload, "*", "*"),
			cellKey(rel, metric, "*", "*", "*"),
			cellKey(engine, metric, workload, model, vendor),
			cellKey(engine, metric, workload, "*", "*"),
			cellKey(engine, metric, "*", "*", "*"),
			cellKey("*", metric, workload, "*", "*"),
			cellKey("*", metric, "*", "*", "*"),
			cellKey("*", "*", "*", "*", "*"),
		}
	}
	return []string{
		cellKey(engine, metric, workload, model, vendor),
		cellKey(engine, metric, workload, "*", "*"),
		cellKey(engine, metric, "*", "*", "*"),
		cellKey("*", metric, workload, "*", "*"),
		cellKey("*", metric, "*", "*", "*"),
		cellKey("*", "*", "*", "*", "*"), // every metric pooled: the last resort
	}
}

func engineFamily(e string) string {
	switch e {
	case "vllm", "sglang", "trtllm":
		return e
	}
	return "other"
}

// BuildIntervals builds the residual table from predicted, out-of-sample results; skip, when
// set, leaves rows out (e.g. one source, for a leave-one-source-out check).
func BuildIntervals(res []Result, skip func(Result) bool) *IntervalTable {
	t := &IntervalTable{Cells: map[string]*IntervalCell{}, Seen: map[string]bool{}}
	for _, r := range res {
		if r.Predicted == nil || *r.Predicted <= 0 || r.Measured <= 0 || (skip != nil && skip(r)) {
			continue
		}
		e := engineFamily(r.Engine)
		// What the data covers counts in-sample rows too; only the residuals must be out of sample.
		t.Seen[e+"|gpu:"+r.GPUID] = true
		t.Seen[e+"|model:"+r.ModelClass] = true
		if r.Profile != "" {
			t.Seen[e+"|profile:"+r.Profile] = true
			t.Seen[e+"|profile:"+r.Profile+"|model:"+r.ModelClass] = true
		}
		if r.InSample || echoesLoad(r) {
			continue
		}
		d := math.Log(r.Measured / *r.Predicted)
		for _, k := range levels(e, r.Profile, MetricClass(r.Metric), WorkloadClass(r.Workload, r.Load), r.ModelClass, r.Vendor) {
			c := t.Cells[k]
			if c == nil {
				c = &IntervalCell{Key: k}
				t.Cells[k] = c
			}
			c.sorted = append(c.sorted, d)
		}
	}
	for _, c := range t.Cells {
		sort.Float64s(c.sorted)
		c.N = len(c.sorted)
		c.LogLo, c.LogHi = conformalBounds(c.sorted)
	}
	return t
}

// conformalBounds returns the log-bounds of an IntervalLevel interval from n sorted
// residuals, with the finite-sample (split conformal) correction: a new row exchangeable
// with the n falls below the k-th smallest with probability k/(n+1), so the upper bound is
// the ⌈(n+1)(1+L)/2⌉-th residual and the lower the ⌊(n+1)(1−L)/2⌋-th (clamped to the range),
// not the plain (1±L)/2 percentiles, which cover less than L out of sample in small cells
// (n = 20: the 19th and 2nd of 20, where the plain percentiles interpolate at 18.1 and 2.9).
// Lei et al., "Distribution-Free Predictive Inference for Regression", JASA 2018, §2.2.
func conformalBounds(sorted []float64) (lo, hi float64) {
	n := len(sorted)
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	kHi := int(math.Ceil(float64(n+1) * (1 + IntervalLevel) / 2))
	kLo := int(math.Floor(float64(n+1) * (1 - IntervalLevel) / 2))
	return sorted[min(max(kLo, 1), n)-1], sorted[min(max(kHi, 1), n)-1]
}

// echoesLoad is true for a throughput row of an open-loop (request-rate) run: below capacity
// its measured and predicted throughput both equal the offered load (MLPerf Server rows: the
// LoadGen target QPS), so its residual says nothing about how far a throughput prediction can
// be trusted and would make the throughput intervals falsely narrow. Such rows are still
// checked against their interval (coverage); they only do not shape it.
func echoesLoad(r Result) bool {
	return MetricClass(r.Metric) == "throughput" && r.Workload == "rate"
}

// Query describes one predicted value to bound.
type Query struct {
	// GPU is the catalogue id; Profile the engine profile's name.
	Engine, Metric, Workload, ModelClass, Vendor, GPU, Profile string
	Value                                                      float64
	// Load is the offered request rate ÷ sustainable rate of an open-loop workload (0 when
	// not known or not an open loop): it selects the near-capacity cells (WorkloadClass).
	Load float64
}

// Interval returns the interval of a prediction, widened (with the reason) where the table
// has no rows for the query's GPU, model class or engine release. ok is false when no cell
// has enough rows.
func (t *IntervalTable) Interval(q Query) (Interval, bool) {
	e := engineFamily(q.Engine)
	var c *IntervalCell
	for _, k := range levels(e, q.Profile, MetricClass(q.Metric), WorkloadClass(q.Workload, q.Load), q.ModelClass, q.Vendor) {
		if cc := t.Cells[k]; cc != nil && cc.N >= MinCellRows {
			c = cc
			break
		}
	}
	if c == nil {
		return Interval{}, false
	}
	var why []string
	if q.GPU != "" && !t.Seen[e+"|gpu:"+q.GPU] {
		why = append(why, "no validation rows on "+q.GPU+" for "+e)
	}
	profileSeen := q.Profile != "" && t.Seen[e+"|profile:"+q.Profile]
	switch {
	case q.ModelClass == "":
	case !t.Seen[e+"|model:"+q.ModelClass]:
		why = append(why, "no validation rows of "+q.ModelClass+" models for "+e)
	case profileSeen && !t.Seen[e+"|profile:"+q.Profile+"|model:"+q.ModelClass]:
		// The engine has rows of this model class, but not under this release's profile.
		why = append(why, "no validation rows of "+q.ModelClass+" models for engine profile "+q.Profile)
	}
	if q.Profile != "" && !profileSeen {
		why = append(why, "no validation rows for engine profile "+q.Profile)
	}
	f := math.Pow(WidenFactor, float64(len(why)))
	lo, hi := math.Min(c.LogLo, 0)*f, math.Max(c.LogHi, 0)*f
	iv := Interval{Lo: q.Value * math.Exp(lo), Hi: q.Value * math.Exp(hi), Level: IntervalLevel, Rows: c.N, Cell: c.Key}
	if len(why) > 0 {
		iv.Reason = fmt.Sprintf("widened ×%.3g: %s", f, strings.Join(why, "; "))
	}
	return iv, true
}

// WriteIntervals writes the table as CSV: kind,key,n,log_lo,log_hi ("cell" rows) and
// kind,key ("seen" rows).
func (t *IntervalTable) WriteIntervals(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"kind", "key", "n", "log_lo", "log_hi"})
	keys := make([]string, 0, len(t.Cells))
	for k := range t.Cells {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c := t.Cells[k]
		_ = cw.Write([]string{"cell", k, strconv.Itoa(c.N), strconv.FormatFloat(c.LogLo, 'g', 6, 64), strconv.FormatFloat(c.LogHi, 'g', 6, 64)})
	}
	seen := make([]string, 0, len(t.Seen))
	for k := range t.Seen {
		seen = append(seen, k)
	}
	sort.Strings(seen)
	for _, k := range seen {
		_ = cw.Write([]string{"seen", k, "", "", ""})
	}
	cw.Flush()
	return cw.Error()
}

// ReadIntervals parses a table written by WriteIntervals.
func ReadIntervals(r io.Reader, name string) (*IntervalTable, error) {
	cr := csv.NewReader(bufio.NewReader(r))
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	t := &IntervalTable{Cells: map[string]*IntervalCell{}, Seen: map[string]bool{}}
	for i, rec := range recs {
		if i == 0 {
			continue
		}
		if len(rec) != 5 {
			return nil, fmt.Errorf("%s:%d: want 5 columns (kind,key,n,log_lo,log_hi), got %d", name, i+1, len(rec))
		}
		switch rec[0] {
		case "seen":
			t.Seen[rec[1]] = true
		case "cell":
			n, err1 := strconv.Atoi(rec[2])
			lo, err2 := strconv.ParseFloat(rec[3], 64)
			hi, err3 := strconv.ParseFloat(rec[4], 64)
			if err1 != nil || err2 != nil || err3 != nil || lo > hi {
				return nil, fmt.Errorf("%s:%d: n, log_lo, log_hi must be numbers with log_lo ≤ log_hi", name, i+1)
			}
			t.Cells[rec[1]] = &IntervalCell{Key: rec[1], N: n, LogLo: lo, LogHi: hi}
		default:
			return nil, fmt.Errorf("%s:%d: kind %q: allowed values are cell, seen", name, i+1, rec[0])
		}
	}
	return t, nil
}

// EmbeddedIntervals reads data/validation/intervals.csv (written by
// `roofline accuracy --write-intervals`).
func EmbeddedIntervals() (*IntervalTable, error) {
	f, err := data.FS.Open("validation/intervals.csv")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadIntervals(f, "data/validation/intervals.csv")
}

// Coverage is the share of out-of-sample rows inside their interval, per source group.
type Coverage struct {
	Key string `json:"key"`
	// Rows with an interval; InsideLOO counts those inside the interval built from every other
	// row's residual (leave one out), InsideLOSO those inside the interval built without any
	// row of their source (leave one source out), widened as estimate widens for a GPU, model
	// class or engine release that no other source covers.
	Rows      int `json:"rows"`
	InsideLOO int `json:"inside_loo"`
	// RowsLOSO counts the rows that have a leave-one-source-out interval at all: without
	// their source no cell may keep MinCellRows residuals (a source that is most of the data),
	// and such a row is neither inside nor outside; PctLOSO is InsideLOSO ÷ RowsLOSO.
	RowsLOSO   int      `json:"rows_loso"`
	InsideLOSO int      `json:"inside_loso"`
	PctLOO     *float64 `json:"coverage_loo_pct"`  // null without rows
	PctLOSO    *float64 `json:"coverage_loso_pct"` // null without a row that has a LOSO interval
	// Members lists the sources of a pooled group (sources with fewer than MinCoverageRows
	// rows each); empty for a single source and for the overall row.
	Members []string `json:"members,omitempty"`
	// Small marks a single source with fewer than MinCoverageRows rows: its own coverage
	// cannot be told apart from 80% (see MinCoverageRows); it is counted in the pooled group.
	Small bool `json:"below_min_rows,omitempty"`
}

// MinCoverageRows is the fewest out-of-sample rows a source needs for a coverage figure of its
// own. With n rows inside an 80% interval independently, the measured coverage has a binomial
// standard error of √(0.8·0.2/n): 8.9 points at n = 20, the half-width of the 70–90% band a
// group is judged against, and 11–23 points for the 18, 13 and 3 rows of the smallest embedded
// sources, whose coverage therefore says little on its own (3 rows can only give 0, 33, 67 or
// 100%). Sources below it are also reported pooled as one group. The same 20 as MinCellRows.
const MinCoverageRows = 20

// Intervals attaches an interval to every predicted result from a table built without that
// result (leave one out: its own residual removed from its cell) and returns coverage per
// source and overall, out of sample.
func Intervals(res []Result) []Coverage {
	full := BuildIntervals(res, nil)
	emb, _ := EmbeddedIntervals() // fallback; nil when missing
	bySource := map[string]*IntervalTable{}
	cov := map[string]*Coverage{}
	all := &Coverage{Key: "all (out of sample)"}
	for i := range res {
		r := &res[i]
		if r.Predicted == nil || *r.Predicted <= 0 {
			continue
		}
		q := Query{Engine: r.Engine, Metric: r.Metric, Workload: r.Workload, ModelClass: r.ModelClass, Vendor: r.Vendor, Profile: r.Profile, Load: r.Load, Value: *r.Predicted}
		iv, ok := full.intervalLOO(q, r)
		if !ok && emb != nil {
			// Too few residuals among the rows given: the embedded table's interval (the one
			// estimate prints), widened where those rows lie outside it.
			q.GPU = r.GPUID
			iv, ok = emb.Interval(q)
		}
		if !ok {
			continue
		}
		r.IntervalLo, r.IntervalHi = &iv.Lo, &iv.Hi
		if r.InSample || r.Measured <= 0 {
			continue
		}
		src := sourceKey(*r)
		t := bySource[src]
		if t == nil {
			t = BuildIntervals(res, func(x Result) bool { return sourceKey(x) == src })
			bySource[src] = t
		}
		c := cov[src]
		if c == nil {
			c = &Coverage{Key: src}
			cov[src] = c
		}
		in := r.Measured >= iv.Lo && r.Measured <= iv.Hi
		q.GPU = r.GPUID // as estimate asks: a GPU no other source covers widens the interval too
		ivs, oks := t.Interval(q)
		ins := oks && r.Measured >= ivs.Lo && r.Measured <= ivs.Hi
		for _, x := range []*Coverage{c, all} {
			x.Rows++
			if in {
				x.InsideLOO++
			}
			if oks {
				x.RowsLOSO++
			}
			if ins {
				x.InsideLOSO++
			}
		}
	}
	var out []Coverage
	for _, c := range cov {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	pool := Coverage{}
	for i := range out {
		if c := &out[i]; c.Rows < MinCoverageRows {
			c.Small = true
			pool.Members = append(pool.Members, c.Key)
			pool.Rows += c.Rows
			pool.InsideLOO += c.InsideLOO
			pool.RowsLOSO += c.RowsLOSO
			pool.InsideLOSO += c.InsideLOSO
		}
	}
	if len(pool.Members) > 1 {
		pool.Key = fmt.Sprintf("sources with < %d rows, pooled", MinCoverageRows)
		out = append(out, pool)
	}
	out = append(out, *all)
	for i := range out {
		if out[i].Rows > 0 {
			a := 100 * float64(out[i].InsideLOO) / float64(out[i].Rows)
			out[i].PctLOO = &a
		}
		if out[i].RowsLOSO > 0 {
			b := 100 * float64(out[i].InsideLOSO) / float64(out[i].RowsLOSO)
			out[i].PctLOSO = &b
		}
	}
	return out
}

// intervalLOO is Interval for a result of the table itself, with its own residual removed
// from the cell (no widening: the row is inside what the data covers by construction).
func (t *IntervalTable) intervalLOO(q Query, r *Result) (Interval, bool) {
	own := math.NaN()
	if !r.InSample && r.Measured > 0 {
		own = math.Log(r.Measured / q.Value)
	}
	e := engineFamily(q.Engine)
	for _, k := range levels(e, q.Profile, MetricClass(q.Metric), WorkloadClass(q.Workload, q.Load), q.ModelClass, q.Vendor) {
		c := t.Cells[k]
		if c == nil {
			continue
		}
		s := c.sorted
		if !math.IsNaN(own) {
			j := sort.SearchFloat64s(s, own)
			if j < len(s) && s[j] == own {
				s = append(append(make([]float64, 0, len(s)-1), s[:j]...), s[j+1:]...)
			}
		}
		if len(s) < MinCellRows {
			continue
		}
		clo, chi := conformalBounds(s)
		lo, hi := math.Min(clo, 0), math.Max(chi, 0)
		return Interval{Lo: q.Value * math.Exp(lo), Hi: q.Value * math.Exp(hi), Level: IntervalLevel, Rows: len(s), Cell: k}, true
	}
	return Interval{}, false
}

// WriteCoverage prints the measured coverage of the 80% intervals per source group.
func WriteCoverage(w io.Writer, cov []Coverage) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "80%% interval coverage, out of sample\trows\tleave-one-out %%\tleave-one-source-out %%\n")
	pct := func(p *float64) string {
		if p == nil {
			return "—"
		}
		return fmt.Sprintf("%.1f", *p)
	}
	small, pooled, partial := false, false, false
	for _, c := range cov {
		key := c.Key
		if c.Small {
			key += " *"
			small = true
		}
		if len(c.Members) > 0 {
			key += " (" + strings.Join(c.Members, ", ") + ")"
			pooled = true
		}
		loso := pct(c.PctLOSO)
		if c.RowsLOSO < c.Rows {
			loso += fmt.Sprintf(" (%d of %d rows)", c.RowsLOSO, c.Rows)
			partial = true
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\n", key, c.Rows, pct(c.PctLOO), loso)
	}
	tw.Flush()
	if small {
		then := "so it is counted in the pooled group"
		if !pooled {
			then = "so it says little on its own (no other such source to pool it with)"
		}
		fmt.Fprintf(w, "note: * fewer than %d out-of-sample rows: the binomial standard error of its coverage is above %.1f points (√(0.8·0.2/n)), %s\n", MinCoverageRows, 100*math.Sqrt(0.16/MinCoverageRows), then)
	}
	if partial {
		fmt.Fprintf(w, "note: (k of n rows): only k rows have a leave-one-source-out interval; without their source no cell keeps %d residuals, so the others are neither inside nor outside and are not counted (— when none has one)\n", MinCellRows)
	}
	fmt.Fprintln(w, "note: interval = prediction × exp(the ⌊0.1(n+1)⌋-th and ⌈0.9(n+1)⌉-th of the n residuals ln(measured/predicted) of its cell: split-conformal ranks) (engine release, metric class, workload class (static, offline, online, online at ≥ 0.8 of the predicted sustainable rate), model class, GPU vendor; coarser when < 20 rows); leave-one-out drops the row's own residual, leave-one-source-out every row of its source and widens, as estimate does, for a GPU, model class or engine release no other source covers")
}

// WriteIntervalsFile writes WriteIntervals' CSV to the file path.
func (t *IntervalTable) WriteIntervalsFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := t.WriteIntervals(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
