package bench

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// The tests below check every imported number against the file itself, read by an
// independent reader written here (encoding/json into maps, encoding/csv), never
// against the importer's own output. testdata/import/SOURCES.md says where each file
// comes from.

// readJSONValues decodes a JSON file, a JSON array or JSON lines into objects.
func readJSONValues(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	var arr []map[string]any
	if json.Unmarshal(b, &arr) == nil {
		return arr
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var whole map[string]any
	if json.Unmarshal(b, &whole) == nil {
		return []map[string]any{whole}
	}
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, m)
	}
	return out
}

// at walks a path of object keys and returns the number there (NaN if absent).
func at(m map[string]any, path ...string) float64 {
	var cur any = m
	for _, k := range path {
		o, ok := cur.(map[string]any)
		if !ok {
			return math.NaN()
		}
		cur = o[k]
	}
	f, ok := cur.(float64)
	if !ok {
		return math.NaN()
	}
	return f
}

func importFile(t *testing.T, path, format string) []Summary {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ss, err := Import(f, format)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return ss
}

// same fails unless got equals want within 1e-9 relative (NaN equals NaN).
func same(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.IsNaN(want) && math.IsNaN(got) {
		return
	}
	if math.IsNaN(want) != math.IsNaN(got) || math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// checkVLLMStyle checks a vLLM or SGLang result object m against its Summary s.
func checkVLLMStyle(t *testing.T, s Summary, m map[string]any, e2eKey string) {
	t.Helper()
	same(t, "completed", float64(s.Completed), at(m, "completed"))
	if f := at(m, "failed"); !math.IsNaN(f) {
		same(t, "failed", float64(s.Failed), f)
	} else if n := at(m, "num_prompts"); !math.IsNaN(n) {
		same(t, "failed", float64(s.Failed), n-at(m, "completed"))
	}
	same(t, "total_input_tokens", float64(s.TotalInputTokens), at(m, "total_input_tokens"))
	same(t, "total_output_tokens", float64(s.TotalOutputTokens), at(m, "total_output_tokens"))
	same(t, "duration", s.DurationS, at(m, "duration"))
	same(t, "request_throughput", s.RequestPerS, at(m, "request_throughput"))
	same(t, "output_throughput", s.OutputTokS, at(m, "output_throughput"))
	if e2eKey == "e2el" {
		same(t, "total_token_throughput", s.TotalTokS, at(m, "total_token_throughput"))
	} else {
		same(t, "input + output throughput", s.TotalTokS, at(m, "input_throughput")+at(m, "output_throughput"))
	}
	for _, d := range []struct {
		key string
		got Dist
	}{{"ttft", s.TTFT}, {"tpot", s.TPOT}, {"itl", s.ITL}, {e2eKey, s.E2E}} {
		k := func(st string) float64 { return at(m, st+"_"+d.key+"_ms") }
		same(t, "mean_"+d.key, d.got.Mean, k("mean"))
		med := k("median")
		if math.IsNaN(med) {
			med = k("p50")
		}
		same(t, "median_"+d.key, d.got.Median, med)
		same(t, "std_"+d.key, d.got.Std, k("std"))
		same(t, "p90_"+d.key, d.got.P90, k("p90"))
		same(t, "p95_"+d.key, d.got.P95, k("p95"))
		same(t, "p99_"+d.key, d.got.P99, k("p99"))
		if d.got.Count != CountUnknown {
			t.Errorf("%s count %d: the file gives none, want unknown", d.key, d.got.Count)
		}
	}
	if s.Run.Model != "" && s.Run.Model != m["model_id"] {
		t.Errorf("model %q, file %v", s.Run.Model, m["model_id"])
	}
	switch r := m["request_rate"].(type) {
	case string:
		if s.Run.RequestRate == nil || !math.IsInf(*s.Run.RequestRate, 1) {
			t.Errorf("request_rate %q: want +Inf hint", r)
		}
	case float64:
		if s.Run.RequestRate == nil || *s.Run.RequestRate != r {
			t.Errorf("request_rate %v: hint %v", r, s.Run.RequestRate)
		}
	}
	if c, ok := m["max_concurrency"].(float64); ok && (s.Run.Concurrency == nil || float64(*s.Run.Concurrency) != c) {
		t.Errorf("max_concurrency %v: hint %v", c, s.Run.Concurrency)
	}
	same(t, "input_len hint", *s.Run.InputLen, at(m, "total_input_tokens")/at(m, "completed"))
}

func TestImportVLLMFiles(t *testing.T) {
	for _, c := range []struct {
		file, format string
		n            int
	}{
		{"../cmd/roofline/testdata/import_in_vllm.json", FormatAuto, 1},
		{"testdata/import/vllm_append.jsonl", FormatAuto, 2},
		{"testdata/import/vllm_append.jsonl", FormatVLLM, 2},
		{"testdata/import/vllm_sweep_summary.json", FormatAuto, 2},
	} {
		ss := importFile(t, c.file, c.format)
		ms := readJSONValues(t, c.file)
		if len(ss) != c.n || len(ms) != c.n {
			t.Fatalf("%s: %d summaries, %d objects, want %d", c.file, len(ss), len(ms), c.n)
		}
		for i := range ss {
			if ss[i].Source != "vllm bench serve" {
				t.Errorf("%s: source %q", c.file, ss[i].Source)
			}
			if c.n > 1 && !strings.HasPrefix(ss[i].Name, "run "+strconv.Itoa(i+1)) {
				t.Errorf("%s: name %q", c.file, ss[i].Name)
			}
			checkVLLMStyle(t, ss[i], ms[i], "e2el")
		}
	}
}

// TestImportSGLang: the case file's right values (E2E mean 3105 ms, TTFT mean 45 ms,
// TPOT mean 12 ms, total 3931 + 983 = 4914 tok/s, labelled SGLang), then every number
// against the file.
func TestImportSGLang(t *testing.T) {
	for _, file := range []string{"testdata/import/sglang_0801_200_1024_256.jsonl", "testdata/import/sglang_single_run.json"} {
		ss := importFile(t, file, FormatAuto)
		ms := readJSONValues(t, file)
		if len(ss) != len(ms) {
			t.Fatalf("%s: %d summaries for %d lines", file, len(ss), len(ms))
		}
		s := ss[0]
		if s.Source != "SGLang bench_serving" || s.E2E.Mean != 3105 || s.TTFT.Mean != 45 || s.TPOT.Mean != 12 || math.Abs(s.TotalTokS-4914) > 0.5 {
			t.Errorf("%s run 1: %s E2E %v TTFT %v TPOT %v total %v", file, s.Source, s.E2E.Mean, s.TTFT.Mean, s.TPOT.Mean, s.TotalTokS)
		}
		for i := range ss {
			checkVLLMStyle(t, ss[i], ms[i], "e2e_latency")
			if !s.Known(FieldCompleted) || s.Known(FieldFailed) {
				t.Errorf("SGLang gives completed but no failure count: missing %v", s.Missing)
			}
		}
	}
}

// TestImportAIPerf: the case values (TTFT mean 1588.8 ms, p95 4051.4 ms, E2E mean 6550
// ms, 200 OK and 84 errored, 15.197 s, labelled AIPerf), then the file's numbers.
func TestImportAIPerf(t *testing.T) {
	file := "testdata/import/aiperf_profile_export_aiperf.json"
	ss := importFile(t, file, FormatAuto)
	m := readJSONValues(t, file)[0]
	s := ss[0]
	if s.Source != "AIPerf" || s.ToolVersion != "0.5.0" || s.Completed != 200 || s.Failed != 84 ||
		math.Abs(s.TTFT.Mean-1588.8) > 0.05 || math.Abs(s.TTFT.P95-4051.4) > 0.05 || math.Abs(s.E2E.Mean-6550) > 0.5 || math.Abs(s.DurationS-15.197) > 0.001 {
		t.Errorf("%+v", s)
	}
	for _, d := range []struct {
		key string
		got Dist
	}{{"time_to_first_token", s.TTFT}, {"request_latency", s.E2E}, {"inter_token_latency", s.TPOT}} {
		same(t, d.key+" avg", d.got.Mean, at(m, d.key, "avg"))
		same(t, d.key+" p50", d.got.Median, at(m, d.key, "p50"))
		same(t, d.key+" p90", d.got.P90, at(m, d.key, "p90"))
		same(t, d.key+" p99", d.got.P99, at(m, d.key, "p99"))
		same(t, d.key+" std", d.got.Std, at(m, d.key, "std"))
	}
	same(t, "benchmark_duration", s.DurationS, at(m, "benchmark_duration", "avg"))
	same(t, "request_throughput", s.RequestPerS, at(m, "request_throughput", "avg"))
	same(t, "output_token_throughput", s.OutputTokS, at(m, "output_token_throughput", "avg"))
	same(t, "total_isl", float64(s.TotalInputTokens), at(m, "total_isl", "avg"))
	same(t, "total_osl", float64(s.TotalOutputTokens), at(m, "total_osl", "avg"))
	same(t, "total tok/s", s.TotalTokS, (at(m, "total_isl", "avg")+at(m, "total_osl", "avg"))/at(m, "benchmark_duration", "avg"))
	if s.Errors["HTTP 499 RequestCancellationError"] != 81 || s.Errors["HTTP 500 InternalServerError"] != 3 {
		t.Errorf("errors %v", s.Errors)
	}
	if s.Run.Model != "openai/gpt-oss-20b" || s.Run.Concurrency == nil || *s.Run.Concurrency != 100 || s.Run.Streaming == nil || !*s.Run.Streaming {
		t.Errorf("run %+v", s.Run)
	}
	// This file has no inter_chunk_latency: ITL is unknown and named as missing.
	if !math.IsNaN(s.ITL.Mean) || !strings.Contains(strings.Join(s.Warnings, ";"), "inter_chunk_latency") {
		t.Errorf("ITL %v, warnings %v", s.ITL, s.Warnings)
	}
}

// TestImportGuideLLMv05: the case values (480 completed, 8 failed = 3 incomplete + 5
// errored, 120 s), then each statistic against the file.
func TestImportGuideLLMv05(t *testing.T) {
	file := "testdata/import/guidellm_v05_benchmarks.json"
	ss := importFile(t, file, FormatAuto)
	doc := readJSONValues(t, file)[0]
	bs := doc["benchmarks"].([]any)
	if len(ss) != len(bs) {
		t.Fatalf("%d summaries for %d benchmarks", len(ss), len(bs))
	}
	s := ss[0]
	if s.Source != "guidellm" || s.ToolVersion != "0.5.0" || s.Completed != 480 || s.Failed != 8 || s.DurationS != 120 {
		t.Errorf("%+v", s)
	}
	b := bs[0].(map[string]any)
	succ := func(metric, stat string) float64 { return at(b, "metrics", metric, "successful", stat) }
	pct := func(metric, p string) float64 { return at(b, "metrics", metric, "successful", "percentiles", p) }
	same(t, "ttft mean", s.TTFT.Mean, succ("time_to_first_token_ms", "mean"))
	same(t, "ttft median", s.TTFT.Median, succ("time_to_first_token_ms", "median"))
	same(t, "ttft p99", s.TTFT.P99, pct("time_to_first_token_ms", "p99"))
	same(t, "ttft std", s.TTFT.Std, succ("time_to_first_token_ms", "std_dev"))
	same(t, "ttft count", float64(s.TTFT.Count), succ("time_to_first_token_ms", "count"))
	same(t, "tpot mean", s.TPOT.Mean, succ("inter_token_latency_ms", "mean"))
	same(t, "tpot p95", s.TPOT.P95, pct("inter_token_latency_ms", "p95"))
	same(t, "e2e mean (s → ms)", s.E2E.Mean, 1e3*succ("request_latency", "mean"))
	same(t, "e2e p90 (s → ms)", s.E2E.P90, 1e3*pct("request_latency", "p90"))
	same(t, "req/s", s.RequestPerS, succ("requests_per_second", "mean"))
	same(t, "output tok/s", s.OutputTokS, succ("output_tokens_per_second", "mean"))
	same(t, "total tok/s", s.TotalTokS, succ("tokens_per_second", "mean"))
	same(t, "input tokens", float64(s.TotalInputTokens), succ("prompt_token_count", "total_sum"))
	same(t, "output tokens", float64(s.TotalOutputTokens), succ("output_token_count", "total_sum"))
	same(t, "duration", s.DurationS, at(b, "duration"))
	if s.Run.Concurrency == nil || *s.Run.Concurrency != int(at(b, "config", "strategy", "streams")) {
		t.Errorf("concurrency hint %v", s.Run.Concurrency)
	}
	same(t, "input_len hint", *s.Run.InputLen, succ("prompt_token_count", "mean"))
	if !math.IsNaN(s.ITL.Mean) {
		t.Errorf("guidellm has no per-chunk ITL, got %v", s.ITL.Mean)
	}
}

// TestImportGuideLLMYAML: the YAML form gives the same summaries as its JSON twin, and
// its numbers are the JSON file's.
func TestImportGuideLLMYAML(t *testing.T) {
	y := importFile(t, "testdata/import/guidellm_old.yaml", FormatAuto)
	j := importFile(t, "../cmd/roofline/testdata/import_in_guidellm.json", FormatAuto)
	doc := readJSONValues(t, "../cmd/roofline/testdata/import_in_guidellm.json")[0]
	bs := doc["benchmarks"].([]any)
	if len(y) != len(bs) || len(j) != len(bs) || len(bs) < 2 {
		t.Fatalf("yaml %d, json %d, file %d benchmarks", len(y), len(j), len(bs))
	}
	for i := range bs {
		b := bs[i].(map[string]any)
		for _, s := range []Summary{y[i], j[i]} {
			same(t, "completed", float64(s.Completed), at(b, "request_totals", "successful"))
			same(t, "failed", float64(s.Failed), at(b, "request_totals", "errored")+at(b, "request_totals", "incomplete"))
			same(t, "duration", s.DurationS, at(b, "end_time")-at(b, "start_time"))
			same(t, "ttft mean", s.TTFT.Mean, at(b, "metrics", "time_to_first_token_ms", "successful", "mean"))
			same(t, "e2e p99", s.E2E.P99, 1e3*at(b, "metrics", "request_latency", "successful", "percentiles", "p99"))
		}
	}
}

// TestImportGenAIPerfCSV reads the CSV with encoding/csv here and checks each mapped
// number.
func TestImportGenAIPerfCSV(t *testing.T) {
	file := "testdata/import/genai_perf_profile_export.csv"
	s := importFile(t, file, FormatAuto)[0]
	b, _ := os.ReadFile(file)
	parts := strings.SplitN(string(b), "\n\n", 2)
	rows, err := csv.NewReader(strings.NewReader(parts[0])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	v := func(row, col int) float64 {
		f, err := strconv.ParseFloat(strings.ReplaceAll(rows[row][col], ",", ""), 64)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	// header: Metric,avg,min,max,p99,p95,p90,p75,p50,p25; rows TTFT, ITL, request latency, OSL, ISL
	same(t, "TTFT avg", s.TTFT.Mean, v(1, 1))
	same(t, "TTFT p99", s.TTFT.P99, v(1, 4))
	same(t, "TTFT p50", s.TTFT.Median, v(1, 8))
	same(t, "TPOT (ITL) avg", s.TPOT.Mean, v(2, 1))
	same(t, "E2E avg", s.E2E.Mean, v(3, 1))
	same(t, "E2E p95", s.E2E.P95, v(3, 5))
	same(t, "output tok/s", s.OutputTokS, 512)
	same(t, "req/s", s.RequestPerS, 4)
	same(t, "completed", float64(s.Completed), 200)
	same(t, "output tokens = OSL avg × count", float64(s.TotalOutputTokens), v(4, 1)*200)
	if s.Source != "GenAI-Perf" || s.Known(FieldFailed) {
		t.Errorf("source %q, missing %v", s.Source, s.Missing)
	}
}

// TestImportUnknownIsNull: what a file lacks or cannot have measured is null, never 0.
func TestImportUnknownIsNull(t *testing.T) {
	// All failed: vLLM writes 0 ms for every statistic of an empty sample.
	s := importFile(t, "testdata/import/vllm_all_failed.json", FormatAuto)[0]
	if s.Completed != 0 || s.Failed != 10 || !math.IsNaN(s.TTFT.Mean) || !math.IsNaN(s.ITL.Mean) || !math.IsNaN(s.TPOT.Mean) || !math.IsNaN(s.E2E.P99) {
		t.Errorf("all failed: %+v", s)
	}
	// Not streamed: the TTFT GenAI-Perf writes is the whole reply.
	g := importFile(t, "testdata/import/genai_perf_nonstreaming.json", FormatAuto)[0]
	if !math.IsNaN(g.TTFT.Mean) || !math.IsNaN(g.TPOT.Mean) || math.IsNaN(g.E2E.Mean) || g.Run.Streaming == nil || *g.Run.Streaming {
		t.Errorf("non-streaming: TTFT %v TPOT %v E2E %v", g.TTFT.Mean, g.TPOT.Mean, g.E2E.Mean)
	}
	// A SGLang line has no failure count: failed is null in JSON and "-" in the table,
	// and the latency counts are null, not 0.
	sg := importFile(t, "testdata/import/sglang_single_run.json", FormatAuto)[0]
	var buf bytes.Buffer
	sg.WriteJSON(&buf)
	var m map[string]any
	json.Unmarshal(buf.Bytes(), &m)
	if v, ok := m["failed"]; !ok || v != nil {
		t.Errorf("failed = %v, want null", v)
	}
	if v := m["ttft_ms"].(map[string]any)["count"]; v != nil {
		t.Errorf("ttft count = %v, want null", v)
	}
	buf.Reset()
	sg.WriteTable(&buf)
	if !strings.Contains(buf.String(), "200 completed, - failed") {
		t.Errorf("table:\n%s", buf.String())
	}
	// Python's Infinity (SGLang writes request_rate Infinity for "all at once").
	in := strings.Replace(`{"backend": "sglang", "request_rate": Infinity, "completed": 2, "mean_ttft_ms": NaN, "median_ttft_ms": 3, "note": "Infinity"}`, "\n", "", -1)
	ss, err := Import(strings.NewReader(in), FormatAuto)
	if err != nil || ss[0].Run.RequestRate == nil || !math.IsInf(*ss[0].Run.RequestRate, 1) || !math.IsNaN(ss[0].TTFT.Mean) || ss[0].TTFT.Median != 3 {
		t.Errorf("Infinity: %v %+v", err, ss)
	}
}

// TestImportInferencePerfStage: a stage file; ITL is flagged as another definition.
func TestImportInferencePerfStage(t *testing.T) {
	file := "testdata/import/inference_perf_stage_0_lifecycle_metrics.json"
	s := importFile(t, file, FormatAuto)[0]
	m := readJSONValues(t, file)[0]
	same(t, "completed", float64(s.Completed), at(m, "successes", "count"))
	same(t, "failed", float64(s.Failed), at(m, "failures", "count"))
	same(t, "duration", s.DurationS, at(m, "load_summary", "send_duration"))
	same(t, "ttft mean (s → ms)", s.TTFT.Mean, 1e3*at(m, "successes", "latency", "time_to_first_token", "mean"))
	same(t, "tpot p99 (s → ms)", s.TPOT.P99, 1e3*at(m, "successes", "latency", "time_per_output_token", "p99"))
	same(t, "rate hint", *s.Run.RequestRate, at(m, "load_summary", "requested_rate"))
	if _, ok := s.Definitions["itl_ms"]; !ok || s.Source != "inference-perf" {
		t.Errorf("definitions %v", s.Definitions)
	}
}

// TestImportRooflineOwn: roofline bench --output json and --record lines are read back.
func TestImportRooflineOwn(t *testing.T) {
	recs := importFile(t, "../cmd/roofline/testdata/bench_records.jsonl", FormatAuto)
	if len(recs) != 1 || recs[0].Source != "roofline bench" {
		t.Fatalf("%+v", recs)
	}
	var buf bytes.Buffer
	recs[0].WriteJSON(&buf)
	back, err := Import(&buf, FormatAuto)
	if err != nil || len(back) != 1 {
		t.Fatal(err)
	}
	if back[0].Completed != recs[0].Completed || back[0].TTFT != recs[0].TTFT || back[0].E2E.P99 != recs[0].E2E.P99 {
		t.Errorf("round trip: %+v vs %+v", back[0], recs[0])
	}
	own := importFile(t, "../cmd/roofline/testdata/bench_summary.json", FormatAuto)
	m := readJSONValues(t, "../cmd/roofline/testdata/bench_summary.json")[0]
	same(t, "completed", float64(own[0].Completed), at(m, "completed"))
	same(t, "ttft mean", own[0].TTFT.Mean, at(m, "ttft_ms", "mean"))
}

// vllmResultKeys are the keys of vllm bench serve --save-result (vllm/benchmarks/serve.py,
// result_json and the metrics dictionary) that WriteVLLMResult writes, with the default
// --percentiles 99.
var vllmResultKeys = []string{"date", "backend", "model_id", "tokenizer_id", "num_prompts", "request_rate", "burstiness",
	"max_concurrency", "duration", "completed", "failed", "total_input_tokens", "total_output_tokens", "request_throughput",
	"request_goodput", "output_throughput", "total_token_throughput"}

// TestSaveResultRoundTrip: a --save-result file read back by the vLLM importer gives
// every value it holds, equal, without Python.
func TestSaveResultRoundTrip(t *testing.T) {
	f, err := os.Open("../cmd/roofline/testdata/bench_records.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := ReadRecords(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := Summarize(recs, Options{SLO: SLO{TTFTMs: 500}})
	for _, pct := range [][]float64{{99}, {50, 90, 95, 99, 99.9}} {
		var buf bytes.Buffer
		meta := VLLMMeta{Backend: "openai-chat", ModelID: "m", NumPrompts: 5, RequestRate: 2, MaxConcurrency: 4}
		if err := WriteVLLMResult(&buf, s, meta, pct); err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		keys := append([]string(nil), vllmResultKeys...)
		for _, met := range []string{"ttft", "tpot", "itl", "e2el"} {
			keys = append(keys, "mean_"+met+"_ms", "median_"+met+"_ms", "std_"+met+"_ms")
			for _, p := range pct {
				keys = append(keys, "p"+pctKey(p)+"_"+met+"_ms")
			}
		}
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Errorf("key %s missing", k)
			}
		}
		if len(m) != len(keys) {
			t.Errorf("%d keys, want %d", len(m), len(keys))
		}
		back, err := Import(bytes.NewReader(buf.Bytes()), FormatAuto)
		if err != nil {
			t.Fatal(err)
		}
		r := back[0]
		if r.Source != "vllm bench serve" || r.Completed != s.Completed || r.Failed != s.Failed || r.TotalInputTokens != s.TotalInputTokens ||
			r.TotalOutputTokens != s.TotalOutputTokens || *r.GoodputReqS != *s.GoodputReqS {
			t.Errorf("counts: %+v vs %+v", r, s)
		}
		same(t, "duration", r.DurationS, s.DurationS)
		same(t, "req/s", r.RequestPerS, s.RequestPerS)
		same(t, "out tok/s", r.OutputTokS, s.OutputTokS)
		same(t, "total tok/s", r.TotalTokS, s.TotalTokS)
		for _, d := range []struct {
			name     string
			got, was Dist
		}{{"ttft", r.TTFT, s.TTFT}, {"tpot", r.TPOT, s.TPOT}, {"itl", r.ITL, s.ITL}, {"e2e", r.E2E, s.E2E}} {
			same(t, d.name+" mean", d.got.Mean, d.was.Mean)
			same(t, d.name+" median", d.got.Median, d.was.Median)
			same(t, d.name+" std", d.got.Std, d.was.Std)
			same(t, d.name+" p99", d.got.P99, d.was.P99)
			if len(pct) > 1 {
				same(t, d.name+" p90", d.got.P90, d.was.P90)
				same(t, d.name+" p95", d.got.P95, d.was.P95)
			}
		}
		// The file's own numbers, read independently: p50 is the median.
		if len(pct) > 1 {
			same(t, "p50 = median", at(m, "p50_ttft_ms"), at(m, "median_ttft_ms"))
		}
		if m["request_rate"].(float64) != 2 || m["max_concurrency"].(float64) != 4 || m["tokenizer_id"] != "m" {
			t.Errorf("meta %v %v %v", m["request_rate"], m["max_concurrency"], m["tokenizer_id"])
		}
	}
}

// TestTimingOrigin: TTFT from the actual send by default (vLLM), from the schedule on
// request; hand calculation on two records.
func TestTimingOrigin(t *testing.T) {
	recs := []Record{
		{ScheduledS: 0, SentS: 0.5, FirstContentS: 0.6, LastContentS: 0.8, EndS: 0.8, ChunkS: []float64{0.6, 0.8}, ContentChunks: 2, CompletionTokens: 2, UsageSource: UsageFromServer},
		{ScheduledS: 0, SentS: 0, FirstContentS: 0.2, LastContentS: 0.4, EndS: 0.4, ChunkS: []float64{0.2, 0.4}, ContentChunks: 2, CompletionTokens: 2, UsageSource: UsageFromServer},
	}
	sent := Summarize(recs, Options{})
	sched := Summarize(recs, Options{TimingOrigin: OriginScheduled})
	// sent: TTFT (0.1 s, 0.2 s) → mean 150 ms; scheduled: (0.6, 0.2) → 400 ms.
	same(t, "sent TTFT", sent.TTFT.Mean, 150)
	same(t, "scheduled TTFT", sched.TTFT.Mean, 400)
	// E2E sent: (0.3, 0.4) → 350 ms; scheduled (0.8, 0.4) → 600 ms. TPOT does not move.
	same(t, "sent E2E", sent.E2E.Mean, 350)
	same(t, "scheduled E2E", sched.E2E.Mean, 600)
	same(t, "TPOT", sent.TPOT.Mean, sched.TPOT.Mean)
	if sent.TimingOrigin != OriginSent || sched.TimingOrigin != OriginScheduled {
		t.Error(sent.TimingOrigin, sched.TimingOrigin)
	}
}

// TestImportAIPerfNested: an AIPerf export with its metric objects under "records" reads
// as the flat one (the case file, nested by hand).
func TestImportAIPerfNested(t *testing.T) {
	m := readJSONValues(t, "testdata/import/aiperf_profile_export_aiperf.json")[0]
	nested := map[string]any{"records": map[string]any{}}
	for k, v := range m {
		if _, ok := v.(map[string]any); ok && k != "input_config" {
			nested["records"].(map[string]any)[k] = v
		} else {
			nested[k] = v
		}
	}
	delete(nested, "aiperf_version")
	b, _ := json.Marshal(nested)
	ss, err := Import(bytes.NewReader(b), FormatAuto)
	if err != nil || ss[0].Source != "AIPerf" || ss[0].Failed != 84 || ss[0].TTFT.Mean != at(m, "time_to_first_token", "avg") {
		t.Fatalf("%v %+v", err, ss)
	}
}

// TestImportGenAIPerfJSON and the inference-perf summary: each mapped number against the
// file read here.
func TestImportGenAIPerfJSONAndInferencePerf(t *testing.T) {
	file := "../cmd/roofline/testdata/import_in_genai-perf.json"
	s := importFile(t, file, FormatAuto)[0]
	m := readJSONValues(t, file)[0]
	for _, d := range []struct {
		key string
		got Dist
	}{{"time_to_first_token", s.TTFT}, {"inter_token_latency", s.TPOT}, {"request_latency", s.E2E}} {
		same(t, d.key+" avg", d.got.Mean, at(m, d.key, "avg"))
		same(t, d.key+" p50", d.got.Median, at(m, d.key, "p50"))
		same(t, d.key+" p95", d.got.P95, at(m, d.key, "p95"))
		same(t, d.key+" std", d.got.Std, at(m, d.key, "std"))
	}
	same(t, "completed", float64(s.Completed), at(m, "request_count", "avg"))
	same(t, "req/s", s.RequestPerS, at(m, "request_throughput", "avg"))
	same(t, "output tok/s", s.OutputTokS, at(m, "output_token_throughput", "avg"))
	same(t, "per-user median", s.OutputTokSPerUser.Median, at(m, "output_token_throughput_per_user", "p50"))
	same(t, "output tokens", float64(s.TotalOutputTokens), at(m, "output_sequence_length", "avg")*at(m, "request_count", "avg"))
	same(t, "duration", s.DurationS, at(m, "request_count", "avg")/at(m, "request_throughput", "avg"))
	if s.Source != "GenAI-Perf" || s.Known(FieldFailed) || !math.IsNaN(s.ITL.Mean) || *s.Run.Concurrency != int(at(m, "input_config", "concurrency")) {
		t.Errorf("%+v", s)
	}

	file = "../cmd/roofline/testdata/import_in_inference-perf.json"
	s = importFile(t, file, FormatAuto)[0]
	m = readJSONValues(t, file)[0]
	for _, d := range []struct {
		key string
		got Dist
	}{{"time_to_first_token", s.TTFT}, {"inter_token_latency", s.ITL}, {"time_per_output_token", s.TPOT}, {"request_latency", s.E2E}} {
		same(t, d.key+" mean", d.got.Mean, 1e3*at(m, "successes", "latency", d.key, "mean"))
		same(t, d.key+" median", d.got.Median, 1e3*at(m, "successes", "latency", d.key, "median"))
		same(t, d.key+" p90", d.got.P90, 1e3*at(m, "successes", "latency", d.key, "p90"))
		same(t, d.key+" p99", d.got.P99, 1e3*at(m, "successes", "latency", d.key, "p99"))
	}
	same(t, "completed", float64(s.Completed), at(m, "successes", "count"))
	same(t, "failed", float64(s.Failed), at(m, "failures", "count"))
	same(t, "req/s", s.RequestPerS, at(m, "successes", "throughput", "requests_per_sec"))
	same(t, "output tok/s", s.OutputTokS, at(m, "successes", "throughput", "output_tokens_per_sec"))
	same(t, "total tok/s", s.TotalTokS, at(m, "successes", "throughput", "total_tokens_per_sec"))
	same(t, "duration", s.DurationS, at(m, "load_summary", "send_duration"))
}

// TestImportAIPerfCSV: AIPerf's CSV layout (p1…p99 and std columns, "Inter Chunk Latency",
// "Benchmark Duration (sec)", no blank line between the tables), numbers from the case
// file's JSON twin.
func TestImportAIPerfCSV(t *testing.T) {
	in := "Metric,avg,min,max,p1,p5,p10,p25,p50,p75,p90,p95,p99,std\n" +
		"Time to First Token (ms),1588.80,382.24,4121.09,403.48,547.97,641.77,659.03,787.54,2439.00,3695.10,4051.43,4119.33,1189.99\n" +
		"Inter Chunk Latency (ms),51.00,46.00,56.00,50.00,50.10,50.20,50.50,51.20,51.90,53.00,54.00,55.50,1.10\n" +
		"Request Latency (ms),6550.36,4996.25,9383.37,5523.64,5641.18,5649.25,5678.54,5799.90,7314.96,8594.21,8980.84,9381.63,1171.14\n" +
		"Metric,Value\n" +
		"Request Throughput (requests/sec),13.16\n" +
		"Benchmark Duration (sec),15.20\n" +
		"Request Count (requests),200\n" +
		"Error Request Count (requests),84\n"
	ss, err := Import(strings.NewReader(in), FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	s := ss[0]
	if s.Source != "AIPerf" || s.Completed != 200 || s.Failed != 84 || s.DurationS != 15.2 || s.TTFT.P95 != 4051.43 || s.ITL.Mean != 51 || s.E2E.Median != 5799.9 || s.RequestPerS != 13.16 {
		t.Errorf("%+v", s)
	}
}
