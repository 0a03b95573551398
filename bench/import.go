package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// Result-file formats accepted by Import.
const (
	FormatAuto          = "auto"
	FormatVLLM          = "vllm"           // vllm bench serve --save-result JSON, --append-result JSON lines, vllm bench sweep arrays
	FormatSGLang        = "sglang"         // SGLang bench_serving --output-file JSON lines
	FormatGenAIPerf     = "genai-perf"     // GenAI-Perf profile_export_genai_perf.json or .csv
	FormatAIPerf        = "aiperf"         // AIPerf profile_export_aiperf.json or .csv
	FormatGuideLLM      = "guidellm"       // guidellm benchmarks.json / .yaml, before and after 0.4
	FormatInferencePerf = "inference-perf" // inference-perf summary_lifecycle_metrics.json and stage_N_lifecycle_metrics.json
	FormatRoofline      = "roofline"       // roofline bench --output json, or its --record JSON lines
)

// Formats lists the formats Import accepts, FormatAuto first.
func Formats() []string {
	return []string{FormatAuto, FormatVLLM, FormatSGLang, FormatGenAIPerf, FormatAIPerf, FormatGuideLLM, FormatInferencePerf, FormatRoofline}
}

// maxImportBytes bounds an imported file.
const maxImportBytes = 256 << 20

// Import reads a result file of a benchmark tool into Summaries, one per benchmark in
// the file (a JSON-lines file, a sweep array or a guidellm sweep holds several).
// format is one of Formats; FormatAuto recognises the file by its content, never by its
// name. Every Summary names its tool (Source) and, where the file says, its version
// (ToolVersion). Names are mapped to this package's definitions:
//
//	vllm bench serve   mean/median/std/pNN _ttft_ms, _itl_ms, _tpot_ms, _e2el_ms → TTFT, ITL, TPOT, E2E
//	                   (the same definitions); completed, failed (or num_prompts − completed),
//	                   duration, total_*_tokens, request_throughput, output_throughput,
//	                   total_token_throughput, request_goodput; hints model_id, backend,
//	                   request_rate ("inf" = all at once), burstiness, max_concurrency
//	SGLang             as vLLM, but E2E is *_e2e_latency_ms and total throughput is
//	                   input_throughput + output_throughput (or total_throughput)
//	GenAI-Perf         time_to_first_token → TTFT; inter_token_latency → TPOT (its
//	                   "inter-token latency" is (request latency − TTFT)/(output − 1));
//	                   request_latency → E2E; avg → mean, p50 → median; per-chunk ITL is
//	                   not in the file; a non-streaming run has no TTFT, ITL or TPOT
//	AIPerf             as GenAI-Perf, plus inter_chunk_latency → ITL (per chunk, as here),
//	                   error_request_count → failed, benchmark_duration → duration,
//	                   total_token_throughput (or (total_isl + total_osl) / duration)
//	guidellm           every benchmark of the file; time_to_first_token_ms → TTFT;
//	                   inter_token_latency_ms → TPOT (same reason); request_latency (s) →
//	                   E2E; request_totals (under metrics from 0.4 on); duration (or
//	                   end_time − start_time)
//	inference-perf     time_to_first_token → TTFT, time_per_output_token → TPOT,
//	                   request_latency → E2E (seconds); inter_token_latency → ITL, whose
//	                   definition differs (gaps per re-tokenised text token, not per chunk)
//	roofline           bench --output json as written; --record lines are summarised
//
// A statistic the file does not hold is NaN (null in JSON, "-" in tables); a count it
// does not hold is listed in Summary.Missing (null in JSON); a statistic over zero
// samples is NaN, never 0. Every Summary lists what was missing or approximate in its
// Warnings and every definition that differs from this package's in Definitions.
// Python's non-JSON literals Infinity and NaN are accepted.
func Import(r io.Reader, format string) ([]Summary, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxImportBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxImportBytes {
		return nil, fmt.Errorf("file larger than %d MiB", maxImportBytes>>20)
	}
	if format == "" {
		format = FormatAuto
	}
	known := false
	for _, f := range Formats() {
		known = known || f == format
	}
	if !known {
		return nil, fmt.Errorf("format %q: allowed values are %s", format, strings.Join(Formats(), ", "))
	}
	trim := bytes.TrimSpace(b)
	if len(trim) == 0 {
		return nil, fmt.Errorf("the file is empty")
	}
	// CSV (GenAI-Perf, AIPerf) and YAML (guidellm) are recognised by their first bytes.
	if trim[0] != '{' && trim[0] != '[' {
		if bytes.HasPrefix(trim, []byte("Metric,")) {
			return importPerfCSV(trim, format)
		}
		if format == FormatAuto || format == FormatGuideLLM {
			return importYAML(trim, format)
		}
		return nil, fmt.Errorf("not JSON: a %s file is a JSON object", format)
	}
	docs, err := decodeValues(trim)
	if err != nil {
		return nil, err
	}
	var objs []map[string]any
	for i, d := range docs {
		switch v := d.(type) {
		case map[string]any:
			objs = append(objs, v)
		case []any: // vllm bench sweep summaries, roofline import arrays
			for j, e := range v {
				m, ok := e.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("value %d, element %d: not a JSON object", i+1, j)
				}
				objs = append(objs, m)
			}
		default:
			return nil, fmt.Errorf("value %d: not a JSON object", i+1)
		}
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("no JSON object in the file")
	}
	if format == FormatAuto || format == FormatRoofline {
		if _, ok := objs[0]["scheduled_s"]; ok {
			recs, err := ReadRecords(bytes.NewReader(trim))
			if err != nil {
				return nil, err
			}
			s := Summarize(recs, Options{})
			s.Name = "records"
			return []Summary{s}, nil
		}
	}
	var out []Summary
	for i, doc := range objs {
		f := format
		if f == FormatAuto {
			if f = detect(doc); f == "" && len(objs) == 1 {
				return nil, fmt.Errorf("format not recognised (want a result file of %s); give --format", strings.Join(Formats()[1:], ", "))
			} else if f == "" {
				return nil, fmt.Errorf("object %d: format not recognised (want a result file of %s); give --format", i+1, strings.Join(Formats()[1:], ", "))
			}
		}
		ss, err := importOne(doc, f)
		for k := 0; err == nil && k < len(ss); k++ {
			err = negativeStat(ss[k])
		}
		if err != nil {
			if len(objs) > 1 {
				return nil, fmt.Errorf("object %d: %v", i+1, err)
			}
			return nil, err
		}
		if len(objs) > 1 {
			for k := range ss {
				label := fmt.Sprintf("run %d", i+1)
				if ss[k].Name != "" {
					label += ", " + ss[k].Name
				}
				ss[k].Name = label
			}
		}
		out = append(out, ss...)
	}
	return out, nil
}

