package estimator_test

import (
	"bytes"
	"testing"

	"roofline/estimator"
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
