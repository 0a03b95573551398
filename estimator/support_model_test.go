package estimator

import (
	"strings"
	"testing"
)

// TestReleaseModelWarning: a release older than the first of its engine that loads the
// model's architecture is predicted with a warning naming that first release; the release
// itself and newer ones, and a plain engine name (its newest release), get none. First
// releases as archFirstRelease states them (engine release notes: vLLM 0.6.6 DeepSeek-V3,
// 0.8.3 Llama 4, 0.8.4 Qwen3, 0.10.1 gpt-oss; SGLang 0.4.1 DeepSeek-V3; DeepSeek-V3
// published 2024-12-26, after TensorRT-LLM 0.16).
func TestReleaseModelWarning(t *testing.T) {
	for _, tc := range []struct {
		model, engine string
		want          string // substring of the warning; "" for none
	}{
		{"openai/gpt-oss-20b", "vllm@0.7.3", "vLLM added gpt-oss in 0.10.1"},
		{"openai/gpt-oss-20b", "vllm@0.10.0", "vLLM added gpt-oss in 0.10.1"},
		{"openai/gpt-oss-20b", "vllm@0.10.1", ""},
		{"openai/gpt-oss-20b", "vllm", ""},
		{"openai/gpt-oss-120b", "trtllm@0.21", "date from before gpt-oss"},
		{"openai/gpt-oss-120b", "trtllm", ""},
		{"Qwen/Qwen3-30B-A3B", "vllm@0.8.3", "vLLM added Qwen3 in 0.8.4"},
		{"Qwen/Qwen3-30B-A3B", "vllm@0.8.5", ""},
		{"Qwen/Qwen3-30B-A3B", "sglang@0.4.5", "sglang>=0.4.6"},
		{"deepseek-ai/DeepSeek-R1", "vllm@0.6.3", "vLLM added DeepSeek-V3 in 0.6.6"},
		{"deepseek-ai/DeepSeek-R1", "vllm@0.6.6", ""},
		{"deepseek-ai/DeepSeek-R1", "sglang@0.4.0", "SGLang added DeepSeek-V3 in 0.4.1"},
		{"deepseek-ai/DeepSeek-R1", "trtllm@0.16", "before 0.17 date from before DeepSeek-V3"},
		{"deepseek-ai/DeepSeek-R1", "trtllm@0.17", ""},
		{"meta-llama/Llama-3.1-8B-Instruct", "vllm@0.5.4", ""},
	} {
		p, _, err := Engine(tc.engine)
		if err != nil {
			t.Fatal(err)
		}
		got := ReleaseModelWarning(p, mustModel(t, tc.model))
		switch {
		case tc.want == "" && got != nil:
			t.Errorf("%s with %s: warning %q, want none", tc.engine, tc.model, got)
		case tc.want != "" && (got == nil || !strings.Contains(got.Error(), tc.want) || !IsSupport(got)):
			t.Errorf("%s with %s: warning %v, want a support warning containing %q", tc.engine, tc.model, got, tc.want)
		}
	}
}
