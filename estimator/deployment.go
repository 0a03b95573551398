package estimator

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"roofline/hardware"
	"roofline/models"
	"roofline/units"
)

// Spec describes a deployment: a model on NumGPUs GPUs of one type, split by tensor (TP),
// pipeline (PP), data (DP) and expert (EP) parallelism, with weight and KV dtypes, served by
// an engine profile. Zero values take defaults as documented per field.
type Spec struct {
	Model *models.Model
	GPU   *hardware.GPU
	// NumGPUs is the total GPU count; 0 means TP·PP·DP. It must equal TP·PP·DP.
	NumGPUs int
	// TP, PP: 0 means 1. DP: 0 means NumGPUs/(TP·PP) (or 1). EP: 0 or 1 means experts are
	// sharded by TP like every other weight; EP > 1 splits the routed experts over EP GPUs.
	TP, PP, DP, EP int
	// WeightDtype is the dtype weights are served in ("" = the checkpoint's own).
	WeightDtype string
	// KVDtype is the KV-cache dtype ("" = the model's 16-bit dtype).
	KVDtype string
	// Profile is the engine profile (nil = the embedded "default").
	Profile *Profile
	// MemoryFraction overrides the profile's memory knob (vLLM gpu_memory_utilization…); 0 = profile default.
	MemoryFraction float64
	// MaxModelLen is the longest sequence (prompt + output) the engine admits; 0 = the model's max context.
	MaxModelLen int
	// MaxNumSeqs and MaxNumBatchedTokens override the profile's scheduler limits; 0 = profile default.
	MaxNumSeqs, MaxNumBatchedTokens int
	// SchedulerSteps is vLLM V0's --num-scheduler-steps (multi-step scheduling, vLLM 0.6–0.7):
	// the scheduler runs once per that many decode steps, so a decode-only step pays the
	// profile's per-step and per-sequence host costs (step_overhead_ms, seq_overhead_us) once
	// per SchedulerSteps steps. 0 or 1 = every step. Not modelled: a new request also waits for
	// the running group of steps to end before its prefill (TTFT comes out low).
	SchedulerSteps int
	// EnforceEager runs every step without CUDA/HIP graphs (vLLM --enforce-eager, SGLang
	// --disable-cuda-graph, TGI --cuda-graphs 0, TensorRT-LLM's PyTorch backend without
	// cuda_graph_config): each step lasts at least layers × the profile's per-layer host
	// dispatch, max(GPU work, layers × µs per layer) as above the profile's
	// cuda_graph_max_batch: a decode step at any batch size with eager_decode_layer_us, a
	// step with prompt tokens with eager_prefill_layer_us (each taking the other where the
	// profile gives only one). New refuses it for a profile with neither figure. false:
	// the profile's own capture (graphs up to cuda_graph_max_batch). Memory is unchanged:
	// Memory keeps CUDA-graph memory outside the KV pool (vLLM captures after sizing it).
	EnforceEager bool
	// Topology places the GPUs on nodes (zero value: see Topology).
	Topology Topology
	// Speculation enables speculative decoding (nil = off).
	Speculation *Speculation
	// Offload describes KV-cache offload tiers and prefix reuse (nil = the shared prefix
	// always hits HBM, as without offloading). Tiers must be resolved (ResolveTiers).
	Offload *Offload
}

// Deployment is a validated Spec with the per-GPU quantities the step model needs.
// Build it with New; it is read-only afterwards and safe for concurrent use.
type Deployment struct {
	Spec
	WeightDtypeResolved string // the dtype weights are served in
	KVDtypeResolved     string
	ComputeDtype        string // the dtype of the tensor-core peak GEMMs run at (W4A16 computes in bf16)

	gemmPeak, attnPeak      units.FLOPsPerSecond // datasheet peaks of the quantised and 16-bit GEMMs (MFU)
	gemmCeil, attnCeil      units.FLOPsPerSecond // the ceilings the step model uses (achievable or datasheet)
	memBW                   float64              // memory ceiling, bytes/s
	gemmDtypeQ, gemmDtype16 string               // compute dtypes of the quantised and 16-bit GEMMs (efficiency lookup)
	actQuantBytes           float64              // bytes per element of quantised activations (W8A8/W4A4); 0 when GEMMs take 16-bit inputs
	mxfp4Act                float64              // activation bits the profile's mxfp4_moe_compute_dtype set for MXFP4 experts; 0 when it did not apply
	gemms                   []gemmShard
	layers                  int // layers on one pipeline stage
	heads                   int // query heads per GPU
	qkDim, vDim             int // per-head dims in prefill
	qkDimDec, vDimDec       int // per-head dims in decode (MLA absorbed: latent dims)
	attnGroups              []attnGroup
	vocabPadded             int // vocabulary rows of the embedding and lm_head as laid out
	hidden                  int
	interLocal              int // largest per-GPU MLP inner size touched per token (for activations)
	vocabLocal              int
	moeLayers               int // MoE layers on one stage
	expertsPerTok           int
	actBytes                float64
	weightsPerGPU           units.Bytes
	warnings                []error

	rates            *rateMemo   // serving.go: the closed form's sustainable rates, memoized
	bursts           *burstMemo  // serving.go: the closed loops' start-up bursts, memoized
	gemmTab          *gemmTable  // gemmtable.go: the closed form's GEMM terms by tokens
	fixedSrc         fixedSource // serving.go: explainOf's citation, formatted once
	fabric           Fabric      // topology.go
	network          hardware.Network
	nodes            int
	crossTP, crossEP bool
	crossPP          int        // pipeline sends that cross a node
	spec             *specState // speculative.go
	specKVBytes      float64    // the draft's KV bytes per token per GPU
}

