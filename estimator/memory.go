package estimator

import (
	"fmt"
	"math"

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
	KVBytesPerToken units.Bytes `json:"kv_bytes_per_token_per_gpu"`
	// KVCacheTokens is the number of tokens the KV cache of one replica holds (rounded down
	// to whole blocks).
	KVCacheTokens int `json:"kv_cache_tokens"`
	MaxModelLen   int `json:"max_model_len"`
	// MaxConcurrency is how many sequences of MaxModelLen tokens fit at once, capped by max_num_seqs.
	MaxConcurrency int  `json:"max_concurrency"`
	Fits           bool `json:"fits"`
	// NeededBytes is what one GPU needs for weights, activations, runtime and one sequence of
	// MaxModelLen tokens of KV cache; AvailableBytes is what the engine may use.
	NeededBytes    units.Bytes `json:"needed_bytes_per_gpu"`
	AvailableBytes units.Bytes `json:"available_bytes_per_gpu"`
}

// activationBytes estimates the peak activation memory of the engine's profiling forward
// pass of T = max_num_batched_tokens tokens and S = max_num_seqs sampled sequences:
// T·act·(4·hidden + 3·inner) for the hidden states, the gate/up output and the activation
// product, plus (vLLM only) S·vocab·4 B·2 for fp32 logits and probabilities of its dummy sampler run.
func (d *Deployment) activationBytes() units.Bytes {
	T := float64(d.MaxNumBatchedTokens)
	if T == 0 {
		T = float64(d.MaxModelLen)
	}
	S := float64(d.MaxNumSeqs)
	if S == 0 {
		S = 256
	}
	a := T * d.actBytes * (4*float64(d.hidden) + 3*float64(d.interLocal))
	if d.Profile.MemoryModel == "vllm" {
		a += S * float64(d.vocabLocal) * 8 // vLLM's profiling run also samples max_num_seqs dummy requests
	}
	return units.Bytes(a)
}

// Memory plans one GPU's memory.
//
//   - vllm: KV = gpu_memory_utilization·total − weights − activations − non-torch memory;
//   - sglang: KV = mem_fraction_static·total − weights;
//   - trtllm: KV = free_gpu_memory_fraction·(total − weights − activations − non-torch);
//   - ideal: KV = total − weights.
//
// Capacity in tokens is KV / (KV bytes per token per GPU), rounded down to whole blocks.
func (d *Deployment) Memory() Memory {
	p := d.Profile
	g := d.GPU
	mem := Memory{Engine: p.MemoryModel, TotalBytes: g.Usable(), MemoryFraction: d.MemoryFraction,
		WeightsBytes: d.weightsPerGPU, KVBytesPerToken: d.KVBytesPerToken(), MaxModelLen: d.MaxModelLen}
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
	if per := float64(mem.KVBytesPerToken); per > 0 {
		tokens := int(math.Floor(float64(kv) / per))
		mem.KVCacheTokens = tokens / block * block
	}
	seqKV := units.Bytes(float64(mem.KVBytesPerToken) * float64(d.MaxModelLen))
	mem.NeededBytes = mem.WeightsBytes + seqKV + (total - avail)
	if p.MemoryModel == "trtllm" {
		mem.NeededBytes = mem.WeightsBytes + units.Bytes(float64(seqKV)/frac) + (total - avail)
	}
	mem.Fits = mem.KVCacheTokens > 0 && mem.KVCacheTokens >= d.MaxModelLen
	if d.MaxModelLen > 0 {
		mem.MaxConcurrency = mem.KVCacheTokens / d.MaxModelLen
	}
	if d.MaxNumSeqs > 0 && mem.MaxConcurrency > d.MaxNumSeqs {
		mem.MaxConcurrency = d.MaxNumSeqs
	}
	return mem
}

// ConcurrencyAt is how many sequences of ctx tokens the KV cache holds at once, capped by max_num_seqs.
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

// DoesNotFitError says why a deployment cannot hold the model.
type DoesNotFitError struct {
	Model, GPU          string
	Needed, Available   units.Bytes // per GPU
	Weights             units.Bytes
	MaxModelLen, TP, PP int
	MinGPUs             int // 0 when unknown
}

func (e *DoesNotFitError) Error() string {
	s := fmt.Sprintf("%s does not fit on %s with tp=%d pp=%d: needs %s per GPU (weights %s + KV for one %d-token sequence + runtime), %s available",
		e.Model, e.GPU, e.TP, e.PP, e.Needed, e.Weights, e.MaxModelLen, e.Available)
	if e.MinGPUs > 0 {
		s += fmt.Sprintf("; the smallest fitting tensor-parallel size is %d GPUs", e.MinGPUs)
	}
	return s
}

// CheckFits returns a *DoesNotFitError when the memory plan cannot hold one MaxModelLen sequence.
func (d *Deployment) CheckFits() error {
	m := d.Memory()
	if m.Fits {
		return nil
	}
	e := &DoesNotFitError{Model: d.Model.ID, GPU: d.GPU.ID, Needed: m.NeededBytes, Available: m.AvailableBytes,
		Weights: m.WeightsBytes, MaxModelLen: d.MaxModelLen, TP: d.TP, PP: d.PP}
	e.MinGPUs, _ = MinGPUs(d.Spec)
	return e
}

// MinGPUs returns the smallest TP·PP (TP a power of two up to 8 within a node, then PP)
// on which the spec's model fits with one MaxModelLen sequence of KV cache.
func MinGPUs(s Spec) (int, error) {
	for _, pp := range []int{1, 2, 3, 4, 6, 8, 16} {
		for _, tp := range []int{1, 2, 4, 8} {
			t := s
			t.TP, t.PP, t.DP, t.NumGPUs, t.EP = tp, pp, 1, 0, 0
			d, err := New(t)
			if err != nil {
				continue
			}
			if d.Memory().Fits {
				return tp * pp, nil
			}
		}
	}
	return 0, fmt.Errorf("%s does not fit on up to 128 %s GPUs", s.Model.ID, s.GPU.ID)
}
