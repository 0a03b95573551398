package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"roofline/hardware"
)

// gpuCatalogue returns the embedded GPU catalogue with each --gpu-file added in order.
// A bad file is a usage error (exit 2); a broken embedded catalogue is not.
func gpuCatalogue(files []string) (*hardware.Catalogue, error) {
	c, err := hardware.Load()
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := c.AddFile(f); err != nil {
			return nil, usageErr("--gpu-file: %v", err)
		}
	}
	return c, nil
}

// lookupGPU finds one GPU of the catalogue and --gpu-file files; an unknown name is bad
// input, prefixed with what (a flag name).
func lookupGPU(files []string, name, what string) (*hardware.GPU, error) {
	cat, err := gpuCatalogue(files)
	if err != nil {
		return nil, err
	}
	g, err := cat.Lookup(name)
	if err != nil {
		return nil, usageErr("%s: %v", what, err)
	}
	return g, nil
}

const gpusSynopsis = "gpus list [--output table|json] [--gpu-file F.toml ...]\n" +
	"       roofline gpus show GPU [--output table|json] [--gpu-file F.toml ...]"

// runGPUs lists the GPU catalogue or shows one GPU.
func runGPUs(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageErr("gpus: missing subcommand (allowed: list, show)")
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "list", "show":
	case "-h", "--help", "help":
		fmt.Fprintf(e.stderr, "Usage: roofline %s\n", gpusSynopsis)
		return pflag.ErrHelp
	default:
		return usageErr("gpus: unknown subcommand %q (allowed: list, show)", sub)
	}
	fs := newFlags(e, "gpus "+sub, gpusSynopsis)
	output := outputFlag(fs, "table", "json")
	var files []string
	fs.StringSliceVar(&files, "gpu-file", nil, "extra GPU catalogue TOML files (add or override entries)")
	if err := parseFlagsArgs(fs, rest); err != nil {
		return err
	}
	cat, err := gpuCatalogue(files)
	if err != nil {
		return err
	}
	if sub == "list" {
		if fs.NArg() > 0 {
			return usageErr("gpus list: unexpected argument %q (to show one GPU: roofline gpus show %s)", fs.Arg(0), fs.Arg(0))
		}
		if *output == "json" {
			return writeJSON(e.stdout, cat.List()) // writeJSON: indented JSON, shared with the other commands
		}
		return hardware.WriteTable(e.stdout, cat.List())
	}
	if fs.NArg() != 1 {
		return usageErr("gpus show: want exactly one GPU id or alias, got %d arguments (run 'roofline gpus list' for the ids)", fs.NArg())
	}
	g, err := cat.Lookup(fs.Arg(0))
	if err != nil {
		return usageErr("gpus show: %v", err)
	}
	if *output == "json" {
		return writeJSON(e.stdout, g)
	}
	return hardware.WriteGPU(e.stdout, g)
}
