package estimator

import (
	"math"
	"strings"
	"testing"
)

// TestPrefixHitsHandCalc: 10 prefixes of 1000 tokens at 131,072 B/token (Llama-3.1-8B bf16,
// TP1) = 1.31072 GB; HBM keeps 2 of them, a CPU tier of 5 prefixes' size 5 more.
// HBM 2/10 = 0.2, CPU 7/10 − 0.2 = 0.5, miss 0.3; a CPU hit loads 131,072,000 B at 50 GB/s
// = 2.62144 ms + 50 µs, weighted by 0.5 → 1.33572 ms per request.
func TestPrefixHitsHandCalc(t *testing.T) {
	per := 1000 * 131072.0
	tiers := []OffloadTier{{Name: TierCPU, Capacity: 5 * 131072000, Bandwidth: 50e9, Latency: 50e-6}}
	h := PrefixHits(10, 1000, 131072, 2*per, tiers, 1)
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"hbm", h.HBM, 0.2}, {"cpu", h.CPU, 0.5}, {"miss", h.Miss, 0.3}, {"load", h.LoadS, 1.33572e-3}} {
		if math.Abs(c.got-c.want) > 1e-9 {
			t.Errorf("%s: got %.9g, want %.9g", c.name, c.got, c.want)
		}
	}
}

// TestOffloadCutsTTFT: 256 conversations with 8k-token histories (268 GB of KV) do not fit an H100's KV cache
// next to the running batch; a 500 GB CPU tier turns most recomputations into PCIe loads.
func TestOffloadCutsTTFT(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	g := mustGPU(t, "H100 SXM")
	w := Workload{Kind: Concurrency, Concurrency: 8, InputLen: 9000, OutputLen: 200, PrefixLen: 8000}
	base := mustDeploy(t, Spec{Model: m, GPU: g, Profile: MustEngine("vllm"), Offload: &Offload{Prefixes: 256}})
	d0 := mustDeploy(t, Spec{Model: m, GPU: g, Profile: MustEngine("vllm")})
	tiers, err := d0.ResolveTiers([]OffloadTier{{Name: TierCPU, Capacity: 500e9}})
	if err != nil {
		t.Fatal(err)
	}
	off := mustDeploy(t, Spec{Model: m, GPU: g, Profile: MustEngine("vllm"), Offload: &Offload{Prefixes: 256, Tiers: tiers}})
	a, err := base.Serve(w)
	if err != nil {
		t.Fatal(err)
	}
	b, err := off.Serve(w)
	if err != nil {
		t.Fatal(err)
	}
	if !(b.TTFT.Mean < 0.7*a.TTFT.Mean) {
		t.Errorf("TTFT with CPU offload %.4g ms, without %.4g ms: want a clear cut", b.TTFT.Mean, a.TTFT.Mean)
	}
	h, _ := off.OffloadHits(w, b)
	if !(h.CPU > 0.5 && h.Miss == 0) {
		t.Errorf("hits %+v", h)
	}
	// With one shared prefix nothing is loaded, but each request's 1000 new tokens of KV are
	// stored to the CPU tier: 1000 · 131,072 B over PCIe Gen5 (64 GB/s per direction × η 0.78
	// = 49.92 GB/s) = 2.626 ms more TTFT (a little more: the store also lengthens the steps).
	w.Concurrency = 4
	one := mustDeploy(t, Spec{Model: m, GPU: g, Profile: MustEngine("vllm"), Offload: &Offload{Tiers: tiers}})
	x, _ := one.Serve(w)
	y, _ := d0.Serve(w)
	if dt := x.TTFT.Mean - y.TTFT.Mean; !(dt >= 2.6256 && dt < 1.1*2.6256) {
		t.Errorf("one shared prefix: TTFT %g vs %g ms, difference %.4g ms, want ≈ 2.626 ms", x.TTFT.Mean, y.TTFT.Mean, dt)
	}
}

func TestParseOffload(t *testing.T) {
	got, err := ParseOffload("cpu:200GB,disk:2TB")
	if err != nil || len(got) != 2 || got[0].Capacity != 200e9 || got[1].Name != TierDisk || got[1].Capacity != 2e12 {
		t.Errorf("got %+v, %v", got, err)
	}
	for _, bad := range []string{"", "gpu:1GB", "cpu", "cpu:-1GB", "cpu:abc", "cpu:1GB,cpu:2GB"} {
		if _, err := ParseOffload(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
	// A size without a unit: "cpu:500" was read as 500 bytes (the table showed "cpu tier
	// 500 B per replica", an offload of nothing) though the error for a bad size asks for
	// one of GB, GiB, TB.
	for _, bad := range []string{"cpu:500", "disk:2000", "cpu:200GB,disk:2", "cpu:1e12"} {
		if _, err := ParseOffload(bad); err == nil || !strings.Contains(err.Error(), "with a unit (GB, GiB, TB)") {
			t.Errorf("%q: error %v, want one asking for a unit", bad, err)
		}
	}
}
