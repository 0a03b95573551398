package validation

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"roofline/bench"
	"roofline/estimator"
)

// Comparison is one metric predicted and measured, in the metric's unit (ms or per second).
type Comparison struct {
	Metric    string   `json:"metric"`
	Predicted *float64 `json:"predicted"`
	Measured  *float64 `json:"measured"`
	ErrPct    *float64 `json:"error_pct"` // (predicted − measured)/measured, %
	Key       bool     `json:"key"`       // counted in the verdict
}

func fptr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// CompareMetrics lines up a prediction and a measured summary metric by metric and returns the
// rows and the verdict (Judge) against maxErr (%; ≤ 0 or +Inf for no bound). A NaN or infinite
// value on either side gives a nil pointer and no error.
//
// Key metrics (the verdict) are mean TTFT, TPOT and E2E, and output tok/s in closed loops; in an
// open loop throughput is set by the offered arrivals, so comparing a finite run's throughput
// with another draw of arrivals says nothing about the model. TPOT is not key when neither
// side has one: requests of one output token (predicted TPOT 0 at every percentile, the
// estimator's convention, and no measured TPOT, as bench leaves such requests out of it).
func CompareMetrics(p estimator.Serving, m bench.Summary, maxErr float64, openLoop bool) ([]Comparison, Verdict) {
	noTPOT := p.TPOT.Mean == 0 && p.TPOT.P99 == 0 && math.IsNaN(m.TPOT.Mean)
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
		{"tpot_ms_mean", p.TPOT.Mean, m.TPOT.Mean, !noTPOT},
		{"e2e_ms_mean", p.E2E.Mean, m.E2E.Mean, true},
		{"e2e_ms_p99", p.E2E.P99, m.E2E.P99, false},
		{"output_tok_s", p.OutputTokS, m.OutputTokS, !openLoop},
		{"request_per_s", p.RequestPerS, m.RequestPerS, false},
	}
	var out []Comparison
	for _, r := range rows {
		c := Comparison{Metric: r.name, Predicted: fptr(r.p), Measured: fptr(r.m), Key: r.key}
		if c.Predicted != nil && c.Measured != nil && *c.Measured != 0 {
			c.ErrPct = fptr(100 * (*c.Predicted - *c.Measured) / *c.Measured)
		}
		out = append(out, c)
	}
	succeeded := -1 // unknown: an imported file without a count of successful requests
	if m.Known(bench.FieldCompleted) {
		succeeded = m.Completed
	}
	return out, Judge(out, succeeded, m.Failed, maxErr)
}

// Verdict statuses (Verdict.Status).
const (
	// Agrees: every key metric measured and within the bound.
	Agrees = "agrees"
	// Differs: every key metric measured and one beyond the bound.
	Differs = "differs"
	// Unbounded: every key metric measured, no bound given; the largest error is reported.
	Unbounded = "unbounded"
	// NoVerdict: no successful request, or a key metric not measured (or measured as 0):
	// nothing can be said about the prediction.
	NoVerdict = "no_verdict"
)

// Verdict is the judgement of a prediction against a measurement.
type Verdict struct {
	Status string `json:"status"` // Agrees, Differs, Unbounded or NoVerdict
	Text   string `json:"text"`   // one line for people
	// MaxKeyErrPct is the largest |error %| over the key metrics; nil without a verdict.
	MaxKeyErrPct *float64 `json:"max_key_error_pct"`
	// BoundPct is the allowed |error %| (nil: no bound).
	BoundPct *float64 `json:"bound_pct"`
	// Missing lists the key metrics without an error (not measured, or measured as 0).
	Missing []string `json:"missing_key_metrics"`
	// Partial is set by MarkPartial when the measurement was interrupted.
	Partial bool `json:"partial"`
}

// Judge is the one place a verdict is computed. It refuses (NoVerdict) when no request
// succeeded (succeeded == 0; −1 means the count is unknown) or when a key metric has no
// error; otherwise it compares the largest key |error %| with maxErr (% ; ≤ 0 or +Inf: no
// bound, Unbounded). When requests failed, the line says the verdict covers only the
// successful ones.
func Judge(rows []Comparison, succeeded, failed int, maxErr float64) Verdict {
	v := Verdict{Missing: []string{}}
	if maxErr > 0 && !math.IsInf(maxErr, 1) {
		v.BoundPct = &maxErr
	}
	if succeeded == 0 {
		v.Status = NoVerdict
		v.Text = fmt.Sprintf("no verdict: no request succeeded (%d failed), nothing was measured", failed)
		return v
	}
	worst, keys := 0.0, 0
	for _, c := range rows {
		if !c.Key {
			continue
		}
		keys++
		if c.ErrPct == nil {
			v.Missing = append(v.Missing, c.Metric)
			continue
		}
		worst = math.Max(worst, math.Abs(*c.ErrPct))
	}
	if keys == 0 || len(v.Missing) > 0 {
		v.Status = NoVerdict
		v.Text = fmt.Sprintf("no verdict: key metric %s not measured (a verdict needs every key metric)", strings.Join(v.Missing, ", "))
		return v
	}
	v.MaxKeyErrPct = &worst
	switch {
	case v.BoundPct == nil:
		v.Status = Unbounded
		v.Text = fmt.Sprintf("largest key-metric error %s%% (no --max-error bound)", pct3(worst))
	case worst > maxErr:
		v.Status = Differs
		v.Text = fmt.Sprintf("differs: a key metric is %s%% off (bound %s%%)", pct3(worst), pct3(maxErr))
	default:
		v.Status = Agrees
		v.Text = fmt.Sprintf("agrees: every key metric within %s%%", pct3(maxErr))
	}
	if failed > 0 {
		// The metrics describe only the requests that succeeded; the line says so.
		if succeeded > 0 {
			v.Text += fmt.Sprintf(" — over the %d successful requests only: %d of %d failed", succeeded, failed, succeeded+failed)
		} else {
			v.Text += fmt.Sprintf(" — over the successful requests only: %d failed", failed)
		}
	}
	return v
}

