package validation

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"io/fs"
	"math"
	"sort"
	"strconv"
	"strings"

	"roofline/data"
)

// Row is one row of the validation format (data/validation/README.md): one measured number
// with the deployment and workload it was measured on. Lengths are tokens, rates req/s.
type Row struct {
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
	// File is the file the row came from (a model given as a relative path to a config.json
	// is resolved against its directory); Line is its 1-based line number.
	File string
	Line int
}

// Header lists the columns of the validation format in order.
var Header = []string{"id", "source", "model", "gpu", "num_gpus", "tp", "pp", "dp", "ep", "engine", "weight_dtype", "kv_dtype", "input_len", "output_len", "prefix_len", "workload", "concurrency", "request_rate", "batch_size", "num_requests", "max_num_seqs", "max_num_batched_tokens", "gpu_memory_utilization", "metric", "value"}

// ReadRows parses a validation CSV read from r; name labels errors and becomes each row's File.
// The columns id, model, gpu, metric and value are required, others may be missing or empty
// (zero); lines starting with # are comments. A malformed row is an error naming file, line
// and column.
func ReadRows(r io.Reader, name string) ([]Row, error) {
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
			return nil, fmt.Errorf("%s: missing column %q (header: %s)", name, h, strings.Join(Header, ","))
		}
	}
	var rows []Row
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
		r := Row{ID: get("id"), Source: get("source"), Model: get("model"), GPU: get("gpu"), NumGPUs: num("num_gpus"), TP: num("tp"), PP: num("pp"), DP: num("dp"), EP: num("ep"),
			Engine: get("engine"), WeightDtype: get("weight_dtype"), KVDtype: get("kv_dtype"), InputLen: num("input_len"), OutputLen: num("output_len"), PrefixLen: num("prefix_len"),
			Workload: get("workload"), Concurrency: num("concurrency"), RequestRate: flt("request_rate"), BatchSize: num("batch_size"), NumRequests: num("num_requests"),
			MaxNumSeqs: num("max_num_seqs"), MaxNumBatchedTokens: num("max_num_batched_tokens"), GPUMemUtil: flt("gpu_memory_utilization"), Metric: get("metric"), Value: flt("value"), File: name, Line: line}
		if perr != nil {
			return nil, perr
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// EmbeddedFiles lists the names of the embedded validation CSVs (under data/validation/) (steps files excluded: they are
// step times, not serving measurements).
func EmbeddedFiles() ([]string, error) {
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

// Notes explains how the accuracy report is computed; every renderer prints them.
func Notes() []string {
	return []string{
		"APE = |predicted − measured| / measured; bias = median signed error; percentiles of APE by linear interpolation",
		"in_sample rows were used to choose engine-profile constants (data/validation/in_sample.txt); out_of_sample excludes them",
		"serving rows are simulated (seeded) unless --closed-form; offline and static rows use the same scheduler simulation",
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
