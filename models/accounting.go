package models

import (
	"fmt"
	"math"

	"roofline/units"
)

// excluded reports whether the checkpoint keeps module group g unquantized.
func (m *Model) excluded(g string) bool {
	for _, e := range m.Quant.Excluded {
		if e == g {
			return true
		}
	}
	return false
}

// layerCounts returns the number of dense-MLP layers and of MoE layers.
func (m *Model) layerCounts() (dense, moe int) {
	for _, l := range m.Layers {
		if l.MoE {
			moe++
		} else {
			dense++
		}
	}
	if len(m.Layers) == 0 {
		dense = m.NumLayers
	}
	return dense, moe
}

// GEMMs lists every weight matrix multiply, grouped by shape: attention projections
// (qkv_proj, or MLA's q_a_proj, q_b_proj / q_proj, kv_a_proj, kv_b_proj), o_proj, the
// dense MLP of the non-MoE layers (mlp_up_gate, mlp_down), the MoE layers' router,
// routed experts (expert_up_gate, expert_down, with Experts and ExpertsPerToken), shared
// experts (shared_up_gate, shared_down, shared_gate) and lm_head (Layers 1; present even
// when tied to the embedding: it is still a matmul). Gate and up projections are fused
// into one GEMM of N = 2·inner, as vLLM runs them; q, k and v likewise.
func (m *Model) GEMMs() []GEMM {
	h, L := m.HiddenSize, m.NumLayers
	attnQ := !m.excluded(ModAttention)
	out := make([]GEMM, 0, 16) // one allocation for every model so far (14 GEMMs at most)
	if ml := m.MLA; ml != nil {
		qk := ml.QKNopeHeadDim + ml.QKRopeHeadDim
		if ml.QLoRARank > 0 {
			out = append(out,
				GEMM{Name: "q_a_proj", K: h, N: ml.QLoRARank, Layers: L, Split: "replicated", Quantized: attnQ},
				GEMM{Name: "q_b_proj", K: ml.QLoRARank, N: m.NumHeads * qk, Layers: L, Split: "column", Quantized: attnQ})
		} else {
			out = append(out, GEMM{Name: "q_proj", K: h, N: m.NumHeads * qk, Layers: L, Split: "column", Quantized: attnQ})
		}
		out = append(out,
			GEMM{Name: "kv_a_proj", K: h, N: ml.KVLoRARank + ml.QKRopeHeadDim, Layers: L, Split: "replicated", Quantized: attnQ},
			GEMM{Name: "kv_b_proj", K: ml.KVLoRARank, N: m.NumHeads * (ml.QKNopeHeadDim + ml.VHeadDim), Layers: L, Split: "column", Quantized: attnQ},
			GEMM{Name: "o_proj", K: m.NumHeads * ml.VHeadDim, N: h, Layers: L, Split: "row", Quantized: attnQ})
	} else {
		for _, g := range m.attnGeometries() {
			kv := 2 * g.kvHeads
			if g.kEqV {
				kv = g.kvHeads // one projection serves as K and V
			}
			vd := g.headDim
			if g.headDim == m.HeadDim {
				vd = m.VHeadDim
			}
			out = append(out,
				GEMM{Name: "qkv_proj", K: h, N: (m.NumHeads*g.headDim + kv*g.headDim), Layers: g.layers, Split: "column", Quantized: attnQ,
					KVHeads: g.kvHeads, KVN: kv * g.headDim},
				GEMM{Name: "o_proj", K: m.NumHeads * vd, N: h, Layers: g.layers, Split: "row", Quantized: attnQ})
		}
	}
	dense, moe := m.layerCounts()
	upN := func(inner int) int {
		if m.GatedMLP {
			return 2 * inner
		}
		return inner
	}
	if dense > 0 && m.IntermediateSize > 0 {
		q := !m.excluded(ModMLP)
		out = append(out,
			GEMM{Name: "mlp_up_gate", K: h, N: upN(m.IntermediateSize), Layers: dense, Split: "column", Quantized: q},
			GEMM{Name: "mlp_down", K: m.IntermediateSize, N: h, Layers: dense, Split: "row", Quantized: q})
	}
	if e := m.MoE; e != nil && moe > 0 {
		out = append(out, GEMM{Name: "router", K: h, N: e.Experts, Layers: moe, Split: "replicated"})
		q := !m.excluded(ModExperts)
		out = append(out,
			GEMM{Name: "expert_up_gate", K: h, N: upN(e.ExpertIntermediate), Layers: moe, Experts: e.Experts, ExpertsPerToken: e.ExpertsPerToken, Split: "column", Quantized: q},
			GEMM{Name: "expert_down", K: e.ExpertIntermediate, N: h, Layers: moe, Experts: e.Experts, ExpertsPerToken: e.ExpertsPerToken, Split: "row", Quantized: q})
		if e.SharedExperts > 0 && e.SharedIntermediate > 0 {
			inner := e.SharedExperts * e.SharedIntermediate
			q := !m.excluded(ModShared)
			out = append(out,
				GEMM{Name: "shared_up_gate", K: h, N: upN(inner), Layers: moe, Split: "column", Quantized: q},
				GEMM{Name: "shared_down", K: inner, N: h, Layers: moe, Split: "row", Quantized: q})
			if e.SharedGate {
				out = append(out, GEMM{Name: "shared_gate", K: h, N: 1, Layers: moe, Split: "replicated"})
			}
		}
	}
	out = append(out, GEMM{Name: "lm_head", K: h, N: m.VocabSize, Layers: 1, Split: "column"})
	for i := range out {
		out[i].Module = gemmModule(out[i].Name)
	}
	return out
}

