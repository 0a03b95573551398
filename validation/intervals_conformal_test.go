package validation

import (
	"math"
	"testing"
)

// TestConformalBounds checks the finite-sample ranks of an 80% interval by hand: with n
// residuals 1…n, the upper bound is the ⌈0.9(n+1)⌉-th and the lower the ⌊0.1(n+1)⌋-th
// (Lei et al. 2018, §2.2): n = 20 → 2 and 19; n = 9 → 1 and 9; n = 600 → 60 and 541;
// n = 1 → the one residual both ways.
func TestConformalBounds(t *testing.T) {
	for _, c := range []struct{ n, lo, hi int }{{20, 2, 19}, {9, 1, 9}, {600, 60, 541}, {1, 1, 1}, {4, 1, 4}} {
		s := make([]float64, c.n)
		for i := range s {
			s[i] = float64(i + 1)
		}
		lo, hi := conformalBounds(s)
		if lo != float64(c.lo) || hi != float64(c.hi) {
			t.Errorf("n = %d: bounds %g, %g; want the %d-th and %d-th residual", c.n, lo, hi, c.lo, c.hi)
		}
	}
}

// TestNearCapacityCells: online rows predicted at or above NearCapacityLoad of the
// sustainable rate get their own cells. 30 light rows with residual 0.1 and 30 near-capacity
// rows with residual 1.0 (by hand: each cell's upper rank ⌈0.9·31⌉ = 28 is its constant),
// so a query at load 0.9 gets the wide bound e^1.0 and one at load 0.5 the narrow e^0.1.
func TestNearCapacityCells(t *testing.T) {
	if WorkloadClass("rate", 0.85) != "online-near-capacity" || WorkloadClass("concurrency", 0.5) != "online" || WorkloadClass("offline", 0.95) != "offline" {
		t.Fatal("WorkloadClass does not split online rows at NearCapacityLoad")
	}
	var res []Result
	for i := 0; i < 60; i++ {
		p, load, d := 100.0, 0.5, 0.1
		if i%2 == 1 {
			load, d = 0.9, 1.0
		}
		res = append(res, Result{ID: "X-1", Engine: "vllm", Metric: "ttft_ms_mean", Workload: "rate", ModelClass: "dense",
			Vendor: "nvidia", GPUID: "h100", Profile: "vllm", Load: load, Measured: p * math.Exp(d), Predicted: &p})
	}
	tab := BuildIntervals(res, nil)
	for _, c := range []struct{ load, logHi float64 }{{0.9, 1.0}, {0.5, 0.1}} {
		q := Query{Engine: "vllm", Metric: "ttft_ms_mean", Workload: "rate", ModelClass: "dense", Vendor: "nvidia", GPU: "h100", Profile: "vllm", Load: c.load, Value: 100}
		iv, ok := tab.Interval(q)
		if !ok || math.Abs(iv.Hi-100*math.Exp(c.logHi)) > 1e-9 {
			t.Errorf("load %g: interval %+v (ok %v), want hi = 100·e^%g", c.load, iv, ok, c.logHi)
		}
	}
}
