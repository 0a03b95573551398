package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"roofline/internal/progress"
	"sort"
	"text/tabwriter"
	"time"

	"roofline/bench"
	"roofline/estimator"
	"roofline/units"
	"roofline/validation"
)

type comparisonReport struct {
	// Benchmark names the measured benchmark (tool, and which run of a multi-run file).
	Benchmark string `json:"benchmark,omitempty"`
	// Hints are the workload values compare took from the result file (flag → value and where from).
	Hints map[string]string `json:"from_result_file,omitempty"`
	// DefinitionDifferences are the file's metrics defined otherwise than roofline's.
	DefinitionDifferences map[string]string       `json:"definition_differences,omitempty"`
	Model                 string                  `json:"model"`
	GPU                   string                  `json:"gpu"`
	Method                string                  `json:"prediction_method"`
	Metrics               []validation.Comparison `json:"metrics"`
	MaxKeyErr             *float64                `json:"max_key_error_pct"` // null without a verdict
	MaxError              float64                 `json:"max_error_pct_allowed"`
	Verdict               string                  `json:"verdict"`
	// VerdictOf is the verdict in full: status agrees, differs, unbounded or no_verdict,
	// the key metrics not measured, and whether the run was interrupted (partial).
	VerdictOf  validation.Verdict   `json:"verdict_detail"`
	Measured   bench.Summary        `json:"measured"`
	Predicted  estimator.Serving    `json:"predicted"`
	Provenance estimator.Provenance `json:"provenance"`
	Warnings   []string             `json:"warnings"`
}

// exitStatusHelp documents the exit status of validate and compare.
const exitStatusHelp = "\n\nExit status: 0 verdict agrees (or no --max-error bound); 2 bad input; 3 a key metric differs by more than --max-error;\n" +
	"4 no verdict (no request succeeded, or a key metric was not measured); 130 interrupted (the verdict printed is partial)."

// newComparison assembles the report of a prediction against a measured summary; maxErr ≤ 0
// means no bound. The verdict comes from validation.Judge, which refuses without data.
func newComparison(d *estimator.Deployment, pv estimator.Provenance, pred estimator.Serving, sum bench.Summary, maxErr float64, openLoop bool) comparisonReport {
	metrics, v := validation.CompareMetrics(pred, sum, maxErr, openLoop)
	return comparisonReport{Model: d.Model.ID, GPU: d.GPU.ID, Method: pred.Method, Metrics: metrics, MaxKeyErr: v.MaxKeyErrPct, MaxError: maxErr,
		Verdict: v.Text, VerdictOf: v, Measured: sum, Predicted: pred, Provenance: pv, Warnings: append(warnStrings(d.Warnings()), sum.Warnings...)}
}

// verdictError maps a verdict to the command's exit status (see exitStatusHelp);
// interrupted means the run was cut short (Ctrl-C) and wins over the verdict.
func verdictError(cmd string, v validation.Verdict, interrupted bool) error {
	switch {
	case interrupted:
		return &exitError{code: 130, err: fmt.Errorf("%s: interrupted; the verdict printed is partial", cmd)}
	case v.Status == validation.NoVerdict:
		return &exitError{code: 4, err: fmt.Errorf("%s: %s", cmd, v.Text)}
	case v.Status == validation.Differs:
		return &exitError{code: 3, err: fmt.Errorf("%s: key metric off by %.3g%% > --max-error %.3g%%", cmd, *v.MaxKeyErrPct, *v.BoundPct)}
	}
	return nil
}

func writeComparison(w io.Writer, r comparisonReport, format string) error {
	if format == "json" {
		return writeJSON(w, r)
	}
	if r.Benchmark != "" {
		fmt.Fprintf(w, "measured: %s\n", r.Benchmark)
	}
	if len(r.Hints) > 0 {
		keys := make([]string, 0, len(r.Hints))
		for k := range r.Hints {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "from the result file: --%s %s\n", k, r.Hints[k])
		}
	}
	fmt.Fprintf(w, "%s on %s: predicted (%s) vs measured\n", r.Model, r.GPU, r.Method)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tpredicted\tmeasured\terror %\t")
	s := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return units.Sig(*p)
	}
	for _, c := range r.Metrics {
		e := "-"
		if c.ErrPct != nil {
			e = fmt.Sprintf("%+.1f", *c.ErrPct)
		}
		k := ""
		if c.Key {
			k = "key"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Metric, s(c.Predicted), s(c.Measured), e, k)
	}
	tw.Flush()
	fmt.Fprintf(w, "verdict: %s\n", r.Verdict)
	fmt.Fprintf(w, "sources: model %s; GPU %s; %s\n", r.Provenance.Model, r.Provenance.GPU, r.Provenance.Profile)
	for _, x := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", x)
	}
	return nil
}

