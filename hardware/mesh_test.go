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

// TestAllReduceCatalogue: measured all-reduce rows are read with their size and group, and the
// large-message line goes through the 16 MiB point with the largest message's bus bandwidth.
// Hand calculation, H100 (Azure ND H100 v5, nccl-tests): 16 MiB at 234.45 GB/s takes
// 16·2^20 · 2·7/8 / 234.45e9 = 125.24 µs; at 478.87 GB/s (8 GiB) the bytes take 61.31 µs, so
// the latency is 63.92 µs.
func TestAllReduceCatalogue(t *testing.T) {
	for _, c := range []struct {
		in    string
		bytes float64
		gpus  int
		ok    bool
	}{
		{`8 GiB ("8G"), 8 GPUs, in-place`, 8 << 30, 8, true},
		{"1 MiB, 8 GPUs", 1 << 20, 8, true},
		{"256 MB, 8 devices, 1000 loops", 256e6, 8, true},
		{"16 GiB, 32 GPUs (4 nodes)", 16 << 30, 32, true},
		{"pairwise copy (default size)", 0, 0, false},
	} {
		b, n, ok := parseAllReduceShape(c.in)
		if ok != c.ok || b != c.bytes || n != c.gpus {
			t.Errorf("%q: %g bytes, %d GPUs, %v; want %g, %d, %v", c.in, b, n, ok, c.bytes, c.gpus, c.ok)
		}
	}
	g, err := load(t).Lookup("H100 SXM")
	if err != nil {
		t.Fatal(err)
	}
	f := g.Achievable.AllReduceLine
	if !g.Achievable.AllReduceFitted || len(g.Achievable.AllReduce) < 5 {
		t.Fatalf("H100: %d points, fitted %v", len(g.Achievable.AllReduce), g.Achievable.AllReduceFitted)
	}
	if math.Abs(f.Latency*1e6-63.92) > 0.01 || f.BusBW != 478.87e9 || f.GPUs != 8 {
		t.Errorf("H100 line: %.2f µs, %g B/s, %d GPUs; want 63.92 µs, 478.87e9, 8", f.Latency*1e6, f.BusBW, f.GPUs)
	}
	if got := f.Seconds(16<<20) * 1e6; math.Abs(got-125.23) > 0.01 {
		t.Errorf("16 MiB: %.2f µs, want 125.23 (measured)", got)
	}
}
