package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// floatRange is the set of values a float flag accepts: an interval whose ends are open
// or closed; ±Inf as an end means unbounded on that side. NaN and ±Inf are never accepted.
type floatRange struct {
	lo, hi         float64
	loOpen, hiOpen bool
}

var (
	positive    = floatRange{lo: 0, hi: math.Inf(1), loOpen: true, hiOpen: true} // (0, ∞)
	nonNegative = floatRange{lo: 0, hi: math.Inf(1), hiOpen: true}               // [0, ∞)
	fraction    = floatRange{lo: 0, hi: 1, loOpen: true}                         // (0, 1]
	halfOpen01  = floatRange{lo: 0, hi: 1, hiOpen: true}                         // [0, 1)
)

func (r floatRange) String() string {
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

func (r floatRange) contains(v float64) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return false
	}
	if v < r.lo || (r.loOpen && v == r.lo) || v > r.hi || (r.hiOpen && v == r.hi) {
		return false
	}
	return true
}

// floatValue is a pflag.Value for float64 flags: every float flag of the CLI is parsed
// by it, so NaN, ±Inf and out-of-range values fail at parse time (exit 2) with the flag's
// name and the allowed range. A flag left at its default is not checked (defaults such as
// 0 may mean "from the profile").
type floatValue struct {
	p    *float64
	name string
	rng  floatRange
	err  error // the last rejected value, reported by parseFlags as one line
}

func (f *floatValue) Set(s string) error {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	switch {
	case err != nil && !math.IsInf(v, 0):
		f.err = fmt.Errorf("--%s %q: not a number; must be a finite number in %s", f.name, s, f.rng)
	case !f.rng.contains(v):
		f.err = fmt.Errorf("--%s %s: must be a finite number in %s", f.name, s, f.rng)
	default:
		*f.p, f.err = v, nil
		return nil
	}
	return f.err
}

// floatFlagError returns the error of a float flag that rejected its value, if any.
func floatFlagError(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(fl *pflag.Flag) {
		if v, ok := fl.Value.(*floatValue); ok && v.err != nil && err == nil {
			err = v.err
		}
	})
	return err
}

func (f *floatValue) String() string { return strconv.FormatFloat(*f.p, 'g', -1, 64) }
func (f *floatValue) Type() string   { return "float64" }

// floatVar defines a float64 flag that accepts only finite values in rng.
func floatVar(fs *pflag.FlagSet, p *float64, name string, def float64, rng floatRange, usage string) {
	*p = def
	fs.Var(&floatValue{p: p, name: name, rng: rng}, name, usage+" (range "+rng.String()+")")
}

// floatFlag is floatVar returning the variable.
func floatFlag(fs *pflag.FlagSet, name string, def float64, rng floatRange, usage string) *float64 {
	p := new(float64)
	floatVar(fs, p, name, def, rng, usage)
	return p
}
