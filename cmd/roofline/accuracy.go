package main

import (
	"context"
	"os"

	"roofline/estimator"
	"roofline/models"
	"roofline/validation"
)

func runAccuracy(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "accuracy", "accuracy [--data FILE.csv …] [--engine-override E] [--profile P] [--closed-form] [--output table|json]")
	files := fs.StringSlice("data", nil, "validation CSV files (default: all embedded data/validation/*.csv)")
	profile := fs.String("profile", "", "use this profile TOML for every row instead of the row's engine")
	closed := fs.Bool("closed-form", false, "predict with the closed form only (default: simulate open- and closed-loop rows)")
	gpuFiles := fs.StringSlice("gpu-file", nil, "extra GPU catalogue TOML files")
	out := fs.StringP("output", "o", "table", "output format: table or json")
	rowsOut := fs.Bool("rows", false, "table output: list every row, not only the summary")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkOutput(*out, "table", "json"); err != nil {
		return err
	}
	var all []validation.Row
	if len(*files) == 0 {
		rs, err := validation.ReadEmbedded()
		if err != nil {
			return err
		}
		all = rs
	} else {
		for _, f := range *files {
			fh, err := os.Open(f)
			if err != nil {
				return usageErr("--data: %v", err)
			}
			rs, err := validation.ReadRows(fh, f)
			fh.Close()
			if err != nil {
				return usageErr("%v", err)
			}
			all = append(all, rs...)
		}
	}
	opts := validation.Options{ClosedForm: *closed,
		LoadModel: func(ctx context.Context, name string) (*models.Model, error) { return loadModel(ctx, e, name) }}
	if *profile != "" {
		p, err := estimator.LoadProfileFile(*profile)
		if err != nil {
			return usageErr("--profile: %v", err)
		}
		opts.Profile = p
	}
	cat, err := gpuCatalogue(*gpuFiles)
	if err != nil {
		return err
	}
	opts.Catalogue = cat
	inSample := validation.InSample()
	res := validation.Predict(ctx, all, opts)
	for i := range res {
		res[i].InSample = inSample(res[i].ID)
	}
	sum := validation.Summarise(res)
	if *out == "json" {
		return writeJSON(e.stdout, struct {
			Rows    []validation.Result `json:"rows"`
			Summary validation.Summary  `json:"summary"`
			Notes   []string            `json:"notes"`
		}{res, sum, validation.Notes()})
	}
	validation.WriteTable(e.stdout, res, sum, *rowsOut)
	return nil
}
