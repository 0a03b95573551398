package estimator

import "math"

// MLA as engines run it (DeepSeek-V2 paper §2.1.3; DeepSeek-V3/R1).
//
// Prefill runs the decompressed form: the latent c_KV (kv_lora_rank = 512) is expanded by
// kv_b_proj into per-head keys (qk_nope 128 + rope 64) and values (128), and attention is
// ordinary multi-head attention over those dims (the GEMMs kv_b_proj, q_b_proj, o_proj are in
// the operator list; see deployment.go's per-head prefill dims).
//
// Decode runs the absorbed form: W_UK is folded into the query and W_UV into the output, so
// every head attends over the shared 512 + 64 latent — MQA-like, 2·heads·(576+512) FLOPs per
// cached token per layer, with 576 elements of KV per token read once for all heads. At long
// context and large batch this is compute-bound, and the kernels that run it (FlashMLA,
// FlashInfer MLA, Triton MLA, TensorRT-LLM's MLA generation kernels) reach a different
// fraction of the tensor-core ceiling than prefill FMHA does: the profile's
// mla_decode_efficiency (0 = attention_efficiency).
//
// The latent KV is not split by heads, so with tensor parallelism every TP rank holds the full
// latent cache (KVBytesPerToken does not divide by TP); attention data parallelism (SGLang
// --enable-dp-attention, TensorRT-LLM attention DP) instead gives each rank its own sequences
// and cache, and the MoE layers gather tokens across ranks (moe.go).

// Before MLA kernels: vLLM up to 0.7.0 ran DeepSeek-V2/V3/R1 as ordinary multi-head
// attention. Its DeepseekV2 attention expanded the latent through kv_b_proj into per-head
// keys (qk_nope + qk_rope = 192) and values (128, zero-padded to 192 so one FlashAttention
// call takes q, k and v of one head size) and cached those, split by heads over TP ranks:
// 2 · 192 · 128 / 8 = 6,144 elements per token per layer on each of 8 ranks, against the
// 576-element latent every rank keeps with MLA: 10.7× — the "~10x the memory capacity for
// tokens" the v0.7.1 release notes (github.com/vllm-project/vllm/releases/tag/v0.7.1,
// 2025-02-01: "MLA optimization for Deepseek family of models ... compared to v0.7.0")
// announce. mlaExpandedKV marks such a release; shard then prices the KV cache and both
// attention phases in that form.

// mlaExpandedKV reports whether the deployment's engine release caches an MLA model's KV
// decompressed (vLLM before 0.7.1, named with vllm@VERSION or a profile whose whole range is
// older; the plain vllm-v0 profile, 0.6 to 0.7, keeps the latent of its newer releases).
func (d *Deployment) mlaExpandedKV() bool {
	return d.Model.MLA != nil && d.Profile != nil && d.Profile.Family() == "vllm" && d.Profile.before(Version{0, 7, 1})
}

// mlaDecodeEff is the compute efficiency of the absorbed MLA decode kernel.
func (d *Deployment) mlaDecodeEff() float64 {
	if d.mlaExpandedKV() {
		return orOne(d.Profile.AttentionEfficiency) // multi-head decode, no MLA kernel
	}
	if d.Model.MLA != nil && d.Profile.MLADecodeEfficiency > 0 {
		return d.Profile.MLADecodeEfficiency
	}
	return orOne(d.Profile.AttentionEfficiency)
}

// mlaEPLayerUs is the fixed cost per MoE layer per step of an MLA model whose MoE layers are
// expert-parallel across attention-DP ranks, µs: the profile's mla_ep_layer_overhead_us, and
// never less than its mla_tp_layer_overhead_us. The kernels that figure stands for (the
// q_a/kv_a RMSNorms, the second absorbed-MLA BMM, rotary, the split-KV reduction, top-k
// routing, the permutation into expert order and back, activation quantisation, and the
// fill/drain floor of each small GEMM) run in every layer whatever the layout; attention DP +
// EP adds the dispatch and combine between ranks on top. A profile that gives only the TP
// figure (vllm, vllm@0.8, vllm@0.7, trtllm@0.x) priced that layout with none of it, so attention
// DP + EP looked cheaper per step than TP8 at any batch.
func (d *Deployment) mlaEPLayerUs() float64 {
	return math.Max(d.Profile.MLAEPLayerOverheadUs, d.Profile.MLATPLayerOverheadUs)
}
