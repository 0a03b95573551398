package main

import (
	"context"
	"fmt"
	"os"

	htmlreport "roofline/report"
)

// runReport renders the JSON result of estimate, sweep or accuracy as an HTML page.
func runReport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "report", "report --in RESULT.json --html OUT.html   (RESULT: --output json of estimate, sweep or accuracy; - reads stdin)")
	in := fs.String("in", "", "JSON result file of roofline estimate, sweep or accuracy (- = stdin) (required)")
	out := fs.String("html", "", "HTML file to write (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *in == "" || *out == "" {
		return usageErr("--in FILE.json and --html OUT.html are required")
	}
	var doc []byte
	var err error
	if *in == "-" {
		var b []byte
		buf := make([]byte, 1<<16)
		for {
			n, rerr := e.stdin.Read(buf)
			b = append(b, buf[:n]...)
			if rerr != nil {
				break
			}
		}
		doc = b
	} else if doc, err = os.ReadFile(*in); err != nil {
		return usageErr("--in: %v", err)
	}
	if _, err := htmlreport.Detect(doc); err != nil {
		return usageErr("--in %s: %v", *in, err)
	}
	f, err := os.Create(*out)
	if err != nil {
		return usageErr("--html: %v", err)
	}
	kind, err := htmlreport.Render(f, doc)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*out)
		return usageErr("--in %s: %v", *in, err)
	}
	fmt.Fprintf(e.stdout, "wrote %s (%s report)\n", *out, kind)
	return nil
}