// gemmModule is the module group of a GEMM name.
func gemmModule(name string) string {
	switch name {
	case "mlp_up_gate", "mlp_down":
		return ModMLP
	case "expert_up_gate", "expert_down":
		return ModExperts
	case "shared_up_gate", "shared_down":
		return ModShared
	case "router", "shared_gate":
		return ModRouter
	case "lm_head":
		return ModLMHead
	}
	return ModAttention
}

// attnGeometry is a set of layers sharing one attention shape.
type attnGeometry struct {
	kvHeads, headDim int
	kEqV             bool
	layers           int
}

// attnGeometries groups the layers by (KV heads, head size, shared K/V projection), in
// order of first appearance: one group for a uniform model, two for Gemma 4.
func (m *Model) attnGeometries() []attnGeometry {
	if len(m.Layers) == 0 {
		// NumLayers zero Layers: one group (none when NumLayers is 0), without listing them.
		if m.NumLayers <= 0 {
			return nil
		}
		var l Layer
		return []attnGeometry{{kvHeads: m.LayerKVHeads(l), headDim: m.LayerHeadDim(l), kEqV: l.KEqV, layers: m.NumLayers}}
	}
	var out []attnGeometry
	for _, l := range m.Layers {
		g := attnGeometry{kvHeads: m.LayerKVHeads(l), headDim: m.LayerHeadDim(l), kEqV: l.KEqV}
		found := false
		for i := range out {
			if out[i].kvHeads == g.kvHeads && out[i].headDim == g.headDim && out[i].kEqV == g.kEqV {
				out[i].layers++
				found = true
				break
			}
		}
		if !found {
			g.layers = 1
			out = append(out, g)
		}
	}
	return out
}

// LayerKVHeads is layer l's KV-head count (Layer.KVHeads, else Model.NumKVHeads).
func (m *Model) LayerKVHeads(l Layer) int {
	if l.KVHeads > 0 {
		return l.KVHeads
	}
	return m.NumKVHeads
}

// LayerHeadDim is layer l's query/key head size (Layer.HeadDim, else Model.HeadDim).
func (m *Model) LayerHeadDim(l Layer) int {
	if l.HeadDim > 0 {
		return l.HeadDim
	}
	return m.HeadDim
}

// LayerVHeadDim is layer l's value head size (Layer.HeadDim when set, else Model.VHeadDim).
func (m *Model) LayerVHeadDim(l Layer) int {
	if l.HeadDim > 0 {
		return l.HeadDim
	}
	return m.VHeadDim
}

