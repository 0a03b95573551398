package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"roofline/bench"
	"roofline/estimator"
	"roofline/internal/flagvalue"
	"roofline/units"
	"roofline/validation"
)

// exitStatusHelp documents the exit status of validate and compare.
const exitStatusHelp = "\n\nExit status: 0 verdict agrees (or no --max-error bound); 2 bad input; 3 a key metric differs by more than --max-error;\n" +
	"4 no verdict (no request succeeded, or a key metric was not measured); 130 interrupted (the verdict printed is partial)."

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
	maxErr := flagvalue.NewFloat(fs, "max-error", 0, flagvalue.NonNegative, "exit with status 3 when a key metric (TTFT, TPOT, E2E means, output tok/s) is off by more than this percentage (0: no bound)")
	calOut := fs.String("calibrate-out", "", "refit the engine profile from this run and write it here")
	out := outputFlag(fs, "table", "json")
	if err := parseFlags(fs, args); err != nil {
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
	timeout, err := units.ParseDuration(*timeoutText)
	if err != nil {
		return usageErr("--timeout: %v", err)
	}
	if _, err := d.Simulate(w, *seed); err != nil { // fail before sending anything
		return err
	}
	if *calOut != "" {
		// An unwritable --calibrate-out surfaced only as a warning after the whole run.
		if fi, err := os.Stat(filepath.Dir(*calOut)); err != nil || !fi.IsDir() {
			return usageErr("--calibrate-out %s: its directory %s does not exist", *calOut, filepath.Dir(*calOut))
		}
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
	recs, runErr, err := runRecorded(ctx, e, cfg, "validate", *record, *quiet)
	if err != nil {
		return err
	}
	sum := bench.Summarize(recs, bench.Options{})
	if w.Kind == estimator.Rate {
		w.Arrivals = validation.ScheduledTimes(recs)
	}
	pred, err := d.Simulate(w, *seed)
	if err != nil {
		return err
	}
	r := validation.NewComparisonReport(d, pv, pred, sum, *maxErr, w.Kind == estimator.Rate)
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
	if err := render(e.stdout, *out, r, r.WriteText); err != nil {
		return err
	}
	return verdictError("validate", r.VerdictOf, interrupted)
}
