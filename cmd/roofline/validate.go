package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"roofline/bench"
	"roofline/estimator"
	"roofline/units"
)

// comparison is one metric predicted and measured.
type comparison struct {
	Metric    string   `json:"metric"`
	Predicted *float64 `json:"predicted"`
	Measured  *float64 `json:"measured"`
	ErrPct    *float64 `json:"error_pct"` // (predicted − measured)/measured
	Key       bool     `json:"key"`       // counted in the verdict
}

type comparisonReport struct {
	Model      string            `json:"model"`
	GPU        string            `json:"gpu"`
	Method     string            `json:"prediction_method"`
	Metrics    []comparison      `json:"metrics"`
	MaxKeyErr  float64           `json:"max_key_error_pct"`
	MaxError   float64           `json:"max_error_pct_allowed"`
	Verdict    string            `json:"verdict"`
	Measured   bench.Summary     `json:"measured"`
	Predicted  estimator.Serving `json:"predicted"`
	Provenance provenance        `json:"provenance"`
	Warnings   []string          `json:"warnings"`
}

func fptr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// compareMetrics lines up a prediction and a measured summary metric by metric.
//
// Key metrics (the verdict) are mean TTFT, TPOT and E2E, and output tok/s in closed loops; in an
// open loop throughput is set by the offered arrivals, so comparing a finite run's throughput
// with another draw of arrivals says nothing about the model.
func compareMetrics(p estimator.Serving, m bench.Summary, maxErr float64, openLoop bool) ([]comparison, float64, string) {
	rows := []struct {
		name string
		p, m float64
		key  bool
	}{
		{"ttft_ms_mean", p.TTFT.Mean, m.TTFT.Mean, true},
		{"ttft_ms_median", p.TTFT.Median, m.TTFT.Median, false},
		{"ttft_ms_p99", p.TTFT.P99, m.TTFT.P99, false},
		{"itl_ms_mean", p.ITL.Mean, m.ITL.Mean, false},
		{"itl_ms_median", p.ITL.Median, m.ITL.Median, false},
		{"tpot_ms_mean", p.TPOT.Mean, m.TPOT.Mean, true},
		{"e2e_ms_mean", p.E2E.Mean, m.E2E.Mean, true},
		{"e2e_ms_p99", p.E2E.P99, m.E2E.P99, false},
		{"output_tok_s", p.OutputTokS, m.OutputTokS, !openLoop},
		{"request_per_s", p.RequestPerS, m.RequestPerS, false},
	}
	var out []comparison
	worst := 0.0
	for _, r := range rows {
		c := comparison{Metric: r.name, Predicted: fptr(r.p), Measured: fptr(r.m), Key: r.key}
		if c.Predicted != nil && c.Measured != nil && *c.Measured != 0 {
			c.ErrPct = fptr(100 * (*c.Predicted - *c.Measured) / *c.Measured)
			if r.key && c.ErrPct != nil {
				worst = math.Max(worst, math.Abs(*c.ErrPct))
			}
		}
		out = append(out, c)
	}
	verdict := fmt.Sprintf("agrees: every key metric within %.3g%%", maxErr)
	if worst > maxErr {
		verdict = fmt.Sprintf("differs: a key metric is %.3g%% off (bound %.3g%%)", worst, maxErr)
	}
	return out, worst, verdict
}

// newComparison assembles the report of a prediction against a measured summary; maxErr ≤ 0
// means no bound.
func newComparison(d *estimator.Deployment, pv provenance, pred estimator.Serving, sum bench.Summary, maxErr float64, openLoop bool) comparisonReport {
	metrics, worst, verdict := compareMetrics(pred, sum, maxOr(maxErr), openLoop)
	if maxErr <= 0 {
		verdict = fmt.Sprintf("largest key-metric error %.3g%% (no --max-error bound)", worst)
	}
	return comparisonReport{Model: d.Model.ID, GPU: d.GPU.ID, Method: pred.Method, Metrics: metrics, MaxKeyErr: worst, MaxError: maxErr,
		Verdict: verdict, Measured: sum, Predicted: pred, Provenance: pv, Warnings: append(warnStrings(d.Warnings()), sum.Warnings...)}
}

