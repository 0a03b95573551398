package main

import (
	"strings"
	"testing"
)

// TestSweepSaysNothingFits: a space none of whose configurations fits in memory says so and
// names the fewest GPUs that hold the model; it said "no configuration meets every
// constraint" with no constraint given. DeepSeek-R1 is 671 B parameters in FP8 (its
// config.json, block-wise FP8 quantization_config): ~690 GB of weights, more than 3 × 141 GB
// H200s hold, so --num-gpus 3 fits nowhere; 6 (tp=2 pp=3) give 846 GB.
func TestSweepSaysNothingFits(t *testing.T) {
	out, errOut, code := runCLI(t, "sweep", "--model", "deepseek-ai/DeepSeek-R1", "--gpu", "H200", "--num-gpus", "3",
		"--input-len", "1000", "--output-len", "100", "--concurrency", "4")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(out, "meets every constraint") || !strings.Contains(out, "no configuration fits in memory") || !strings.Contains(out, "h200-sxm-141gb from 6 GPUs (tp=2 pp=3)") {
		t.Errorf("want a note that nothing fits and that 6 H200s do; got:\n%s", out)
	}
}

// TestSweepNotesReleaseBeforeModel: a sweep of a release older than the first that loads
// the model says so once, as estimate warns for each configuration (vLLM added gpt-oss in
// 0.10.1, its release notes; estimator.ReleaseModelWarning): the ranked table has no room
// for each configuration's warnings.
func TestSweepNotesReleaseBeforeModel(t *testing.T) {
	out, errOut, code := runCLI(t, "sweep", "--model", "openai/gpt-oss-20b", "--gpu", "H100", "--engine", "vllm@0.7.3",
		"--input-len", "1000", "--output-len", "100", "--concurrency", "4")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "note: vllm@0.7.3") || !strings.Contains(out, "vLLM added gpt-oss in 0.10.1") {
		t.Errorf("want a note that vllm@0.7.3 predates gpt-oss; got:\n%s", out)
	}
}
