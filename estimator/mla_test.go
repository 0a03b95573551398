package estimator

import (
	"math"
	"strings"
	"testing"
)

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

// TestMLAEPLayerFloor: an MLA MoE layer runs the same small kernels (RMSNorms, the absorbed
// BMMs, rotary, routing, permutation, quantisation, each GEMM's fill/drain) whether attention
// is tensor-parallel or data-parallel, so attention DP + EP pays per MoE layer at least the
// profile's mla_tp_layer_overhead_us. The vllm profile gives 80 µs for TP and no EP figure:
// a decode step of DeepSeek-R1 (61 layers, first_k_dense_replace 3 → 58 MoE layers, its
// config.json) under tp=1 dp=8 ep=8 carries 58 × 80 µs = 4.64 ms of it (hand calculation).
// Before, it carried none, and that layout came out faster per step than TP8 even at 4
// requests. A profile whose EP figure is larger keeps it (trtllm: 58 × 250 µs = 14.5 ms).
func TestMLAEPLayerFloor(t *testing.T) {
	m := mustModel(t, "deepseek-ai/DeepSeek-R1")
	g := mustGPU(t, "h200")
	b := Batch{Uniform: struct{ N, Ctx int }{16, 2048}}
	for _, tc := range []struct {
		engine string
		want   float64 // s, the per-MoE-layer fixed cost of one step
	}{
		{"vllm", 58 * 80e-6},
		{"vllm@0.8.5", 58 * 80e-6}, // vLLM V0 (before 0.8) has no attention DP: CheckEngineLayout refuses it
		{"sglang@0.4.6", 58 * 250e-6},
		{"trtllm", 58 * 250e-6},
	} {
		p, _, err := Engine(tc.engine)
		if err != nil {
			t.Fatal(err)
		}
		none := *p
		none.MLAEPLayerOverheadUs, none.MLATPLayerOverheadUs = 0, 0
		step := func(p *Profile) float64 {
			return mustDeploy(t, Spec{Model: m, GPU: g, TP: 1, DP: 8, EP: 8, Profile: p}).StepSeconds(&b)
		}
		if got := step(p) - step(&none); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s, attention DP8 + EP8: %.3f ms per step for the MoE layers' fixed work, want %.3f ms", tc.engine, got*1e3, tc.want*1e3)
		}
		// The parameter list shows the per-layer figure priced, not the profile's 0.
		for _, q := range mustDeploy(t, Spec{Model: m, GPU: g, TP: 1, DP: 8, EP: 8, Profile: p}).Parameters() {
			if q.Name == "mla_ep_layer_overhead_us" && math.Abs(q.Value*58e-6-tc.want) > 1e-9 {
				t.Errorf("%s: parameters list mla_ep_layer_overhead_us = %g µs, want %g (%s)", tc.engine, q.Value, tc.want/58e-6, q.Source)
			}
		}
	}
}

// TestVLLMBeforeMLAExpandedKV: vLLM up to 0.7.0 cached DeepSeek's keys and values per head,
// V zero-padded to the key's 192 (qk_nope 128 + rope 64, DeepSeek-R1 config.json), split over
// the TP ranks: at TP8 each rank holds 128/8 = 16 heads · 2 · 192 = 6,144 elements per layer,
// 61 layers, bf16: 61 · 6,144 · 2 B = 749,568 B per token (hand calculation), against the
// latent's 61 · 576 · 2 B = 70,272 B from 0.7.1 on: 10.7×, the "~10x the memory capacity for
// tokens" of the v0.7.1 release notes. A decode step over the expanded cache reads those
// bytes per cached token. The plain vllm-v0 profile (0.6 to 0.7) and SGLang keep the latent.
func TestVLLMBeforeMLAExpandedKV(t *testing.T) {
	m := mustModel(t, "deepseek-ai/DeepSeek-R1")
	g := mustGPU(t, "H200 SXM")
	for _, tc := range []struct {
		engine string
		want   int64 // KV bytes per token per GPU
	}{
		{"vllm@0.6.6", 749568},
		{"vllm@0.7.0", 749568},
		{"vllm@0.7.1", 70272},
		{"vllm@0.7.3", 70272},
		{"vllm", 70272},
		{"sglang@0.4.1", 70272},
	} {
		p, _, err := Engine(tc.engine)
		if err != nil {
			t.Fatal(err)
		}
		d := mustDeploy(t, Spec{Model: m, GPU: g, TP: 8, Profile: p, MaxModelLen: 8192})
		if got := int64(d.KVBytesPerToken()); got != tc.want {
			t.Errorf("%s: KV bytes per token per GPU at TP8 = %d, want %d", tc.engine, got, tc.want)
		}
	}
	// Decode attention reads the cache: 8 sequences of 4,096 cached tokens move 8 · 4,097 ·
	// 749,568 B ≈ 24.6 GB per step on a rank before 0.7.1 and 2.3 GB after, so the step is
	// longer by at least those extra bytes at the catalogue's bandwidth (hand bound, loose).
	b := Batch{Uniform: struct{ N, Ctx int }{8, 4096}}
	step := func(e string) float64 {
		p, _, err := Engine(e)
		if err != nil {
			t.Fatal(err)
		}
		return mustDeploy(t, Spec{Model: m, GPU: g, TP: 8, Profile: p, MaxModelLen: 8192}).StepSeconds(&b)
	}
	extra := 8 * 4097 * float64(749568-70272) // bytes
	if got, min := step("vllm@0.7.0")-step("vllm@0.7.1"), extra/float64(g.MemoryBandwidth); got < min {
		t.Errorf("decode step 0.7.0 − 0.7.1 = %.2f ms, want at least %.2f ms (%.1f GB more KV read at the datasheet bandwidth)", got*1e3, min*1e3, extra/1e9)
	}
}

// TestFP4ExpertsOnlyWarningOnHopper: H200 has no FP4 tensor cores (datasheet: FP8 and
// below-16-bit integer only), so --weight-dtype fp4 on DeepSeek-R1 dequantises the routed
// experts, while attention, the dense layers and the shared experts stay FP8 (fp4ExpertsOnly),
// which H200 runs natively; the warning said all fp4 weights were computed in bf16.
func TestFP4ExpertsOnlyWarningOnHopper(t *testing.T) {
	d := mustDeploy(t, Spec{Model: mustModel(t, "deepseek-ai/DeepSeek-R1"), GPU: mustGPU(t, "H200 SXM"), TP: 8, WeightDtype: "fp4", MaxModelLen: 8192})
	found := false
	for _, w := range d.Warnings() {
		if msg := w.Error(); strings.Contains(msg, "no fp4 tensor cores") {
			found = strings.Contains(msg, "routed experts") && strings.Contains(msg, "keep the checkpoint's fp8")
		}
	}
	if !found {
		t.Errorf("warnings %v: want the no-fp4 warning to name the routed experts and the fp8 rest", d.Warnings())
	}
}