// negativeStat names the first negative statistic of an imported Summary: no latency,
// rate, duration or spread is below 0, so a file that gives one is corrupt (a TTFT of
// -5 ms was shown as measured).
func negativeStat(s Summary) error {
	for _, d := range []struct {
		name, unit string
		d          Dist
	}{{"TTFT", "ms", s.TTFT}, {"ITL", "ms", s.ITL}, {"TPOT", "ms", s.TPOT}, {"E2E", "ms", s.E2E}, {"per-user speed", "tok/s", s.OutputTokSPerUser}} {
		for _, st := range []struct {
			name string
			v    float64
		}{{"mean", d.d.Mean}, {"median", d.d.Median}, {"p90", d.d.P90}, {"p95", d.d.P95}, {"p99", d.d.P99}, {"std", d.d.Std}} {
			if st.v < 0 {
				return fmt.Errorf("%s %s %g %s: a measured statistic must be ≥ 0", d.name, st.name, st.v, d.unit)
			}
		}
	}
	for _, v := range []struct {
		name, unit string
		v          float64
	}{{"duration", "s", s.DurationS}, {"request throughput", "req/s", s.RequestPerS}, {"output throughput", "tok/s", s.OutputTokS}, {"total throughput", "tok/s", s.TotalTokS}} {
		if v.v < 0 {
			return fmt.Errorf("%s %g %s: a measured value must be ≥ 0", v.name, v.v, v.unit)
		}
	}
	return nil
}

func importOne(doc map[string]any, format string) ([]Summary, error) {
	switch format {
	case FormatVLLM:
		return importVLLM(doc, false)
	case FormatSGLang:
		return importVLLM(doc, true)
	case FormatGenAIPerf:
		return importGenAIPerf(doc, false)
	case FormatAIPerf:
		return importGenAIPerf(doc, true)
	case FormatGuideLLM:
		return importGuideLLM(doc)
	case FormatInferencePerf:
		return importInferencePerf(doc)
	case FormatRoofline:
		return importRoofline(doc)
	}
	return nil, fmt.Errorf("format %q: allowed values are %s", format, strings.Join(Formats(), ", "))
}

