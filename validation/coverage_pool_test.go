package validation_test

import (
	"context"
	"strings"
	"testing"

	"roofline/validation"
)

// TestCoveragePoolsSmallSources: in the coverage report every source with fewer than
// MinCoverageRows (20) out-of-sample rows is marked small and counted in one pooled group, whose
// rows and rows inside are the sums of its members'; larger sources stand alone; the overall
// row comes last and counts every source once. Checked on the TRT061, TRTBLOG, VLLMFP8 and
// SGL060 rows (18, 13, 9 and 36 out-of-sample rows in the full report).
func TestCoveragePoolsSmallSources(t *testing.T) {
	all, err := validation.ReadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	var rows []validation.Row
	for _, r := range all {
		for _, p := range []string{"TRT061-", "TRTBLOG-", "VLLMFP8-", "SGL060-"} {
			if strings.HasPrefix(r.ID, p) {
				rows = append(rows, r)
			}
		}
	}
	res := validation.Predict(context.Background(), rows, closedFormOptions(t))
	inSample := validation.InSample()
	for i := range res {
		res[i].InSample = inSample(res[i].ID)
	}
	cov := validation.Intervals(res)
	if len(cov) < 2 || cov[len(cov)-1].Key != "all (out of sample)" {
		t.Fatalf("coverage %+v: want the overall row last", cov)
	}
	var pool *validation.Coverage
	var small []string
	sum, sumIn, sumRows := 0, 0, 0
	for i, c := range cov[:len(cov)-1] {
		switch {
		case len(c.Members) > 0:
			pool = &cov[i]
		case c.Rows < validation.MinCoverageRows:
			if !c.Small {
				t.Errorf("%s: %d rows, want marked small", c.Key, c.Rows)
			}
			small = append(small, c.Key)
			sum, sumIn = sum+c.Rows, sumIn+c.InsideLOO
		default:
			if c.Small {
				t.Errorf("%s: %d rows, marked small", c.Key, c.Rows)
			}
		}
		if len(c.Members) == 0 {
			sumRows += c.Rows
		}
	}
	if len(small) < 2 || pool == nil {
		t.Fatalf("small sources %v, pooled %+v: want at least two pooled", small, pool)
	}
	if strings.Join(pool.Members, ",") != strings.Join(small, ",") || pool.Rows != sum || pool.InsideLOO != sumIn {
		t.Errorf("pooled %+v, want members %v with %d rows, %d inside", *pool, small, sum, sumIn)
	}
	if o := cov[len(cov)-1]; o.Rows != sumRows {
		t.Errorf("overall %d rows, want %d (each source once)", o.Rows, sumRows)
	}
}
