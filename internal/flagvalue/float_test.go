package flagvalue_test

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"roofline/internal/flagvalue"
)

// TestRanges: each value is accepted or rejected as the interval it is parsed against says
// (written out here by hand), and a rejected value names the flag and the interval.
func TestRanges(t *testing.T) {
	for _, c := range []struct {
		rng  flagvalue.Range
		v    string
		ok   bool
		text string
	}{
		{flagvalue.Positive, "0.5", true, "(0, ∞)"},
		{flagvalue.Positive, "0", false, "(0, ∞)"},
		{flagvalue.Positive, "inf", false, "(0, ∞)"},
		{flagvalue.NonNegative, "0", true, "[0, ∞)"},
		{flagvalue.NonNegative, "-1", false, "[0, ∞)"},
		{flagvalue.Fraction, "1", true, "(0, 1]"},
		{flagvalue.Fraction, "0", false, "(0, 1]"},
		{flagvalue.HalfOpen01, "0", true, "[0, 1)"},
		{flagvalue.HalfOpen01, "1", false, "[0, 1)"},
		{flagvalue.Positive, "NaN", false, "(0, ∞)"},
		{flagvalue.Positive, "abc", false, "(0, ∞)"},
	} {
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		var x float64
		flagvalue.Float(fs, &x, "x", 7, c.rng, "test flag")
		err := fs.Parse([]string{"--x", c.v})
		ferr := flagvalue.FloatError(fs)
		if c.ok != (err == nil) || c.ok != (ferr == nil) {
			t.Errorf("%s in %s: parse error %v, flag error %v; want ok=%v", c.v, c.rng, err, ferr, c.ok)
			continue
		}
		if c.rng.String() != c.text {
			t.Errorf("range %v prints %q, want %q", c.rng, c.rng.String(), c.text)
		}
		if !c.ok && !strings.Contains(ferr.Error(), "--x ") || !c.ok && !strings.Contains(ferr.Error(), c.text) {
			t.Errorf("%s: error %q does not name --x and %s", c.v, ferr, c.text)
		}
		if !c.ok && x != 7 {
			t.Errorf("%s: rejected value changed the flag to %g", c.v, x)
		}
	}
}
