package report_test

import (
	"strings"
	"testing"

	"roofline/estimator"
	"roofline/hardware"
	"roofline/models"
	"roofline/report"
)

// TestMemoryTableMinGPUs: the memory table names the split behind "min GPUs that fit"
// (12 GPUs is tp 4 × pp 3, not a TP size) and says "none" when no split up to 128 GPUs
// fits, where it printed 0 before. Expected splits: the hand calculation of estimator
// TestDoesNotFitNamesSplit (70B on L4); Llama-3.1-8B's 16.1 GB of weights fit one 80 GB H100.
func TestMemoryTableMinGPUs(t *testing.T) {
	cat, err := hardware.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		model, gpu, want string
	}{
		{"meta-llama/Llama-3.1-70B-Instruct", "L4", "min GPUs that fit               12 (tp=4 pp=3)"},
		{"meta-llama/Llama-3.1-8B-Instruct", "H100", "min GPUs that fit               1 (tp=1 pp=1)"},
	} {
		m, err := models.LoadCatalogue(tc.model)
		if err != nil {
			t.Fatal(err)
		}
		g, err := cat.Lookup(tc.gpu)
		if err != nil {
			t.Fatal(err)
		}
		d, err := estimator.New(estimator.Spec{Model: m, GPU: g, Profile: estimator.MustEngine("vllm")})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		report.WriteMemoryTable(&b, report.NewMemory(d, estimator.Provenance{}))
		if !strings.Contains(b.String(), tc.want) {
			t.Errorf("%s on %s: table\n%s\nwant the line %q", tc.model, tc.gpu, b.String(), tc.want)
		}
	}
	// No split fits: the table says so instead of "0".
	var b strings.Builder
	report.WriteMemoryTable(&b, report.Memory{})
	if !strings.Contains(b.String(), "min GPUs that fit               none up to 128") {
		t.Errorf("no fitting split: table\n%s", b.String())
	}
}