type gemmShard struct {
	name     string
	k, n     float64 // local shape of one copy
	layers   float64 // layers on one stage running it
	experts  float64 // local expert copies (0: dense)
	totalExp float64 // experts in the model (for routing probabilities)
	perTok   float64 // experts each token uses
	bpe      float64 // bytes per weight element
	peak     units.FLOPsPerSecond
	quantDt  bool // computed in the quantised dtype (gemmDtypeQ), not gemmDtype16
	quant    bool // inputs are quantised on the fly (W8A8/W4A4)
	isHead   bool
	// dequant is the storage dtype of weights the GEMM dequantises in-kernel (no tensor
	// cores for it on this GPU: MXFP4 on Hopper); "" when weights are used as stored.
	dequant string
	// dt and qb are set for a GEMM whose module group a mixed-precision checkpoint stores in
	// another dtype than the rest (FP8 attention beside FP4 experts): its compute dtype and
	// quantised-activation bytes per element (0: 16-bit inputs); the step reads the dtype's
	// GEMM efficiency from the profile. dt "" means the deployment's gemmDtypeQ/gemmDtype16.
	dt string
	qb float64
}

// attnGroup is a KV-cache layer group: the layers of one stage that share a window and
// a per-layer KV size (full attention, sliding window W, chunked local attention, MLA latent).
type attnGroup struct {
	window  int     // 0: full attention
	chunked bool    // Llama-4 chunked local attention (window = chunk size)
	layers  float64 // layers on one stage in this group
	kvBytes float64 // KV bytes per token per layer on one GPU
	// per-head dims of the group's layers in prefill and in decode (MLA absorbed: latent dims)
	qkDim, vDim, qkDimDec, vDimDec int
}

// name is the group's label in kv_bytes_per_token_by_group: "full", "sliding_<W>",
// "chunked_<C>", "mla_latent" (with the head size when layers of one window differ).
func (g attnGroup) name(multi bool) string {
	n := "full"
	switch {
	case g.window > 0 && g.chunked:
		n = fmt.Sprintf("chunked_%d", g.window)
	case g.window > 0:
		n = fmt.Sprintf("sliding_%d", g.window)
	}
	if multi {
		n += fmt.Sprintf("_hd%d", g.qkDim)
	}
	return n
}

// MaxDP is the largest number of data-parallel replicas New takes: 4096, the bound the sweep
// puts on GPU counts and plan's default --max-replicas. --dp 100000 described no deployment
// anyone runs and was priced as 100,000 GPUs.
const MaxDP = 4096

// New validates a Spec and precomputes the per-GPU model shard. A Spec seen before (same
// model, GPU and profile pointers, same fields) returns a copy of the deployment built then,
// sharing its memos (deployCache): the model, GPU and profile must not be modified after the
// first New that reads them.
func New(s Spec) (*Deployment, error) { return cachedNew(s) }

