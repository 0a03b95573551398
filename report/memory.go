package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"

	"roofline/estimator"
)

// Memory is the document of "roofline memory": the memory plan per GPU (estimator.Memory,
// bytes) with the deployment's shape, the fewest GPUs that fit, and why it does not fit.
type Memory struct {
	estimator.Memory
	Model   string `json:"model"`
	GPU     string `json:"gpu"`
	TP      int    `json:"tp"`
	PP      int    `json:"pp"`
	MinGPUs int    `json:"min_gpus"` // 0: fits on no split up to 128 GPUs
	// MinTP and MinPP are the split of MinGPUs (estimator.MinSplit): 12 GPUs is tp 4 × pp 3.
	MinTP int `json:"min_gpus_tp"`
	MinPP int `json:"min_gpus_pp"`
	// MaxNumSeqs and MaxNumBatchedTokens size the profiling pass (vLLM's sampler pass
	// scales with max_num_seqs × vocabulary).
	MaxNumSeqs          int                  `json:"max_num_seqs"`
	MaxNumBatchedTokens int                  `json:"max_num_batched_tokens"`
	Error               string               `json:"error,omitempty"`
	Provenance          estimator.Provenance `json:"provenance"`
	Warnings            []string             `json:"warnings"`
}

// NewMemory is the memory document of d.
func NewMemory(d *estimator.Deployment, pv estimator.Provenance) Memory {
	m := d.Memory()
	o := Memory{Memory: m, Model: d.Model.ID, GPU: d.GPU.ID, TP: d.TP, PP: d.PP, Provenance: pv, Warnings: estimator.Messages(d.Warnings()),
		MaxNumSeqs: d.MaxNumSeqs, MaxNumBatchedTokens: d.MaxNumBatchedTokens}
	if tp, pp, err := estimator.MinSplit(d.Spec); err == nil {
		o.MinGPUs, o.MinTP, o.MinPP = tp*pp, tp, pp
	}
	if err := d.CheckFits(); err != nil {
		o.Error = err.Error()
	}
	return o
}

// WriteMemoryTable prints the plan line by line (bytes with GB and GiB), the KV capacity in
// tokens and the max concurrency, whether it fits, then the warnings and sources.
func WriteMemoryTable(w io.Writer, o Memory) {
	m := o.Memory
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Memory plan per GPU\t%s on %s, tp=%d pp=%d, %s accounting\n", o.Model, o.GPU, o.TP, o.PP, m.Engine)
	fmt.Fprintf(tw, "GPU memory\t%s (%s), %s\n", m.TotalBytes, m.TotalBytes.GiBString(), m.TotalSource)
	fmt.Fprintf(tw, "memory fraction\t%.3g\n", m.MemoryFraction)
	fmt.Fprintf(tw, "profiling pass\tmax_num_seqs %d, max_num_batched_tokens %d\n", o.MaxNumSeqs, o.MaxNumBatchedTokens)
	fmt.Fprintf(tw, "weights\t%s (%s)\n", m.WeightsBytes, m.WeightsBytes.GiBString())
	fmt.Fprintf(tw, "weights layout\t%s\n", m.WeightsLayoutNote)
	act := "forward pass at max_num_batched_tokens"
	if m.SamplerBytes > 0 && m.SamplerBytes >= m.ActivationBytes {
		act = fmt.Sprintf("sampler pass over max_num_seqs × vocabulary × 39 B: %s", m.SamplerBytes.GiBString())
	}
	fmt.Fprintf(tw, "activations (profiling peak)\t%s (%s), %s\n", m.ActivationBytes, m.ActivationBytes.GiBString(), act)
	fmt.Fprintf(tw, "non-torch (CUDA context, NCCL)\t%s (%s)\n", m.NonTorchBytes, m.NonTorchBytes.GiBString())
	if m.Engine == "vllm" {
		fmt.Fprintf(tw, "CUDA graphs\tcaptured after the KV cache is sized: their pool comes out of the 1 − gpu_memory_utilization headroom\n")
	}
	fmt.Fprintf(tw, "KV cache\t%s (%s)\n", m.KVCacheBytes, m.KVCacheBytes.GiBString())
	fmt.Fprintf(tw, "KV per token (all layers)\t%s\n", m.KVBytesPerToken)
	names := slices.Sorted(maps.Keys(m.KVBytesPerTokenByGroup))
	for _, n := range names {
		fmt.Fprintf(tw, "  KV per token, %s layers\t%s\n", n, m.KVBytesPerTokenByGroup[n])
	}
	fmt.Fprintf(tw, "KV policy\t%s\n", m.KVPolicy)
	fmt.Fprintf(tw, "KV capacity\t%d tokens (longest context of one sequence)\n", m.KVCacheTokens)
	fmt.Fprintf(tw, "max concurrency\t%d sequences of %d tokens\n", m.MaxConcurrency, m.MaxModelLen)
	fmt.Fprintf(tw, "fits\t%v\n", m.Fits)
	if o.MinGPUs > 0 {
		fmt.Fprintf(tw, "min GPUs that fit\t%d (tp=%d pp=%d)\n", o.MinGPUs, o.MinTP, o.MinPP)
	} else {
		fmt.Fprintf(tw, "min GPUs that fit\tnone up to 128 (tp ≤ 8 × pp ≤ 16)\n")
	}
	tw.Flush()
	if o.Error != "" {
		fmt.Fprintf(w, "does not fit: %s\n", o.Error)
	}
	for _, s := range o.Warnings {
		fmt.Fprintf(w, "warning: %s\n", s)
	}
	fmt.Fprintf(w, "sources: model %s; GPU %s; %s\n", o.Provenance.Model, o.Provenance.GPU, o.Provenance.Profile)
}
