package models

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// loadCase parses testdata/cases/<name> (testdata/cases/SOURCES.md says where each came from).
func loadCase(t testing.TB, name string) *Model {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "cases", name))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(b, name)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCaseParams: parameter counts of real configs with vendor spellings, partial
// text_config and per-layer geometry, each against a hand count.
func TestCaseParams(t *testing.T) {
	for _, c := range []struct {
		file string
		want float64 // parameters of the text decoder
		tol  float64
		why  string
	}{
		// Per layer: QKV 4096·(4096 + 2·2·128) = 4096·4608, o 4096², MLP 4096·27392 +
		// 13696·4096 → 203.95 M; × 28 + 2 × 65024·4096 (embedding, untied output) = 6.244 B.
		{"chatglm3-6b/config.json", 6.244e9, 0.002, "ChatGLM3-6B hand count"},
		// Embedding 103424·2560 = 264.8 M (tied) + attention 28 × 15.73 M + dense layer 0
		// 3·2560·12288 = 94.4 M + 27 MoE layers × (64 routed + 2 shared) × 3·2560·1536 = 11.80 M
		// + routers → 21.83 B (model card: 21 B total, 3 B active).
		{"ernie45-21b-a3b/config.json", 21.83e9, 0.01, "ERNIE-4.5-21B-A3B hand count"},
		// LlamaConfig defaults: hidden 4096, 32 layers, 32 heads, intermediate 11008, with the
		// config's vocabulary 32064: 32·(4·4096² + 3·4096·11008) + 2·32064·4096 = 6.74 B.
		{"llava15-7b/config.json", 6.74e9, 0.001, "LLaVA-1.5-7B text decoder, LlamaConfig defaults"},
		// Embedding 262144·5376 = 1409.3 M (tied); 50 sliding layers × (attention 3·5376·8192
		// + 5376·8192 = 132.1 M, MLP 3·5376·21504 = 346.8 M); 10 global layers × (q 5376·16384 +
		// k 5376·2048, no v (k_eq_v), o 16384·5376 = 187.2 M, MLP 346.8 M) → 30.70 B.
		{"gemma4-31b/config.json", 30.70e9, 0.005, "Gemma 4 31B hand count"},
		// 106.85 B total (GLM-4.5-Air: dense first layer, shared expert, head_dim 128).
		{"glm45-air/config.json", 106.85e9, 0.005, "GLM-4.5-Air model card: 106B total"},
	} {
		got := float64(loadCase(t, c.file).Params().Total)
		if !within(got, c.want, c.tol) {
			t.Errorf("%s: params %.5g, want %.5g ±%.1f%% (%s)", c.file, got, c.want, 100*c.tol, c.why)
		}
	}
}

// TestCaseKVPerToken: KV bytes per token, all layers at full length (windows ignored).
func TestCaseKVPerToken(t *testing.T) {
	for _, c := range []struct {
		file string
		want float64
		why  string
	}{
		{"chatglm3-6b/config.json", 28672, "28 layers × 2 (K,V) × 128 × 2 KV groups × 2 B (fp16)"},
		{"llava15-7b/config.json", 512 << 10, "32 layers × 2 × 32 heads × 128 × 2 B = 512 KiB"},
		{"gemma4-31b/config.json", 880 << 10, "50 sliding × 2·16·256·2 B (16 KiB) + 10 global × 2·4·512·2 B (8 KiB) = 880 KiB"},
		{"glm45-air/config.json", 188416, "46 × 8 × 128 × 2 × 2 B"},
		{"gemma3-27b-swa-capacity/config.json", 62 * 8192, "62 layers × 2 × 16 heads × 128 × 2 B = 62 × 8 KiB"},
	} {
		got, err := loadCase(t, c.file).KVBytesPerToken("")
		if err != nil || float64(got) != c.want {
			t.Errorf("%s: KV %v B/token (%v), want %v (%s)", c.file, float64(got), err, c.want, c.why)
		}
	}
	// Beyond Gemma 4's 1024-token window only the global layers grow: 10 × 8 KiB per token.
	m := loadCase(t, "gemma4-31b/config.json")
	a, _ := m.KVCacheBytes("", 4096, 1)
	b, _ := m.KVCacheBytes("", 4097, 1)
	if float64(b-a) != 10*8192 {
		t.Errorf("Gemma 4 KV growth past the window: %v B/token, want 81920 (10 global layers × 8 KiB)", float64(b-a))
	}
}

