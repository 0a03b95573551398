package main

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

const sglangRuns = "../../bench/testdata/import/sglang_0801_200_1024_256.jsonl"

// TestCompareHintsFromFile: lengths, rate and request count come from the file (the
// SGLang case file: 1024 input and 256 output tokens per request, 4 and 8 req/s, 200
// prompts), every run is compared, and --select picks one.
func TestCompareHintsFromFile(t *testing.T) {
	stdout, stderr, code := runCLI(t, "compare", "--result", sglangRuns, "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100", "-o", "json")
	if code != 0 && code != 4 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var reps []map[string]any
	if err := json.Unmarshal([]byte(stdout), &reps); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if len(reps) != 2 {
		t.Fatalf("%d reports, want one per line (2)", len(reps))
	}
	for i, want := range []string{"4 req/s", "8 req/s"} {
		h := reps[i]["from_result_file"].(map[string]any)
		if h["request-rate"] != want || !strings.HasPrefix(h["input-len"].(string), "1024 ") || !strings.HasPrefix(h["output-len"].(string), "256 ") || h["num-requests"] != "200 (completed; the file gives no failure count)" {
			t.Errorf("run %d hints %v", i+1, h)
		}
		if !strings.Contains(reps[i]["benchmark"].(string), "SGLang bench_serving: run ") {
			t.Errorf("benchmark %v", reps[i]["benchmark"])
		}
	}
	// --select 2 and a flag given on the command line wins over the file.
	stdout, _, _ = runCLI(t, "compare", "--result", sglangRuns, "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100", "--select", "2", "--output-len", "128")
	if !strings.Contains(stdout, "from the result file: --request-rate 8 req/s") || strings.Contains(stdout, "--output-len 256") || strings.Count(stdout, "measured: ") != 1 {
		t.Errorf("--select 2:\n%s", stdout)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--select", "3"}, "--select 3: the file holds 2 benchmark(s)"},
		{[]string{"--select", "-1"}, "--select -1"},
	} {
		_, stderr, code := runCLI(t, append([]string{"compare", "--result", sglangRuns, "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100"}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d %q", c.args, code, stderr)
		}
	}
	// A file that does not say the model: the flag is named.
	_, stderr, code = runCLI(t, "compare", "--result", sglangRuns, "--gpu", "H100")
	if code != 2 || !strings.Contains(stderr, "--model: the file does not name the model") {
		t.Errorf("no model: exit %d %q", code, stderr)
	}
}

// TestCompareVLLMAllAtOnce: request_rate "inf" with max_concurrency 16 is a closed loop
// of 16; the model comes from model_id.
func TestCompareVLLMAllAtOnce(t *testing.T) {
	stdout, stderr, code := runCLI(t, "compare", "--result", "testdata/import_in_vllm.json", "--gpu", "H100")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"--model meta-llama/Llama-3.1-8B-Instruct", "--concurrency 16 (all requests at once, at most 16 in flight)", "--input-len 1024", "--output-len 128"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("lacks %q:\n%s", want, stdout)
		}
	}
}

// TestCompareDefinitionMismatch: inference-perf's ITL (re-tokenised text) is not set
// against a per-chunk prediction unless asked.
func TestCompareDefinitionMismatch(t *testing.T) {
	args := []string{"compare", "--result", "testdata/import_in_inference-perf.json", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100", "-o", "json"}
	stdout, _, _ := runCLI(t, args...)
	var r map[string]any
	json.Unmarshal([]byte(stdout), &r)
	itl := func(r map[string]any) map[string]any {
		for _, m := range r["metrics"].([]any) {
			if m.(map[string]any)["metric"] == "itl_ms_mean" {
				return m.(map[string]any)
			}
		}
		return nil
	}
	if m := itl(r); m == nil || m["measured"] != nil || m["error_pct"] != nil || !strings.Contains(strings.Join(toStrings(r["warnings"]), ";"), "itl_ms not compared: inference-perf") {
		t.Errorf("without the flag: %v, warnings %v", m, r["warnings"])
	}
	stdout, _, _ = runCLI(t, append(args, "--allow-definition-mismatch")...)
	json.Unmarshal([]byte(stdout), &r)
	if m := itl(r); m == nil || math.Abs(m["measured"].(float64)-11.8) > 1e-9 || m["error_pct"] == nil || !strings.Contains(strings.Join(toStrings(r["warnings"]), ";"), "itl_ms compared although") {
		t.Errorf("with the flag: %v", m)
	}
}

func toStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// TestCompareMultiBenchmarkStopsBeforePrinting: the guidellm file's second benchmark
// (throughput) gives no lengths, so it cannot be predicted. compare printed the first
// benchmark's table, then exited 2 (and printed no JSON at all); now nothing is printed
// but the one-line error, which points to --select, and --select 1 compares the first.
func TestCompareMultiBenchmarkStopsBeforePrinting(t *testing.T) {
	for _, out := range []string{"table", "json"} {
		stdout, stderr, code := runCLI(t, "compare", "--result", "testdata/import_in_guidellm.json", "--gpu", "H100", "--model", llama8b, "--output", out)
		if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "benchmark 2 (throughput): --input-len") || !strings.Contains(stderr, "--select N") {
			t.Errorf("-o %s: exit %d, stdout %q, stderr %q; want exit 2, no stdout, one line naming benchmark 2 and --select", out, code, stdout, stderr)
		}
	}
	stdout, _, code := runCLI(t, "compare", "--result", "testdata/import_in_guidellm.json", "--gpu", "H100", "--model", llama8b, "--select", "1")
	if code != 0 || !strings.Contains(stdout, "benchmark 1 (synchronous)") {
		t.Errorf("--select 1: exit %d\n%s", code, stdout)
	}
}
