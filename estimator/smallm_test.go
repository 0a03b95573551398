package estimator

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestSmallMGEMM checks the per-GEMM terms of the step model (GEMMTime) against the
// GEMM-by-M microbenchmark measured on one H200 (hardware/testdata/h200/gemm.csv: 60
// bf16 and 60 fp8 GEMMs, M = 1…8192, in CUDA graphs). The shape terms of
// hardware/testdata/h200/small-m-gemm.toml (5 µs per GEMM, ridge exponent 3) must predict
// each dtype within 10% mean absolute error; the vllm profile's max() without a fixed
// cost leaves the small-M GEMMs far too fast (> 12%), which is the error small-batch
// decode inherits. Ceilings are the catalogue's H200 achievable figures (bf16 794.5,
// fp8 1453.4 TFLOP/s, HBM read 4.48 TB/s, data/hardware/ceilings.csv).
func TestSmallMGEMM(t *testing.T) {
	dir := filepath.Join("..", "hardware", "testdata", "h200")
	f, err := os.Open(filepath.Join(dir, "gemm.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	small, err := LoadProfileFile(filepath.Join(dir, "small-m-gemm.toml"))
	if err != nil {
		t.Fatal(err)
	}
	g := mustGPU(t, "H200 SXM")
	bw := g.Achievable.MemoryBandwidth.Value
	for _, c := range []struct {
		name string
		p    *Profile
		lo   float64 // MAPE bounds, %
		hi   float64
	}{
		{"small-m-gemm.toml", small, 0, 10},
		{"vllm", MustEngine("vllm"), 12, math.Inf(1)},
	} {
		for _, dt := range []string{"bf16", "fp8"} {
			ceil := g.Achievable.GEMM[dt].Value
			wb := map[string]float64{"bf16": 2, "fp8": 1}[dt]
			var s float64
			var n int
			for _, r := range recs[1:] {
				if r[0] != dt {
					continue
				}
				m, _ := strconv.Atoi(r[1])
				nn, _ := strconv.Atoi(r[2])
				k, _ := strconv.Atoi(r[3])
				ms, _ := strconv.ParseFloat(r[4], 64)
				pred := GEMMTime(c.p, dt, m, nn, k, wb, 2, ceil, bw)
				s += math.Abs(pred/(ms*1e-3) - 1)
				n++
			}
			mape := 100 * s / float64(n)
			t.Logf("%s %s: %d GEMMs, MAPE %.1f%%", c.name, dt, n, mape)
			if n < 40 || mape < c.lo || mape > c.hi {
				t.Errorf("%s %s: MAPE %.1f%% over %d GEMMs, want %g–%g%%", c.name, dt, mape, n, c.lo, c.hi)
			}
		}
	}
}

// TestPrefillSeqLayerOverhead: prefill_seq_layer_overhead_us adds its cost once per layer per
// prompt of a step with prefill and nothing to a decode-only step. Hand calculation for
// Llama-2-7B (32 layers) with 10 µs: 4 prompts add 4 × 32 × 10 µs = 1.28 ms; 1 prompt 0.32 ms.
func TestPrefillSeqLayerOverhead(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-2-7b-hf")
	base := *MustEngine("vllm")
	with := base
	with.PrefillSeqLayerOverheadUs = 10
	for _, c := range []struct {
		phase  string
		batch  int
		wantMs float64
	}{
		{"prefill", 4, 1.28},
		{"prefill", 1, 0.32},
		{"decode", 8, 0},
	} {
		b, err := StepBatch(c.phase, c.batch, 128)
		if err != nil {
			t.Fatal(err)
		}
		t0 := mustDeploy(t, Spec{Model: m, GPU: mustGPU(t, "A100 SXM 80GB"), Profile: &base}).StepSeconds(&b)
		t1 := mustDeploy(t, Spec{Model: m, GPU: mustGPU(t, "A100 SXM 80GB"), Profile: &with}).StepSeconds(&b)
		if got := (t1 - t0) * 1e3; math.Abs(got-c.wantMs) > 1e-9 {
			t.Errorf("%s batch %d: +%.4f ms, want +%.4f ms", c.phase, c.batch, got, c.wantMs)
		}
	}
}

// TestCalibrateOverlapAtLeastOne: the ridge exponent is never fitted below 1 (an operator
// slower than its compute and memory times added); rows that would pull it lower leave it at 1.
// Rows: LMDeploy A100 prefill of Llama-2-7B (data/validation/steps_published.csv), whose
// single-prompt steps are slower than the GEMM roofline explains.
func TestCalibrateOverlapAtLeastOne(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-2-7b-hf")
	sp := Spec{Model: m, GPU: mustGPU(t, "A100 SXM 80GB")}
	var rows []StepSample
	for _, r := range []struct {
		batch, tokens int
		ms            float64
	}{{1, 128, 22}, {1, 2048, 139}, {16, 128, 130}, {16, 2048, 2678}, {32, 128, 214}, {32, 2048, 4288}} {
		rows = append(rows, StepSample{Spec: sp, Phase: "prefill", Batch: r.batch, Tokens: r.tokens, Measured: r.ms / 1e3})
	}
	fit, err := Calibrate(rows, MustEngine("vllm"), []string{"gemm_efficiency", "overlap_exponent"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range fit.Params {
		if p.Name == "overlap_exponent" && p.After < 1 {
			t.Errorf("overlap_exponent fitted to %.3g < 1", p.After)
		}
	}
}

// TestAllReduceBySize: with custom_allreduce_max_mib = 8 (vLLM's custom all-reduce limit,
// custom_all_reduce.py max_size 8192·1024 bytes), a 16 MiB TP8 all-reduce on H100 takes the
// time nccl-tests measured for that size (Azure ND H100 v5: 234.45 GB/s bus bandwidth at
// 16 MiB on 8 GPUs, data/hardware/ceilings.csv): 16 MiB · 2·7/8 / 234.45 GB/s = 125.2 µs per
// all-reduce; without it the profile's 8 µs + 16 MiB · 7/4 / (450 GB/s · 0.8) = 89.6 µs.
// A 1 MiB message (128 tokens) stays on the engine's path in both. Llama-3.1-70B: hidden
// 8192, 80 layers, two all-reduces per layer; 1024 prompt tokens · 8192 · 2 B = 16 MiB.
func TestAllReduceBySize(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-70B-Instruct")
	base := *MustEngine("vllm")
	sized := base
	sized.CustomAllReduceMaxMiB = 8
	ar := func(p *Profile, tokens int) float64 { // µs per all-reduce
		d := mustDeploy(t, Spec{Model: m, GPU: mustGPU(t, "H100 SXM"), TP: 8, Profile: p})
		b, _ := StepBatch("prefill", 1, tokens)
		for _, o := range d.StepTime(b, true).Ops {
			if o.Name == "tp_all_reduce" {
				return float64(o.Time) / 160 * 1e6
			}
		}
		t.Fatal("no tp_all_reduce")
		return 0
	}
	for _, c := range []struct {
		p      *Profile
		tokens int
		want   float64
	}{
		{&sized, 1024, 16 * (1 << 20) * 1.75 / 234.45e9 * 1e6},
		{&base, 1024, 8 + 16*(1<<20)*1.75/(450e9*0.8)*1e6},
		{&sized, 64, 8 + (1<<20)*1.75/(450e9*0.8)*1e6},
	} {
		if got := ar(c.p, c.tokens); math.Abs(got/c.want-1) > 1e-6 {
			t.Errorf("custom_allreduce_max_mib %g, %d tokens: %.2f µs per all-reduce, want %.2f", c.p.CustomAllReduceMaxMiB, c.tokens, got, c.want)
		}
	}
}
