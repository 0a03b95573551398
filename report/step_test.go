package report_test

import (
	"strings"
	"testing"

	"roofline/estimator"
	"roofline/report"
)

// TestPredictStepsErrorAndJSON: a row with a measured time gets error = 100·(predicted −
// measured)/measured, computed here from the prediction; a row without one gets none, and
// its ms and error_pct are null in JSON while the other columns are kept as read.
func TestPredictStepsErrorAndJSON(t *testing.T) {
	csv := "model,gpu,tp,phase,batch,tokens,ms,note\n" +
		"meta-llama/Llama-3.1-8B-Instruct,H100,1,decode,8,1024,10,a\n" +
		"meta-llama/Llama-3.1-8B-Instruct,H100,1,prefill,1,512,,b\n"
	rows, err := estimator.ReadSteps(strings.NewReader(csv), "t.csv")
	if err != nil {
		t.Fatal(err)
	}
	m, g := llama8BOnH100(t)
	var samples []estimator.StepSample
	for _, r := range rows {
		samples = append(samples, estimator.StepSample{Spec: estimator.Spec{Model: m, GPU: g, TP: r.TP}, Phase: r.Phase, Batch: r.Batch, Tokens: r.Tokens, Measured: r.Ms / 1e3})
	}
	prof, _, _ := estimator.Engine("vllm")
	ps, err := report.PredictSteps(rows, samples, prof)
	if err != nil {
		t.Fatal(err)
	}
	if ps[0].ErrPct == nil || *ps[0].ErrPct != 100*(ps[0].PredictedMs-10)/10 {
		t.Errorf("row 1 error %v, want 100·(%g − 10)/10", ps[0].ErrPct, ps[0].PredictedMs)
	}
	if ps[1].ErrPct != nil {
		t.Errorf("row 2 has no measurement but an error %g", *ps[1].ErrPct)
	}
	js := report.StepsJSON(ps)
	if js[1]["ms"] != nil || js[1]["error_pct"] != nil || js[1]["note"] != "b" || js[0]["batch"] != 8 {
		t.Errorf("JSON rows %v", js)
	}
}
