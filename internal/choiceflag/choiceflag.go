// Package choiceflag is a pflag.Value for string flags that take one of a fixed list of
// values (an output format): any other value fails at parse time with one line naming the
// flag and the allowed values, e.g. `--output "xml": allowed values are table, json`.
package choiceflag

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

type value struct {
	p       *string
	name    string
	allowed []string
	err     error // the last rejected value, reported by Error
}

// Set accepts s when it is one of the allowed values and records the error otherwise.
func (v *value) Set(s string) error {
	if !slices.Contains(v.allowed, s) {
		v.err = fmt.Errorf("--%s %q: allowed values are %s", v.name, s, strings.Join(v.allowed, ", "))
		return v.err
	}
	*v.p, v.err = s, nil
	return nil
}

func (v *value) String() string { return *v.p }
func (v *value) Type() string   { return "string" }

// VarP defines a flag with a shorthand (may be "") whose value must be one of allowed;
// def is the default and is not checked.
func VarP(fs *pflag.FlagSet, p *string, name, short, def, usage string, allowed ...string) {
	*p = def
	fs.VarP(&value{p: p, name: name, allowed: allowed}, name, short, usage)
}

// Error returns the error of a choice flag that rejected its value, if any.
func Error(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(fl *pflag.Flag) {
		if v, ok := fl.Value.(*value); ok && v.err != nil && err == nil {
			err = v.err
		}
	})
	return err
}
