package report_test

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"roofline/estimator"
	"roofline/report"
)

// TestWriteFitText: a parameter the rows pin down prints its relative standard error as a
// percentage (0.05 → ±5%); one they cannot separate (+Inf) prints "unbounded" and is marked
// not identified.
func TestWriteFitText(t *testing.T) {
	fit := estimator.Fit{N: 12, MAPE: 4, MAPE0: 20, MaxAPE: 9,
		Params: []estimator.FitParam{{Name: "gemm_efficiency", Before: 0.8, After: 0.7}, {Name: "step_overhead_ms", Before: 1, After: 2}},
		Identifiability: []estimator.ParamIdent{{Name: "gemm_efficiency", Sensitivity: 0.5, RelStdErr: 0.05, Identified: true},
			{Name: "step_overhead_ms", Sensitivity: 0.001, RelStdErr: estimator.NullFloat(math.Inf(1))}}}
	var b bytes.Buffer
	report.WriteFitText(&b, fit, "vllm", "", nil)
	lines := strings.Split(b.String(), "\n")
	if !strings.HasPrefix(lines[0], "fitted 12 rows: MAPE 4.00% (base profile vllm: 20.00%)") {
		t.Errorf("first line %q", lines[0])
	}
	if !strings.HasSuffix(lines[2], "±5%") || !strings.HasSuffix(lines[3], "unbounded  (not identified)") {
		t.Errorf("parameter lines:\n%s\n%s", lines[2], lines[3])
	}
}

// TestRenderFileBadDocument: a document Render refuses leaves no file behind.
func TestRenderFileBadDocument(t *testing.T) {
	p := filepath.Join(t.TempDir(), "out.html")
	if _, err := report.RenderFile(p, []byte(`{"x": 1}`)); err == nil {
		t.Fatal("no error for an unrecognised document")
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("file left behind: %v", err)
	}
}
