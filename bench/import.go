package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
)

// Result-file formats accepted by Import.
const (
	FormatAuto          = "auto"
	FormatVLLM          = "vllm"           // vllm bench serve --save-result JSON
	FormatGenAIPerf     = "genai-perf"     // GenAI-Perf profile_export_genai_perf.json
	FormatGuideLLM      = "guidellm"       // guidellm benchmarks.json
	FormatInferencePerf = "inference-perf" // inference-perf summary_lifecycle_metrics.json
)

// Formats lists the formats Import accepts, FormatAuto first.
func Formats() []string {
	return []string{FormatAuto, FormatVLLM, FormatGenAIPerf, FormatGuideLLM, FormatInferencePerf}
}

// maxImportBytes bounds an imported file.
const maxImportBytes = 256 << 20

// Import reads a result file of another benchmark tool into Summaries (one per
// benchmark in the file: guidellm files may hold a sweep). format is one of Formats;
// FormatAuto recognises the file by its keys. Names are mapped to this package's
// definitions:
//
//	vllm bench serve   mean/median/std/pNN _ttft_ms, _itl_ms, _tpot_ms, _e2el_ms → TTFT, ITL, TPOT, E2E
//	                   (the same definitions); completed, duration, total_*_tokens,
//	                   request_throughput, output_throughput, total_token_throughput;
//	                   failed = num_prompts − completed
//	GenAI-Perf         time_to_first_token → TTFT; inter_token_latency → TPOT (its
//	                   "inter-token latency" is (request latency − TTFT)/(output − 1));
//	                   request_latency → E2E; output_token_throughput,
//	                   request_throughput, output_token_throughput_per_user; avg → mean,
//	                   p50 → median; ITL per chunk is not in the file
//	guidellm           time_to_first_token_ms → TTFT; inter_token_latency_ms → TPOT (same
//	                   reason); request_latency (s) → E2E; requests_per_second,
//	                   output_tokens_per_second, tokens_per_second (successful.mean);
//	                   request_totals; duration = end_time − start_time
//	inference-perf     time_to_first_token → TTFT, inter_token_latency → ITL,
//	                   time_per_output_token → TPOT, request_latency → E2E (all seconds);
//	                   throughput.*_per_sec; successes/failures count
//
// A statistic the file does not hold is NaN (null in JSON, "-" in tables); every
// Summary lists what was missing or approximate in its Warnings.
func Import(r io.Reader, format string) ([]Summary, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxImportBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxImportBytes {
		return nil, fmt.Errorf("file larger than %d MiB", maxImportBytes>>20)
	}
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not a single JSON object: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("not a single JSON object: more data after the first value")
	}
	if format == "" || format == FormatAuto {
		if format = detect(doc); format == "" {
			return nil, fmt.Errorf("format not recognised (want a result file of %s); give --format", strings.Join(Formats()[1:], ", "))
		}
	}
	switch format {
	case FormatVLLM:
		return importVLLM(doc)
	case FormatGenAIPerf:
		return importGenAIPerf(doc)
	case FormatGuideLLM:
		return importGuideLLM(doc)
	case FormatInferencePerf:
		return importInferencePerf(doc)
	}
	return nil, fmt.Errorf("format %q: allowed values are %s", format, strings.Join(Formats(), ", "))
}

// detect names the format of doc by its characteristic keys, "" if none fits.
func detect(doc map[string]any) string {
	has := func(k string) bool { _, ok := doc[k]; return ok }
	switch {
	case has("mean_ttft_ms") || has("median_ttft_ms"):
		return FormatVLLM
	case has("benchmarks"):
		return FormatGuideLLM
	case has("load_summary") || (has("successes") && has("failures")):
		return FormatInferencePerf
	case has("time_to_first_token") || has("request_latency"):
		return FormatGenAIPerf
	}
	return ""
}

// obj returns doc[path...] as an object (nil if absent or not an object).
func obj(doc map[string]any, path ...string) map[string]any {
	cur := doc
	for _, k := range path {
		next, ok := cur[k].(map[string]any)
		if !ok {
			return nil
		}
		cur = next
	}
	return cur
}

