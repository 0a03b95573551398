package estimator

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"roofline/data"
)

// Profile is an engine profile: how far real kernels fall short of the roofline and what
// fixed costs an engine adds, plus how the engine plans memory. Efficiencies are fractions
// of the *target* GPU's own peaks (so a profile fitted on one card applies to another);
// overheads are times. The zero value of an efficiency means 1 (the ideal roofline); the
// zero value of an overhead means none.
type Profile struct {
	// Base names the embedded engine profile a profile file starts from (e.g. "vllm"): the
	// file overrides only the keys it sets. Without it a profile file must set every field.
	Base        string `toml:"base,omitempty"`
	Name        string `toml:"name"`
	Description string `toml:"description"`
	// Origin says where the numbers come from: "datasheet" (ideal), "engine profile", or
	// "calibration" (written by roofline calibrate).
	Origin string `toml:"origin"`
	// EngineFamily is the engine this profile describes (vllm, sglang, trtllm); empty means Name.
	EngineFamily string `toml:"engine"`
	// Versions is the release range the profile describes: comma-separated constraints such
	// as ">=0.6, <0.8" (empty: every release). `--engine NAME@VERSION` picks the profile of
	// family NAME whose range holds VERSION.
	Versions string `toml:"versions"`
	// Release is the engine release a caller asked for (NAME@VERSION); not read from TOML.
	Release string `toml:"-"`
	// File is the --profile file the profile was read from (LoadProfileFile; empty for an
	// embedded one): refusals name that flag, not --engine.
	File string `toml:"-"`

	// Ceilings says what the efficiencies below are fractions of: "achievable" (the GPU's
	// measured best large-shape GEMM rate per dtype and HBM streaming rate, from the hardware
	// catalogue's ceilings; a rule fills GPUs without a measurement) or "datasheet" (the
	// vendor's peaks). Empty means achievable.
	Ceilings string `toml:"ceilings"`
	// CeilingsAsOf is the date of the software this profile describes (YYYY, YYYY-MM or
	// YYYY-MM-DD: the first release of its range). With achievable ceilings, a GPU's GEMM
	// ceiling is then the best of its own measurements dated no later than this, where the
	// ceilings table has one that old (hardware.Achievable.GEMMAsOf): a release cannot run
	// kernels written after it. Empty: the best measurement of any date.
	CeilingsAsOf string `toml:"ceilings_as_of"`
	// GEMMEfficiency is the fraction of the GEMM ceiling (achievable or datasheet, per dtype)
	// reached by large GEMMs.
	GEMMEfficiency float64 `toml:"gemm_efficiency"`
	// GEMMEfficiencyByDtype overrides GEMMEfficiency for GEMMs computed in one dtype
	// (keys: fp8, int8, fp4, bf16, fp16), e.g. block-scaled FP8 kernels that reach a lower
	// fraction of their ceiling than bf16 ones. Missing keys use GEMMEfficiency.
	GEMMEfficiencyByDtype map[string]float64 `toml:"gemm_efficiency_by_dtype"`
	// GEMMHalfM is the GEMM row count (tokens in the step) at which compute efficiency is
	// half of GEMMEfficiency: η(M) = GEMMEfficiency·M/(M+GEMMHalfM). 0 disables the shape term.
	GEMMHalfM float64 `toml:"gemm_half_m"`
	// MoEEfficiency scales the compute and memory efficiency of routed-expert GEMMs relative
	// to dense ones: grouped/fused MoE kernels gather tokens per expert and read many small
	// weight matrices, and reach a lower fraction of the roofs. 0 means 1.
	MoEEfficiency float64 `toml:"moe_efficiency"`
	// MoEGEMMEfficiencyByDtype is the grouped-GEMM efficiency of the engine's fused MoE kernel
	// for routed-expert GEMMs computed in one dtype (keys: fp8, int8, fp4, bf16, fp16): a
	// fraction of the dense GEMM efficiency at the same rows per expert. An entry describes
	// that dtype's MoE kernel in place of MoEEfficiency: its value is the compute-roof factor
	// and the expert weights stream at the dense rate (memory factor 1). It prices prefill,
	// where expert GEMMs are compute-bound (tens of rows per expert or more); decode steps stay
	// bound by streaming the expert weights. Missing keys (and an empty map) use MoEEfficiency
	// for both roofs.
	MoEGEMMEfficiencyByDtype map[string]float64 `toml:"moe_gemm_efficiency_by_dtype"`
	// MoEDequantMemoryEfficiency prices the routed-expert kernels that dequantise their
	// weights inside the GEMM because the GPU has no tensor cores for the stored dtype (keys:
	// the storage dtype, fp4 or int4 or fp8; e.g. MXFP4 experts on Hopper, computed in bf16): the
	// expert weights stream at this fraction of the dense rate (memory_efficiency × HBM
	// ceiling) in place of MoEEfficiency's memory factor; the compute roof keeps MoEEfficiency.
	// Missing keys (and an empty map) use MoEEfficiency.
	MoEDequantMemoryEfficiency map[string]float64 `toml:"moe_dequant_memory_efficiency"`
	// MXFP4MoEComputeDtype is the dtype the engine computes the routed experts of an MXFP4
	// checkpoint (gpt-oss) in, served as stored: "bf16" (W4A16: 16-bit activations, the
	// MXFP4 weights dequantised inside the grouped GEMM), "fp8" (W4A8: FP8 activations) or
	// "fp4". The GPU must have tensor cores for it, else the GEMMs fall back as for any
	// dtype (16 bits). Empty: the stored dtype's rate where the GPU has it (fp4 on
	// Blackwell), else 16 bits. It does not apply to a checkpoint re-quantised with
	// --weight-dtype.
	MXFP4MoEComputeDtype string `toml:"mxfp4_moe_compute_dtype,omitempty"`
	// MoEImbalance is the busiest expert-parallel rank's routed load over the uniform-routing
	// expectation (router skew, after any expert-placement balancing); 0 or 1 means uniform.
	MoEImbalance float64 `toml:"moe_imbalance"`
	// MLADecodeEfficiency is the fraction of the 16-bit ceiling reached by the absorbed MLA
	// decode kernel (models with multi-head latent attention); 0 means AttentionEfficiency.
	MLADecodeEfficiency float64 `toml:"mla_decode_efficiency"`
	// MemoryEfficiency is the fraction of HBM bandwidth reached when streaming weights and activations.
	MemoryEfficiency float64 `toml:"memory_efficiency"`
	// AttentionEfficiency is the fraction of the dense peak reached by prefill attention kernels.
	AttentionEfficiency float64 `toml:"attention_efficiency"`
	// AttentionMemoryEfficiency is the fraction of HBM bandwidth reached reading the KV cache in decode.
	AttentionMemoryEfficiency float64 `toml:"attention_memory_efficiency"`
	// FP8KVReadEfficiency is the fraction of AttentionMemoryEfficiency a decode attention
	// kernel keeps when the KV cache is FP8: it dequantises every K and V element on read
	// (scale multiply and convert in registers), which costs issue slots a bf16 read does not.
	// 0 means 1 (no cost).
	FP8KVReadEfficiency float64 `toml:"fp8_kv_read_efficiency"`
	// AttentionLowOccupancyEfficiency is the fraction of AttentionMemoryEfficiency a decode
	// attention kernel keeps when the step has fewer (sequence × KV head) work units per GPU
	// than the GPU has SMs/CUs: the kernel then splits each sequence's KV along its length
	// (split-KV, about one thread block per SM) and streams with fewer loads in flight per SM
	// than a full grid. The fraction applies at zero work units and rises linearly to 1 at one
	// work unit per SM (estimator.lowOccupancy). 0 means 1 (no such effect); not applied to MLA
	// (its absorbed decode has one latent head) or where the catalogue has no SM count.
	AttentionLowOccupancyEfficiency float64 `toml:"attention_low_occupancy_efficiency"`
	// OverlapExponent p combines an operator's compute time c and memory time m as
	// (c^p + m^p)^(1/p): the ridge region is slower than either roof. 0 means max(c, m).
	OverlapExponent float64 `toml:"overlap_exponent"`
	// LinkEfficiency is the fraction of the scale-up link bandwidth collectives reach.
	LinkEfficiency float64 `toml:"link_efficiency"`
	// CollectiveLatencyUs is the fixed latency of one all-reduce / all-to-all / send, µs.
	CollectiveLatencyUs float64 `toml:"collective_latency_us"`
	// CustomAllReduceMaxMiB is the largest message, MiB, the engine's own all-reduce (vLLM's
	// custom one-shot/two-shot kernel over NVLink P2P) handles: those cost
	// CollectiveLatencyUs + 2(n−1)/n·bytes/(link·LinkEfficiency). Larger messages go through
	// NCCL/RCCL and are timed by the GPU's measured large-message all-reduce line
	// (hardware.Achievable.AllReduceLine: latency + bytes/bus bandwidth from nccl-tests) when
	// the catalogue has one. 0: every message uses the first formula.
	CustomAllReduceMaxMiB float64 `toml:"custom_allreduce_max_mib"`
	// KernelOverheadUs is a fixed cost per kernel (launch gap, tail effects), µs. Every
	// GEMM, attention kernel, element-wise kernel and activation-quantisation kernel of a
	// layer pays it once per step.
	KernelOverheadUs float64 `toml:"kernel_overhead_us"`
	// GEMMFixedUs is a fixed time per GEMM kernel on top of its roofline time and
	// KernelOverheadUs, µs: a small-M GEMM does not stream weights at full bandwidth from
	// its first microsecond (pipeline fill and drain). It matters for decode at small batch.
	GEMMFixedUs float64 `toml:"gemm_fixed_us"`
	// ElementwiseKernelsPerLayer is the number of element-wise kernels one decoder layer
	// launches per step (norms, residual adds, rotary, activation, KV-cache write): fewer
	// when the engine fuses them. Each costs KernelOverheadUs.
	ElementwiseKernelsPerLayer float64 `toml:"elementwise_kernels_per_layer"`
	// ActQuantFused is true when W8A8/W4A4 activation quantisation is fused into the
	// preceding norm or activation kernel (no extra launch; the bytes remain); false adds
	// one quantisation kernel per quantised GEMM per layer.
	ActQuantFused bool `toml:"act_quant_fused"`
	// PrefillLayerOverheadUs is a fixed cost per layer of a step that contains prefill
	// tokens (eager CPU dispatch; such steps are usually not CUDA-graphed), µs.
	PrefillLayerOverheadUs float64 `toml:"prefill_layer_overhead_us"`
	// PrefillSeqLayerOverheadUs is a fixed cost per layer per prompt in a step that contains
	// prefill tokens, µs: an engine whose context phase runs each prompt as its own pass
	// (per-request context kernels, no variable-length batching) pays the per-layer
	// dispatch once per prompt rather than once per step. 0 for engines that batch prompts
	// into one variable-length pass.
	PrefillSeqLayerOverheadUs float64 `toml:"prefill_seq_layer_overhead_us"`
	// EagerPrefillLayerUs is the host (CPU) time to dispatch one layer of a step that contains
	// prefill tokens when the engine runs such steps eagerly (Python module calls, per-op
	// launches, no CUDA graph), µs. The CPU enqueues kernels ahead of the GPU, so the step
	// lasts max(GPU work, this × layers): the dispatch shows only in steps whose GPU work is
	// shorter (short prompts), and a long prefill hides it. 0: no such cost.
	EagerPrefillLayerUs float64 `toml:"eager_prefill_layer_us"`
	// CUDAGraphMaxBatch is the largest decode batch, in sequences per replica (per
	// attention-DP rank), that the engine replays as a captured CUDA/HIP graph. A step with
	// more decoding sequences runs eagerly: every layer is dispatched from Python, and the
	// step lasts max(GPU work, layers × EagerDecodeLayerUs), the same rule as an eager
	// prefill (the host enqueues layers while the GPU runs the earlier ones). 0: not
	// modelled, every decode step is graphed.
	CUDAGraphMaxBatch int `toml:"cuda_graph_max_batch"`
	// EagerDecodeLayerUs is the host (CPU) time to dispatch one layer of a decode step larger
	// than CUDAGraphMaxBatch, µs. 0: no such cost (with a cap set, steps above it are then
	// priced as graphed ones).
	EagerDecodeLayerUs float64 `toml:"eager_decode_layer_us"`
	// ADPEagerLayerUs is the host (CPU) time to dispatch one layer of a step run without a CUDA
	// graph under attention data parallelism with expert parallelism, µs. TensorRT-LLM's
	// PyTorch backend replays a CUDA graph only for a generation-only batch, and with attention
	// DP the ranks of an EP group agree on it (they all-gather the flag and all run the graph or
	// all run eagerly, since every MoE layer's dispatch and combine meets across them): a step
	// is eager on every rank when any rank of the group holds a context chunk. The host
	// enqueues kernels ahead of the GPU, so such a step lasts max(GPU work, this × layers).
	// The simulation prices it in expectation (Deployment.adpEager); 0 = no such cost.
	ADPEagerLayerUs float64 `toml:"adp_eager_layer_us"`
	// StepOverheadMs is a fixed cost per engine step (scheduler, input preparation, sampling launch), ms.
	StepOverheadMs float64 `toml:"step_overhead_ms"`
	// RequestOverheadMs is a fixed cost per request outside the engine loop (HTTP, tokenisation,
	// detokenisation and streaming by the API server), added to TTFT and E2E, ms.
	RequestOverheadMs float64 `toml:"request_overhead_ms"`
	// SeqOverheadUs is a cost per sequence in a step (sampling, detokenisation, output processing), µs.
	SeqOverheadUs float64 `toml:"seq_overhead_us"`
	// MLAEPSeqOverheadUs is a further cost per sequence of a rank in a step when the MoE layers
	// are expert-parallel across attention-data-parallel ranks in a model with MLA (EP > TP with DP > 1:
	// TensorRT-LLM "DEP", SGLang --enable-dp-attention with --ep-size), µs. It stands for what
	// the byte and FLOP rooflines of such a step do not see: per-request host work of the
	// engine's Python executor, and per token of every MoE layer the top-k routing, the
	// permutation of tokens into expert order and back, activation quantisation before the
	// dispatch and the synchronisation of the ranks at every dispatch and combine. It applies to
	// models with multi-head latent attention (DeepSeek-V3/R1) only: TensorRT-LLM's DEP runs
	// of Qwen3-235B, Llama-4-Maverick and gpt-oss-120b are predicted without it (with it they
	// would be 30–60% too slow). 0 = none.
	MLAEPSeqOverheadUs float64 `toml:"mla_ep_seq_overhead_us"`
	// MLAEPLayerOverheadUs is a fixed cost per MoE layer per step under the same condition, µs:
	// the part of that work that does not grow with the batch (the routing, permutation and
	// quantisation kernels' launches and tails, the ranks meeting at each dispatch and
	// combine). 0 = none.
	MLAEPLayerOverheadUs float64 `toml:"mla_ep_layer_overhead_us"`
	// MLATPLayerOverheadUs is a fixed cost per MoE layer per step for a model with MLA whose
	// attention is tensor-parallel (no attention DP + EP: TensorRT-LLM's min-latency TP8
	// layout), µs: at a handful of tokens a DeepSeek layer is a chain of ~25 small kernels,
	// more than the per-operator count lists (the q_a/kv_a RMSNorms, the second absorbed-MLA
	// BMM, rotary, the split-KV reduction of the MLA decode kernel, top-k routing, the
	// permutation into expert order and back, FP4 activation quantisation), and each of its
	// ~10 GEMMs reads only 1–5 MB per GPU, too little to stream at the bandwidth ceiling
	// before its fill/drain floor. 0 = none.
	MLATPLayerOverheadUs float64 `toml:"mla_tp_layer_overhead_us"`

	// MemoryModel is how KV capacity is planned: "vllm", "sglang", "trtllm" or "ideal".
	MemoryModel string `toml:"memory_model"`
	// MemoryFraction is the engine's default memory knob: vLLM gpu_memory_utilization,
	// SGLang mem_fraction_static, TensorRT-LLM free_gpu_memory_fraction.
	MemoryFraction float64 `toml:"memory_fraction"`
	// NonTorchGiBTP1 and NonTorchGiBTPN are CUDA context, allocator and NCCL memory outside
	// the engine's tensors at TP=1 and TP>1, GiB.
	NonTorchGiBTP1 float64 `toml:"non_torch_gib_tp1"`
	NonTorchGiBTPN float64 `toml:"non_torch_gib_tpn"`
	// ReserveGiB is a fixed safety margin kept free, GiB.
	ReserveGiB float64 `toml:"reserve_gib"`
	// KVBlockTokens is the KV-cache page size in tokens (capacity is rounded down to it).
	KVBlockTokens int `toml:"kv_block_tokens"`
	// Admission is how the scheduler admits a waiting request: "greedy" (vLLM: when blocks
	// for its prompt are free; sequences are preempted and recomputed if the cache runs out),
	// "reserve" (TensorRT-LLM's GUARANTEED_NO_EVICT: only when blocks for prompt and all output
	// tokens are free) or "ratio" (SGLang's PrefillAdder: only when the free KV tokens exceed
	// its prompt and output plus new_token_ratio × the outputs still to come of the running
	// requests; the ratio decays every decode step and is raised again when decode runs out of
	// KV and retracts requests; see Scheduler). Empty means greedy.
	Admission string `toml:"admission"`
	// NewTokenRatioInit, NewTokenRatioMin and NewTokenRatioDecaySteps are admission "ratio"'s
	// share of a running request's remaining output tokens held in reserve: it starts at
	// NewTokenRatioInit (a fraction in (0, 1]), falls by (init − min)/decay_steps every decode
	// step, never below NewTokenRatioMin (a fraction in [0, init]). Unused with any other
	// admission.
	NewTokenRatioInit       float64 `toml:"new_token_ratio_init"`
	NewTokenRatioMin        float64 `toml:"new_token_ratio_min"`
	NewTokenRatioDecaySteps float64 `toml:"new_token_ratio_decay_steps"`
	// ClipMaxNewTokens caps, in tokens, the output length admission "ratio" counts per request
	// (0: no cap). RetractDecodeSteps is the decode steps' worth of KV tokens per remaining
	// request that a retraction frees (requests are retracted until free tokens ≥
	// RetractDecodeSteps × remaining requests; the ratio is then reset from the remaining
	// requests' progress). Unused with any other admission.
	ClipMaxNewTokens   int `toml:"clip_max_new_tokens"`
	RetractDecodeSteps int `toml:"retract_decode_steps"`
	// MaxNumSeqs and MaxNumBatchedTokens are the scheduler defaults (0: unlimited).
	MaxNumSeqs          int `toml:"max_num_seqs"`
	MaxNumBatchedTokens int `toml:"max_num_batched_tokens"`

	// Sources maps a field's TOML key to where its value came from.
	Sources map[string]string `toml:"sources"`
}

