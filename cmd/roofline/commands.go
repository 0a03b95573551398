package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"roofline/internal/flagvalue"
)

// command is one subcommand: its name, a one-line summary and the function that runs it.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// commands lists every subcommand; it also drives "roofline help".
func commands() []command {
	return []command{
		{"estimate", "predict serving metrics (TTFT, ITL, throughput, cost) for a deployment and workload", runEstimate},
		{"step", "predict one engine step (prefill or decode), or every row of a steps.csv", runStep},
		{"memory", "plan GPU memory: weights, KV-cache capacity, max concurrency", runMemory},
		{"calibrate", "fit an engine profile to measured step times", runCalibrate},
		{"accuracy", "compare predictions with published measurements", runAccuracy},
		{"bench", "benchmark a live OpenAI-compatible streaming server", runBench},
		{"validate", "predict a workload, run it against a live server, compare", runValidate},
		{"import", "read a result file of vllm bench serve, GenAI-Perf, guidellm or inference-perf", runImport},
		{"compare", "show a prediction next to an imported or recorded result", runCompare},
		{"serve-sim", "serve an OpenAI-compatible endpoint with simulated timing", runServeSim},
		{"sweep", "evaluate a configuration space under SLO constraints; rank and find Pareto fronts", runSweep},
		{"plan", "find the cheapest fleet that meets a load and SLOs", runPlan},
		{"report", "render an HTML report with plots from a JSON result", runReport},
		{"models", "list or show models of the catalogue", runModels},
		{"gpus", "list or show GPUs of the catalogue", runGPUs},
		{"version", "print the module version and VCS revision of this binary", runVersion},
	}
}

var errHelpShown = errors.New("help shown")

func run(ctx context.Context, e *env, args []string) error {
	if len(args) > 1 && args[0] == "help" {
		// "roofline help estimate" printed the command list, not estimate's flags.
		if len(args) > 2 {
			return usageErr("help: give one COMMAND (got %d arguments)", len(args)-1)
		}
		args = []string{args[1], "--help"}
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(e.stdout)
		if len(args) == 0 {
			return usageErr("no command given")
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, e, args[1:])
			if errors.Is(err, pflag.ErrHelp) {
				return nil
			}
			return err
		}
	}
	return usageErr("unknown command %q (run 'roofline help' for the list)", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "roofline estimates LLM inference performance from first principles.")
	fmt.Fprintln(w, "\nUsage: roofline COMMAND [flags]   (roofline COMMAND --help for its flags)\n\nCommands:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
}

// newFlags returns a FlagSet that reports errors instead of exiting, printing usage to e.stderr.
func newFlags(e *env, name, synopsis string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: roofline %s\n\nFlags:\n%s", synopsis, fs.FlagUsages())
	}
	return fs
}

// parseFlags parses args, mapping errors to exit status 2 (help is not an error). Every
// input of these commands is a flag: a positional argument is bad input (a mistyped flag
// such as "-- tp 2" or a stray value was ignored silently).
func parseFlags(fs *pflag.FlagSet, args []string) error {
	if err := parseFlagsArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("%s: unexpected argument %q (every input is a flag; roofline %s --help lists them)", fs.Name(), fs.Arg(0), fs.Name())
	}
	return nil
}

// annPositive marks an int flag whose zero value stands for "the default": given
// explicitly, it must be ≥ 1 (--pp 0 was read as 1, --tp 0 as the default, silently).
const annPositive = "roofline-positive-if-given"

// positiveIfGiven marks int flags whose unset value 0 means "the default"; parseFlags
// then refuses an explicit value below 1.
func positiveIfGiven(fs *pflag.FlagSet, names ...string) {
	for _, n := range names {
		boundedIfGiven(fs, n, 0)
	}
}

// boundedIfGiven is positiveIfGiven for a flag whose values must also be ≤ hi (hi > 0):
// the error for a value below 1 names the whole range [1, hi] (values above hi are
// checked where the bound is defined).
func boundedIfGiven(fs *pflag.FlagSet, name string, hi int) {
	if err := fs.SetAnnotation(name, annPositive, []string{strconv.Itoa(hi)}); err != nil {
		panic(err) // a programming error: the flag is not defined
	}
}

// checkPositive returns the bad-input error for the first flag marked by positiveIfGiven
// that was given a value below 1.
func checkPositive(fs *pflag.FlagSet) error {
	var bad error
	fs.Visit(func(f *pflag.Flag) {
		if bad != nil || f.Annotations[annPositive] == nil {
			return
		}
		n, err := strconv.ParseInt(f.Value.String(), 10, 64)
		if err != nil || n >= 1 {
			return
		}
		if hi := f.Annotations[annPositive][0]; hi != "0" {
			bad = usageErr("--%s %d: must be in [1, %s] (or leave the flag out)", f.Name, n, hi)
			return
		}
		bad = usageErr("--%s %d: must be ≥ 1 (or leave the flag out)", f.Name, n)
	})
	return bad
}

// parseFlagsArgs is parseFlags for commands that take positional arguments (import FILE,
// models show MODEL, gpus show GPU); they check fs.Args themselves.
func parseFlagsArgs(fs *pflag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	help := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = help
	if errors.Is(err, pflag.ErrHelp) {
		help()
		return err
	}
	if cerr := flagvalue.ChoiceError(fs); err != nil && cerr != nil {
		return usageErr("%v", cerr)
	}
	if ferr := flagvalue.FloatError(fs); err != nil && ferr != nil {
		return usageErr("%s: %v", fs.Name(), ferr)
	}
	if err != nil {
		return usageErr("%s: %v", fs.Name(), err)
	}
	return checkPositive(fs)
}

// choice defines a flag whose value must be one of allowed (def is not checked).
func choice(fs *pflag.FlagSet, name, def, usage string, allowed ...string) *string {
	p := new(string)
	flagvalue.Choice(fs, p, name, "", def, usage, allowed...)
	return p
}

// outputFlag defines --output/-o taking one of formats (the first is the default); any
// other value is bad input at parse time.
func outputFlag(fs *pflag.FlagSet, formats ...string) *string {
	p := new(string)
	list := strings.Join(formats[:len(formats)-1], ", ") + " or " + formats[len(formats)-1]
	flagvalue.Choice(fs, p, "output", "o", formats[0], "output format: "+list, formats...)
	return p
}
