package main

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sseServer streams n " tok" chat chunks with usage (3 prompt tokens, n completion
// tokens) and [DONE]; every failEvery-th request gets HTTP 500. It records the
// Authorization header it last saw.
func sseServer(t *testing.T, n, failEvery int) (*httptest.Server, *string) {
	var count int
	auth := new(string)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		count++
		*auth = r.Header.Get("Authorization")
		if failEvery > 0 && count%failEvery == 0 {
			http.Error(w, `{"error":{"message":"injected"}}`, 500)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; i < n; i++ {
			fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" tok\"}}]}\n\n")
			w.(http.Flusher).Flush()
		}
		fmt.Fprintf(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":%d}}\n\ndata: [DONE]\n\n", n)
	}))
	t.Cleanup(srv.Close)
	return srv, auth
}

// TestBenchLive runs the whole command against a test server: JSON contract names,
// exact counts, a record line per request, the API key sent but never written.
func TestBenchLive(t *testing.T) {
	srv, auth := sseServer(t, 4, 5)
	rec := filepath.Join(t.TempDir(), "run.jsonl")
	stdout, stderr, code := runCLIEnv(t, map[string]string{"MY_KEY": "sk-secret-42"}, "bench", "--url", srv.URL+"/v1", "--model", "m",
		"--concurrency", "2", "--num-requests", "10", "--input-len", "16", "--output-len", "4",
		"--api-key-env", "MY_KEY", "--record", rec, "--output", "json")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatal(err)
	}
	// 10 requests, every 5th failing: 8 completed × 4 tokens = 32 output tokens.
	if s["completed"] != 8.0 || s["failed"] != 2.0 || s["total_output_tokens"] != 32.0 {
		t.Errorf("completed %v failed %v output tokens %v; want 8, 2, 32", s["completed"], s["failed"], s["total_output_tokens"])
	}
	for _, k := range []string{"ttft_ms", "itl_ms", "tpot_ms", "e2e_ms"} {
		d, _ := s[k].(map[string]any)
		for _, st := range []string{"mean", "median", "p90", "p99"} {
			if _, ok := d[st].(float64); !ok {
				t.Errorf("%s.%s missing or null: %v", k, st, d)
			}
		}
	}
	for _, k := range []string{"output_tok_s", "request_per_s", "duration_s"} {
		if v, ok := s[k].(float64); !ok || v <= 0 {
			t.Errorf("%s = %v, want a positive number", k, s[k])
		}
	}
	b, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != 10 {
		t.Errorf("%d record lines, want 10", n)
	}
	if *auth != "Bearer sk-secret-42" {
		t.Errorf("server saw Authorization %q", *auth)
	}
	if strings.Contains(string(b)+stdout+stderr, "sk-secret") {
		t.Error("API key written to the records or the output")
	}
	// Re-summarising the record file gives the same counts.
	out2, _, code := runCLI(t, "bench", "--summarize", rec, "--output", "json")
	var s2 map[string]any
	json.Unmarshal([]byte(out2), &s2)
	if code != 0 || s2["completed"] != 8.0 || s2["ttft_ms"].(map[string]any)["mean"] != s["ttft_ms"].(map[string]any)["mean"] {
		t.Errorf("--summarize: exit %d, %v", code, out2)
	}
}

// TestBenchSummarizeGolden: table, JSON and CSV renderings of a fixed record file
// (testdata/bench_records.jsonl: the hand-calculated set of the bench package's tests).
func TestBenchSummarizeGolden(t *testing.T) {
	for _, f := range []string{"table", "json", "csv"} {
		stdout, stderr, code := runCLI(t, "bench", "--summarize", "testdata/bench_records.jsonl", "--output", f)
		if code != 0 || stderr != "" {
			t.Fatalf("%s: exit %d, stderr %q", f, code, stderr)
		}
		golden(t, "bench_summary."+f, stdout)
	}
}