// number returns m[k] as a finite float64, NaN when absent or not a number.
func number(m map[string]any, k string) float64 {
	if m == nil {
		return math.NaN()
	}
	switch v := m[k].(type) {
	case json.Number:
		f, err := v.Float64()
		if err == nil && !math.IsInf(f, 0) {
			return f
		}
	case float64:
		return v
	}
	return math.NaN()
}

// count returns m[k] as a non-negative integer, ok false when absent or not one.
func count(m map[string]any, k string) (int, bool) {
	f := number(m, k)
	if math.IsNaN(f) || f < 0 || f > 1e15 || f != math.Trunc(f) {
		return 0, false
	}
	return int(f), true
}

// importer accumulates a Summary and the names it could not find.
type importer struct {
	s       Summary
	missing []string
}

func newImporter(source string) *importer {
	n := math.NaN()
	return &importer{s: Summary{Source: source, DurationS: n, RequestPerS: n, OutputTokS: n, TotalTokS: n, ChunksPerToken: n,
		TTFT: unknownDist(), ITL: unknownDist(), TPOT: unknownDist(), E2E: unknownDist(), OutputTokSPerUser: unknownDist()}}
}

// num sets *dst to m[k], noting k as missing when absent.
func (im *importer) num(dst *float64, m map[string]any, k, name string) {
	*dst = number(m, k)
	if math.IsNaN(*dst) {
		im.missing = append(im.missing, name)
	}
}

func (im *importer) integer(dst *int, m map[string]any, k, name string) bool {
	v, ok := count(m, k)
	if !ok {
		im.missing = append(im.missing, name)
		return false
	}
	*dst = v
	return true
}

// dist reads a statistics object with keys named by keys (mean, median, p90, p95, p99,
// std, in that order; "" = not available) scaled by scale.
func (im *importer) dist(m map[string]any, name string, scale float64, keys [6]string) Dist {
	if m == nil {
		im.missing = append(im.missing, name)
		return unknownDist()
	}
	var v [6]float64
	for i, k := range keys {
		v[i] = math.NaN()
		if k != "" {
			v[i] = number(m, k) * scale
		}
	}
	d := Dist{Mean: v[0], Median: v[1], P90: v[2], P95: v[3], P99: v[4], Std: v[5]}
	if math.IsNaN(d.Mean) && math.IsNaN(d.Median) {
		im.missing = append(im.missing, name)
	}
	return d
}

func (im *importer) finish(notes ...string) Summary {
	if len(im.missing) > 0 {
		im.s.Warnings = append(im.s.Warnings, "not in the file: "+strings.Join(im.missing, ", "))
	}
	im.s.Warnings = append(im.s.Warnings, notes...)
	return im.s
}

// unitScale converts a GenAI-Perf/inference-perf unit name to milliseconds.
func unitScale(unit string) (float64, bool) {
	switch strings.ToLower(unit) {
	case "ms", "":
		return 1, true
	case "s", "sec", "seconds":
		return 1e3, true
	case "us", "µs":
		return 1e-3, true
	case "ns":
		return 1e-6, true
	}
	return 0, false
}

func importVLLM(doc map[string]any) ([]Summary, error) {
	im := newImporter("vllm bench serve")
	s := &im.s
	s.Percentiles = "linear interpolation (numpy, as vllm bench serve)"
	if !im.integer(&s.Completed, doc, "completed", "completed") {
		return nil, fmt.Errorf(`vllm: "completed" missing or not a count`)
	}
	if n, ok := count(doc, "num_prompts"); ok && n >= s.Completed {
		s.Failed = n - s.Completed
	} else if f, ok := count(doc, "failed"); ok {
		s.Failed = f
	}
	im.integer(&s.TotalInputTokens, doc, "total_input_tokens", "total_input_tokens")
	im.integer(&s.TotalOutputTokens, doc, "total_output_tokens", "total_output_tokens")
	im.num(&s.DurationS, doc, "duration", "duration")
	im.num(&s.RequestPerS, doc, "request_throughput", "request_throughput")
	im.num(&s.OutputTokS, doc, "output_throughput", "output_throughput")
	im.num(&s.TotalTokS, doc, "total_token_throughput", "total_token_throughput")
	if g := number(doc, "request_goodput"); !math.IsNaN(g) {
		s.GoodputReqS = &g
	}
	for _, m := range []struct {
		d    *Dist
		name string
	}{{&s.TTFT, "ttft"}, {&s.ITL, "itl"}, {&s.TPOT, "tpot"}, {&s.E2E, "e2el"}} {
		k := func(stat string) string { return stat + "_" + m.name + "_ms" }
		*m.d = im.dist(doc, k("mean")+"/"+k("median"), 1, [6]string{k("mean"), k("median"), k("p90"), k("p95"), k("p99"), k("std")})
	}
	return []Summary{im.finish()}, nil
}

