package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// script describes how the test server answers; the zero value streams tokens chat
// chunks with usage and [DONE] at once.
type script struct {
	ttft, itl      time.Duration // first content after ttft, then one chunk per itl (absolute schedule)
	tokens         int           // content chunks (0: max_tokens of the request)
	tokensPerChunk int           // tokens each chunk stands for in usage (0: 1)
	failEvery      int           // HTTP 500 on every failEvery-th request
	status         int           // answer every request with this status and a JSON error
	roleChunk      bool          // send a role-only chunk first (as vLLM does)
	noUsage        bool          // no usage object
	ollama         bool          // zero usage on every chunk, real usage in a final choices: [] chunk
	noDone         bool          // end the stream without [DONE]
	resetAfter     int           // abort the connection after this many chunks
	malformedAt    int           // send a non-JSON data line after this many chunks (1-based position)
	streamError    bool          // send an error object instead of the chunks
	rejectExtras   bool          // HTTP 400 when the body has ignore_eos or min_tokens
	noContent      bool          // no content chunk at all
	apiKey         string        // require "Authorization: Bearer apiKey"
	echoKeyError   bool          // answer 401 with the received Authorization header in the message
	retryAfter     string        // Retry-After header sent with status
	jsonReply      bool          // ignore "stream": answer with one application/json completion
}

// testServer serves s on /v1/chat/completions and /v1/completions; it counts requests
// and keeps the last request body.
type testServer struct {
	*httptest.Server
	n        atomic.Int64
	lastBody atomic.Value
	mu       sync.Mutex
	obs      []observed // what the server actually did, per streamed reply
}

// observed is the server's own view of one reply: arrival → first content flush, and
// first → last content flush divided by the gaps.
type observed struct{ ttft, itl time.Duration }

// observedMeans returns the server-side mean TTFT and ITL in ms.
func (ts *testServer) observedMeans() (ttftMs, itlMs float64) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, o := range ts.obs {
		ttftMs += float64(o.ttft) / 1e6
		itlMs += float64(o.itl) / 1e6
	}
	n := float64(len(ts.obs))
	return ttftMs / n, itlMs / n
}

func newServer(t *testing.T, s script) *testServer {
	ts := &testServer{}
	ts.Server = httptest.NewServer(ts.handler(s))
	t.Cleanup(ts.Close)
	return ts
}

// handler answers as s describes and records what it did in ts.
func (ts *testServer) handler(s script) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		n := ts.n.Add(1)
		body, _ := io.ReadAll(r.Body)
		ts.lastBody.Store(string(body))
		var req struct {
			MaxTokens int             `json:"max_tokens"`
			IgnoreEOS *bool           `json:"ignore_eos"`
			MinTokens *int            `json:"min_tokens"`
			Messages  json.RawMessage `json:"messages"`
			Prompt    string          `json:"prompt"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, `{"error":{"message":"bad json"}}`, 400)
			return
		}
		chat := strings.HasSuffix(r.URL.Path, "/v1/chat/completions")
		if !chat && !strings.HasSuffix(r.URL.Path, "/v1/completions") {
			http.Error(w, `{"error":{"message":"no such path"}}`, 404)
			return
		}
		if s.echoKeyError {
			w.WriteHeader(401)
			fmt.Fprintf(w, `{"error":{"message":"bad key %s"}}`, r.Header.Get("Authorization"))
			return
		}
		if s.apiKey != "" && r.Header.Get("Authorization") != "Bearer "+s.apiKey {
			http.Error(w, `{"error":{"message":"unauthorized"}}`, 401)
			return
		}
		if s.rejectExtras && (req.IgnoreEOS != nil || req.MinTokens != nil) {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":{"message":"extra fields not permitted: ignore_eos"}}`)
			return
		}
		if s.status != 0 {
			if s.retryAfter != "" {
				w.Header().Set("Retry-After", s.retryAfter)
			}
			w.WriteHeader(s.status)
			io.WriteString(w, `{"error":{"message":"model \"x\" not found"}}`)
			return
		}
		if s.failEvery > 0 && n%int64(s.failEvery) == 0 {
			w.WriteHeader(500)
			io.WriteString(w, `{"error":{"message":"injected failure"}}`)
			return
		}
		if s.jsonReply {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"tok tok"}}],"usage":{"prompt_tokens":7,"completion_tokens":2,"total_tokens":9}}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		fl := w.(http.Flusher)
		send := func(v any) {
			b, _ := json.Marshal(v)
			fmt.Fprintf(w, "data: %s\n\n", b)
			fl.Flush()
		}
		tokens := s.tokens
		if tokens == 0 {
			tokens = req.MaxTokens
		}
		if s.noContent {
			tokens = 0
		}
		per := max(1, s.tokensPerChunk)
		zero := map[string]int{"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
		chunk := func(text string) map[string]any {
			var c map[string]any
			if chat {
				c = map[string]any{"object": "chat.completion.chunk", "choices": []any{map[string]any{"index": 0, "delta": map[string]any{"role": "assistant", "content": text}}}}
			} else {
				c = map[string]any{"object": "text_completion", "choices": []any{map[string]any{"index": 0, "text": text}}}
			}
			if s.ollama {
				c["usage"] = zero
			}
			return c
		}
		if s.roleChunk {
			send(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"role": "assistant", "content": ""}}}})
		}
		if s.streamError {
			send(map[string]any{"error": map[string]any{"message": "out of memory"}})
			return
		}
		var first, last time.Time
		for i := 0; i < tokens; i++ {
			if s.resetAfter > 0 && i == s.resetAfter {
				panic(http.ErrAbortHandler) // drops the connection mid-stream
			}
			if s.malformedAt > 0 && i == s.malformedAt {
				io.WriteString(w, "data: {\"choices\": [ oops\n\n")
				fl.Flush()
			}
			time.Sleep(time.Until(t0.Add(s.ttft + time.Duration(i)*s.itl)))
			send(chunk(" tok"))
			last = time.Now()
			if i == 0 {
				first = last
			}
		}
		if tokens > 1 {
			ts.mu.Lock()
			ts.obs = append(ts.obs, observed{first.Sub(t0), last.Sub(first) / time.Duration(tokens-1)})
			ts.mu.Unlock()
		}
		if s.ollama {
			c := chunk("")
			c["choices"].([]any)[0].(map[string]any)["finish_reason"] = "length"
			send(c)
		}
		if !s.noUsage {
			send(map[string]any{"choices": []any{}, "usage": map[string]int{"prompt_tokens": 7, "completion_tokens": tokens * per, "total_tokens": 7 + tokens*per}})
		}
		if !s.noDone {
			io.WriteString(w, "data: [DONE]\n\n")
			fl.Flush()
		}
	})
}
