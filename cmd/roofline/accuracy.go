package main

import (
	"context"
	"fmt"
	"io"

	"roofline/estimator"
	"roofline/internal/progress"
	"roofline/models"
	"roofline/validation"
)

func runAccuracy(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "accuracy", "accuracy [--data FILE.csv …] [--skip-bad-rows] [--profile P] [--closed-form] [--output table|json]")
	files := fs.StringSlice("data", nil, "validation CSV files (default: all embedded data/validation/*.csv)")
	profile := fs.String("profile", "", "use this profile TOML for every row instead of the row's engine")
	closed := fs.Bool("closed-form", false, "predict with the closed form only (default: simulate open- and closed-loop rows)")
	gpuFiles := fs.StringSlice("gpu-file", nil, "extra GPU catalogue TOML files")
	out := outputFlag(fs, "table", "json")
	rowsOut := fs.Bool("rows", false, "table output: list every row, not only the summary")
	quiet := fs.BoolP("quiet", "q", false, "no progress on stderr (a bar on a terminal, a line every 5 s otherwise)")
	skip := fs.Bool("skip-bad-rows", false, "leave out rows that cannot be used (value not > 0, unknown metric, GPU, workload or dtype, a concurrency or rate row without its load, num_gpus ≠ tp·pp·dp), count them and say why (default: exit 2 at the first, naming file, line and field)")
	writeIv := fs.String("write-intervals", "", "write the residual table behind estimate's 80% intervals to this CSV (data/validation/intervals.csv is written this way from all embedded data)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cat, err := gpuCatalogue(*gpuFiles)
	if err != nil {
		return err
	}
	all, bad, err := validation.LoadRows(*files, *skip, func(gpu string) error { _, err := cat.Lookup(gpu); return err })
	if err != nil {
		return usageErr("%v", err)
	}
	if len(bad) > 0 {
		fmt.Fprintf(e.stderr, "accuracy: skipped %d bad rows (--skip-bad-rows):\n", len(bad))
		for _, b := range bad {
			fmt.Fprintf(e.stderr, "  %v\n", b)
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
	opts.Catalogue = cat
	var prog *progress.Bar
	opts.Progress = func(done, total int) {
		if prog == nil {
			prog = progress.New(e.stderr, "accuracy", "configurations", total, *quiet)
		}
		prog.Add(false)
	}
	doc := validation.Evaluate(ctx, all, bad, opts)
	prog.Done()
	if *writeIv != "" {
		if err := validation.BuildIntervals(doc.Rows, nil).WriteIntervalsFile(*writeIv); err != nil {
			return usageErr("--write-intervals: %v", err)
		}
	}
	return render(e.stdout, *out, doc, func(w io.Writer) {
		validation.WriteTable(w, doc.Rows, doc.Summary, *rowsOut)
		validation.WriteCoverage(w, doc.Coverage)
	})
}