// orOne returns v, or 1 when v is zero (an unset efficiency is ideal).
func orOne(v float64) float64 {
	if v == 0 {
		return 1
	}
	return v
}

// dtypeMap is a profile key holding fractions by dtype, with the dtypes it may name.
type dtypeMap struct {
	key     string
	m       map[string]float64
	allowed []string
}

// dtypeMaps lists the profile's by-dtype fractions: compute dtypes for GEMM efficiencies,
// storage dtypes for dequantised expert weights.
func (p *Profile) dtypeMaps() []dtypeMap {
	compute := []string{"bf16", "fp16", "fp8", "int8", "fp4"}
	return []dtypeMap{
		{"gemm_efficiency_by_dtype", p.GEMMEfficiencyByDtype, compute},
		{"moe_gemm_efficiency_by_dtype", p.MoEGEMMEfficiencyByDtype, compute},
		{"moe_dequant_memory_efficiency", p.MoEDequantMemoryEfficiency, []string{"fp8", "int8", "int4", "fp4"}},
	}
}

// asOfDate is the form of Profile.CeilingsAsOf: YYYY, YYYY-MM or YYYY-MM-DD.
var asOfDate = regexp.MustCompile(`^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$`)

// realDate reports whether a YYYY-MM-DD date exists on the calendar (2024-02-30 does not);
// the shorter forms are checked by asOfDate alone.
func realDate(s string) bool {
	if len(s) != len("2006-01-02") {
		return true
	}
	_, err := time.Parse("2006-01-02", s)
	return err == nil
}

