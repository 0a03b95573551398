package validation_test

import (
	"math"
	"testing"

	"roofline/bench"
	"roofline/estimator"
	"roofline/validation"
)

// TestCompareOneOutputToken: with one output token per request neither side has a TPOT
// (the estimator predicts 0 by vllm bench serve's convention, bench leaves such requests
// out: NaN), so TPOT is not a key metric and the verdict stands on TTFT, E2E and
// throughput; compare answered "no verdict: key metric tpot_ms_mean not measured" (exit 4).
// A predicted TPOT above 0 with none measured is still no verdict. Errors by hand:
// TTFT (55 − 50)/50 = +10%, E2E (55 − 50)/50 = +10%, tok/s (20 − 20)/20 = 0.
func TestCompareOneOutputToken(t *testing.T) {
	nan := math.NaN()
	meas := bench.Summary{Completed: 10, TTFT: bench.Dist{Mean: 50}, TPOT: bench.Dist{Mean: nan, P99: nan}, E2E: bench.Dist{Mean: 50}, OutputTokS: 20}
	for _, tc := range []struct {
		name     string
		tpot     float64
		status   string
		worstPct float64
	}{
		{"one token: no TPOT either side", 0, validation.Agrees, 10},
		{"predicted TPOT, none measured", 8, validation.NoVerdict, 0},
	} {
		pred := estimator.Serving{TTFT: estimator.Dist{Mean: 55}, TPOT: estimator.Dist{Mean: tc.tpot, P99: tc.tpot}, E2E: estimator.Dist{Mean: 55}, OutputTokS: 20}
		_, v := validation.CompareMetrics(pred, meas, 15, false)
		if v.Status != tc.status {
			t.Errorf("%s: verdict %q (%s), want %q", tc.name, v.Status, v.Text, tc.status)
			continue
		}
		if tc.status == validation.Agrees && (v.MaxKeyErrPct == nil || math.Abs(*v.MaxKeyErrPct-tc.worstPct) > 1e-9) {
			t.Errorf("%s: worst key error %v, want %g%%", tc.name, v.MaxKeyErrPct, tc.worstPct)
		}
	}
}
