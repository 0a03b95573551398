package estimator_test

import (
	"os"
	"path/filepath"
	"testing"

	"roofline/estimator"
)

// TestParseLengthDist: each form reads as written; a histogram file skips its header.
func TestParseLengthDist(t *testing.T) {
	u, err := estimator.ParseLengthDist("uniform:100:300")
	if err != nil || u.Kind != "uniform" || u.Min != 100 || u.Max != 300 {
		t.Errorf("uniform: %+v, %v", u, err)
	}
	n, err := estimator.ParseLengthDist("normal:512:64")
	if err != nil || n.Kind != "normal" || n.Mean != 512 || n.Std != 64 {
		t.Errorf("normal: %+v, %v", n, err)
	}
	f := filepath.Join(t.TempDir(), "h.csv")
	os.WriteFile(f, []byte("tokens,weight\n100,1\n1000,3\n"), 0o644)
	h, err := estimator.ParseLengthDist("hist:" + f)
	if err != nil || h.Kind != "histogram" || len(h.Values) != 2 || h.Values[1] != 1000 || h.Weights[1] != 3 {
		t.Errorf("hist: %+v, %v", h, err)
	}
	for _, bad := range []string{"uniform:1", "zipf:1:2", "hist:" + filepath.Join(t.TempDir(), "none.csv")} {
		if _, err := estimator.ParseLengthDist(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
