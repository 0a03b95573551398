package models

import (
	"fmt"
	"io/fs"
	"math"
	"strings"
	"testing"

	"roofline/data"
)

// mustLoad loads a catalogue model or fails the test.
func mustLoad(t testing.TB, id string) *Model {
	t.Helper()
	m, err := LoadCatalogue(id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func within(got, want, tol float64) bool { return math.Abs(got-want) <= tol*math.Abs(want) }

// Official figures: data/models/SOURCES.md, "Officially stated parameter counts"
// (model cards and announcements cited there).
func TestParamsTotalOfficial(t *testing.T) {
	for _, c := range []struct {
		id   string
		want float64 // parameters
		src  string
	}{
		{"meta-llama/Llama-3.1-8B-Instruct", 8.03e9, "Llama 3.1 model card: 8.03B"},
		{"meta-llama/Llama-3.1-70B-Instruct", 70.6e9, "Llama 3.1 model card: 70.6B"},
		{"meta-llama/Llama-3.1-405B", 405.9e9, "Llama 3.1 model card: 405.9B"},
		{"mistralai/Mixtral-8x7B-v0.1", 46.7e9, "mistral.ai/news/mixtral-of-experts: 46.7B total"},
		{"Qwen/Qwen3-30B-A3B", 30.5e9, "Qwen3-30B-A3B model card: 30.5B total"},
		{"Qwen/Qwen3-235B-A22B", 235e9, "Qwen3-235B-A22B model card: 235B total"},
		{"deepseek-ai/DeepSeek-V3", 671e9, "DeepSeek-V3 model card: 671B (685B with the 14B MTP module, not counted)"},
		{"openai/gpt-oss-120b", 116.8e9, "gpt-oss model card (arXiv 2508.10925): 116.8B total"},
	} {
		got := float64(mustLoad(t, c.id).Params().Total)
		if !within(got, c.want, 0.01) {
			t.Errorf("%s: params_total %.4g, want %.4g ±1%% (%s)", c.id, got, c.want, c.src)
		}
	}
}

func TestParamsActiveOfficial(t *testing.T) {
	for _, c := range []struct {
		id   string
		want float64
		src  string
	}{
		{"mistralai/Mixtral-8x7B-v0.1", 12.9e9, "mistral.ai: 12.9B active per token"},
		{"Qwen/Qwen3-30B-A3B", 3.3e9, "Qwen3-30B-A3B model card: 3.3B activated"},
		{"Qwen/Qwen3-235B-A22B", 22e9, "Qwen3-235B-A22B model card: 22B activated"},
		{"deepseek-ai/DeepSeek-V3", 37e9, "DeepSeek-V3 model card: 37B activated"},
	} {
		got := float64(mustLoad(t, c.id).Params().Active)
		if !within(got, c.want, 0.03) {
			t.Errorf("%s: params_active %.4g, want %.4g ±3%% (%s)", c.id, got, c.want, c.src)
		}
	}
}

// Exact counts published elsewhere, or written out by hand.
func TestParamsExact(t *testing.T) {
	for _, c := range []struct {
		id   string
		want int64
		src  string
	}{
		// Hand calculation: layers 32 × (attn 4096·(4096+2·1024) + 4096·4096 = 41,943,040
		// + experts 8·3·4096·14336 = 1,409,286,144 + router 4096·8 = 32,768 + norms 2·4096)
		// + embedding and lm_head 2·32000·4096 + final norm 4096 = 46,702,792,704; a public
		// table of the safetensors gives the same (SOURCES.md, Mixtral-8x7B-Instruct row).
		{"mistralai/Mixtral-8x7B-Instruct-v0.1", 46702792704, "hand calculation / safetensors"},
		// GGUF general.parameter_count of the Instruct build (SOURCES.md).
		{"mistralai/Mistral-Nemo-Instruct-2407", 12247782400, "GGUF metadata"},
		// SOURCES.md exact counts from the config.
		{"meta-llama/Llama-2-7b-hf", 6738415616, "SOURCES.md"},
		{"Qwen/Qwen2.5-32B-Instruct", 32763876352, "SOURCES.md (and a public unit test)"},
		{"microsoft/Phi-3-mini-4k-instruct", 3821079552, "SOURCES.md"},
		{"EleutherAI/gpt-j-6b", 6050882784, "SOURCES.md (untied lm_head with bias)"},
		// Hand calculation: 32 × (4·4096² + 3·4096·14336 + 2·4096) + 2·128256·4096 + 4096.
		{"meta-llama/Llama-3.1-8B-Instruct", 32*(4*4096*4096-2*4096*3072+3*4096*14336+2*4096) + 2*128256*4096 + 4096, "hand calculation"},
	} {
		got := mustLoad(t, c.id).Params()
		if got.Total != c.want {
			t.Errorf("%s: params_total %d, want %d (%s)", c.id, got.Total, c.want, c.src)
		}
	}
}

// Params must equal the GEMMs plus embedding, biases, norms and sinks, for every model.
func TestParamsEqualsGEMMsPlusRest(t *testing.T) {
	for _, id := range CatalogueIDs() {
		m, err := LoadCatalogue(id)
		if err != nil {
			continue
		}
		p := m.Params()
		var sum int64
		for _, g := range m.GEMMs() {
			if g.Name == "lm_head" && m.TiedEmbeddings {
				continue
			}
			sum += g.Params() * int64(g.Layers)
		}
		sum += p.Embedding + p.Biases + p.Norms + p.Sinks
		if sum != p.Total {
			t.Errorf("%s: GEMMs+embedding+biases+norms+sinks = %d, Params().Total = %d", id, sum, p.Total)
		}
		if p.Active > p.Total || (m.MoE == nil && p.Active != p.Total) {
			t.Errorf("%s: active %d, total %d", id, p.Active, p.Total)
		}
	}
}

func TestKVBytesPerToken(t *testing.T) {
	for _, c := range []struct {
		id   string
		want float64
	}{
		// 2 (K and V) · 8 KV heads · 128 head_dim · 32 layers · 2 bytes (bf16) = 131072.
		{"meta-llama/Llama-3.1-8B-Instruct", 2 * 8 * 128 * 32 * 2},
		// 2 · 8 · 128 · 80 layers · 2 = 327680.
		{"meta-llama/Llama-3.1-70B-Instruct", 2 * 8 * 128 * 80 * 2},
		// MLA: (kv_lora_rank 512 + qk_rope_head_dim 64) · 61 layers · 2 bytes = 70272.
		{"deepseek-ai/DeepSeek-V3", (512 + 64) * 61 * 2},
	} {
		got, err := mustLoad(t, c.id).KVBytesPerToken("")
		if err != nil || float64(got) != c.want {
			t.Errorf("%s: KV bytes/token %v (%v), want %v", c.id, float64(got), err, c.want)
		}
	}
	// fp8 KV halves it: 65536 for Llama-3.1-8B.
	m := mustLoad(t, "meta-llama/Llama-3.1-8B-Instruct")
	if got, _ := m.KVBytesPerToken("fp8"); got != 65536 {
		t.Errorf("fp8 KV: %v, want 65536", float64(got))
	}
	if _, err := m.KVBytesPerToken("fp7"); err == nil || !strings.Contains(err.Error(), "allowed") {
		t.Errorf("bad kv dtype: %v", err)
	}
}

func TestKVCacheBytesWindows(t *testing.T) {
	for _, c := range []struct {
		id      string
		ctx, tp int
		want    float64
		calc    string
	}{
		{"google/gemma-2-9b-it", 8192, 1, 21 * (4096 + 8192) * (2 * 8 * 256 * 2),
			"gemma-2-9b: 21 local layers capped at 4096 + 21 global at 8192, 2·8 KV heads·256·2 B = 8192 B per layer-token"},
		{"google/gemma-2-9b-it", 8192, 2, 21 * (4096 + 8192) * (2 * 4 * 256 * 2), "tp 2: 4 KV heads per GPU"},
		{"google/gemma-2-9b-it", 8192, 16, 21 * (4096 + 8192) * (2 * 1 * 256 * 2), "tp 16 > 8 KV heads: one head per GPU (replicated)"},
		{"google/gemma-3-27b-it", 32768, 1, (52*1024 + 10*32768) * (2 * 16 * 128 * 2),
			"gemma-3-27b: 62 layers, every 6th global (10), 52 local capped at 1024; 2·16·128·2 B per layer-token"},
		{"openai/gpt-oss-120b", 131072, 1, (18*128 + 18*131072) * (2 * 8 * 64 * 2),
			"gpt-oss-120b: 18 sliding layers capped at 128 + 18 full; 2·8·64·2 B per layer-token"},
		{"openai/gpt-oss-120b", 100, 1, 36 * 100 * (2 * 8 * 64 * 2), "below the window nothing is capped"},
		{"deepseek-ai/DeepSeek-V3", 1000, 8, 1000 * 70272, "MLA latent not split by tp"},
		{"meta-llama/Llama-3.1-8B-Instruct", 0, 1, 0, "empty sequence"},
	} {
		got, err := mustLoad(t, c.id).KVCacheBytes("", c.ctx, c.tp)
		if err != nil || float64(got) != c.want {
			t.Errorf("%s ctx %d tp %d: %v (%v), want %v (%s)", c.id, c.ctx, c.tp, float64(got), err, c.want, c.calc)
		}
	}
	m := mustLoad(t, "meta-llama/Llama-3.1-8B-Instruct")
	if _, err := m.KVCacheBytes("", -1, 1); err == nil {
		t.Error("negative ctx accepted")
	}
	if _, err := m.KVCacheBytes("", 1, 0); err == nil {
		t.Error("tp 0 accepted")
	}
}

func TestLayerPatterns(t *testing.T) {
	count := func(m *Model) (win, moe int) {
		for _, l := range m.Layers {
			if l.SlidingWindow > 0 {
				win++
			}
			if l.MoE {
				moe++
			}
		}
		return
	}
	for _, c := range []struct {
		id       string
		win, moe int
		why      string
	}{
		{"google/gemma-2-27b-it", 23, 0, "Gemma-2 alternates: even layers local (SOURCES.md)"},
		{"openai/gpt-oss-20b", 12, 24, "layer_types alternate sliding/full; every layer MoE"},
		{"deepseek-ai/DeepSeek-V3", 0, 58, "first_k_dense_replace 3 of 61"},
		{"moonshotai/Kimi-K2-Instruct", 0, 60, "first_k_dense_replace 1 of 61"},
		{"meta-llama/Llama-4-Maverick-17B-128E-Instruct", 36, 24, "chunked on 3 of 4 layers; interleave_moe_layer_step 2"},
		{"meta-llama/Llama-4-Scout-17B-16E-Instruct", 36, 48, "interleave_moe_layer_step 1"},
		{"Qwen/Qwen2.5-72B-Instruct", 0, 0, "use_sliding_window false"},
		{"microsoft/Phi-3-mini-4k-instruct", 32, 0, "sliding_window 2047 on every layer"},
		{"mistralai/Mistral-7B-Instruct-v0.3", 0, 0, "sliding_window null"},
	} {
		m := mustLoad(t, c.id)
		if w, e := count(m); w != c.win || e != c.moe {
			t.Errorf("%s: %d window layers, %d MoE layers; want %d, %d (%s)", c.id, w, e, c.win, c.moe, c.why)
		}
	}
}

// Hand calculation for Llama-3.1-8B decoding one token with 1023 cached (1024 keys):
// qkv 2·4096·(4096+2·1024)·32, attention 2·32 heads·(128+128)·1024 keys·32 layers,
// o 2·4096·4096·32, mlp 2·3·4096·14336·32, lm_head 2·4096·128256.
func TestFLOPsLlama8BDecode(t *testing.T) {
	m := mustLoad(t, "meta-llama/Llama-3.1-8B-Instruct")
	ops, err := m.FLOPsPerToken("decode", 1023)
	if err != nil {
		t.Fatal(err)
	}
	want := []OpFLOPs{
		{OpQKV, 2 * 4096 * 6144 * 32},           // 1,610,612,736
		{OpAttention, 2 * 32 * 256 * 1024 * 32}, // 536,870,912
		{OpOProj, 2 * 4096 * 4096 * 32},         // 1,073,741,824
		{OpMLP, 2 * 3 * 4096 * 14336 * 32},      // 11,274,289,152
		{OpLMHead, 2 * 4096 * 128256},           // 1,050,673,152
	}
	if len(ops) != len(want) {
		t.Fatalf("ops %v, want %v", ops, want)
	}
	for i := range want {
		if ops[i] != want[i] {
			t.Errorf("op %d: %v, want %v", i, ops[i], want[i])
		}
	}
	// Prefill of 1024 tokens: the average query sees (1+…+1024)/1024 = 512.5 keys.
	pre, _ := m.FLOPsPerToken("prefill", 1024)
	if got, w := pre[1].FLOPs, 2.0*32*256*32*512.5; float64(got) != w {
		t.Errorf("prefill attention %v, want %v", float64(got), w)
	}
	if _, err := m.FLOPsPerToken("train", 1); err == nil {
		t.Error("unknown phase accepted")
	}
}

func TestAttentionFLOPsWindow(t *testing.T) {
	// gpt-oss-20b: 12 sliding layers (window 128) and 12 full; 64 heads, head_dim 64:
	// 2·64·(64+64) = 16384 FLOPs per key. Decode at ctx 1000: full layers see 1001 keys,
	// sliding ones 128: 16384·12·(1001+128).
	m := mustLoad(t, "openai/gpt-oss-20b")
	if got, want := float64(m.AttentionFLOPs(1, 1000)), 16384.0*12*(1001+128); got != want {
		t.Errorf("decode attention %v, want %v", got, want)
	}
	// Prefill of 200 new tokens: full Σ_{k=1}^{200} k = 20100; sliding Σ min(k,128) =
	// 8256 + 72·128 = 17472.
	if got, want := float64(m.AttentionFLOPs(200, 0)), 16384.0*12*(20100+17472); got != want {
		t.Errorf("prefill attention %v, want %v", got, want)
	}
	if m.AttentionFLOPs(0, 5) != 0 || m.AttentionFLOPs(3, -1) != 0 {
		t.Error("empty input gives non-zero FLOPs")
	}
}

func TestGEMMsMoE(t *testing.T) {
	m := mustLoad(t, "deepseek-ai/DeepSeek-V3")
	got := map[string]GEMM{}
	for _, g := range m.GEMMs() {
		g.Module = "" // the module group is checked by TestQuantModuleGroups
		got[g.Name] = g
	}
	for _, w := range []GEMM{
		{Name: "q_a_proj", K: 7168, N: 1536, Layers: 61, Split: "replicated", Quantized: true},
		{Name: "q_b_proj", K: 1536, N: 128 * 192, Layers: 61, Split: "column", Quantized: true},
		{Name: "kv_a_proj", K: 7168, N: 576, Layers: 61, Split: "replicated", Quantized: true},
		{Name: "kv_b_proj", K: 512, N: 128 * 256, Layers: 61, Split: "column", Quantized: true},
		{Name: "o_proj", K: 128 * 128, N: 7168, Layers: 61, Split: "row", Quantized: true},
		{Name: "mlp_up_gate", K: 7168, N: 2 * 18432, Layers: 3, Split: "column", Quantized: true},
		{Name: "router", K: 7168, N: 256, Layers: 58, Split: "replicated"},
		{Name: "expert_up_gate", K: 7168, N: 2 * 2048, Layers: 58, Experts: 256, ExpertsPerToken: 8, Split: "column", Quantized: true},
		{Name: "shared_down", K: 2048, N: 7168, Layers: 58, Split: "row", Quantized: true},
		{Name: "lm_head", K: 7168, N: 129280, Layers: 1, Split: "column"},
	} {
		if got[w.Name] != w {
			t.Errorf("%s: %+v, want %+v", w.Name, got[w.Name], w)
		}
	}
}

func TestWeightBytesAndElemBytes(t *testing.T) {
	llama := mustLoad(t, "meta-llama/Llama-3.1-8B-Instruct")
	n := float64(llama.Params().Total)
	if w, _ := llama.WeightBytes(""); float64(w) != 2*n {
		t.Errorf("bf16 weights %v, want 2 B × %v", float64(w), n)
	}
	// fp8: every layer GEMM at 1 byte, embedding + lm_head + norms at 2 bytes:
	// 2·525,336,576 embedding/lm_head + 32·2·4096+4096 norms stay 16-bit.
	rest := 2*525336576.0 + 32*2*4096 + 4096
	if w, _ := llama.WeightBytes("fp8"); float64(w) != (n-rest)+2*rest {
		t.Errorf("fp8 weights %v, want %v", float64(w), (n-rest)+2*rest)
	}
	oss := mustLoad(t, "openai/gpt-oss-120b")
	ds := mustLoad(t, "deepseek-ai/DeepSeek-V3")
	for _, c := range []struct {
		m     *Model
		q     bool
		dtype string
		want  float64
		why   string
	}{
		{llama, true, "", 2, "bf16 checkpoint"},
		{llama, true, "int4", 0.5 + 2.0/128, "4-bit plus fp16 scale per 128"},
		{llama, false, "fp8", 2, "non-quantized weights stay 16-bit"},
		{llama, false, "fp32", 4, "fp32 applies to all"},
		{oss, true, "", 0.5 + 1.0/32, "MXFP4: 4 bits + 8-bit scale per 32"},
		{oss, false, "", 2, "attention, router, embedding in bf16"},
		{ds, true, "", 1 + 4.0/(128*128), "fp8 + fp32 scale per 128×128 block"},
	} {
		got, err := c.m.ElemBytes(c.q, c.dtype)
		if err != nil || got != c.want {
			t.Errorf("%s ElemBytes(%v,%q) = %v (%v), want %v (%s)", c.m.ID, c.q, c.dtype, got, err, c.want, c.why)
		}
	}
	if _, err := llama.ElemBytes(true, "fp5"); err == nil {
		t.Error("unknown dtype accepted")
	}
	// gpt-oss-120b checkpoint: the public safetensors total about 65 GB (model card:
	// "fits on a single 80 GB GPU"); the experts at 0.53125 B and the rest at 2 B.
	if w, _ := oss.WeightBytes(""); !within(float64(w), 65.2e9, 0.01) {
		t.Errorf("gpt-oss-120b weights %v, want ≈ 65.2 GB", w)
	}
}

func TestQuantConfigs(t *testing.T) {
	base := `{"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":4096,"num_hidden_layers":2,
"num_attention_heads":32,"num_key_value_heads":8,"vocab_size":1000,"intermediate_size":14336,"torch_dtype":"float16",`
	for _, c := range []struct {
		name, q  string
		method   string
		dtype    string
		bpw      float64
		excluded string
	}{
		// AWQ 4-bit, group 128: 0.5 B + (2 B fp16 scale + 0.5 B packed zero)/128.
		{"awq", `{"quant_method":"awq","bits":4,"group_size":128}`, "awq", "int4", 0.5 + 2.5/128, "embedding,lm_head,router"},
		{"gptq-perchannel", `{"quant_method":"gptq","bits":8,"group_size":-1}`, "gptq", "int8", 1, "embedding,lm_head,router"},
		// compressed-tensors W4A16 group 128 symmetric: 0.5 + 2/128.
		{"ct-w4a16", `{"quant_method":"compressed-tensors","config_groups":{"group_0":{"targets":["Linear"],"weights":{"num_bits":4,"type":"int","strategy":"group","group_size":128,"symmetric":true}}},"ignore":["lm_head","re:.*self_attn.*"]}`,
			"compressed-tensors", "int4", 0.5 + 2.0/128, "attention,embedding,lm_head,router"},
		{"ct-fp8-channel", `{"quant_method":"compressed-tensors","config_groups":{"group_0":{"weights":{"num_bits":8,"type":"float","strategy":"channel"}}},"ignore":["lm_head"]}`,
			"compressed-tensors", "fp8", 1, "embedding,lm_head,router"},
	} {
		m, err := Parse([]byte(base+`"quantization_config":`+c.q+`}`), c.name)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if m.Quant.Method != c.method || m.Quant.Dtype != c.dtype || m.Quant.BytesPerWeight != c.bpw || strings.Join(m.Quant.Excluded, ",") != c.excluded {
			t.Errorf("%s: %+v, want %s %s %v excluded %s", c.name, m.Quant, c.method, c.dtype, c.bpw, c.excluded)
		}
	}
}

func TestParseErrors(t *testing.T) {
	llama := `{"model_type":"llama","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":10,"intermediate_size":128}`
	if _, err := Parse([]byte(llama), "ok"); err != nil {
		t.Fatalf("minimal config: %v", err)
	}
	noType := strings.Replace(llama, `"model_type":"llama",`, "", 1)
	for _, c := range []struct{ name, json, want string }{
		{"malformed", `{"hidden_size": 64,`, "bad.json: invalid config.json"},
		{"array", `[1,2]`, "invalid config.json"},
		{"null", `null`, "not a JSON object"},
		{"missing hidden", strings.Replace(llama, `"hidden_size":64,`, "", 1), `missing required field "hidden_size"`},
		{"missing vocab", strings.Replace(llama, `"vocab_size":10,`, "", 1), `missing required field "vocab_size"`},
		{"missing mlp", strings.Replace(llama, `,"intermediate_size":128`, "", 1), `missing required field "intermediate_size"`},
		{"string layers", strings.Replace(llama, `"num_hidden_layers":2`, `"num_hidden_layers":"2"`, 1), `field "num_hidden_layers": want a non-negative integer`},
		{"fraction", strings.Replace(llama, `"num_hidden_layers":2`, `"num_hidden_layers":2.5`, 1), `want a non-negative integer`},
		{"bad kv heads", strings.Replace(llama, `"vocab_size"`, `"num_key_value_heads":3,"vocab_size"`, 1), `does not divide`},
		{"bad dtype", strings.Replace(llama, `"vocab_size"`, `"torch_dtype":"float12","vocab_size"`, 1), `torch_dtype`},
		{"layer_types", strings.Replace(llama, `"vocab_size"`, `"layer_types":["full_attention","linear_attention"],"vocab_size"`, 1), "unsupported: linear_attention layers"},
		{"mamba", `{"model_type":"mamba","hidden_size":64}`, "unsupported: state-space"},
		{"enc-dec", strings.Replace(llama, `"vocab_size"`, `"is_encoder_decoder":true,"vocab_size"`, 1), "unsupported: encoder-decoder"},
		{"quant", strings.Replace(llama, `"vocab_size"`, `"quantization_config":{"quant_method":"hqq"},"vocab_size"`, 1), `unsupported: quantization method "hqq"`},
		{"topk", strings.Replace(llama, `"vocab_size"`, `"num_local_experts":2,"num_experts_per_tok":3,"vocab_size"`, 1), "exceeds"},
		// Without a model_type, a bad value was reported as "keys intermediate_size,
		// vocab_size not understood" (the keys the reading had not reached yet).
		{"no type, heads 0", strings.Replace(noType, `"num_attention_heads":4`, `"num_attention_heads":0`, 1), `field "num_attention_heads" must be positive, got 0`},
		{"no type, negative hidden", strings.Replace(noType, `"hidden_size":64`, `"hidden_size":-64`, 1), `field "hidden_size": want a non-negative integer, got -64`},
		{"no type, bad kv heads", strings.Replace(noType, `"vocab_size"`, `"num_key_value_heads":3,"vocab_size"`, 1), `field "num_key_value_heads": 3 does not divide`},
		{"no type, bad dtype", strings.Replace(noType, `"vocab_size"`, `"torch_dtype":"float12","vocab_size"`, 1), `field "torch_dtype"`},
		{"no type, missing mlp", strings.Replace(noType, `,"intermediate_size":128`, "", 1), `missing required field "intermediate_size"`},
		{"no type, unread size key", strings.Replace(noType, `"vocab_size"`, `"ffn_config":{"moe_num_experts":16},"vocab_size"`, 1), `unsupported: no model_type: keys ffn_config not understood`},
	} {
		_, err := Parse([]byte(c.json), "bad.json")
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line containing %q", c.name, err, c.want)
		}
	}
}

// Every embedded config loads, except the ones listed, which fail with "unsupported: …".
func TestCatalogueLoads(t *testing.T) {
	unsupported := map[string]string{
		"Qwen/Qwen3-Next-80B-A3B-Thinking": "linear-attention",
		"deepseek-ai/DeepSeek-V3.2":        "sparse attention indexer",
	}
	ids := CatalogueIDs()
	entries, _ := fs.Glob(data.FS, "models/*.json")
	if len(ids) != len(entries) || len(ids) < 40 {
		t.Fatalf("CatalogueIDs has %d ids for %d files", len(ids), len(entries))
	}
	for _, id := range ids {
		m, err := LoadCatalogue(id)
		if want, ok := unsupported[id]; ok {
			if err == nil || !strings.Contains(err.Error(), "unsupported: ") || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %v, want unsupported: …%s", id, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", id, err)
			continue
		}
		if m.ID != id || m.Source != "catalogue" || len(m.Layers) != m.NumLayers || m.Params().Total <= 0 {
			t.Errorf("%s: bad model %+v", id, m)
		}
		for _, n := range m.Notes {
			if strings.Contains(n, "not one roofline was checked against") {
				t.Errorf("%s: %s: every catalogue model_type must be a known one", id, n)
			}
		}
	}
}

