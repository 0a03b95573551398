package estimator

import (
	"math"
	"strings"
	"testing"
)

// vllmV0 is the vLLM 0.6-0.7 profile (data/engines/releases/vllm-v0.toml).
func vllmV0(t *testing.T) *Profile {
	t.Helper()
	p, _, err := Engine("vllm@0.6.3")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "vllm-v0" || p.EagerDecodeLayerUs != 1080 || p.EagerPrefillLayerUs != 0 || p.CUDAGraphMaxBatch != 256 ||
		p.StepOverheadMs != 10 || p.SeqOverheadUs != 500 || p.PrefillLayerOverheadUs != 10 {
		t.Fatalf("profile %s: eager_decode_layer_us %g, eager_prefill_layer_us %g, cuda_graph_max_batch %d, step_overhead_ms %g, seq_overhead_us %g, prefill_layer_overhead_us %g; the hand figures below assume vllm-v0 with 1080, 0, 256, 10, 500, 10",
			p.Name, p.EagerDecodeLayerUs, p.EagerPrefillLayerUs, p.CUDAGraphMaxBatch, p.StepOverheadMs, p.SeqOverheadUs, p.PrefillLayerOverheadUs)
	}
	return p
}

// llama405FP8MI300X is Llama-3.1-405B served in FP8 on 8 MI300X, TP8 (the dstack
// DSTK405-0035..0072 deployment).
func llama405FP8MI300X(t *testing.T, p *Profile, eager bool) *Deployment {
	t.Helper()
	return mustDeploy(t, Spec{Model: mustModel(t, "meta-llama/Llama-3.1-405B"), GPU: mustGPU(t, "mi300x"), TP: 8, WeightDtype: "fp8", Profile: p, EnforceEager: eager})
}

// TestEnforceEagerDecodeByHand: Llama-3.1-405B FP8, TP8 on MI300X, a decode step of 4
// sequences under vllm-v0 with --enforce-eager. The 126 layers (config.json
// num_hidden_layers) take 126 × 1080 µs = 136.08 ms to dispatch from Python. The GPU work is
// shorter: the FP8 weights are 405.9e9 × 1 B / 8 = 50.7 GB per GPU, at least 50.7 GB / 5.3
// TB/s (datasheet HBM) = 9.6 ms and ~12 ms at the 4.15 TB/s achievable, plus 252 small
// all-reduces; so the step lasts
//
//	136.08 ms (dispatch) + 10 ms (step_overhead_ms) + 4 × 0.5 ms (seq_overhead_us) = 148.08 ms,
//
// against ~137 ms per step measured on DSTK405-0046/0060 (280.8 s and 279.1 s for 2048
// steps). Without the flag the same batch of 4 is graphed (≤ cuda_graph_max_batch 256):
// GPU work + 12 ms, far below.
func TestEnforceEagerDecodeByHand(t *testing.T) {
	p := vllmV0(t)
	d, g := llama405FP8MI300X(t, p, true), llama405FP8MI300X(t, p, false)
	if d.layers != 126 {
		t.Fatalf("Llama-3.1-405B: %d layers, want 126", d.layers)
	}
	b := Batch{Uniform: struct{ N, Ctx int }{4, 2048 + 1024}}
	if got, want := d.StepSeconds(&b), 0.13608+0.010+4*500e-6; math.Abs(got-want) > 1e-9 {
		t.Errorf("eager batch 4: %.4f ms, want 136.08 + 10 + 4 × 0.5 = %.4f ms", got*1e3, want*1e3)
	}
	if gpu := g.StepSeconds(&b) - 0.012; gpu < 0.0096 || gpu > 0.13608 {
		t.Errorf("graphed batch 4: GPU work %.2f ms, want in [9.6, 136.08] ms (above the datasheet floor, hidden by the dispatch)", gpu*1e3)
	}
	st := d.StepTime(b, true)
	var disp float64
	for _, o := range st.Ops {
		if o.Name == "decode_dispatch" {
			disp = float64(o.Time)
		}
	}
	if gpu := float64(st.Time) - disp - 0.012; disp <= 0 || math.Abs(gpu+disp-0.13608) > 1e-9 {
		t.Errorf("breakdown: decode_dispatch %.2f ms + GPU work %.2f ms, want 136.08 ms", disp*1e3, gpu*1e3)
	}
	// A step with a short prompt: vllm-v0 gives no eager_prefill_layer_us, so the decode
	// figure prices it too: 136.08 ms + 10 ms + 0.5 ms (one sequence) + 126 × 10 µs
	// (prefill_layer_overhead_us) = 147.84 ms.
	pre := Batch{Prefill: []Chunk{{New: 16}}}
	if got, want := d.StepSeconds(&pre), 0.13608+0.010+500e-6+126*10e-6; math.Abs(got-want) > 1e-9 {
		t.Errorf("eager 16-token prompt: %.4f ms, want 136.08 + 10 + 0.5 + 1.26 = %.4f ms", got*1e3, want*1e3)
	}
	// Above the cap the profile already runs eagerly: the flag changes nothing there.
	big := Batch{Uniform: struct{ N, Ctx int }{300, 2048}}
	if a, b := d.StepSeconds(&big), g.StepSeconds(&big); a != b {
		t.Errorf("batch 300 (above the 256 captured): %.4f ms with the flag, %.4f ms without: want equal", a*1e3, b*1e3)
	}
	var warned bool
	for _, w := range d.Warnings() {
		warned = warned || strings.Contains(w.Error(), "126 layers × 1080 µs = 136 ms of host dispatch")
	}
	if !warned {
		t.Errorf("warnings %v: want the eager dispatch floor, 126 layers × 1080 µs = 136 ms", d.Warnings())
	}
	var listed []string
	for _, prm := range d.Parameters() {
		if strings.HasPrefix(prm.Name, "eager_") {
			listed = append(listed, prm.Name)
			if !strings.Contains(prm.Unit, "--enforce-eager") || prm.Source == "" {
				t.Errorf("parameter %s: unit %q, source %q; want the flag named and a source", prm.Name, prm.Unit, prm.Source)
			}
		}
	}
	if strings.Join(listed, " ") != "eager_prefill_layer_us eager_decode_layer_us" {
		t.Errorf("parameters listed: %v, want eager_prefill_layer_us and eager_decode_layer_us", listed)
	}
}