// Params counts every stored parameter by role, and those active per token.
//
// Total = Σ GEMM K·N·copies·Layers (lm_head only when untied) + embedding + biases +
// norms + attention sinks. Active counts the routed experts at ExpertsPerToken/Experts
// and everything else in full, embedding and lm_head included. Biases and norms: q/k/v
// (and o) biases where the config has them, MLP and expert biases (gpt-oss, Falcon,
// GPT-J), router bias (gpt-oss) or score-correction bias (DeepSeek-V3), lm_head bias
// (GPT-J); NormsPerLayer hidden-size norms per layer (LayerNorm: weight and bias), the
// final norm, per-head q/k norms (Qwen3, Gemma-3: head_dim each), MLA's q_a_layernorm
// (q_lora_rank) and kv_a_layernorm (kv_lora_rank); gpt-oss's sinks, one per head per layer.
func (m *Model) Params() ParamCount { return m.ParamsOf(m.GEMMs()) }

// ParamsOf is Params from gemms, the model's own m.GEMMs() already at hand (a caller that
// needs both lists the GEMMs once).
func (m *Model) ParamsOf(gemms []GEMM) ParamCount {
	var p ParamCount
	h, L := int64(m.HiddenSize), int64(m.NumLayers)
	normW := h
	if m.NormBias {
		normW = 2 * h
	}
	p.Embedding = int64(m.VocabSize) * h
	var activeExperts float64
	for _, g := range gemms {
		n := g.Params() * int64(g.Layers)
		switch g.Name {
		case "lm_head":
			if !m.TiedEmbeddings {
				p.LMHead = n
			}
		case "router", "shared_gate":
			p.Router += n
		case "mlp_up_gate", "mlp_down":
			p.Dense += n
		case "expert_up_gate", "expert_down":
			p.Experts += n
			activeExperts += float64(n) * float64(g.ExpertsPerToken) / float64(g.Experts)
		case "shared_up_gate", "shared_down":
			p.Shared += n
		default:
			p.Attention += n
		}
	}
	// Biases.
	if m.QKVBias && m.MLA == nil {
		for _, g := range m.attnGeometries() {
			kv := 2 * g.kvHeads
			if g.kEqV {
				kv = g.kvHeads
			}
			b := int64(g.layers) * int64(m.NumHeads+kv) * int64(g.headDim)
			p.Attention += b
			p.Biases += b
		}
	}
	if m.OBias {
		p.Attention += L * h
		p.Biases += L * h
	}
	if m.AttentionSinks {
		p.Attention += L * int64(m.NumHeads)
		p.Sinks = L * int64(m.NumHeads)
	}
	dense, moe := m.layerCounts()
	upBias := func(inner int) int64 {
		if m.GatedMLP {
			return 2*int64(inner) + h
		}
		return int64(inner) + h
	}
	if m.MLPBias {
		b := int64(dense) * upBias(m.IntermediateSize)
		if m.IntermediateSize == 0 {
			b = 0
		}
		p.Dense += b
		p.Biases += b
	}
	if e := m.MoE; e != nil {
		if e.RouterBias {
			b := int64(moe) * int64(e.Experts)
			p.Router += b
			p.Biases += b
		}
		if m.MLPBias {
			b := int64(moe) * int64(e.Experts) * upBias(e.ExpertIntermediate)
			p.Experts += b
			p.Biases += b
			activeExperts += float64(b) * float64(e.ExpertsPerToken) / float64(e.Experts)
			if e.SharedExperts > 0 {
				sb := int64(moe) * upBias(e.SharedExperts*e.SharedIntermediate)
				p.Shared += sb
				p.Biases += sb
			}
		}
	}
	if m.LMHeadBias {
		p.LMHead += int64(m.VocabSize)
		p.Biases += int64(m.VocabSize)
	}
	// Norms.
	p.Norms = L*int64(m.NormsPerLayer)*normW + normW
	if m.QKNorm {
		for _, l := range m.layers() {
			p.Norms += 2 * int64(m.LayerHeadDim(l))
		}
	}
	if ml := m.MLA; ml != nil {
		p.Norms += L * int64(ml.QLoRARank+ml.KVLoRARank)
	}
	p.Vision = m.VisionParams
	p.Total = p.Embedding + p.LMHead + p.Attention + p.Dense + p.Experts + p.Shared + p.Router + p.Norms
	p.Active = p.Total - p.Experts + int64(math.Round(activeExperts))
	return p
}

