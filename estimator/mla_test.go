package estimator

import "testing"

// TestMLALatentCacheNotSplitByTP: DeepSeek-V3's latent cache (kv_lora_rank 512 + rope 64 per
// layer, 61 layers, bf16) is 61 · 576 · 2 B = 70,272 B per token on every TP rank. The
// SGLang MTP case study (LMSYS blog 2025-07-17) ran 32 requests of 65,536 + 4,096 tokens on
// 16 H200s: under TP16 each rank would hold 32 · 69,632 · 70,272 B = 156.6 GB, more than an
// H200's 141 GB, so the rows are read as attention DP16 (each rank 2 requests: 9.8 GB).
func TestMLALatentCacheNotSplitByTP(t *testing.T) {
	m := mustModel(t, "deepseek-ai/DeepSeek-V3")
	g := mustGPU(t, "H200 SXM")
	tp := mustDeploy(t, Spec{Model: m, GPU: g, TP: 16, WeightDtype: "fp8", Profile: MustEngine("sglang"), MaxModelLen: 69632})
	if got := tp.KVBytesPerToken(); got != 70272 {
		t.Fatalf("KV bytes per token per GPU at TP16 = %d, want 70,272", int64(got))
	}
	need := 32 * 69632
	if got := tp.Memory().KVCacheTokens; got >= need {
		t.Errorf("TP16 holds %d KV tokens per rank; want fewer than the %d of 32 requests", got, need)
	}
	dp := mustDeploy(t, Spec{Model: m, GPU: g, NumGPUs: 16, TP: 1, DP: 16, EP: 16, WeightDtype: "fp8", Profile: MustEngine("sglang"), MaxModelLen: 69632, Topology: Topology{Nodes: 2}})
	if got := dp.Memory().KVCacheTokens; got < 2*69632 {
		t.Errorf("attention DP16: %d KV tokens per rank; want at least the 2 × 69,632 of its 2 requests", got)
	}
}
