package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"

	"roofline/data"
	"roofline/estimator"
	"roofline/units"
)

// valRow is one row of the validation format (see data/validation/README.md).
type valRow struct {
	ID, Source, Model, GPU          string
	NumGPUs, TP, PP, DP, EP         int
	Engine, WeightDtype, KVDtype    string
	InputLen, OutputLen, PrefixLen  int
	Workload                        string
	Concurrency                     int
	RequestRate                     float64
	BatchSize, NumRequests          int
	MaxNumSeqs, MaxNumBatchedTokens int
	GPUMemUtil                      float64
	Metric                          string
	Value                           float64
	file                            string // for model paths relative to the file
	line                            int
}

var valHeader = []string{"id", "source", "model", "gpu", "num_gpus", "tp", "pp", "dp", "ep", "engine", "weight_dtype", "kv_dtype", "input_len", "output_len", "prefix_len", "workload", "concurrency", "request_rate", "batch_size", "num_requests", "max_num_seqs", "max_num_batched_tokens", "gpu_memory_utilization", "metric", "value"}

// readValidation parses a validation CSV; a malformed row is an error naming file, line and column.
func readValidation(r io.Reader, name string) ([]valRow, error) {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(h)] = i
	}
	for _, h := range []string{"id", "model", "gpu", "metric", "value"} {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("%s: missing column %q (header: %s)", name, h, strings.Join(valHeader, ","))
		}
	}
	var rows []valRow
	line := 1
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line++
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		get := func(k string) string {
			if i, ok := col[k]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		var perr error
		num := func(k string) int {
			s := get(k)
			if s == "" {
				return 0
			}
			v, err := strconv.Atoi(s)
			if err != nil {
				f, ferr := strconv.ParseFloat(s, 64)
				if ferr != nil || f != math.Trunc(f) {
					if perr == nil {
						perr = fmt.Errorf("%s:%d: %s %q is not an integer", name, line, k, s)
					}
					return 0
				}
				v = int(f)
			}
			return v
		}
		flt := func(k string) float64 {
			s := get(k)
			if s == "" {
				return 0
			}
			if strings.EqualFold(s, "inf") {
				return math.Inf(1)
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil && perr == nil {
				perr = fmt.Errorf("%s:%d: %s %q is not a number", name, line, k, s)
			}
			return v
		}
		r := valRow{ID: get("id"), Source: get("source"), Model: get("model"), GPU: get("gpu"), NumGPUs: num("num_gpus"), TP: num("tp"), PP: num("pp"), DP: num("dp"), EP: num("ep"),
			Engine: get("engine"), WeightDtype: get("weight_dtype"), KVDtype: get("kv_dtype"), InputLen: num("input_len"), OutputLen: num("output_len"), PrefixLen: num("prefix_len"),
			Workload: get("workload"), Concurrency: num("concurrency"), RequestRate: flt("request_rate"), BatchSize: num("batch_size"), NumRequests: num("num_requests"),
			MaxNumSeqs: num("max_num_seqs"), MaxNumBatchedTokens: num("max_num_batched_tokens"), GPUMemUtil: flt("gpu_memory_utilization"), Metric: get("metric"), Value: flt("value"), file: name, line: line}
		if perr != nil {
			return nil, perr
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// accRow is one row of the accuracy report.
type accRow struct {
	ID        string   `json:"id"`
	Source    string   `json:"source"`
	Model     string   `json:"model"`
	GPU       string   `json:"gpu"`
	Engine    string   `json:"engine"`
	Metric    string   `json:"metric"`
	Measured  float64  `json:"measured"`
	Predicted *float64 `json:"predicted"`
	ErrPct    *float64 `json:"error_pct"` // signed: (predicted − measured)/measured
	APEPct    *float64 `json:"ape_pct"`
	InSample  bool     `json:"in_sample"`
	Reason    string   `json:"reason,omitempty"`
	Method    string   `json:"method,omitempty"`
	run       string
	weight    float64
}

// accGroup summarises the APE of a set of rows.
type accGroup struct {
	Key       string  `json:"key"`
	Rows      int     `json:"rows"`
	Predicted int     `json:"predicted"`
	MedianAPE float64 `json:"median_ape_pct"`
	MeanAPE   float64 `json:"mean_ape_pct"`
	P90APE    float64 `json:"p90_ape_pct"`
	Bias      float64 `json:"bias_pct"` // median signed error
}

type accSummary struct {
	Overall  accGroup   `json:"overall"`
	BySource []accGroup `json:"by_source"`
	ByMetric []accGroup `json:"by_metric"`
	ByGPU    []accGroup `json:"by_gpu"`
	ByEngine []accGroup `json:"by_engine"`
	// ByRunMetric aggregates serving runs with several load stages (ids "…-sN-metric"):
	// measured and predicted are request-weighted over the stages first.
	ByRunMetric []accGroup `json:"by_run_metric"`
	OutOfSample accGroup   `json:"out_of_sample"`
}

func runAccuracy(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "accuracy", "accuracy [--data FILE.csv …] [--engine-override E] [--profile P] [--closed-form] [--output table|json]")
	files := fs.StringSlice("data", nil, "validation CSV files (default: all embedded data/validation/*.csv)")
	profile := fs.String("profile", "", "use this profile TOML for every row instead of the row's engine")
	closed := fs.Bool("closed-form", false, "predict with the closed form only (default: simulate open- and closed-loop rows)")
	gpuFiles := fs.StringSlice("gpu-file", nil, "extra GPU catalogue TOML files")
	out := fs.String("output", "table", "output format: table or json")
	rowsOut := fs.Bool("rows", false, "table output: list every row, not only the summary")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkOutput(*out, "table", "json"); err != nil {
		return err
	}
	var all []valRow
	if len(*files) == 0 {
		ents, err := embeddedValidationFiles()
		if err != nil {
			return err
		}
		for _, n := range ents {
			b, err := data.FS.Open("validation/" + n)
			if err != nil {
				return err
			}
			rs, err := readValidation(b, "data/validation/"+n)
			b.Close()
			if err != nil {
				return err
			}
			all = append(all, rs...)
		}
	} else {
		for _, f := range *files {
			fh, err := os.Open(f)
			if err != nil {
				return usageErr("--data: %v", err)
			}
			rs, err := readValidation(fh, f)
			fh.Close()
			if err != nil {
				return usageErr("%v", err)
			}
			all = append(all, rs...)
		}
	}
	var prof *estimator.Profile
	if *profile != "" {
		p, err := estimator.LoadProfileFile(*profile)
		if err != nil {
			return usageErr("--profile: %v", err)
		}
		prof = p
	}
	inSample := inSampleIDs()
	res := predictRows(ctx, e, all, prof, !*closed, *gpuFiles)
	for i := range res {
		res[i].InSample = inSample(res[i].ID)
	}
	sum := summarise(res)
	if *out == "json" {
		return writeJSON(e.stdout, struct {
			Rows    []accRow   `json:"rows"`
			Summary accSummary `json:"summary"`
			Notes   []string   `json:"notes"`
		}{res, sum, accuracyNotes()})
	}
	writeAccuracyTable(e.stdout, res, sum, *rowsOut)
	return nil
}

// embeddedValidationFiles lists the embedded validation CSVs (steps files excluded: they are
// step times, not serving measurements).
func embeddedValidationFiles() ([]string, error) {
	ents, err := fs.ReadDir(data.FS, "validation")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".csv") && !strings.HasPrefix(e.Name(), "steps") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

func accuracyNotes() []string {
	return []string{
		"APE = |predicted − measured| / measured; bias = median signed error; percentiles of APE by linear interpolation",
		"in_sample rows were used to choose engine-profile constants (data/validation/in_sample.txt); out_of_sample excludes them",
		"serving rows are simulated (seeded) unless --closed-form; offline and static rows use the same scheduler simulation",
	}
}

// inSampleIDs reads the embedded list of id prefixes used to tune profiles.
func inSampleIDs() func(string) bool {
	b, err := data.FS.ReadFile("validation/in_sample.txt")
	var prefixes []string
	if err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			l = strings.TrimSpace(l)
			if l != "" && !strings.HasPrefix(l, "#") {
				prefixes = append(prefixes, l)
			}
		}
	}
	return func(id string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(id, p) {
				return true
			}
		}
		return false
	}
}

