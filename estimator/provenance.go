package estimator

import "fmt"

// Provenance says where a deployment's inputs came from: the model's config.json, the GPU's
// datasheet entry (with its confidence) and the engine profile (embedded or a file).
type Provenance struct {
	Model   string `json:"model"`
	GPU     string `json:"gpu"`
	Profile string `json:"profile"`
}

// Parameter is one number a prediction rests on, with its unit and where it came from.
type Parameter struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Source string  `json:"source"` // datasheet (with the GPU's source), engine profile (with its reason), calibration
}

// Parameters lists the hardware figures and engine-profile constants a deployment's
// predictions use, each with its provenance.
func (d *Deployment) Parameters() []Parameter {
	g, p := d.GPU, d.Profile
	sheet := g.FiguresSource()
	gemmSrc, attnSrc, memSrc := d.ceilingSources()
	out := []Parameter{
		{"gemm_peak_" + d.ComputeDtype, float64(d.gemmPeak), "FLOP/s (dense)", sheet},
		{"attention_peak", float64(d.attnPeak), "FLOP/s (dense)", sheet},
		{"memory_bandwidth", float64(g.MemoryBandwidth), "B/s", sheet},
		{"memory_capacity", float64(g.Usable()), "B", d.Memory().TotalSource},
		{"gemm_ceiling_" + d.ComputeDtype, float64(d.gemmCeil), "FLOP/s (dense)", gemmSrc},
		{"attention_ceiling", float64(d.attnCeil), "FLOP/s (dense)", attnSrc},
		{"memory_bandwidth_ceiling", d.memBW, "B/s", memSrc},
	}
	if d.TP*d.PP*max(d.EP, 1) > 1 {
		out = append(out, Parameter{"link_bandwidth_per_direction", float64(g.LinkBandwidth), "B/s", sheet})
	}
	if g.PriceUSDPerHour > 0 {
		out = append(out, Parameter{"price_per_gpu_hour", g.PriceUSDPerHour, "USD", fmt.Sprintf("%s, as of %s", g.PriceSource, g.PriceAsOf)})
	}
	for _, f := range []struct {
		key  string
		v    float64
		unit string
	}{
		{"gemm_efficiency", orOne(p.GEMMEfficiency), "fraction of the GEMM ceiling"},
		{"gemm_half_m", p.GEMMHalfM, "tokens"},
		{"moe_efficiency", orOne(p.MoEEfficiency), "fraction of dense roofs"},
		{"memory_efficiency", orOne(p.MemoryEfficiency), "fraction of the bandwidth ceiling"},
		{"attention_efficiency", orOne(p.AttentionEfficiency), "fraction of the 16-bit GEMM ceiling"},
		{"attention_memory_efficiency", orOne(p.AttentionMemoryEfficiency), "fraction of the bandwidth ceiling"},
		{"fp8_kv_read_efficiency", orOne(p.FP8KVReadEfficiency), "fraction of attention_memory_efficiency with an FP8 KV cache"},
		{"link_efficiency", orOne(p.LinkEfficiency), "fraction of link bandwidth"},
		{"collective_latency_us", p.CollectiveLatencyUs, "µs"},
		{"kernel_overhead_us", p.KernelOverheadUs, "µs per kernel per layer"},
		{"gemm_fixed_us", p.GEMMFixedUs, "µs per GEMM per layer"},
		{"elementwise_kernels_per_layer", p.ElementwiseKernelsPerLayer, "kernels per layer"},
		{"prefill_layer_overhead_us", p.PrefillLayerOverheadUs, "µs per layer"},
		{"step_overhead_ms", p.StepOverheadMs, "ms per step"},
		{"seq_overhead_us", p.SeqOverheadUs, "µs per sequence per step"},
		{"mla_ep_seq_overhead_us", p.MLAEPSeqOverheadUs, "µs per sequence of a rank per step (MLA model, attention DP + EP)"},
		{"mla_ep_layer_overhead_us", p.MLAEPLayerOverheadUs, "µs per MoE layer per step (MLA model, attention DP + EP)"},
		{"request_overhead_ms", p.RequestOverheadMs, "ms per request"},
		{"memory_fraction", d.MemoryFraction, "fraction of memory"},
	} {
		src := p.Source(f.key)
		if f.key == "mla_ep_layer_overhead_us" && d.Model.MLA != nil && d.moeGather() > 1 && d.mlaEPLayerUs() > f.v {
			// The floor of mlaEPLayerUs applies: list what is priced, and why.
			src = fmt.Sprintf("the profile gives %g; priced at its mla_tp_layer_overhead_us, the least an MLA MoE layer costs in either layout (the kernels it stands for run with attention DP + EP too)", f.v)
			f.v = d.mlaEPLayerUs()
		}
		out = append(out, Parameter{f.key, f.v, f.unit, src})
		if f.key == "moe_efficiency" && d.Model.MoE != nil {
			for _, dt := range []string{d.gemmDtypeQ, d.gemmDtype16} {
				if v := p.MoEGEMMEfficiencyByDtype[dt]; v > 0 {
					out = append(out, Parameter{"moe_gemm_efficiency_by_dtype." + dt, v, "fraction of the dense GEMM efficiency (routed-expert compute roof)", p.Source("moe_gemm_efficiency_by_dtype")})
					break
				}
			}
			for i := range d.gemms {
				s := &d.gemms[i]
				if v := p.MoEDequantMemoryEfficiency[s.dequant]; s.experts > 0 && s.dequant != "" && v > 0 {
					out = append(out, Parameter{"moe_dequant_memory_efficiency." + s.dequant, v, "fraction of the dense weight-streaming rate (routed experts dequantised in-kernel)", p.Source("moe_dequant_memory_efficiency")})
					break
				}
			}
		}
	}
	if v := d.mxfp4Act; v > 0 { // listed when it changed the experts' compute dtype
		out = append(out, Parameter{"mxfp4_moe_compute_dtype", v, fmt.Sprintf("activation bits of the MXFP4 routed-expert GEMMs (%s; weights dequantised in the GEMM)", p.MXFP4MoEComputeDtype), p.Source("mxfp4_moe_compute_dtype")})
	}
	if v := p.AttentionLowOccupancyEfficiency; v > 0 && d.Model.MLA == nil && d.GPU.ComputeUnits > 0 { // listed when it can apply
		out = append(out, Parameter{"attention_low_occupancy_efficiency", v, fmt.Sprintf("fraction of attention_memory_efficiency in decode at 0 (sequence × KV head) units, rising to 1 at %d (the GPU's SMs/CUs)", d.GPU.ComputeUnits), p.Source("attention_low_occupancy_efficiency")})
	}
	if v := p.CustomAllReduceMaxMiB; v > 0 { // listed when used
		out = append(out, Parameter{"custom_allreduce_max_mib", v, "MiB", p.Source("custom_allreduce_max_mib")})
	}
	if v := p.MLATPLayerOverheadUs; v > 0 && d.Model.MLA != nil { // listed when it can apply
		out = append(out, Parameter{"mla_tp_layer_overhead_us", v, "µs per MoE layer per step (MLA model, attention TP; with attention DP + EP the least mla_ep_layer_overhead_us counts as)", p.Source("mla_tp_layer_overhead_us")})
	}
	if v := p.ADPEagerLayerUs; v > 0 && d.moeGather() > 1 { // listed when it can apply (attention DP + EP)
		out = append(out, Parameter{"adp_eager_layer_us", v, "µs of host dispatch per layer of a step some attention-DP rank runs with a prompt chunk (no CUDA graph on any rank; hidden behind longer GPU work)", p.Source("adp_eager_layer_us")})
	}
	if d.EnforceEager { // CUDA graphs off: every step pays the per-layer dispatch (Spec.EnforceEager)
		pre, dec := "eager_prefill_layer_us", "eager_decode_layer_us"
		preSrc, decSrc := p.Source(pre), p.Source(dec)
		if p.EagerPrefillLayerUs <= 0 {
			preSrc = "the profile's eager_decode_layer_us (it gives no eager_prefill_layer_us): " + decSrc
		}
		if p.EagerDecodeLayerUs <= 0 {
			decSrc = "the profile's eager_prefill_layer_us (it gives no eager_decode_layer_us): " + preSrc
		}
		out = append(out, Parameter{pre, d.eagerPrefillLayerUs(), "µs of host dispatch per layer of a step with prompt tokens, CUDA graphs off (--enforce-eager; hidden behind longer GPU work)", preSrc},
			Parameter{dec, d.eagerDecodeLayerUs(), "µs of host dispatch per layer of every decode step, CUDA graphs off (--enforce-eager; hidden behind longer GPU work)", decSrc})
	} else if v := p.EagerPrefillLayerUs; v > 0 { // listed when used
		out = append(out, Parameter{"eager_prefill_layer_us", v, "µs of host dispatch per layer of a prefill step (hidden behind longer GPU work)", p.Source("eager_prefill_layer_us")})
	}
	if cg, v := p.CUDAGraphMaxBatch, p.EagerDecodeLayerUs; cg > 0 && v > 0 && !d.EnforceEager { // listed when used
		out = append(out, Parameter{"cuda_graph_max_batch", float64(cg), "sequences: the largest decode batch replayed as a CUDA/HIP graph; larger decode steps run eagerly", p.Source("cuda_graph_max_batch")},
			Parameter{"eager_decode_layer_us", v, fmt.Sprintf("µs of host dispatch per layer of a decode step above %d sequences (hidden behind longer GPU work)", cg), p.Source("eager_decode_layer_us")})
	}
	if p.Admission == "ratio" { // SGLang's admission: the simulation's scheduler reads these
		out = append(out,
			Parameter{"new_token_ratio_init", p.NewTokenRatioInit, "fraction of a running request's remaining output tokens admission keeps free in KV at the start (admission ratio)", p.Source("new_token_ratio_init")},
			Parameter{"new_token_ratio_min", p.NewTokenRatioMin, "fraction: the floor the ratio decays to", p.Source("new_token_ratio_min")},
			Parameter{"new_token_ratio_decay_steps", p.NewTokenRatioDecaySteps, "decode steps from new_token_ratio_init to new_token_ratio_min", p.Source("new_token_ratio_decay_steps")},
			Parameter{"clip_max_new_tokens", float64(p.ClipMaxNewTokens), "tokens: the most output tokens admission counts per request (0: no cap)", p.Source("clip_max_new_tokens")},
			Parameter{"retract_decode_steps", float64(p.RetractDecodeSteps), "KV tokens per remaining request a retraction frees (decode out of KV)", p.Source("retract_decode_steps")})
	}
	if v := p.PrefillSeqLayerOverheadUs; v > 0 { // set by calibration only; listed when used
		out = append(out, Parameter{"prefill_seq_layer_overhead_us", v, "µs per layer per prompt", p.Source("prefill_seq_layer_overhead_us")})
	}
	return out
}

// Messages is the text of each error, for a JSON list of warnings: empty, not null, when
// there are none (Deployment.Warnings).
func Messages(errs []error) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}
