package estimator

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"roofline/units"
)

// Memory is the memory plan of one GPU of a deployment, following the engine's own accounting.
type Memory struct {
	Engine string `json:"memory_model"` // vllm, sglang, trtllm or ideal
	// TotalBytes is the memory the engine sizes against: what the driver reports when the
	// catalogue knows it (usable_memory), else the vendor's capacity.
	TotalBytes      units.Bytes `json:"total_bytes"`
	TotalSource     string      `json:"total_source"`
	MemoryFraction  float64     `json:"memory_fraction"`
	WeightsBytes    units.Bytes `json:"weights_bytes_per_gpu"`
	ActivationBytes units.Bytes `json:"activation_bytes"` // peak of the profiling forward pass
	NonTorchBytes   units.Bytes `json:"non_torch_bytes"`  // CUDA context, NCCL buffers
	ReserveBytes    units.Bytes `json:"reserve_bytes"`
	KVCacheBytes    units.Bytes `json:"kv_cache_bytes_per_gpu"`
	// KVBytesPerToken is the KV one token adds on one GPU with every layer at full length
	// (windows ignored); KVBytesPerTokenByGroup splits it by layer group ("full",
	// "sliding_1024", "chunked_8192", …): the windowed groups stop growing at their window.
	KVBytesPerToken        units.Bytes            `json:"kv_bytes_per_token_per_gpu"`
	KVBytesPerTokenByGroup map[string]units.Bytes `json:"kv_bytes_per_token_by_group"`
	// KVPolicy says how the engine holds windowed layers (vLLM's hybrid KV-cache manager:
	// window − 1 + scheduled tokens per sequence).
	KVPolicy string `json:"kv_policy"`
	// KVCacheTokens is the longest context the KV cache of one replica holds for one
	// sequence (rounded down to whole blocks): KV bytes over the full-attention bytes per
	// token, after the windowed layers' footprint at the prefill peak. Without windowed
	// layers it is KV bytes / KV bytes per token, the "GPU KV cache size" vLLM logs.
	KVCacheTokens int `json:"kv_cache_tokens"`
	// SamplerBytes is vLLM's dummy sampler pass over max_num_seqs × vocabulary, part of
	// the profiling peak (ActivationBytes is the larger of it and the forward pass).
	SamplerBytes units.Bytes `json:"sampler_bytes"`
	// WeightsLayoutNote says how the weights are laid out beyond the checkpoint's bytes
	// (padding, replicated KV heads, vision tower).
	WeightsLayoutNote string `json:"weights_layout_note"`
	MaxModelLen       int    `json:"max_model_len"`
	// MaxConcurrency is how many sequences of MaxModelLen tokens fit at once (each at its
	// decode footprint, KVSequenceBytes(MaxModelLen, 1)), capped by max_num_seqs.
	MaxConcurrency int  `json:"max_concurrency"`
	Fits           bool `json:"fits"`
	// NeededBytes is what one GPU needs for weights, activations, runtime and one sequence of
	// MaxModelLen tokens of KV cache: it fits when NeededBytes ≤ TotalBytes. AvailableBytes
	// is what is left of the GPU for weights and KV cache (the engine's share less
	// activations and runtime): weights + one sequence's KV ≤ AvailableBytes, the same test.
	// The two are on different bases; their difference is not the shortfall.
	NeededBytes    units.Bytes `json:"needed_bytes_per_gpu"`
	AvailableBytes units.Bytes `json:"available_bytes_per_gpu"`
}

// samplerBytesPerElem is the start-up peak per element of vLLM's dummy sampler pass over
// max_num_seqs × vocabulary (gpu_model_runner._dummy_sampler_run with top-k, top-p and
// temperature set). The sampler's own tensors: bf16 logits 2 B + fp32 logits 4 + sorted
// logits 4 + int64 sort indices 8 + sorted probabilities 4 (the cumulative sum is taken
// in place) + a boolean mask 1 + scattered logits 4 + probabilities 4 + exponential noise
// 4 = 36 B; re-enacting the pass in PyTorch measured 36.0–36.2 B on an H200
// (testdata/sampler_peak.py, sampler_peak.csv). The peaks vLLM logged on one H100 (llm-d
// capacity-planner runs, max_num_seqs 1024) are 38.4–38.9 B per element — Qwen3-0.6B 5.56
// GiB, Llama-3.1-8B 4.76 GiB, gpt-oss-20b 7.38 GiB — the rest being the profiling pass's
// other live memory; 39 B is taken from those rows (in-sample for this constant).
const samplerBytesPerElem = 39

