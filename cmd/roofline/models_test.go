package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestModelsListGolden(t *testing.T) {
	for _, c := range []struct{ golden string }{{"models_list.txt"}, {"models_list.json"}} {
		out := "table"
		if strings.HasSuffix(c.golden, ".json") {
			out = "json"
		}
		stdout, stderr, code := runCLI(t, "models", "list", "--output", out)
		if code != 0 || stderr != "" {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
		golden(t, c.golden, stdout)
	}
}

func TestModelsShowGolden(t *testing.T) {
	for _, c := range []struct {
		golden string
		args   []string
	}{
		{"models_show_llama8b.json", []string{"models", "show", "meta-llama/Llama-3.1-8B-Instruct", "--output", "json"}},
		{"models_show_llama8b.txt", []string{"models", "show", "meta-llama/Llama-3.1-8B-Instruct"}},
		{"models_show_deepseek_v3.txt", []string{"models", "show", "deepseek-ai/DeepSeek-V3"}},
		{"models_show_gpt_oss_120b_fp8kv.txt", []string{"models", "show", "openai/gpt-oss-120b", "--kv-dtype", "fp8"}},
	} {
		stdout, stderr, code := runCLI(t, c.args...)
		if code != 0 || stderr != "" {
			t.Fatalf("%v: exit %d, stderr %q", c.args, code, stderr)
		}
		golden(t, c.golden, stdout)
	}
}

// The JSON fields other commands and users rely on, with hand-checked values:
// KV 2·8·128·32·2 = 131072 B/token; params from the Llama 3.1 card (8.03B, exact count
// 8,030,261,248 by hand in models/models_test.go); weights 2 B × params.
func TestModelsShowJSONFields(t *testing.T) {
	stdout, _, code := runCLI(t, "models", "show", "meta-llama/llama-3.1-8b-instruct", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{
		"id": "meta-llama/Llama-3.1-8B-Instruct", "source": "catalogue", "architecture": "LlamaForCausalLM",
		"params_total": 8030261248.0, "params_active": 8030261248.0, "num_layers": 32.0, "hidden_size": 4096.0,
		"num_heads": 32.0, "num_kv_heads": 8.0, "head_dim": 128.0, "attention": "gqa", "moe": nil,
		"kv_cache_bytes_per_token": 131072.0, "weight_bytes": 2 * 8030261248.0, "max_context_len": 131072.0,
	} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	if _, ok := got["sliding_window_layers"].([]any); !ok {
		t.Errorf("sliding_window_layers = %v, want a list", got["sliding_window_layers"])
	}
	if _, ok := got["quantization"].(map[string]any); !ok {
		t.Errorf("quantization = %v, want an object", got["quantization"])
	}
}

func TestModelsShowDtypes(t *testing.T) {
	// fp8 KV: 2·8·128·32·1 = 65536 B/token.
	stdout, _, code := runCLI(t, "models", "show", "meta-llama/Llama-3.1-8B-Instruct", "-o", "json", "--kv-dtype", "fp8", "--weight-dtype", "int4")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var got struct {
		KV     float64 `json:"kv_cache_bytes_per_token"`
		W      float64 `json:"weight_bytes"`
		Params int64   `json:"params_total"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	if got.KV != 65536 {
		t.Errorf("fp8 KV %v, want 65536", got.KV)
	}
	// int4: layer GEMMs at 0.5+2/128 B, embedding, lm_head and norms (1,050,939,392) at 2 B.
	rest := 2*525336576.0 + 32*2*4096 + 4096
	if want := (float64(got.Params)-rest)*(0.5+2.0/128) + 2*rest; got.W != want {
		t.Errorf("int4 weights %v, want %v", got.W, want)
	}
}

func TestModelsErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "config.json")
	os.WriteFile(bad, []byte(`{"hidden_size": 4096,`), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"models"}, "give a subcommand"},
		{[]string{"models", "frob"}, `unknown subcommand "frob"`},
		{[]string{"models", "list", "--output", "xml"}, `--output "xml"`},
		{[]string{"models", "show"}, "exactly one MODEL"},
		{[]string{"models", "show", "meta-llama/Llama-3.1-8B-Instruc"}, "did you mean meta-llama/Llama-3.1-8B-Instruct"},
		{[]string{"models", "show", "Qwen/Qwen3-Next-80B-A3B-Thinking"}, "unsupported: linear-attention"},
		{[]string{"models", "show", "meta-llama/Llama-3.1-8B-Instruct", "--kv-dtype", "fp7"}, "--kv-dtype"},
		{[]string{"models", "show", "meta-llama/Llama-3.1-8B-Instruct", "--weight-dtype", "q4"}, "--weight-dtype"},
		{[]string{"models", "show", bad}, "invalid config.json"},
	} {
		_, stderr, code := runCLIEnv(t, map[string]string{"HF_HUB_OFFLINE": "1"}, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line containing %q", c.args, code, stderr, c.want)
		}
	}
}

// loadModel reads HF_TOKEN and HF_ENDPOINT and caches under $HOME/.cache/roofline.
func TestLoadModelHub(t *testing.T) {
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		if r.URL.Path != "/acme/Tiny/resolve/main/config.json" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(`{"model_type":"llama","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100,"intermediate_size":128}`))
	}))
	defer srv.Close()
	home := t.TempDir()
	env := map[string]string{"HF_ENDPOINT": srv.URL, "HF_TOKEN": "tok", "HOME": home}
	stdout, stderr, code := runCLIEnv(t, env, "models", "show", "acme/Tiny", "-o", "json")
	if code != 0 || !strings.Contains(stdout, `"source": "hub"`) || auth != "Bearer tok" {
		t.Fatalf("exit %d, stderr %q, auth %q", code, stderr, auth)
	}
	if _, err := os.Stat(filepath.Join(home, ".cache", "roofline", "models", "acme--Tiny", "config.json")); err != nil {
		t.Errorf("not cached: %v", err)
	}
}