// newDeployment is New without deployCache.
func newDeployment(s Spec) (*Deployment, error) {
	if s.Model == nil || s.GPU == nil {
		return nil, errors.New("deployment needs a model and a GPU")
	}
	m := s.Model
	if s.Profile == nil {
		p, _, err := Engine("default")
		if err != nil {
			return nil, err
		}
		s.Profile = p
	}
	if err := CheckEngineGPU(s.Profile, s.GPU); err != nil {
		return nil, err
	}
	for _, v := range []struct {
		name string
		p    *int
	}{{"tp", &s.TP}, {"pp", &s.PP}, {"ep", &s.EP}} {
		if *v.p < 0 {
			return nil, fmt.Errorf("--%s %d: must be ≥ 1", v.name, *v.p)
		}
		if *v.p == 0 {
			*v.p = 1
		}
	}
	if s.DP < 0 || s.NumGPUs < 0 {
		return nil, fmt.Errorf("--dp and --num-gpus must be ≥ 1")
	}
	if s.DP == 0 {
		s.DP = 1
		if s.NumGPUs > 0 && s.NumGPUs%(s.TP*s.PP) == 0 {
			s.DP = s.NumGPUs / (s.TP * s.PP)
		}
	}
	if s.DP > MaxDP {
		return nil, fmt.Errorf("--dp %d: allowed values are 1 to %d replicas (tp·pp·dp = --num-gpus)", s.DP, MaxDP)
	}
	if s.NumGPUs == 0 {
		s.NumGPUs = s.TP * s.PP * s.DP
	}
	if s.NumGPUs != s.TP*s.PP*s.DP {
		return nil, fmt.Errorf("--num-gpus %d must equal tp·pp·dp = %d·%d·%d = %d", s.NumGPUs, s.TP, s.PP, s.DP, s.TP*s.PP*s.DP)
	}
	if m.NumHeads%s.TP != 0 {
		return nil, fmt.Errorf("--tp %d must divide the %d attention heads of %s", s.TP, m.NumHeads, m.ID)
	}
	if s.PP > m.NumLayers {
		return nil, fmt.Errorf("--pp %d exceeds the %d layers of %s", s.PP, m.NumLayers, m.ID)
	}
	if s.EP > 1 {
		if m.MoE == nil {
			return nil, fmt.Errorf("--ep %d: %s has no experts", s.EP, m.ID)
		}
		if s.EP > m.MoE.Experts || m.MoE.Experts%s.EP != 0 {
			return nil, fmt.Errorf("--ep %d must divide the %d experts of %s", s.EP, m.MoE.Experts, m.ID)
		}
		if s.EP > s.TP*s.DP {
			return nil, fmt.Errorf("--ep %d must be ≤ tp·dp = %d (experts are spread over the GPUs of one stage)", s.EP, s.TP*s.DP)
		}
		if s.EP < s.TP && s.TP%s.EP != 0 {
			return nil, fmt.Errorf("--ep %d must divide --tp %d when smaller: each expert is split over the tp/ep GPUs of its group (MoE tensor parallelism)", s.EP, s.TP)
		}
	}
	if err := CheckEngineLayout(s.Profile, s.TP, s.DP, s.EP); err != nil {
		return nil, err
	}
	if wd, err := units.CanonicalDtype(s.WeightDtype); err == nil && wd != "" && m.Quant.Method != "" && wd == m.Quant.Dtype {
		// The checkpoint's own quantized format named explicitly (--weight-dtype fp4 on an
		// MXFP4 checkpoint): serve it as stored, with its scales, mixed-precision groups and
		// the engine's padding, not as a generic re-quantisation to that dtype.
		s.WeightDtype = ""
	}
	if s.MaxModelLen < 0 || s.MaxNumSeqs < 0 || s.MaxNumBatchedTokens < 0 {
		return nil, errors.New("--max-model-len, --max-num-seqs and --max-num-batched-tokens must be ≥ 0")
	}
	// Near the int range the profiling pass's activations (tokens × hidden × bytes)
	// overflowed: "needs 1095589024 PB per GPU, -1095589024 PB available".
	if s.MaxNumBatchedTokens > MaxTokens {
		return nil, fmt.Errorf("--max-num-batched-tokens %d: must be ≤ %d", s.MaxNumBatchedTokens, MaxTokens)
	}
	if s.MaxNumSeqs > MaxSimRequests {
		return nil, fmt.Errorf("--max-num-seqs %d: must be ≤ %d", s.MaxNumSeqs, MaxSimRequests)
	}
	if s.SchedulerSteps < 0 {
		return nil, fmt.Errorf("--num-scheduler-steps %d: must be ≥ 0 (0 or 1: one scheduler call per step)", s.SchedulerSteps)
	}
	if s.SchedulerSteps > 1 {
		if err := CheckSchedulerSteps(s.Profile, s.SchedulerSteps); err != nil {
			return nil, err
		}
	}
	if s.EnforceEager {
		if err := CheckEnforceEager(s.Profile); err != nil {
			return nil, err
		}
	}
	if s.MemoryFraction < 0 || s.MemoryFraction > 1 || math.IsNaN(s.MemoryFraction) {
		return nil, fmt.Errorf("--gpu-memory-utilization %g: must be in (0, 1]", s.MemoryFraction)
	}
	if s.MaxModelLen == 0 {
		if m.MaxContextLen <= 0 {
			return nil, fmt.Errorf("--max-model-len: %s gives no max_position_embeddings (max context), so give --max-model-len (tokens, ≥ 1)", m.ID)
		}
		s.MaxModelLen = m.MaxContextLen
	}
	if m.MaxContextLen > 0 && s.MaxModelLen > m.MaxContextLen {
		// vLLM refuses a max_model_len above the model's derived maximum ("User-specified
		// max_model_len … is greater than the derived max_model_len") unless forced.
		return nil, fmt.Errorf("--max-model-len %d: must be in [1, %d], the max context of %s", s.MaxModelLen, m.MaxContextLen, m.ID)
	}
	smallVLLM := s.Profile.MemoryModel == "vllm" && (s.GPU.Usable() < 70*units.GiB || strings.Contains(strings.ToLower(s.GPU.Name), "a100"))
	if s.MaxNumSeqs == 0 {
		s.MaxNumSeqs = s.Profile.MaxNumSeqs
		if smallVLLM && s.MaxNumSeqs > 256 {
			// vLLM (engine/arg_utils.py, V1 defaults): max_num_seqs 256 and a 2048-token
			// budget for the OpenAI server on GPUs under 70 GiB and on A100s.
			s.MaxNumSeqs = 256
		}
	}
	if s.MaxNumBatchedTokens == 0 {
		s.MaxNumBatchedTokens = s.Profile.MaxNumBatchedTokens
		if smallVLLM && s.MaxNumBatchedTokens > 2048 {
			s.MaxNumBatchedTokens = 2048
		}
	}
	if s.MemoryFraction == 0 {
		s.MemoryFraction = s.Profile.MemoryFraction
	}
	d := &Deployment{Spec: s, hidden: m.HiddenSize, actBytes: 2, rates: &rateMemo{},
		bursts: &burstMemo{}, gemmTab: &gemmTable{}, fixedSrc: newFixedSource(s.Profile)}
	for _, n := range m.Notes {
		d.warnings = append(d.warnings, fmt.Errorf("model %s: %s", m.ID, n))
	}
	if err := ReleaseGPUWarning(s.Profile, s.GPU); err != nil {
		d.warnings = append(d.warnings, err)
	}
	if err := LayoutWarning(s.Profile, m, s.TP, s.DP, s.EP); err != nil {
		d.warnings = append(d.warnings, err)
	}
	if err := ReleaseModelWarning(s.Profile, m); err != nil {
		d.warnings = append(d.warnings, err)
	}
	if err := d.resolveDtypes(); err != nil {
		return nil, err
	}
	if err := d.shard(); err != nil {
		return nil, err
	}
	if err := d.resolveTopology(); err != nil {
		return nil, err
	}
	if err := d.resolveSpeculation(); err != nil {
		return nil, err
	}
	if d.EnforceEager {
		us, field := d.eagerDecodeLayerUs(), "eager_decode_layer_us"
		if d.Profile.EagerDecodeLayerUs <= 0 {
			field = "eager_prefill_layer_us, standing in for the eager_decode_layer_us it does not give"
		}
		// With PP a step passes every stage, each dispatching its d.layers layers (the last
		// stage's count for all: ⌈layers/PP⌉, so 4 stages of Llama-3.1-405B's 126 are 4 × 32).
		layers := fmt.Sprintf("%d layers", d.layers)
		if d.PP > 1 {
			layers = fmt.Sprintf("%d pipeline stages × %d layers", d.PP, d.layers)
		}
		d.warnings = append(d.warnings, fmt.Errorf("--enforce-eager: every decode step lasts at least %s × %g µs = %s of host dispatch (profile %s, %s; see its source for where it was measured)",
			layers, us, units.Seconds(us*1e-6*float64(d.layers*d.PP)), d.Profile.Name, field))
	}
	// Copies of d share these (deployCache): an append to a copy's slice must not write into
	// the shared array.
	d.warnings, d.gemms, d.attnGroups = slices.Clip(d.warnings), slices.Clip(d.gemms), slices.Clip(d.attnGroups)
	return d, nil
}

