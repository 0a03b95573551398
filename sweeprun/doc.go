// Package sweeprun runs a sweep for real: for every server configuration it starts the
// inference server with its native arguments, waits until it answers, benchmarks it
// with package bench for every client configuration, stops it, and writes each run
// beside the estimator's prediction of the same deployment and load. It is the loop of
// BentoML's llm-optimizer, with a prediction next to every measurement.
//
// # Grids
//
// Server and client arguments use llm-optimizer's grammar (ParseGrid):
// "tp_size*dp_size=[(1,4),(2,2)];max_num_seqs=[64,256]" is four configurations; '*' ties
// names that vary together and ';' separates independent ones. Launcher maps neutral
// names to each framework's flags (tp_size → --tensor-parallel-size for vllm serve,
// --tp-size for sglang, --tp_size for trtllm-serve; max_num_seqs → OLLAMA_NUM_PARALLEL
// for ollama serve), or fills a --server-cmd template's {name} and {port} placeholders.
//
// # One run
//
// A server runs under /bin/sh in a process group of its own, its stdout and stderr
// appended to logs/NNN.log, on a loopback port that was free a moment before (unless
// Launcher.Host says otherwise). It is ready when one of the ready paths answers HTTP 200
// (polled every 0.1 s, doubling to 1 s). It is stopped by SIGTERM to the whole group,
// then SIGKILL to the group after the grace period, so that no worker or runner it
// started outlives it. A server that exits before it is ready is server_failed; one that
// does not answer in time is not_ready; one that dies during a benchmark, or a benchmark
// in which no request succeeded, is bench_failed; each is recorded with the exit status
// and the last 20 lines of its log, and the sweep goes on. Ctrl-C (ctx) records the run
// in progress as interrupted, stops the server and ends the sweep.
//
// # Results
//
// results.jsonl holds one Result per server × client configuration, appended as each
// finishes. Measured is bench.Summary (latencies in ms, rates in tok/s and req/s);
// Predicted is the estimator's discrete-event simulation of the same deployment and
// load (estimator.Serving, same units), or null with predicted_reason. ErrorPct is
// 100·(predicted − measured)/measured per metric, the sign convention of
// "roofline validate": positive means the prediction is higher.
//
// Constraints (estimator.ParseConstraint) are applied to the measured summaries; the
// measured Pareto front is taken over output tok/s per GPU (output tok/s ÷ the GPUs of
// the configuration, tp·pp·dp) against the mean per-request output tok/s, both
// maximised, among the ok runs that meet every constraint.
package sweeprun
