package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"roofline/estimator"
	"roofline/units"
)

func runStep(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "step", "step --model M --gpu G [--tp N …] --phase prefill|decode --batch B --tokens T [--engine E | --profile P] [--explain] [--output table|json]\n       roofline step --steps FILE.csv [--engine E | --profile P] [--output json|table]")
	var df deployFlags
	df.register(fs, false)
	phase := fs.String("phase", "", "prefill (batch prompts of --tokens tokens) or decode (one step of batch sequences holding --tokens cached tokens)")
	batch := fs.Int("batch", 1, "sequences in the step")
	tokens := fs.Int("tokens", 0, "prompt tokens (prefill) or cached tokens per sequence (decode)")
	explain := fs.Bool("explain", false, "show the per-operator breakdown")
	steps := fs.String("steps", "", "steps.csv file (model,gpu,tp,weight_dtype,phase,batch,tokens,ms): predict every row")
	out := fs.StringP("output", "o", "table", "output format: table or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkOutput(*out, "table", "json"); err != nil {
		return err
	}
	if *steps != "" {
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
	st := d.StepTime(b, *explain)
	if *out == "json" {
		return writeJSON(e.stdout, struct {
			Model       string  `json:"model"`
			GPU         string  `json:"gpu"`
			Phase       string  `json:"phase"`
			Batch       int     `json:"batch"`
			Tokens      int     `json:"tokens"`
			PredictedMs float64 `json:"predicted_ms"`
			estimator.Step
			Provenance estimator.Provenance `json:"provenance"`
		}{d.Model.ID, d.GPU.ID, *phase, *batch, *tokens, st.Time.Ms(), st, pv})
	}
	fmt.Fprintf(e.stdout, "%s step, batch %d, %d tokens: %s (%s-bound) on %s, tp=%d pp=%d\n", *phase, *batch, *tokens, st.Time, st.Bound, d.GPU.ID, d.TP, d.PP)
	if *explain {
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "operator\tFLOP/GPU\tbytes/GPU\tcompute\tmemory\toverhead\ttime\tbound\tceilings\t")
		for _, o := range st.Ops {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", o.Name, o.FLOPs, o.Bytes, o.Compute, o.Memory, o.Overhead, o.Time, o.Bound, o.Ceiling)
		}
		tw.Flush()
		fmt.Fprintln(e.stdout, "times are per pipeline stage and summed over its layers; compute = FLOPs/(ceiling·η), memory = bytes/(bandwidth ceiling·η)")
		fmt.Fprintln(e.stdout, "ceilings and overhead terms:")
		for _, p := range d.Parameters() {
			switch {
			case strings.Contains(p.Name, "ceiling"), strings.HasSuffix(p.Name, "_efficiency"),
				strings.HasSuffix(p.Name, "overhead_us"), strings.HasSuffix(p.Name, "overhead_ms"), p.Name == "elementwise_kernels_per_layer":
				v := units.Sig(p.Value) + " " + p.Unit
				if u, rest, _ := strings.Cut(p.Unit, " "); u == "B/s" || u == "FLOP/s" {
					v = strings.TrimSpace(units.Prefixed(p.Value, u) + " " + rest)
				}
				fmt.Fprintf(e.stdout, "  %-30s %s — %s\n", p.Name, v, p.Source)
			}
		}
	}
	fmt.Fprintf(e.stdout, "sources: model %s; GPU %s; %s\n", pv.Model, pv.GPU, pv.Profile)
	return nil
}

// stepRow is one row of a steps.csv file.
type stepRow struct {
	fields []string
	header []string
	model  string
	gpu    string
	tp     int
	dtype  string
	phase  string
	batch  int
	tokens int
	ms     float64 // 0 when empty
}

