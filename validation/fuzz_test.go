package validation

import (
	"bytes"
	"testing"
)

// FuzzReadValidation: a validation CSV either parses or fails with an error, never a panic.
func FuzzReadValidation(f *testing.F) {
	f.Add([]byte("id,model,gpu,metric,value\nx,meta-llama/Llama-3.1-8B-Instruct,H100,ttft_ms_mean,12.5\n"))
	f.Add([]byte("id,model,gpu,metric,value,request_rate,tp\nx,m,g,output_tok_s,inf,inf,2.5\n"))
	f.Add([]byte("id,model,gpu,metric,value,enforce_eager\nx,m,g,batch_elapsed_s,280.8,TRUE\ny,m,g,batch_elapsed_s,68.4,yes\n"))
	f.Add([]byte("id,model\n\"unterminated\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := ReadRows(bytes.NewReader(b), "fuzz.csv")
		for _, r := range rows {
			if err == nil && r.Line < 2 {
				t.Fatalf("row %+v has no line number", r)
			}
		}
	})
}