func writeComparison(w io.Writer, r comparisonReport, format string) error {
	if format == "json" {
		return writeJSON(w, r)
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
	fs := newFlags(e, "validate", "validate --url URL --model SERVED --model-id M --gpu G [--num-gpus N --tp …] [--engine E | --profile P]\n       [--concurrency C | --request-rate R] [--num-requests N] --input-len I --output-len O [--max-error PCT] [--calibrate-out P.toml] [--record F.jsonl] [--output table|json]")
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
	keyEnv := fs.String("api-key-env", "", "environment variable holding the API key")
	record := fs.String("record", "", "write one JSON line per request to this file")
	maxErr := fs.Float64("max-error", 0, "exit with status 3 when a key metric (TTFT, TPOT, E2E means, output tok/s) is off by more than this percentage (0: never)")
	calOut := fs.String("calibrate-out", "", "refit the engine profile from this run and write it here")
	out := fs.String("output", "table", "output format: table or json")
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
	recs, runErr := bench.Run(ctx, cfg, func(r bench.Record) { bench.WriteRecord(rec, r) })
	sum := bench.Summarize(recs, bench.Options{})
	if w.Kind == estimator.Rate {
		w.Arrivals = scheduledTimes(recs)
	}
	pred, err := d.Simulate(w, *seed)
	if err != nil {
		return err
	}
	r := newComparison(d, pv, pred, sum, *maxErr, w.Kind == estimator.Rate)
	worst := r.MaxKeyErr
	if runErr != nil {
		r.Warnings = append(r.Warnings, "run ended early: "+runErr.Error())
	}
	if *calOut != "" {
		if err := calibrateFromRun(d, w, sum, *calOut, e.stderr); err != nil {
			r.Warnings = append(r.Warnings, "calibration: "+err.Error())
		}
	}
	if err := writeComparison(e.stdout, r, *out); err != nil {
		return err
	}
	if runErr != nil && sum.Completed == 0 {
		return fmt.Errorf("validate: %v", runErr)
	}
	if *maxErr > 0 && worst > *maxErr {
		return &exitError{code: 3, err: fmt.Errorf("validate: key metric off by %.3g%% > --max-error %.3g%%", worst, *maxErr)}
	}
	return nil
}

func maxOr(v float64) float64 {
	if v <= 0 {
		return math.Inf(1)
	}
	return v
}

// calibrateFromRun turns a run's summary into decode-step samples (the mean running batch by
// Little's law at the mean context, measured TPOT and median ITL as step times) and refits the
// profile's memory efficiency and per-step overhead.
func calibrateFromRun(d *estimator.Deployment, w estimator.Workload, s bench.Summary, file string, log io.Writer) error {
	if s.Completed == 0 || math.IsNaN(s.TPOT.Mean) || s.TPOT.Mean <= 0 {
		return fmt.Errorf("no completed requests with more than one token")
	}
	batch := int(math.Max(1, math.Round(s.RequestPerS*(s.E2E.Mean-s.TTFT.Mean)/1e3/float64(d.Lanes()))))
	ctx := w.InputLen + w.OutputLen/2
	sp := d.Spec
	samples := []estimator.StepSample{{Spec: sp, Phase: "decode", Batch: batch, Tokens: ctx, Measured: s.TPOT.Mean / 1e3}}
	if !math.IsNaN(s.ITL.Median) && s.ITL.Median > 0 {
		samples = append(samples, estimator.StepSample{Spec: sp, Phase: "decode", Batch: batch, Tokens: ctx, Measured: s.ITL.Median / 1e3})
	}
	fit, err := estimator.Calibrate(samples, d.Profile, []string{"memory_efficiency", "step_overhead_ms"})
	if err != nil {
		return err
	}
	fit.Profile.Name = strings.TrimSuffix(d.Profile.Name, "-calibrated") + "-calibrated"
	fit.Profile.Description = fmt.Sprintf("%s refitted on a live run (%d requests, %s)", d.Profile.Name, s.Completed, time.Now().UTC().Format("2006-01-02"))
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Written by roofline validate --calibrate-out: decode steps at batch %d, context %d; fit MAPE %.2f%% (base %.2f%%).\n", batch, ctx, fit.MAPE, fit.MAPE0)
	if err := fit.Profile.WriteTOML(&buf); err != nil {
		return err
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(log, "validate: wrote %s (memory_efficiency, step_overhead_ms refitted; MAPE %.2f%% → %.2f%%)\n", file, fit.MAPE0, fit.MAPE)
	return nil
}

// scheduledTimes returns the records' scheduled send times in ascending order.
func scheduledTimes(recs []bench.Record) []float64 {
	out := make([]float64, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.ScheduledS)
	}
	sort.Float64s(out)
	return out
}
