package main

import (
	"context"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"roofline/estimator"
	"roofline/report"
)

func runStep(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "step", "step --model M --gpu G [--tp N …] --phase prefill|decode --batch B --tokens T [--engine E | --profile P] [--explain] [--output table|json]\n       roofline step --steps FILE.csv [--engine E | --profile P] [--enforce-eager] [--output json|table]")
	var df deployFlags
	df.register(fs, false)
	phase := fs.String("phase", "", "prefill (batch prompts of --tokens tokens) or decode (one step of batch sequences holding --tokens cached tokens)")
	batch := fs.Int("batch", 1, "sequences in the step")
	tokens := fs.Int("tokens", 0, "prompt tokens (prefill) or cached tokens per sequence (decode)")
	explain := fs.Bool("explain", false, "show the per-operator breakdown")
	steps := fs.String("steps", "", "steps.csv file (model,gpu,tp,weight_dtype,phase,batch,tokens,ms; optional enforce_eager true|false): predict every row")
	out := outputFlag(fs, "table", "json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *steps != "" {
		// Every row gives its model, GPU, tp, weight dtype, phase, batch and tokens: the
		// flags that set those for one step would be ignored, so they are refused.
		var ignored []string
		fs.Visit(func(f *pflag.Flag) {
			switch f.Name {
			case "steps", "engine", "profile", "gpu-file", "output", "enforce-eager":
			default:
				ignored = append(ignored, "--"+f.Name)
			}
		})
		if len(ignored) > 0 {
			return usageErr("%s: not with --steps (each row of %s gives its model, gpu, tp, weight_dtype, phase, batch and tokens); allowed with --steps: --engine, --profile, --enforce-eager, --gpu-file, --output", strings.Join(ignored, ", "), *steps)
		}
		return stepsFile(ctx, e, *steps, &df, *out)
	}
	d, pv, err := df.build(ctx, e)
	if err != nil {
		return err
	}
	b, err := estimator.StepBatch(*phase, 1, 1) // checks the phase before CheckStep
	if err == nil {
		err = d.CheckStep(*phase, *batch, *tokens)
	}
	if err == nil {
		b, err = estimator.StepBatch(*phase, *batch, *tokens)
	}
	if err != nil {
		return usageErr("--phase/--batch/--tokens: %v", err)
	}
	doc := report.NewStep(d, *phase, *batch, *tokens, d.StepTime(b, *explain), pv)
	return render(e.stdout, *out, doc, func(w io.Writer) { report.WriteStepText(w, d, doc, *explain) })
}

// stepSpec resolves a steps.csv row to a deployment spec (the profile is set by the caller).
func stepSpec(ctx context.Context, e *env, r estimator.StepRow, gpuFiles []string) (estimator.Spec, error) {
	m, err := loadModel(ctx, e, r.Model)
	if err != nil {
		return estimator.Spec{}, err
	}
	g, err := lookupGPU(gpuFiles, r.GPU, "gpu")
	if err != nil {
		return estimator.Spec{}, err
	}
	return estimator.Spec{Model: m, GPU: g, TP: r.TP, WeightDtype: r.WeightDtype, EnforceEager: r.EnforceEager}, nil
}

func loadStepSamples(ctx context.Context, e *env, file string, gpuFiles []string) ([]estimator.StepRow, []estimator.StepSample, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, usageErr("--steps: %v", err)
	}
	defer f.Close()
	rows, err := estimator.ReadSteps(f, file)
	if err != nil {
		return nil, nil, usageErr("%v", err)
	}
	var samples []estimator.StepSample
	for _, r := range rows {
		sp, err := stepSpec(ctx, e, r, gpuFiles)
		if err != nil {
			return nil, nil, err
		}
		samples = append(samples, estimator.StepSample{Spec: sp, Phase: r.Phase, Batch: r.Batch, Tokens: r.Tokens, Measured: r.Ms / 1e3})
	}
	return rows, samples, nil
}

func stepsFile(ctx context.Context, e *env, file string, df *deployFlags, out string) error {
	prof, _, err := resolveProfile("engine", df.engine, df.profile)
	if err != nil {
		return err
	}
	if df.enforceEager {
		if err := estimator.CheckEnforceEager(prof); err != nil {
			return usageErr("%v", err)
		}
	}
	rows, samples, err := loadStepSamples(ctx, e, file, df.gpuFiles)
	if err != nil {
		return err
	}
	for i := range samples {
		samples[i].Spec.EnforceEager = samples[i].Spec.EnforceEager || df.enforceEager // the row's enforce_eager, or every row with the flag
	}
	preds, err := report.PredictSteps(rows, samples, prof)
	if err != nil {
		return usageErr("%s:%v", file, err)
	}
	if out == "json" {
		return writeJSON(e.stdout, report.StepsJSON(preds))
	}
	return report.WriteStepsTable(e.stdout, preds)
}