// TestBenchGoodput: --goodput over the same records. Completed requests with content
// (TTFT, E2E to the last content chunk, in ms): 0 (100, 160), 1 (200, 400), 4 (50, 50);
// with TTFT ≤ 150 ms and E2E ≤ 0.1 s only request 4 qualifies: 1 request / 1.2 s (first
// send to last end) = 0.8333 req/s.
func TestBenchGoodput(t *testing.T) {
	stdout, stderr, code := runCLI(t, "bench", "--summarize", "testdata/bench_records.jsonl", "--goodput", "ttft:150ms,e2el:0.1s", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var s struct {
		Goodput *float64 `json:"goodput_req_s"`
	}
	if err := json.Unmarshal([]byte(stdout), &s); err != nil || s.Goodput == nil || math.Abs(*s.Goodput-1/1.2) > 1e-9 {
		t.Errorf("goodput_req_s %v (err %v), want 1/1.2 = 0.8333", val(s.Goodput), err)
	}
	table, _, _ := runCLI(t, "bench", "--summarize", "testdata/bench_records.jsonl", "--goodput", "ttft:150")
	if !strings.Contains(table, "goodput") {
		t.Errorf("table lacks the goodput line:\n%s", table)
	}
	_, stderr, code = runCLI(t, "bench", "--summarize", "testdata/bench_records.jsonl", "--goodput", "itl:20")
	if code != 2 || !strings.Contains(stderr, `--goodput: goodput key "itl": allowed ttft, tpot, e2el`) {
		t.Errorf("bad key: exit %d, stderr %q", code, stderr)
	}
}

func TestBenchNoSuccess(t *testing.T) {
	srv, _ := sseServer(t, 2, 1)
	_, stderr, code := runCLI(t, "bench", "--url", srv.URL, "--model", "m", "--num-requests", "3", "--input-len", "4", "--output-len", "2")
	if code != 1 || !strings.Contains(stderr, "no request succeeded (3 failed)") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestBenchBadFlags(t *testing.T) {
	base := []string{"bench", "--url", "http://127.0.0.1:1", "--model", "m", "--input-len", "8", "--output-len", "8"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "--model", "m", "--input-len", "8", "--output-len", "8"}, "--url: required"},
		{[]string{"bench", "--url", "localhost:8000", "--model", "m", "--input-len", "8", "--output-len", "8"}, "--url \"localhost:8000\""},
		{[]string{"bench", "--url", "http://h", "--input-len", "8", "--output-len", "8"}, "--model: required"},
		{append(base, "--api", "embeddings"), "--api \"embeddings\": allowed values are chat, completions"},
		{append(base, "--output", "xml"), "--output \"xml\": allowed values are table, json, csv"},
		{append(base, "--concurrency", "0"), "--concurrency 0"},
		{append(base, "--request-rate", "-1"), "--request-rate -1"},
		{append(base, "--burstiness", "2"), "--burstiness: only with --request-rate"},
		{append(base, "--request-rate", "5", "--burstiness", "0"), "--burstiness 0"},
		{append(base, "--num-requests", "0"), "--num-requests 0"},
		{append(base, "--duration", "soon"), "--duration: \"soon\""},
		{append(base, "--timeout", "-3s"), "--timeout"},
		{append(base, "--dataset", "csv"), "--dataset \"csv\": allowed values are random, jsonl, sharegpt"},
		{append(base, "--dataset", "jsonl"), "--dataset jsonl: needs --dataset-file"},
		{append(base, "--dataset-file", "x.jsonl"), "--dataset-file: only with"},
		{append(base, "--dataset", "sharegpt", "--dataset-file", "testdata/no-such-file.json"), "--dataset-file"},
		{append(base, "--api-key-env", "NOPE"), "--api-key-env NOPE: the environment variable is empty"},
		{append(base, "--prefix-len", "9"), "--prefix-len 9: must not exceed input len 8"},
		{append(base, "--concurrency", "x"), "invalid argument"},
		{append(base, "extra"), "unexpected argument \"extra\""},
		{[]string{"bench", "--url", "http://h", "--model", "m", "--output-len", "8"}, "--input-len 0"},
		{[]string{"bench", "--summarize", "testdata/no-such.jsonl"}, "--summarize"},
		// The package's field name came through as is ("bench: warmup -1").
		{append(base, "--warmup", "-1"), "--warmup -1: must be ≥ 0"},
		// A prompt of 2^63 words was built in memory.
		{append(base, "--output-len", "99999999999"), "--output-len 99999999999: must be ≤ 16777216 tokens"},
	} {
		_, stderr, code := runCLI(t, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line containing %q", c.args[1:], code, stderr, c.want)
		}
	}
}