// TestCaseQuantizedWeights: checkpoint bytes of quantized configs.
func TestCaseQuantizedWeights(t *testing.T) {
	for _, c := range []struct {
		file string
		want float64 // bytes
		tol  float64
		why  string
	}{
		// NVFP4: 0.5 B + one FP8 E4M3 scale per 16 = 0.5625 B/weight; 6.979 B linear params ×
		// 0.5625 + embedding and lm_head 2·128256·4096·2 B = 2.10 GB → 6.03 GB.
		{"llama31-8b-nvfp4/config.json", 6.03e9, 0.01, "NVFP4 hand count"},
		// NVFP4 on every linear except lm_head and routers: ≈ 29.9 B × 0.5625 + 0.62 B × 2 B ≈ 18 GB.
		{"qwen3-30b-a3b-modelopt-nvfp4/config.json", 18.0e9, 0.03, "ModelOpt NVFP4 hand count"},
		{"qwen3-30b-a3b-modelopt-nvfp4/config-legacy.json", 18.0e9, 0.03, "ModelOpt legacy form, same checkpoint"},
		// int4 group 32 experts: 1014.7 B × (0.5 + 2/32) + 11.7 B × 2 B ≈ 594 GB.
		{"kimi-k2-thinking-int4/config.json", 594e9, 0.01, "Kimi-K2-Thinking hand count"},
	} {
		got, err := loadCase(t, c.file).WeightBytes("")
		if err != nil || !within(float64(got), c.want, c.tol) {
			t.Errorf("%s: weights %.4g B (%v), want %.4g ±%.0f%% (%s)", c.file, float64(got), err, c.want, 100*c.tol, c.why)
		}
	}
}

// TestCaseVisionTower: LLaVA-1.5-7B's CLIP ViT-L/14-336 tower and projector are counted
// apart from the text decoder. Hand count: 24 layers × (4·1024² + 4·1024 + 2·1024·4096 +
// 4096 + 1024 + 4·1024 = 12,596,224) + patch 3·14²·1024 + positions 576·1024 + class 2·1024
// + pre/post LayerNorms 4·1024 = 303.5 M; projector 1024·4096 + 4096² + 2·4096 = 21.0 M.
// 6.74 B + 0.3245 B = 7.06 B, the model card's total.
func TestCaseVisionTower(t *testing.T) {
	m := loadCase(t, "llava15-7b/config.json")
	if v := float64(m.Params().Vision); !within(v, 324.5e6, 0.002) {
		t.Errorf("LLaVA vision tower %.4g, want 324.5 M", v)
	}
	if !strings.Contains(strings.Join(m.Notes, "|"), "vision tower counted") {
		t.Errorf("notes %q lack the vision-tower note", m.Notes)
	}
	if !strings.Contains(strings.Join(m.Notes, "|"), "text_config omits hidden_size") {
		t.Errorf("notes %q do not say which defaults were used", m.Notes)
	}
	w, _ := m.WeightBytes("")
	if want := (6.7389e9 + 324.5e6) * 2; !within(float64(w), want, 0.002) {
		t.Errorf("LLaVA fp16 weights %.4g, want ≈ %.4g (text + tower at 2 B)", float64(w), want)
	}
}

