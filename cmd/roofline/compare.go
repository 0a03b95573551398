package main

import (
	"context"
	"os"
	"strings"

	"roofline/bench"
	"roofline/estimator"
)

func runCompare(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "compare", "compare --result FILE --model M --gpu G [--num-gpus N --tp …] [--engine E | --profile P] --input-len I --output-len O [--concurrency C | --request-rate R] [--num-requests N] [--output table|json]\n\nFILE is a roofline bench --record file (.jsonl) or a result file that roofline import reads."+exitStatusHelp)
	var df deployFlags
	df.register(fs, true)
	var wf workloadFlags
	wf.register(fs)
	result := fs.String("result", "", "measured results: a bench --record .jsonl file or a vllm bench serve / GenAI-Perf / guidellm / inference-perf file (required)")
	format := fs.String("format", "auto", "format of a result file: auto, "+strings.Join(bench.Formats(), ", "))
	seed := fs.Uint64("seed", 1, "simulation seed")
	maxErr := floatFlag(fs, "max-error", 0, nonNegative, "exit with status 3 when a key metric is off by more than this percentage (0: no bound)")
	out := fs.StringP("output", "o", "table", "output format: table or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkOutput(*out, "table", "json"); err != nil {
		return err
	}
	if *result == "" {
		return usageErr("compare: --result FILE is required")
	}
	f, err := os.Open(*result)
	if err != nil {
		return usageErr("--result: %v", err)
	}
	defer f.Close()
	var sum bench.Summary
	if strings.HasSuffix(*result, ".jsonl") {
		recs, err := bench.ReadRecords(f)
		if err != nil {
			return usageErr("--result %s: %v", *result, err)
		}
		sum = bench.Summarize(recs, bench.Options{})
	} else {
		ss, err := bench.Import(f, *format)
		if err != nil {
			return usageErr("--result %s: %v", *result, err)
		}
		if len(ss) == 0 {
			return usageErr("--result %s: no benchmark found", *result)
		}
		sum = ss[0]
	}
	if wf.numRequests == 0 && sum.Completed > 0 {
		wf.numRequests = sum.Completed + sum.Failed
	}
	w, err := wf.workload()
	if err != nil {
		return err
	}
	d, pv, err := df.build(ctx, e)
	if err != nil {
		return err
	}
	pred, err := d.Simulate(w, *seed)
	if err != nil {
		return err
	}
	r := newComparison(d, pv, pred, sum, *maxErr, w.Kind == estimator.Rate)
	if err := writeComparison(e.stdout, r, *out); err != nil {
		return err
	}
	return verdictError("compare", r.VerdictOf, false)
}
