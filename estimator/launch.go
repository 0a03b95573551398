package estimator

import (
	"fmt"
	"strconv"
	"strings"

	"roofline/models"
)

// Launch holds the server command of a configuration for each engine and the roofline bench
// command that measures it. An engine whose documented CLI cannot express the
// configuration gets an empty command and a note saying why.
type Launch struct {
	VLLM   string   `json:"vllm"`
	SGLang string   `json:"sglang"`
	TRTLLM string   `json:"trtllm"`
	Bench  string   `json:"bench"`
	Notes  []string `json:"notes,omitempty"`
}

// LaunchPort is the port every generated server listens on and the bench command targets.
const LaunchPort = 8000

// LaunchFlags lists, per engine, the only flags generated commands use: each exists in the
// engine's documented server CLI (vllm serve; python -m sglang.launch_server; trtllm-serve)
// and, for "bench", in roofline bench.
var LaunchFlags = map[string][]string{
	"vllm": {"--tensor-parallel-size", "--pipeline-parallel-size", "--data-parallel-size", "--enable-expert-parallel",
		"--max-num-seqs", "--max-num-batched-tokens", "--kv-cache-dtype", "--gpu-memory-utilization", "--max-model-len",
		"--quantization", "--dtype", "--enforce-eager", "--port"},
	"sglang": {"--model-path", "--tp-size", "--pp-size", "--dp-size", "--enable-dp-attention", "--ep-size", "--max-running-requests", "--chunked-prefill-size",
		"--kv-cache-dtype", "--mem-fraction-static", "--context-length", "--quantization", "--disable-cuda-graph", "--port"},
	"trtllm": {"--tp_size", "--pp_size", "--ep_size", "--max_batch_size", "--max_num_tokens",
		"--kv_cache_free_gpu_memory_fraction", "--max_seq_len", "--port"},
	"bench": {"--url", "--model", "--input-len", "--output-len", "--prefix-len", "--concurrency", "--request-rate",
		"--burstiness", "--num-requests"},
}

// LaunchPrefix is the program part of each engine's command, before the flags.
var LaunchPrefix = map[string]string{
	"vllm":   "vllm serve",
	"sglang": "python -m sglang.launch_server",
	"trtllm": "trtllm-serve",
	"bench":  "roofline bench",
}

// cmdline builds a command from a prefix, optional positional argument and flag pairs.
type cmdline struct{ parts []string }

func (c *cmdline) add(flag string, v any) {
	c.parts = append(c.parts, flag)
	if v != nil {
		c.parts = append(c.parts, shellQuote(fmt.Sprint(v)))
	}
}

func (c *cmdline) String() string { return strings.Join(c.parts, " ") }

