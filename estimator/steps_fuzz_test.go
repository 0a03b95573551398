package estimator_test

import (
	"bytes"
	"testing"

	"roofline/estimator"
	"roofline/hardware"
)

// FuzzReadSteps: a steps.csv either parses into rows with phase, batch and tokens valid, or errs.
func FuzzReadSteps(f *testing.F) {
	f.Add([]byte("model,gpu,tp,weight_dtype,phase,batch,tokens,ms\nm,H100,1,bf16,decode,8,1024,9.5\n"))
	f.Add([]byte("model,gpu,phase,batch,tokens\nm,g,prefill,0,5\n"))
	f.Add([]byte("model,gpu,phase,batch,tokens,ms\nm,g,decode,1,1,-3\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := estimator.ReadSteps(bytes.NewReader(b), "fuzz.csv")
		if err != nil {
			return
		}
		for _, r := range rows {
			if (r.Phase != "prefill" && r.Phase != "decode") || r.Batch < 1 || r.Tokens < 1 || r.Ms < 0 {
				t.Fatalf("accepted an invalid row: %+v", r)
			}
		}
	})
}

// TestStepGroups: rows group by their column; a row without one takes its sample's GPU
// id, or "(checkpoint dtype)" when grouped by dtype.
func TestStepGroups(t *testing.T) {
	rows := []estimator.StepRow{{GPU: "H100", WeightDtype: "fp8"}, {GPU: "", WeightDtype: ""}}
	samples := []estimator.StepSample{{}, {}}
	samples[1].Spec.GPU = &hardware.GPU{ID: "a100-sxm4-80gb"}
	if g := estimator.StepGroups(rows, samples, "gpu"); g[0] != "H100" || g[1] != "a100-sxm4-80gb" {
		t.Errorf("by gpu: %q", g)
	}
	if g := estimator.StepGroups(rows, samples, "dtype"); g[0] != "fp8" || g[1] != "(checkpoint dtype)" {
		t.Errorf("by dtype: %q", g)
	}
}