// maxHostCostUs bounds a profile's host and fixed costs (the *_us and *_ms fields): 1 s.
const maxHostCostUs = 1e6

// Validate checks ranges; an efficiency above 1 is allowed only with a warning from calibrate.
func (p *Profile) Validate() error {
	eff := map[string]float64{
		"gemm_efficiency": p.GEMMEfficiency, "memory_efficiency": p.MemoryEfficiency,
		"attention_efficiency": p.AttentionEfficiency, "attention_memory_efficiency": p.AttentionMemoryEfficiency,
		"link_efficiency": p.LinkEfficiency, "moe_efficiency": p.MoEEfficiency, "fp8_kv_read_efficiency": p.FP8KVReadEfficiency,
		"attention_low_occupancy_efficiency": p.AttentionLowOccupancyEfficiency,
	}
	for _, dm := range p.dtypeMaps() {
		for k, v := range dm.m {
			if !slices.Contains(dm.allowed, k) {
				return fmt.Errorf("profile %s: %s.%s: allowed keys are %s", p.Name, dm.key, k, strings.Join(dm.allowed, ", "))
			}
			eff[dm.key+"."+k] = v
		}
	}
	switch p.MXFP4MoEComputeDtype {
	case "", "bf16", "fp16", "fp8", "fp4":
	default:
		return fmt.Errorf("profile %s: mxfp4_moe_compute_dtype %q: allowed values are bf16, fp16, fp8, fp4 (or empty: the stored dtype's rate)", p.Name, p.MXFP4MoEComputeDtype)
	}
	switch p.Ceilings {
	case "", "achievable", "datasheet":
	default:
		return fmt.Errorf("profile %s: ceilings %q: allowed values are achievable, datasheet", p.Name, p.Ceilings)
	}
	if p.CeilingsAsOf != "" && (!asOfDate.MatchString(p.CeilingsAsOf) || !realDate(p.CeilingsAsOf)) {
		return fmt.Errorf("profile %s: ceilings_as_of %q: allowed values are a date YYYY, YYYY-MM or YYYY-MM-DD (or empty: the newest ceilings)", p.Name, p.CeilingsAsOf)
	}
	for k, v := range eff {
		if v < 0 || v > 2 || math.IsNaN(v) {
			return fmt.Errorf("profile %s: %s = %g: must be a fraction in (0, 1]", p.Name, k, v)
		}
	}
	nonneg := map[string]float64{
		"gemm_half_m": p.GEMMHalfM, "overlap_exponent": p.OverlapExponent, "custom_allreduce_max_mib": p.CustomAllReduceMaxMiB, "collective_latency_us": p.CollectiveLatencyUs,
		"kernel_overhead_us": p.KernelOverheadUs, "gemm_fixed_us": p.GEMMFixedUs, "elementwise_kernels_per_layer": p.ElementwiseKernelsPerLayer, "prefill_layer_overhead_us": p.PrefillLayerOverheadUs, "prefill_seq_layer_overhead_us": p.PrefillSeqLayerOverheadUs,
		"eager_prefill_layer_us": p.EagerPrefillLayerUs, "eager_decode_layer_us": p.EagerDecodeLayerUs, "adp_eager_layer_us": p.ADPEagerLayerUs, "step_overhead_ms": p.StepOverheadMs, "seq_overhead_us": p.SeqOverheadUs, "mla_ep_seq_overhead_us": p.MLAEPSeqOverheadUs, "mla_ep_layer_overhead_us": p.MLAEPLayerOverheadUs, "mla_tp_layer_overhead_us": p.MLATPLayerOverheadUs, "request_overhead_ms": p.RequestOverheadMs,
		"non_torch_gib_tp1": p.NonTorchGiBTP1, "non_torch_gib_tpn": p.NonTorchGiBTPN, "reserve_gib": p.ReserveGiB, "moe_imbalance": p.MoEImbalance, "mla_decode_efficiency": p.MLADecodeEfficiency,
	}
	for k, v := range nonneg {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("profile %s: %s = %g: must be ≥ 0", p.Name, k, v)
		}
		// A host cost (per kernel, layer, sequence, step or request) above 1 s is no engine's:
		// the largest in the embedded profiles are ~1 ms per layer of eager dispatch and 10 ms
		// per step, and near 1e308 the step times overflowed to +Inf (JSON could not be written).
		// Counts: a GEMM's half-efficiency rows and a layer's element-wise kernels stay below
		// 1e6 and 1e4 (24 rows and 5-11 kernels in the embedded profiles); near 1e308 they too
		// overflowed the step time.
		if lim, ok := map[string]float64{"gemm_half_m": 1e6, "elementwise_kernels_per_layer": 1e4}[k]; ok && v > lim {
			return fmt.Errorf("profile %s: %s = %g: must be in [0, %g]", p.Name, k, v, lim)
		}
		if strings.HasSuffix(k, "_us") && v > maxHostCostUs || strings.HasSuffix(k, "_ms") && v > maxHostCostUs/1e3 {
			unit, limit := "µs", maxHostCostUs
			if strings.HasSuffix(k, "_ms") {
				unit, limit = "ms", maxHostCostUs/1e3
			}
			return fmt.Errorf("profile %s: %s = %g: must be in [0, %g] %s (1 s)", p.Name, k, v, limit, unit)
		}
	}
	switch p.MemoryModel {
	case "vllm", "sglang", "trtllm", "ideal":
	case "":
		p.MemoryModel = "ideal"
	default:
		return fmt.Errorf("profile %s: memory_model %q: allowed values are vllm, sglang, trtllm, ideal", p.Name, p.MemoryModel)
	}
	switch p.Admission {
	case "", "greedy", "reserve":
		// The ratio knobs are unused (a profile based on sglang may switch its admission).
	case "ratio":
		switch {
		case !(p.NewTokenRatioInit > 0 && p.NewTokenRatioInit <= 1):
			return fmt.Errorf("profile %s: new_token_ratio_init = %g: must be a fraction in (0, 1] with admission = \"ratio\"", p.Name, p.NewTokenRatioInit)
		case !(p.NewTokenRatioMin >= 0 && p.NewTokenRatioMin <= p.NewTokenRatioInit):
			return fmt.Errorf("profile %s: new_token_ratio_min = %g: must be in [0, new_token_ratio_init = %g]", p.Name, p.NewTokenRatioMin, p.NewTokenRatioInit)
		case !(p.NewTokenRatioDecaySteps >= 1 && p.NewTokenRatioDecaySteps <= 1e9):
			return fmt.Errorf("profile %s: new_token_ratio_decay_steps = %g: must be in [1, 1e9] decode steps", p.Name, p.NewTokenRatioDecaySteps)
		case p.ClipMaxNewTokens < 0 || p.RetractDecodeSteps < 0:
			return fmt.Errorf("profile %s: clip_max_new_tokens = %d and retract_decode_steps = %d: must be ≥ 0", p.Name, p.ClipMaxNewTokens, p.RetractDecodeSteps)
		case p.RetractDecodeSteps > maxRetractDecodeSteps:
			// retract multiplies it by the running requests: 9e18 overflowed to a negative
			// target and a negative new_token_ratio, admitting past the free KV.
			return fmt.Errorf("profile %s: retract_decode_steps = %d: must be in [0, %d] KV tokens per remaining request (SGLang's default is 20)", p.Name, p.RetractDecodeSteps, maxRetractDecodeSteps)
		}
	default:
		return fmt.Errorf("profile %s: admission %q: allowed values are greedy, reserve, ratio", p.Name, p.Admission)
	}
	if _, err := parseRange(p.Versions); err != nil {
		return fmt.Errorf("profile %s: %v", p.Name, err)
	}
	if p.MemoryFraction < 0 || p.MemoryFraction > 1 {
		return fmt.Errorf("profile %s: memory_fraction = %g: must be in (0, 1]", p.Name, p.MemoryFraction)
	}
	if p.KVBlockTokens < 0 || p.MaxNumSeqs < 0 || p.MaxNumBatchedTokens < 0 {
		return fmt.Errorf("profile %s: kv_block_tokens, max_num_seqs and max_num_batched_tokens must be ≥ 0", p.Name)
	}
	if p.CUDAGraphMaxBatch < 0 {
		return fmt.Errorf("profile %s: cuda_graph_max_batch = %d: must be ≥ 0 (0: every decode step graphed)", p.Name, p.CUDAGraphMaxBatch)
	}
	return nil
}