var stageRe = regexp.MustCompile(`^(.*)-s\d+-[a-z0-9_]+$`)

// predictRows predicts every row, sharing one prediction between rows of the same configuration.
func predictRows(ctx context.Context, e *env, rows []valRow, prof *estimator.Profile, sim bool, gpuFiles []string) []accRow {
	out := make([]accRow, len(rows))
	groups := map[string][]int{}
	var order []string
	for i, r := range rows {
		k := r
		k.ID, k.Metric, k.Value, k.line, k.Source = "", "", 0, 0, ""
		ks := fmt.Sprintf("%+v", k)
		if _, ok := groups[ks]; !ok {
			order = append(order, ks)
		}
		groups[ks] = append(groups[ks], i)
		out[i] = accRow{ID: r.ID, Source: r.Source, Model: r.Model, GPU: r.GPU, Engine: r.Engine, Metric: r.Metric, Measured: r.Value, weight: float64(max(r.NumRequests, 1))}
		if m := stageRe.FindStringSubmatch(r.ID); m != nil {
			out[i].run = m[1] + "|" + r.Metric
		}
	}
	var mu sync.Mutex
	jobs := make(chan string)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ks := range jobs {
				idx := groups[ks]
				s, method, err := predictOne(ctx, e, rows[idx[0]], prof, sim, gpuFiles)
				mu.Lock()
				for _, i := range idx {
					r := &out[i]
					r.Method = method
					if err != nil {
						r.Reason = err.Error()
						continue
					}
					v, ok, why := metricValue(s, rows[i])
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

type predResult struct {
	s   estimator.Serving
	gpu int
}

func predictOne(ctx context.Context, e *env, r valRow, prof *estimator.Profile, sim bool, gpuFiles []string) (predResult, string, error) {
	model := r.Model
	if strings.HasSuffix(model, ".json") && !filepath.IsAbs(model) {
		model = filepath.Join(filepath.Dir(r.file), model)
	}
	m, err := loadModel(ctx, e, model)
	if err != nil {
		return predResult{}, "", err
	}
	cat, err := gpuCatalogue(gpuFiles)
	if err != nil {
		return predResult{}, "", err
	}
	g, err := cat.Lookup(r.GPU)
	if err != nil {
		return predResult{}, "", err
	}
	p := prof
	if p == nil {
		p, _, err = estimator.Engine(r.Engine)
		if err != nil {
			return predResult{}, "", err
		}
	}
	tp, pp, dp := r.TP, max(r.PP, 1), max(r.DP, 1)
	if tp == 0 {
		tp = max(1, r.NumGPUs/(pp*dp))
	}
	kv := r.KVDtype
	d, err := estimator.New(estimator.Spec{Model: m, GPU: g, TP: tp, PP: pp, DP: dp, EP: r.EP, WeightDtype: r.WeightDtype, KVDtype: kv, Profile: p,
		MemoryFraction: r.GPUMemUtil, MaxNumSeqs: r.MaxNumSeqs, MaxNumBatchedTokens: r.MaxNumBatchedTokens,
		MaxModelLen: maxModelLen(m.MaxContextLen, r.InputLen+r.OutputLen)})
	if err != nil {
		return predResult{}, "", err
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
			w.NumRequests = max(r.Concurrency, 1000)
		}
	default:
		return predResult{}, "", fmt.Errorf("workload %q: allowed values are static, concurrency, rate, offline", r.Workload)
	}
	if w.Kind != estimator.Static && w.NumRequests > 3000 {
		w.NumRequests = 3000 // steady state is reached long before; keeps the report fast
	}
	var s estimator.Serving
	method := "closed-form"
	if sim {
		method = "simulation"
		s, err = d.Simulate(w, 1)
	} else {
		s, err = d.Serve(w)
	}
	return predResult{s, d.NumGPUs}, method, err
}

// maxModelLen is the engine's max_model_len for a validation row, which rows do not record:
// the request's own length rounded up to 1024 tokens (benchmarks of large models on small
// cards lower max_model_len until the model fits; the KV capacity does not depend on it).
func maxModelLen(ctxLen, need int) int {
	l := (need + 1023) / 1024 * 1024
	if ctxLen > 0 && l > ctxLen && need <= ctxLen {
		l = ctxLen
	}
	return max(l, need)
}

// metricValue picks a row's metric out of a prediction.
func metricValue(p predResult, r valRow) (float64, bool, string) {
	s := p.s
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
	if len(parts) == 2 {
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
	case "output_tok_s":
		return s.OutputTokS, true, ""
	case "output_tok_s_per_gpu":
		return s.OutputTokS / float64(p.gpu), true, ""
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

func group(key string, rows []accRow) accGroup {
	g := accGroup{Key: key, Rows: len(rows)}
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
	g.MeanAPE = s / float64(len(apes))
	g.MedianAPE = estimator.Percentile(apes, 0.5)
	g.P90APE = estimator.Percentile(apes, 0.9)
	g.Bias = estimator.Percentile(errs, 0.5)
	return g
}

func groupBy(rows []accRow, key func(accRow) string) []accGroup {
	m := map[string][]accRow{}
	for _, r := range rows {
		m[key(r)] = append(m[key(r)], r)
	}
	var out []accGroup
	for k, rs := range m {
		out = append(out, group(k, rs))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func summarise(rows []accRow) accSummary {
	s := accSummary{Overall: group("all", rows)}
	s.BySource = groupBy(rows, func(r accRow) string { return sourceKey(r) })
	s.ByMetric = groupBy(rows, func(r accRow) string { return r.Metric })
	s.ByGPU = groupBy(rows, func(r accRow) string { return r.GPU })
	s.ByEngine = groupBy(rows, func(r accRow) string { return r.Engine })
	var oos []accRow
	for _, r := range rows {
		if !r.InSample {
			oos = append(oos, r)
		}
	}
	s.OutOfSample = group("out-of-sample", oos)
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
	var runRows []accRow
	for k, a := range runs {
		rr := accRow{ID: k, Metric: a.metric}
		if a.ok && a.w > 0 && a.m != 0 {
			m, p := a.m/a.w, a.p/a.w
			sg := 100 * (p - m) / m
			ap := math.Abs(sg)
			rr.Measured, rr.Predicted, rr.ErrPct, rr.APEPct = m, &p, &sg, &ap
		}
		runRows = append(runRows, rr)
	}
	s.ByRunMetric = groupBy(runRows, func(r accRow) string { return r.Metric })
	return s
}

// sourceKey shortens a source to its id prefix (e.g. TRT017) or first words.
func sourceKey(r accRow) string {
	if i := strings.IndexAny(r.ID, "-_"); i > 0 {
		return r.ID[:i]
	}
	return r.Source
}

func writeAccuracyTable(w io.Writer, rows []accRow, s accSummary, all bool) {
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
			note := r.Reason
			if r.InSample {
				note = strings.TrimSpace("in-sample " + note)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Metric, units.Sig(r.Measured), p, e, note)
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	sec := func(title string, gs []accGroup) {
		fmt.Fprintf(tw, "%s\trows\tpredicted\tmedian APE %%\tmean APE %%\tp90 APE %%\tbias %%\n", title)
		for _, g := range gs {
			fmt.Fprintf(tw, "  %s\t%d\t%d\t%.1f\t%.1f\t%.1f\t%+.1f\n", g.Key, g.Rows, g.Predicted, g.MedianAPE, g.MeanAPE, g.P90APE, g.Bias)
		}
		fmt.Fprintln(tw, "\t\t\t\t\t\t")
	}
	sec("overall", []accGroup{s.Overall, s.OutOfSample})
	sec("by source", s.BySource)
	sec("by metric", s.ByMetric)
	sec("by GPU", s.ByGPU)
	sec("by engine", s.ByEngine)
	if len(s.ByRunMetric) > 0 {
		sec("serving runs (request-weighted over stages), by metric", s.ByRunMetric)
	}
	tw.Flush()
	for _, n := range accuracyNotes() {
		fmt.Fprintln(w, "note: "+n)
	}
}
