package estimator

import (
	"math"
	"testing"
)

// TestWeightDtypeAsStored: naming the checkpoint's own quantized format (--weight-dtype fp4 on
// the MXFP4 gpt-oss checkpoint, as the VLLMFP8 validation rows do) serves the checkpoint as
// stored: MXFP4 bytes (0.5 + 1/32 per weight: E2M1 values, one E8M0 scale per 32) and vLLM's
// Hopper padding of the expert inner size 2880 → 3072, not a generic 4-bit re-quantisation.
//
// Hand calculation, gpt-oss-20b (hidden 2880, expert intermediate 2880, 32 experts, top-4,
// 24 layers) on one H100, decode batch 1: 4 experts touched per layer; the fused up/gate
// GEMM has K = 2880, N = 2 × 3072 = 6144 after padding:
//
//	weights     4 × 2880 × 6144 × 0.53125 B = 37,601,280 B per layer
//	activations 4 rows × (2880 + 6144) × 2 B =      72,192 B per layer
//	× 24 layers                              = 904,163,328 B
func TestWeightDtypeAsStored(t *testing.T) {
	m := mustModel(t, "openai/gpt-oss-20b")
	g := mustGPU(t, "H100")
	p, _, err := Engine("vllm")
	if err != nil {
		t.Fatal(err)
	}
	upGate := func(wd string) float64 {
		d, err := New(Spec{Model: m, GPU: g, TP: 1, WeightDtype: wd, Profile: p})
		if err != nil {
			t.Fatal(err)
		}
		st := d.StepTime(Batch{Decode: []int{100}}, true)
		for _, o := range st.Ops {
			if o.Name == "expert_up_gate" {
				return float64(o.Bytes)
			}
		}
		t.Fatal("no expert_up_gate operator")
		return 0
	}
	const want = 904163328.0
	for _, wd := range []string{"", "fp4", "FP4"} {
		if got := upGate(wd); math.Abs(got-want) > 1 {
			t.Errorf("--weight-dtype %q: expert_up_gate bytes %.0f, want %.0f (hand calculation)", wd, got, want)
		}
	}
	// A different dtype is a re-quantisation: fp8 experts, 1 B per weight, no MXFP4 padding,
	// W8A8 (the GEMM reads the FP8 input its quantisation pass wrote, 1 B, and writes 2 B):
	// 4 × 2880 × 5760 × 1 + 4 × (2880 × 1 + 5760 × 2) = 66,355,200 + 57,600 B per layer, × 24.
	if got, want := upGate("fp8"), 24*(66355200.0+57600); math.Abs(got-want) > 1 {
		t.Errorf("--weight-dtype fp8: expert_up_gate bytes %.0f, want %.0f", got, want)
	}
}

// TestMoEDequantMemoryEfficiency: MXFP4 experts on a GPU without FP4 tensor cores (H100) are
// dequantised in-kernel, and the vllm profile's moe_dequant_memory_efficiency.fp4 (0.60) sets
// their weight-streaming rate in place of moe_efficiency (0.85); on B200 (FP4 tensor cores)
// the experts run as stored and the entry does not apply. Hand calculation on H100, decode
// batch 1: expert_up_gate moves 904,163,328 B (TestWeightDtypeAsStored), so its memory time is
// 904,163,328 / (HBM ceiling × memory_efficiency 0.93 × 0.60).
func TestMoEDequantMemoryEfficiency(t *testing.T) {
	m := mustModel(t, "openai/gpt-oss-20b")
	p, _, err := Engine("vllm")
	if err != nil {
		t.Fatal(err)
	}
	if v := p.MoEDequantMemoryEfficiency["fp4"]; v != 0.60 {
		t.Fatalf("vllm moe_dequant_memory_efficiency.fp4 = %g, want 0.60 (data/engines/vllm.toml)", v)
	}
	upGate := func(gpu string, prof *Profile) OpTime {
		g := mustGPU(t, gpu)
		d, err := New(Spec{Model: m, GPU: g, TP: 1, Profile: prof})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range d.StepTime(Batch{Decode: []int{100}}, true).Ops {
			if o.Name == "expert_up_gate" {
				return o
			}
		}
		t.Fatal("no expert_up_gate operator")
		return OpTime{}
	}
	h100 := mustGPU(t, "H100")
	bw := h100.Achievable.MemoryBandwidth.Value
	if bw == 0 {
		bw = float64(h100.MemoryBandwidth)
	}
	want := 904163328 / (bw * 0.93 * 0.60)
	if got := float64(upGate("H100", p).Memory); math.Abs(got/want-1) > 1e-9 {
		t.Errorf("H100 expert_up_gate memory time %.6g s, want %.6g s", got, want)
	}
	// Without the entry the experts stream at moe_efficiency: 0.60/0.85 of the time.
	q := *p
	q.MoEDequantMemoryEfficiency = nil
	if got, want := float64(upGate("H100", &q).Memory), want*0.60/0.85; math.Abs(got/want-1) > 1e-9 {
		t.Errorf("H100 without the entry: %.6g s, want %.6g s", got, want)
	}
	// B200 has FP4 tensor cores: nothing is dequantised, the entry changes nothing.
	if a, b := upGate("B200", p), upGate("B200", &q); a.Time != b.Time {
		t.Errorf("B200 expert_up_gate %g s with the entry, %g s without", a.Time, b.Time)
	}
}
