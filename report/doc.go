// Package report holds the documents roofline prints (estimate, sweep, plan, memory, step,
// calibration) with their text, markdown and CSV renderers, and renders any of roofline's
// JSON results (estimate, sweep, accuracy, …) as one self-contained HTML page with inline
// SVG plots drawn by gonum/plot.
//
//	kind, err := report.Render(w, jsonBytes)
//
// The kind is detected from the document: a sweep has "evaluated" and "configs", an
// estimate has "model_info" and "server_config", an accuracy report has "rows" and
// "summary". The page loads nothing from the network: styles are inline and each plot is an
// <svg> element. Every axis names its unit.
//
// # Estimate
//
// Estimate is the document of "roofline estimate" (NewEstimate), rendered as text or
// markdown (WriteEstimateText), CSV (WriteEstimateCSV) or JSON. Beside estimator.Serving it
// holds:
//
//   - output_tok_s_per_gpu = output tok/s ÷ GPUs, total_tok_s_per_gpu likewise;
//   - kv_cache_tokens = KV tokens per replica × dp; max_concurrency = sequences of
//     input+output tokens per replica × dp;
//   - cost (estimator.CostOf): USD per hour = price per GPU-hour × GPUs; per 1M output
//     tokens = USD per hour ÷ (3600 × output tok/s) × 1e6, split by the prefill share;
//   - power_cost_usd_per_hour = TDP (W) ÷ 1000 × USD/kWh × GPUs;
//   - energy_j_per_1k_output_tokens = TDP × GPUs ÷ output tok/s × 1000;
//   - intervals: 80% prediction intervals per headline metric from the out-of-sample
//     residuals of the validation data (validation.EmbeddedIntervals); the cost interval
//     follows the throughput's.
//
// WriteTechniqueText renders estimator.CompareTechnique's two columns.
//
// # Other documents
//
// Sweep (NewSweep) ranks estimator.Sweep's points and adds their launch commands; Plan
// (NewPlan) is estimator.Planner's cheapest fleet per GPU; DisaggSweep is
// estimator.SweepDisagg's xPyD splits; Memory (NewMemory) is Deployment.Memory's plan per
// GPU; Step (NewStep) and PredictSteps are Deployment.StepTime's step times, with error =
// 100·(predicted − measured)/measured; WriteFitText renders estimator.Calibrate's fit. The
// formulas are those functions' own.
package report
