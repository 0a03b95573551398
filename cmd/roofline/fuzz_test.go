package main

import (
	"bytes"
	"testing"
)

// FuzzReadSteps: a steps.csv either parses into rows with phase, batch and tokens valid, or errs.
func FuzzReadSteps(f *testing.F) {
	f.Add([]byte("model,gpu,tp,weight_dtype,phase,batch,tokens,ms\nm,H100,1,bf16,decode,8,1024,9.5\n"))
	f.Add([]byte("model,gpu,phase,batch,tokens\nm,g,prefill,0,5\n"))
	f.Add([]byte("model,gpu,phase,batch,tokens,ms\nm,g,decode,1,1,-3\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := readSteps(bytes.NewReader(b), "fuzz.csv")
		if err != nil {
			return
		}
		for _, r := range rows {
			if (r.phase != "prefill" && r.phase != "decode") || r.batch < 1 || r.tokens < 1 || r.ms < 0 {
				t.Fatalf("accepted an invalid row: %+v", r)
			}
		}
	})
}
