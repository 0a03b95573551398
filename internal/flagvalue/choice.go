package flagvalue

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

type choiceValue struct {
	p       *string
	name    string
	allowed []string
	err     error // the last rejected value, reported by ChoiceError
}

// Set accepts s when it is one of the allowed values and records the error otherwise.
func (v *choiceValue) Set(s string) error {
	if !slices.Contains(v.allowed, s) {
		v.err = fmt.Errorf("--%s %q: allowed values are %s", v.name, s, strings.Join(v.allowed, ", "))
		return v.err
	}
	*v.p, v.err = s, nil
	return nil
}

func (v *choiceValue) String() string { return *v.p }
func (v *choiceValue) Type() string   { return "string" }

// Choice defines a flag with a shorthand (may be "") whose value must be one of allowed;
// def is the default and is not checked.
func Choice(fs *pflag.FlagSet, p *string, name, short, def, usage string, allowed ...string) {
	*p = def
	fs.VarP(&choiceValue{p: p, name: name, allowed: allowed}, name, short, usage)
}

// ChoiceError returns the error of a choice flag that rejected its value, if any.
func ChoiceError(fs *pflag.FlagSet) error {
	return firstError(fs, func(v pflag.Value) error {
		if c, ok := v.(*choiceValue); ok {
			return c.err
		}
		return nil
	})
}

// firstError is the first error rejected of the flags of fs (in VisitAll order).
func firstError(fs *pflag.FlagSet, rejected func(pflag.Value) error) error {
	var err error
	fs.VisitAll(func(fl *pflag.Flag) {
		if e := rejected(fl.Value); e != nil && err == nil {
			err = e
		}
	})
	return err
}
