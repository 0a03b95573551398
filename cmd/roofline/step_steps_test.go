package main

import (
	"encoding/json"
	"math"
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

// TestStepExplainDispatchRow: step --explain's decode_dispatch row is the dispatch beyond the
// GPU work, not the dispatch itself (the table read as 21.4 ms of dispatch where the warning
// said 28.8 ms): the explanation says so. By hand (tgi, Llama-3.1-8B, 32 layers × 900 µs =
// 28.8 ms of dispatch): the rows above it and the dispatch row add to 28.8 ms, then the step's
// own host cost follows; a step with CUDA graphs has no such row and no such line.
func TestStepExplainDispatchRow(t *testing.T) {
	args := []string{"step", "--model", llama8b, "--gpu", "H100", "--engine", "tgi", "--phase", "decode", "--batch", "16", "--tokens", "1152", "--explain"}
	const line = "decode_dispatch: the eager host dispatch (layers × the per-layer eager figure listed below) beyond the GPU work above"
	for _, eager := range []bool{false, true} {
		a := args
		if eager {
			a = append(a, "--enforce-eager")
		}
		stdout, stderr, code := runCLI(t, a...)
		if code != 0 || strings.Contains(stdout, line) != eager {
			t.Errorf("eager %v: exit %d %s; explanation of the dispatch row present %v:\n%s", eager, code, stderr, strings.Contains(stdout, line), stdout)
		}
	}
	stdout, _, _ := runCLI(t, append(args, "--enforce-eager", "-o", "json")...)
	var st struct {
		Ops []struct {
			Name string  `json:"name"`
			Time float64 `json:"time_s"`
		} `json:"ops"`
	}
	if err := json.Unmarshal([]byte(stdout), &st); err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, o := range st.Ops {
		if o.Name != "step_overhead" {
			sum += o.Time
		}
	}
	if math.Abs(sum-0.0288) > 1e-6 {
		t.Errorf("GPU work + decode_dispatch = %g s, want 32 × 900 µs = 0.0288 s (%+v)", sum, st.Ops)
	}
}

// TestStepsFileEnforceEagerColumn: a steps.csv may say which rows ran without CUDA graphs
// (column enforce_eager, as the validation CSVs): such a row is priced eagerly (≥ 32 layers ×
// 900 µs = 28.8 ms under tgi, by hand as in TestStepsFileFlags) while the graphed row beside
// it is not; the column was kept as text and ignored. A value other than true/false/empty is
// refused naming the file, line, column and allowed values; calibrate reads the same rows.
func TestStepsFileEnforceEagerColumn(t *testing.T) {
	file := filepath.Join(t.TempDir(), "steps.csv")
	body := "model,gpu,tp,weight_dtype,phase,batch,tokens,ms,enforce_eager\n" +
		llama8b + ",H100,1,bf16,decode,8,100,30,true\n" +
		llama8b + ",H100,1,bf16,decode,8,100,7,\n"
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, "step", "--steps", file, "--engine", "tgi", "-o", "json")
	var rows []struct {
		PredictedMs float64 `json:"predicted_ms"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &rows) != nil || len(rows) != 2 {
		t.Fatalf("exit %d %s\n%s", code, stderr, stdout)
	}
	if rows[0].PredictedMs < 28.8 || rows[1].PredictedMs >= 28.8 {
		t.Errorf("eager row %g ms (want ≥ 28.8), graphed row %g ms (want < 28.8)", rows[0].PredictedMs, rows[1].PredictedMs)
	}
	bad := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(bad, []byte("model,gpu,phase,batch,tokens,ms,enforce_eager\n"+llama8b+",H100,decode,8,100,7,yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"step", "--steps", bad, "--engine", "tgi"}, {"calibrate", "--steps", bad, "--base", "tgi", "--out", filepath.Join(t.TempDir(), "p.toml")}} {
		_, stderr, code := runCLI(t, args...)
		if code != 2 || !strings.Contains(stderr, `:2: enforce_eager "yes": allowed values are true, false (empty: false)`) {
			t.Errorf("%s: exit %d, %q; want exit 2 naming the line, column and allowed values", args[0], code, stderr)
		}
	}
}

// TestStepPrintsWarnings: step prints the deployment's warnings as estimate and memory do
// (text "warning: …", JSON "warnings"); vLLM 0.8.5 on a B200 (a release built on PyTorch 2.6,
// CUDA ≤ 12.6, before Blackwell support came with PyTorch 2.7 and vLLM 0.9.0) was priced by
// step with no word. H100 under the newest vllm has no warning (an empty list, not null).
func TestStepPrintsWarnings(t *testing.T) {
	args := []string{"step", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--phase", "decode", "--batch", "8", "--tokens", "1000"}
	stdout, stderr, code := runCLI(t, append(args, "--gpu", "B200", "--engine", "vllm@0.8.5")...)
	if code != 0 || !strings.Contains(stdout, "warning: vllm@0.8.5 (profile vllm-0.8") || !strings.Contains(stdout, "vLLM releases before 0.9") {
		t.Errorf("exit %d, stderr %q; want the vLLM-before-0.9 warning:\n%s", code, stderr, stdout)
	}
	stdout, _, code = runCLI(t, append(args, "--gpu", "H100", "--output", "json")...)
	if code != 0 || !strings.Contains(stdout, `"warnings": []`) {
		t.Errorf("H100 vllm json: exit %d; want \"warnings\": []:\n%s", code, stdout)
	}
}
