package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Faults 1 and 2: a verdict needs data. validate against a dead server, or one answering 401
// to every request, printed "agrees: every key metric within 10%" and exited 0; so did compare
// on a record where every request failed, or an empty one; a Ctrl-C'd validate printed a
// verdict over 4 of 40 requests and exited 0.

// tinyServer streams OpenAI chat chunks: tokens content chunks itl apart, usage and [DONE];
// with status ≠ 0 it answers every request with that status instead.
func tinyServer(t *testing.T, status int, itl time.Duration) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if status != 0 {
			w.WriteHeader(status)
			io.WriteString(w, `{"error":{"message":"unauthorized"}}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		for i := 0; i < 4; i++ {
			select {
			case <-time.After(itl):
			case <-r.Context().Done():
				return
			}
			fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" tok\"}}]}\n\n")
			fl.Flush()
		}
		io.WriteString(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":4,\"total_tokens\":12}}\n\ndata: [DONE]\n\n")
		fl.Flush()
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

var validateArgs = []string{"validate", "--model", "m", "--model-id", llama8b, "--gpu", "H100", "--input-len", "8", "--output-len", "4",
	"--concurrency", "1", "--max-error", "10", "--timeout", "5s"}

func TestValidateWithoutDataGivesNoVerdict(t *testing.T) {
	for _, c := range []struct{ name, url string }{
		{"dead server", "http://127.0.0.1:1"},
		{"401 to every request", tinyServer(t, 401, 0)},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, out := range []string{"table", "json"} {
				stdout, stderr, code := runCLI(t, append(append([]string{}, validateArgs...), "--url", c.url, "--num-requests", "3", "--output", out)...)
				if code != 4 || strings.Contains(stdout, "agrees") || !strings.Contains(stderr, "no verdict") {
					t.Errorf("%s: exit %d, stderr %q, stdout %.300q: want exit 4, no verdict", out, code, stderr, stdout)
				}
				if out == "json" {
					var r struct {
						Detail struct{ Status string } `json:"verdict_detail"`
						Max    *float64                `json:"max_key_error_pct"`
					}
					if err := json.Unmarshal([]byte(stdout), &r); err != nil || r.Detail.Status != "no_verdict" || r.Max != nil {
						t.Errorf("json: %+v (%v): want status no_verdict and max_key_error_pct null", r, err)
					}
				}
			}
		})
	}
}

func TestCompareWithoutDataGivesNoVerdict(t *testing.T) {
	dir := t.TempDir()
	failed := filepath.Join(dir, "failed.jsonl")
	empty := filepath.Join(dir, "empty.jsonl")
	// Two records of requests that failed (the bench record schema: error set, no tokens).
	os.WriteFile(failed, []byte(`{"index":0,"scheduled_s":0,"sent_s":0,"end_s":0.01,"prompt_tokens":8,"usage_source":"counted","http_status":401,"error":"HTTP 401: unauthorized"}
{"index":1,"scheduled_s":0,"sent_s":0.01,"end_s":0.01,"prompt_tokens":8,"usage_source":"counted","http_status":401,"error":"HTTP 401: unauthorized"}
`), 0o644)
	os.WriteFile(empty, nil, 0o644)
	for _, f := range []string{failed, empty} {
		stdout, stderr, code := runCLI(t, "compare", "--result", f, "--model", llama8b, "--gpu", "H100", "--input-len", "8", "--output-len", "4",
			"--concurrency", "1", "--num-requests", "2", "--max-error", "10")
		if code != 4 || strings.Contains(stdout, "agrees") || !strings.Contains(stderr, "no verdict") {
			t.Errorf("%s: exit %d, stderr %q, stdout %.300q: want exit 4, no verdict", filepath.Base(f), code, stderr, stdout)
		}
	}
}

func TestValidateInterruptedIsPartial(t *testing.T) {
	url := tinyServer(t, 0, 25*time.Millisecond) // 100 ms a request: 40 requests take 4 s
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	err := run(ctx, e, append(append([]string{}, validateArgs...), "--url", url, "--num-requests", "40", "--max-error", "1000"))
	code := exitCode(e, err)
	if code != 130 || !strings.Contains(out.String(), "verdict: partial (run interrupted after") {
		t.Errorf("exit %d, stderr %q, stdout %q: want exit 130 and a partial verdict", code, errb.String(), out.String())
	}
}
