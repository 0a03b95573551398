package main

import (
	"context"
	"fmt"
	"strings"

	"roofline/estimator"
	"roofline/models"
	"roofline/units"
)

// runModels is "roofline models list|show".
func runModels(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageErr("models: give a subcommand: list or show (roofline models --help)")
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(e.stdout, "Usage: roofline models list [--output table|json]\n       roofline models show MODEL [--output table|json] [--weight-dtype D] [--kv-dtype D]")
		return nil
	}
	switch args[0] {
	case "list":
		return modelsList(e, args[1:])
	case "show":
		return modelsShow(ctx, e, args[1:])
	}
	return usageErr("models: unknown subcommand %q (allowed: list, show)", args[0])
}

// loadModel resolves a model name (path, catalogue id, HF cache, Hub) for any command.
// HF_HOME and HF_TOKEN come from the environment; HF_ENDPOINT overrides the Hub URL;
// HF_HUB_OFFLINE=1 forbids Hub requests; downloads are cached under the user cache
// folder ($XDG_CACHE_HOME or ~/.cache)/roofline/models. Errors are usage errors (exit 2).
func loadModel(ctx context.Context, e *env, name string) (*models.Model, error) {
	r := models.ResolverFromEnv(e.getenv)
	m, err := r.Load(ctx, name)
	if err != nil {
		return nil, asUsage(fmt.Errorf("model: %w", err))
	}
	return m, nil
}

func modelsList(e *env, args []string) error {
	fs := newFlags(e, "models list", "models list [--output table|json]")
	output := outputFlag(fs, "table", "json")
	if err := parseFlagsArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("models list: unexpected argument %q", fs.Arg(0))
	}
	rows := models.CatalogueList()
	if *output == "json" {
		return writeJSON(e.stdout, rows)
	}
	return models.WriteList(e.stdout, rows)
}

func modelsShow(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "models show", "models show MODEL [--output table|json] [--weight-dtype D] [--kv-dtype D]")
	output := outputFlag(fs, "table", "json")
	wd := fs.String("weight-dtype", "", "weight dtype ("+strings.Join(units.Dtypes(), ", ")+"; default: the checkpoint's own)")
	kd := fs.String("kv-dtype", "", "KV-cache dtype (default: the model's torch_dtype)")
	if err := parseFlagsArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErr("models show: give exactly one MODEL (a catalogue id, a Hugging Face id or a config.json path)")
	}
	wdc, err := units.CanonicalDtype(*wd)
	if err != nil {
		return usageErr("--weight-dtype: %v", err)
	}
	kdc, err := units.CanonicalDtype(*kd)
	if err != nil {
		return usageErr("--kv-dtype: %v", err)
	}
	if !estimator.KVDtypeAllowed(kdc) {
		// estimate refuses these; models show printed an int4 KV size no command predicts with.
		return usageErr("--kv-dtype %q: allowed values are bf16, fp16, fp8", *kd)
	}
	m, err := loadModel(ctx, e, fs.Arg(0))
	if err != nil {
		return err
	}
	s, err := models.Describe(m, wdc, kdc)
	if err != nil {
		return usageErr("%v", err)
	}
	if *output == "json" {
		return writeJSON(e.stdout, s)
	}
	return s.WriteText(e.stdout)
}