func runValidate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "validate", "validate --url URL --model SERVED --model-id M --gpu G [--num-gpus N --tp …] [--engine E | --profile P]\n       [--concurrency C | --request-rate R] [--num-requests N] --input-len I --output-len O [--max-error PCT] [--calibrate-out P.toml] [--record F.jsonl] [--output table|json]"+exitStatusHelp)
	var df deployFlags
	df.registerAs(fs, true, "model-id")
	url := fs.String("url", "", "server root or OpenAI base URL ending in /v1 (required)")
	api := fs.String("api", "chat", "endpoint: chat or completions")
	served := fs.String("model", "", "model name sent in requests (required)")
	var wf workloadFlags
	wf.register(fs)
	seed := fs.Uint64("seed", 1, "seed of arrivals, prompts and the simulation")
	warmup := fs.Int("warmup", 0, "requests sent before the run, not recorded")
	timeoutText := fs.String("timeout", "10m", "limit per request")
	keyEnv := fs.String("api-key-env", "", "environment variable holding the API key (default: OPENAI_API_KEY when set; never printed or recorded)")
	quiet := fs.BoolP("quiet", "q", false, "no progress on stderr (a bar on a terminal, a line every 5 s otherwise)")
	record := fs.String("record", "", "write one JSON line per request to this file")
	maxErr := floatFlag(fs, "max-error", 0, nonNegative, "exit with status 3 when a key metric (TTFT, TPOT, E2E means, output tok/s) is off by more than this percentage (0: no bound)")
	calOut := fs.String("calibrate-out", "", "refit the engine profile from this run and write it here")
	out := fs.StringP("output", "o", "table", "output format: table or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkOutput(*out, "table", "json"); err != nil {
		return err
	}
	if *url == "" || *served == "" {
		return usageErr("validate: --url and --model (the served model name) are required; --model-id names the architecture")
	}
	if wf.numRequests == 0 {
		wf.numRequests = 100
	}
	if wf.batchSize > 0 {
		return usageErr("validate: use --concurrency or --request-rate (a static batch cannot be sent by the live client)")
	}
	w, err := wf.workload()
	if err != nil {
		return err
	}
	if w.Kind == estimator.Offline {
		w.Kind, w.Concurrency = estimator.Concurrency, wf.numRequests
		wf.concurrency = wf.numRequests
	}
	d, pv, err := df.build(ctx, e)
	if err != nil {
		return err
	}
	timeout, err := parseDuration(*timeoutText)
	if err != nil {
		return usageErr("--timeout: %v", err)
	}
	if _, err := d.Simulate(w, *seed); err != nil { // fail before sending anything
		return err
	}
	cfg := bench.Config{URL: *url, API: *api, Model: *served, Concurrency: wf.concurrency, RequestRate: wf.rate,
		NumRequests: wf.numRequests, InputLen: wf.inputLen, OutputLen: wf.outputLen, PrefixLen: wf.prefixLen, Warmup: *warmup, Seed: *seed, Timeout: timeout}
	if wf.rate > 0 {
		cfg.Burstiness = wf.burstiness
	}
	if *keyEnv != "" {
		cfg.APIKey = e.getenv(*keyEnv)
	} else {
		cfg.APIKey = e.getenv("OPENAI_API_KEY")
	}
	if err := cfg.Validate(); err != nil {
		return usageErr("validate: %v", err)
	}
	var rec io.Writer = io.Discard
	if *record != "" {
		f, err := os.Create(*record)
		if err != nil {
			return usageErr("--record: %v", err)
		}
		defer f.Close()
		rec = f
	}
	prog := progress.New(e.stderr, "validate", "requests", cfg.NumRequests, *quiet)
	recs, runErr := bench.Run(ctx, cfg, func(r bench.Record) {
		bench.WriteRecord(rec, r)
		prog.Add(!r.OK())
	})
	prog.Done()
	sum := bench.Summarize(recs, bench.Options{})
	if w.Kind == estimator.Rate {
		w.Arrivals = validation.ScheduledTimes(recs)
	}
	pred, err := d.Simulate(w, *seed)
	if err != nil {
		return err
	}
	r := newComparison(d, pv, pred, sum, *maxErr, w.Kind == estimator.Rate)
	interrupted := ctx.Err() != nil || errors.Is(runErr, context.Canceled)
	if interrupted {
		r.VerdictOf.MarkPartial(sum.Completed+sum.Failed, wf.numRequests)
		r.Verdict = r.VerdictOf.Text
	}
	if runErr != nil {
		r.Warnings = append(r.Warnings, "run ended early: "+runErr.Error())
	}
	if *calOut != "" {
		rc, err := validation.CalibrateFromRun(d, w, sum, time.Now())
		if err == nil {
			err = os.WriteFile(*calOut, rc.TOML, 0o644)
		}
		if err != nil {
			r.Warnings = append(r.Warnings, "calibration: "+err.Error())
		} else {
			fmt.Fprintf(e.stderr, "validate: wrote %s (%s)\n", *calOut, rc.Message)
		}
	}
	if err := writeComparison(e.stdout, r, *out); err != nil {
		return err
	}
	return verdictError("validate", r.VerdictOf, interrupted)
}
