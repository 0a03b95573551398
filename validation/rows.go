package validation

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"roofline/data"
	"roofline/estimator"
	"roofline/units"
)

// Row is one row of the validation format (data/validation/README.md): one measured number
// with the deployment and workload it was measured on. Lengths are tokens, rates req/s.
type Row struct {
	ID, Source, Model, GPU       string
	NumGPUs, TP, PP, DP, EP      int
	Engine, WeightDtype, KVDtype string
	// EngineVersion is the optional engine_version column: the engine release measured
	// (empty = the newest profile of the engine).
	EngineVersion string
	// TPOTLimitMs is the optional tpot_limit_ms column: the latency bound (ms) a benchmark
	// harness tuned the engine's per-step token budget for (MLPerf Server/Interactive).
	TPOTLimitMs float64
	// TTFTLimitMs is the optional ttft_limit_ms column: the same scenario's bound (ms) on
	// the p99 TTFT. With TPOTLimitMs it places the row's latencies at the edge (see Predict).
	TTFTLimitMs float64
	// NumSchedulerSteps is the optional num_scheduler_steps column: vLLM V0's
	// --num-scheduler-steps of the run (0 = not used).
	NumSchedulerSteps int
	// EnforceEager is the optional enforce_eager column: true when the run had CUDA/HIP
	// graphs off (vLLM --enforce-eager, SGLang --disable-cuda-graph, TGI --cuda-graphs 0);
	// false or empty otherwise. Predicted with estimator.Spec.EnforceEager.
	EnforceEager                    bool
	InputLen, OutputLen, PrefixLen  int
	Workload                        string
	Concurrency                     int
	RequestRate                     float64
	BatchSize, NumRequests          int
	MaxNumSeqs, MaxNumBatchedTokens int
	GPUMemUtil                      float64
	Metric                          string
	Value                           float64
	// Technique columns (optional; see TechniqueColumns and technique.go).
	Tech Technique
	// File is the file the row came from (a model given as a relative path to a config.json
	// is resolved against its directory); Line is its 1-based line number.
	File string
	Line int
}

// Header lists the columns of the validation format in order.
var Header = []string{"id", "source", "model", "gpu", "num_gpus", "tp", "pp", "dp", "ep", "engine", "weight_dtype", "kv_dtype", "input_len", "output_len", "prefix_len", "workload", "concurrency", "request_rate", "batch_size", "num_requests", "max_num_seqs", "max_num_batched_tokens", "gpu_memory_utilization", "metric", "value"}

// OptionalColumns are the columns of the validation format beyond Header (each optional;
// see Row and TechniqueColumns).
var OptionalColumns = []string{"engine_version", "tpot_limit_ms", "ttft_limit_ms", "num_scheduler_steps", "enforce_eager"}

// Columns lists every column a validation CSV may have: Header, OptionalColumns and
// TechniqueColumns. Any other header name is an error.
func Columns() []string {
	return slices.Concat(Header, OptionalColumns, TechniqueColumns)
}

// BadRow is a row of a validation CSV that cannot be used: its file, 1-based line, the
// field at fault and why.
type BadRow struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func (b *BadRow) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", b.File, b.Line, b.Field, b.Reason)
}

// Metrics lists the metric names a validation row may have (MetricValue predicts each).
func Metrics() []string {
	out := []string{}
	for _, m := range []string{"ttft", "itl", "tpot", "e2e"} {
		for _, q := range []string{"mean", "median", "p90", "p95", "p99"} {
			out = append(out, m+"_ms_"+q)
		}
	}
	return append(out, "output_tok_s", "output_tok_s_per_gpu", "total_tok_s", "request_per_s", "batch_elapsed_s",
		"output_tok_s_per_user", "decode_tok_s_per_gpu", "kv_transfer_ms_mean", "kv_transfer_bw_GBps")
}

// Workloads lists the values of the workload column (data/validation/README.md).
var Workloads = []string{"static", "concurrency", "rate", "offline"}

