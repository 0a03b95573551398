package estimator

import (
	"math"
	"strings"
	"testing"
)

// llama405MI300X is Llama-3.1-405B BF16 on 8 MI300X, TP8 (the VLLMAMD deployment).
func llama405MI300X(t *testing.T, p *Profile) *Deployment {
	t.Helper()
	return mustDeploy(t, Spec{Model: mustModel(t, "meta-llama/Llama-3.1-405B"), GPU: mustGPU(t, "mi300x"), TP: 8, Profile: p})
}

// TestEagerDecodeDispatch checks the eager decode dispatch by hand under the tgi profile
// (data/engines/tgi.toml: cuda_graph_max_batch 32, eager_decode_layer_us 900,
// step_overhead_ms 1, seq_overhead_us 4). Llama-3.1-405B has 126 layers (config.json
// num_hidden_layers), so the host needs 126 × 0.9 ms = 113.4 ms to enqueue an eager step.
// The GPU work of a decode step at batch 32-33 is far shorter: the BF16 weights are
// 405.9e9 × 2 B / 8 = 101.5 GB per GPU, 24.5 ms at the MI300X's 4.15 TB/s achievable HBM
// rate (data/hardware/ceilings.csv), ~29 ms at the profile's 0.84 of it, plus two
// all-reduces per layer; and it is at least 101.5 GB / 5.3 TB/s (datasheet) = 19.2 ms.
//
//   - batch 33 (above the 32 TGI captures): 113.4 ms + 1 ms + 33 × 4 µs = 114.532 ms;
//   - batch 32 (graphed): the step without the eager term, between 19.2 ms and 113.4 ms.
func TestEagerDecodeDispatch(t *testing.T) {
	p := MustEngine("tgi")
	if p.CUDAGraphMaxBatch != 32 || p.EagerDecodeLayerUs != 900 || p.StepOverheadMs != 1 || p.SeqOverheadUs != 4 {
		t.Fatalf("tgi profile: cuda_graph_max_batch %d, eager_decode_layer_us %g, step_overhead_ms %g, seq_overhead_us %g; the hand figures below assume 32, 900, 1, 4",
			p.CUDAGraphMaxBatch, p.EagerDecodeLayerUs, p.StepOverheadMs, p.SeqOverheadUs)
	}
	d := llama405MI300X(t, p)
	if d.layers != 126 {
		t.Fatalf("Llama-3.1-405B: %d layers, want 126", d.layers)
	}
	q := *p
	q.CUDAGraphMaxBatch = 0
	d0 := llama405MI300X(t, &q)

	b33 := Batch{Uniform: struct{ N, Ctx int }{33, 300}}
	if got, want := d.StepSeconds(&b33), 0.1134+0.001+33*4e-6; math.Abs(got-want) > 1e-9 {
		t.Errorf("batch 33: %.4f ms, want 113.4 ms dispatch + 1 ms + 33 × 4 µs = %.4f ms", got*1e3, want*1e3)
	}
	if gpu := d0.StepSeconds(&b33); gpu > 0.1134 {
		t.Errorf("batch 33 without the cap: %.2f ms, want the GPU work below the 113.4 ms dispatch", gpu*1e3)
	}
	b32 := Batch{Uniform: struct{ N, Ctx int }{32, 300}}
	got, graphed := d.StepSeconds(&b32), d0.StepSeconds(&b32)
	if got != graphed || got < 0.0192 || got > 0.1134 {
		t.Errorf("batch 32: %.2f ms with the cap, %.2f ms without: want equal, in [19.2, 113.4] ms", got*1e3, graphed*1e3)
	}
	// The breakdown names the exposed part and lists the parameters.
	st := d.StepTime(b33, true)
	var found bool
	for _, o := range st.Ops {
		if o.Name == "decode_dispatch" {
			found = true
			if gpu := float64(st.Time) - float64(o.Time) - 0.001 - 33*4e-6; math.Abs(gpu+float64(o.Time)-0.1134) > 1e-9 {
				t.Errorf("decode_dispatch %.2f ms + GPU work %.2f ms, want 113.4 ms", float64(o.Time)*1e3, gpu*1e3)
			}
		}
	}
	if !found {
		t.Errorf("batch 33: no decode_dispatch operator in the breakdown")
	}
	var names []string
	for _, prm := range d.Parameters() {
		names = append(names, prm.Name)
	}
	if s := strings.Join(names, " "); !strings.Contains(s, "cuda_graph_max_batch") || !strings.Contains(s, "eager_decode_layer_us") {
		t.Errorf("parameters %s: want cuda_graph_max_batch and eager_decode_layer_us", s)
	}
	for _, prm := range d0.Parameters() {
		if prm.Name == "cuda_graph_max_batch" || prm.Name == "eager_decode_layer_us" {
			t.Errorf("cap 0: %s listed, want neither eager decode parameter", prm.Name)
		}
	}
}

