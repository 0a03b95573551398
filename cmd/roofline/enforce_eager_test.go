package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEnforceEagerCLI: --enforce-eager on step, estimate, sweep and plan. Step, by hand:
// Llama-3.1-405B FP8 on 8 MI300X, vllm@0.6.3 (profile vllm-v0), a decode step of 4
// sequences with graphs off lasts 126 layers × 1080 µs (eager_decode_layer_us) = 136.08 ms of
// dispatch (the GPU work, ~12 ms, hides under it) + 10 ms (step_overhead_ms) + 4 × 0.5 ms
// (seq_overhead_us) = 148.08 ms. A profile without an eager figure (vllm, the V1 engine)
// refuses the flag: exit 2, one line naming the profile and the constants.
func TestEnforceEagerCLI(t *testing.T) {
	step := []string{"step", "--model", "meta-llama/Llama-3.1-405B", "--gpu", "MI300X", "--tp", "8", "--weight-dtype", "fp8",
		"--engine", "vllm@0.6.3", "--phase", "decode", "--batch", "4", "--tokens", "2048", "--enforce-eager", "-o", "json"}
	stdout, stderr, code := runCLI(t, step...)
	if code != 0 {
		t.Fatalf("step: exit %d: %s", code, stderr)
	}
	var s struct {
		PredictedMs float64 `json:"predicted_ms"`
		Provenance  struct {
			Profile string `json:"profile"`
		} `json:"provenance"`
	}
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatal(err)
	}
	if math.Abs(s.PredictedMs-148.08) > 1e-6 || !strings.Contains(s.Provenance.Profile, "CUDA graphs off (--enforce-eager)") {
		t.Errorf("step: %g ms, provenance %q; want 136.08 + 10 + 4 × 0.5 = 148.08 ms and CUDA graphs off (--enforce-eager)", s.PredictedMs, s.Provenance.Profile)
	}
	est := []string{"estimate", "--model", "meta-llama/Llama-3.1-405B", "--gpu", "MI300X", "--tp", "8", "--weight-dtype", "fp8",
		"--engine", "vllm@0.6.3", "--input-len", "128", "--output-len", "64", "--concurrency", "4", "--enforce-eager"}
	stdout, stderr, code = runCLI(t, est...)
	if code != 0 || !strings.Contains(stdout, "CUDA graphs     off (--enforce-eager)") || !strings.Contains(stdout, "CUDA graphs off (--enforce-eager)") {
		t.Errorf("estimate: exit %d, stderr %q; want the server config and the provenance to say CUDA graphs off:\n%s", code, stderr, stdout)
	}
	// The JSON carries it (server_config.enforce_eager) and the HTML page's subtitle says it.
	stdout, stderr, code = runCLI(t, append(est, "-o", "json")...)
	js := filepath.Join(t.TempDir(), "est.json")
	if code != 0 || !strings.Contains(stdout, `"enforce_eager": true`) || os.WriteFile(js, []byte(stdout), 0o644) != nil {
		t.Fatalf("estimate -o json: exit %d, stderr %q; want server_config.enforce_eager true", code, stderr)
	}
	page := filepath.Join(t.TempDir(), "est.html")
	if _, stderr, code := runCLI(t, "report", "--in", js, "--html", page); code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	if b, err := os.ReadFile(page); err != nil || !strings.Contains(string(b), "engine vllm-v0 (CUDA graphs off, --enforce-eager)") {
		t.Errorf("report --html: %v; want the subtitle to say CUDA graphs off", err)
	}
	// sweep and plan note it.
	for _, args := range [][]string{
		{"sweep", "--model", llama8b, "--gpus", "H100", "--num-gpus", "1", "--input-len", "100", "--output-len", "10", "--concurrency", "8", "--engine", "sglang", "--top", "1", "--enforce-eager"},
		{"plan", "--model", llama8b, "--gpus", "H100", "--input-len", "100", "--output-len", "10", "--target-rate", "1", "--engine", "sglang", "--enforce-eager"},
	} {
		if stdout, stderr, code := runCLI(t, args...); code != 0 || !strings.Contains(stdout, "note: CUDA graphs off (--enforce-eager)") {
			t.Errorf("%s --engine sglang --enforce-eager: exit %d, stderr %q; want a note saying CUDA graphs off:\n%s", args[0], code, stderr, stdout)
		}
	}
	// sweep --dry-run runs the estimator's best configuration with the engine's own flag; with a
	// grid of server arguments the flag belongs in the grid.
	dry := []string{"sweep", "--dry-run", "--framework", "sglang", "--model", llama8b, "--gpus", "H100", "--num-gpus", "1", "--input-len", "100",
		"--output-len", "10", "--concurrency", "8", "--top", "1", "--enforce-eager", "--gpus-available", "1"}
	if stdout, stderr, code := runCLI(t, dry...); code != 0 || !strings.Contains(stdout, " --disable-cuda-graph ") {
		t.Errorf("sweep --dry-run --framework sglang --enforce-eager: exit %d, stderr %q; want the command with --disable-cuda-graph:\n%s", code, stderr, stdout)
	}
	grid := []string{"sweep", "--dry-run", "--framework", "vllm", "--server-args", "tp_size=[1]", "--model", llama8b, "--gpus", "H100",
		"--input-len", "100", "--output-len", "10", "--concurrency", "8", "--enforce-eager"}
	if _, stderr, code := runCLI(t, grid...); code != 2 || !strings.Contains(stderr, "enforce_eager=[true]") {
		t.Errorf("sweep --server-args with --enforce-eager: exit %d, stderr %q; want exit 2 pointing at enforce_eager=[true]", code, stderr)
	}
	for _, args := range [][]string{
		{"estimate", "--model", llama8b, "--gpu", "H100", "--input-len", "100", "--output-len", "10", "--concurrency", "1", "--enforce-eager"},
		{"step", "--model", llama8b, "--gpu", "H100", "--phase", "decode", "--batch", "4", "--tokens", "100", "--enforce-eager"},
		{"memory", "--model", llama8b, "--gpu", "H100", "--enforce-eager"},
		{"sweep", "--model", llama8b, "--gpus", "H100", "--num-gpus", "1", "--input-len", "100", "--output-len", "10", "--concurrency", "8", "--enforce-eager"},
		{"sweep", "--disagg", "--model", llama8b, "--gpus", "H100", "--num-gpus", "2", "--input-len", "100", "--output-len", "10", "--constraint", "ttft:p95<500ms", "--enforce-eager"},
		{"plan", "--model", llama8b, "--gpus", "H100", "--input-len", "100", "--output-len", "10", "--target-rate", "1", "--enforce-eager"},
	} {
		_, stderr, code := runCLI(t, args...)
		line := strings.TrimSpace(stderr)
		if code != 2 || strings.Count(line, "\n") > 0 || !strings.Contains(line, "--enforce-eager: profile vllm") || !strings.Contains(line, "eager_decode_layer_us") {
			t.Errorf("%s with --engine vllm: exit %d, stderr %q; want exit 2 and one line naming the profile and eager_decode_layer_us", args[0], code, stderr)
		}
	}
}
