package estimator

import (
	"math"
	"testing"
)

// TestCostOf: a hand-worked case. A $10/hour fleet producing 1000 output tok/s and
// 4000 input tok/s (5000 total), 2 requests/s, 20% of GPU time in prefill:
//
//	all-in: 10 / (1000·3600) · 1e6 = $2.7778 per 1M output tokens;
//	split: input 10·0.2 / (4000·3600) · 1e6 = $0.13889, output 10·0.8 / (1000·3600) · 1e6 = $2.2222;
//	per request 10 / (2·3600) = $0.0013889.
func TestCostOf(t *testing.T) {
	s := &Serving{OutputTokS: 1000, TotalTokS: 5000, RequestPerS: 2, PrefillShare: 0.2}
	c, ok := CostOf(10, s)
	want := Cost{PerHour: 10, Per1MOutput: 2.7777777778, Per1MInputSplit: 0.1388888889, Per1MOutputSplit: 2.2222222222, PerRequest: 0.0013888889}
	for _, f := range []struct {
		name      string
		got, want float64
	}{{"per hour", c.PerHour, want.PerHour}, {"all-in output", c.Per1MOutput, want.Per1MOutput},
		{"input split", c.Per1MInputSplit, want.Per1MInputSplit}, {"output split", c.Per1MOutputSplit, want.Per1MOutputSplit},
		{"per request", c.PerRequest, want.PerRequest}} {
		if !ok || math.Abs(f.got-f.want) > 1e-9*f.want+1e-10 {
			t.Errorf("%s: %v (ok %v), want %v", f.name, f.got, ok, f.want)
		}
	}
	// Input and output split costs add back up to the fleet's cost per hour.
	if h := (c.Per1MInputSplit*4000 + c.Per1MOutputSplit*1000) * 3600 / 1e6; math.Abs(h-10) > 1e-9 {
		t.Errorf("split costs add up to $%v/hour, want $10", h)
	}
	for _, bad := range []struct {
		price float64
		s     Serving
	}{{0, *s}, {10, Serving{}}, {10, Serving{OutputTokS: 1, Overloaded: true}}} {
		if _, ok := CostOf(bad.price, &bad.s); ok {
			t.Errorf("price %v, %+v: cost reported, want none", bad.price, bad.s)
		}
	}
}
