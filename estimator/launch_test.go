package estimator

import (
	"context"
	"strings"
	"testing"

	"roofline/hardware"
)

// checkFlags fails when a command uses a flag outside LaunchFlags[engine] or does not start
// with the engine's program.
func checkFlags(t *testing.T, engine, cmd string) {
	t.Helper()
	if cmd == "" {
		return
	}
	if !strings.HasPrefix(cmd, LaunchPrefix[engine]+" ") {
		t.Errorf("%s command %q does not start with %q", engine, cmd, LaunchPrefix[engine])
	}
	for _, f := range LaunchCommandFlags(cmd) {
		if !contains(LaunchFlags[engine], f) {
			t.Errorf("%s command uses %s, not in the documented list: %s", engine, f, cmd)
		}
	}
}

// TestLaunchFlagsAllowed generates the commands of every point of sweeps over a dense and an
// MoE model (TP, PP, DP and EP splits, fp8 weights and KV, concurrency and rate loads) and
// checks each flag against the per-engine list.
func TestLaunchFlagsAllowed(t *testing.T) {
	gpus := []*hardware.GPU{mustGPU(t, "H100")}
	for _, tc := range []struct {
		model string
		w     Workload
	}{
		{"meta-llama/Llama-3.1-8B-Instruct", Workload{Kind: Concurrency, InputLen: 512, OutputLen: 128, PrefixLen: 64}},
		{"Qwen/Qwen3-30B-A3B", Workload{Kind: Rate, InputLen: 512, OutputLen: 128, Burstiness: 0.5}},
	} {
		m := mustModel(t, tc.model)
		sp := SweepSpace{Model: m, GPUs: gpus, NumGPUs: []int{1, 2, 4}, WeightDtypes: []string{"bf16", "fp8"}, KVDtypes: []string{"bf16", "fp8"},
			Profiles:   []*Profile{MustEngine("vllm"), MustEngine("sglang"), MustEngine("trtllm")},
			MaxNumSeqs: []int{64}, Workload: tc.w, Concurrencies: []int{8}, RequestRates: []float64{2}, MaxModelLen: 4096}
		r, err := Sweep(context.Background(), sp, SweepOptions{})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, p := range r.Points {
			l := LaunchFor(m, p.SweepConfig, tc.w)
			checkFlags(t, "vllm", l.VLLM)
			checkFlags(t, "sglang", l.SGLang)
			checkFlags(t, "trtllm", l.TRTLLM)
			checkFlags(t, "bench", l.Bench)
			if l.VLLM == "" || l.TRTLLM == "" || l.Bench == "" || l.SGLang == "" && p.PP == 1 {
				t.Errorf("%+v: missing command: %+v", p.SweepConfig, l)
			}
			for _, f := range LaunchCommandFlags(l.VLLM + " " + l.SGLang + " " + l.TRTLLM) {
				seen[f] = true
			}
		}
		// The sweep reaches the parallel and dtype flags, so the check above covered them.
		for _, f := range []string{"--tensor-parallel-size", "--pipeline-parallel-size", "--data-parallel-size", "--kv-cache-dtype", "--quantization", "--tp_size", "--pp_size", "--dp-size"} {
			if !seen[f] {
				t.Errorf("%s: no command used %s", tc.model, f)
			}
		}
		if m.MoE != nil && (!seen["--enable-expert-parallel"] || !seen["--ep-size"] || !seen["--ep_size"]) {
			t.Errorf("%s: expert-parallel flags never generated", tc.model)
		}
	}
}

// TestLaunchExact pins one configuration's commands.
func TestLaunchExact(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-70B-Instruct")
	c := SweepConfig{GPU: "h100-sxm5-80gb", NumGPUs: 4, TP: 2, PP: 1, DP: 2, EP: 1, Engine: "vllm", WeightDtype: "fp8", KVDtype: "fp8",
		MaxNumSeqs: 64, MaxNumBatchedTokens: 8192, MaxModelLen: 8192, MemoryFraction: 0.9, Concurrency: 32}
	l := LaunchFor(m, c, Workload{Kind: Concurrency, InputLen: 1000, OutputLen: 200})
	want := Launch{
		VLLM:   "vllm serve meta-llama/Llama-3.1-70B-Instruct --tensor-parallel-size 2 --data-parallel-size 2 --max-num-seqs 64 --max-num-batched-tokens 8192 --kv-cache-dtype fp8 --quantization fp8 --gpu-memory-utilization 0.9 --max-model-len 8192 --port 8000",
		SGLang: "python -m sglang.launch_server --model-path meta-llama/Llama-3.1-70B-Instruct --tp-size 2 --dp-size 2 --max-running-requests 64 --chunked-prefill-size 8192 --kv-cache-dtype fp8_e4m3 --quantization fp8 --context-length 8192 --port 8000",
		TRTLLM: "trtllm-serve meta-llama/Llama-3.1-70B-Instruct --tp_size 2 --max_batch_size 64 --max_num_tokens 8192 --max_seq_len 8192 --port 8000",
		Bench:  "roofline bench --url http://localhost:8000 --model meta-llama/Llama-3.1-70B-Instruct --input-len 1000 --output-len 200 --concurrency 32 --num-requests 160",
	}
	if l.VLLM != want.VLLM || l.SGLang != want.SGLang || l.TRTLLM != want.TRTLLM || l.Bench != want.Bench {
		t.Errorf("got\n%s\n%s\n%s\n%s\nwant\n%s\n%s\n%s\n%s", l.VLLM, l.SGLang, l.TRTLLM, l.Bench, want.VLLM, want.SGLang, want.TRTLLM, want.Bench)
	}
	if len(l.Notes) != 2 {
		t.Errorf("notes %q: want the trtllm DP and fp8 notes", l.Notes)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"a/b-1.2": "a/b-1.2", "my model": "'my model'", "it's": `'it'\''s'`, "": "''"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
