package main

import (
	"context"
	"fmt"
	"strings"

	"roofline/bench"
	"roofline/estimator"
	"roofline/internal/flagvalue"
	"roofline/validation"
)

const compareSynopsis = `compare --result FILE --gpu G [--model M] [--num-gpus N --tp …] [--engine E | --profile P]
       [--input-len I --output-len O] [--concurrency C | --request-rate R] [--num-requests N]
       [--select N] [--allow-definition-mismatch] [--max-error PCT] [-o table|json]

FILE is any result file that roofline import reads (vllm bench serve, SGLang, GenAI-Perf,
AIPerf, guidellm, inference-perf, or roofline bench JSON and --record lines). Lengths, load
(rate or concurrency), request count and model are taken from the file when it holds them;
a flag given on the command line wins, and the output says which values came from the file.
Every benchmark of a multi-run file is compared, or only --select N (1-based).
A metric whose definition in the file differs from roofline's (e.g. inference-perf's ITL on
re-tokenised text) is not compared unless --allow-definition-mismatch is given.`

func runCompare(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "compare", compareSynopsis+exitStatusHelp)
	var df deployFlags
	df.register(fs, true)
	var wf workloadFlags
	wf.register(fs)
	result := fs.String("result", "", "measured results: any file roofline import reads (required)")
	format := fs.String("format", "auto", "format of the result file: "+strings.Join(bench.Formats(), ", "))
	sel := fs.Int("select", 0, "compare only benchmark N (1-based) of a file holding several (0: all)")
	allowDef := fs.Bool("allow-definition-mismatch", false, "compare metrics whose definition in the file differs from roofline's")
	seed := fs.Uint64("seed", 1, "simulation seed")
	maxErr := flagvalue.NewFloat(fs, "max-error", 0, flagvalue.NonNegative, "exit with status 3 when a key metric is off by more than this percentage (0: no bound)")
	out := outputFlag(fs, "table", "json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *result == "" {
		return usageErr("compare: --result FILE is required")
	}
	if *sel < 0 {
		return usageErr("--select %d: must be ≥ 1 (0: every benchmark)", *sel)
	}
	ss, err := bench.ImportFile(*result, *format)
	if err != nil {
		return usageErr("--result %s: %v", *result, err)
	}
	if len(ss) == 0 {
		return usageErr("--result %s: no benchmark found", *result)
	}
	if *sel > len(ss) {
		return usageErr("--select %d: the file holds %d benchmark(s)", *sel, len(ss))
	}
	if *sel > 0 {
		ss = ss[*sel-1 : *sel]
	}
	var reports []validation.ComparisonReport
	worst := validation.Verdict{Status: validation.Agrees}
	for _, sum := range ss {
		wfi, dfi := wf, df
		hints, err := applyHints(fs.Changed, &wfi, &dfi, sum)
		label := sum.Source
		if sum.Name != "" {
			label += ": " + sum.Name
		}
		if err != nil {
			if len(ss) > 1 {
				return usageErr("--result %s, %s: %v (or --select N to compare one benchmark)", *result, label, err)
			}
			return usageErr("--result %s: %v", *result, err)
		}
		w, err := wfi.workload()
		if err != nil {
			return err
		}
		d, pv, err := dfi.build(ctx, e)
		if err != nil {
			return err
		}
		pred, err := d.Simulate(w, *seed)
		if err != nil {
			return err
		}
		r := validation.NewComparisonReport(d, pv, pred, sum, *maxErr, w.Kind == estimator.Rate)
		r.Benchmark = label
		r.Hints = hints
		r.ApplyDefinitions(sum, *allowDef, *maxErr)
		reports = append(reports, r)
		worst = validation.Worse(worst, r.VerdictOf)
	}
	// Printed once every benchmark is predicted: a benchmark that cannot be (lengths not
	// in the file) used to stop the command after the earlier tables were printed, with
	// exit 2 and, in JSON, nothing.
	if *out == "table" {
		for i, r := range reports {
			if i > 0 {
				fmt.Fprintln(e.stdout)
			}
			r.WriteText(e.stdout)
		}
	}
	if *out == "json" {
		if len(reports) == 1 {
			err = writeJSON(e.stdout, reports[0])
		} else {
			err = writeJSON(e.stdout, reports)
		}
		if err != nil {
			return err
		}
	}
	return verdictError("compare", worst, false)
}

// applyHints fills the workload and model flags the user did not give from the result
// file (validation.RunHints) and returns what it took.
func applyHints(changed func(string) bool, wf *workloadFlags, df *deployFlags, s bench.Summary) (map[string]string, error) {
	h := validation.RunHints{Model: df.model, InputLen: wf.inputLen, OutputLen: wf.outputLen, Concurrency: wf.concurrency,
		RequestRate: wf.rate, Burstiness: wf.burstiness, NumRequests: wf.numRequests}
	from, err := h.Fill(s, changed, df.modelFlag)
	df.model, wf.inputLen, wf.outputLen, wf.concurrency = h.Model, h.InputLen, h.OutputLen, h.Concurrency
	wf.rate, wf.burstiness, wf.numRequests = h.RequestRate, h.Burstiness, h.NumRequests
	return from, err
}