// CheckEnforceEager returns the error New gives for Spec.EnforceEager with profile p when p
// gives no eager dispatch time per layer (neither eager_decode_layer_us nor
// eager_prefill_layer_us): a step without CUDA graphs cannot be priced. nil: p can take it
// (nil p is the default profile).
func CheckEnforceEager(p *Profile) error {
	if p == nil {
		p = MustEngine("default")
	}
	if p.EagerDecodeLayerUs <= 0 && p.EagerPrefillLayerUs <= 0 {
		return fmt.Errorf("--enforce-eager: profile %s gives no eager dispatch time (eager_decode_layer_us or eager_prefill_layer_us, µs per layer), so a step without CUDA graphs cannot be priced; use a profile that has one (tgi, sglang, vllm@0.6) or add it to a --profile file", p.Name)
	}
	return nil
}

// CheckSchedulerSteps returns the error New gives for Spec.SchedulerSteps = n > 1 with
// profile p when p describes no engine with multi-step scheduling: that is vLLM V0's
// --num-scheduler-steps (vLLM 0.6.0 added it; the V1 engine, default from 0.8, has none),
// so p must be a vllm profile whose release range holds 0.6 or 0.7 (or gives no range).
// SGLang, TensorRT-LLM, TGI, LMDeploy and vLLM V1 schedule every step; spreading their
// per-step host cost over n steps would price a flag they do not have. nil: p can take it.
func CheckSchedulerSteps(p *Profile, n int) error {
	if n <= 1 {
		return nil
	}
	if p == nil {
		p = MustEngine("default")
	}
	if p.Family() == "vllm" && (p.Versions == "" || p.Covers(Version{0, 6, 0}) || p.Covers(Version{0, 7, 0})) {
		return nil
	}
	return fmt.Errorf("--num-scheduler-steps %d: multi-step scheduling is vLLM V0's (releases 0.6-0.7: --engine vllm@0.7, or a --profile of those releases); %s has none: allowed 0 or 1", n, p.Label())
}

// modelDtype is the 16-bit dtype the model computes in.
func modelDtype(m *models.Model) string {
	if m.Quant.Method == "" && m.Quant.Dtype == "fp16" {
		return "fp16"
	}
	return "bf16"
}