// maxRetractDecodeSteps bounds retract_decode_steps (KV tokens per remaining request a
// retraction frees): 10⁹ tokens is beyond any KV pool, and 10⁹ × the running requests stays far
// inside an int.
const maxRetractDecodeSteps = 1_000_000_000

// ratioKeys are admission "ratio"'s knobs: a file that sets none of them and does not ask
// for admission "ratio" needs none (files written before they existed), and a file that
// sets one to a non-zero value under another admission is refused, since it would do nothing.
var ratioKeys = []string{"new_token_ratio_init", "new_token_ratio_min", "new_token_ratio_decay_steps", "clip_max_new_tokens", "retract_decode_steps"}

// ParseProfile decodes a profile from TOML strictly: unknown keys are an error naming the file.
// With base = "ENGINE" the profile starts from that embedded engine profile and overrides only
// the keys it sets (their sources become "set in NAME" unless [sources] says otherwise). An
// efficiency or memory_fraction set to 0 is out of range, as is a negative one. Missing keys
// keep their zero values (1 for an efficiency, none for an overhead): embedded profiles such as
// "ideal" rely on it; LoadProfileFile, for users' files, does not allow it.
func ParseProfile(name string, b []byte) (*Profile, error) { return parseProfile(name, b, false) }

// profileMetaKeys are the keys a profile may leave out without changing a number.
var profileMetaKeys = map[string]bool{"base": true, "name": true, "description": true, "origin": true, "sources": true, "gemm_efficiency_by_dtype": true,
	"moe_gemm_efficiency_by_dtype": true, "moe_dequant_memory_efficiency": true, "mxfp4_moe_compute_dtype": true, "engine": true, "versions": true, "ceilings_as_of": true, "-": true}