// TestEagerDecodeZeroChangesNothing: with cuda_graph_max_batch 0 (or no per-layer figure)
// every step is priced as before, whatever the batch; with the cap set, a step is never
// cheaper, and equal at or below the cap.
func TestEagerDecodeZeroChangesNothing(t *testing.T) {
	base := *MustEngine("tgi")
	base.CUDAGraphMaxBatch, base.EagerDecodeLayerUs = 0, 0
	capOnly, usOnly, both := base, base, base
	capOnly.CUDAGraphMaxBatch = 32
	usOnly.EagerDecodeLayerUs = 900
	both.CUDAGraphMaxBatch, both.EagerDecodeLayerUs = 32, 900
	d0 := llama405MI300X(t, &base)
	dc, du, db := llama405MI300X(t, &capOnly), llama405MI300X(t, &usOnly), llama405MI300X(t, &both)
	for _, n := range []int{1, 8, 32, 33, 64, 128, 512} {
		for _, b := range []Batch{
			{Uniform: struct{ N, Ctx int }{n, 1000}},
			{Prefill: []Chunk{{New: 16}}, Uniform: struct{ N, Ctx int }{n, 1000}},
			{Prefill: []Chunk{{New: 4096}}, Uniform: struct{ N, Ctx int }{n, 1000}},
		} {
			want := d0.StepSeconds(&b)
			if c, u := dc.StepSeconds(&b), du.StepSeconds(&b); c != want || u != want {
				t.Errorf("batch %d, prefill %v: %.4f ms (cap only), %.4f ms (per-layer only), want %.4f ms as without", n, b.Prefill, c*1e3, u*1e3, want*1e3)
			}
			got := db.StepSeconds(&b)
			if got < want || (n <= 32 && got != want) {
				t.Errorf("batch %d, prefill %v: %.4f ms with the eager decode term, %.4f ms without: want ≥, and equal at ≤ 32", n, b.Prefill, got*1e3, want*1e3)
			}
		}
	}
}

// TestEagerMixedStep: a step with a prompt and more decoding sequences than the cap is one
// eager pass: it pays the larger per-layer dispatch once (here the decode one, 126 × 0.9 ms
// = 113.4 ms, over a prefill figure of 126 × 0.5 ms = 63 ms), not the sum; leaving the
// prefill dispatch out (the closed form's noDispatch) keeps the decode one.
func TestEagerMixedStep(t *testing.T) {
	p := *MustEngine("tgi")
	p.EagerPrefillLayerUs, p.EagerDecodeLayerUs, p.CUDAGraphMaxBatch = 500, 900, 32
	q := p
	q.EagerPrefillLayerUs, q.EagerDecodeLayerUs = 0, 0
	d, d0 := llama405MI300X(t, &p), llama405MI300X(t, &q)
	b := Batch{Prefill: []Chunk{{New: 16}}, Uniform: struct{ N, Ctx int }{64, 300}}
	serial := p.StepOverheadMs*1e-3 + p.SeqOverheadUs*1e-6*65 + p.PrefillLayerOverheadUs*1e-6*126
	if got, want := d.StepSeconds(&b), 0.1134+serial; math.Abs(got-want) > 1e-9 {
		t.Errorf("mixed step: %.4f ms, want 113.4 ms + %.4f ms serial = %.4f ms (GPU work %.2f ms hidden)", got*1e3, serial*1e3, want*1e3, (d0.StepSeconds(&b)-serial)*1e3)
	}
	b.noDispatch = true
	if got, want := d.StepSeconds(&b), 0.1134+serial; math.Abs(got-want) > 1e-9 {
		t.Errorf("mixed step without the prefill dispatch: %.4f ms, want the decode dispatch %.4f ms", got*1e3, want*1e3)
	}
	b.Uniform.N = 16 // graphed decode part: the prefill figure applies
	serial = p.StepOverheadMs*1e-3 + p.SeqOverheadUs*1e-6*17 + p.PrefillLayerOverheadUs*1e-6*126
	without := d.StepSeconds(&b) // b.noDispatch is still set: no dispatch at all
	b.noDispatch = false
	if got, want := d.StepSeconds(&b), 0.063+serial; math.Abs(got-want) > 1e-9 || without >= want {
		t.Errorf("mixed step at 16 decoding: %.4f ms, want 63 ms + serial = %.4f ms (and less, %.4f ms, without the prefill dispatch)", got*1e3, want*1e3, without*1e3)
	}
}

