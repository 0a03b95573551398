package validation_test

import (
	"context"
	"strings"
	"testing"

	"roofline/hardware"
	"roofline/models"
	"roofline/validation"
)

// TestEvaluate: one measured row gives one result with its error = 100·(predicted −
// measured)/measured (recomputed here from the result's own numbers), not in-sample (the
// id is made up), and the summary counts it.
func TestEvaluate(t *testing.T) {
	csv := "id,model,gpu,tp,workload,concurrency,input_len,output_len,metric,value\n" +
		"made-up-run-ttft_ms_mean,meta-llama/Llama-3.1-8B-Instruct,H100,1,concurrency,16,1000,200,ttft_ms_mean,42.5\n"
	rows, err := validation.ReadRows(strings.NewReader(csv), "t.csv")
	if err != nil {
		t.Fatal(err)
	}
	opts := closedFormOptions(t)
	doc := validation.Evaluate(context.Background(), rows, nil, opts)
	if len(doc.Rows) != 1 || doc.Rows[0].InSample || len(doc.Notes) == 0 {
		t.Fatalf("rows %+v, notes %d", doc.Rows, len(doc.Notes))
	}
	r := doc.Rows[0]
	if r.Predicted == nil || r.ErrPct == nil {
		t.Fatalf("no error computed: %+v", r)
	}
	if want := 100 * (*r.Predicted - r.Measured) / r.Measured; *r.ErrPct-want > 1e-9 || want-*r.ErrPct > 1e-9 {
		t.Errorf("error %g%%, want %g%%", *r.ErrPct, want)
	}
}

// TestUnpredictedReasonNamesColumn: a row without its lengths stays (the measurement is
// kept) but is not predicted, and its reason names the CSV column the row lacks; it named
// the estimate flag ("--input-len 0: must be ≥ 1 token"), which the file does not have.
func TestUnpredictedReasonNamesColumn(t *testing.T) {
	csv := "id,model,gpu,tp,workload,concurrency,input_len,output_len,metric,value\n" +
		"a-ttft_ms_mean,meta-llama/Llama-3.1-8B-Instruct,H100,1,concurrency,16,,200,ttft_ms_mean,42.5\n" +
		"b-ttft_ms_mean,meta-llama/Llama-3.1-8B-Instruct,H100,1,concurrency,16,1000,,ttft_ms_mean,42.5\n"
	rows, err := validation.ReadRows(strings.NewReader(csv), "t.csv")
	if err != nil {
		t.Fatal(err)
	}
	opts := closedFormOptions(t)
	res := validation.Predict(context.Background(), rows, opts)
	for i, want := range []string{"input_len empty or 0", "output_len empty or 0"} {
		if r := res[i]; r.Predicted != nil || !strings.HasPrefix(r.Reason, want) || r.GPUID == "" {
			t.Errorf("row %d: predicted %v, reason %q, gpu id %q; want no prediction, a reason starting %q and the row's GPU kept", i+1, r.Predicted, r.Reason, r.GPUID, want)
		}
	}
}

// closedFormOptions predicts with the closed form from the embedded GPU and model catalogues.
func closedFormOptions(t *testing.T) validation.Options {
	t.Helper()
	cat, err := hardware.Load()
	if err != nil {
		t.Fatal(err)
	}
	return validation.Options{ClosedForm: true, Catalogue: cat,
		LoadModel: func(_ context.Context, name string) (*models.Model, error) { return models.LoadCatalogue(name) }}
}
