package main

import (
	"bytes"
	"context"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// runCLI runs the CLI in-process and returns stdout, stderr and the exit status.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCLIEnv(t, nil, args...)
}

// runCLIEnv is runCLI with extra environment variables (nil: none).
func runCLIEnv(t *testing.T, vars map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return ""
	}}
	err := run(context.Background(), e, args)
	code = exitCode(e, err)
	return out.String(), errb.String(), code
}

// golden compares got with testdata/NAME, rewriting it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from golden file (run go test ./cmd/roofline -update after checking the change):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestUnknownCommand(t *testing.T) {
	_, stderr, code := runCLI(t, "frobnicate")
	if code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("code %d, stderr %q: want exit 2 and one line naming the command", code, stderr)
	}
}

// TestHelpCommand: "roofline help COMMAND" is "roofline COMMAND --help" (it printed the
// command list); an unknown COMMAND is bad input.
func TestHelpCommand(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string // in stdout+stderr
	}{
		{[]string{"help", "estimate"}, 0, "Usage: roofline estimate --model M"},
		{[]string{"help", "gpus"}, 0, "gpus list"},
		{[]string{"help", "frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"help", "estimate", "memory"}, 2, "help: give one COMMAND (got 2 arguments)"},
	} {
		stdout, stderr, code := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(stdout+stderr, c.want) {
			t.Errorf("%q: exit %d, output %.300q; want exit %d and %q", c.args, code, stdout+stderr, c.code, c.want)
		}
	}
}

func TestHelpListsEveryCommand(t *testing.T) {
	stdout, _, code := runCLI(t, "help")
	if code != 0 {
		t.Fatalf("help exited %d", code)
	}
	for _, c := range commands() {
		if !strings.Contains(stdout, c.name) {
			t.Errorf("help does not list %s", c.name)
		}
	}
}

// val returns *p, or NaN for nil (a statistic the summary could not compute).
func val(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}