func (d *Deployment) resolveDtypes() error {
	m, g := d.Model, d.GPU
	wd, err := units.CanonicalDtype(d.WeightDtype)
	if err != nil {
		return fmt.Errorf("--weight-dtype: %w", err)
	}
	if wd == "" {
		wd = m.Quant.Dtype
		if wd == "" || wd == "fp32" {
			wd = modelDtype(m)
		}
	}
	d.WeightDtypeResolved = wd
	kd, err := units.CanonicalDtype(d.KVDtype)
	if err != nil {
		return fmt.Errorf("--kv-dtype: %w", err)
	}
	if !KVDtypeAllowed(kd) {
		return fmt.Errorf("--kv-dtype %q: allowed values are bf16, fp16, fp8", d.KVDtype)
	}
	if kd == "" {
		kd = modelDtype(m)
	}
	md := modelDtype(m)
	if _, err := g.Peak("bf16"); err != nil && md == "bf16" {
		// Pre-Ampere GPUs (V100, T4) have no bf16: engines load 16-bit checkpoints in fp16
		// there (vLLM: "Bfloat16 is only supported on GPUs with compute capability of at
		// least 8.0", it then casts to float16).
		md = "fp16"
		d.warnings = append(d.warnings, fmt.Errorf("%s has no bf16: the 16-bit checkpoint runs in fp16, as vLLM casts it there (--dtype half)", g.ID))
		if wd == "bf16" {
			d.WeightDtypeResolved = "fp16"
		}
		if kd == "bf16" {
			kd = "fp16"
		}
	}
	d.KVDtypeResolved = kd
	// GEMMs run at the weight dtype's tensor rate when the GPU has it and activations are
	// quantized too (W8A8, NVFP4 W4A4); 4-bit integer weights (AWQ/GPTQ) are dequantized to 16 bits.
	cd := md
	switch wd {
	case "fp8", "int8", "fp4":
		if p, ok := g.PeakFLOPs[wd]; ok && p > 0 {
			cd = wd
		} else if wd == "fp4" && d.WeightDtype != "" && d.Profile.Family() == "trtllm" {
			// A checkpoint re-quantised to FP4 (d.WeightDtype is cleared for one stored in
			// its own 4-bit format, e.g. gpt-oss's MXFP4, which TensorRT-LLM serves on
			// Hopper with 16-bit or FP8 activations): TensorRT-LLM runs NVFP4 GEMMs and MoE
			// only on Blackwell's FP4 tensor cores (its quantization guide's hardware table,
			// nvidia.github.io/TensorRT-LLM/features/quantization.html), with no
			// dequantising fallback.
			return fmt.Errorf("--weight-dtype fp4 with --engine %s: TensorRT-LLM's FP4 (NVFP4) kernels need FP4 tensor cores (Blackwell) and %s has none (no fp4 rate in the GPU catalogue); allowed there: fp8 or int4 weights, or an engine that dequantises FP4 (vllm)", d.Profile.Family(), g.ID)
		} else if d.fp4ExpertsOnly(m) {
			// Attention, the dense layers and the shared experts stay FP8 (fp4ExpertsOnly), a
			// rate the GPU may well have: only the routed experts are dequantised.
			d.warnings = append(d.warnings, fmt.Errorf("%s has no %s tensor cores: the routed experts' %s weights are dequantized and computed in %s (attention, dense layers and shared experts keep the checkpoint's fp8)", g.ID, wd, wd, md))
		} else {
			d.warnings = append(d.warnings, fmt.Errorf("%s has no %s tensor cores: %s weights are dequantized and computed in %s", g.ID, wd, wd, md))
		}
	}
	if x := d.Profile.MXFP4MoEComputeDtype; x != "" && d.WeightDtype == "" && m.Quant.Method == "mxfp4" && cd == wd {
		// The engine's MoE kernel for MXFP4 checkpoints takes x activations (TensorRT-LLM
		// W4A16_MXFP4 or W4A8_MXFP4_MXFP8) where the GPU could also run FP4×FP4.
		want := md
		if p, ok := g.PeakFLOPs[x]; ok && p > 0 && x != "bf16" && x != "fp16" {
			want = x
		}
		if want != cd {
			cd = want
			b, _ := units.DtypeBytes(cd)
			d.mxfp4Act = 8 * b
			d.warnings = append(d.warnings, fmt.Errorf("MXFP4 experts of %s computed in %s with the weights dequantised in the GEMM: engine profile %s, mxfp4_moe_compute_dtype = %s", m.ID, cd, d.Profile.Name, x))
		}
	}
	d.ComputeDtype = cd
	if d.gemmPeak, err = g.Peak(cd); err != nil {
		if d.gemmPeak, err = g.Peak("bf16"); err != nil {
			return err
		}
		cd = "bf16"
	}
	am := md
	if d.attnPeak, err = g.Peak(md); err != nil {
		if d.attnPeak, err = g.Peak("bf16"); err != nil {
			return err
		}
		am = "bf16"
	}
	d.memBW, d.gemmCeil, d.attnCeil = float64(g.MemoryBandwidth), d.gemmPeak, d.attnPeak
	if d.Profile.Ceilings == "datasheet" && d.Profile.CeilingsAsOf != "" {
		// The date selects among measured ceilings, which a datasheet profile does not use.
		d.warnings = append(d.warnings, fmt.Errorf("profile %s: ceilings_as_of %s has no effect with ceilings = \"datasheet\" (the date picks among measured GEMM ceilings; the datasheet peaks are used)", d.Profile.Name, d.Profile.CeilingsAsOf))
	}
	if d.Profile.Ceilings != "datasheet" {
		if c, ok := d.gemmCeiling(cd); ok {
			d.gemmCeil = units.FLOPsPerSecond(c.Value)
		}
		if c, ok := d.gemmCeiling(am); ok {
			d.attnCeil = units.FLOPsPerSecond(c.Value)
		}
		if c := g.Achievable.MemoryBandwidth; c.Value > 0 {
			d.memBW = c.Value
		}
	}
	d.gemmDtypeQ, d.gemmDtype16 = cd, am
	if cd != am {
		d.actQuantBytes, _ = units.DtypeBytes(cd)
	}
	return nil
}

// fp4ExpertsOnly reports whether --weight-dtype fp4 quantises only the routed experts: for a
// model with multi-head latent attention and MoE layers (the DeepSeek-V3/R1 family), NVIDIA's
// NVFP4 checkpoints (nvidia/DeepSeek-R1-FP4, nvidia/DeepSeek-R1-0528-NVFP4-v2) store the routed
// experts in FP4 and keep attention, the dense first layers and the shared experts in the
// original checkpoint's FP8 (data/validation/README.md, modern.csv notes: "only the routed
// experts are FP4 in the DeepSeek checkpoints"; FP8 is the base checkpoint's dtype, e4m3 with
// 128×128 block scales in its config.json).
func (d *Deployment) fp4ExpertsOnly(m *models.Model) bool {
	return d.WeightDtype == "fp4" && m.MLA != nil && m.MoE != nil
}

