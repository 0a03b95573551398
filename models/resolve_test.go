package models

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const tinyConfig = `{"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":64,"num_hidden_layers":2,
"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":100,"intermediate_size":128,"torch_dtype":"bfloat16"}`

func TestResolverLocal(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.json")
	if err := os.WriteFile(file, []byte(tinyConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	hf := t.TempDir()
	snap := filepath.Join(hf, "hub", "models--acme--Tiny-1B", "snapshots", "abc123")
	if err := os.MkdirAll(snap, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(snap, "config.json"), []byte(tinyConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &Resolver{HFHome: hf, Offline: true}
	for _, c := range []struct{ name, id, source string }{
		{file, file, "path"},
		{dir, dir, "path"},
		{"META-LLAMA/llama-3.1-8b-instruct", "meta-llama/Llama-3.1-8B-Instruct", "catalogue"},
		{"acme/Tiny-1B", "acme/Tiny-1B", "hf-cache"},
		{"ACME/tiny-1b", "ACME/tiny-1b", "hf-cache"},
	} {
		m, err := r.Load(context.Background(), c.name)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if m.ID != c.id || m.Source != c.source {
			t.Errorf("%s: id %q source %q, want %q %q", c.name, m.ID, m.Source, c.id, c.source)
		}
	}
	for _, c := range []struct{ name, want string }{
		{"meta-llama/Llama-3.1-8B-Instruc", "did you mean meta-llama/Llama-3.1-8B-Instruct"},
		{"mixtral-8x7b", "did you mean"},
		{"acme/Unknown", "offline"},
		{"", "empty"},
		// An absolute path can only be a file: missing, it is said so (TestResolverMissingPath).
		{filepath.Join(t.TempDir(), "nothing"), "no such file"},
	} {
		_, err := r.Load(context.Background(), c.name)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.name, err, c.want)
		}
	}
}

func TestResolverHub(t *testing.T) {
	var gotAuth, gotPath string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotPath = r.Header.Get("Authorization"), r.URL.Path
		switch r.URL.Path {
		case "/acme/Tiny-1B/resolve/main/config.json":
			w.Write([]byte(tinyConfig))
		case "/acme/Gated/resolve/main/config.json":
			http.Error(w, "gated", http.StatusUnauthorized)
		case "/acme/Broken/resolve/main/config.json":
			w.Write([]byte(`{"hidden_size":`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	cache := t.TempDir()
	r := &Resolver{HFHome: t.TempDir(), HubURL: srv.URL, Token: "hf_secret", Client: srv.Client(), CacheDir: cache}
	m, err := r.Load(context.Background(), "acme/Tiny-1B")
	if err != nil {
		t.Fatal(err)
	}
	if m.Source != "hub" || m.HiddenSize != 64 {
		t.Errorf("got %+v", m)
	}
	if gotAuth != "Bearer hf_secret" || gotPath != "/acme/Tiny-1B/resolve/main/config.json" {
		t.Errorf("request: auth %q path %q", gotAuth, gotPath)
	}
	if _, err := os.Stat(filepath.Join(cache, "acme--Tiny-1B", "config.json")); err != nil {
		t.Errorf("not cached: %v", err)
	}
	// Cached now: an offline resolver with the same cache finds it.
	off := &Resolver{HFHome: t.TempDir(), CacheDir: cache, Offline: true}
	if m, err := off.Load(context.Background(), "acme/Tiny-1B"); err != nil || m.Source != "hub" {
		t.Errorf("cached load: %v %v", m, err)
	}
	for _, c := range []struct{ name, want string }{
		{"acme/Gated", "401"},
		{"acme/Missing", "404"},
		{"acme/Broken", "invalid config.json"},
	} {
		_, err := r.Load(context.Background(), c.name)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	// Without a token no Authorization header is sent.
	r.Token = ""
	r.CacheDir = ""
	if _, err := r.Load(context.Background(), "acme/Tiny-1B"); err != nil || gotAuth != "" {
		t.Errorf("no token: auth %q, err %v", gotAuth, err)
	}
}

func TestCatalogueIDs(t *testing.T) {
	ids := CatalogueIDs()
	found := false
	for _, id := range ids {
		if id == "meta-llama/Llama-3.1-8B-Instruct" {
			found = true
		}
		if strings.Contains(id, "--") || strings.HasSuffix(id, ".json") {
			t.Errorf("bad id %q", id)
		}
	}
	if !found {
		t.Error("meta-llama/Llama-3.1-8B-Instruct not listed (HF casing kept)")
	}
}

func FuzzParse(f *testing.F) {
	for _, id := range []string{"meta-llama/Llama-3.1-8B-Instruct", "deepseek-ai/DeepSeek-V3", "openai/gpt-oss-20b",
		"google/gemma-3-27b-it", "meta-llama/Llama-4-Scout-17B-16E-Instruct", "tiiuae/falcon-40b"} {
		b, err := os.ReadFile(filepath.Join("..", "data", "models", strings.Replace(id, "/", "--", 1)+".json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{"", "{", "null", "[]", `{"text_config":5}`, `{"hidden_size":-1}`, tinyConfig,
		`{"model_type":"llama","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":0,"vocab_size":1,"intermediate_size":1}`,
		`{"model_type":"llama","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":1,"intermediate_size":1,"layer_types":[1]}`,
		`{"model_type":"qwen3_moe","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":1,"intermediate_size":1,"num_experts":4,"num_experts_per_tok":2,"decoder_sparse_step":0}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b, "fuzz")
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error %q", err)
			}
			return
		}
		if m.NumLayers > 10000 || m.HiddenSize > 1<<20 {
			return // huge but valid: skip the accounting to keep the fuzzer fast
		}
		p := m.Params()
		if p.Total < 0 || p.Active > p.Total {
			t.Errorf("params %+v", p)
		}
		m.GEMMs()
		m.KVCacheBytes("", 100, 3)
		m.FLOPsPerToken("prefill", 10)
		m.WeightBytes("int4")
	})
}

// TestResolverHubRetries: a Hub that fails twice (503, then a dropped connection) is
// tried again with backoff; one that keeps failing gives an error saying what failed
// and how many attempts were made; a 404 is not retried.
func TestResolverHubRetries(t *testing.T) {
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		switch {
		case r.URL.Path == "/acme/Missing/resolve/main/config.json":
			http.NotFound(w, r)
		case r.URL.Path == "/acme/Down/resolve/main/config.json":
			http.Error(w, "down", http.StatusBadGateway)
		case calls == 1:
			http.Error(w, "busy", http.StatusServiceUnavailable)
		case calls == 2:
			hj, _ := w.(http.Hijacker)
			c, _, _ := hj.Hijack()
			c.Close()
		default:
			w.Write([]byte(tinyConfig))
		}
	}))
	defer srv.Close()
	r := &Resolver{HFHome: t.TempDir(), HubURL: srv.URL, Client: srv.Client(), RetryWait: time.Millisecond}
	if m, err := r.Load(context.Background(), "acme/Tiny-1B"); err != nil || m.HiddenSize != 64 || calls != 3 {
		t.Fatalf("after 2 failures: %v, %d calls", err, calls)
	}
	calls = 0
	_, err := r.Load(context.Background(), "acme/Down")
	if err == nil || !strings.Contains(err.Error(), "502 Bad Gateway") || !strings.Contains(err.Error(), "gave up after 4 attempts") || calls != 4 {
		t.Errorf("always down: %v, %d calls", err, calls)
	}
	calls = 0
	if _, err := r.Load(context.Background(), "acme/Missing"); err == nil || calls != 1 {
		t.Errorf("404 retried: %d calls, %v", calls, err)
	}
}

// TestResolverFromEnv: the environment variables Hugging Face's tools read configure the
// resolver as huggingface_hub documents them (HF_HOME defaults to $XDG_CACHE_HOME or
// ~/.cache, then /huggingface; HF_HUB_OFFLINE accepts 1, true, yes).
func TestResolverFromEnv(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	r := ResolverFromEnv(env(map[string]string{"HOME": "/h", "HF_TOKEN": "t", "HF_HUB_OFFLINE": "YES", "HF_ENDPOINT": "http://mirror"}))
	if r.HFHome != filepath.Join("/h", ".cache", "huggingface") || r.Token != "t" || !r.Offline || r.HubURL != "http://mirror" ||
		r.CacheDir != filepath.Join("/h", ".cache", "roofline", "models") {
		t.Errorf("from HOME: %+v", r)
	}
	r = ResolverFromEnv(env(map[string]string{"HOME": "/h", "XDG_CACHE_HOME": "/x", "HF_HOME": "/hf"}))
	if r.HFHome != "/hf" || r.Offline || r.CacheDir != filepath.Join("/x", "roofline", "models") {
		t.Errorf("from XDG_CACHE_HOME and HF_HOME: %+v", r)
	}
	r = ResolverFromEnv(env(nil))
	if r.CacheDir != "" || r.HFHome == "" {
		t.Errorf("no HOME: %+v; want no download cache and a HF home that does not exist", r)
	}
}

// TestResolverHubDownSuggestsTypo: a catalogue id with a typo is sent to the Hub; when the
// Hub cannot be reached the error named only the network failure. It now also names the
// catalogue ids within two edits (hand-counted: "Instruc" lacks one "t"); a name no id is
// near gets no suggestion, and a Hub 404 keeps its own "did you mean" once.
func TestResolverHubDownSuggestsTypo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "Missing") {
			http.NotFound(w, r)
			return
		}
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer srv.Close()
	r := &Resolver{HFHome: t.TempDir(), HubURL: srv.URL, Client: srv.Client(), HubAttempts: 1}
	for _, tc := range []struct{ name, want, not string }{
		{"meta-llama/Llama-3.1-8B-Instruc", "did you mean meta-llama/Llama-3.1-8B-Instruct (catalogue)?", ""},
		{"acme/Unrelated-Model", "502", "did you mean"},
		// Another size is not a typo: 405B-Instruct was offered 70B-Instruct (two edits); the
		// catalogue's base checkpoint of the same model shares its config.json.
		{"meta-llama/Llama-3.1-405B-Instruct", "did you mean meta-llama/Llama-3.1-405B (catalogue)?", "70B"},
		{"meta-llama/Llama-3.1-7B-Instruct", "502", "did you mean"},
		{"meta-llama/Llama-3.1-8B-Missing", "404", ""},
	} {
		_, err := r.Load(context.Background(), tc.name)
		if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.not != "" && strings.Contains(err.Error(), tc.not)) || strings.Count(err.Error(), "did you mean") > 1 {
			t.Errorf("%s: %v; want %q", tc.name, err, tc.want)
		}
	}
}

// TestResolverMissingPath: a name that can only be a path (absolute, ./ or ../, or ending in
// .json) and does not exist is a missing file, not an unknown model id; the error said
// "unknown model … or give a path to a config.json" for a path to a config.json.
func TestResolverMissingPath(t *testing.T) {
	r := &Resolver{HFHome: t.TempDir(), Offline: true}
	missing := filepath.Join(t.TempDir(), "no", "config.json")
	for _, tc := range []struct{ name, want string }{
		{missing, "no such file"},
		{"./no-such-dir", "no such file"},
		{"my-config.json", "no such file"},
		{"llama-nope", "unknown model"},
	} {
		_, err := r.Load(context.Background(), tc.name)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want %q", tc.name, err, tc.want)
		}
	}
}
