package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStepsFileFlags: step --steps FILE predicts the rows' own deployments, so the flags
// that set one step's deployment (--tp, --weight-dtype, --max-num-seqs, …) were taken and
// ignored; they are refused now (exit 2, one line naming them and the flags --steps takes).
// --enforce-eager was ignored too: it now prices every row without CUDA graphs. By hand,
// under the tgi profile a decode step with graphs off lasts at least 32 layers × 900 µs =
// 28.8 ms of dispatch (Llama-3.1-8B config.json: 32 layers; tgi.toml eager_decode_layer_us),
// while with graphs a batch-8 decode step on an H100 reads 16 GB of bf16 weights at ≤ 3.35
// TB/s: ~5-8 ms, below 28.8.
func TestStepsFileFlags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "steps.csv")
	if err := os.WriteFile(file, []byte("model,gpu,tp,weight_dtype,phase,batch,tokens,ms\n"+llama8b+",H100,1,bf16,decode,8,100,7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, eager := range []bool{false, true} {
		args := []string{"step", "--steps", file, "--engine", "tgi", "-o", "json"}
		if eager {
			args = append(args, "--enforce-eager")
		}
		stdout, stderr, code := runCLI(t, args...)
		var rows []struct {
			PredictedMs float64 `json:"predicted_ms"`
		}
		if code != 0 || json.Unmarshal([]byte(stdout), &rows) != nil || len(rows) != 1 {
			t.Fatalf("eager %v: exit %d %s\n%s", eager, code, stderr, stdout)
		}
		if got := rows[0].PredictedMs; (got >= 28.8) != eager {
			t.Errorf("eager %v: predicted %g ms; want %s 28.8 ms", eager, got, map[bool]string{true: "≥", false: "<"}[eager])
		}
	}
	for _, c := range []struct {
		extra []string
		want  string
	}{
		{[]string{"--tp", "2"}, "--tp: not with --steps"},
		{[]string{"--weight-dtype", "fp8", "--max-num-seqs", "4"}, "--weight-dtype, --max-num-seqs: not with --steps"},
		{[]string{"--enforce-eager", "--engine", "vllm"}, "--enforce-eager: profile vllm gives no eager dispatch time"},
	} {
		_, stderr, code := runCLI(t, append([]string{"step", "--steps", file}, c.extra...)...)
		if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("step --steps %v: exit %d, %q; want exit 2 and one line containing %q", c.extra, code, stderr, c.want)
		}
	}
}
