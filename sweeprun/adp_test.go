package sweeprun

import (
	"strings"
	"testing"

	"roofline/estimator"
)

// TestFromSweepAttentionDP: a sweep point with attention DP8 + EP8 (tp=1 dp=8 ep=8: one engine
// whose experts span the 8 ranks) runs under SGLang as --tp-size 8 --dp-size 8
// --enable-dp-attention --ep-size 8 (SGLang's DeepSeek guide: "--tp 8 --dp 8
// --enable-dp-attention"; its tp-size counts every GPU of the group), on 8 GPUs; --tp-size 1
// --dp-size 8 starts 8 one-GPU replicas, each of which would have to hold all of DeepSeek-R1.
// Read back, the arguments are the same deployment (tp=1 dp=8 ep=8 on 8 GPUs). vLLM spells
// the layout --tensor-parallel-size 1 --data-parallel-size 8 --enable-expert-parallel
// (unchanged).
func TestFromSweepAttentionDP(t *testing.T) {
	pt := estimator.SweepPoint{SweepConfig: estimator.SweepConfig{TP: 1, DP: 8, EP: 8, Engine: "sglang", Concurrency: 64}}
	cfgs := FromSweep([]estimator.SweepPoint{pt}, "fp8")
	if len(cfgs) != 1 {
		t.Fatalf("%d configurations, want 1", len(cfgs))
	}
	args := cfgs[0].Args
	line, _, err := Launcher{Framework: "sglang", Model: "deepseek-ai/DeepSeek-R1"}.Command(args, nil, 8000)
	if err != nil {
		t.Fatal(err)
	}
	if want := "--tp-size 8 --dp-size 8 --enable-dp-attention --ep-size 8"; !strings.Contains(line, want) {
		t.Errorf("sglang: %s\nwant %s", line, want)
	}
	if n, err := GPUsNeeded("sglang", args); err != nil || n != 8 {
		t.Errorf("GPUs needed: %d, %v; want 8", n, err)
	}
	var spec estimator.Spec
	if _, err := ApplyArgs(&spec, args, nil); err != nil || spec.TP != 1 || spec.DP != 8 || spec.EP != 8 || spec.NumGPUs != 8 {
		t.Errorf("read back: tp %d dp %d ep %d on %d GPUs, %v; want tp 1 dp 8 ep 8 on 8", spec.TP, spec.DP, spec.EP, spec.NumGPUs, err)
	}
	pt.Engine = "vllm"
	v := FromSweep([]estimator.SweepPoint{pt}, "fp8")[0].Args
	line, _, err = Launcher{Framework: "vllm", Model: "deepseek-ai/DeepSeek-R1"}.Command(v, nil, 8000)
	if err != nil || !strings.Contains(line, "--tensor-parallel-size 1 --data-parallel-size 8 --enable-expert-parallel") || strings.Contains(line, "dp-attention") {
		t.Errorf("vllm: %s, %v", line, err)
	}
	if n, _ := GPUsNeeded("vllm", v); n != 8 {
		t.Errorf("vllm GPUs needed: %d, want 8", n)
	}
	bad := Params{{Name: "tp_size", Value: "8"}, {Name: "dp_size", Value: "3"}, {Name: "enable_dp_attention", Value: "true"}}
	if _, err := ApplyArgs(&estimator.Spec{}, bad, nil); err == nil || !strings.Contains(err.Error(), "dp_size 3 to divide tp_size 8") {
		t.Errorf("tp 8 dp 3 with attention DP: %v, want an error naming both", err)
	}
}