// ProfileKeys lists the TOML keys of every numeric or behavioural field of a profile: the ones a
// profile file without base must set.
func ProfileKeys() []string {
	var out []string
	t := reflect.TypeOf(Profile{})
	for i := 0; i < t.NumField(); i++ {
		k, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ",")
		if k != "" && !profileMetaKeys[k] {
			out = append(out, k)
		}
	}
	return out
}

func parseProfile(name string, b []byte, complete bool) (*Profile, error) {
	var head struct {
		Base string `toml:"base"`
		// AsOf is read apart so that a TOML date or number (ceilings_as_of = 2024-09) gets
		// the field's allowed forms, not the decoder's type mismatch.
		AsOf any `toml:"ceilings_as_of"`
	}
	if _, err := toml.Decode(string(b), &head); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if _, ok := head.AsOf.(string); head.AsOf != nil && !ok {
		v := fmt.Sprint(head.AsOf)
		if t, ok := head.AsOf.(time.Time); ok {
			v = t.Format(time.DateOnly)
		}
		return nil, fmt.Errorf("%s: ceilings_as_of = %s: allowed values are a quoted date \"YYYY\", \"YYYY-MM\" or \"YYYY-MM-DD\" (a TOML string; empty: the newest ceilings)", name, v)
	}
	var p Profile
	if head.Base != "" {
		bp, ok, err := Engine(head.Base)
		if err != nil {
			return nil, fmt.Errorf("%s: base %q: %v", name, head.Base, err)
		}
		if !ok || bp.Base != "" {
			return nil, fmt.Errorf("%s: base %q: allowed values are %s", name, head.Base, strings.Join(EngineNames(), ", "))
		}
		p = *bp
		p.Sources, p.GEMMEfficiencyByDtype = map[string]string{}, nil
		for k, v := range bp.Sources {
			p.Sources[k] = v
		}
		if bp.GEMMEfficiencyByDtype != nil {
			p.GEMMEfficiencyByDtype = map[string]float64{}
			for k, v := range bp.GEMMEfficiencyByDtype {
				p.GEMMEfficiencyByDtype[k] = v
			}
		}
		p.MoEGEMMEfficiencyByDtype = maps.Clone(bp.MoEGEMMEfficiencyByDtype)
		p.MoEDequantMemoryEfficiency = maps.Clone(bp.MoEDequantMemoryEfficiency)
		p.Name, p.Description = "", ""
		// The file describes the base's engine unless it says otherwise (engine = "…"): its
		// Name becomes the file's, and Family() fell back to it, so a base = "trtllm" file
		// escaped TensorRT-LLM's refusals (no AMD build, no NVFP4 without FP4 tensor cores)
		// and its intervals were those of an unknown engine.
		p.EngineFamily = bp.Family()
		p.Origin = "engine profile " + bp.Name + " with overrides from " + name
	}
	var own struct {
		Sources map[string]string `toml:"sources"`
	}
	toml.Decode(string(b), &own)
	md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(&p)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("%s: unknown key %s", name, strings.Join(keys, ", "))
	}
	// An explicit 0 is out of range for a fraction (it used to mean 1, silently).
	fractions := map[string]float64{"gemm_efficiency": p.GEMMEfficiency, "memory_efficiency": p.MemoryEfficiency, "moe_efficiency": p.MoEEfficiency,
		"attention_efficiency": p.AttentionEfficiency, "attention_memory_efficiency": p.AttentionMemoryEfficiency, "link_efficiency": p.LinkEfficiency,
		"memory_fraction": p.MemoryFraction}
	for _, k := range ProfileKeys() {
		if v, ok := fractions[k]; ok && v == 0 && md.IsDefined(k) {
			return nil, fmt.Errorf("%s: %s = 0: must be in (0, 1]", name, k)
		}
	}
	for _, dm := range p.dtypeMaps() {
		for k, v := range dm.m {
			if v <= 0 {
				return nil, fmt.Errorf("%s: %s.%s = %g: must be in (0, 1]", name, dm.key, k, v)
			}
		}
	}
	if p.Admission != "ratio" {
		vals := map[string]float64{"new_token_ratio_init": p.NewTokenRatioInit, "new_token_ratio_min": p.NewTokenRatioMin,
			"new_token_ratio_decay_steps": p.NewTokenRatioDecaySteps, "clip_max_new_tokens": float64(p.ClipMaxNewTokens), "retract_decode_steps": float64(p.RetractDecodeSteps)}
		for _, k := range ratioKeys {
			if md.IsDefined(k) && vals[k] != 0 {
				adm := p.Admission
				if adm == "" {
					adm = "greedy"
				}
				return nil, fmt.Errorf("%s: %s = %g is set but admission is %q: the ratio knobs (%s) act only with admission = \"ratio\" (SGLang's); set admission = \"ratio\" or remove them",
					name, k, vals[k], adm, strings.Join(ratioKeys, ", "))
			}
		}
	}
	if head.Base == "" && complete {
		var missing []string
		for _, k := range ProfileKeys() {
			if !md.IsDefined(k) && (p.Admission == "ratio" || !slices.Contains(ratioKeys, k)) {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("%s: missing %s: a profile file sets every field, or starts from an engine profile with base = \"vllm\" (or %s) and sets only what differs",
				name, strings.Join(missing, ", "), strings.Join(EngineNames(), ", "))
		}
	}
	if head.Base != "" {
		bp, _, _ := Engine(head.Base)
		for k, v := range bp.Sources { // inherited keys keep the base's sources
			if _, ok := p.Sources[k]; !ok && !md.IsDefined(k) {
				p.Sources[k] = v
			}
		}
		for _, k := range ProfileKeys() {
			if _, cited := own.Sources[k]; md.IsDefined(k) && !cited {
				p.Sources[k] = "set in " + name
			}
		}
		if md.IsDefined("gemm_efficiency_by_dtype") && own.Sources["gemm_efficiency_by_dtype"] == "" {
			p.Sources["gemm_efficiency_by_dtype"] = "set in " + name
		}
	}
	if p.Name == "" {
		p.Name = strings.TrimSuffix(path.Base(name), ".toml")
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &p, nil
}

// LoadProfileFile reads a profile TOML file (e.g. one written by calibrate).
func LoadProfileFile(file string) (*Profile, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	p, err := parseProfile(file, b, true)
	if err != nil {
		return nil, err
	}
	p.File = file
	return p, nil
}

// EngineNames lists the embedded engine profiles.
func EngineNames() []string {
	ents, _ := fs.ReadDir(data.FS, "engines")
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".toml") {
			out = append(out, strings.TrimSuffix(e.Name(), ".toml"))
		}
	}
	sort.Strings(out)
	return out
}