// Vendor spellings on configs not in the cases folder, each with a hand count.
func TestVendorSpellings(t *testing.T) {
	for _, c := range []struct {
		name, json string
		total      float64
		kv         float64 // bytes/token, bf16
		why        string
	}{
		// DBRX (public config values): attention 40 × (6144² ·2 + 2·6144·1024) = 40 × 88.08 M;
		// experts 40 × 16 × 3·6144·10752; routers 40·6144·16; embedding + lm_head 2·100352·6144;
		// norms → 131.6 B (Databricks: "132B total parameters, 36B active").
		{"dbrx", `{"model_type":"dbrx","d_model":6144,"n_heads":48,"n_layers":40,"max_seq_len":32768,"vocab_size":100352,
"attn_config":{"clip_qkv":8,"kv_n_heads":8,"rope_theta":500000},"ffn_config":{"ffn_hidden_size":10752,"moe_num_experts":16,"moe_top_k":4},"tie_word_embeddings":false}`,
			131.60e9, 40 * 2 * 8 * 128 * 2, "DBRX hand count"},
		// MPT-7B: 32 × (4·4096² + 2·4096·16384) + 50432·4096 (tied) + LayerNorms 65·4096 = 6.649 B.
		{"mpt-7b", `{"model_type":"mpt","d_model":4096,"n_heads":32,"n_layers":32,"expansion_ratio":4,"max_seq_len":2048,"vocab_size":50432,"no_bias":true,
"attn_config":{"alibi":true,"attn_impl":"torch"}}`, 6.649e9, 32 * 2 * 4096 * 2, "MPT-7B hand count"},
		// GLM-4-9B in ChatGLM format: 40 × (4096·(4096+2·2·128) + 4096² + 3·4096·13696) +
		// 2·151552·4096 = 9.40 B (model card: 9.4 B).
		{"glm-4-9b", `{"model_type":"chatglm","hidden_size":4096,"num_layers":40,"num_attention_heads":32,"multi_query_attention":true,"multi_query_group_num":2,
"kv_channels":128,"ffn_hidden_size":13696,"padded_vocab_size":151552,"seq_length":131072,"add_qkv_bias":true,"add_bias_linear":false,"rmsnorm":true,"torch_dtype":"bfloat16"}`,
			9.40e9, 40 * 2 * 2 * 128 * 2, "GLM-4-9B model card"},
	} {
		m, err := Parse([]byte(c.json), c.name)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got := float64(m.Params().Total); !within(got, c.total, 0.005) {
			t.Errorf("%s: params %.5g, want %.5g (%s)", c.name, got, c.total, c.why)
		}
		if kv, _ := m.KVBytesPerToken("bf16"); float64(kv) != c.kv {
			t.Errorf("%s: KV %v B/token, want %v", c.name, float64(kv), c.kv)
		}
	}
}

