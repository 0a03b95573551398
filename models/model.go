package models

import "roofline/units"

// Attention kinds.
const (
	MHA = "mha" // one KV head per query head
	GQA = "gqa" // 1 < KV heads < query heads
	MQA = "mqa" // one KV head
	MLA = "mla" // DeepSeek multi-head latent attention (compressed KV latent + rope key)
)

// Model is a decoder-only transformer's architecture, read from a Hugging Face config.json.
// All sizes are element counts (not bytes) unless the name says otherwise.
type Model struct {
	ID           string // catalogue id, e.g. "meta-llama/Llama-3.1-8B-Instruct", or the file path
	Source       string // where the config was read: "catalogue", "path", "hf-cache", "hub"
	Architecture string // architectures[0], e.g. "LlamaForCausalLM"
	ModelType    string // model_type of the (text) config

	HiddenSize    int
	NumLayers     int
	VocabSize     int
	NumHeads      int // query heads
	NumKVHeads    int // key/value heads (== NumHeads for MHA; for MLA equal to NumHeads)
	HeadDim       int // query/key head dimension (MLA: qk_nope_head_dim + qk_rope_head_dim)
	VHeadDim      int // value head dimension (== HeadDim except MLA)
	Attention     string
	MaxContextLen int // max_position_embeddings

	IntermediateSize int  // dense MLP inner size
	GatedMLP         bool // SwiGLU/GeGLU (3 matrices) vs plain 2-matrix MLP
	TiedEmbeddings   bool
	QKVBias          bool // bias on q/k/v projections
	OBias            bool // bias on the attention output projection
	MLPBias          bool // bias on MLP / expert projections
	AttentionSinks   bool // learned per-head sink logits (gpt-oss)
	ParallelBlock    bool // attention and MLP read the same input (GPT-J, Falcon): no effect on counts

	MLA *MLAConfig // nil unless Attention == MLA
	MoE *MoEConfig // nil for dense models

	// Layers describes each layer in order; len(Layers) == NumLayers.
	Layers []Layer

	// Quant is the checkpoint's own quantization (from quantization_config, or torch_dtype).
	Quant Quantization

	// Unsupported is non-empty when the config has a feature roofline does not model
	// (e.g. "linear-attention layers (Qwen3-Next)"). Loading such a model returns an error.
	Unsupported string

	// TorchDtype is the checkpoint's unquantized dtype (torch_dtype, canonical: "bf16",
	// "fp16", "fp32"); "bf16" when the config does not say.
	TorchDtype string
	// NormsPerLayer is the number of hidden-size norm vectors in one layer (2 for a
	// pre-norm Llama block, 4 for Gemma-2/3, 1 for GPT-J); the final norm is counted apart.
	NormsPerLayer int
	// NormBias is true for LayerNorm (weight and bias); false for RMSNorm (weight only).
	NormBias bool
	// QKNorm is true when queries and keys are RMS-normalised per head with learned
	// weights of head_dim elements each (Qwen3, Gemma-3).
	QKNorm bool
	// LMHeadBias is true when the output projection has a bias (GPT-J).
	LMHeadBias bool
	// MTPLayers is the number of multi-token-prediction modules the checkpoint ships
	// (num_nextn_predict_layers: 1 for DeepSeek-V3/R1, 0 for Kimi-K2); -1 when the config
	// does not say.
	MTPLayers int
	// VisionParams is the vision tower's and projector's parameter count (0 without a
	// vision_config): stored and loaded with the text decoder, in 16 bits.
	VisionParams int64
	// Notes are caveats of the reading that do not change the counts' validity but a
	// user should see (e.g. "vision tower not counted").
	Notes []string
}

// MLAConfig holds the multi-head latent attention dimensions (DeepSeek-V2/V3).
type MLAConfig struct {
	QLoRARank     int // 0 means queries are projected directly from the hidden state
	KVLoRARank    int
	QKNopeHeadDim int
	QKRopeHeadDim int
	VHeadDim      int
}

// MoEConfig describes the mixture-of-experts layers.
type MoEConfig struct {
	Experts            int // routed experts per MoE layer
	ExpertsPerToken    int // routed experts each token is sent to (top-k)
	SharedExperts      int // always-active shared experts (0 if none)
	ExpertIntermediate int // inner size of one routed expert
	SharedIntermediate int // inner size of one shared expert (0 if none)
	RouterBias         bool
	// SharedGate is true when a sigmoid gate (hidden → 1) scales the shared expert (Qwen2-MoE).
	SharedGate bool
}

// Layer is one decoder layer.
type Layer struct {
	SlidingWindow int  // 0 for full attention; else the window in tokens
	MoE           bool // true when the MLP is a mixture of experts
	// Chunked is true for Llama-4's chunked local attention (SlidingWindow holds the chunk
	// size): a query sees the keys of its own chunk only.
	Chunked bool
	// KVHeads and HeadDim override Model.NumKVHeads and Model.HeadDim for this layer when
	// non-zero (Gemma 4 global layers: num_global_key_value_heads, global_head_dim).
	KVHeads, HeadDim int
	// KEqV is true when keys and values share one projection (Gemma 4 attention_k_eq_v):
	// the layer has no v_proj weights; its cache still stores K and V.
	KEqV bool
	// SharedKV is true when the layer reads an earlier layer's KV cache
	// (num_kv_shared_layers): it stores no KV of its own.
	SharedKV bool
}