// TestEagerDecodeServing: the simulation and the closed form both price the eager decode
// steps. Closed loop of 128 clients (TGI's --max-concurrent-requests), 202/179 tokens (the
// VLLMAMD shape): nearly every decode step holds more than 32 sequences, so the mean TPOT is
// at least the 114.4 ms of such a step (113.4 ms dispatch + 1 ms + 4 µs per sequence) with
// the eager term, and lower without it (the GPU work of a batch-128 step is ~37 ms).
func TestEagerDecodeServing(t *testing.T) {
	p := MustEngine("tgi")
	q := *p
	q.CUDAGraphMaxBatch = 0
	d, d0 := llama405MI300X(t, p), llama405MI300X(t, &q)
	w := Workload{Kind: Concurrency, InputLen: 202, OutputLen: 179, Concurrency: 128, NumRequests: 512}
	for _, m := range servingMethods(w) {
		with, err := m.run(d)
		if err != nil {
			t.Fatal(err)
		}
		without, err := m.run(d0)
		if err != nil {
			t.Fatal(err)
		}
		if with.TPOT.Mean < 114.4 || without.TPOT.Mean >= 114.4 {
			t.Errorf("%s: TPOT %.1f ms with the eager term (want ≥ 114.4 ms), %.1f ms without (want less)", m.name, with.TPOT.Mean, without.TPOT.Mean)
		}
	}
}

// TestEagerProfileSources: every embedded profile, of every release, that sets one of the
// eager-dispatch constants cites a source for it, and sets the CUDA-graph cap together with
// its per-layer figure (one without the other prices nothing). The tgi profile's
// kernel_overhead_us, re-chosen with them, cites one too.
func TestEagerProfileSources(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range EngineNames() {
		p, _, err := Engine(n)
		if err != nil {
			t.Fatal(err)
		}
		ps, err := releaseProfiles(p.Family())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range append(ps, p) {
			if seen[r.Name] {
				continue
			}
			seen[r.Name] = true
			for k, v := range map[string]float64{"cuda_graph_max_batch": float64(r.CUDAGraphMaxBatch), "eager_decode_layer_us": r.EagerDecodeLayerUs,
				"eager_prefill_layer_us": r.EagerPrefillLayerUs, "adp_eager_layer_us": r.ADPEagerLayerUs} {
				if v != 0 && r.Sources[k] == "" {
					t.Errorf("%s: %s = %g has no [sources] entry", r.Name, k, v)
				}
			}
			if (r.CUDAGraphMaxBatch > 0) != (r.EagerDecodeLayerUs > 0) {
				t.Errorf("%s: cuda_graph_max_batch %d with eager_decode_layer_us %g: set both or neither", r.Name, r.CUDAGraphMaxBatch, r.EagerDecodeLayerUs)
			}
		}
	}
	if !seen["tgi"] || !seen["vllm-v0"] {
		t.Fatalf("profiles seen %v: want tgi and vllm-v0 among them", seen)
	}
	if MustEngine("tgi").Sources["kernel_overhead_us"] == "" {
		t.Errorf("tgi: kernel_overhead_us has no [sources] entry")
	}
	if _, err := ParseProfile("x.toml", []byte("base = \"tgi\"\ncuda_graph_max_batch = -1\n")); err == nil || !strings.Contains(err.Error(), "cuda_graph_max_batch") {
		t.Errorf("cuda_graph_max_batch = -1: error %v, want one naming the field", err)
	}
}

// servingMethods runs workload w through both serving models: the simulation (seed 1) and
// the closed form.
func servingMethods(w Workload) []struct {
	name string
	run  func(*Deployment) (Serving, error)
} {
	return []struct {
		name string
		run  func(*Deployment) (Serving, error)
	}{
		{"simulation", func(d *Deployment) (Serving, error) { return d.Simulate(w, 1) }},
		{"closed form", func(d *Deployment) (Serving, error) { return d.Serve(w) }},
	}
}
