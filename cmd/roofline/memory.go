package main

import (
	"context"
	"encoding/json"
	"io"

	"roofline/report"
)

func runMemory(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "memory", "memory --model M --gpu G [--tp N --pp N] [--weight-dtype D] [--kv-dtype D] [--engine E] [--gpu-memory-utilization F] [--max-model-len L] [--output table|json]")
	var df deployFlags
	df.register(fs, false)
	out := outputFlag(fs, "table", "json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	d, pv, err := df.build(ctx, e)
	if err != nil {
		return err
	}
	o := report.NewMemory(d, pv)
	return render(e.stdout, *out, o, func(w io.Writer) { report.WriteMemoryTable(w, o) })
}

// render writes v as indented JSON when format is "json", else with text.
func render(w io.Writer, format string, v any, text func(io.Writer)) error {
	if format == "json" {
		return writeJSON(w, v)
	}
	text(w)
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
