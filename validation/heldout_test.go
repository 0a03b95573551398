package validation

import (
	"math"
	"testing"
)

// TestHeldOutBySource: the summary splits every source and model that has in-sample rows
// into its held-out part. Source A has two in-sample rows (errors +50%, +60%) and three held
// out (+10%, −20%, +30%: median APE 20% by hand); source B has no in-sample row and is not
// listed (its figure is already whole in "by source"); C is all in-sample: listed with nothing
// held out, not left out as if nothing had been tuned on it.
func TestHeldOutBySource(t *testing.T) {
	row := func(id, model string, err float64, in bool) Result {
		e, a := err, math.Abs(err)
		return Result{ID: id, Model: model, Metric: "output_tok_s", Measured: 100, ErrPct: &e, APEPct: &a, InSample: in}
	}
	rows := []Result{
		row("A-1", "m1", 50, true), row("A-2", "m1", 60, true),
		row("A-3", "m1", 10, false), row("A-4", "m2", -20, false), row("A-5", "m2", 30, false),
		row("B-1", "m3", 5, false),
		row("C-1", "m3", 40, true),
	}
	s := Summarise(rows)
	if got := len(s.OutOfSampleBySource); got != 2 {
		t.Fatalf("held-out sources %+v, want A and C", s.OutOfSampleBySource)
	}
	a, c := s.OutOfSampleBySource[0], s.OutOfSampleBySource[1]
	if a.Key != "A" || a.Rows != 3 || a.MedianAPE == nil || math.Abs(*a.MedianAPE-20) > 1e-9 {
		t.Errorf("A held out: %+v (median %v), want 3 rows, median APE 20%%", a, a.MedianAPE)
	}
	if c.Key != "C" || c.Rows != 0 || c.MedianAPE != nil {
		t.Errorf("C held out: %+v, want 0 rows and no figure", c)
	}
	// Models: m1 (A-1, A-2 in-sample) keeps A-3; m3 (C-1 in-sample) keeps B-1; m2 has none in-sample.
	if got := s.OutOfSampleByModel; len(got) != 2 || got[0].Key != "m1" || got[0].Rows != 1 || got[1].Key != "m3" || got[1].Rows != 1 {
		t.Errorf("held-out models %+v, want m1 and m3 with one row each", got)
	}
}