// Check returns a *BadRow when r cannot be a measurement: a value that is not a finite number
// > 0 (every metric is a latency or a rate), an unknown metric, workload or dtype, a
// concurrency workload without its concurrency or a rate workload without its rate, a
// latency bound (tpot_limit_ms, ttft_limit_ms) that is not > 0, a ttft_limit_ms without its
// tpot_limit_ms, bounds on a row that is not at a finite offered rate, an engine that has no
// embedded profile (estimator.EngineNames, any case), an engine_version
// that is not a release number (estimator.ParseVersion), or a
// GPU count that is not tp·pp·dp (a field left 0 takes its default: tp 1, pp 1, dp
// num_gpus/(tp·pp)).
func (r Row) Check() error {
	bad := func(field, format string, a ...any) error {
		return &BadRow{File: r.File, Line: r.Line, Field: field, Reason: fmt.Sprintf(format, a...)}
	}
	if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) || r.Value <= 0 {
		return bad("value", "%g: must be a finite number > 0 (a measured latency or rate)", r.Value)
	}
	known := false
	for _, m := range Metrics() {
		known = known || m == r.Metric
	}
	if !known {
		return bad("metric", "%q: allowed values are %s", r.Metric, strings.Join(Metrics(), ", "))
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"num_gpus", r.NumGPUs}, {"tp", r.TP}, {"pp", r.PP}, {"dp", r.DP}, {"ep", r.EP}, {"input_len", r.InputLen}, {"output_len", r.OutputLen},
		{"prefix_len", r.PrefixLen}, {"concurrency", r.Concurrency}, {"batch_size", r.BatchSize}, {"num_requests", r.NumRequests},
		{"max_num_seqs", r.MaxNumSeqs}, {"max_num_batched_tokens", r.MaxNumBatchedTokens}, {"num_scheduler_steps", r.NumSchedulerSteps}} {
		if f.v < 0 {
			return bad(f.name, "%d: must be ≥ 0 (0 or empty: default)", f.v)
		}
	}
	if math.IsNaN(r.RequestRate) || r.RequestRate < 0 {
		return bad("request_rate", "%g: must be ≥ 0", r.RequestRate)
	}
	if r.Workload != "" && !slices.Contains(Workloads, r.Workload) {
		return bad("workload", "%q: allowed values are %s", r.Workload, strings.Join(Workloads, ", "))
	}
	if r.Workload == "concurrency" && r.Concurrency == 0 {
		return bad("concurrency", "empty or 0 with workload concurrency: want the requests in flight (≥ 1)")
	}
	if r.Workload == "rate" && r.RequestRate == 0 {
		return bad("request_rate", "empty or 0 with workload rate: want the arrival rate in req/s (> 0, or inf)")
	}
	if _, err := units.CanonicalDtype(r.WeightDtype); err != nil {
		return bad("weight_dtype", "%v", err)
	}
	if kv, err := units.CanonicalDtype(r.KVDtype); err != nil || !estimator.KVDtypeAllowed(kv) {
		return bad("kv_dtype", "%q: allowed values are bf16, fp16, fp8, fp32 (empty: the model's 16-bit dtype)", r.KVDtype)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"tpot_limit_ms", r.TPOTLimitMs}, {"ttft_limit_ms", r.TTFTLimitMs}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0 {
			return bad(f.name, "%g: must be a p99 bound in ms > 0 (empty: no bound)", f.v)
		}
	}
	if r.TTFTLimitMs > 0 && r.TPOTLimitMs == 0 {
		return bad("ttft_limit_ms", "%g without tpot_limit_ms: the edge of an MLPerf Server/Interactive row is searched under its p99 TPOT bound, with the TTFT bound beside it; give both, or tpot_limit_ms alone", r.TTFTLimitMs)
	}
	if r.TPOTLimitMs > 0 && (r.Workload != "rate" || math.IsInf(r.RequestRate, 1)) {
		return bad("tpot_limit_ms", "%g with workload %q: latency bounds belong to a row at an offered rate (workload rate, finite request_rate: an MLPerf Server or Interactive run); leave them empty", r.TPOTLimitMs, r.Workload)
	}
	if e, _, _ := strings.Cut(strings.ToLower(r.Engine), "@"); r.Engine != "" && !slices.Contains(estimator.EngineNames(), e) {
		// An unknown engine was predicted with the default profile, as if the row had said so.
		return bad("engine", "%q: allowed values are %s (empty: default)", r.Engine, strings.Join(estimator.EngineNames(), ", "))
	}
	if r.EngineVersion != "" {
		if _, err := estimator.ParseVersion(r.EngineVersion); err != nil {
			return bad("engine_version", "%v (empty: the engine's newest profile)", err)
		}
	}
	if math.IsNaN(r.GPUMemUtil) || r.GPUMemUtil < 0 || r.GPUMemUtil > 1 {
		return bad("gpu_memory_utilization", "%g: must be in (0, 1] (empty: the engine's default)", r.GPUMemUtil)
	}
	if err := r.Tech.check(); err != nil {
		return bad(err.field, "%s", err.msg)
	}
	tp, pp := max(r.TP, 1), max(r.PP, 1)
	if r.NumGPUs > 0 && !r.Tech.Disaggregated() {
		dp := r.DP
		if dp == 0 && r.NumGPUs%(tp*pp) == 0 {
			dp = r.NumGPUs / (tp * pp)
		}
		if dp == 0 || tp*pp*dp != r.NumGPUs {
			return bad("num_gpus", "%d: must equal tp·pp·dp = %d·%d·%d", r.NumGPUs, tp, pp, max(dp, 1))
		}
	}
	return nil
}

