package estimator

import (
	"fmt"
	"testing"
)

// TestDeployCacheOneFieldApart: Specs that differ from one base Spec in a single field
// (TP, weight or KV dtype, EnforceEager, MaxNumSeqs, MaxNumBatchedTokens, SchedulerSteps,
// MemoryFraction, MaxModelLen, the GPU, or the profile pointer of a calibrated copy), built
// through New one after the other and interleaved with the base, each get the numbers of
// their own deployment built anew, never those of the Spec built before them. Nothing is
// mutated after New. The expected values are those of newDeployment (no cache); that every
// variant moves the base's estimate is checked too (else the comparison could not fail:
// a cache returning the base's deployment would pass unnoticed), by the mechanism each
// field acts through:
//   - TP 2 halves the weights each GPU streams per decode step;
//   - fp8 weights and an fp8 KV cache halve the bytes per weight / per cached token;
//   - EnforceEager adds 32 layers × 1080 µs = 34.56 ms of dispatch to every decode step
//     (vllm-v0 eager_decode_layer_us; see TestEnforceEagerDecodeByHand);
//   - MaxNumSeqs 8 caps the running batch of a 32-user closed loop at 8 (queueing);
//   - MaxNumBatchedTokens 512 splits a 2000-token prompt into four chunks (TTFT);
//   - SchedulerSteps 8 pays vllm-v0's 10 ms step_overhead_ms once per 8 decode steps;
//   - MemoryFraction 0.5 and MaxModelLen 4096 change the KV pool and the admission check;
//   - the calibrated profile comes from Calibrate on rows measured 1.5× slower than the
//     base predicts, so its steps are slower.
func TestDeployCacheOneFieldApart(t *testing.T) {
	m, h100, h200 := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct"), mustGPU(t, "H100 SXM"), mustGPU(t, "H200")
	prof := vllmV0(t)
	base := Spec{Model: m, GPU: h100, Profile: prof, MaxModelLen: 8192}

	// A calibrated copy of the profile, as calibrate --out gives it: fitted to decode rows
	// measured 1.5× slower than the base predicts.
	var samples []StepSample
	bd := mustDeploy(t, base)
	for _, s := range []struct{ batch, tokens int }{{1, 512}, {8, 1024}, {32, 2048}, {64, 1024}, {128, 512}, {16, 4096}} {
		b, err := StepBatch("decode", s.batch, s.tokens)
		if err != nil {
			t.Fatal(err)
		}
		samples = append(samples, StepSample{Spec: base, Phase: "decode", Batch: s.batch, Tokens: s.tokens, Measured: 1.5 * bd.StepSeconds(&b)})
	}
	fit, err := Calibrate(samples, prof, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fit.Profile == prof {
		t.Fatal("Calibrate returned the base profile's pointer")
	}

	variants := []struct {
		name string
		edit func(*Spec)
	}{
		{"tp=2", func(s *Spec) { s.TP = 2 }},
		{"weight fp8", func(s *Spec) { s.WeightDtype = "fp8" }},
		{"kv fp8", func(s *Spec) { s.KVDtype = "fp8" }},
		{"enforce eager", func(s *Spec) { s.EnforceEager = true }},
		{"max_num_seqs 8", func(s *Spec) { s.MaxNumSeqs = 8 }},
		{"max_num_batched_tokens 512", func(s *Spec) { s.MaxNumBatchedTokens = 512 }},
		{"num_scheduler_steps 8", func(s *Spec) { s.SchedulerSteps = 8 }},
		{"gpu_memory_utilization 0.5", func(s *Spec) { s.MemoryFraction = 0.5 }},
		{"max_model_len 4096", func(s *Spec) { s.MaxModelLen = 4096 }},
		{"gpu H200", func(s *Spec) { s.GPU = h200 }},
		{"calibrated profile", func(s *Spec) { s.Profile = fit.Profile }},
	}
	loads := []Workload{
		{Kind: Concurrency, InputLen: 2000, OutputLen: 300, Concurrency: 32},
		{Kind: Rate, InputLen: 2000, OutputLen: 300, RequestRate: 1},
	}
	mem := func(d *Deployment) string {
		return fmt.Sprintf("%+v", d.Memory())
	}
	for _, w := range loads {
		baseText := serveText(mustDeploy(t, base).Serve(w))
		baseMem := mem(mustDeploy(t, base))
		for _, v := range variants {
			spec := base
			v.edit(&spec)
			for round := range 2 { // the second round reads what the first kept
				// The base Spec is built (and estimated) right before each variant.
				if got := serveText(mustDeploy(t, base).Serve(w)); got != baseText {
					t.Fatalf("%s round %d: the base Spec's estimate changed after other Specs were built", v.name, round)
				}
				d := mustDeploy(t, spec)
				if d.Profile != spec.Profile || d.GPU != spec.GPU || d.EnforceEager != spec.EnforceEager ||
					d.WeightDtype != spec.WeightDtype || d.KVDtype != spec.KVDtype || d.SchedulerSteps != spec.SchedulerSteps {
					t.Fatalf("%s round %d: New returned a deployment of another Spec: %+v", v.name, round, d.Spec)
				}
				fresh, err := newDeployment(spec)
				if err != nil {
					t.Fatal(err)
				}
				got, want := serveText(d.Serve(w)), serveText(fresh.Serve(w))
				if got != want {
					t.Fatalf("%s round %d, %+v:\ncached   %s\nuncached %s", v.name, round, w, got, want)
				}
				if mg, mw := mem(d), mem(fresh); mg != mw {
					t.Fatalf("%s round %d: memory plan\ncached   %s\nuncached %s", v.name, round, mg, mw)
				}
				if got == baseText && mem(d) == baseMem {
					t.Errorf("%s, %+v: same estimate and memory plan as the base Spec; the variant must move it", v.name, w)
				}
			}
		}
	}
}
