package bench

import (
	"math"
	"os"
	"strings"
	"testing"
)

// TestImportVLLM: names map one to one (hand check against the file below: failed =
// num_prompts 10 − completed 8 = 2; p95 absent → NaN and listed as missing).
func TestImportVLLM(t *testing.T) {
	in := `{"num_prompts": 10, "completed": 8, "duration": 4, "total_input_tokens": 800, "total_output_tokens": 256,
	"request_throughput": 2, "output_throughput": 64, "total_token_throughput": 264,
	"mean_ttft_ms": 50, "median_ttft_ms": 45, "p99_ttft_ms": 90, "std_ttft_ms": 5,
	"mean_itl_ms": 10, "median_itl_ms": 9, "mean_tpot_ms": 11, "median_tpot_ms": 10, "mean_e2el_ms": 400, "median_e2el_ms": 390}`
	ss, err := Import(strings.NewReader(in), FormatAuto)
	if err != nil || len(ss) != 1 {
		t.Fatal(ss, err)
	}
	s := ss[0]
	if s.Completed != 8 || s.Failed != 2 || s.TTFT.Mean != 50 || s.TTFT.P99 != 90 || !math.IsNaN(s.TTFT.P95) || s.ITL.Median != 9 ||
		s.TPOT.Mean != 11 || s.E2E.Median != 390 || s.OutputTokS != 64 || s.DurationS != 4 || len(s.Warnings) != 0 {
		t.Errorf("%+v", s)
	}
}

func TestImportErrors(t *testing.T) {
	for _, c := range []struct{ in, format, want string }{
		{`[1, 2]`, FormatAuto, "element 0: not a JSON object"},
		{`{"a": 1} {"b": 2}`, FormatAuto, "object 1: format not recognised"},
		{``, FormatAuto, "empty"},
		{`{"completed": 3,`, FormatAuto, "not JSON"},
		{"Metric,avg\nTime To First Token (ms),abc\n", FormatAuto, `"abc" is not a number`},
		{`{"a": 1}`, FormatAuto, "format not recognised"},
		// A CSV of another tool or a --record file gone wrong read as "YAML: not a
		// mapping at the top", naming a format the user never gave.
		{"x,y\n1,2\n", FormatAuto, "format not recognised: not JSON, not a GenAI-Perf/AIPerf CSV"},
		{"garbage\n", FormatAuto, "format not recognised: not JSON"},
		{`{"a": 1}`, "llmperf", `format "llmperf"`},
		{`{"benchmarks": []}`, FormatAuto, "benchmarks\" missing or empty"},
		{`{"benchmarks": [3]}`, FormatAuto, "benchmarks[0] is not an object"},
		{`{"mean_ttft_ms": 3, "completed": -1}`, FormatAuto, `"completed" missing`},
		{`{"load_summary": {}}`, FormatAuto, `"successes" missing`},
		// Negative statistics were shown as measured ("TTFT (ms) -5.00").
		{`{"completed": 3, "mean_ttft_ms": -5}`, FormatAuto, "TTFT mean -5 ms: a measured statistic must be ≥ 0"},
		{`{"completed": 3, "mean_ttft_ms": 5, "p99_e2el_ms": -1}`, FormatAuto, "E2E p99 -1 ms"},
		{`{"completed": 3, "mean_ttft_ms": 5, "duration": -2}`, FormatAuto, "duration -2 s: a measured value must be ≥ 0"},
		{`{"completed": 3, "mean_ttft_ms": 5, "output_throughput": -10}`, FormatAuto, "output throughput -10 tok/s"},
	} {
		if _, err := Import(strings.NewReader(c.in), c.format); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.in, err, c.want)
		}
	}
}

// fuzzImport feeds arbitrary bytes to one importer: it may fail but never panic, and
// what it returns must render in every format.
func fuzzImport(f *testing.F, format string, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	if b, err := os.ReadFile("../cmd/roofline/testdata/import_in_" + format + ".json"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		ss, err := Import(strings.NewReader(string(in)), format)
		if err != nil {
			return
		}
		var b strings.Builder
		for _, s := range ss {
			if err := s.WriteTable(&b); err != nil {
				t.Fatal(err)
			}
			if err := s.WriteJSON(&b); err != nil {
				t.Fatalf("JSON of an imported summary: %v", err)
			}
		}
		if err := WriteCSV(&b, ss...); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzImportVLLM(f *testing.F) {
	fuzzImport(f, FormatVLLM, `{"completed": 1, "mean_ttft_ms": 1e308, "p99_ttft_ms": -0}`, `{"completed": 1.5}`)
}

func FuzzImportGenAIPerf(f *testing.F) {
	fuzzImport(f, FormatGenAIPerf, `{"time_to_first_token": {"unit": "ns", "avg": 1}, "request_count": {"avg": 3}, "request_throughput": {"avg": 0}}`,
		`{"request_latency": {"unit": "fortnights"}}`)
}

func FuzzImportGuideLLM(f *testing.F) {
	fuzzImport(f, FormatGuideLLM, `{"benchmarks": [{"metrics": {}, "start_time": 5, "end_time": 1}]}`, `{"benchmarks": [{"metrics": {"request_latency": {"successful": {"percentiles": 3}}}}]}`)
}

func FuzzImportInferencePerf(f *testing.F) {
	fuzzImport(f, FormatInferencePerf, `{"successes": {"count": 3, "latency": {"request_latency": {"mean": "x"}}}, "failures": {"count": 1}}`)
}

func FuzzImportAuto(f *testing.F) {
	fuzzImport(f, FormatAuto, `{"backend": "sglang", "completed": 1, "request_rate": Infinity}`,
		"Metric,avg\nTime To First Token (ms),1\n\nMetric,Value\nRequest Count (count),3\n",
		"benchmarks:\n- metrics: {request_totals: {successful: 1}}\n",
		`{"aiperf_version": "1", "error_summary": [{"count": 2, "error_details": {"code": 500}}]}`,
		`[{"completed": 1, "mean_ttft_ms": 2}]`, `{"scheduled_s": 0, "sent_s": 0, "end_s": 1, "usage_source": "usage"}`)
}