// ReadRows parses a validation CSV read from r; name labels errors and becomes each row's File.
// The columns id, model, gpu, metric and value are required, others may be missing or empty
// (zero); lines starting with # are comments. A malformed row, or one that fails Row.Check,
// is an error naming file, line and field (a *BadRow).
func ReadRows(r io.Reader, name string) ([]Row, error) {
	rows, bad, err := readRows(r, name, false)
	if err == nil && len(bad) > 0 {
		err = bad[0]
	}
	return rows, err
}

// ReadRowsSkipping is ReadRows that leaves out the bad rows and returns them; it fails only
// when the file itself cannot be read (no header, a required column missing, broken CSV).
func ReadRowsSkipping(r io.Reader, name string) ([]Row, []*BadRow, error) {
	return readRows(r, name, true)
}

func readRows(r io.Reader, name string, skip bool) ([]Row, []*BadRow, error) {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	head, err := cr.Read()
	if err == io.EOF {
		return nil, nil, fmt.Errorf("%s: empty file (want the header: %s)", name, strings.Join(Header, ","))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", name, err)
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.TrimSpace(h)
		if !slices.Contains(Columns(), h) {
			// A misspelt optional column (TPOT_LIMIT_MS, tpot_limit) was ignored, its values
			// with it: the rows were predicted without what it said.
			return nil, nil, fmt.Errorf("%s: unknown column %q in the header (allowed: %s)", name, h, strings.Join(Columns(), ","))
		}
		col[h] = i
	}
	for _, h := range []string{"id", "model", "gpu", "metric", "value"} {
		if _, ok := col[h]; !ok {
			return nil, nil, fmt.Errorf("%s: missing column %q (header: %s)", name, h, strings.Join(Header, ","))
		}
	}
	var rows []Row
	var bads []*BadRow
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %v", name, err)
		}
		line, _ := cr.FieldPos(0)
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
				if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
					if perr == nil {
						perr = &BadRow{File: name, Line: line, Field: k, Reason: fmt.Sprintf("%q is not an integer", s)}
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
			if k == "request_rate" && strings.EqualFold(s, "inf") {
				return math.Inf(1) // all requests at once, as vllm bench serve's default
			}
			v, err := strconv.ParseFloat(s, 64)
			if (err != nil || math.IsNaN(v) || math.IsInf(v, 0)) && perr == nil {
				perr = &BadRow{File: name, Line: line, Field: k, Reason: fmt.Sprintf("%q is not a finite number", s)}
			}
			return v
		}
		for _, k := range []string{"tpot_limit_ms", "ttft_limit_ms"} {
			// An explicit 0 would read as "no bound" (the empty cell); refuse it.
			if s := get(k); s != "" && perr == nil {
				if v, err := strconv.ParseFloat(s, 64); err == nil && v == 0 {
					perr = &BadRow{File: name, Line: line, Field: k, Reason: fmt.Sprintf("%q: must be a p99 bound in ms > 0 (empty: no bound)", s)}
				}
			}
		}
		eager := false
		switch v := get("enforce_eager"); strings.ToLower(v) {
		case "", "false":
		case "true":
			eager = true
		default:
			perr = &BadRow{File: name, Line: line, Field: "enforce_eager", Reason: fmt.Sprintf("%q: allowed values are true, false (empty: false)", v)}
		}
		r := Row{ID: get("id"), Source: get("source"), Model: get("model"), GPU: get("gpu"), NumGPUs: num("num_gpus"), TP: num("tp"), PP: num("pp"), DP: num("dp"), EP: num("ep"),
			Engine: get("engine"), WeightDtype: get("weight_dtype"), KVDtype: get("kv_dtype"), InputLen: num("input_len"), OutputLen: num("output_len"), PrefixLen: num("prefix_len"),
			Workload: get("workload"), Concurrency: num("concurrency"), RequestRate: flt("request_rate"), BatchSize: num("batch_size"), NumRequests: num("num_requests"),
			EngineVersion: get("engine_version"), TPOTLimitMs: flt("tpot_limit_ms"), TTFTLimitMs: flt("ttft_limit_ms"), NumSchedulerSteps: num("num_scheduler_steps"), EnforceEager: eager, MaxNumSeqs: num("max_num_seqs"), MaxNumBatchedTokens: num("max_num_batched_tokens"), GPUMemUtil: flt("gpu_memory_utilization"), Metric: get("metric"), Value: flt("value"), File: name, Line: line}
		if perr == nil {
			r.Tech, perr = readTechnique(col, get, num, flt, name, line)
		}
		if perr == nil {
			perr = r.Check()
		}
		if perr != nil {
			b := perr.(*BadRow)
			if !skip {
				return nil, []*BadRow{b}, nil
			}
			bads = append(bads, b)
			continue
		}
		rows = append(rows, r)
	}
	return rows, bads, nil
}