// moduleDtype sets a GEMM of a mixed-precision checkpoint to its module group's dtype wd:
// the dtype's tensor rate and activation quantisation when the GPU has it (fp8, int8, fp4),
// else the 16-bit rate with 16-bit inputs (weights dequantised), as resolveDtypes does for
// the whole model.
func (d *Deployment) moduleDtype(s *gemmShard, wd string) {
	cd := d.gemmDtype16
	switch wd {
	case "fp8", "int8", "fp4":
		if p, ok := d.GPU.PeakFLOPs[wd]; ok && p > 0 {
			cd = wd
		}
	}
	s.dt = cd
	s.peak = d.attnCeil
	if cd != d.gemmDtype16 {
		s.peak = d.GPU.PeakFLOPs[cd]
		if c, ok := d.gemmCeiling(cd); ok && d.Profile.Ceilings != "datasheet" {
			s.peak = units.FLOPsPerSecond(c.Value)
		}
	}
	s.qb = 0
	if cd != d.gemmDtype16 {
		s.qb, _ = units.DtypeBytes(cd)
	}
	s.quant = s.qb > 0
	s.quantDt = cd != d.gemmDtype16
}

// shardDtype is the compute dtype of one GEMM shard.
func (d *Deployment) shardDtype(s *gemmShard) string {
	switch {
	case s.dt != "":
		return s.dt
	case s.quantDt:
		return d.gemmDtypeQ
	}
	return d.gemmDtype16
}

// ceilingSources names the GEMM, attention and memory ceilings resolveDtypes chose, for
// --explain: "datasheet", or the achievable ceiling's note (ceilingNote). Formatted when
// asked, not in New: the same choices as resolveDtypes (the compute dtypes it kept in
// gemmDtypeQ and gemmDtype16).
func (d *Deployment) ceilingSources() (gemm, attn, mem string) {
	g := d.GPU
	gemm, attn, mem = "datasheet", "datasheet", "datasheet"
	if d.Profile.Ceilings != "datasheet" {
		if c, ok := d.gemmCeiling(d.gemmDtypeQ); ok {
			gemm = ceilingNote(c)
		}
		if c, ok := d.gemmCeiling(d.gemmDtype16); ok {
			attn = ceilingNote(c)
		}
		if c := g.Achievable.MemoryBandwidth; c.Value > 0 {
			mem = ceilingNote(c)
		}
	}
	return gemm, attn, mem
}

// gemmCeiling is the achievable GEMM ceiling the step model uses for dtype dt: the GPU's
// (hardware.Achievable.GEMM), or, for a profile with ceilings_as_of, the best measurement of
// the GPU dated no later than that where the ceilings table has one (GEMMAsOf), its source
// then saying so. ok is false when the GPU has no ceiling for dt.
func (d *Deployment) gemmCeiling(dt string) (hardware.Ceiling, bool) {
	c, era := d.GPU.Achievable.GEMMAsOf(dt, d.Profile.CeilingsAsOf)
	if c.Value <= 0 {
		return c, false
	}
	if era {
		best := d.GPU.Achievable.GEMM[dt]
		c.Source = fmt.Sprintf("%s; software of engine profile %s's date (ceilings_as_of %s): the best %s measurement of this GPU by then, not the later %.0f TFLOP/s (%s)",
			c.Source, d.Profile.Name, d.Profile.CeilingsAsOf, dt, best.Value/1e12, best.Source)
	}
	return c, true
}

// ceilingNote describes a ceiling for --explain: its fraction of the datasheet and its source.
// Notes are formatted once per ceiling (New runs for every configuration of a sweep).
func ceilingNote(c hardware.Ceiling) string {
	if v, ok := ceilingNotes.Load(c); ok {
		return v.(string)
	}
	kind := "measured"
	if !c.Measured {
		kind = "lower confidence"
	}
	note := fmt.Sprintf("achievable %.0f%% of datasheet, %s: %s", 100*c.Fraction, kind, c.Source)
	ceilingNotes.Store(c, note)
	return note
}

var ceilingNotes sync.Map // hardware.Ceiling → string