// TestBenchSaveResult: --save-result writes vLLM's schema, the import command reads it
// back with the same numbers as bench's own JSON; OPENAI_API_KEY is sent when no
// --api-key-env is given and appears nowhere; the table says what was run.
func TestBenchSaveResult(t *testing.T) {
	srv, auth := sseServer(t, 4, 0)
	dir := t.TempDir()
	res := filepath.Join(dir, "vllm.json")
	args := []string{"bench", "--url", srv.URL, "--model", "m", "--concurrency", "2", "--num-requests", "6",
		"--input-len", "16", "--output-len", "4", "--save-result", res, "--percentiles", "50,99", "-o", "json"}
	stdout, stderr, code := runCLIEnv(t, map[string]string{"OPENAI_API_KEY": "sk-env-77"}, args...)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if *auth != "Bearer sk-env-77" {
		t.Errorf("server saw Authorization %q", *auth)
	}
	b, err := os.ReadFile(res)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b)+stdout, "sk-env") {
		t.Error("API key written")
	}
	var own, vllm map[string]any
	json.Unmarshal([]byte(stdout), &own)
	if err := json.Unmarshal(b, &vllm); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]string{{"mean_ttft_ms", "ttft_ms.mean"}, {"median_ttft_ms", "ttft_ms.median"}, {"p99_e2el_ms", "e2e_ms.p99"},
		{"std_tpot_ms", "tpot_ms.std"}, {"completed", "completed"}, {"output_throughput", "output_tok_s"}, {"duration", "duration_s"}} {
		var v any = own
		for _, k := range strings.Split(c[1], ".") {
			v = v.(map[string]any)[k]
		}
		if vllm[c[0]] != v {
			t.Errorf("%s = %v, bench JSON %s = %v", c[0], vllm[c[0]], c[1], v)
		}
	}
	if vllm["p50_ttft_ms"] != vllm["median_ttft_ms"] || vllm["model_id"] != "m" || vllm["max_concurrency"] != 2.0 || vllm["request_rate"] != "inf" {
		t.Errorf("p50 %v median %v model %v conc %v rate %v", vllm["p50_ttft_ms"], vllm["median_ttft_ms"], vllm["model_id"], vllm["max_concurrency"], vllm["request_rate"])
	}
	imp, _, code := runCLI(t, "import", res, "-o", "json")
	var back map[string]any
	json.Unmarshal([]byte(imp), &back)
	if code != 0 || back["source"] != "vllm bench serve" || back["completed"] != own["completed"] ||
		back["ttft_ms"].(map[string]any)["mean"] != own["ttft_ms"].(map[string]any)["mean"] {
		t.Errorf("import: exit %d %v", code, imp)
	}
	table, _, _ := runCLIEnv(t, nil, append(args[:len(args)-2:len(args)-2], "--timing-origin", "scheduled")...)
	if !strings.Contains(table, "run               "+srv.URL+", model m, endpoint chat, concurrency 2, 6 requests, input 16 / output 4 tokens") {
		t.Errorf("table header:\n%s", table)
	}
	for _, bad := range [][]string{{"--timing-origin", "queued"}, {"--percentiles", "0,50"}, {"--percentiles", "50"}} {
		_, stderr, code := runCLI(t, append([]string{"bench", "--url", srv.URL, "--model", "m", "--input-len", "1", "--output-len", "1"}, bad...)...)
		if code != 2 || !strings.Contains(stderr, bad[0]) {
			t.Errorf("%v: exit %d %q", bad, code, stderr)
		}
	}
}
