package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSupportRefusalsAcrossCommands: an engine release refused for a layout or a GPU
// (estimator.CheckEngineLayout, CheckEngineGPU) exits 2 with one line naming the flag and
// what is allowed, in estimate, memory and step alike: vLLM 0.7.3 (V0 engine) has no
// data-parallel attention with expert parallelism — it is the V1 engine's (vLLM's
// data-parallel deployment guide), default from 0.8.0 (its release notes) — and TensorRT-LLM
// 1.x lists no GPU older than Ampere in its support matrix (T4 is Turing, sm75).
func TestSupportRefusalsAcrossCommands(t *testing.T) {
	r1 := []string{"--model", "deepseek-ai/DeepSeek-R1", "--gpu", "H200", "--dp", "8", "--ep", "8", "--engine", "vllm@0.7.3"}
	t4 := []string{"--model", llama8b, "--gpu", "T4", "--engine", "trtllm"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{append([]string{"estimate", "--input-len", "1000", "--output-len", "1000", "--concurrency", "64"}, r1...), "--dp 8 with --ep 8"},
		{append([]string{"memory"}, r1...), "--dp 8 with --ep 8"},
		{append([]string{"step", "--phase", "decode", "--batch", "8", "--tokens", "8"}, r1...), "--dp 8 with --ep 8"},
		{append([]string{"estimate", "--input-len", "1000", "--output-len", "200", "--concurrency", "8", "--max-model-len", "4096"}, t4...), "--engine trtllm on t4"},
		{append([]string{"memory", "--max-model-len", "4096"}, t4...), "--engine trtllm on t4"},
	} {
		_, stderr, code := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "allowed there") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 with one line naming %q and what is allowed", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
}

// TestSupportWarningsInJSONAndSweep: a release that may predate its GPU is predicted with a
// warning in estimate's JSON warnings (SGLang 0.4.6 on B200: which 0.4 release first ran on
// Blackwell is not sourced), and a sweep of vLLM 0.7.3 over 8 H200 leaves out its attention
// DP + EP splits (ep > tp, dp > 1) with a note saying why, ranking the others.
func TestSupportWarningsInJSONAndSweep(t *testing.T) {
	stdout, stderr, code := runCLI(t, "estimate", "--model", "deepseek-ai/DeepSeek-R1", "--gpu", "B200", "--tp", "8", "--engine", "sglang@0.4.6",
		"--input-len", "1000", "--output-len", "1000", "--concurrency", "16", "--output", "json")
	var doc struct {
		Warnings []string `json:"warnings"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &doc) != nil {
		t.Fatalf("estimate sglang@0.4.6 on B200: exit %d, %s", code, stderr)
	}
	found := false
	for _, w := range doc.Warnings {
		found = found || strings.Contains(w, "sglang@0.4.6") && strings.Contains(w, "b200-sxm") && strings.Contains(w, "not sourced")
	}
	if !found {
		t.Errorf("estimate sglang@0.4.6 on B200: warnings %q, want the release-before-GPU warning", doc.Warnings)
	}
	stdout, stderr, code = runCLI(t, "sweep", "--model", "deepseek-ai/DeepSeek-R1", "--gpus", "H200", "--num-gpus", "8", "--engine", "vllm@0.7.3",
		"--input-len", "1000", "--output-len", "1000", "--concurrency", "64", "-q")
	if code != 0 || !strings.Contains(stdout, "attention data parallelism + expert parallelism (ep > tp, dp > 1) left out") || strings.Contains(stdout, "1/1/8/8") {
		t.Errorf("sweep vllm@0.7.3 on 8 H200: exit %d, stderr %q; want a ranking without 1/1/8/8 and the note:\n%s", code, stderr, stdout)
	}
}

// TestAccuracyRowsCarrySupport: a validation row of an engine release refused for its layout
// is unpredicted with the refusal as its reason (vLLM 0.7.3, DeepSeek-R1 --dp 8 --ep 8); a
// row of a release that may predate its GPU is predicted and carries the warning (SGLang
// 0.4.6 on B200), in JSON and in the table.
func TestAccuracyRowsCarrySupport(t *testing.T) {
	csv := "id,source,model,gpu,num_gpus,tp,pp,dp,ep,engine,weight_dtype,kv_dtype,input_len,output_len,prefix_len,workload,concurrency,request_rate,batch_size,num_requests,max_num_seqs,max_num_batched_tokens,gpu_memory_utilization,metric,value,engine_version\n" +
		"SUP-1,made up for this test,deepseek-ai/DeepSeek-R1,H200 SXM,8,1,1,8,8,vllm,fp8,,1000,1000,,concurrency,64,,,,,,,output_tok_s,1000,0.7.3\n" +
		"SUP-2,made up for this test,deepseek-ai/DeepSeek-R1,B200,8,8,1,1,1,sglang,fp8,,1000,1000,,concurrency,16,,,,,,,output_tok_s,1000,0.4.6\n"
	f := filepath.Join(t.TempDir(), "support.csv")
	if err := os.WriteFile(f, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, "accuracy", "--data", f, "--output", "json", "-q")
	var doc struct {
		Rows []struct {
			ID        string   `json:"id"`
			Predicted *float64 `json:"predicted"`
			Reason    string   `json:"reason"`
			Warnings  []string `json:"warnings"`
		} `json:"rows"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &doc) != nil || len(doc.Rows) != 2 {
		t.Fatalf("accuracy: exit %d, %s\n%s", code, stderr, stdout)
	}
	for _, r := range doc.Rows {
		switch r.ID {
		case "SUP-1":
			if r.Predicted != nil || !strings.Contains(r.Reason, "--dp 8 with --ep 8") {
				t.Errorf("SUP-1: predicted %v, reason %q; want unpredicted with the attention-DP refusal", r.Predicted, r.Reason)
			}
		case "SUP-2":
			if r.Predicted == nil || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "sglang@0.4.6") {
				t.Errorf("SUP-2: predicted %v, warnings %q (%s); want predicted with the release-before-GPU warning", r.Predicted, r.Warnings, r.Reason)
			}
		}
	}
	stdout, _, _ = runCLI(t, "accuracy", "--data", f, "--rows", "-q")
	if !strings.Contains(stdout, "warning: 1 rows predict an engine release") || !strings.Contains(stdout, "warning: sglang@0.4.6") {
		t.Errorf("accuracy table: want the row's warning and the count:\n%s", stdout)
	}
}