// ElemBytes returns the bytes per weight element, scales included.
//
// quantized says whether the weight is one the checkpoint quantizes (GEMM.Quantized).
// dtype "" means the checkpoint's own storage: Quant.BytesPerWeight for quantized
// weights, torch_dtype bytes for the others. Otherwise dtype is what the user asks the
// weights to be: quantized-eligible weights take its bytes (4-bit types add one fp16
// scale per group of 128 elements: 0.5 + 2/128 = 0.515625); the others stay 16-bit when
// dtype is 8-bit or narrower, and take dtype's bytes when it is 16- or 32-bit.
// An unknown dtype is an error listing the allowed ones.
func (m *Model) ElemBytes(quantized bool, dtype string) (float64, error) {
	d, err := units.CanonicalDtype(dtype)
	if err != nil {
		return 0, err
	}
	if d == "" {
		if quantized && m.Quant.Method != "" {
			return m.Quant.BytesPerWeight, nil
		}
		return bytesOf(m.TorchDtype), nil
	}
	b, err := units.DtypeBytes(d)
	if err != nil {
		return 0, err
	}
	if !quantized {
		if b <= 1 {
			return 2, nil
		}
		return b, nil
	}
	if b < 1 {
		b += 2.0 / 128
	}
	return b, nil
}

// GEMMElemBytes returns the bytes per weight element of g in dtype ("" = as the
// checkpoint stores it): with dtype given, ElemBytes(g.Quantized, dtype); else the
// checkpoint's price for g's module group — Quant.ModuleBytes when a config group prices
// it apart, else Quant.BytesPerWeight — blended with 16 bits for the share of its layers
// that per-layer exclusions keep unquantized (Quant.Kept16); torch_dtype bytes for a
// weight the checkpoint does not quantize.
func (m *Model) GEMMElemBytes(g GEMM, dtype string) (float64, error) {
	if dtype != "" {
		return m.ElemBytes(g.Quantized, dtype)
	}
	half := bytesOf(m.TorchDtype)
	if !g.Quantized || m.Quant.Method == "" {
		return half, nil
	}
	b := m.Quant.BytesPerWeight
	if mb, ok := m.Quant.ModuleBytes[g.Module]; ok {
		b = mb
	}
	if f := m.Quant.Kept16[g.Module]; f > 0 {
		b = f*half + (1-f)*b
	}
	return b, nil
}

// WeightBytes returns the bytes of the whole model's weights in dtype ("" = as the
// checkpoint stores them): every GEMM at GEMMElemBytes(g, dtype) (lm_head not again when
// tied), plus embedding, biases, norms, sinks and the vision tower (VisionParams) at
// ElemBytes(false, dtype).
func (m *Model) WeightBytes(dtype string) (units.Bytes, error) {
	half, err := m.ElemBytes(false, dtype)
	if err != nil {
		return 0, err
	}
	var gemm, total float64
	for _, g := range m.GEMMs() {
		n := float64(g.Params()) * float64(g.Layers)
		if g.Name == "lm_head" && m.TiedEmbeddings {
			continue
		}
		gemm += n
		b, err := m.GEMMElemBytes(g, dtype)
		if err != nil {
			return 0, err
		}
		total += n * b
	}
	p := m.Params()
	total += (float64(p.Total) - gemm + float64(m.VisionParams)) * half
	return units.Bytes(total), nil
}

// kvElemBytes returns the bytes of one KV-cache element in kvDtype ("" = torch_dtype).
func (m *Model) kvElemBytes(kvDtype string) (float64, error) {
	d, err := units.CanonicalDtype(kvDtype)
	if err != nil {
		return 0, fmt.Errorf("kv dtype: %w", err)
	}
	if d == "" {
		d = m.TorchDtype
	}
	return units.DtypeBytes(d)
}

