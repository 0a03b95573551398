package main

import (
	"strings"
	"testing"
)

// TestImportGolden renders each tool's result file (testdata/import_in_*.json, written
// in each tool's documented format: vllm bench serve's --save-result keys from its
// benchmark_serving.py result dictionary; GenAI-Perf's profile_export_genai_perf.json
// metric objects {unit, avg, p25…p99, min, max, std}; guidellm's benchmarks.json
// (benchmarks[].metrics.*.successful distribution summaries, request_totals,
// start_time/end_time); inference-perf's summary_lifecycle_metrics.json
// (load_summary, successes.latency.* in seconds, successes.throughput, failures)).
// The numbers in the files are made up; the golden files show their mapping.
func TestImportGolden(t *testing.T) {
	for _, f := range []string{"vllm", "genai-perf", "guidellm", "inference-perf"} {
		for _, out := range []string{"table", "json"} {
			stdout, stderr, code := runCLI(t, "import", "testdata/import_in_"+f+".json", "--output", out)
			if code != 0 || stderr != "" {
				t.Fatalf("%s %s: exit %d, stderr %q", f, out, code, stderr)
			}
			golden(t, "import_"+f+".out."+out, stdout)
			// The explicit format gives the same result as auto-detection.
			again, _, _ := runCLI(t, "import", "--format", f, "testdata/import_in_"+f+".json", "--output", out)
			if again != stdout {
				t.Errorf("%s: --format %s differs from auto", f, f)
			}
		}
	}
}

func TestImportBad(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"import"}, "give exactly one result FILE"},
		{[]string{"import", "a", "b"}, "give exactly one result FILE"},
		{[]string{"import", "testdata/none.json"}, "no such file"},
		{[]string{"import", "--format", "llmperf", "testdata/import_in_vllm.json"}, `--format "llmperf": allowed values are auto, vllm, sglang, genai-perf, aiperf, guidellm, inference-perf, roofline`},
		{[]string{"import", "--output", "html", "testdata/import_in_vllm.json"}, `--output "html"`},
		{[]string{"import", "testdata/gpus_bad.toml"}, "format not recognised: not JSON, not a GenAI-Perf/AIPerf CSV"},
		{[]string{"import", "--format", "vllm", "testdata/import_in_guidellm.json"}, `"completed" missing`},
		{[]string{"import", "testdata/gpus_show_h100.json"}, "format not recognised"},
	} {
		_, stderr, code := runCLI(t, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line containing %q", c.args, code, stderr, c.want)
		}
	}
}