// TestUnknownTypeShapeKeys: a model_type roofline was not written against, whose config
// carries shape-changing keys the parser never reads, is refused by name; one with only
// Llama keys is still read (with a note).
func TestUnknownTypeShapeKeys(t *testing.T) {
	for _, c := range []struct {
		name, json, want string
	}{
		// DBRX's nested experts under a new name: a Llama reading would miss 16 experts (6.5× weights).
		{"dbrx-like", `{"model_type":"dbrx_next","d_model":6144,"n_heads":48,"n_layers":40,"vocab_size":100352,"intermediate_size":10752,
"attn_config":{"kv_n_heads":8},"ffn_config":{"moe_num_experts":16,"moe_top_k":4}}`, "unsupported: model_type dbrx_next: keys attn_config, ffn_config not understood"},
		// ChatGLM's KV groups under a new name: a Llama reading would count 32 KV heads, not 2 (16× KV).
		{"glm-like", `{"model_type":"chatglm5","hidden_size":4096,"num_layers":28,"num_attention_heads":32,"multi_query_attention":true,
"multi_query_group_num":2,"kv_channels":128,"ffn_hidden_size":13696,"padded_vocab_size":65024}`, "unsupported: model_type chatglm5: keys multi_query_group_num not understood"},
		// Cross-layer attention shares one layer's KV with the next: a Llama reading doubles the KV.
		{"cla", `{"model_type":"hunyuan_next","hidden_size":4096,"num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":8,
"intermediate_size":11008,"vocab_size":128000,"use_cla":true,"cla_share_factor":2}`, "unsupported: model_type hunyuan_next: keys cla_share_factor not understood"},
	} {
		_, err := Parse([]byte(c.json), c.name)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	m, err := Parse([]byte(`{"model_type":"yi_next","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":10,"intermediate_size":128,"rope_theta":5e6,"rms_norm_eps":1e-5}`), "llama-like")
	if err != nil || !strings.Contains(strings.Join(m.Notes, "|"), "not one roofline was checked against") {
		t.Errorf("Llama-compatible unknown type: %v %v, want accepted with a note", err, m)
	}
}

// TestQuantSchemes: scale widths and mixed-precision groups (hand prices).
func TestQuantSchemes(t *testing.T) {
	base := `{"model_type":"llama","hidden_size":4096,"num_hidden_layers":4,"num_attention_heads":32,"num_key_value_heads":8,
"vocab_size":1000,"intermediate_size":14336,"torch_dtype":"bfloat16","quantization_config":%s}`
	ct := func(w string) string {
		return `{"quant_method":"compressed-tensors","config_groups":{"group_0":{"targets":["Linear"],"weights":` + w + `}},"ignore":["lm_head"]}`
	}
	for _, c := range []struct {
		name, q string
		want    float64
		why     string
	}{
		{"nvfp4", ct(`{"num_bits":4,"type":"float","strategy":"tensor_group","group_size":16}`), 0.5 + 1.0/16, "E2M1 + FP8 E4M3 scale per 16"},
		{"mxfp4", ct(`{"num_bits":4,"type":"float","strategy":"group","group_size":32}`), 0.5 + 1.0/32, "E2M1 + E8M0 scale per 32"},
		{"mxfp8", ct(`{"num_bits":8,"type":"float","strategy":"group","group_size":32}`), 1 + 1.0/32, "E4M3 + E8M0 scale per 32"},
		{"w4a16", ct(`{"num_bits":4,"type":"int","strategy":"group","group_size":128}`), 0.5 + 2.0/128, "int4 + fp16 scale per 128"},
		{"modelopt-fp8", `{"quant_method":"modelopt","quant_algo":"FP8","exclude_modules":["lm_head"]}`, 1, "per-tensor FP8"},
		{"fbgemm", `{"quant_method":"fbgemm_fp8","modules_to_not_convert":["lm_head"]}`, 1, "per-channel FP8"},
	} {
		m, err := Parse([]byte(strings.Replace(base, "%s", c.q, 1)), c.name)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if m.Quant.BytesPerWeight != c.want {
			t.Errorf("%s: %v B/weight, want %v (%s)", c.name, m.Quant.BytesPerWeight, c.want, c.why)
		}
	}
	// Mixed: FP8 attention (1 B) with NVFP4 MLP (0.5625 B). Per layer attention 4096·6144 +
	// 4096² = 41.94 M, MLP 3·4096·14336 = 176.16 M; 4 layers; embedding and lm_head 2·1000·4096
	// at 2 B; norms 9·4096 at 2 B.
	mixed := `{"quant_method":"compressed-tensors","ignore":["lm_head"],"config_groups":{
"group_0":{"targets":["re:.*self_attn.*"],"weights":{"num_bits":8,"type":"float","strategy":"channel"}},
"group_1":{"targets":["re:.*mlp.*"],"weights":{"num_bits":4,"type":"float","strategy":"tensor_group","group_size":16}}}}`
	m, err := Parse([]byte(strings.Replace(base, "%s", mixed, 1)), "mixed")
	if err != nil {
		t.Fatal(err)
	}
	want := 4*41943040*1.0 + 4*176160768*0.5625 + (2*1000*4096+9*4096)*2
	if w, _ := m.WeightBytes(""); !within(float64(w), want, 1e-9) {
		t.Errorf("mixed FP8 attention + NVFP4 MLP: %.6g B, want %.6g", float64(w), want)
	}
	// fbgemm_fp8 keeping layer 0's and layer 3's MLP in bf16 (as Meta's FP8 checkpoints keep
	// the first and last layers): MLP 2 of 4 layers at 2 B, 2 at 1 B; attention kept bf16.
	fb := `{"quant_method":"fbgemm_fp8","modules_to_not_convert":["lm_head","model.layers.0.mlp","model.layers.3.mlp","model.layers.0.self_attn","model.layers.1.self_attn","model.layers.2.self_attn","model.layers.3.self_attn"]}`
	m, err = Parse([]byte(strings.Replace(base, "%s", fb, 1)), "fbgemm")
	if err != nil {
		t.Fatal(err)
	}
	want = 4*41943040*2.0 + 2*176160768*2 + 2*176160768*1 + (2*1000*4096+9*4096)*2
	if w, _ := m.WeightBytes(""); !within(float64(w), want, 1e-9) {
		t.Errorf("fbgemm_fp8 with per-layer exclusions: %.6g B, want %.6g", float64(w), want)
	}
}

// TestSharedKVLayers: layers named by num_kv_shared_layers read an earlier layer's cache
// and store none: 4 layers, the last 2 shared → 2 × 2·2·64·2 B per token.
func TestSharedKVLayers(t *testing.T) {
	m, err := Parse([]byte(`{"model_type":"gemma4_text","hidden_size":256,"num_hidden_layers":4,"num_attention_heads":4,"num_key_value_heads":2,
"head_dim":64,"vocab_size":100,"intermediate_size":512,"sliding_window":16,"num_kv_shared_layers":2,
"layer_types":["sliding_attention","full_attention","sliding_attention","full_attention"]}`), "shared")
	if err != nil {
		t.Fatal(err)
	}
	if kv, _ := m.KVBytesPerToken("bf16"); kv != 2*2*2*64*2 {
		t.Errorf("KV %v B/token, want %d", kv, 2*2*2*64*2)
	}
}

func FuzzParseVendor(f *testing.F) {
	for _, name := range []string{"chatglm3-6b/config.json", "ernie45-21b-a3b/config.json", "gemma4-31b/config.json", "llava15-7b/config.json", "qwen3-30b-a3b-modelopt-nvfp4/config-legacy.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "cases", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b, "fuzz")
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error %q", err)
			}
			return
		}
		m.Params()
		m.GEMMs()
		if _, err := m.KVBytesPerToken(""); err != nil {
			t.Error(err)
		}
	})
}

// TestVisionTowerQwen2VL: Qwen2-VL names its tower's width embed_dim (hidden_size is the
// merger's output) and its layers depth. The Qwen2-VL paper (arXiv 2409.12191, Table 1)
// gives a 675 M-parameter ViT for every size; the ViT count here omits the patch merger's
// 5120→5120 MLP (rotary positions, no learned table), so it comes within 8%.
func TestVisionTowerQwen2VL(t *testing.T) {
	m, err := Parse([]byte(`{"model_type":"qwen2_vl","hidden_size":3584,"intermediate_size":18944,"num_hidden_layers":28,"num_attention_heads":28,
"num_key_value_heads":4,"vocab_size":152064,"max_position_embeddings":32768,"torch_dtype":"bfloat16",
"vision_config":{"depth":32,"embed_dim":1280,"mlp_ratio":4,"num_heads":16,"hidden_size":3584,"patch_size":14,"spatial_merge_size":2}}`), "qwen2-vl-7b")
	if err != nil {
		t.Fatal(err)
	}
	if v := float64(m.Params().Vision); !within(v, 675e6, 0.08) {
		t.Errorf("Qwen2-VL vision tower %.4g, want ≈ 675 M ±8%%", v)
	}
}