// decodeValues decodes every JSON value of b (one, or one per line), with Python's
// Infinity, -Infinity and NaN literals read as the strings "inf", "-inf" and "nan".
func decodeValues(b []byte) ([]any, error) {
	dec := json.NewDecoder(bytes.NewReader(pythonLiterals(b)))
	dec.UseNumber()
	var out []any
	for {
		var v any
		err := dec.Decode(&v)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			if len(out) == 0 {
				return nil, fmt.Errorf("not JSON: %v", err)
			}
			return nil, fmt.Errorf("JSON value %d: %v", len(out)+1, err)
		}
		out = append(out, v)
	}
}

// pythonLiterals rewrites the bare tokens Infinity, -Infinity and NaN (outside strings),
// which Python's json module writes, as JSON strings.
func pythonLiterals(b []byte) []byte {
	if !bytes.Contains(b, []byte("Infinity")) && !bytes.Contains(b, []byte("NaN")) {
		return b
	}
	var out bytes.Buffer
	inStr, esc := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inStr {
			out.WriteByte(c)
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch {
		case c == '"':
			inStr = true
		case bytes.HasPrefix(b[i:], []byte("-Infinity")):
			out.WriteString(`"-inf"`)
			i += len("-Infinity") - 1
			continue
		case bytes.HasPrefix(b[i:], []byte("Infinity")):
			out.WriteString(`"inf"`)
			i += len("Infinity") - 1
			continue
		case bytes.HasPrefix(b[i:], []byte("NaN")):
			out.WriteString(`"nan"`)
			i += len("NaN") - 1
			continue
		}
		out.WriteByte(c)
	}
	return out.Bytes()
}