// genaiKeys are GenAI-Perf's statistic names.
var genaiKeys = [6]string{"avg", "p50", "p90", "p95", "p99", "std"}

func importGenAIPerf(doc map[string]any) ([]Summary, error) {
	im := newImporter("GenAI-Perf")
	s := &im.s
	s.Percentiles = "as computed by GenAI-Perf (numpy percentiles)"
	stat := func(key, name string) Dist {
		m := obj(doc, key)
		scale := 1.0
		if m != nil {
			u, _ := m["unit"].(string)
			var ok bool
			if scale, ok = unitScale(u); !ok {
				im.missing = append(im.missing, fmt.Sprintf("%s (unknown unit %q)", key, u))
				return unknownDist()
			}
		}
		return im.dist(m, key+" → "+name, scale, genaiKeys)
	}
	s.TTFT = stat("time_to_first_token", "TTFT")
	s.TPOT = stat("inter_token_latency", "TPOT")
	s.E2E = stat("request_latency", "E2E")
	im.num(&s.OutputTokS, obj(doc, "output_token_throughput"), "avg", "output_token_throughput")
	im.num(&s.RequestPerS, obj(doc, "request_throughput"), "avg", "request_throughput")
	if m := obj(doc, "output_token_throughput_per_user"); m != nil {
		s.OutputTokSPerUser = im.dist(m, "output_token_throughput_per_user", 1, genaiKeys)
	}
	notes := []string{"GenAI-Perf's inter_token_latency is per token, (request latency − TTFT)/(output tokens − 1): it is shown as TPOT; per-chunk ITL is not in the file"}
	if n, ok := count(obj(doc, "request_count"), "avg"); ok {
		s.Completed = n
		if !math.IsNaN(s.RequestPerS) && s.RequestPerS > 0 {
			s.DurationS = float64(n) / s.RequestPerS
			notes = append(notes, "duration_s is request_count / request_throughput")
		}
		if osl := number(obj(doc, "output_sequence_length"), "avg"); !math.IsNaN(osl) {
			s.TotalOutputTokens = int(math.Round(osl * float64(n)))
		}
		if isl := number(obj(doc, "input_sequence_length"), "avg"); !math.IsNaN(isl) {
			s.TotalInputTokens = int(math.Round(isl * float64(n)))
		}
		notes = append(notes, "token totals are mean sequence lengths × request count")
	} else {
		im.missing = append(im.missing, "request_count (completed, duration and token totals)")
	}
	return []Summary{im.finish(notes...)}, nil
}

// guideKeys are guidellm's DistributionSummary names (percentiles nested).
func guideDist(im *importer, m map[string]any, name string, scale float64) Dist {
	d := im.dist(m, name, scale, [6]string{"mean", "median", "", "", "", "std_dev"})
	if p := obj(m, "percentiles"); p != nil {
		d.P90, d.P95, d.P99 = number(p, "p90")*scale, number(p, "p95")*scale, number(p, "p99")*scale
	}
	return d
}

