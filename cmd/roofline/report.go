package main

import (
	"context"
	"fmt"
	"io"
	"os"

	htmlreport "roofline/report"
)

// runReport renders a JSON result of roofline as one offline HTML page.
func runReport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "report", "report --in RESULT.json --html OUT.html\n\nRESULT is the --output json of estimate, sweep, plan, accuracy, compare, validate, bench or\nimport, or the results.jsonl of sweep --run (- reads stdin). The page is one file: inline\nstyles and SVG plots, nothing loaded from the network; it reads on a phone.")
	in := fs.String("in", "", "JSON result file (- = stdin) (required)")
	out := fs.String("html", "", "HTML file to write (required)")
	fs.StringVarP(out, "output", "o", "", "same as --html")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *in == "" || *out == "" {
		return usageErr("--in FILE.json and --html OUT.html are required")
	}
	var doc []byte
	var err error
	if *in == "-" {
		doc, _ = io.ReadAll(e.stdin)
	} else if doc, err = os.ReadFile(*in); err != nil {
		return usageErr("--in: %v", err)
	}
	if _, err := htmlreport.Detect(doc); err != nil {
		return usageErr("--in %s: %v", *in, err)
	}
	kind, err := htmlreport.RenderFile(*out, doc)
	if err != nil {
		return usageErr("--html %s: %v", *out, err)
	}
	fmt.Fprintf(e.stdout, "wrote %s (%s report)\n", *out, kind)
	return nil
}