// detect names the format of doc by its characteristic keys, "" if none fits.
func detect(doc map[string]any) string {
	has := func(k string) bool { _, ok := doc[k]; return ok }
	backend, _ := doc["backend"].(string)
	switch {
	case has("percentile_method") && has("ttft_ms"):
		return FormatRoofline
	case has("mean_e2e_latency_ms") || has("input_throughput") || strings.HasPrefix(backend, "sglang"):
		return FormatSGLang
	case has("mean_ttft_ms") || has("median_ttft_ms") || has("completed") && has("mean_e2el_ms"):
		return FormatVLLM
	case has("benchmarks"):
		return FormatGuideLLM
	case has("load_summary") || (has("successes") && has("failures")):
		return FormatInferencePerf
	case has("aiperf_version") || has("inter_chunk_latency") || has("error_request_count") || has("benchmark_duration") ||
		obj(doc, "records", "time_to_first_token") != nil || obj(doc, "records", "request_latency") != nil:
		return FormatAIPerf
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

// str returns doc[k] as a string, "" when absent or not a string.
func str(doc map[string]any, k string) string {
	s, _ := doc[k].(string)
	return s
}

// number returns m[k] as a finite float64, NaN when absent or not a number. The
// strings "inf" and "Infinity" give +Inf only through rate.
func number(m map[string]any, k string) float64 {
	if m == nil {
		return math.NaN()
	}
	var f float64
	switch v := m[k].(type) {
	case json.Number:
		var err error
		if f, err = v.Float64(); err != nil {
			return math.NaN()
		}
	case float64:
		f = v
	case int:
		f = float64(v)
	case int64:
		f = float64(v)
	case uint64:
		f = float64(v)
	default:
		return math.NaN()
	}
	if math.IsInf(f, 0) {
		return math.NaN()
	}
	return f
}

// rate returns m[k] as a request rate in requests/s: a positive number, +Inf for
// "inf"/Infinity, NaN when absent or not a rate.
func rate(m map[string]any, k string) float64 {
	if s, ok := m[k].(string); ok {
		if f, err := strconv.ParseFloat(s, 64); err == nil && math.IsInf(f, 1) {
			return f
		}
		return math.NaN()
	}
	if f := number(m, k); f > 0 {
		return f
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

// importer accumulates a Summary, the file keys it could not find and notes.
type importer struct {
	s       Summary
	missing []string // file keys, for the warning
	notes   []string
}

func newImporter(source string) *importer {
	n := math.NaN()
	u := unknownDist()
	u.Count = CountUnknown
	return &importer{s: Summary{Source: source, DurationS: n, RequestPerS: n, OutputTokS: n, TotalTokS: n, ChunksPerToken: n,
		TTFT: u, ITL: u, TPOT: u, E2E: u, OutputTokSPerUser: u,
		Missing: []string{FieldNoContent}}}
}

// unknown marks a Summary count field as not in the file.
func (im *importer) unknown(field string) {
	if im.s.Known(field) {
		im.s.Missing = append(im.s.Missing, field)
	}
}

// num sets *dst to m[k], noting k as missing when absent.
func (im *importer) num(dst *float64, m map[string]any, k, name string) {
	*dst = number(m, k)
	if math.IsNaN(*dst) {
		im.missing = append(im.missing, name)
	}
}

// integer sets the count *dst (Summary field) from m[k], or marks it unknown.
func (im *importer) integer(dst *int, field string, m map[string]any, k, name string) bool {
	v, ok := count(m, k)
	if !ok {
		im.missing = append(im.missing, name)
		im.unknown(field)
		return false
	}
	*dst = v
	return true
}

// dist reads a statistics object with keys named by keys (mean, median, p90, p95, p99,
// std, in that order; "" = not available) scaled by scale.
func (im *importer) dist(m map[string]any, name string, scale float64, keys [6]string) Dist {
	d := unknownDist()
	d.Count = CountUnknown
	if m == nil {
		im.missing = append(im.missing, name)
		return d
	}
	v := []*float64{&d.Mean, &d.Median, &d.P90, &d.P95, &d.P99, &d.Std}
	for i, k := range keys {
		if k != "" {
			*v[i] = number(m, k) * scale
		}
	}
	if math.IsNaN(d.Mean) && math.IsNaN(d.Median) {
		im.missing = append(im.missing, name)
	}
	return d
}

// setLens records mean input and output lengths from the token totals.
func (im *importer) setLens(how string) {
	s := &im.s
	if s.Completed > 0 && s.Known(FieldCompleted) {
		if s.Known(FieldTotalInputTokens) && s.TotalInputTokens > 0 {
			v := float64(s.TotalInputTokens) / float64(s.Completed)
			s.Run.InputLen = &v
		}
		if s.Known(FieldTotalOutputTokens) && s.TotalOutputTokens > 0 {
			v := float64(s.TotalOutputTokens) / float64(s.Completed)
			s.Run.OutputLen = &v
		}
		if s.Run.InputLen != nil || s.Run.OutputLen != nil {
			s.Run.LenSource = how
		}
	}
}

// define records that the file's metric (a JSON name such as itl_ms) has another
// definition than this package's.
func (im *importer) define(metric, how string) {
	if im.s.Definitions == nil {
		im.s.Definitions = map[string]string{}
	}
	im.s.Definitions[metric] = how
}

// noLatency clears the latencies that a run without successful requests, or without
// streaming, cannot have measured (files write 0 for them).
func (im *importer) noLatency(why string, ttft bool) {
	u := unknownDist()
	if ttft {
		im.s.TTFT = u
	}
	im.s.ITL, im.s.TPOT, im.s.OutputTokSPerUser = u, u, u
	if im.s.Completed == 0 && im.s.Known(FieldCompleted) {
		im.s.E2E = u
	}
	im.notes = append(im.notes, why)
}

func (im *importer) finish() Summary {
	if len(im.missing) > 0 {
		im.s.Warnings = append(im.s.Warnings, "not in the file: "+strings.Join(im.missing, ", "))
	}
	im.s.Warnings = append(im.s.Warnings, im.notes...)
	return im.s
}

// unitScale converts a GenAI-Perf/AIPerf/inference-perf unit name to milliseconds.
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

// ImportFile reads a result file with Import. An empty file (a --record file of a run that
// recorded no request) is one summary with nothing completed and a warning saying so.
func ImportFile(path, format string) ([]Summary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	ss, err := Import(f, format)
	f.Close()
	if st, serr := os.Stat(path); err != nil && serr == nil && st.Size() == 0 {
		s := Summarize(nil, Options{})
		s.Warnings = append(s.Warnings, "the result file is empty: no request was recorded")
		return []Summary{s}, nil
	}
	return ss, err
}

// WriteJSONList writes one summary as a JSON object (WriteJSON), several as a JSON array.
func WriteJSONList(w io.Writer, ss []Summary) error {
	if len(ss) == 1 {
		return ss[0].WriteJSON(w)
	}
	w.Write([]byte("[\n"))
	for i, s := range ss {
		if i > 0 {
			w.Write([]byte(",\n"))
		}
		if err := s.WriteJSON(w); err != nil {
			return err
		}
	}
	_, err := w.Write([]byte("]\n"))
	return err
}

// WriteAs writes summaries in format: "csv" (WriteCSV, one row each), "json" (WriteJSONList)
// or "table" (WriteTable, a blank line between summaries).
func WriteAs(w io.Writer, format string, ss ...Summary) error {
	switch format {
	case "csv":
		return WriteCSV(w, ss...)
	case "json":
		return WriteJSONList(w, ss)
	}
	for i, s := range ss {
		if i > 0 {
			w.Write([]byte("\n"))
		}
		if err := s.WriteTable(w); err != nil {
			return err
		}
	}
	return nil
}