// Engine returns the embedded profile of an engine (vllm, sglang, trtllm, ideal, default).
// NAME@VERSION (e.g. vllm@0.7.3) returns the profile whose release range holds VERSION, or
// an error naming the ranges when none does; plain NAME is the newest release.
// Unknown engines (tgi, llama.cpp, …) get the "default" profile and ok=false.
func Engine(name string) (p *Profile, ok bool, err error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if fam, rel, found := strings.Cut(n, "@"); found {
		return engineRelease(strings.TrimSpace(fam), strings.TrimSpace(rel))
	}
	if n == "" {
		n = "default"
	}
	b, err := data.FS.ReadFile("engines/" + n + ".toml")
	if err != nil {
		b, err = data.FS.ReadFile("engines/default.toml")
		if err != nil {
			return nil, false, err
		}
		p, err = ParseProfile("engines/default.toml", b)
		return p, false, err
	}
	p, err = ParseProfile("engines/"+n+".toml", b)
	return p, true, err
}

// MustEngine is Engine for names known to be embedded; it panics otherwise (tests, examples).
func MustEngine(name string) *Profile {
	p, ok, err := Engine(name)
	if err != nil || !ok {
		panic(fmt.Sprintf("no embedded engine profile %q: %v", name, err))
	}
	return p
}

