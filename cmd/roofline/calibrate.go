package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"roofline/estimator"
	"roofline/report"
	"roofline/validation"
)

func runCalibrate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "calibrate", "calibrate (--steps FILE.csv | --bench-results DIR --model M --gpu G) --out PROFILE.toml [--base ENGINE | --profile P] [--params a,b] [--cv gpu|dtype|model] [--output table|json]")
	steps := fs.String("steps", "", "measured steps.csv (model,gpu,tp,weight_dtype,phase,batch,tokens,ms; optional enforce_eager true|false for steps run without CUDA graphs) (required)")
	outFile := fs.String("out", "", "write the fitted profile TOML here (required)")
	base := fs.String("base", "vllm", "engine profile to start from: "+strings.Join(estimator.EngineNames(), ", ")+" (NAME@VERSION for a release, e.g. vllm@0.7.3)")
	profile := fs.String("profile", "", "profile TOML to start from instead of --base")
	params := fs.StringSlice("params", nil, "parameters to fit (default: all the rows identify): "+strings.Join(estimator.CalibParamNames(), ", "))
	gpuFiles := fs.StringSlice("gpu-file", nil, "extra GPU catalogue TOML files")
	benchDir := fs.String("bench-results", "", "a sweep --run output directory: fit to its measured runs (decode steps, as validate --calibrate-out)")
	model := fs.String("model", "", "with --bench-results: the model the servers ran")
	gpu := fs.String("gpu", "", "with --bench-results: the GPU the servers ran on")
	out := outputFlag(fs, "table", "json")
	cv := choice(fs, "cv", "", "leave-one-group-out check: fit on every group but one, report the held-out error per group (gpu, dtype or model)", "gpu", "dtype", "model")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if (*steps == "") == (*benchDir == "") || *outFile == "" {
		return usageErr("calibrate: --out and one of --steps or --bench-results are required")
	}
	// An unwritable --out failed with exit 1 after the fit; it is bad input, found first.
	if fi, err := os.Stat(filepath.Dir(*outFile)); err != nil || !fi.IsDir() {
		return usageErr("--out %s: its directory %s does not exist", *outFile, filepath.Dir(*outFile))
	}
	for _, p := range *params {
		if !slices.Contains(estimator.CalibParamNames(), p) {
			return usageErr("--params %q: allowed values are %s", p, strings.Join(estimator.CalibParamNames(), ", "))
		}
	}
	prof, _, err := resolveProfile("base", *base, *profile)
	if err != nil {
		return err
	}
	if *cv != "" && *benchDir != "" {
		return usageErr("--cv: only with --steps (a sweep's runs carry no groups)")
	}
	var samples []estimator.StepSample
	var rows []estimator.StepRow
	source := *steps
	if *benchDir != "" {
		source = *benchDir
		if samples, err = benchResultSamples(ctx, e, *benchDir, *model, *gpu, *gpuFiles, prof); err != nil {
			return err
		}
		if len(*params) == 0 {
			*params = validation.RunFitParams
		}
	} else {
		var ss []estimator.StepSample
		rows, ss, err = loadStepSamples(ctx, e, *steps, *gpuFiles)
		if err != nil {
			return err
		}
		for i, r := range rows {
			if r.Ms <= 0 {
				return usageErr("%s:%d: ms must be a measured time > 0 to calibrate", *steps, i+2)
			}
		}
		samples = ss
	}
	fit, err := estimator.Calibrate(samples, prof, *params)
	if err != nil {
		return asUsage(err)
	}
	var cvRes []estimator.CVGroup
	if *cv != "" {
		groups := estimator.StepGroups(rows, samples, *cv)
		if cvRes, err = estimator.CrossValidate(samples, groups, prof, *params); err != nil {
			return asUsage(err)
		}
	}
	fit.Rename(fit.Profile.Name, fmt.Sprintf("%s fitted to %d steps from %s", prof.Name, fit.N, source))
	toml, err := fit.ProfileTOML(fmt.Sprintf("# Written by roofline calibrate from %s (%d rows); base profile %s.\n# Fit: MAPE %.2f%% (base %.2f%%), max error %.2f%%.\n",
		source, fit.N, prof.Name, fit.MAPE, fit.MAPE0, fit.MaxAPE))
	if err != nil {
		return err
	}
	if err := os.WriteFile(*outFile, toml, 0o644); err != nil {
		return usageErr("--out: %v", err)
	}
	if *out == "json" {
		if *cv != "" {
			return writeJSON(e.stdout, struct {
				estimator.Fit
				CV   []estimator.CVGroup `json:"cv"`
				CVBy string              `json:"cv_by"`
			}{fit, cvRes, *cv})
		}
		return writeJSON(e.stdout, fit)
	}
	report.WriteFitText(e.stdout, fit, prof.Name, *cv, cvRes)
	for _, w := range fit.Warnings {
		fmt.Fprintf(e.stdout, "warning: %s\n", w)
	}
	fmt.Fprintf(e.stdout, "wrote %s\n", *outFile)
	return nil
}