// EmbeddedFiles lists the names of the embedded validation CSVs (under data/validation/) (steps files and
// the intervals table excluded: they are
// step times, not serving measurements).
func EmbeddedFiles() ([]string, error) {
	ents, err := fs.ReadDir(data.FS, "validation")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".csv") && !strings.HasPrefix(e.Name(), "steps") && e.Name() != "intervals.csv" {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// Notes explains how the accuracy report is computed; every renderer prints them.
func Notes() []string {
	return []string{
		"APE = |predicted − measured| / measured; bias = median signed error; percentiles of APE by linear interpolation",
		"in_sample rows were used to choose engine-profile constants (data/validation/in_sample.txt); out_of_sample excludes them",
		"serving rows are simulated (seeded) unless --closed-form; offline and static rows use the same scheduler simulation",
		"latency rows of MLPerf Server/Interactive runs (tpot_limit_ms) are read at the deployment's own edge, the highest rate whose predicted p99 TPOT and TTFT meet the bounds (edge_request_rate in --output json); their throughput rows at the offered rate",
	}
}

// InSample reads the embedded list of id prefixes whose rows were used to tune engine profiles
// (data/validation/in_sample.txt) and reports whether an id is one of them.
func InSample() func(string) bool {
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

// ReadEmbedded reads every embedded validation CSV (EmbeddedFiles), in name order.
func ReadEmbedded() ([]Row, error) {
	names, err := EmbeddedFiles()
	if err != nil {
		return nil, err
	}
	var all []Row
	for _, n := range names {
		b, err := data.FS.Open("validation/" + n)
		if err != nil {
			return nil, err
		}
		rs, err := ReadRows(b, "data/validation/"+n)
		b.Close()
		if err != nil {
			return nil, err
		}
		all = append(all, rs...)
	}
	return all, nil
}

// LoadRows reads the validation rows of files (all embedded data/validation/*.csv when
// files is empty) and keeps those whose GPU known accepts (nil: every GPU). With skip, a
// row that cannot be used is left out and returned among the bad rows with why; without it,
// the first such row is the error (naming file, line and field). An unreadable file, an
// empty one and one with a header but no rows are errors naming --data.
func LoadRows(files []string, skip bool, known func(gpu string) error) ([]Row, []*BadRow, error) {
	var all []Row
	bad := []*BadRow{}
	if len(files) == 0 {
		rs, err := ReadEmbedded()
		if err != nil {
			return nil, nil, err
		}
		all = rs
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, nil, fmt.Errorf("--data: %v", err)
		}
		var rs []Row
		var b []*BadRow
		if skip {
			rs, b, err = ReadRowsSkipping(fh, f)
			bad = append(bad, b...)
		} else {
			rs, err = ReadRows(fh, f)
		}
		fh.Close()
		if err != nil {
			return nil, nil, err
		}
		if len(rs) == 0 && len(b) == 0 {
			// A summary of zero rows would print as a result; there is nothing to judge.
			return nil, nil, fmt.Errorf("--data %s: no measurement rows after the header (one row per measured number: %s)", f, strings.Join(Header, ","))
		}
		all = append(all, rs...)
	}
	kept := all[:0]
	for _, r := range all {
		if known != nil {
			if err := known(r.GPU); err != nil {
				b := &BadRow{File: r.File, Line: r.Line, Field: "gpu", Reason: err.Error()}
				if !skip {
					return nil, nil, b
				}
				bad = append(bad, b)
				continue
			}
		}
		kept = append(kept, r)
	}
	return kept, bad, nil
}
