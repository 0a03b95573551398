package validation

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"roofline/bench"
	"roofline/estimator"
	"roofline/units"
)

// ComparisonReport is the document of "roofline compare" and "roofline validate": a
// prediction beside a measured benchmark, metric by metric (CompareMetrics), with
// the verdict (Judge) and where every input came from.
type ComparisonReport struct {
	// Benchmark names the measured benchmark (tool, and which run of a multi-run file).
	Benchmark string `json:"benchmark,omitempty"`
	// Hints are the workload values compare took from the result file (flag → value and where from).
	Hints map[string]string `json:"from_result_file,omitempty"`
	// DefinitionDifferences are the file's metrics defined otherwise than roofline's.
	DefinitionDifferences map[string]string `json:"definition_differences,omitempty"`
	Model                 string            `json:"model"`
	GPU                   string            `json:"gpu"`
	Method                string            `json:"prediction_method"`
	Metrics               []Comparison      `json:"metrics"`
	MaxKeyErr             *float64          `json:"max_key_error_pct"` // null without a verdict
	MaxError              float64           `json:"max_error_pct_allowed"`
	Verdict               string            `json:"verdict"`
	// VerdictOf is the verdict in full: status agrees, differs, unbounded or no_verdict,
	// the key metrics not measured, and whether the run was interrupted (partial).
	VerdictOf  Verdict              `json:"verdict_detail"`
	Measured   bench.Summary        `json:"measured"`
	Predicted  estimator.Serving    `json:"predicted"`
	Provenance estimator.Provenance `json:"provenance"`
	Warnings   []string             `json:"warnings"`
}

// NewComparisonReport assembles the report of a prediction against a measured summary; maxErr ≤ 0
// means no bound. The verdict comes from Judge, which refuses without data.
func NewComparisonReport(d *estimator.Deployment, pv estimator.Provenance, pred estimator.Serving, sum bench.Summary, maxErr float64, openLoop bool) ComparisonReport {
	metrics, v := CompareMetrics(pred, sum, maxErr, openLoop)
	return ComparisonReport{Model: d.Model.ID, GPU: d.GPU.ID, Method: pred.Method, Metrics: metrics, MaxKeyErr: v.MaxKeyErrPct, MaxError: maxErr,
		Verdict: v.Text, VerdictOf: v, Measured: sum, Predicted: pred, Provenance: pv, Warnings: append(estimator.Messages(d.Warnings()), sum.Warnings...)}
}

// WriteText prints the report as a table: metric, predicted, measured, error % and whether
// the metric is a key one, then the verdict, the sources and the warnings.
func (r ComparisonReport) WriteText(w io.Writer) {
	if r.Benchmark != "" {
		fmt.Fprintf(w, "measured: %s\n", r.Benchmark)
	}
	if len(r.Hints) > 0 {
		keys := slices.Sorted(maps.Keys(r.Hints))
		for _, k := range keys {
			fmt.Fprintf(w, "from the result file: --%s %s\n", k, r.Hints[k])
		}
	}
	fmt.Fprintf(w, "%s on %s: predicted (%s) vs measured\n", r.Model, r.GPU, r.Method)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tpredicted\tmeasured\terror %\t")
	s := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return units.Sig(*p)
	}
	for _, c := range r.Metrics {
		e := "-"
		if c.ErrPct != nil {
			e = fmt.Sprintf("%+.1f", *c.ErrPct)
		}
		k := ""
		if c.Key {
			k = "key"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Metric, s(c.Predicted), s(c.Measured), e, k)
	}
	tw.Flush()
	fmt.Fprintf(w, "verdict: %s\n", r.Verdict)
	fmt.Fprintf(w, "sources: model %s; GPU %s; %s\n", r.Provenance.Model, r.Provenance.GPU, r.Provenance.Profile)
	for _, x := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", x)
	}
}

// ApplyDefinitions withholds the comparison of metrics whose definition in the file
// differs from roofline's (unless allowed), saying why, and judges the verdict again.
func (r *ComparisonReport) ApplyDefinitions(s bench.Summary, allow bool, maxErr float64) {
	if len(s.Definitions) == 0 {
		return
	}
	keys := slices.Sorted(maps.Keys(s.Definitions))
	for _, k := range keys {
		why := s.Definitions[k]
		touched := false
		for i := range r.Metrics {
			c := &r.Metrics[i]
			if !strings.HasPrefix(c.Metric, k+"_") && c.Metric != k {
				continue
			}
			touched = true
			if !allow {
				c.Measured, c.ErrPct = nil, nil
			}
		}
		if !touched {
			continue
		}
		if allow {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s compared although its definition differs (--allow-definition-mismatch): %s", k, why))
		} else {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s not compared: %s; --allow-definition-mismatch compares it anyway", k, why))
		}
		r.DefinitionDifferences = s.Definitions
	}
	if !allow {
		succeeded := -1
		if s.Known(bench.FieldCompleted) {
			succeeded = s.Completed
		}
		v := Judge(r.Metrics, succeeded, s.Failed, maxErr)
		r.VerdictOf, r.Verdict, r.MaxKeyErr = v, v.Text, v.MaxKeyErrPct
	}
}

// Worse is the worse of two verdicts: no verdict, then differs, then unbounded, then agrees
// (the exit status of a multi-benchmark compare follows the worst).
func Worse(a, b Verdict) Verdict {
	switch {
	case b.Status == NoVerdict:
		return b
	case b.Status == Differs && a.Status != NoVerdict:
		return b
	case b.Status == Unbounded && a.Status == Agrees:
		return b
	}
	return a
}
