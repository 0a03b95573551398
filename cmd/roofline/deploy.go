package main

import (
	"context"
	"strings"

	"github.com/spf13/pflag"

	"roofline/estimator"
	"roofline/hardware"
	"roofline/internal/flagvalue"
	"roofline/models"
)

// deployFlags are the flags that describe a deployment, shared by step, memory, estimate,
// validate, sweep and plan.
type deployFlags struct {
	model, gpu           string
	gpuFiles             []string
	numGPUs, tp, pp      int
	dp, ep               int
	weightDtype, kvDtype string
	engine, profile      string
	memFrac              float64
	maxModelLen          int
	maxNumSeqs           int
	maxBatched           int
	schedSteps           int
	enforceEager         bool
	modelFlag            string
	nodes, gpusPerNode   int
}

func (f *deployFlags) register(fs *pflag.FlagSet, withGPUCount bool) {
	f.registerAs(fs, withGPUCount, "model")
}

// registerAs is register with another name for the model flag (validate uses --model for
// the served model name and --model-id for the architecture).
func (f *deployFlags) registerAs(fs *pflag.FlagSet, withGPUCount bool, modelFlag string) {
	f.modelFlag = modelFlag
	fs.StringVar(&f.model, modelFlag, "", "model: Hugging Face id, catalogue id or path to a config.json (required)")
	fs.StringVar(&f.gpu, "gpu", "", "GPU id or alias from the catalogue, e.g. H100, H200, A100 80GB (required)")
	fs.StringSliceVar(&f.gpuFiles, "gpu-file", nil, "extra GPU catalogue TOML files (add or override entries)")
	if withGPUCount {
		fs.IntVar(&f.numGPUs, "num-gpus", 0, "total GPUs (default tp·pp·dp)")
	}
	tpHelp, dpHelp := "tensor-parallel size (default: num-gpus/(pp·dp), else 1)", "data-parallel replicas (default num-gpus/(tp·pp))"
	if !withGPUCount {
		tpHelp, dpHelp = "tensor-parallel size (default 1)", "data-parallel replicas (default 1)"
	}
	fs.IntVar(&f.tp, "tp", 0, tpHelp)
	fs.IntVar(&f.pp, "pp", 1, "pipeline-parallel size")
	fs.IntVar(&f.dp, "dp", 0, dpHelp)
	fs.IntVar(&f.ep, "ep", 0, "expert-parallel size for MoE models (0 or 1: experts sharded by TP)")
	fs.StringVar(&f.weightDtype, "weight-dtype", "", "weight dtype: bf16, fp16, fp8, int8, int4, fp4 (default: the checkpoint's)")
	fs.StringVar(&f.kvDtype, "kv-dtype", "", "KV-cache dtype: bf16, fp16, fp8 (default: the model's 16-bit dtype)")
	fs.StringVar(&f.engine, "engine", "vllm", "engine profile: "+strings.Join(estimator.EngineNames(), ", ")+" (NAME@VERSION for a release, e.g. vllm@0.7.3)")
	fs.StringVar(&f.profile, "profile", "", "engine profile TOML file (e.g. from roofline calibrate); overrides --engine")
	flagvalue.Float(fs, &f.memFrac, "gpu-memory-utilization", 0, flagvalue.Fraction, "fraction of GPU memory the engine may use (vLLM gpu_memory_utilization; default from the profile)")
	fs.IntVar(&f.maxModelLen, "max-model-len", 0, "longest sequence in tokens (default: the model's max context)")
	fs.IntVar(&f.maxNumSeqs, "max-num-seqs", 0, "maximum running sequences per replica (default from the profile)")
	fs.IntVar(&f.maxBatched, "max-num-batched-tokens", 0, "token budget per step, the chunked-prefill size (default from the profile)")
	fs.IntVar(&f.schedSteps, "num-scheduler-steps", 0, "vLLM 0.6–0.7 multi-step scheduling: decode steps per scheduler call, whose host costs are paid once per that many steps (0 or 1: every step); refused for other engines and releases")
	fs.BoolVar(&f.enforceEager, "enforce-eager", false, enforceEagerHelp)
	fs.IntVar(&f.nodes, "nodes", 0, "nodes the GPUs sit on (default: as many as the GPU count needs)")
	fs.IntVar(&f.gpusPerNode, "gpus-per-node", 0, "GPUs per node, the scale-up domain (default from the catalogue: 8 for HGX/MI300X, 72 for NVL72)")
	positiveIfGiven(fs, "tp", "pp", "dp", "max-model-len", "max-num-seqs", "max-num-batched-tokens", "nodes", "gpus-per-node")
	if withGPUCount {
		positiveIfGiven(fs, "num-gpus")
	}
}

