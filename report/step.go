package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"roofline/estimator"
	"roofline/units"
)

// Step is the document of "roofline step": one engine step's predicted time (ms) with its
// per-operator breakdown (estimator.Step) and the inputs' provenance.
type Step struct {
	Model       string  `json:"model"`
	GPU         string  `json:"gpu"`
	Phase       string  `json:"phase"`
	Batch       int     `json:"batch"`
	Tokens      int     `json:"tokens"`
	PredictedMs float64 `json:"predicted_ms"`
	estimator.Step
	Provenance estimator.Provenance `json:"provenance"`
	// Warnings are the deployment's caveats (Deployment.Warnings), as estimate and memory
	// print them: a release predicted on a GPU it did not support, dequantised weights, …
	Warnings []string `json:"warnings"`
}

// NewStep is the document of step st of d: phase with batch sequences of tokens tokens.
func NewStep(d *estimator.Deployment, phase string, batch, tokens int, st estimator.Step, pv estimator.Provenance) Step {
	w := estimator.Messages(d.Warnings())
	if w == nil {
		w = []string{}
	}
	return Step{d.Model.ID, d.GPU.ID, phase, batch, tokens, st.Time.Ms(), st, pv, w}
}

// WriteStepText prints the step time and its bound; with explain, the per-operator table
// (FLOP and bytes per GPU, compute = FLOPs/(ceiling·η), memory = bytes/(bandwidth
// ceiling·η), overhead, time) and the ceilings and overhead terms of d with their sources.
func WriteStepText(w io.Writer, d *estimator.Deployment, s Step, explain bool) {
	st := s.Step
	fmt.Fprintf(w, "%s step, batch %d, %d tokens: %s (%s-bound) on %s, tp=%d pp=%d\n", s.Phase, s.Batch, s.Tokens, st.Time, st.Bound, d.GPU.ID, d.TP, d.PP)
	if explain {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "operator\tFLOP/GPU\tbytes/GPU\tcompute\tmemory\toverhead\ttime\tbound\tceilings\t")
		for _, o := range st.Ops {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", o.Name, o.FLOPs, o.Bytes, o.Compute, o.Memory, o.Overhead, o.Time, o.Bound, o.Ceiling)
		}
		tw.Flush()
		fmt.Fprintln(w, "times are per pipeline stage and summed over its layers; compute = FLOPs/(ceiling·η), memory = bytes/(bandwidth ceiling·η)")
		for _, o := range st.Ops {
			if o.Name == "decode_dispatch" || o.Name == "prefill_dispatch" {
				// The row is what the dispatch adds, not the dispatch: the rows above run
				// while the host enqueues the layers.
				fmt.Fprintf(w, "%s: the eager host dispatch (layers × the per-layer eager figure listed below) beyond the GPU work above, which runs while it is enqueued: the step lasts max(GPU work, dispatch)\n", o.Name)
			}
		}
		fmt.Fprintln(w, "ceilings and overhead terms:")
		for _, p := range d.Parameters() {
			switch {
			case strings.Contains(p.Name, "ceiling"), strings.Contains(p.Name, "_efficiency"),
				strings.HasSuffix(p.Name, "overhead_us"), strings.HasSuffix(p.Name, "overhead_ms"), p.Name == "elementwise_kernels_per_layer",
				strings.HasSuffix(p.Name, "eager_layer_us"), strings.HasPrefix(p.Name, "eager_"), p.Name == "cuda_graph_max_batch", p.Name == "mxfp4_moe_compute_dtype":
				fmt.Fprintf(w, "  %-30s %s — %s\n", p.Name, paramValue(p, false), p.Source)
			}
		}
	}
	for _, m := range s.Warnings {
		fmt.Fprintf(w, "warning: %s\n", m)
	}
	fmt.Fprintf(w, "sources: model %s; GPU %s; %s\n", s.Provenance.Model, s.Provenance.GPU, s.Provenance.Profile)
}

// paramValue prints a parameter with its unit, bytes/s and FLOP/s (and bytes, when bytes
// is set) with SI prefixes.
func paramValue(p estimator.Parameter, bytes bool) string {
	v := units.Sig(p.Value) + " " + p.Unit
	if u, rest, _ := strings.Cut(p.Unit, " "); (bytes && u == "B") || u == "B/s" || u == "FLOP/s" {
		v = strings.TrimSpace(units.Prefixed(p.Value, u) + " " + rest)
	}
	return v
}

// StepPrediction is one steps.csv row beside its prediction: the predicted time (ms), what
// bounds it, and the error 100·(predicted − measured)/measured (nil without a measurement).
type StepPrediction struct {
	Row         estimator.StepRow
	Sample      estimator.StepSample
	PredictedMs float64
	Bound       string
	ErrPct      *float64
}

// PredictSteps predicts every row (samples[i] is rows[i] resolved, estimator.StepSample)
// with profile prof. An error names the line of the first row whose deployment is
// invalid (":N: reason", to follow the file name).
func PredictSteps(rows []estimator.StepRow, samples []estimator.StepSample, prof *estimator.Profile) ([]StepPrediction, error) {
	var out []StepPrediction
	for i, s := range samples {
		s.Spec.Profile = prof
		d, err := estimator.New(s.Spec)
		if err != nil {
			return nil, fmt.Errorf("%d: %v", i+2, err)
		}
		b, _ := estimator.StepBatch(s.Phase, s.Batch, s.Tokens)
		st := d.StepTime(b, false)
		p := StepPrediction{Row: rows[i], Sample: s, PredictedMs: st.Time.Ms(), Bound: st.Bound}
		if rows[i].Ms > 0 {
			e := 100 * (p.PredictedMs - rows[i].Ms) / rows[i].Ms
			p.ErrPct = &e
		}
		out = append(out, p)
	}
	return out, nil
}

// StepsJSON is the JSON of "roofline step --steps": every column of each row, the columns
// step reads as numbers (ms null when empty), and predicted_ms, bound and error_pct.
func StepsJSON(ps []StepPrediction) []map[string]any {
	res := []map[string]any{}
	for _, p := range ps {
		r := p.Row
		row := map[string]any{}
		for j, h := range r.Header {
			if j < len(r.Fields) {
				row[h] = r.Fields[j]
			}
		}
		row["tp"], row["batch"], row["tokens"] = r.TP, p.Sample.Batch, p.Sample.Tokens
		if j := estimator.ColIndex(r.Header, "ms"); j >= 0 {
			row["ms"] = nil
			if j < len(r.Fields) && strings.TrimSpace(r.Fields[j]) != "" {
				row["ms"] = r.Ms
			}
		}
		row["predicted_ms"] = p.PredictedMs
		row["bound"] = p.Bound
		row["error_pct"] = nil
		if p.ErrPct != nil {
			row["error_pct"] = *p.ErrPct
		}
		res = append(res, row)
	}
	return res
}

// WriteStepsTable prints one line per row: measured and predicted ms, error % and bound.
func WriteStepsTable(w io.Writer, ps []StepPrediction) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "model\tgpu\ttp\tphase\tbatch\ttokens\tmeasured ms\tpredicted ms\terror %\tbound")
	for _, p := range ps {
		r, s := p.Row, p.Sample
		ep := "-"
		if p.ErrPct != nil {
			ep = fmt.Sprintf("%+.1f", *p.ErrPct)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n", r.Model, r.GPU, r.TP, s.Phase, s.Batch, s.Tokens,
			units.Sig(r.Ms), units.Sig(p.PredictedMs), ep, p.Bound)
	}
	return tw.Flush()
}