// TestSweepNotesLayoutWarning: a sweep ranks SGLang 0.4.6's attention DP + EP splits of
// Qwen3-30B-A3B (no MLA) with a warning in each configuration's JSON (which 0.4 release ran
// --enable-dp-attention beyond DeepSeek models is not sourced: estimator.LayoutWarning), but
// its table printed no word of it while ranking 1/1/4/4 second. The table now carries a note
// naming the layout and the model; DeepSeek-R1 (MLA) under the same release gets none.
func TestSweepNotesLayoutWarning(t *testing.T) {
	stdout, stderr, code := runCLI(t, "sweep", "--model", "Qwen/Qwen3-30B-A3B", "--gpus", "H100", "--num-gpus", "4", "--engine", "sglang@0.4.6",
		"--input-len", "1000", "--output-len", "100", "--concurrency", "8", "-q")
	want := "configurations with attention data parallelism + expert parallelism (ep > tp, dp > 1) for Qwen/Qwen3-30B-A3B are predicted with a warning"
	if code != 0 || !strings.Contains(stdout, "1/1/4/4") || !strings.Contains(stdout, want) {
		t.Errorf("sweep sglang@0.4.6 Qwen3-30B-A3B on 4 H100: exit %d, stderr %q; want 1/1/4/4 ranked and the note %q:\n%s", code, stderr, want, stdout)
	}
	stdout, stderr, code = runCLI(t, "sweep", "--model", "deepseek-ai/DeepSeek-R1", "--gpus", "H200", "--num-gpus", "8", "--engine", "sglang@0.4.6",
		"--input-len", "1000", "--output-len", "100", "--concurrency", "8", "-q")
	if code != 0 || strings.Contains(stdout, "are predicted with a warning") {
		t.Errorf("sweep sglang@0.4.6 DeepSeek-R1 on 8 H200: exit %d, stderr %q; want no layout note (MLA):\n%s", code, stderr, stdout)
	}
}