// enforceEagerHelp is the help of --enforce-eager (estimate, step, memory, sweep, plan…).
const enforceEagerHelp = "CUDA/HIP graphs off (vLLM --enforce-eager, SGLang --disable-cuda-graph, TGI --cuda-graphs 0): every step pays the profile's per-layer host dispatch (eager_decode_layer_us, eager_prefill_layer_us); refused for a profile without one"

// resolveProfile is estimator.ResolveProfile; its errors are bad input.
func resolveProfile(flag, engine, file string) (*estimator.Profile, string, error) {
	p, src, err := estimator.ResolveProfile(flag, engine, file)
	return p, src, asUsage(err)
}

// build resolves the model, GPU and profile and validates the deployment.
func (f *deployFlags) build(ctx context.Context, e *env) (*estimator.Deployment, estimator.Provenance, error) {
	var pv estimator.Provenance
	if f.model == "" {
		return nil, pv, usageErr("--%s is required (a Hugging Face id such as meta-llama/Llama-3.1-8B-Instruct, or a config.json path)", f.modelFlag)
	}
	if f.gpu == "" {
		return nil, pv, usageErr("--gpu is required (run 'roofline gpus list' for the ids)")
	}
	m, err := loadModel(ctx, e, f.model)
	if err != nil {
		return nil, pv, err
	}
	g, err := lookupGPU(f.gpuFiles, f.gpu, "--gpu")
	if err != nil {
		return nil, pv, err
	}
	prof, psrc, err := resolveProfile("engine", f.engine, f.profile)
	if err != nil {
		return nil, pv, err
	}
	d, err := newDeployment(m, g, prof, f)
	if err != nil {
		return nil, pv, err
	}
	if d.MaxNumBatchedTokens < d.MaxNumSeqs {
		// vLLM's SchedulerConfig refuses it: "max_num_batched_tokens must be greater than or
		// equal to max_num_seqs"; each running sequence needs a token of the step's budget.
		return nil, pv, usageErr("--max-num-batched-tokens %d: must be ≥ max_num_seqs %d (lower --max-num-seqs to run a smaller budget)", d.MaxNumBatchedTokens, d.MaxNumSeqs)
	}
	if d.EnforceEager {
		psrc += "; CUDA graphs off (--enforce-eager)"
	}
	pv = estimator.Provenance{Model: m.ID + " (config.json from " + m.Source + ")", GPU: g.Provenance(), Profile: psrc}
	return d, pv, nil
}

func newDeployment(m *models.Model, g *hardware.GPU, prof *estimator.Profile, f *deployFlags) (*estimator.Deployment, error) {
	tp := f.tp
	if tp == 0 && f.numGPUs > 0 {
		pp, dp := max(f.pp, 1), max(f.dp, 1)
		if f.numGPUs%(pp*dp) == 0 {
			tp = f.numGPUs / (pp * dp)
		}
	}
	d, err := estimator.New(estimator.Spec{Model: m, GPU: g, NumGPUs: f.numGPUs, TP: tp, PP: f.pp, DP: f.dp, EP: f.ep,
		WeightDtype: f.weightDtype, KVDtype: f.kvDtype, Profile: prof, MemoryFraction: f.memFrac,
		MaxModelLen: f.maxModelLen, MaxNumSeqs: f.maxNumSeqs, MaxNumBatchedTokens: f.maxBatched, SchedulerSteps: f.schedSteps, EnforceEager: f.enforceEager,
		Topology: estimator.Topology{Nodes: f.nodes, GPUsPerNode: f.gpusPerNode}})
	if err != nil {
		return nil, asUsage(err)
	}
	return d, nil
}