// forwardActivation is the peak of the profiling forward pass over T =
// max_num_batched_tokens tokens: T·act·(4·hidden + 3·inner) for the hidden states, the
// gate/up output and the activation product.
func (d *Deployment) forwardActivation() units.Bytes {
	T := float64(d.MaxNumBatchedTokens)
	if T == 0 {
		T = float64(d.MaxModelLen)
	}
	return units.Bytes(T * d.actBytes * (4*float64(d.hidden) + 3*float64(d.interLocal)))
}

// samplerBytes is vLLM's dummy sampler pass: max_num_seqs × vocabulary × 39 B.
func (d *Deployment) samplerBytes() units.Bytes {
	if d.Profile.MemoryModel != "vllm" {
		return 0
	}
	S := float64(d.MaxNumSeqs)
	if S == 0 {
		S = 256
	}
	return units.Bytes(S * float64(d.Model.VocabSize) * samplerBytesPerElem)
}

// activationBytes is the peak activation of the engine's profiling pass: the larger of
// the forward pass and (vLLM) the sampler pass, which runs after the forward's
// intermediates are freed.
func (d *Deployment) activationBytes() units.Bytes {
	return max(d.forwardActivation(), d.samplerBytes())
}

// KVGroup is one KV-cache layer group of a deployment's GPU: the layers of one pipeline
// stage sharing a window and a per-layer KV size.
type KVGroup struct {
	Name   string  // "full", "sliding_<W>", "chunked_<C>"
	Window int     // 0: full attention; else the window or chunk in tokens
	Layers float64 // layers on one stage
	// BytesPerToken is the KV one token adds in this group on one GPU (all its layers).
	BytesPerToken units.Bytes
}

// KVGroups lists the deployment's KV layer groups (full attention, sliding windows,
// chunked local attention, MLA latent as "full"), in layer order.
func (d *Deployment) KVGroups() []KVGroup {
	multi := map[int]int{}
	for _, g := range d.attnGroups {
		multi[g.window]++
	}
	var out []KVGroup
	for _, g := range d.attnGroups {
		out = append(out, KVGroup{Name: g.name(multi[g.window] > 1), Window: g.window, Layers: g.layers,
			BytesPerToken: units.Bytes(g.kvBytes * g.layers)})
	}
	return out
}

// heldTokens is how many of a sequence's ctx tokens a layer group with window w keeps
// when `scheduled` tokens run in the current step, under the engine's policy:
//   - vllm (hybrid KV-cache manager, SlidingWindowSpec/ChunkedLocalAttentionSpec):
//     min(ctx, w − 1 + scheduled), rounded up to whole blocks plus one block in flight;
//   - sglang (SWA pool): min(ctx, w + scheduled);
//   - trtllm (variable/cyclic attention window) and ideal: min(ctx, w).
//
// Full-attention groups (w 0) hold ctx tokens (vLLM: rounded up to whole blocks).
func (d *Deployment) heldTokens(w, ctx, scheduled int) float64 {
	block := d.Profile.KVBlockTokens
	if block < 1 {
		block = 1
	}
	n := ctx
	if w > 0 {
		lim := w
		switch d.Profile.MemoryModel {
		case "vllm":
			lim = w - 1 + scheduled
		case "sglang":
			lim = w + scheduled
		}
		if lim < n {
			n = lim
		}
	}
	if d.Profile.MemoryModel == "vllm" {
		b := (n + block - 1) / block
		if w > 0 && n < ctx {
			b++
		}
		return float64(b * block)
	}
	return float64(n)
}

// KVSequenceBytes is the KV cache one sequence holds on one GPU (one pipeline stage)
// with ctx tokens of context while `scheduled` of them run in the current step (1 in
// decode, the chunk in prefill): Σ over layer groups of bytes per token × held tokens
// (heldTokens: full attention holds ctx; windowed layers by the engine's policy).
// ctx ≤ 0 gives 0.
func (d *Deployment) KVSequenceBytes(ctx, scheduled int) units.Bytes {
	if ctx <= 0 {
		return 0
	}
	if scheduled < 1 {
		scheduled = 1
	}
	var b float64
	for _, g := range d.attnGroups {
		b += g.kvBytes * g.layers * d.heldTokens(g.window, ctx, scheduled)
	}
	return units.Bytes(b)
}

