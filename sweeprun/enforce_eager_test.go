package sweeprun

import (
	"strings"
	"testing"

	"roofline/estimator"
)

// TestEnforceEagerArgs: the grid's enforce_eager (or SGLang's disable_cuda_graph) sets
// estimator.Spec.EnforceEager for the prediction, true or false, anything else an error
// naming the argument; a sweep point with graphs off runs with enforce_eager=true, which the
// launchers write as vllm --enforce-eager and sglang --disable-cuda-graph.
func TestEnforceEagerArgs(t *testing.T) {
	for _, c := range []struct {
		args    Params
		want    bool
		wantErr string
	}{
		{Params{{"enforce_eager", "true"}}, true, ""},
		{Params{{"disable-cuda-graph", "true"}}, true, ""},
		{Params{{"enforce_eager", "false"}}, false, ""},
		{Params{{"tp_size", "2"}}, false, ""},
		{Params{{"enforce_eager", "yes"}}, false, `server argument enforce_eager="yes": want true or false`},
	} {
		var s estimator.Spec
		un, err := ApplyArgs(&s, c.args, nil)
		if c.wantErr != "" {
			if err == nil || err.Error() != c.wantErr {
				t.Errorf("%v: error %v, want %s", c.args, err, c.wantErr)
			}
			continue
		}
		if err != nil || len(un) != 0 || s.EnforceEager != c.want {
			t.Errorf("%v: EnforceEager %v, unmodelled %v, error %v; want %v, none, nil", c.args, s.EnforceEager, un, err, c.want)
		}
	}
	cfgs := FromSweep([]estimator.SweepPoint{{SweepConfig: estimator.SweepConfig{TP: 1, Engine: "sglang", MaxNumSeqs: 8, Concurrency: 8, EnforceEager: true}}}, "bf16")
	if len(cfgs) != 1 {
		t.Fatalf("FromSweep: %d configurations, want 1", len(cfgs))
	}
	for fw, want := range map[string]string{"vllm": " --enforce-eager ", "sglang": " --disable-cuda-graph "} {
		line, _, err := Launcher{Framework: fw, Model: "m/x"}.Command(cfgs[0].Args, nil, 9000)
		if err != nil || !strings.Contains(line, want) {
			t.Errorf("%s: %q, %v; want %q in it", fw, line, err, want)
		}
	}
}

// TestFromSweepEngineFamily: the server arguments of an estimator point follow its engine
// family, not its profile's name: an FP8 KV cache is fp8_e4m3 for SGLang (sglang.launch_server
// names the format) whether the point was predicted with sglang or sglang-0.4, and TensorRT-LLM
// (trtllm or trtllm-0.x) takes neither kv_cache_dtype nor gpu_memory_utilization
// (trtllm-serve has no such flag); only "sglang" and "trtllm" were matched.
func TestFromSweepEngineFamily(t *testing.T) {
	for _, c := range []struct {
		engine, family string
		kv             string // kv_cache_dtype argument, "" none
		memFrac        bool
	}{
		{"sglang", "sglang", "fp8_e4m3", true},
		{"sglang-0.4", "sglang", "fp8_e4m3", true},
		{"trtllm-0.x", "trtllm", "", false},
		{"vllm-v0", "vllm", "fp8", true},
	} {
		cfgs := FromSweep([]estimator.SweepPoint{{SweepConfig: estimator.SweepConfig{TP: 1, Engine: c.engine, EngineFamily: c.family, KVDtype: "fp8", MemoryFraction: 0.9, Concurrency: 8}}}, "bf16")
		if len(cfgs) != 1 {
			t.Fatalf("%s: %d configurations", c.engine, len(cfgs))
		}
		kv, mem := "", false
		for _, p := range cfgs[0].Args {
			switch p.Name {
			case "kv_cache_dtype":
				kv = p.Value
			case "gpu_memory_utilization":
				mem = true
			}
		}
		if kv != c.kv || mem != c.memFrac {
			t.Errorf("%s: kv_cache_dtype %q, gpu_memory_utilization %v; want %q, %v", c.engine, kv, mem, c.kv, c.memFrac)
		}
	}
}
