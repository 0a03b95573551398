package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"roofline/bench"
	"roofline/estimator"
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
	if *sel < 0 {
		return usageErr("--select %d: must be ≥ 1 (0: every benchmark)", *sel)
	}
	f, err := os.Open(*result)
	if err != nil {
		return usageErr("--result: %v", err)
	}
	ss, err := bench.Import(f, *format)
	f.Close()
	if st, serr := os.Stat(*result); err != nil && serr == nil && st.Size() == 0 {
		// An empty --record file: a run that recorded no request (nothing to judge).
		s := bench.Summarize(nil, bench.Options{})
		s.Warnings = append(s.Warnings, "the result file is empty: no request was recorded")
		ss, err = []bench.Summary{s}, nil
	}
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
	var reports []comparisonReport
	worst := validation.Verdict{Status: validation.Agrees}
	for i, sum := range ss {
		wfi, dfi := wf, df
		hints, err := applyHints(fs.Changed, &wfi, &dfi, sum)
		label := sum.Source
		if sum.Name != "" {
			label += ": " + sum.Name
		}
		if err != nil {
			if len(ss) > 1 {
				return usageErr("--result %s, %s: %v", *result, label, err)
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
		r := newComparison(d, pv, pred, sum, *maxErr, w.Kind == estimator.Rate)
		r.Benchmark = label
		r.Hints = hints
		applyDefinitions(&r, sum, *allowDef, *maxErr)
		reports = append(reports, r)
		if len(ss) > 1 && *out == "table" && i > 0 {
			fmt.Fprintln(e.stdout)
		}
		if *out == "table" {
			if err := writeComparison(e.stdout, r, *out); err != nil {
				return err
			}
		}
		switch {
		case r.VerdictOf.Status == validation.NoVerdict:
			worst = r.VerdictOf
		case r.VerdictOf.Status == validation.Differs && worst.Status != validation.NoVerdict:
			worst = r.VerdictOf
		case r.VerdictOf.Status == validation.Unbounded && worst.Status == validation.Agrees:
			worst = r.VerdictOf
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

// applyHints fills the workload and model flags the user did not give from what the
// result file says was run, and returns what it took ("input-len" → "1024 (mean of
// the file's token totals)"). A value it needs and cannot find is an error naming the
// flag.
func applyHints(changed func(string) bool, wf *workloadFlags, df *deployFlags, s bench.Summary) (map[string]string, error) {
	h := map[string]string{}
	r := s.Run
	if !changed(df.modelFlag) && df.model == "" {
		if r.Model == "" {
			return nil, fmt.Errorf("--%s: the file does not name the model; give --%s", df.modelFlag, df.modelFlag)
		}
		df.model = r.Model
		h[df.modelFlag] = r.Model
	}
	lenFrom := "from the file"
	if r.LenSource != "" {
		lenFrom = r.LenSource
	}
	for _, l := range []struct {
		flag string
		dst  *int
		v    *float64
	}{{"input-len", &wf.inputLen, r.InputLen}, {"output-len", &wf.outputLen, r.OutputLen}} {
		if changed(l.flag) {
			continue
		}
		if l.v == nil || !(*l.v >= 1) {
			return nil, fmt.Errorf("--%s: not in the file (nor its token totals); give --%s", l.flag, l.flag)
		}
		*l.dst = int(math.Round(*l.v))
		h[l.flag] = fmt.Sprintf("%d (%s)", *l.dst, lenFrom)
	}
	loadGiven := changed("concurrency") || changed("request-rate") || changed("batch-size")
	if !loadGiven {
		switch {
		case r.RequestRate != nil && math.IsInf(*r.RequestRate, 1) && r.Concurrency != nil:
			wf.concurrency = *r.Concurrency
			h["concurrency"] = fmt.Sprintf("%d (all requests at once, at most %d in flight)", *r.Concurrency, *r.Concurrency)
		case r.RequestRate != nil && math.IsInf(*r.RequestRate, 1):
			if r.NumRequests == nil {
				return nil, fmt.Errorf("--concurrency: the file sent every request at once but does not say how many; give --concurrency or --num-requests")
			}
			wf.concurrency = *r.NumRequests
			h["concurrency"] = fmt.Sprintf("%d (all requests at once)", *r.NumRequests)
		case r.RequestRate != nil:
			wf.rate = *r.RequestRate
			h["request-rate"] = strconv.FormatFloat(*r.RequestRate, 'g', -1, 64) + " req/s"
			if r.Burstiness != nil && !changed("burstiness") {
				wf.burstiness = *r.Burstiness
				h["burstiness"] = strconv.FormatFloat(*r.Burstiness, 'g', -1, 64)
			}
			if r.Concurrency != nil {
				h["note"] = fmt.Sprintf("the run also capped requests in flight at %d; the prediction is open loop without a cap", *r.Concurrency)
			}
		case r.Concurrency != nil:
			wf.concurrency = *r.Concurrency
			h["concurrency"] = strconv.Itoa(*r.Concurrency)
		default:
			return nil, fmt.Errorf("--concurrency or --request-rate: the file does not say what load was run; give one")
		}
	}
	if !changed("num-requests") && wf.numRequests == 0 {
		switch {
		case r.NumRequests != nil:
			wf.numRequests = *r.NumRequests
			h["num-requests"] = strconv.Itoa(*r.NumRequests)
		case s.Known(bench.FieldCompleted) && s.Completed > 0:
			wf.numRequests = s.Completed
			how := " (completed; the file gives no failure count)"
			if s.Known(bench.FieldFailed) {
				wf.numRequests += s.Failed
				how = " (completed + failed)"
			}
			h["num-requests"] = strconv.Itoa(wf.numRequests) + how
		}
	}
	if len(h) == 0 {
		return nil, nil
	}
	return h, nil
}

// applyDefinitions withholds the comparison of metrics whose definition in the file
// differs from roofline's (unless allowed), saying why, and judges the verdict again.
func applyDefinitions(r *comparisonReport, s bench.Summary, allow bool, maxErr float64) {
	if len(s.Definitions) == 0 {
		return
	}
	keys := make([]string, 0, len(s.Definitions))
	for k := range s.Definitions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		why := s.Definitions[k]
		touched := false
		for i := range r.Metrics {
			c := &r.Metrics[i]
			if !strings.HasPrefix(c.Metric, k+"_") && c.Metric != k {
				continue
			}
			touched = true
			if !allow {
				c.Measured, c.ErrPct = nil, nil
			}
		}
		if !touched {
			continue
		}
		if allow {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s compared although its definition differs (--allow-definition-mismatch): %s", k, why))
		} else {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s not compared: %s; --allow-definition-mismatch compares it anyway", k, why))
		}
		r.DefinitionDifferences = s.Definitions
	}
	if !allow {
		succeeded := -1
		if s.Known(bench.FieldCompleted) {
			succeeded = s.Completed
		}
		v := validation.Judge(r.Metrics, succeeded, s.Failed, maxErr)
		r.VerdictOf, r.Verdict, r.MaxKeyErr = v, v.Text, v.MaxKeyErrPct
	}
}
