package estimator

import (
	"fmt"
	"math"
)

// MoE at scale: how many tokens each GPU's experts see in one step, how evenly, and what
// the grouped GEMMs and the expert-parallel exchange cost.
//
// Layouts. With EP ≤ TP every GPU of a replica holds a slice of every expert (TP-sharded MoE)
// and sees the replica's M tokens. With EP > TP the expert group spans EP/TP data-parallel
// attention ranks (TensorRT-LLM "DEP"/attention DP, SGLang --enable-dp-attention with
// --ep-size, vLLM --enable-expert-parallel with DP): each rank runs attention on its own M
// tokens, then dispatches them to the ranks owning their experts, so one GPU's experts serve
// the tokens of all EP/TP ranks. The step model runs one rank with the others assumed to
// carry the same batch (they step together: the slowest rank sets the step).
//
// Routed tokens per GPU per step: R = M·g·k/EP·… with g = max(EP/TP, 1) ranks gathered and
// k experts per token; the local experts E/EP each receive R/(E/EP) rows on average — the M
// of their grouped GEMM (small M: memory-bound, each touched expert's weights read once).
//
// Imbalance. Tokens do not split evenly across EP ranks. For uniform routing the load of a
// rank is binomial with mean μ = M·g·k/EP (token-expert pairs); the expected maximum over
// EP ranks is about μ + σ·√(2·ln EP), σ = √(μ·(1−1/EP)) (Gaussian extreme-value bound).
// Real routers are more skewed than uniform; the profile's moe_imbalance multiplies the
// rank's load on top (1 = uniform). The slowest rank's compute sets the step.

// moeGather is the number of attention-DP ranks whose tokens one GPU's experts serve
// (1 when experts are sharded within the replica).
func (d *Deployment) moeGather() float64 {
	if d.EP <= d.TP || d.DP <= 1 {
		return 1
	}
	return math.Min(float64(d.EP)/float64(d.TP), float64(d.DP))
}

// moeSkew is the slowest EP rank's routed load relative to the mean for a step of M tokens
// per rank: the uniform-routing extreme value times the profile's moe_imbalance.
func (d *Deployment) moeSkew(M, perTok float64) float64 {
	skew := 1.0
	if d.EP > 1 {
		n := float64(d.EP)
		mu := M * d.moeGather() * perTok / n
		if mu > 0 {
			skew += math.Sqrt(2*math.Log(n)) * math.Sqrt(mu*(1-1/n)) / mu
		}
	}
	if f := d.Profile.MoEImbalance; f > 1 {
		skew *= f
	}
	return skew
}

// expertWork returns one expert GEMM's FLOPs, weight bytes and the mean rows per touched
// expert (the grouped GEMM's M) on one GPU for rows tokens of this rank, per layer.
func (d *Deployment) expertWork(s *gemmShard, rows float64) (flops, wbytes, mPerExpert, routedLocal float64) {
	gathered := rows * d.moeGather()
	routed := gathered * s.perTok
	share := s.experts / s.totalExp
	// Expected distinct local experts hit when routed tokens pick uniformly.
	touched := s.experts * (1 - math.Pow(1-s.perTok/s.totalExp, gathered))
	routedLocal = routed * share
	flops = 2 * routedLocal * s.k * s.n
	wbytes = touched * s.k * s.n * s.bpe
	mPerExpert = math.Max(routedLocal/math.Max(touched, 1e-9), 1)
	return
}

// moeEff returns the compute- and memory-roof factors of a routed-expert GEMM at m rows per
// touched expert. Where the profile's moe_gemm_efficiency_by_dtype has the GEMM's compute
// dtype, that entry v describes the dtype's fused-MoE kernel in its small-M regime: a
// grouped-GEMM compute efficiency (a fraction of the dense GEMM efficiency at the same rows
// per expert), with the expert weights streamed at the dense rate (memory factor 1). It holds
// up to moeFitRows rows per expert and gives way, geometrically in m, to moe_efficiency (both
// roofs) at moeLargeRows: the small-M figure includes the padding of every expert's rows to
// the kernel's M tile (vLLM fused_moe's moe_align_block_size pads to BLOCK_SIZE_M, 64 in its
// default config), a waste under 1/8 from 256 rows on, where the kernels run their large-M
// tiles. Otherwise moe_efficiency scales both roofs, except that experts dequantised
// in-kernel (gemmShard.dequant, e.g. MXFP4 on Hopper) whose storage dtype is in
// moe_dequant_memory_efficiency stream their weights at that entry instead.
func (d *Deployment) moeEff(s *gemmShard, m float64) (compute, memory float64) {
	e := orOne(d.Profile.MoEEfficiency)
	dt := d.shardDtype(s)
	v := d.Profile.MoEGEMMEfficiencyByDtype[dt]
	if v <= 0 {
		if w := d.Profile.MoEDequantMemoryEfficiency[s.dequant]; s.dequant != "" && w > 0 {
			return e, w // weights dequantised in-kernel: the kernel path's streaming rate
		}
		return e, e
	}
	if m <= moeFitRows {
		return v, 1
	}
	if m >= moeLargeRows {
		return e, e
	}
	t := math.Log(m/moeFitRows) / math.Log(moeLargeRows/moeFitRows)
	return v * math.Pow(e/v, t), 1 + t*(e-1)
}

// moeLargeRows is the rows per expert from which a moe_gemm_efficiency_by_dtype entry no
// longer applies (see moeEff): four 64-row M tiles, padding waste < 1/8.
const moeLargeRows = 256

// moeFitRows is the most rows per expert at which a moe_gemm_efficiency_by_dtype entry is
// applied in full and trusted without a warning: the vllm profile's fp8 entry was solved on
// prefills of 31-40 rows per expert (Llama-4-Scout sim-to-real runs, 466-600 new tokens over
// 16 experts, top-1); 64 rows is one Hopper wgmma M-tile, past which grouped-GEMM kernels
// switch to larger tiles and the fitted efficiency is an extrapolation.
const moeFitRows = 64

// moeFitWarnings warns when a prompt's prefill chunk gives the routed-expert GEMMs of a dtype
// priced by moe_gemm_efficiency_by_dtype more rows per expert than the entry was fitted at but
// fewer than moeLargeRows, where moeEff interpolates.
func (d *Deployment) moeFitWarnings(w Workload) []string {
	if len(d.Profile.MoEGEMMEfficiencyByDtype) == 0 {
		return nil
	}
	chunk := max(w.InputLen-w.PrefixLen, 1)
	if b := d.MaxNumBatchedTokens; b > 0 {
		chunk = min(chunk, b)
	}
	for i := range d.gemms {
		s := &d.gemms[i]
		if s.experts == 0 {
			continue
		}
		dt := d.shardDtype(s)
		v := d.Profile.MoEGEMMEfficiencyByDtype[dt]
		if v <= 0 {
			continue
		}
		if _, _, rows, _ := d.expertWork(s, float64(chunk)); rows > moeFitRows && rows < moeLargeRows {
			return []string{fmt.Sprintf("a %d-token prefill chunk gives the %s routed-expert GEMMs ~%.0f rows per expert; moe_gemm_efficiency_by_dtype.%s = %.2g was fitted at 31-40 rows per expert and gives way to moe_efficiency by 256 rows, so prefill time and TTFT are an interpolation here",
				chunk, dt, rows, dt, v)}
		}
	}
	return nil
}
