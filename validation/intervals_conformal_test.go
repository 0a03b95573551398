package validation

import "testing"

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
