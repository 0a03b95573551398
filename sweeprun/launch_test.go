package sweeprun

import (
	"strings"
	"testing"
)

func TestNativeFlags(t *testing.T) {
	// Flag names from each engine's documented server CLI: vllm serve --help,
	// python -m sglang.launch_server --help, trtllm-serve --help, and Ollama's
	// environment variables (envconfig/config.go of ollama v0.6.5).
	for _, c := range []struct{ fw, name, want string }{
		{"vllm", "tp_size", "--tensor-parallel-size"},
		{"vllm", "tensor-parallel-size", "--tensor-parallel-size"},
		{"vllm", "dp_size", "--data-parallel-size"},
		{"vllm", "max_num_seqs", "--max-num-seqs"},
		{"vllm", "enable_prefix_caching", "--enable-prefix-caching"},
		{"sglang", "tp_size", "--tp-size"},
		{"sglang", "max_num_seqs", "--max-running-requests"},
		{"sglang", "max_num_batched_tokens", "--chunked-prefill-size"},
		{"sglang", "gpu_memory_utilization", "--mem-fraction-static"},
		{"trtllm", "tp_size", "--tp_size"},
		{"trtllm", "max_num_seqs", "--max_batch_size"},
		{"trtllm", "max_num_batched_tokens", "--max_num_tokens"},
		{"ollama", "max_num_seqs", "OLLAMA_NUM_PARALLEL"},
		{"ollama", "num_parallel", "OLLAMA_NUM_PARALLEL"},
		{"ollama", "flash_attention", "OLLAMA_FLASH_ATTENTION"},
		{"ollama", "OLLAMA_KEEP_ALIVE", "OLLAMA_KEEP_ALIVE"},
		{"vllm", "enforce_eager", "--enforce-eager"},
		{"vllm", "disable_cuda_graph", "--enforce-eager"},
		{"sglang", "enforce_eager", "--disable-cuda-graph"},
		{"sglang", "disable-cuda-graph", "--disable-cuda-graph"},
	} {
		got, err := NativeName(c.fw, c.name)
		if err != nil || got != c.want {
			t.Errorf("NativeName(%s, %s) = %q, %v; want %q", c.fw, c.name, got, err, c.want)
		}
	}
	for _, c := range []struct{ fw, name string }{{"ollama", "tp_size"}, {"trtllm", "dp_size"}, {"tgi", "tp"}, {"trtllm", "enforce_eager"}, {"ollama", "enforce_eager"}} {
		if _, err := NativeName(c.fw, c.name); err == nil {
			t.Errorf("NativeName(%s, %s): no error", c.fw, c.name)
		}
	}
}