func importGuideLLM(doc map[string]any) ([]Summary, error) {
	list, ok := doc["benchmarks"].([]any)
	if !ok || len(list) == 0 {
		return nil, fmt.Errorf(`guidellm: "benchmarks" missing or empty`)
	}
	var out []Summary
	for i, item := range list {
		b, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("guidellm: benchmarks[%d] is not an object", i)
		}
		im := newImporter("guidellm")
		s := &im.s
		s.Percentiles = "as computed by guidellm"
		s.Name = fmt.Sprintf("benchmark %d", i+1)
		if p := obj(b, "args", "profile"); p != nil {
			if t, ok := p["type_"].(string); ok {
				s.Name += " (" + t + ")"
			}
		}
		m := obj(b, "metrics")
		if m == nil {
			return nil, fmt.Errorf(`guidellm: benchmarks[%d]: "metrics" missing`, i)
		}
		succ := func(k string) map[string]any { return obj(m, k, "successful") }
		s.TTFT = guideDist(im, succ("time_to_first_token_ms"), "time_to_first_token_ms", 1)
		s.TPOT = guideDist(im, succ("inter_token_latency_ms"), "inter_token_latency_ms", 1)
		s.E2E = guideDist(im, succ("request_latency"), "request_latency", 1e3)
		im.num(&s.RequestPerS, succ("requests_per_second"), "mean", "requests_per_second")
		im.num(&s.OutputTokS, succ("output_tokens_per_second"), "mean", "output_tokens_per_second")
		im.num(&s.TotalTokS, succ("tokens_per_second"), "mean", "tokens_per_second")
		if t := obj(b, "request_totals"); t != nil {
			im.integer(&s.Completed, t, "successful", "request_totals.successful")
			e, _ := count(t, "errored")
			inc, _ := count(t, "incomplete")
			s.Failed = e + inc
		} else {
			im.missing = append(im.missing, "request_totals")
		}
		if st, en := number(b, "start_time"), number(b, "end_time"); en > st {
			s.DurationS = en - st
		} else {
			im.missing = append(im.missing, "start_time/end_time")
		}
		if v := number(succ("output_token_count"), "total_sum"); !math.IsNaN(v) {
			s.TotalOutputTokens = int(v)
		}
		if v := number(succ("prompt_token_count"), "total_sum"); !math.IsNaN(v) {
			s.TotalInputTokens = int(v)
		}
		out = append(out, im.finish("guidellm's inter_token_latency is per token, (request latency − TTFT)/(output tokens − 1): it is shown as TPOT; per-chunk ITL is not in the file"))
	}
	return out, nil
}

func importInferencePerf(doc map[string]any) ([]Summary, error) {
	succ := obj(doc, "successes")
	if succ == nil {
		return nil, fmt.Errorf(`inference-perf: "successes" missing`)
	}
	im := newImporter("inference-perf")
	s := &im.s
	s.Percentiles = "as computed by inference-perf"
	im.integer(&s.Completed, succ, "count", "successes.count")
	if n, ok := count(obj(doc, "failures"), "count"); ok {
		s.Failed = n
	}
	lat := obj(succ, "latency")
	keys := [6]string{"mean", "median", "p90", "p95", "p99", "std"}
	s.TTFT = im.dist(obj(lat, "time_to_first_token"), "latency.time_to_first_token", 1e3, keys)
	s.ITL = im.dist(obj(lat, "inter_token_latency"), "latency.inter_token_latency", 1e3, keys)
	s.TPOT = im.dist(obj(lat, "time_per_output_token"), "latency.time_per_output_token", 1e3, keys)
	s.E2E = im.dist(obj(lat, "request_latency"), "latency.request_latency", 1e3, keys)
	tp := obj(succ, "throughput")
	im.num(&s.RequestPerS, tp, "requests_per_sec", "throughput.requests_per_sec")
	im.num(&s.OutputTokS, tp, "output_tokens_per_sec", "throughput.output_tokens_per_sec")
	im.num(&s.TotalTokS, tp, "total_tokens_per_sec", "throughput.total_tokens_per_sec")
	var notes []string
	if s.RequestPerS > 0 && s.Completed > 0 {
		s.DurationS = float64(s.Completed) / s.RequestPerS
		notes = append(notes, "duration_s is successes.count / requests_per_sec")
	}
	if v := number(obj(succ, "output_len"), "mean"); !math.IsNaN(v) {
		s.TotalOutputTokens = int(math.Round(v * float64(s.Completed)))
	}
	if v := number(obj(succ, "prompt_len"), "mean"); !math.IsNaN(v) {
		s.TotalInputTokens = int(math.Round(v * float64(s.Completed)))
	}
	notes = append(notes, "token totals are mean lengths × successes.count")
	return []Summary{im.finish(notes...)}, nil
}