// pct3 writes a percentage with 3 significant digits, without an exponent from 1000 on
// (%.3g wrote a 1000% bound as "1e+03%").
func pct3(x float64) string {
	if math.Abs(x) >= 1000 {
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.3g", x)
}

// MarkPartial marks a verdict as made on an interrupted run of done out of planned requests.
func (v *Verdict) MarkPartial(done, planned int) {
	v.Partial = true
	v.Text = fmt.Sprintf("partial (run interrupted after %d of %d requests): %s", done, planned, v.Text)
}

// ScheduledTimes returns the records' scheduled send times (s from the run's start) in
// ascending order: the arrivals a simulation of the same open-loop run replays.
func ScheduledTimes(recs []bench.Record) []float64 {
	out := make([]float64, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.ScheduledS)
	}
	sort.Float64s(out)
	return out
}

// RunFitParams are the profile parameters a live run refits (CalibrateFromRun).
var RunFitParams = []string{"memory_efficiency", "step_overhead_ms"}

// RunSamples turns a run's summary into the decode-step samples CalibrateFromRun fits:
// the mean running batch per lane by Little's law, b = request/s · (E2E − TTFT) / lanes,
// at the mean context input + output/2 tokens, with the measured mean TPOT and median
// ITL (seconds) as step times. It also returns b and the context. It fails when the run
// has no completed request with more than one token.
func RunSamples(d *estimator.Deployment, w estimator.Workload, s bench.Summary) ([]estimator.StepSample, int, int, error) {
	if s.Completed == 0 || math.IsNaN(s.TPOT.Mean) || s.TPOT.Mean <= 0 {
		return nil, 0, 0, fmt.Errorf("no completed requests with more than one token")
	}
	batch := int(math.Max(1, math.Round(s.RequestPerS*(s.E2E.Mean-s.TTFT.Mean)/1e3/float64(d.Lanes()))))
	ctx := w.InputLen + w.OutputLen/2
	sp := d.Spec
	samples := []estimator.StepSample{{Spec: sp, Phase: "decode", Batch: batch, Tokens: ctx, Measured: s.TPOT.Mean / 1e3}}
	if !math.IsNaN(s.ITL.Median) && s.ITL.Median > 0 {
		samples = append(samples, estimator.StepSample{Spec: sp, Phase: "decode", Batch: batch, Tokens: ctx, Measured: s.ITL.Median / 1e3})
	}
	return samples, batch, ctx, nil
}

// Recalibration is a profile refitted on a live run: the TOML to write and a one-line summary.
type Recalibration struct {
	TOML    []byte
	Message string
}

// CalibrateFromRun turns a run's summary into decode-step samples (the mean running batch by
// Little's law, b = request/s · (E2E − TTFT) / lanes, at the mean context input + output/2;
// measured TPOT and median ITL as step times) and refits the profile's memory efficiency and
// per-step overhead. now dates the profile's description. It fails when the run has no
// completed request with more than one token.
func CalibrateFromRun(d *estimator.Deployment, w estimator.Workload, s bench.Summary, now time.Time) (Recalibration, error) {
	samples, batch, ctx, err := RunSamples(d, w, s)
	if err != nil {
		return Recalibration{}, err
	}
	fit, err := estimator.Calibrate(samples, d.Profile, RunFitParams)
	if err != nil {
		return Recalibration{}, err
	}
	fit.Rename(d.Profile.Name, fmt.Sprintf("%s refitted on a live run (%d requests, %s)", d.Profile.Name, s.Completed, now.UTC().Format("2006-01-02")))
	toml, err := fit.ProfileTOML(fmt.Sprintf("# Written by roofline validate --calibrate-out: decode steps at batch %d, context %d; fit MAPE %.2f%% (base %.2f%%).\n", batch, ctx, fit.MAPE, fit.MAPE0))
	if err != nil {
		return Recalibration{}, err
	}
	return Recalibration{TOML: toml, Message: fmt.Sprintf("memory_efficiency, step_overhead_ms refitted; MAPE %.2f%% → %.2f%%", fit.MAPE0, fit.MAPE)}, nil
}
