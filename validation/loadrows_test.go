package validation_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"roofline/validation"
)

// TestLoadRowsUnknownGPU: a row on a GPU the catalogue lacks stops the read, naming its
// line and field, or with skip is left out and counted.
func TestLoadRowsUnknownGPU(t *testing.T) {
	f := filepath.Join(t.TempDir(), "v.csv")
	os.WriteFile(f, []byte("id,model,gpu,tp,workload,concurrency,input_len,output_len,metric,value\n"+
		"a-ttft_ms_mean,meta-llama/Llama-3.1-8B-Instruct,H100,1,concurrency,16,1000,200,ttft_ms_mean,42.5\n"+
		"b-ttft_ms_mean,meta-llama/Llama-3.1-8B-Instruct,X9,1,concurrency,16,1000,200,ttft_ms_mean,42.5\n"), 0o644)
	known := func(gpu string) error {
		if gpu == "X9" {
			return errors.New("unknown GPU")
		}
		return nil
	}
	if _, _, err := validation.LoadRows([]string{f}, false, known); err == nil || !strings.Contains(err.Error(), ":3") || !strings.Contains(err.Error(), "gpu") {
		t.Errorf("without skip: %v; want an error naming line 3 and the gpu field", err)
	}
	rows, bad, err := validation.LoadRows([]string{f}, true, known)
	if err != nil || len(rows) != 1 || len(bad) != 1 || bad[0].Line != 3 {
		t.Errorf("with skip: %d rows, bad %v, %v; want 1 row and line 3 skipped", len(rows), bad, err)
	}
}
