// Package estimator predicts LLM inference performance from first principles.
//
// A Deployment (model × GPU × TP/PP/DP/EP × dtypes × engine Profile) is built with New.
// From it:
//
//   - Memory plans one GPU's memory the way the engine does (vLLM, SGLang, TensorRT-LLM)
//     and gives the KV-cache capacity in tokens and the maximum concurrency;
//   - StepTime predicts one engine step (prefill chunks and decoding sequences) as a sum of
//     per-operator rooflines, max(FLOPs/(peak·η), bytes/(bandwidth·η)) + overhead, plus
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
// Efficiencies η are fractions of the target GPU's own peaks and overheads are times, so a
// Profile fitted on one GPU (Calibrate) applies to another. The package does no I/O except
// reading its embedded engine profiles, keeps no global state and uses randomness only from
// an explicit seed.
package estimator