// peakScheduled is the most tokens of one sequence scheduled in a step: the chunked-prefill
// budget, or ctx when there is none.
func (d *Deployment) peakScheduled(ctx int) int {
	if b := d.MaxNumBatchedTokens; b > 0 && b < ctx {
		return b
	}
	return ctx
}

// KVTokensAt is the KV capacity of one replica in tokens for sequences of ctx tokens
// (ctx × how many such sequences the pool holds at their decode footprint), capped at
// the pool's full-length capacity. It is what the scheduler budgets against: without
// windowed layers it equals Memory().KVCacheTokens whatever ctx is.
func (d *Deployment) KVTokensAt(ctx int) int {
	mem := d.Memory()
	return d.kvTokensAt(mem, ctx)
}

func (d *Deployment) kvTokensAt(mem Memory, ctx int) int {
	if ctx <= 0 {
		return mem.KVCacheTokens
	}
	per := float64(d.KVSequenceBytes(ctx, 1))
	if per <= 0 {
		return mem.KVCacheTokens
	}
	t := int(float64(mem.KVCacheBytes) / per * float64(ctx))
	if full := float64(mem.KVBytesPerToken); full > 0 {
		if m := int(float64(mem.KVCacheBytes) / full); t < m {
			t = m
		}
	}
	return t
}

// Memory plans one GPU's memory.
//
//   - vllm: KV = gpu_memory_utilization·total − weights − peak activation − non-torch
//     memory (CUDA graphs are captured after the KV cache is sized: their pool comes out of
//     the 1 − gpu_memory_utilization headroom);
//   - sglang: KV = mem_fraction_static·total − weights (activations and CUDA graphs live in
//     the 1 − mem_fraction_static left over);
//   - trtllm: KV = free_gpu_memory_fraction·(total − weights − activations − non-torch);
//   - ideal: KV = total − weights.
//
// The peak activation is the larger of the forward pass and, for vLLM, its dummy sampler
// pass (samplerBytesPerElem). KV capacity in tokens: see Memory.KVCacheTokens. Fits when
// one MaxModelLen sequence at its prefill peak (KVSequenceBytes(MaxModelLen,
// min(MaxModelLen, max_num_batched_tokens))) fits in the KV pool — vLLM's start-up check.
func (d *Deployment) Memory() Memory {
	mem := d.memoryPlan()
	mem.KVBytesPerTokenByGroup, mem.WeightsLayoutNote = map[string]units.Bytes{}, d.weightsLayoutNote()
	for _, gr := range d.KVGroups() {
		mem.KVBytesPerTokenByGroup[gr.Name] += gr.BytesPerToken
	}
	return mem
}