// readSteps parses a steps.csv (header required; extra columns are kept).
func readSteps(r io.Reader, name string) ([]stepRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: empty file (want header model,gpu,tp,weight_dtype,phase,batch,tokens,ms)", name)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[strings.TrimSpace(h)] = i
	}
	for _, h := range []string{"model", "gpu", "phase", "batch", "tokens"} {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("%s: missing column %q (want header model,gpu,tp,weight_dtype,phase,batch,tokens,ms)", name, h)
		}
	}
	get := func(rec []string, k string) string {
		if i, ok := col[k]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var rows []stepRow
	for n, rec := range recs[1:] {
		line := n + 2
		r := stepRow{fields: rec, header: recs[0], model: get(rec, "model"), gpu: get(rec, "gpu"), dtype: get(rec, "weight_dtype"), phase: get(rec, "phase")}
		var err error
		atoi := func(k string, def int) int {
			s := get(rec, k)
			if s == "" {
				return def
			}
			v, e := strconv.Atoi(s)
			if e != nil && err == nil {
				err = fmt.Errorf("%s:%d: %s %q is not an integer", name, line, k, s)
			}
			return v
		}
		r.tp, r.batch, r.tokens = atoi("tp", 1), atoi("batch", 0), atoi("tokens", 0)
		if s := get(rec, "ms"); s != "" {
			v, e := strconv.ParseFloat(s, 64)
			if e != nil || v < 0 {
				return nil, fmt.Errorf("%s:%d: ms %q is not a non-negative number", name, line, s)
			}
			r.ms = v
		}
		if err != nil {
			return nil, err
		}
		if r.phase != "prefill" && r.phase != "decode" {
			return nil, fmt.Errorf("%s:%d: phase %q: allowed values are prefill, decode", name, line, r.phase)
		}
		if r.batch < 1 || r.tokens < 1 {
			return nil, fmt.Errorf("%s:%d: batch and tokens must be ≥ 1", name, line)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// stepSpec resolves a steps.csv row to a deployment spec (the profile is set by the caller).
func stepSpec(ctx context.Context, e *env, r stepRow, gpuFiles []string) (estimator.Spec, error) {
	m, err := loadModel(ctx, e, r.model)
	if err != nil {
		return estimator.Spec{}, err
	}
	cat, err := gpuCatalogue(gpuFiles)
	if err != nil {
		return estimator.Spec{}, err
	}
	g, err := cat.Lookup(r.gpu)
	if err != nil {
		return estimator.Spec{}, usageErr("gpu: %v", err)
	}
	return estimator.Spec{Model: m, GPU: g, TP: r.tp, WeightDtype: r.dtype}, nil
}

func loadStepSamples(ctx context.Context, e *env, file string, gpuFiles []string) ([]stepRow, []estimator.StepSample, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, usageErr("--steps: %v", err)
	}
	defer f.Close()
	rows, err := readSteps(f, file)
	if err != nil {
		return nil, nil, usageErr("%v", err)
	}
	var samples []estimator.StepSample
	for _, r := range rows {
		sp, err := stepSpec(ctx, e, r, gpuFiles)
		if err != nil {
			return nil, nil, err
		}
		samples = append(samples, estimator.StepSample{Spec: sp, Phase: r.phase, Batch: r.batch, Tokens: r.tokens, Measured: r.ms / 1e3})
	}
	return rows, samples, nil
}

func stepsFile(ctx context.Context, e *env, file string, df *deployFlags, out string) error {
	prof, _, err := resolveProfile("engine", df.engine, df.profile)
	if err != nil {
		return err
	}
	rows, samples, err := loadStepSamples(ctx, e, file, df.gpuFiles)
	if err != nil {
		return err
	}
	var res []map[string]any
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	if out == "table" {
		fmt.Fprintln(tw, "model\tgpu\ttp\tphase\tbatch\ttokens\tmeasured ms\tpredicted ms\terror %\tbound")
	}
	for i, s := range samples {
		s.Spec.Profile = prof
		d, err := estimator.New(s.Spec)
		if err != nil {
			return usageErr("%s:%d: %v", file, i+2, err)
		}
		b, _ := estimator.StepBatch(s.Phase, s.Batch, s.Tokens)
		st := d.StepTime(b, false)
		row := map[string]any{}
		for j, h := range rows[i].header {
			if j < len(rows[i].fields) {
				row[h] = rows[i].fields[j]
			}
		}
		pred := st.Time.Ms()
		// The columns step reads are numbers in JSON, as in the table; others stay text.
		row["tp"], row["batch"], row["tokens"] = rows[i].tp, s.Batch, s.Tokens
		if j := colIndex(rows[i].header, "ms"); j >= 0 {
			row["ms"] = nil
			if j < len(rows[i].fields) && strings.TrimSpace(rows[i].fields[j]) != "" {
				row["ms"] = rows[i].ms
			}
		}
		row["predicted_ms"] = pred
		row["bound"] = st.Bound
		errPct := any(nil)
		if rows[i].ms > 0 {
			errPct = 100 * (pred - rows[i].ms) / rows[i].ms
		}
		row["error_pct"] = errPct
		res = append(res, row)
		if out == "table" {
			ep := "-"
			if errPct != nil {
				ep = fmt.Sprintf("%+.1f", errPct)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n", rows[i].model, rows[i].gpu, rows[i].tp, s.Phase, s.Batch, s.Tokens,
				units.Sig(rows[i].ms), units.Sig(pred), ep, st.Bound)
		}
	}
	if out == "json" {
		if res == nil {
			res = []map[string]any{}
		}
		return writeJSON(e.stdout, res)
	}
	return tw.Flush()
}

// colIndex returns the index of column name in header (−1 when absent).
func colIndex(header []string, name string) int {
	for i, h := range header {
		if strings.TrimSpace(h) == name {
			return i
		}
	}
	return -1
}