// TestEnforceEagerNeverFaster: with graphs off a step is never cheaper than graphed, at any
// batch, with or without prompts, for every embedded profile that can take the flag; and a
// decode-only step lasts at least layers × the per-layer dispatch.
func TestEnforceEagerNeverFaster(t *testing.T) {
	for _, name := range []string{"tgi", "sglang", "vllm@0.6.3"} {
		p, _, err := Engine(name)
		if err != nil {
			t.Fatal(err)
		}
		d, g := llama405FP8MI300X(t, p, true), llama405FP8MI300X(t, p, false)
		floor := d.eagerDecodeLayerUs() * 1e-6 * 126
		for _, n := range []int{1, 4, 32, 33, 256, 512} {
			for _, b := range []Batch{
				{Uniform: struct{ N, Ctx int }{n, 1000}},
				{Prefill: []Chunk{{New: 16}}, Uniform: struct{ N, Ctx int }{n, 1000}},
				{Prefill: []Chunk{{New: 8192}}, Uniform: struct{ N, Ctx int }{n, 1000}},
			} {
				e, gr := d.StepSeconds(&b), g.StepSeconds(&b)
				if e < gr {
					t.Errorf("%s, batch %d, prefill %v: %.3f ms eager < %.3f ms graphed", name, n, b.Prefill, e*1e3, gr*1e3)
				}
				if b.Prefill == nil && e < floor {
					t.Errorf("%s, batch %d: %.3f ms, want ≥ 126 layers × %g µs = %.3f ms", name, n, e*1e3, d.eagerDecodeLayerUs(), floor*1e3)
				}
			}
		}
	}
}

// TestEnforceEagerRefused: a profile with no eager dispatch figure (vLLM V1, TensorRT-LLM:
// neither eager_decode_layer_us nor eager_prefill_layer_us) cannot price a step without
// graphs: New refuses the flag with one line naming the profile and the constants.
func TestEnforceEagerRefused(t *testing.T) {
	for _, name := range []string{"vllm", "trtllm"} {
		p := MustEngine(name)
		if p.EagerDecodeLayerUs != 0 || p.EagerPrefillLayerUs != 0 {
			t.Fatalf("%s now has an eager figure: pick another profile without one for this test", name)
		}
		_, err := New(Spec{Model: mustModel(t, "meta-llama/Llama-3.1-8B-Instruct"), GPU: mustGPU(t, "H100"), Profile: p, EnforceEager: true})
		if err == nil {
			t.Fatalf("%s with EnforceEager: no error, want a refusal", name)
		}
		msg := err.Error()
		for _, want := range []string{"--enforce-eager", "profile " + p.Name, "eager_decode_layer_us", "eager_prefill_layer_us"} {
			if !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
				t.Errorf("%s: error %q, want one line containing %q", name, msg, want)
			}
		}
		if _, err := New(Spec{Model: mustModel(t, "meta-llama/Llama-3.1-8B-Instruct"), GPU: mustGPU(t, "H100"), Profile: p}); err != nil {
			t.Errorf("%s without the flag: %v", name, err)
		}
	}
}

// TestEnforceEagerServing: the simulation and the closed form both take the flag. A closed
// loop of 4 clients, 128 in / 2048 out (DSTK405-0059/0060's shape): every decode step lasts
// at least the 148.08 ms of TestEnforceEagerDecodeByHand's batch of 4, so the mean TPOT is
// at least 148 ms with the flag, and below 136.08 ms (the dispatch alone) without it.
func TestEnforceEagerServing(t *testing.T) {
	p := vllmV0(t)
	d, g := llama405FP8MI300X(t, p, true), llama405FP8MI300X(t, p, false)
	w := Workload{Kind: Concurrency, InputLen: 128, OutputLen: 2048, Concurrency: 4, NumRequests: 8}
	for _, m := range servingMethods(w) {
		with, err := m.run(d)
		if err != nil {
			t.Fatal(err)
		}
		without, err := m.run(g)
		if err != nil {
			t.Fatal(err)
		}
		if with.TPOT.Mean < 148 || without.TPOT.Mean >= 136.08 {
			t.Errorf("%s: TPOT %.1f ms eager (want ≥ 148 ms), %.1f ms graphed (want < 136.08 ms)", m.name, with.TPOT.Mean, without.TPOT.Mean)
		}
	}
}
