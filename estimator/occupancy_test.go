package estimator

import (
	"math"
	"testing"
)

// TestLowOccupancyDecodeAttention checks attention_low_occupancy_efficiency against a hand
// calculation: Llama-3.1-8B (8 KV heads, config.json) at TP1 on an H100 SXM (132 SMs,
// NVIDIA H100 whitepaper) with f = 0.75. At batch 8 the step has 8 × 8 = 64 work units, so
// the KV-streaming rate is multiplied by 0.75 + 0.25·64/132 = 0.871212…; at batch 17
// (136 units ≥ 132) by 1. The decode attention's memory time must move by exactly that
// factor, and it must still grow with the batch (no step back where the units pass the SMs).
func TestLowOccupancyDecodeAttention(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	g := mustGPU(t, "H100 SXM")
	if g.ComputeUnits != 132 {
		t.Fatalf("H100 SXM ComputeUnits = %d, want 132 (sm_count)", g.ComputeUnits)
	}
	mem := func(f float64, batch int) float64 {
		p := *MustEngine("vllm")
		p.AttentionLowOccupancyEfficiency = f
		d := mustDeploy(t, Spec{Model: m, GPU: g, Profile: &p})
		for _, op := range d.StepTime(Batch{Uniform: struct{ N, Ctx int }{batch, 20000}}, true).Ops {
			if op.Name == "attention_decode" {
				return float64(op.Memory)
			}
		}
		t.Fatal("no attention_decode")
		return 0
	}
	for _, c := range []struct {
		batch int
		want  float64 // off / on
	}{
		{8, 0.75 + 0.25*64.0/132},
		{1, 0.75 + 0.25*8.0/132},
		{17, 1},
		{64, 1},
	} {
		if got := mem(0, c.batch) / mem(0.75, c.batch); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("batch %d: memory-time ratio off/on = %.12f, want %.12f", c.batch, got, c.want)
		}
	}
	prev := 0.0
	for b := 1; b <= 40; b++ {
		if v := mem(0.75, b); v <= prev {
			t.Errorf("decode attention memory time falls from batch %d to %d: %g → %g s", b-1, b, prev, v)
		} else {
			prev = v
		}
	}
	// MLA (one latent head, absorbed decode) is left alone.
	ds := mustModel(t, "deepseek-ai/DeepSeek-R1")
	p := *MustEngine("vllm")
	d := mustDeploy(t, Spec{Model: ds, GPU: mustGPU(t, "H200"), TP: 8, WeightDtype: "fp8", Profile: &p})
	if f := d.lowOccupancy(4); f != 1 {
		t.Errorf("DeepSeek-R1 (MLA) low-occupancy factor = %g, want 1", f)
	}
}
