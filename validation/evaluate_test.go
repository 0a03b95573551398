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

// TestRefusedRowKeepsItsProfile: a row the deployment refuses (here a 3000-token sequence on
// GPT-J, whose config.json gives n_positions = 2048) is not predicted, but it still belongs
// to its engine release's profile: TensorRT-LLM 0.6.1 falls in the "<1.0" range of
// trtllm-0.x. The by-version table listed such rows on a line of their own,
// "trtllm@0.6.1" beside "trtllm@0.6.1 [trtllm-0.x]".
func TestRefusedRowKeepsItsProfile(t *testing.T) {
	csv := "id,model,gpu,tp,engine,engine_version,workload,batch_size,input_len,output_len,metric,value\n" +
		"a-out,EleutherAI/gpt-j-6b,H100,1,trtllm,0.6.1,static,8,128,128,output_tok_s,1000\n" +
		"b-out,EleutherAI/gpt-j-6b,H100,1,trtllm,0.6.1,static,8,2000,1000,output_tok_s,1000\n"
	rows, err := validation.ReadRows(strings.NewReader(csv), "t.csv")
	if err != nil {
		t.Fatal(err)
	}
	doc := validation.Evaluate(context.Background(), rows, nil, closedFormOptions(t))
	if r := doc.Rows[1]; r.Predicted != nil || !strings.Contains(r.Reason, "max context") {
		t.Fatalf("row 2: predicted %v, reason %q; want it refused for its context", r.Predicted, r.Reason)
	}
	for i, r := range doc.Rows {
		if r.Profile != "trtllm-0.x" || r.GPUID == "" || r.ModelClass != "dense" {
			t.Errorf("row %d: profile %q, gpu %q, model class %q; want trtllm-0.x, the H100's id, dense", i+1, r.Profile, r.GPUID, r.ModelClass)
		}
	}
	if g := doc.Summary.ByEngineVersion; len(g) != 1 || g[0].Rows != 2 || g[0].Predicted != 1 {
		t.Errorf("by engine version: %+v; want one group of 2 rows, 1 predicted", g)
	}
}
