package flagvalue

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// Range is the set of values a float flag accepts: an interval whose ends are open
// or closed; ±Inf as an end means unbounded on that side. NaN and ±Inf are never accepted.
type Range struct {
	lo, hi         float64
	loOpen, hiOpen bool
}

// The ranges the CLI's float flags use.
var (
	Positive    = Range{lo: 0, hi: math.Inf(1), loOpen: true, hiOpen: true} // (0, ∞)
	NonNegative = Range{lo: 0, hi: math.Inf(1), hiOpen: true}               // [0, ∞)
	Fraction    = Range{lo: 0, hi: 1, loOpen: true}                         // (0, 1]
	HalfOpen01  = Range{lo: 0, hi: 1, hiOpen: true}                         // [0, 1)
)

// String writes the range in interval notation: "(0, ∞)", "[0, 1)".
func (r Range) String() string {
	end := func(v float64) string {
		if math.IsInf(v, 0) {
			return strings.Replace(strconv.FormatFloat(v, 'g', -1, 64), "Inf", "∞", 1)
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	l, h := "[", "]"
	if r.loOpen {
		l = "("
	}
	if r.hiOpen {
		h = ")"
	}
	return l + end(r.lo) + ", " + strings.TrimPrefix(end(r.hi), "+") + h
}

// Contains reports whether v is a finite number in the range.
func (r Range) Contains(v float64) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return false
	}
	if v < r.lo || (r.loOpen && v == r.lo) || v > r.hi || (r.hiOpen && v == r.hi) {
		return false
	}
	return true
}

// value is a pflag.Value for float64 flags: every float flag of the CLI is parsed
// by it, so NaN, ±Inf and out-of-range values fail at parse time (exit 2) with the flag's
// name and the allowed range. A flag left at its default is not checked (defaults such as
// 0 may mean "from the profile").
type floatValue struct {
	p    *float64
	name string
	rng  Range
	err  error // the last rejected value, reported by FloatError as one line
}

// Set parses s and records the error, naming the flag and the range, when it is rejected.
func (f *floatValue) Set(s string) error {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	switch {
	case err != nil && !math.IsInf(v, 0):
		f.err = fmt.Errorf("--%s %q: not a number; must be a finite number in %s", f.name, s, f.rng)
	case !f.rng.Contains(v):
		f.err = fmt.Errorf("--%s %s: must be a finite number in %s", f.name, s, f.rng)
	default:
		*f.p, f.err = v, nil
		return nil
	}
	return f.err
}

// FloatError returns the error of a float flag that rejected its value, if any.
func FloatError(fs *pflag.FlagSet) error {
	return firstError(fs, func(v pflag.Value) error {
		if f, ok := v.(*floatValue); ok {
			return f.err
		}
		return nil
	})
}

func (f *floatValue) String() string { return strconv.FormatFloat(*f.p, 'g', -1, 64) }
func (f *floatValue) Type() string   { return "float64" }

// Float defines a float64 flag that accepts only finite values in rng.
func Float(fs *pflag.FlagSet, p *float64, name string, def float64, rng Range, usage string) {
	*p = def
	fs.Var(&floatValue{p: p, name: name, rng: rng}, name, usage+" (range "+rng.String()+")")
}

// NewFloat is Float returning the variable.
func NewFloat(fs *pflag.FlagSet, name string, def float64, rng Range, usage string) *float64 {
	p := new(float64)
	Float(fs, p, name, def, rng, usage)
	return p
}
