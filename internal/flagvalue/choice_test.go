package flagvalue_test

import (
	"testing"

	"github.com/spf13/pflag"

	"roofline/internal/flagvalue"
)

// TestChoice: an allowed value is taken; another is refused naming the flag and the list,
// and the variable keeps its default.
func TestChoice(t *testing.T) {
	for _, c := range []struct {
		arg, want, err string
	}{
		{"json", "json", ""},
		{"xml", "table", `--output "xml": allowed values are table, json`},
	} {
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		var out string
		flagvalue.Choice(fs, &out, "output", "o", "table", "output format", "table", "json")
		fs.Parse([]string{"-o", c.arg})
		err := flagvalue.ChoiceError(fs)
		if out != c.want || (err == nil) != (c.err == "") || err != nil && err.Error() != c.err {
			t.Errorf("-o %s: value %q, error %v; want %q, %q", c.arg, out, err, c.want, c.err)
		}
	}
}