// TestUnknownModelType: a model_type Parse was not written against is read, with a note
// that says so; a known one gets no such note.
func TestUnknownModelType(t *testing.T) {
	base := `{"model_type":"%s","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":10,"intermediate_size":128}`
	for _, c := range []struct {
		mt   string
		note bool
	}{{"llama", false}, {"Mistral", false}, {"starcoder2", true}, {"", true}} {
		m, err := Parse([]byte(fmt.Sprintf(base, c.mt)), "x")
		if err != nil {
			t.Fatalf("%q: %v", c.mt, err)
		}
		got := strings.Contains(strings.Join(m.Notes, "|"), "not one roofline was checked against")
		if got != c.note {
			t.Errorf("model_type %q: notes %q; want the unknown-type note: %v", c.mt, m.Notes, c.note)
		}
	}
}

// TestUniformLayersListed: a model without a per-layer list (every layer the zero Layer)
// has the GEMMs, parameters and attention geometry of the same model with its NumLayers
// zero Layers listed — the grouping of the list without building it gives what the list
// gives — for every catalogue model whose list is empty or all zero Layers.
func TestUniformLayersListed(t *testing.T) {
	n := 0
	for _, id := range CatalogueIDs() {
		m, err := LoadCatalogue(id)
		if err != nil || m.NumLayers == 0 {
			continue
		}
		uniform := true
		for _, l := range m.Layers {
			uniform = uniform && l == (Layer{})
		}
		if !uniform {
			continue
		}
		bare, listed := *m, *m
		bare.Layers, listed.Layers = nil, make([]Layer, m.NumLayers)
		if a, b := fmt.Sprint(bare.GEMMs(), bare.Params(), bare.attnGeometries()), fmt.Sprint(listed.GEMMs(), listed.Params(), listed.attnGeometries()); a != b {
			t.Errorf("%s: without the list %s, with it %s", id, a, b)
		}
		if p := bare.ParamsOf(bare.GEMMs()); p != bare.Params() {
			t.Errorf("%s: ParamsOf(GEMMs()) %+v, Params() %+v", id, p, bare.Params())
		}
		n++
	}
	if n == 0 {
		t.Fatal("no catalogue model with uniform layers")
	}
	t.Logf("%d models", n)
}