// memoryPlan is Memory without KVBytesPerTokenByGroup and WeightsLayoutNote (nil and ""):
// every number of the plan, without allocating (the closed form's estimate reads these).
func (d *Deployment) memoryPlan() Memory {
	p := d.Profile
	g := d.GPU
	mem := Memory{Engine: p.MemoryModel, TotalBytes: g.Usable(), MemoryFraction: d.MemoryFraction,
		WeightsBytes: d.weightsPerGPU, KVBytesPerToken: d.KVBytesPerToken(), MaxModelLen: d.MaxModelLen}
	switch p.MemoryModel {
	case "vllm":
		mem.KVPolicy = "vLLM hybrid KV-cache manager: a sliding-window layer holds window − 1 + scheduled tokens per sequence, a full-attention layer every token"
	case "sglang":
		mem.KVPolicy = "SGLang SWA pool: a sliding-window layer holds window + scheduled tokens per sequence, a full-attention layer every token"
	case "trtllm":
		mem.KVPolicy = "TensorRT-LLM variable attention window: a sliding-window layer holds a cyclic buffer of window tokens"
	default:
		mem.KVPolicy = "ideal: a sliding-window layer holds window tokens"
	}
	mem.TotalSource = "vendor capacity (datasheet)"
	if g.UsableMemoryBytes > 0 {
		mem.TotalSource = "usable memory reported by the driver (catalogue)"
	}
	nonTorch := p.NonTorchGiBTP1
	if d.TP*d.PP > 1 {
		nonTorch = p.NonTorchGiBTPN
	}
	mem.NonTorchBytes = units.Bytes(nonTorch) * units.GiB
	mem.ReserveBytes = units.Bytes(p.ReserveGiB) * units.GiB
	frac := d.MemoryFraction
	if frac == 0 {
		frac = 1
	}
	total := mem.TotalBytes
	var avail units.Bytes
	switch p.MemoryModel {
	case "vllm":
		mem.ActivationBytes = d.activationBytes()
		mem.SamplerBytes = d.samplerBytes()
		avail = units.Bytes(frac)*total - mem.ActivationBytes - mem.NonTorchBytes - mem.ReserveBytes
	case "sglang":
		avail = units.Bytes(frac)*total - mem.ReserveBytes
	case "trtllm":
		mem.ActivationBytes = d.activationBytes()
		avail = total - mem.ActivationBytes - mem.NonTorchBytes - mem.ReserveBytes
	default:
		avail = units.Bytes(frac) * total
	}
	mem.AvailableBytes = avail
	kv := avail - mem.WeightsBytes
	if p.MemoryModel == "trtllm" {
		kv = units.Bytes(frac) * kv
	}
	if kv < 0 {
		kv = 0
	}
	mem.KVCacheBytes = kv
	block := p.KVBlockTokens
	if block < 1 {
		block = 1
	}
	mem.KVCacheTokens = d.kvCapacityTokens(kv)
	seqKV := d.KVSequenceBytes(d.MaxModelLen, d.peakScheduled(d.MaxModelLen))
	mem.NeededBytes = mem.WeightsBytes + seqKV + (total - avail)
	if p.MemoryModel == "trtllm" {
		mem.NeededBytes = mem.WeightsBytes + units.Bytes(float64(seqKV)/frac) + (total - avail)
	}
	mem.Fits = kv > 0 && d.MaxModelLen > 0 && seqKV <= kv
	if d.MaxModelLen > 0 {
		if per := float64(d.KVSequenceBytes(d.MaxModelLen, 1)); per > 0 {
			mem.MaxConcurrency = int(float64(kv) / per)
		}
	}
	if d.MaxNumSeqs > 0 && mem.MaxConcurrency > d.MaxNumSeqs {
		mem.MaxConcurrency = d.MaxNumSeqs
	}
	return mem
}

// kvCapacityTokens is the longest context a KV pool of kv bytes holds for one sequence,
// rounded down to whole blocks: the windowed groups at their prefill peak
// (heldTokens at max_model_len with the chunked-prefill budget scheduled) come first and
// the full-attention groups take the rest; without full-attention groups, kv over the
// bytes per token of every layer.
func (d *Deployment) kvCapacityTokens(kv units.Bytes) int {
	block := d.Profile.KVBlockTokens
	if block < 1 {
		block = 1
	}
	ctx := max(d.MaxModelLen, 1)
	var fullPer, windowed float64
	for _, gr := range d.attnGroups {
		if gr.window == 0 {
			fullPer += gr.kvBytes * gr.layers
		} else {
			windowed += gr.kvBytes * gr.layers * d.heldTokens(gr.window, ctx, d.peakScheduled(ctx))
		}
	}
	var tokens int
	switch {
	case fullPer > 0:
		tokens = int(math.Floor((float64(kv) - windowed) / fullPer))
	case windowed > 0:
		tokens = int(math.Floor(float64(kv) / float64(d.KVBytesPerToken())))
	}
	return max(tokens/block*block, 0)
}

// weightsLayoutNote says what the engine lays out beyond the checkpoint's bytes.
func (d *Deployment) weightsLayoutNote() string {
	m := d.Model
	var parts []string
	if d.padExperts() {
		parts = append(parts, fmt.Sprintf("MXFP4 expert inner dimension padded %d → %d per GPU for vLLM's Hopper kernels", m.MoE.ExpertIntermediate/d.expertDiv(), int(math.Ceil(float64(m.MoE.ExpertIntermediate/d.expertDiv())/256)*256)))
	}
	if m.MLA == nil && m.NumKVHeads < d.TP {
		parts = append(parts, fmt.Sprintf("%d KV heads replicated over tp=%d (one whole KV head per GPU)", m.NumKVHeads, d.TP))
	}
	if d.vocabPadded != m.VocabSize {
		parts = append(parts, fmt.Sprintf("vocabulary padded %d → %d rows (multiple of 64)", m.VocabSize, d.vocabPadded))
	}
	if m.VisionParams > 0 {
		parts = append(parts, fmt.Sprintf("vision tower %.3g B parameters loaded in 16 bits", float64(m.VisionParams)/1e9))
	}
	if d.EP > 1 && d.EP < d.TP {
		parts = append(parts, fmt.Sprintf("routed experts split over ep=%d groups of tp/ep=%d GPUs that split each expert (MoE tensor parallelism), shared experts and attention by tp", d.EP, d.TP/d.EP))
	} else if d.EP > 1 {
		parts = append(parts, fmt.Sprintf("routed experts split over ep=%d GPUs, shared experts and attention on every GPU of the stage", d.EP))
	}
	if len(parts) == 0 {
		return "checkpoint bytes sharded by tp/pp"
	}
	return strings.Join(parts, "; ")
}