// KVLayerElems returns the KV elements one token stores in layer l on one GPU with
// tensor parallelism tp: GQA (k_heads+v_heads)·head_dim with max(1, ⌈kv_heads/tp⌉) heads
// each (vLLM replicates KV heads when tp > kv_heads; the layer's own KV heads and head
// size, K and V both stored even when one projection makes them); MLA kv_lora_rank +
// qk_rope_head_dim (the latent is not split); 0 for a layer that shares an earlier
// layer's cache.
func (m *Model) KVLayerElems(l Layer, tp int) float64 {
	if l.SharedKV {
		return 0
	}
	if ml := m.MLA; ml != nil {
		return float64(ml.KVLoRARank + ml.QKRopeHeadDim)
	}
	if tp < 1 {
		tp = 1
	}
	heads := (m.LayerKVHeads(l) + tp - 1) / tp
	if heads < 1 {
		heads = 1
	}
	return float64(heads) * float64(m.LayerHeadDim(l)+m.LayerVHeadDim(l))
}

// KVBytesPerToken returns the KV-cache bytes one token occupies across all layers with
// full attention (windows ignored), on one GPU without tensor parallelism: Σ over layers
// of KVLayerElems(layer, 1)·bytes — GQA/MHA/MQA 2·kv_heads·head_dim per layer; MLA
// kv_lora_rank + qk_rope_head_dim per layer. kvDtype "" is the model's torch_dtype.
func (m *Model) KVBytesPerToken(kvDtype string) (units.Bytes, error) {
	b, err := m.kvElemBytes(kvDtype)
	if err != nil {
		return 0, err
	}
	var e float64
	for _, l := range m.layers() {
		e += m.KVLayerElems(l, 1)
	}
	return units.Bytes(e * b), nil
}

// KVGroupName is the name of a layer's KV group: "full", "sliding_<W>" or "chunked_<C>".
func KVGroupName(l Layer) string {
	switch {
	case l.SlidingWindow > 0 && l.Chunked:
		return fmt.Sprintf("chunked_%d", l.SlidingWindow)
	case l.SlidingWindow > 0:
		return fmt.Sprintf("sliding_%d", l.SlidingWindow)
	}
	return "full"
}

// KVBytesPerTokenByGroup splits KVBytesPerToken by layer group (KVGroupName): what one
// token adds in each group's layers on one GPU without tensor parallelism. Windowed
// groups stop growing once a sequence passes their window.
func (m *Model) KVBytesPerTokenByGroup(kvDtype string) (map[string]units.Bytes, error) {
	b, err := m.kvElemBytes(kvDtype)
	if err != nil {
		return nil, err
	}
	out := map[string]units.Bytes{}
	for _, l := range m.layers() {
		out[KVGroupName(l)] += units.Bytes(m.KVLayerElems(l, 1) * b)
	}
	return out, nil
}

// KVCacheBytes returns the KV-cache bytes one sequence of ctx tokens holds on one GPU
// with tensor parallelism tp: Σ over layers of min(ctx, window)·per-token bytes, where
// sliding-window (and Llama-4 chunked) layers are capped at their window. ctx < 0 or
// tp < 1 is an error; ctx 0 gives 0.
func (m *Model) KVCacheBytes(kvDtype string, ctx, tp int) (units.Bytes, error) {
	if ctx < 0 {
		return 0, fmt.Errorf("context length %d: must be ≥ 0", ctx)
	}
	if tp < 1 {
		return 0, fmt.Errorf("tensor parallelism %d: must be ≥ 1", tp)
	}
	b, err := m.kvElemBytes(kvDtype)
	if err != nil {
		return 0, err
	}
	var total float64
	for _, l := range m.layers() {
		t := ctx
		if l.SlidingWindow > 0 && l.SlidingWindow < t {
			t = l.SlidingWindow
		}
		total += float64(t) * m.KVLayerElems(l, tp) * b
	}
	return units.Bytes(total), nil
}

// layers returns m.Layers, or NumLayers full-attention dense layers when it is empty.
func (m *Model) layers() []Layer {
	if len(m.Layers) > 0 {
		return m.Layers
	}
	return make([]Layer, m.NumLayers)
}

