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

// TestLaunchAttentionDP: DeepSeek-R1 on 8 GPUs with attention DP8 + EP8 (tp=1 dp=8 ep=8, the
// layout whose MoE layers gather the 8 ranks' tokens) is one engine, not 8 replicas of one
// GPU each, which could not hold the model's 671B parameters. SGLang's DeepSeek guide
// launches it as --tp 8 --dp 8 --enable-dp-attention (tp-size counts every GPU of the group;
// --tp-size 1 --dp-size 8 is 8 single-GPU replicas); TensorRT-LLM's DeepSeek-R1 guide as
// trtllm-serve --tp_size 8 --ep_size 8 with enable_attention_dp: true in the
// --extra_llm_api_options YAML; vLLM's expert-parallel guide as --data-parallel-size 8
// --enable-expert-parallel (unchanged). Plain DP replicas (ep ≤ tp) keep --tp-size TP
// --dp-size DP and the trtllm "start DP of them" note.
func TestLaunchAttentionDP(t *testing.T) {
	m := mustModel(t, "deepseek-ai/DeepSeek-R1")
	c := SweepConfig{GPU: "b200-sxm", NumGPUs: 8, TP: 1, PP: 1, DP: 8, EP: 8, Engine: "sglang", WeightDtype: "fp8", KVDtype: "bf16",
		MaxNumSeqs: 128, MaxNumBatchedTokens: 8192, MaxModelLen: 16384, Concurrency: 64}
	l := LaunchFor(m, c, Workload{Kind: Concurrency, InputLen: 1024, OutputLen: 1024})
	if want := "python -m sglang.launch_server --model-path deepseek-ai/DeepSeek-R1 --tp-size 8 --dp-size 8 --enable-dp-attention --ep-size 8 "; !strings.HasPrefix(l.SGLang, want) {
		t.Errorf("sglang: %s\nwant it to start %s", l.SGLang, want)
	}
	if want := "trtllm-serve deepseek-ai/DeepSeek-R1 --tp_size 8 --ep_size 8 "; !strings.HasPrefix(l.TRTLLM, want) {
		t.Errorf("trtllm: %s\nwant it to start %s", l.TRTLLM, want)
	}
	if want := "vllm serve deepseek-ai/DeepSeek-R1 --tensor-parallel-size 1 --data-parallel-size 8 --enable-expert-parallel "; !strings.HasPrefix(l.VLLM, want) {
		t.Errorf("vllm: %s\nwant it to start %s", l.VLLM, want)
	}
	if len(l.Notes) != 1 || !strings.Contains(l.Notes[0], "enable_attention_dp: true") {
		t.Errorf("notes %q: want only the trtllm attention-DP note", l.Notes)
	}
	checkFlags(t, "sglang", l.SGLang)
	checkFlags(t, "trtllm", l.TRTLLM)
	// TP8 with EP8 and no attention DP: experts over the TP group, one replica.
	c.TP, c.DP = 8, 1
	if l := LaunchFor(m, c, Workload{Kind: Concurrency, InputLen: 1024, OutputLen: 1024}); strings.Contains(l.SGLang, "--enable-dp-attention") || !strings.Contains(l.SGLang, "--tp-size 8 --ep-size 8") {
		t.Errorf("TP8 EP8: %s, want --tp-size 8 --ep-size 8 without attention DP", l.SGLang)
	}
}

// TestLaunchSGLangPipeline: a pp > 1 configuration gets an SGLang command with --pp-size (its
// server argument for pipeline parallelism, the one sweep --run passes for pp_size); there was
// no SGLang command, and the sweep script fell back to vLLM's for an SGLang prediction.
func TestLaunchSGLangPipeline(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-70B-Instruct")
	c := SweepConfig{GPU: "h100-sxm", NumGPUs: 8, TP: 4, PP: 2, DP: 1, Engine: "sglang", WeightDtype: "bf16", KVDtype: "bf16",
		MaxNumSeqs: 64, MaxNumBatchedTokens: 8192, MaxModelLen: 8192, Concurrency: 16}
	l := LaunchFor(m, c, Workload{Kind: Concurrency, InputLen: 1024, OutputLen: 256})
	if want := "python -m sglang.launch_server --model-path meta-llama/Llama-3.1-70B-Instruct --tp-size 4 --pp-size 2 "; !strings.HasPrefix(l.SGLang, want) {
		t.Errorf("sglang: %q\nwant it to start %s", l.SGLang, want)
	}
	checkFlags(t, "sglang", l.SGLang)
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"a/b-1.2": "a/b-1.2", "my model": "'my model'", "it's": `'it'\''s'`, "": "''"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