func TestCommands(t *testing.T) {
	p := Params{{"tp_size", "2"}, {"max_num_seqs", "64"}, {"enforce_eager", "true"}, {"ep", "2"}}
	for _, c := range []struct {
		l    Launcher
		args Params
		want string
	}{
		{Launcher{Framework: "vllm", Model: "m/x"}, p, "vllm serve m/x --tensor-parallel-size 2 --max-num-seqs 64 --enforce-eager --enable-expert-parallel --host 127.0.0.1 --port 9000"},
		{Launcher{Framework: "vllm", Model: "m/x"}, Params{{"tp_size", "1"}, {"dp_size", "8"}, {"ep_size", "8"}}, "vllm serve m/x --tensor-parallel-size 1 --data-parallel-size 8 --enable-expert-parallel --host 127.0.0.1 --port 9000"},
		{Launcher{Framework: "vllm", Model: "m/x"}, Params{{"tp_size", "8"}, {"ep_size", "1"}}, "vllm serve m/x --tensor-parallel-size 8 --host 127.0.0.1 --port 9000"},
		{Launcher{Framework: "sglang", Model: "m/x"}, Params{{"tp_size", "8"}, {"dp_size", "8"}, {"enable_dp_attention", "true"}, {"ep_size", "8"}}, "python -m sglang.launch_server --model-path m/x --tp-size 8 --dp-size 8 --enable-dp-attention --ep-size 8 --host 127.0.0.1 --port 9000"},
		{Launcher{Framework: "trtllm", Model: "m/x"}, Params{{"tp_size", "8"}, {"ep_size", "4"}}, "trtllm-serve m/x --tp_size 8 --ep_size 4 --host 127.0.0.1 --port 9000"},
		{Launcher{Framework: "sglang", Model: "m/x", Host: "0.0.0.0"}, p[:2], "python -m sglang.launch_server --model-path m/x --tp-size 2 --max-running-requests 64 --host 0.0.0.0 --port 9000"},
		{Launcher{Framework: "trtllm", Model: "m/x"}, p[:2], "trtllm-serve m/x --tp_size 2 --max_batch_size 64 --host 127.0.0.1 --port 9000"},
		{Launcher{Framework: "ollama", Bin: "/opt/my ollama"}, Params{{"num_parallel", "2"}}, "OLLAMA_NUM_PARALLEL=2 OLLAMA_HOST=127.0.0.1:9000 '/opt/my ollama' serve"},
		{Launcher{Template: "srv --tp {tp} --p {port} --m {model}", Model: "a b"}, Params{{"tp", "4"}}, "srv --tp 4 --p 9000 --m 'a b'"},
	} {
		line, vars, err := c.l.Command(c.args, nil, 9000)
		if got := Display(line, vars); err != nil || got != c.want {
			t.Errorf("%+v: %q, %v\nwant %q", c.l, got, err, c.want)
		}
	}
	for _, c := range []struct {
		l    Launcher
		args Params
		want string
	}{
		{Launcher{Template: "srv {tp}"}, nil, "placeholder {tp} has no value"},
		{Launcher{Template: "srv {port}"}, Params{{"tp", "1"}}, "no {tp} placeholder"},
		{Launcher{Framework: "ollama"}, Params{{"tp_size", "2"}}, "ollama serve has no setting"},
		// vLLM's --enable-expert-parallel shards experts over all tp_size × dp_size GPUs (its
		// expert-parallel deployment guide), so ep 4 beside tp 1 × dp 8 has no command: it
		// printed the ep 8 command and predicted an ep 4 deployment.
		{Launcher{Framework: "vllm", Model: "m/x"}, Params{{"tp_size", "1"}, {"dp_size", "8"}, {"ep_size", "4"}}, "ep_size=4: vLLM's --enable-expert-parallel shards the experts over all tp_size × dp_size = 8 GPUs; allowed ep_size 1 (off) or 8"},
		{Launcher{Framework: "vllm", Model: "m/x"}, Params{{"ep", "2"}}, "allowed ep 1 (off) or 1"},
		// SGLang (moe_tp_size = tp_size / ep_size) and TensorRT-LLM (its Mapping: moe_tp_size ×
		// moe_ep_size = tp_size) split one engine's tp_size GPUs into EP groups: --tp-size 1
		// --dp-size 8 --ep-size 8 is 8 one-GPU replicas with no EP group of 8, yet was
		// predicted as attention DP8 + EP8.
		{Launcher{Framework: "sglang", Model: "m/x"}, Params{{"tp_size", "1"}, {"dp_size", "8"}, {"ep_size", "8"}}, "ep_size=8 with tp_size 1: sglang splits one engine's tp_size GPUs into expert-parallel groups, so ep_size must divide tp_size; attention DP + EP over 8 GPUs is tp_size=8 with enable_dp_attention=true"},
		{Launcher{Framework: "sglang", Model: "m/x"}, Params{{"tp_size", "8"}, {"ep_size", "3"}}, "ep_size must divide tp_size"},
		{Launcher{Framework: "trtllm", Model: "m/x"}, Params{{"ep_size", "8"}}, "ep_size=8 with tp_size 1: trtllm splits"},
		// dp_size 3 attention ranks cannot split tp_size 8 GPUs: listed as a run, predicted "none".
		{Launcher{Framework: "sglang", Model: "m/x"}, Params{{"tp_size", "8"}, {"dp_size", "3"}, {"enable_dp_attention", "true"}, {"ep_size", "8"}}, "enable_dp_attention needs dp_size 3 to divide tp_size 8"},
	} {
		_, _, err := c.l.Command(c.args, nil, 9000)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.l, err, c.want)
		}
	}
}

func TestGPUsNeeded(t *testing.T) {
	for _, c := range []struct {
		fw   string
		args Params
		want int
	}{
		{"vllm", Params{{"tp_size", "2"}, {"dp_size", "4"}}, 8}, // hand: 2·4
		{"vllm", Params{{"max_num_seqs", "8"}}, 1},
		{"", Params{{"num_gpus", "3"}, {"tp", "8"}}, 3},
		{"ollama", Params{{"num_parallel", "4"}}, 0},
	} {
		if got, err := GPUsNeeded(c.fw, c.args); err != nil || got != c.want {
			t.Errorf("GPUsNeeded(%s, %v) = %d, %v; want %d", c.fw, c.args, got, err, c.want)
		}
	}
	if _, err := GPUsNeeded("vllm", Params{{"tp", "two"}}); err == nil {
		t.Error("tp=two: no error")
	}
}
