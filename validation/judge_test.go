package validation

import "testing"

// TestJudgeText checks the verdict line for errors and bounds on both sides of 1000%: %.3g
// wrote them as "1e+03%". Expected texts are hand-written: |error| is the largest key
// metric's, the bound is --max-error.
func TestJudgeText(t *testing.T) {
	row := func(errPct float64) []Comparison {
		return []Comparison{{Metric: "ttft_ms_mean", ErrPct: &errPct, Key: true}}
	}
	for _, c := range []struct {
		name         string
		errPct, max  float64
		status, text string
	}{
		{"unbounded small", -12.345, 0, Unbounded, "largest key-metric error 12.3% (no --max-error bound)"},
		{"unbounded 1500%", 1500, 0, Unbounded, "largest key-metric error 1500% (no --max-error bound)"},
		{"agrees within 1000%", 150, 1000, Agrees, "agrees: every key metric within 1000%"},
		{"differs beyond 1000%", -2345.6, 1000, Differs, "differs: a key metric is 2346% off (bound 1000%)"},
		{"differs small", 30, 25, Differs, "differs: a key metric is 30% off (bound 25%)"},
	} {
		v := Judge(row(c.errPct), 10, 0, c.max)
		if v.Status != c.status || v.Text != c.text {
			t.Errorf("%s: %s %q, want %s %q", c.name, v.Status, v.Text, c.status, c.text)
		}
	}
	// 4 of 6 requests succeeded (2 HTTP 500): the metrics cover those 4 and the line says so.
	v := Judge(row(5), 4, 2, 25)
	if want := "agrees: every key metric within 25% — over the 4 successful requests only: 2 of 6 failed"; v.Status != Agrees || v.Text != want {
		t.Errorf("with failures: %s %q, want agrees %q", v.Status, v.Text, want)
	}
}