// Quantization is how a checkpoint stores its weights.
type Quantization struct {
	Method    string // "", "fp8", "compressed-tensors", "awq", "gptq", "mxfp4", …
	Dtype     string // effective weight dtype: "bf16", "fp16", "fp32", "fp8", "int8", "int4", "fp4"
	GroupSize int    // elements sharing one scale (0: per-channel or per-tensor)
	// BytesPerWeight is the average storage per quantized weight element, scales included.
	BytesPerWeight float64
	// Excluded names modules kept in 16-bit (e.g. "lm_head", "router", "attention").
	Excluded []string
	// ModuleBytes gives the bytes per weight of module groups quantized differently from
	// BytesPerWeight (mixed-precision config_groups: FP8 attention with FP4 experts).
	ModuleBytes map[string]float64 `json:"module_bytes,omitempty"`
	// ModuleDtype gives the weight dtype of those module groups ("fp8", "fp4", "int4"…),
	// so a step model can run each group at its own tensor rate.
	ModuleDtype map[string]string `json:"module_dtype,omitempty"`
	// Kept16 is the fraction of a module group's layers that per-layer exclusions keep in
	// 16 bits (fbgemm_fp8 "model.layers.0.mlp"): 0 < f < 1.
	Kept16 map[string]float64 `json:"kept_16bit_fraction,omitempty"`
}

// ParamCount is an exact parameter count split by role.
type ParamCount struct {
	Total     int64 // every parameter of the text decoder stored (the vision tower is Vision)
	Active    int64 // parameters touched per token (MoE: top-k routed + shared experts); embeddings and LM head included
	Embedding int64 // input embedding table
	LMHead    int64 // output projection (0 when tied to the embedding)
	Attention int64 // all layers' attention weights (and biases, sinks)
	Dense     int64 // all dense-MLP layers' weights
	Experts   int64 // all routed experts' weights
	Shared    int64 // all shared experts' weights
	Router    int64 // router/gate weights
	Norms     int64 // norm weights (layer norms, final norm, q/k norms, MLA latent norms)
	// Biases and Sinks break out elements already counted in the role fields above:
	// every bias vector (attention, MLP, experts, router, lm_head) and the attention sinks.
	Biases int64
	Sinks  int64
	// Vision is the vision tower and its projector (multimodal configs; 0 otherwise), not
	// part of Total: a ViT count from vision_config (see VisionParams).
	Vision int64
}

// GEMM is one weight matrix multiply of a layer (or the head), y[M×N] = x[M×K]·W[K×N].
// A routed-expert GEMM has Experts > 0: there are Experts copies of W and each token
// multiplies by ExpertsPerToken of them.
type GEMM struct {
	// Module is the module group of the weight (ModAttention, ModMLP, ModExperts,
	// ModShared, ModRouter, ModLMHead): it selects the quantization that applies.
	Module          string
	Name            string // "qkv_proj", "q_a_proj", "kv_a_proj", "o_proj", "mlp_up_gate", "mlp_down", "expert_up_gate", "expert_down", "shared_up_gate", "shared_down", "router", "lm_head"
	K, N            int    // input and output features of one copy of the weight
	Layers          int    // how many layers run this GEMM (1 for lm_head)
	Experts         int    // 0 for a dense weight; else the number of routed-expert copies
	ExpertsPerToken int    // copies each token uses (routed experts)
	// Split says how tensor parallelism shards it: "column" (N split), "row" (K split; an
	// all-reduce follows), or "replicated" (router, MLA down-projections).
	Split string
	// Quantized is false for weights a checkpoint keeps in 16 bits (lm_head, router…).
	Quantized bool
	// KVHeads and KVN describe the K/V part of a qkv_proj (0 otherwise): its KV heads and
	// output features (kv_heads·head_dim for K and for V). Engines replicate KV heads
	// when tensor parallelism exceeds them, so that part is not split below one head.
	KVHeads, KVN int
}

// Params returns the weight elements of one layer's copy of g (all experts).
func (g GEMM) Params() int64 {
	n := int64(g.K) * int64(g.N)
	if g.Experts > 0 {
		n *= int64(g.Experts)
	}
	return n
}

// FLOPsPerToken returns 2·K·N times the experts each token uses: the FLOPs of one token
// through one layer's g.
func (g GEMM) FLOPsPerToken() units.FLOPs {
	f := 2 * float64(g.K) * float64(g.N)
	if g.Experts > 0 {
		f *= float64(g.ExpertsPerToken)
	}
	return units.FLOPs(f)
}

// OpFLOPs is the FLOPs of one operator for one token, summed over all layers.
type OpFLOPs struct {
	Name  string
	FLOPs units.FLOPs
}
