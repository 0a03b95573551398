package estimator

import (
	"math"
	"testing"
)

// TestADPEagerPrice checks the expected eager-step price against hand calculations.
// dispatch 55 ms, 7 other ranks. A decode-only step of 40 ms after 10 of 100 steps held a
// prompt: q = 0.1, P(eager) = 1 − 0.9^7 = 0.52170, price = 40 + 0.52170 × 15 = 47.826 ms.
// A step with the lane's own prompt: max(30, 55) = 55 ms; one longer than the dispatch
// (70 ms) is not changed. Before any step (q = 0) nothing is added.
func TestADPEagerPrice(t *testing.T) {
	e := adpEager{others: 7, dispatch: 0.055}
	if got := e.price(0.040, false); got != 0.040 {
		t.Errorf("no steps yet: %g s, want 0.040", got)
	}
	e.count(90, false)
	e.count(10, true)
	cases := []struct {
		name    string
		t       float64
		prefill bool
		want    float64
	}{
		{"decode-only, others may prefill", 0.040, false, 0.047826},
		{"own prompt, dispatch-bound", 0.030, true, 0.055},
		{"own prompt, GPU-bound", 0.070, true, 0.070},
		{"decode-only, GPU-bound", 0.070, false, 0.070},
	}
	for _, c := range cases {
		if got := e.price(c.t, c.prefill); math.Abs(got-c.want) > 1e-6 {
			t.Errorf("%s: %.6f s, want %.6f", c.name, got, c.want)
		}
	}
	var none adpEager // no attention DP or no dispatch cost: unchanged
	if got := none.price(0.040, true); got != 0.040 {
		t.Errorf("zero pricing changed a step: %g", got)
	}
}

// TestADPEagerDeployment: DeepSeek-R1 (61 layers, config.json num_hidden_layers) with
// attention DP 8 + EP 8 under trtllm (0.9 ms per layer) has 7 other ranks and
// 61 × 0.9 ms = 54.9 ms of dispatch; with attention TP (dp 1) or a dense model nothing applies.
// In a simulation of a light open-loop load the mean TPOT rises with the term and stays at or
// below the dispatch (the expected price never exceeds max(t, dispatch)).
func TestADPEagerDeployment(t *testing.T) {
	m, g := mustModel(t, "deepseek-ai/DeepSeek-R1"), mustGPU(t, "b200")
	p := MustEngine("trtllm")
	if p.ADPEagerLayerUs != 900 {
		t.Fatalf("trtllm adp_eager_layer_us = %g, want 900 (data/engines/trtllm.toml)", p.ADPEagerLayerUs)
	}
	spec := Spec{Model: m, GPU: g, TP: 1, DP: 8, EP: 8, WeightDtype: "fp4", KVDtype: "fp8", Profile: p, MaxModelLen: 5120}
	d := mustDeploy(t, spec)
	e := d.adpEagerStep()
	if e.others != 7 || math.Abs(e.dispatch-0.0549) > 1e-9 {
		t.Errorf("DEP8: others %g dispatch %g s, want 7 and 0.0549", e.others, e.dispatch)
	}
	tp := spec
	tp.TP, tp.DP = 8, 1
	if e := mustDeploy(t, tp).adpEagerStep(); e.dispatch != 0 {
		t.Errorf("attention TP8: dispatch %g, want none", e.dispatch)
	}
	w := Workload{Kind: Rate, InputLen: 804, OutputLen: 1000, RequestRate: 3.8, NumRequests: 400}
	with, err := d.Simulate(w, 1)
	if err != nil {
		t.Fatal(err)
	}
	q := *p
	q.ADPEagerLayerUs = 0
	off := spec
	off.Profile = &q
	without, err := mustDeploy(t, off).Simulate(w, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !(with.TPOT.Mean > without.TPOT.Mean) || with.TPOT.Mean > math.Max(without.TPOT.Mean, 54.9)+1e-9 {
		t.Errorf("TPOT %.2f ms with the eager term, %.2f without: want more, at most max(without, 54.9 ms)", with.TPOT.Mean, without.TPOT.Mean)
	}
}

// TestADPEagerClosedForm: the closed form prices the attention-DP eager steps as the
// simulation does (property: the two methods' mean TPOT within 10% at three open-loop rates
// of the MLPerf v5.1 DeepSeek-R1 B200 Server shape, 804/3681 tokens), and without the term
// both are lower.
func TestADPEagerClosedForm(t *testing.T) {
	m, g := mustModel(t, "deepseek-ai/DeepSeek-R1"), mustGPU(t, "b200")
	p := MustEngine("trtllm")
	spec := Spec{Model: m, GPU: g, TP: 1, DP: 8, EP: 8, WeightDtype: "fp4", KVDtype: "fp8", Profile: p, MaxModelLen: 5120}
	d := mustDeploy(t, spec)
	q := *p
	q.ADPEagerLayerUs = 0
	off := spec
	off.Profile = &q
	d0 := mustDeploy(t, off)
	for _, rate := range []float64{2, 3.8, 6} {
		w := Workload{Kind: Rate, InputLen: 804, OutputLen: 3681, RequestRate: rate, NumRequests: 4000}
		cf, err := d.Serve(w)
		if err != nil {
			t.Fatal(err)
		}
		sim, err := d.Simulate(w, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !near(cf.TPOT.Mean, sim.TPOT.Mean, 0.10) {
			t.Errorf("rate %g: closed-form TPOT %.2f ms, simulation %.2f ms: want within 10%%", rate, cf.TPOT.Mean, sim.TPOT.Mean)
		}
		cf0, err := d0.Serve(w)
		if err != nil {
			t.Fatal(err)
		}
		if !(cf.TPOT.Mean > cf0.TPOT.Mean) {
			t.Errorf("rate %g: closed-form TPOT %.2f ms with the eager term, %.2f without: want more", rate, cf.TPOT.Mean, cf0.TPOT.Mean)
		}
	}
}
