package estimator

import (
	"strings"
	"testing"
)

// TestSchedulerStepsProfiles: Spec.SchedulerSteps > 1 (vLLM V0's --num-scheduler-steps,
// added in vLLM 0.6.0 and absent from the V1 engine, the default from 0.8: vLLM release
// notes) is taken only with a vLLM profile whose release range holds 0.6 or 0.7; New
// refuses it for every other profile, naming the flag and the allowed values (0 or 1), which
// every profile takes.
func TestSchedulerStepsProfiles(t *testing.T) {
	m, g := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct"), mustGPU(t, "H100 SXM")
	for _, c := range []struct {
		engine string
		ok     bool
	}{
		{"vllm@0.6.0", true}, {"vllm@0.7.3", true},
		{"vllm@0.5.4", false}, {"vllm@0.8.5", false}, {"vllm", false},
		{"sglang", false}, {"sglang@0.4.3", false}, {"trtllm", false}, {"trtllm@0.18", false},
		{"tgi", false}, {"lmdeploy", false}, {"default", false}, {"ideal", false},
	} {
		p, _, err := Engine(c.engine)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{0, 1} {
			if _, err := New(Spec{Model: m, GPU: g, Profile: p, SchedulerSteps: n}); err != nil {
				t.Errorf("%s, %d scheduler steps: %v", c.engine, n, err)
			}
		}
		_, err = New(Spec{Model: m, GPU: g, Profile: p, SchedulerSteps: 8})
		if c.ok != (err == nil) || err != nil && !strings.Contains(err.Error(), "--num-scheduler-steps 8: multi-step scheduling is vLLM V0's") {
			t.Errorf("%s, 8 scheduler steps: error %v; want accepted %v", c.engine, err, c.ok)
		}
	}
}

// TestEnginesByNameOnce: two names of one profile (vllm@0.7 and vllm@0.6.3 are both vllm-v0,
// versions >=0.6, <0.8; vllm and vllm@0.10 both the newest, >=0.9) are listed once: a sweep
// over both ranked every configuration twice, with identical numbers, as two rows.
func TestEnginesByNameOnce(t *testing.T) {
	for _, c := range []struct {
		names []string
		want  []string
	}{
		{[]string{"vllm@0.7", "vllm@0.6.3"}, []string{"vllm-v0"}},
		{[]string{"vllm", "vllm@0.10", "sglang", "vllm@0.7.3"}, []string{"vllm", "sglang", "vllm-v0"}},
		{[]string{"tgi", "tgi"}, []string{"tgi"}},
	} {
		ps, err := EnginesByName(c.names)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range ps {
			got = append(got, p.Name)
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%v: profiles %v, want %v", c.names, got, c.want)
		}
	}
}

// TestEagerWarningPipelineStages: with PP the --enforce-eager warning counts the layers as
// the step model prices them, stage by stage: Llama-3.1-405B's 126 layers (config.json) on 4
// stages are ⌈126/4⌉ = 32 per stage, 4 × 32 × 900 µs = 115.2 ms under tgi; it said "128
// layers", more than the model has.
func TestEagerWarningPipelineStages(t *testing.T) {
	p, _, err := Engine("tgi")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		pp   int
		want string
	}{
		{1, "at least 126 layers × 900 µs = 113 ms"},
		{4, "at least 4 pipeline stages × 32 layers × 900 µs = 115 ms"},
	} {
		d := mustDeploy(t, Spec{Model: mustModel(t, "meta-llama/Llama-3.1-405B"), GPU: mustGPU(t, "H100 SXM"), TP: 8, PP: c.pp, WeightDtype: "fp8",
			Profile: p, EnforceEager: true, Topology: Topology{GPUsPerNode: 8 * c.pp}})
		found := false
		for _, w := range Messages(d.Warnings()) {
			found = found || strings.Contains(w, c.want)
		}
		if !found {
			t.Errorf("pp %d: warnings %q; want %q", c.pp, Messages(d.Warnings()), c.want)
		}
	}
}

// TestProfileHostCostBound: a profile file's host costs are bounded to 1 s (1e6 µs, 1e3 ms):
// at 1e308 the step time overflowed to +Inf and estimate -o json failed with "json:
// unsupported value: +Inf" (exit 1) instead of naming the field. Every *_us and *_ms key of
// the profile is tried; the largest in the embedded profiles (~1 ms per eager layer, 10 ms
// per step) load as before.
func TestProfileHostCostBound(t *testing.T) {
	keys := 0
	for _, k := range ProfileKeys() {
		if !strings.HasSuffix(k, "_us") && !strings.HasSuffix(k, "_ms") {
			continue
		}
		keys++
		for _, c := range []struct {
			v  string
			ok bool
		}{{"1e308", false}, {"1e7", false}, {"1000.0", true}} {
			_, err := ParseProfile("t.toml", []byte("base = \"tgi\"\nname = \"t\"\n"+k+" = "+c.v+"\n"))
			if c.ok != (err == nil) || err != nil && !strings.Contains(err.Error(), k+" = ") {
				t.Errorf("%s = %s: %v; want accepted %v, else an error naming the key", k, c.v, err, c.ok)
			}
		}
	}
	if keys < 10 {
		t.Fatalf("only %d *_us/*_ms keys: ProfileKeys changed?", keys)
	}
	for _, k := range []string{"gemm_half_m", "elementwise_kernels_per_layer"} {
		if _, err := ParseProfile("t.toml", []byte("base = \"tgi\"\nname = \"t\"\n"+k+" = 1e308\n")); err == nil || !strings.Contains(err.Error(), k+" = ") {
			t.Errorf("%s = 1e308: %v; want an error naming it", k, err)
		}
	}
}