// Source returns where a profile field's value came from.
func (p *Profile) Source(key string) string {
	if s, ok := p.Sources[key]; ok {
		return s
	}
	if p.Origin != "" {
		return p.Origin
	}
	return "engine profile " + p.Name
}

// WriteTOML encodes the profile as TOML.
func (p *Profile) WriteTOML(w *bytes.Buffer) error {
	return toml.NewEncoder(w).Encode(p)
}

// profileBytes returns an embedded profile's TOML.
func profileBytes(name string) ([]byte, error) { return data.FS.ReadFile("engines/" + name + ".toml") }

// ResolveProfile returns the profile of a TOML file when file is set (LoadProfileFile), else
// the embedded profile of engine, and a phrase saying where it came from. Errors name
// --profile or --FLAG (flag: the engine flag's name, e.g. "engine" or "base") and the
// allowed engines.
func ResolveProfile(flag, engine, file string) (*Profile, string, error) {
	if file != "" {
		p, err := LoadProfileFile(file)
		if err != nil {
			return nil, "", fmt.Errorf("--profile: %v", err)
		}
		return p, "profile file " + file + " (" + p.Origin + ")", nil
	}
	p, ok, err := Engine(engine)
	if err != nil {
		return nil, "", err
	}
	if !ok {
		return nil, "", fmt.Errorf("--%s %q: allowed values are %s", flag, engine, strings.Join(EngineNames(), ", "))
	}
	return p, "engine profile " + p.Name + " (embedded)", nil
}