func (d *Deployment) shard() error {
	m := d.Model
	tp, pp := float64(d.TP), float64(d.PP)
	d.layers = int(math.Ceil(float64(m.NumLayers) / pp))
	stage := float64(d.layers) / float64(m.NumLayers) // fraction of each layer group on one stage
	d.heads = m.NumHeads / d.TP
	d.qkDim, d.vDim = m.HeadDim, m.VHeadDim
	if d.vDim == 0 {
		d.vDim = d.qkDim
	}
	d.qkDimDec, d.vDimDec = d.qkDim, d.vDim
	kvb, err := units.DtypeBytes(d.KVDtypeResolved)
	if err != nil {
		return err
	}
	expanded := d.mlaExpandedKV()
	if expanded {
		// The release caches MLA's keys and values decompressed, V padded to the key's head
		// size, and attends as multi-head attention in prefill and decode (mla.go).
		d.vDim = d.qkDim
		d.qkDimDec, d.vDimDec = d.qkDim, d.vDim
		d.warnings = append(d.warnings, fmt.Errorf("%s caches the KV of %s decompressed, per head with V padded to %d (MLA kernels came with vLLM 0.7.1): %d elements per token per layer on each GPU instead of the %d-element latent",
			d.Profile.Label(), m.ID, d.qkDim, 2*d.heads*d.qkDim, m.MLA.KVLoRARank+m.MLA.QKRopeHeadDim))
	} else if m.MLA != nil {
		// Absorbed MLA decode attends in the compressed latent space (DeepSeek-V2 paper §2.1.3).
		d.qkDimDec = m.MLA.KVLoRARank + m.MLA.QKRopeHeadDim
		d.vDimDec = m.MLA.KVLoRARank
	}
	layers := m.Layers
	if len(layers) == 0 && m.NumLayers > 0 {
		// Every layer is the zero Layer: one pass, its group counted NumLayers times below.
		layers = []models.Layer{{}}
	}
	var g attnGroup
	for i, l := range layers {
		if i == 0 || l != layers[i-1] { // a layer like the one before has its group (models are runs of like layers)
			g = attnGroup{window: l.SlidingWindow, chunked: l.Chunked, kvBytes: m.KVLayerElems(l, d.TP) * kvb,
				qkDim: m.LayerHeadDim(l), vDim: m.LayerVHeadDim(l)}
			g.qkDimDec, g.vDimDec = g.qkDim, g.vDim
			if expanded {
				// Per-head K and V (V padded to the key's size) on this rank's heads.
				g.vDim, g.qkDimDec, g.vDimDec = g.qkDim, g.qkDim, g.qkDim
				g.kvBytes = float64(d.heads) * float64(2*g.qkDim) * kvb
			} else if m.MLA != nil {
				g.qkDimDec, g.vDimDec = d.qkDimDec, d.vDimDec
			}
		}
		found := false
		for i := range d.attnGroups {
			o := &d.attnGroups[i]
			if o.window == g.window && o.chunked == g.chunked && o.kvBytes == g.kvBytes && o.qkDim == g.qkDim {
				o.layers++
				found = true
				break
			}
		}
		if !found {
			g.layers = 1
			d.attnGroups = append(d.attnGroups, g)
		}
		if l.MoE {
			d.moeLayers++
		}
	}
	if len(m.Layers) == 0 && m.NumLayers > 0 {
		d.attnGroups[0].layers = float64(m.NumLayers)
	}
	for i := range d.attnGroups {
		d.attnGroups[i].layers *= stage
	}
	d.moeLayers = int(math.Ceil(float64(d.moeLayers) * stage))

	half, err := m.ElemBytes(false, d.WeightDtype)
	if err != nil {
		return fmt.Errorf("--weight-dtype: %w", err)
	}
	var gemmParams float64
	var weights float64
	d.vocabPadded = padVocab(m.VocabSize)
	if d.fp4ExpertsOnly(m) {
		d.warnings = append(d.warnings, fmt.Errorf("fp4 weights on %s: the routed experts in FP4, attention, dense layers and shared experts in FP8, as NVIDIA's NVFP4 DeepSeek checkpoints store them", m.ID))
	}
	gs := m.GEMMs()
	d.gemms = make([]gemmShard, 0, len(gs))
	// With a dtype given, a GEMM's bytes per element depend only on whether the checkpoint
	// quantizes it (GEMMElemBytes): priced once each.
	var bpeQ, bpe16 float64
	if d.WeightDtype != "" {
		if bpeQ, err = m.ElemBytes(true, d.WeightDtype); err != nil {
			return fmt.Errorf("--weight-dtype: %w", err)
		}
		bpe16 = half // ElemBytes(false, d.WeightDtype)
	}
	for _, g := range gs {
		bpe := bpe16
		if g.Quantized {
			bpe = bpeQ
		}
		if d.WeightDtype == "" {
			if bpe, err = m.GEMMElemBytes(g, ""); err != nil {
				return fmt.Errorf("--weight-dtype: %w", err)
			}
		}
		s := gemmShard{name: g.Name, k: float64(g.K), n: float64(g.N), layers: float64(g.Layers) * stage, bpe: half, peak: d.attnCeil}
		if g.Quantized {
			s.bpe, s.peak, s.quantDt, s.quant = bpe, d.gemmCeil, true, d.actQuantBytes > 0
			store := d.WeightDtypeResolved
			if mdt := m.Quant.ModuleDtype[g.Module]; d.WeightDtype == "" && mdt != "" {
				d.moduleDtype(&s, mdt)
				store = mdt
			} else if d.fp4ExpertsOnly(m) && g.Experts == 0 {
				// NVFP4 DeepSeek checkpoints: only the routed experts are FP4 (see fp4ExpertsOnly).
				d.moduleDtype(&s, "fp8")
				store = "fp8"
				if s.bpe, err = m.ElemBytes(true, "fp8"); err != nil {
					return fmt.Errorf("--weight-dtype: %w", err)
				}
			}
			if cd := d.shardDtype(&s); store != cd && (cd == "bf16" || cd == "fp16") {
				s.dequant = store
			}
		}
		if g.Name == "lm_head" {
			s.n = float64(d.vocabPadded) // vLLM pads the vocabulary to a multiple of 64
		}
		if g.Name == "lm_head" {
			s.layers, s.isHead = 1, true
		}
		div := 1.0 // how many GPUs share this weight
		if g.Split == "column" || g.Split == "row" {
			div = tp
		}
		if g.Experts > 0 {
			s.totalExp, s.perTok = float64(g.Experts), float64(g.ExpertsPerToken)
			if d.EP > 1 {
				// Experts spread over EP groups; with EP < TP each expert is also split over the
				// TP/EP GPUs of its group (MoE tensor parallelism: TensorRT-LLM moe_tp_size ×
				// moe_ep_size = tp_size, SGLang moe_tp_size = tp_size / ep_size).
				s.experts, div = float64(g.Experts)/float64(d.EP), max(1, tp/float64(d.EP))
			} else {
				s.experts = float64(g.Experts)
			}
			d.expertsPerTok = g.ExpertsPerToken
		}
		switch g.Split { // column-parallel splits the output features, row-parallel the input
		case "column":
			if g.KVN > 0 && g.KVHeads < d.TP {
				// KV heads replicated: each GPU holds one whole KV head (vLLM QKVParallelLinear).
				s.n = float64(g.N-g.KVN)/div + float64(g.KVN)/float64(g.KVHeads)
			} else {
				s.n /= div
			}
		case "row":
			s.k /= div
		}
		if g.Experts > 0 && d.padExperts() {
			// MXFP4 experts on Hopper: vLLM pads the per-GPU expert inner dimension to a
			// multiple of 256 for its kernels (gpt-oss: 2880 → 3072).
			inner := float64(m.MoE.ExpertIntermediate) / div
			padded := math.Ceil(inner/256) * 256
			switch g.Split {
			case "column":
				s.n *= padded / inner
			case "row":
				s.k *= padded / inner
			}
		}
		gemmParams += float64(g.Params()) * float64(g.Layers)
		copies := math.Max(s.experts, 1)
		w := s.k * s.n * copies * s.layers * s.bpe
		if s.isHead && m.TiedEmbeddings {
			w = 0 // shares the embedding table
		}
		weights += w
		d.gemms = append(d.gemms, s)
		if g.Name == "lm_head" {
			d.vocabLocal = int(s.n)
		}
		inner := 0
		switch {
		case g.Name == "mlp_up_gate" || g.Name == "shared_up_gate":
			inner = int(s.n)
			if m.GatedMLP {
				inner /= 2 // gate and up are fused: N = 2·intermediate
			}
		case g.Experts > 0 && g.Split != "row" && s.k == float64(m.HiddenSize):
			inner = int(s.n) * g.ExpertsPerToken
			if m.GatedMLP {
				inner /= 2
			}
		}
		if inner > d.interLocal {
			d.interLocal = inner
		}
	}
	pc := m.ParamsOf(gs)
	lmHead := float64(m.VocabSize) * float64(m.HiddenSize) // the lm_head GEMM, tied or not
	other := float64(pc.Total) - float64(pc.Embedding) - (gemmParams - lmHead + float64(pc.LMHead))
	if other < 0 {
		other = 0
	}
	// Vocab-parallel embedding (sharded by TP); biases and norms are tiny and sharded or
	// replicated — counted here as sharded with the layers.
	weights += float64(d.vocabPadded)*float64(m.HiddenSize)/tp*half + other*stage/tp*half
	// The vision tower (multimodal configs) is loaded with the decoder, sharded by TP.
	weights += float64(m.VisionParams) / tp * half
	d.weightsPerGPU = units.Bytes(weights)
	return nil
}

