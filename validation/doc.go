// Package validation compares predictions with measurements: the accuracy evaluation over
// validation CSVs and the measured-versus-predicted comparison of one benchmark run.
//
// Accuracy: ReadRows parses the validation format (one measured number per row, header in
// Header; see data/validation/README.md), Predict predicts each row with the estimator
// (the seeded simulation by default, the closed form with Options.ClosedForm) and Summarise
// groups the errors:
//
//	error % = 100 · (predicted − measured) / measured      (signed; bias = its median)
//	APE %   = |error %|                                      (median, mean and p90 per group)
//
// Percentiles of APE use linear interpolation (estimator.Percentile). Rows whose id has the form
// "<run>-sN-<metric>" are load stages of one serving run: Summarise averages measured and
// predicted over the stages weighted by num_requests before computing the run's APE
// (Summary.ByRunMetric). Rows listed in data/validation/in_sample.txt were used to choose
// engine-profile constants (InSample); Summary.OutOfSample excludes them.
//
// Before predicting, CheckMeans tests each configuration's measured means against
//
//	E2E = TTFT + TPOT · (output_len − 1)                       (ms; exact for a fixed length)
//
// and where they differ by more than MeansTolerancePct (5%) withholds the configuration's
// TPOT and ITL rows (unpredicted, Reason says why; Summary.InconsistentMeans lists them):
// their token count is not output_len. E2E and TTFT, wall-clock timings, are still predicted.
//
// MLPerf Server and Interactive rows (tpot_limit_ms, ttft_limit_ms: the scenario's p99 bounds)
// are predicted as the harness ran them: the per-step token budget is the largest whose
// prefill step fits the TPOT bound (budgetForStep), and, as MLPerf reports the highest target
// QPS that meets both bounds, the latency rows are read at the deployment's own edge
//
//	λ* = max{ λ ≤ 0.98·capacity : p99 TPOT(λ) ≤ tpot_limit_ms and p99 TTFT(λ) ≤ ttft_limit_ms }   (req/s)
//
// with each λ simulated for max(1000, 1.2/(1 − ρ)²) requests per replica at its load ρ (a
// queue's relaxation time; atEdge); throughput rows stay at the row's offered rate.
//
// Intervals gives each predicted row the 80% interval of its cell (leave one out) and reports,
// per source, the share of out-of-sample rows inside it; sources with fewer than
// MinCoverageRows (20) rows, whose coverage has a binomial standard error √(0.8·0.2/n) above
// 8.9 points, are also reported as one pooled group. Leave one source out, a row counts only
// when some cell still has MinCellRows residuals without its source (Coverage.RowsLOSO): in a
// file of one or two sources there may be none, and the figure is then null, not 0%.
//
// Comparison: CompareMetrics lines up a prediction (estimator.Serving) and a measured
// bench.Summary metric by metric (ms for latencies, tok/s and req/s for throughput);
// CalibrateFromRun refits a profile on a run. NewComparisonReport wraps the comparison with
// its verdict and sources as "roofline compare" and "roofline validate" print it
// (ComparisonReport.WriteText, or JSON); ApplyDefinitions withholds metrics a result file
// defines otherwise; RunHints.Fill takes the model, lengths and load a result file
// describes for the flags not given.
package validation