// shellQuote returns s unchanged when it is made of safe characters, else single-quoted.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@+,", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// LaunchFor returns the commands that serve configuration c of model m and benchmark it
// with workload w (its lengths; the load comes from c). The engine whose profile c was
// predicted with also gets its memory knob (gpu_memory_utilization, mem_fraction_static,
// kv_cache_free_gpu_memory_fraction); the others keep their defaults.
func LaunchFor(m *models.Model, c SweepConfig, w Workload) Launch {
	var l Launch
	id := m.ID
	ckpt := m.Quant.Dtype
	if ckpt == "" || ckpt == "fp32" {
		ckpt = modelDtype(m)
	}
	note := func(f string, a ...any) { l.Notes = append(l.Notes, fmt.Sprintf(f, a...)) }
	// Attention DP + EP (EP > TP with DP > 1, as the step model reads it: moeGather): the DP
	// ranks are one engine whose experts span them, not DP independent replicas. SGLang
	// spells it --tp-size TP·DP --dp-size DP --enable-dp-attention (its DeepSeek guide:
	// "--tp 8 --dp 8 --enable-dp-attention"), TensorRT-LLM --tp_size TP·DP with
	// enable_attention_dp in the LLM API options; vLLM's --data-parallel-size with
	// --enable-expert-parallel already is that layout.
	adp := c.EP > c.TP && c.DP > 1
	onlineFP8 := c.WeightDtype == "fp8" && ckpt != "fp8"
	needsCkpt := c.WeightDtype != ckpt && !onlineFP8 && !(isHalf(c.WeightDtype) && isHalf(ckpt))
	if needsCkpt {
		note("%s weights need a checkpoint quantized to %s (the model's own is %s): point the commands at it", c.WeightDtype, c.WeightDtype, ckpt)
	}

	// vLLM.
	v := cmdline{parts: []string{LaunchPrefix["vllm"], shellQuote(id)}}
	v.add("--tensor-parallel-size", c.TP)
	if c.PP > 1 {
		v.add("--pipeline-parallel-size", c.PP)
	}
	if c.DP > 1 {
		v.add("--data-parallel-size", c.DP)
	}
	if c.EP > 1 {
		v.add("--enable-expert-parallel", nil)
	}
	v.add("--max-num-seqs", c.MaxNumSeqs)
	if c.MaxNumBatchedTokens > 0 {
		v.add("--max-num-batched-tokens", c.MaxNumBatchedTokens)
	}
	if c.KVDtype == "fp8" {
		v.add("--kv-cache-dtype", "fp8")
	}
	switch {
	case onlineFP8:
		v.add("--quantization", "fp8")
	case isHalf(c.WeightDtype) && !needsCkpt:
		v.add("--dtype", map[string]string{"bf16": "bfloat16", "fp16": "float16"}[c.WeightDtype])
	}
	if c.Family() == "vllm" && c.MemoryFraction > 0 {
		v.add("--gpu-memory-utilization", fmtFloat(c.MemoryFraction))
	}
	v.add("--max-model-len", c.MaxModelLen)
	if c.EnforceEager {
		v.add("--enforce-eager", nil)
	}
	v.add("--port", LaunchPort)
	l.VLLM = v.String()

	// SGLang.
	{
		s := cmdline{parts: []string{LaunchPrefix["sglang"]}}
		s.add("--model-path", id)
		if adp {
			s.add("--tp-size", c.TP*c.DP)
			s.add("--dp-size", c.DP)
			s.add("--enable-dp-attention", nil)
		} else {
			s.add("--tp-size", c.TP)
			if c.DP > 1 {
				s.add("--dp-size", c.DP)
			}
		}
		if c.PP > 1 {
			// SGLang's server argument for pipeline parallelism, the same flag sweep --run
			// passes for pp_size.
			s.add("--pp-size", c.PP)
		}
		if c.EP > 1 {
			s.add("--ep-size", c.EP)
		}
		s.add("--max-running-requests", c.MaxNumSeqs)
		if c.MaxNumBatchedTokens > 0 {
			s.add("--chunked-prefill-size", c.MaxNumBatchedTokens)
		}
		if c.KVDtype == "fp8" {
			s.add("--kv-cache-dtype", "fp8_e4m3")
		}
		if onlineFP8 {
			s.add("--quantization", "fp8")
		}
		if c.Family() == "sglang" && c.MemoryFraction > 0 {
			s.add("--mem-fraction-static", fmtFloat(c.MemoryFraction))
		}
		s.add("--context-length", c.MaxModelLen)
		if c.EnforceEager {
			s.add("--disable-cuda-graph", nil)
		}
		s.add("--port", LaunchPort)
		l.SGLang = s.String()
	}

	// TensorRT-LLM.
	t := cmdline{parts: []string{LaunchPrefix["trtllm"], shellQuote(id)}}
	if adp {
		t.add("--tp_size", c.TP*c.DP)
	} else {
		t.add("--tp_size", c.TP)
	}
	if c.PP > 1 {
		t.add("--pp_size", c.PP)
	}
	if c.EP > 1 {
		t.add("--ep_size", c.EP)
	}
	t.add("--max_batch_size", c.MaxNumSeqs)
	if c.MaxNumBatchedTokens > 0 {
		t.add("--max_num_tokens", c.MaxNumBatchedTokens)
	}
	if c.Family() == "trtllm" && c.MemoryFraction > 0 {
		t.add("--kv_cache_free_gpu_memory_fraction", fmtFloat(c.MemoryFraction))
	}
	t.add("--max_seq_len", c.MaxModelLen)
	t.add("--port", LaunchPort)
	l.TRTLLM = t.String()
	switch {
	case adp:
		note("trtllm: attention DP over %d ranks: add enable_attention_dp: true to the YAML file given to --extra_llm_api_options (trtllm-serve has no flag for it); without it --tp_size %d runs attention tensor-parallel", c.DP, c.TP*c.DP)
	case c.DP > 1:
		note("trtllm: the command serves one replica on tp·pp = %d GPUs; start %d of them on disjoint GPUs behind a load balancer", c.TP*c.PP, c.DP)
	}
	if c.EnforceEager {
		note("trtllm: CUDA graphs off is the PyTorch backend without cuda_graph_config in the extra LLM API options (--extra_llm_api_options); trtllm-serve has no flag for it")
	}
	if onlineFP8 || c.KVDtype == "fp8" {
		note("trtllm: fp8 weights or KV cache come from the checkpoint: quantize it first (TensorRT Model Optimizer)")
	}

	// roofline bench.
	b := cmdline{parts: []string{LaunchPrefix["bench"]}}
	b.add("--url", "http://localhost:"+strconv.Itoa(LaunchPort))
	b.add("--model", id)
	b.add("--input-len", w.InputLen)
	b.add("--output-len", w.OutputLen)
	if w.PrefixLen > 0 {
		b.add("--prefix-len", w.PrefixLen)
	}
	n := w.NumRequests
	if c.RequestRate > 0 {
		b.add("--request-rate", fmtFloat(c.RequestRate))
		if w.Burstiness > 0 && w.Burstiness != 1 {
			b.add("--burstiness", fmtFloat(w.Burstiness))
		}
		if n == 0 {
			n = max(100, int(c.RequestRate*60))
		}
	} else {
		b.add("--concurrency", c.Concurrency)
		if n == 0 {
			n = max(100, 5*c.Concurrency)
		}
	}
	b.add("--num-requests", n)
	l.Bench = b.String()
	return l
}

func isHalf(d string) bool { return d == "bf16" || d == "fp16" }

// LaunchCommandFlags returns the flags (words starting with "--") of a generated command
// after the engine's prefix, for checking against LaunchFlags.
func LaunchCommandFlags(cmd string) []string {
	var out []string
	for _, f := range strings.Fields(cmd) {
		if strings.HasPrefix(f, "--") {
			out = append(out, f)
		}
	}
	return out
}
