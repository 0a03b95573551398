package hardware

import (
	"math"
	"testing"
)

// TestGroupLinkBandwidth: behind NVSwitch every GPU keeps its whole link; in MI300X's full mesh
// (AMD: 7 Infinity Fabric links of 128 GB/s bidirectional, 64 GB/s per direction, one per peer)
// a group of n GPUs uses n−1 links. Cross-check with measured all-reduce bus bandwidth
// (data/hardware/ceilings.csv): 47.671 GB/s for 2 MI300X and 318.98 GB/s for 8 (stas00
// all_reduce_bench, ROCm rccl-tests): ratio 0.149, against the mesh's 1/7 = 0.143.
func TestGroupLinkBandwidth(t *testing.T) {
	c := load(t)
	for _, tc := range []struct {
		gpu  string
		n    int
		want float64 // GB/s per direction
	}{
		{"MI300X", 1, 448}, {"MI300X", 2, 64}, {"MI300X", 4, 192}, {"MI300X", 8, 448},
		{"MI325X", 2, 64}, {"H100 SXM", 2, 450}, {"H100 SXM", 8, 450},
	} {
		g, err := c.Lookup(tc.gpu)
		if err != nil {
			t.Fatal(err)
		}
		if got := float64(g.GroupLinkBandwidth(tc.n)) / 1e9; math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s n=%d: %.4g GB/s, want %g", tc.gpu, tc.n, got, tc.want)
		}
	}
	g, _ := c.Lookup("MI300X")
	model := float64(g.GroupLinkBandwidth(2)) / float64(g.GroupLinkBandwidth(8))
	if measured := 47.671 / 318.98; math.Abs(model/measured-1) > 0.05 {
		t.Errorf("2-GPU / 8-GPU link ratio %.3f, measured all-reduce ratio %.3f", model, measured)
	}
}
