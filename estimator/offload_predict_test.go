package estimator

import "testing"

// TestPredictKeepsClosedFormWithPrefixes: only the closed form models reuse over several
// prefixes (the simulation serves every shared prefix from HBM). A closed loop of fixed
// lengths lies outside the closed form's region, and Predict used to hand it to the
// simulation: DeepSeek-R1 on 8 H200, 4 clients, 999 of 1,000 prompt tokens a prefix drawn
// from 10⁶ (70 TB of prefixes per GPU, none of which fits in HBM), reported 28.4 ms mean TTFT
// (every prefix a hit) while the technique table's baseline, the closed form, said 79.2 ms
// (every prefix recomputed). With one prefix the simulation still answers.
func TestPredictKeepsClosedFormWithPrefixes(t *testing.T) {
	m := mustModel(t, "deepseek-ai/DeepSeek-R1")
	d := mustDeploy(t, Spec{Model: m, GPU: mustGPU(t, "H200 SXM"), TP: 8, MaxModelLen: 8192})
	w := Workload{Kind: Concurrency, Concurrency: 4, InputLen: 1000, OutputLen: 1000, PrefixLen: 999}
	one, err := d.Predict(w, 1)
	if err != nil {
		t.Fatal(err)
	}
	if one.Method != "simulation" {
		t.Fatalf("one prefix: method %q, want the simulation (outside the closed form's region)", one.Method)
	}
	many, err := d.WithPrefixes(1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	got, err := many.Predict(w, 1)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := many.Serve(w)
	if err != nil {
		t.Fatal(err)
	}
	if got.Method != "closed-form" || got.TTFT.Mean != cf.TTFT.Mean {
		t.Errorf("10⁶ prefixes: method %q, TTFT %.1f ms; want the closed form's %.1f ms", got.Method, got.TTFT.Mean, cf.TTFT.Mean)
	}
	// Recomputing the 999 prefix tokens costs a prefill the one-prefix run does not pay.
	if got.TTFT.Mean <= one.TTFT.Mean {
		t.Errorf("10⁶ prefixes: TTFT %.1f ms, not above the %.1f ms of one cached prefix", got.TTFT.Mean, one.TTFT.Mean)
	}
}
