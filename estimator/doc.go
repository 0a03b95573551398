// Package estimator predicts LLM inference performance from first principles.
//
// A Deployment (model × GPU × TP/PP/DP/EP × dtypes × engine Profile) is built with New,
// which keeps up to 64 deployments by their Spec and returns a copy of a kept one (sharing its
// memos, every one exact) for a Spec it has seen: the Spec's model, GPU and profile must not
// be modified after the first New that reads them (deploycache.go). From it:
//
//   - Memory plans one GPU's memory the way the engine does (vLLM, SGLang, TensorRT-LLM)
//     and gives the KV-cache capacity in tokens and the maximum concurrency;
//   - StepTime predicts one engine step (prefill chunks and decoding sequences) as a sum of
//     per-operator rooflines, max(FLOPs/(ceiling·η), bytes/(bandwidth ceiling·η)) + overhead, plus
//     collectives and fixed per-step costs, with the bound that dominates;
//   - Serve predicts steady-state serving metrics in closed form (mean-field continuous
//     batching: a running batch b takes decode steps τ_d(b), each request's prefill adds Δ(b)
//     spread over the O output steps, Little's law for closed loops, a bisection for the
//     batch an open-loop rate sustains, and a Kingman queue for the prefill budget);
//   - Simulate runs a seeded discrete-event simulation of the engine's scheduler for
//     distributions (mean, median, p90, p95, p99 of TTFT, ITL, TPOT, E2E);
//   - Sweep ranks configurations under SLO constraints and Planner finds the cheapest fleet of
//     data-parallel replicas per GPU type that serves a target load (fewest GPUs meeting the
//     SLOs: doubling the replicas, then bisection).
//
// Serving techniques and topology (speculative.go, disagg.go, offload.go, topology.go):
//
//   - Topology places GPUs on nodes of the catalogue's scale-up domain. A TP group across k
//     nodes of g GPUs all-reduces S bytes hierarchically: 2·lat + 2(g−1)/g·S/(B_up·η) inside
//     the nodes plus 2(k−1)·lat_net + 2(k−1)/k·(S/g)/(B_net·η) between them (B_net: the GPU's
//     own NIC, bytes/s); an EP all-to-all sends (g−1)/n of its bytes over the scale-up link and
//     (n−g)/n over the NIC in parallel; PP sends that cross a node use the NIC.
//   - Speculation: a decode step verifies K+1 positions per sequence and runs K draft passes
//     (each the draft's share of the target's parameters × a one-token step); it emits
//     AL = Σ_{i=0..K} α^i tokens on average (or the given acceptance length), so the time
//     per output token is (verify + draft)/AL. The draft also runs over every prompt token
//     (its KV and first proposals): prefill costs 1 + the draft's parameter share.
//   - Disagg: TTFT = prefill queue (Kingman; in a closed loop of C clients at the load of the
//     other C−1) + prefill (with both instances' request_overhead_ms) + KV transfer + 1.5
//     decode steps, where the transfer is L + bytes/(R·η) with bytes = prompt tokens × KV per
//     token of all TP ranks; the decode pool's batch solves b = λ_d·O·τ(b); goodput is the highest rate whose
//     metrics meet the constraints.
//   - Offload: P distinct prefixes fill HBM then the tiers by capacity (LRU with uniform reuse);
//     a hit in a tier loads its KV over the tier's bandwidth (added to TTFT), a miss is
//     recomputed, and every new KV block is also stored to the first tier (GPU time).
//
// Efficiencies η are fractions of the target GPU's achievable ceilings (hardware.Achievable:
// the best measured large-shape GEMM rate of the GEMM's compute dtype, the best HBM
// streaming rate; a profile with ceilings = "datasheet" uses the peaks; one with
// ceilings_as_of, the date its release range starts, the best GEMM measurement of the GPU made
// by then where the ceilings table has one: hardware.Achievable.GEMMAsOf) and overheads are
// times, so a Profile fitted on one GPU or dtype (Calibrate) applies to another. The fixed
// cost of a step is structured: per layer, (GEMMs + attention kernels +
// elementwise_kernels_per_layer) × kernel_overhead_us + GEMMs × gemm_fixed_us; a W8A8/W4A4
// GEMM adds its activation quantisation, M·K·(2 + b_q) bytes (read 16-bit, write the b_q-byte
// dtype) and, unless act_quant_fused, one kernel; then step_overhead_ms per step,
// seq_overhead_us per sequence and, in a step with prompts, (prefill_layer_overhead_us +
// prefill_seq_layer_overhead_us × prompts) per layer (an engine that runs each prompt's
// context pass on its own pays the per-layer dispatch once per prompt). An engine that runs
// prompt steps eagerly (eager_prefill_layer_us, SGLang) makes such a step last at least
// eager_prefill_layer_us × layers: the host enqueues layers while the GPU runs them, so only
// max(0, dispatch − GPU work) is added. The closed form shares that exposed dispatch among the
// prompts of a step for throughput, but every prompt waits for its steps' whole dispatch in
// TTFT, and the step-length variance counts it as a two-point cost (paid by a share q of the
// steps: per²·q·(1 − q)), so TTFT does not fall as the load rises. An engine that replays
// CUDA/HIP graphs only up to a decode batch (cuda_graph_max_batch: TGI 32, vLLM V0 256; 0 = every
// decode step graphed) runs a larger decode step eagerly: it lasts at least
// eager_decode_layer_us × layers by the same max() rule (seconds; layers of every pipeline
// stage); a step with both prompts and such a batch is one eager pass and pays the larger
// per-layer figure. The simulation and the closed form (its decode-only step) price it
// through the same step model. Spec.EnforceEager (--enforce-eager: CUDA graphs off) makes
// every decode step eager whatever its batch and every step with prompt tokens pay
// eager_prefill_layer_us, each figure standing in for the other where a profile gives only
// one; New refuses it for a profile with neither. The small-M GEMM
// shape is gemm_half_m (η(M) = η·M/(M + half)), gemm_fixed_us and the ridge exponent p
// (overlap_exponent: (c^p + m^p)^(1/p)); GEMMTime exposes one GEMM's time so these can be
// checked against a GEMM-by-M microbenchmark. With --weight-dtype fp4 an MLA MoE model
// (DeepSeek-V3/R1) quantises its routed experts only: attention, the dense first layers and
// the shared experts stay FP8, as NVIDIA's NVFP4 DeepSeek checkpoints store them (timed at the
// FP8 ceiling, FP8 bytes in the weights). For an MLA model with attention DP + EP (EP > TP, DP > 1)
// a step also pays mla_ep_seq_overhead_us per sequence of the rank and mla_ep_layer_overhead_us per MoE layer
// (fitted TensorRT-LLM DeepSeek-R1 costs the byte/FLOP rooflines do not see; profile.go); with
// attention TP instead, mla_tp_layer_overhead_us per MoE layer (the small kernels and GEMM
// floors of a batch-1 DeepSeek layer). vLLM before 0.7.1 (vllm@0.6.6, vllm@0.7.0) had no MLA
// kernels: an MLA model's KV is cached per head, V zero-padded to the key's head size, split
// by TP (heads/TP · 2 · (qk_nope + qk_rope) elements per token per layer: 6,144 for
// DeepSeek-V3/R1 at TP8 against the 576-element latent), and both attention phases are
// multi-head (mla.go; the v0.7.1 release notes' "~10x the memory capacity for tokens").
// Attention DP + EP in an engine that replays CUDA graphs only for generation-only batches
// and agrees on it across the ranks (adp_eager_layer_us, TensorRT-LLM's PyTorch backend): a
// step is eager on every rank of the EP group when any of them holds a context chunk. The
// simulation treats the g − 1 other ranks as copies of the simulated lane: each holds a chunk
// with the share q of steps in which the lane itself did so far, so a decode-only step costs
// t + (1 − (1 − q)^(g−1))·max(0, adp_eager_layer_us × layers − t) (seconds; t its GPU time),
// a step with the lane's own prompt max(t, dispatch). The closed form adds the same expected
// cost to its decode step, with q = min(1, a·chunks) (a prompts starting per step).
// Routed-expert GEMMs (moe.go) divide both roofs by moe_efficiency, except for a compute dtype
// listed in moe_gemm_efficiency_by_dtype: compute = FLOPs/(ceiling·η(m)·v) with v that entry
// (the fused-MoE kernel's grouped-GEMM efficiency; m the rows per expert) and memory at the
// dense rate. Experts whose stored dtype the GPU has no tensor cores for (MXFP4 on Hopper) are
// dequantised in the kernel and computed in 16 bits, as are MXFP4 experts on any GPU when the
// profile's mxfp4_moe_compute_dtype says the engine's MoE kernel takes 16-bit activations
// (TensorRT-LLM W4A16_MXFP4: compute = FLOPs/(bf16 ceiling·η(m)·moe_efficiency) where an unset
// field gives the FP4 ceiling, 4× higher on B200; "fp8" gives the FP8 ceiling); a storage dtype listed in
// moe_dequant_memory_efficiency streams their weights at bytes/(bandwidth·memory_efficiency·v)
// with v that entry, in place of moe_efficiency's memory factor.
// Engine support (support.go): New refuses, with one line naming the flag and what is
// allowed, an engine release that cannot run the deployment (TensorRT-LLM off NVIDIA, or from
// 1.0 on a GPU older than Ampere; attention DP + EP under vLLM before 0.8 or SGLang before
// 0.4), each refusal citing a support matrix or release notes; it predicts, with a warning
// (SupportError) saying what is not sourced, a release that may predate its GPU or layout.
// Calibrate reports each fitted parameter's sensitivity
// (RMS of ∂(relative error)/∂ln p) and relative standard error (√diag(s²(JᵀJ)⁻¹)), and
// CrossValidate fits on all groups but one. The package does no I/O except
// reading its embedded engine profiles, keeps no global state and uses randomness only from
// an explicit seed.
package estimator
