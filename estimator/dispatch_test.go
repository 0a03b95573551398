package estimator

import (
	"math"
	"testing"
)

// TestEagerPrefillDispatch checks the eager prefill dispatch (Profile.EagerPrefillLayerUs) by
// hand: Llama-3.1-8B has 32 layers (config.json num_hidden_layers), so at 900 µs per layer
// the host needs 32 × 0.9 = 28.8 ms to enqueue a prefill step. A 16-token prompt's GPU work
// on one H100 is far shorter (16 tokens × 2 × 8.0e9 FLOP ≈ 0.26 TFLOP, and 8 GB of BF16
// weights read in ~3 ms), so the step lasts the dispatch plus the serial host costs of the
// profile (step_overhead_ms, seq_overhead_us, prefill_layer_overhead_us × layers); an
// 8192-token prompt's GPU work (≈ 131 TFLOP, ≥ 130 ms at the H100's ~1 PFLOP/s BF16 peak)
// hides the dispatch, so its step is the same with and without it.
func TestEagerPrefillDispatch(t *testing.T) {
	p := *MustEngine("sglang")
	p.EagerPrefillLayerUs = 900
	d, err := New(Spec{Model: mustModel(t, "meta-llama/Llama-3.1-8B-Instruct"), GPU: mustGPU(t, "h100-sxm5-80gb"), TP: 1, Profile: &p})
	if err != nil {
		t.Fatal(err)
	}
	short := Batch{Prefill: []Chunk{{New: 16}}}
	serial := p.StepOverheadMs*1e-3 + p.SeqOverheadUs*1e-6 + p.PrefillLayerOverheadUs*1e-6*32
	if got, want := d.StepSeconds(&short), 32*900e-6+serial; math.Abs(got-want) > 1e-9 {
		t.Errorf("16-token prefill step = %.4f ms, want 28.8 ms dispatch + %.4f ms serial host costs = %.4f ms", got*1e3, serial*1e3, want*1e3)
	}
	long := Batch{Prefill: []Chunk{{New: 8192}}}
	with := d.StepSeconds(&long)
	long.noDispatch = true
	if without := d.StepSeconds(&long); with != without || with < 0.130 {
		t.Errorf("8192-token prefill step = %.2f ms with the dispatch, %.2f ms without: want equal (GPU work ≥ 130 ms hides it)", with*1e3, without*1e3)
	}
	// A decode-only step is CUDA-graphed: no dispatch.
	dec := Batch{Decode: []int{1000}}
	q := p
	q.EagerPrefillLayerUs = 0
	d0, _ := New(Spec{Model: d.Model, GPU: d.GPU, TP: 1, Profile: &q})
	if a, b := d.StepSeconds(&dec), d0.StepSeconds(&dec); a != b {
		t.Errorf("decode step %.4f ms with eager_prefill_layer_us, %.4f ms without: want equal", a*1e3, b*1e3)
	}
}

// TestMLATPLayerOverhead: DeepSeek-R1 has 61 layers of which the first 3 are dense
// (config.json first_k_dense_replace = 3), so mla_tp_layer_overhead_us = 80 µs adds
// 58 × 80 µs = 4.64 ms to a step with attention TP8, and nothing with attention DP8 + EP8
// (where mla_ep_* apply instead).
func TestMLATPLayerOverhead(t *testing.T) {
	p := *MustEngine("trtllm")
	p.MLATPLayerOverheadUs = 80
	q := p
	q.MLATPLayerOverheadUs = 0
	m, g := mustModel(t, "deepseek-ai/DeepSeek-R1"), mustGPU(t, "b200")
	b := Batch{Decode: []int{2048}}
	for _, c := range []struct {
		tp, dp, ep int
		want       float64
	}{{8, 1, 4, 58 * 80e-6}, {1, 8, 8, 0}} {
		d1, err := New(Spec{Model: m, GPU: g, TP: c.tp, DP: c.dp, EP: c.ep, WeightDtype: "fp4", Profile: &p})
		if err != nil {
			t.Fatal(err)
		}
		d0, _ := New(Spec{Model: m, GPU: g, TP: c.tp, DP: c.dp, EP: c.ep, WeightDtype: "fp4", Profile: &q})
		if got := d1.StepSeconds(&b) - d0.StepSeconds(&b); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("tp %d dp %d ep %d: the overhead adds %.4f ms, want %.4f ms", c.tp, c.dp, c.ep, got*1e3, c.want*1e3)
		}
	}
}