// keysAttended returns Σ over queries at positions past … past+n−1 of min(p+1, w)
// (w 0: no window): the keys each query attends to, causally.
func keysAttended(n, past, w int) float64 {
	if n <= 0 {
		return 0
	}
	a, b := float64(past)+1, float64(past)+float64(n) // keys of the first and last query
	sum := func(x, y float64) float64 { return (x + y) * (y - x + 1) / 2 }
	if w <= 0 || b <= float64(w) {
		return sum(a, b)
	}
	W := float64(w)
	if a >= W {
		return float64(n) * W
	}
	return sum(a, W) + (b-W)*W
}

// AttentionFLOPs returns the FLOPs of QKᵀ and A·V for one sequence, all layers, when
// newTokens queries attend to pastTokens cached keys and causally to each other: each
// query at position p sees min(p+1, window) keys, and a layer costs
// 2·heads·(head_dim + v_head_dim)·Σ keys. Decode at context ctx is AttentionFLOPs(1, ctx).
// MLA is counted in its expanded form (head_dim = qk_nope + qk_rope). Negative inputs give 0.
func (m *Model) AttentionFLOPs(newTokens, pastTokens int) units.FLOPs {
	if newTokens <= 0 || pastTokens < 0 {
		return 0
	}
	var f float64
	for _, l := range m.layers() {
		perKey := 2 * float64(m.NumHeads) * float64(m.LayerHeadDim(l)+m.LayerVHeadDim(l))
		f += perKey * keysAttended(newTokens, pastTokens, l.SlidingWindow)
	}
	return units.FLOPs(f)
}

// Operator names of FLOPsPerToken.
const (
	OpQKV           = "qkv_proj"
	OpAttention     = "attention"
	OpOProj         = "o_proj"
	OpMLP           = "mlp"
	OpRouter        = "router"
	OpExperts       = "experts"
	OpSharedExperts = "shared_experts"
	OpLMHead        = "lm_head"
)

// FLOPsPerToken returns the FLOPs of one token by operator, summed over layers, in the
// order qkv_proj, attention, o_proj, mlp, router, experts, shared_experts, lm_head
// (operators the model lacks are left out). GEMMs cost 2·K·N per token (routed experts:
// times ExpertsPerToken). phase "decode": one new token with ctx tokens cached
// (attention = AttentionFLOPs(1, ctx)); "prefill": the average token of a ctx-token
// prompt (attention = AttentionFLOPs(ctx, 0)/ctx, causal halving included). Biases,
// norms and activations are not counted. Errors: unknown phase, ctx < 0 (decode) or
// ctx < 1 (prefill).
func (m *Model) FLOPsPerToken(phase string, ctx int) ([]OpFLOPs, error) {
	var attn units.FLOPs
	switch phase {
	case "decode":
		if ctx < 0 {
			return nil, fmt.Errorf("decode context %d: must be ≥ 0", ctx)
		}
		attn = m.AttentionFLOPs(1, ctx)
	case "prefill":
		if ctx < 1 {
			return nil, fmt.Errorf("prefill length %d: must be ≥ 1", ctx)
		}
		attn = m.AttentionFLOPs(ctx, 0) / units.FLOPs(ctx)
	default:
		return nil, fmt.Errorf("phase %q: allowed values are prefill, decode", phase)
	}
	sums := map[string]units.FLOPs{OpAttention: attn}
	for _, g := range m.GEMMs() {
		op := OpQKV
		switch g.Name {
		case "o_proj":
			op = OpOProj
		case "mlp_up_gate", "mlp_down":
			op = OpMLP
		case "router", "shared_gate":
			op = OpRouter
		case "expert_up_gate", "expert_down":
			op = OpExperts
		case "shared_up_gate", "shared_down":
			op = OpSharedExperts
		case "lm_head":
			op = OpLMHead
		}
		sums[op] += g.FLOPsPerToken() * units.FLOPs(g.Layers)
	}
	var out []OpFLOPs
	for _, op := range []string{OpQKV, OpAttention, OpOProj, OpMLP, OpRouter, OpExperts, OpSharedExperts, OpLMHead} {
		if f, ok := sums[op]; ok {
			out = append(out, OpFLOPs{Name: op, FLOPs: f})
		}
	}
	return out, nil
}