// padVocab is the vocabulary as vLLM lays out its embedding and lm_head: rounded up to a
// multiple of 64 (vllm/model_executor/layers/vocab_parallel_embedding.py,
// DEFAULT_VOCAB_PADDING_SIZE = 64).
func padVocab(v int) int { return (v + 63) / 64 * 64 }

// padExperts reports whether the engine pads MXFP4 expert weights: vLLM on Hopper GPUs
// rounds the per-GPU expert inner size up to a multiple of 256 for its MXFP4 MoE kernels;
// gpt-oss-20b loads 13.47 GiB on an H100 where its checkpoint holds ~12.8 GiB.
func (d *Deployment) padExperts() bool {
	if d.Profile.MemoryModel != "vllm" || d.WeightDtype != "" || d.Model.MoE == nil {
		return false
	}
	q := d.Model.Quant
	return q.Method == "mxfp4" && strings.HasPrefix(d.GPU.Architecture, "Hopper")
}

// WeightsPerGPU is the weight shard held by the busiest GPU (bytes).
func (d *Deployment) WeightsPerGPU() units.Bytes { return d.weightsPerGPU }

// KVBytesPerToken is the KV cache one token occupies on one GPU (bytes), all layers of its
// stage at full length (windows ignored): Σ over layer groups of layers × bytes per layer.
func (d *Deployment) KVBytesPerToken() units.Bytes {
	var b float64
	for _, g := range d.attnGroups {
		b += g.kvBytes * g.layers
	}
	return units.Bytes(b + d.specKVBytes)
}

// Warnings lists caveats of the deployment (e.g. dequantized weights).
func (d *Deployment) Warnings() []error { return d.warnings }

// Replicas is the number of independent model copies (DP), each on TP·PP GPUs.
func (d *Deployment) Replicas() int { return d.DP }

// KVDtypeAllowed reports whether a canonical dtype (units.CanonicalDtype; "" = the
// model's 16-bit dtype) can hold the KV cache: bf16, fp16, fp8 (vLLM kv_cache_dtype auto or
// fp8), or fp32 for a float32 checkpoint. int4/int8/fp4 KV caches are not modelled.
func KVDtypeAllowed(canonical string) bool {
	switch canonical {
	case "", "bf16", "fp16", "fp8", "fp32":
		return true
	}
	return false
}