// expertDiv is how many GPUs split one expert's inner dimension (TP without EP).
func (d *Deployment) expertDiv() int {
	if d.EP > 1 {
		return 1
	}
	return d.TP
}

// ConcurrencyAt is how many sequences of ctx tokens the KV cache holds at once when every
// layer grows with the context (KVCacheTokens / ctx), capped by max_num_seqs. With
// windowed layers use Deployment.ConcurrencyAt, which prices each sequence's footprint.
func (m Memory) ConcurrencyAt(ctx, maxNumSeqs int) int {
	if ctx <= 0 {
		return 0
	}
	c := m.KVCacheTokens / ctx
	if maxNumSeqs > 0 && c > maxNumSeqs {
		c = maxNumSeqs
	}
	return c
}

// ConcurrencyAt is how many sequences of ctx tokens one replica's KV pool holds at once,
// each at its decode footprint KVSequenceBytes(ctx, 1) (windowed layers held to their
// window by the engine's policy), capped by max_num_seqs.
func (d *Deployment) ConcurrencyAt(ctx int) int {
	if ctx <= 0 {
		return 0
	}
	per := float64(d.KVSequenceBytes(ctx, 1))
	if per <= 0 {
		return 0
	}
	c := int(float64(d.Memory().KVCacheBytes) / per)
	if d.MaxNumSeqs > 0 && c > d.MaxNumSeqs {
		c = d.MaxNumSeqs
	}
	return c
}

// DoesNotFitError says why a deployment cannot hold the model.
type DoesNotFitError struct {
	Model, GPU          string
	Needed, Available   units.Bytes // per GPU (Memory.NeededBytes, AvailableBytes)
	Weights             units.Bytes
	Total               units.Bytes // the GPU's memory (Memory.TotalBytes)
	MaxModelLen, TP, PP int
	MinGPUs             int // 0 when unknown
	MinTP, MinPP        int // the split MinGPUs found (MinTP·MinPP = MinGPUs); 0 when unknown
	// MaxFitLen is the longest max_model_len the KV pool holds (0: not even one block).
	MaxFitLen int
	// Sampler is vLLM's sampler-pass share of the start-up peak (0 when it is not the peak).
	Sampler units.Bytes
	// MaxFitSeqs is the largest max_num_seqs (halving from the deployment's) whose smaller
	// sampler pass lets one MaxModelLen sequence fit; 0 when none down to 8 does.
	MaxFitSeqs int
}

// Error compares like with like: weights and one sequence's KV against what is left of the
// GPU for them. It said "needs 37.9 GB per GPU (weights + KV + runtime), 27.4 GB available"
// for a 32 GB V100, where the runtime is in the first figure only (short by 5.9 GB, not 10.5).
func (e *DoesNotFitError) Error() string {
	runtime := e.Total - e.Available // headroom, activations, non-torch and reserve
	need := e.Needed - runtime       // weights + KV of one MaxModelLen sequence
	var s string
	if e.Total > 0 && e.Available <= 0 {
		s = fmt.Sprintf("%s does not fit on %s with tp=%d pp=%d: nothing of the %s per GPU is left for weights (%s) and KV; headroom, activations and runtime take it all",
			e.Model, e.GPU, e.TP, e.PP, e.Total, e.Weights)
	} else if e.Total > 0 {
		s = fmt.Sprintf("%s does not fit on %s with tp=%d pp=%d: weights %s + KV for one %d-token sequence %s need %s per GPU, %s available for them (of %s; the rest is headroom, activations and runtime)",
			e.Model, e.GPU, e.TP, e.PP, e.Weights, e.MaxModelLen, need-e.Weights, need, e.Available, e.Total)
	} else {
		s = fmt.Sprintf("%s does not fit on %s with tp=%d pp=%d: needs %s per GPU (weights %s + KV for one %d-token sequence + runtime)",
			e.Model, e.GPU, e.TP, e.PP, e.Needed, e.Weights, e.MaxModelLen)
	}
	if e.MaxFitLen > 0 {
		s += fmt.Sprintf("; the KV cache holds one sequence of at most %d tokens: --max-model-len %d fits", e.MaxFitLen, e.MaxFitLen)
	}
	if e.Sampler > 0 {
		s += fmt.Sprintf("; the start-up sampler pass over max_num_seqs × vocabulary takes %s (a lower --max-num-seqs frees it", e.Sampler)
		if e.MaxFitSeqs > 0 {
			s += fmt.Sprintf(": --max-num-seqs %d fits", e.MaxFitSeqs)
		}
		s += ")"
	}
	if e.MinGPUs > 0 {
		s += fmt.Sprintf("; the smallest split that fits is %d GPUs: --tp %d --pp %d", e.MinGPUs, e.MinTP, e.MinPP)
	}
	return s
}

// CheckFits returns a *DoesNotFitError when the memory plan cannot hold one MaxModelLen sequence.
func (d *Deployment) CheckFits() error {
	m := d.Memory()
	if m.Fits {
		return nil
	}
	e := d.notFitErr(m)
	if tp, pp, err := MinSplit(d.Spec); err == nil {
		e.MinGPUs, e.MinTP, e.MinPP = tp*pp, tp, pp
	}
	if e.Sampler > 0 {
		for n := d.MaxNumSeqs / 2; n >= 8; n /= 2 {
			t := d.Spec
			t.MaxNumSeqs = n
			if nd, err := New(t); err == nil && nd.Memory().Fits {
				e.MaxFitSeqs = n
				break
			}
		}
	}
	return e
}

// notFitErr describes a memory plan that cannot hold one MaxModelLen sequence.
func (d *Deployment) notFitErr(m Memory) *DoesNotFitError {
	e := &DoesNotFitError{Model: d.Model.ID, GPU: d.GPU.ID, Needed: m.NeededBytes, Available: m.AvailableBytes,
		Weights: m.WeightsBytes, Total: m.TotalBytes, MaxModelLen: d.MaxModelLen, TP: d.TP, PP: d.PP}
	if m.KVCacheTokens < d.MaxModelLen {
		e.MaxFitLen = m.KVCacheTokens
	}
	if m.SamplerBytes > 0 && m.SamplerBytes >= m.ActivationBytes && m.SamplerBytes > m.KVCacheBytes/4 {
		e.Sampler = m.SamplerBytes
	}
	return e
}

// MinGPUs returns the smallest TP·PP on which the spec's model fits (MinSplit).
func MinGPUs(s Spec) (int, error) {
	tp, pp, err := MinSplit(s)
	return tp * pp, err
}

// MinSplit returns the split (tp, pp) of the smallest TP·PP (TP a power of two up to 8
// within a node, PP in {1, 2, 3, 4, 6, 8, 16}; the larger TP first at equal GPU counts) on
// which the spec's model fits by Memory.Fits: the engine would start with one MaxModelLen
// sequence. A count such as 12 is a pipeline of TP groups (tp 4, pp 3), never a TP size.
// The error says the model fits on none of them (up to 128 GPUs).
func MinSplit(s Spec) (tp, pp int, err error) {
	type split struct{ tp, pp int }
	var splits []split
	for _, pp := range []int{1, 2, 3, 4, 6, 8, 16} {
		for _, tp := range []int{1, 2, 4, 8} {
			splits = append(splits, split{tp, pp})
		}
	}
	sort.SliceStable(splits, func(i, j int) bool {
		a, b := splits[i], splits[j]
		if a.tp*a.pp != b.tp*b.pp {
			return a.tp*a.pp < b.tp*b.pp
		}
		return a.tp > b.tp
	})
	for _, sp := range splits {
		t := s
		t.TP, t.PP, t.DP, t.NumGPUs, t.EP = sp.tp, sp.pp, 1, 0, 0
		d, err := New(t)
		if err != nil {
			continue
		}
		if d.Memory().Fits {
			return sp.tp, sp.pp, nil
		}
	}
	return 0, 0, fmt.Errorf("%s does not fit on up to 128 %s GPUs", s.Model.ID, s.GPU.ID)
}
