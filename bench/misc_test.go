package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestEndpoint(t *testing.T) {
	for _, c := range []struct{ url, api, want string }{
		{"http://h:8000", "", "http://h:8000/v1/chat/completions"},
		{"http://h:8000/", "chat", "http://h:8000/v1/chat/completions"},
		{"http://h:8000/v1", "completions", "http://h:8000/v1/completions"},
		{"https://h/proxy/v1/", "completions", "https://h/proxy/v1/completions"},
		{"http://h/proxy", "", "http://h/proxy/v1/chat/completions"},
	} {
		got, err := Config{URL: c.url, API: c.api}.Endpoint()
		if err != nil || got != c.want {
			t.Errorf("%s %s: %q %v, want %q", c.url, c.api, got, err, c.want)
		}
	}
	for _, c := range []struct{ url, api, want string }{
		{"", "", "url: required"}, {"h:8000", "", "want http://"}, {"ftp://h", "", "want http://"},
		{"http://u:secret@h", "", "without credentials"}, {"http://h", "embeddings", "allowed values are chat, completions"},
	} {
		_, err := Config{URL: c.url, API: c.api}.Endpoint()
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("%q %q: error %v, want one containing %q (and no credentials)", c.url, c.api, err, c.want)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := Config{URL: "http://h", Model: "m", NumRequests: 1, InputLen: 8, OutputLen: 8}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.Model = "" }, "model: required"},
		{func(c *Config) { c.Concurrency = -1 }, "concurrency"},
		{func(c *Config) { c.RequestRate = -2 }, "request rate"},
		{func(c *Config) { c.Burstiness = 2 }, "burstiness: only"},
		{func(c *Config) { c.NumRequests = 0 }, "num requests or duration"},
		{func(c *Config) { c.InputLen = 0 }, "input len 0"},
		{func(c *Config) { c.OutputLen = 0 }, "output len 0"},
		{func(c *Config) { c.PrefixLen = 9 }, "prefix len 9"},
		{func(c *Config) { c.Prompts = []Prompt{} }, "dataset: no prompts"},
		{func(c *Config) { c.Prompts = []Prompt{{Text: "x"}}; c.OutputLen = 0 }, "dataset prompt 1: no output length"},
		{func(c *Config) { c.Timeout = -time.Second }, "timeout"},
		// A prompt of 2^63 words was built in memory until the machine ran out of it.
		{func(c *Config) { c.InputLen = math.MaxInt64 }, "input len 9223372036854775807: must be ≤ 16777216 tokens"},
		{func(c *Config) { c.OutputLen = MaxPromptTokens + 1 }, "output len 16777217: must be ≤ 16777216 tokens"},
	} {
		cfg := ok
		c.mod(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one containing %q", err, c.want)
		}
		if recs, err := Run(context.Background(), cfg, nil); err == nil || recs != nil {
			t.Errorf("Run with an invalid config: %v, %d records", err, len(recs))
		}
	}
}

// TestRequestBody: what the server receives — streaming with usage, ignore_eos and
// min_tokens = max_tokens, the prompt as chat message or completion prompt.
func TestRequestBody(t *testing.T) {
	for _, api := range []string{APIChat, APICompletions} {
		_, _, srv := runOne(t, script{tokens: 1}, Config{API: api, InputLen: 5, OutputLen: 3, NumRequests: 1})
		var body map[string]any
		json.Unmarshal([]byte(srv.lastBody.Load().(string)), &body)
		so, _ := body["stream_options"].(map[string]any)
		if body["stream"] != true || so["include_usage"] != true || body["ignore_eos"] != true || body["min_tokens"] != 3.0 || body["max_tokens"] != 3.0 || body["model"] != "m" {
			t.Errorf("%s body %v", api, body)
		}
		_, chat := body["messages"]
		_, prompt := body["prompt"]
		if chat != (api == APIChat) || prompt != (api == APICompletions) {
			t.Errorf("%s body %v: want messages for chat, prompt for completions", api, body)
		}
	}
	_, _, srv := runOne(t, script{tokens: 1}, Config{NaturalEOS: true, NumRequests: 1})
	if b := srv.lastBody.Load().(string); strings.Contains(b, "ignore_eos") || strings.Contains(b, "min_tokens") {
		t.Errorf("NaturalEOS body %s", b)
	}
}

// TestAPIKey: the key reaches the server and never appears in records or summaries,
// even when the server echoes it in an error.
func TestAPIKey(t *testing.T) {
	const key = "sk-test-0123456789abcdef"
	for _, s := range []script{{tokens: 2, apiKey: key}, {echoKeyError: true}} {
		recs, sum, _ := runOne(t, s, Config{APIKey: key})
		var b bytes.Buffer
		for _, r := range recs {
			WriteRecord(&b, r)
		}
		sum.WriteJSON(&b)
		sum.WriteTable(&b)
		if strings.Contains(b.String(), key) || strings.Contains(b.String(), "0123456789") {
			t.Errorf("API key in output:\n%s", b.String())
		}
		if s.apiKey != "" && sum.Completed != 2 {
			t.Errorf("with the right key: %d completed, errors %v", sum.Completed, sum.Errors)
		}
		if s.echoKeyError && !strings.Contains(recs[0].Error, "[redacted]") {
			t.Errorf("echoed key: error %q, want it redacted", recs[0].Error)
		}
	}
}

// TestCancel: cancelling the context (Ctrl-C) returns every record so far, the ones
// in flight marked canceled, promptly; the sink saw each of them.
func TestCancel(t *testing.T) {
	srv := newServer(t, script{ttft: 5 * time.Millisecond, itl: 40 * time.Millisecond, tokens: 50})
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var sunk int
	time.AfterFunc(150*time.Millisecond, cancel)
	start := time.Now()
	recs, err := Run(ctx, Config{URL: srv.URL, Model: "m", Concurrency: 3, NumRequests: 100, InputLen: 4, OutputLen: 50}, func(Record) {
		mu.Lock()
		sunk++
		mu.Unlock()
	})
	if !errors.Is(err, context.Canceled) || len(recs) != 3 || sunk != 3 || time.Since(start) > time.Second {
		t.Fatalf("err %v, %d records, %d sunk, %v; want context.Canceled, 3, 3, soon", err, len(recs), sunk, time.Since(start))
	}
	for _, r := range recs {
		if r.ErrorKind() != "canceled" || r.ContentChunks == 0 {
			t.Errorf("record %+v: want canceled with the chunks received so far", r)
		}
	}
	if s := Summarize(recs, Options{}); s.Failed != 3 || s.Errors["canceled"] != 3 {
		t.Errorf("summary failed %d errors %v", s.Failed, s.Errors)
	}
}

// TestCancelOpenLoop: Ctrl-C in an open loop keeps a record of every request that was
// sent, and only of those: arrivals every 20 ms (rate 50, burstiness large enough to make
// the gaps nearly constant), replies of 40·10 ms, cancel after about 110 ms. The
// requests scheduled before the cancel (0, 20, …, 100 ms: 6 when it fires on time) are
// in flight and recorded as canceled; none scheduled after it is.
func TestCancelOpenLoop(t *testing.T) {
	srv := newServer(t, script{ttft: 5 * time.Millisecond, itl: 10 * time.Millisecond, tokens: 40})
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	var cancelledAt atomic.Int64 // ns after start, an upper bound on the run's clock then
	time.AfterFunc(110*time.Millisecond, func() { cancelledAt.Store(int64(time.Since(start))); cancel() })
	recs, err := Run(ctx, Config{URL: srv.URL, Model: "m", RequestRate: 50, Burstiness: 1e6, NumRequests: 100, InputLen: 4, OutputLen: 40}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	at := time.Duration(cancelledAt.Load()).Seconds()
	if want := int(at/0.02) + 1; len(recs) < want-2 || len(recs) > want {
		t.Fatalf("%d records, want about %d (requests scheduled before the cancel at %.3f s)", len(recs), want, at)
	}
	for i, r := range recs {
		if r.Index != i || r.ErrorKind() != "canceled" || r.SentS < r.ScheduledS || r.ScheduledS > at {
			t.Errorf("record %d: index %d, error %q, scheduled %.3f s, sent %.3f s; want indexes 0…, canceled, sent at or after its schedule, scheduled before the cancel at %.3f s",
				i, r.Index, r.Error, r.ScheduledS, r.SentS, at)
		}
	}
}

// TestServerDown: a server that refuses connections stops the run after
// StopAfterConnErrors failures in a row, with those records.
func TestServerDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	recs, err := Run(context.Background(), Config{URL: "http://" + addr, Model: "m", NumRequests: 1000, InputLen: 1, OutputLen: 1, StopAfterConnErrors: 5}, nil)
	if !errors.Is(err, ErrServerDown) || len(recs) != 5 || recs[0].ErrorKind() != "transport" {
		t.Fatalf("err %v, %d records; want ErrServerDown after 5", err, len(recs))
	}
}

func TestWarmupAndDuration(t *testing.T) {
	srv := newServer(t, script{ttft: 5 * time.Millisecond, itl: time.Millisecond, tokens: 2})
	recs, err := Run(context.Background(), Config{URL: srv.URL, Model: "m", Warmup: 3, Concurrency: 2, Duration: 100 * time.Millisecond, InputLen: 4, OutputLen: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Each request takes ≥ 6 ms, so 2 workers send at most 2·100/6 ≈ 34 in 100 ms.
	if len(recs) < 2 || len(recs) > 40 || int(srv.n.Load()) != len(recs)+3 {
		t.Errorf("%d records, server saw %d; want 2..40 and 3 more for warm-up", len(recs), srv.n.Load())
	}
	for i, r := range recs {
		if r.Index != i || r.ScheduledS >= 0.2 {
			t.Errorf("record %d: index %d scheduled %v s; want index order, scheduled within the 0.1 s run (0.2 s allows for a busy machine)", i, r.Index, r.ScheduledS)
		}
	}
}

func TestSyntheticPrompt(t *testing.T) {
	a, b := SyntheticPrompt(1, 0, 200, 50), SyntheticPrompt(1, 1, 200, 50)
	wa, wb := strings.Fields(a.Text), strings.Fields(b.Text)
	if len(wa) != 200 || a.InputLen != 200 || strings.Join(wa[:50], " ") != strings.Join(wb[:50], " ") || strings.Join(wa[50:], " ") == strings.Join(wb[50:], " ") {
		t.Errorf("want 200 words, the first 50 shared and the rest differing:\n%s\n%s", a.Text, b.Text)
	}
	if SyntheticPrompt(1, 0, 200, 50) != a || SyntheticPrompt(2, 0, 200, 50) == a {
		t.Error("prompts must depend on the seed and only on it")
	}
}

func TestDatasets(t *testing.T) {
	ps, err := LoadJSONL(strings.NewReader("{\"prompt\": \"hello there you\", \"output_len\": 5}\n\n{\"prompt\": \"abcdefgh\"}\n"))
	// "hello there you" is 15 bytes → ⌈15/4⌉ = 4 tokens; "abcdefgh" → 2.
	if err != nil || len(ps) != 2 || ps[0].OutputLen != 5 || ps[0].InputLen != 4 || ps[1].InputLen != 2 {
		t.Errorf("jsonl: %+v %v", ps, err)
	}
	for _, bad := range []string{"", "{\"text\": \"x\"}", "{\"prompt\": 3}", "{\"prompt\": \"x\", \"output_len\": -1}"} {
		if _, err := LoadJSONL(strings.NewReader(bad)); err == nil {
			t.Errorf("jsonl %q: no error", bad)
		}
	}
	sg := `[{"id": "a", "conversations": [{"from": "human", "value": "What is two plus two?"}, {"from": "gpt", "value": "Four."}]},
	        {"id": "b", "conversations": [{"from": "human", "value": "alone"}]}]`
	ps, err = LoadShareGPT(strings.NewReader(sg))
	// 21 bytes → 6 tokens in, "Four." 5 bytes → 2 tokens out; the one-turn conversation is skipped.
	if err != nil || len(ps) != 1 || ps[0].InputLen != 6 || ps[0].OutputLen != 2 {
		t.Errorf("sharegpt: %+v %v", ps, err)
	}
	if _, err := LoadShareGPT(strings.NewReader(`{"conversations": []}`)); err == nil {
		t.Error("sharegpt object instead of array: no error")
	}
}

// TestSSEReader: field rules of the event-stream format.
func TestSSEReader(t *testing.T) {
	in := ": comment\r\nevent: x\r\ndata: a\r\ndata:b\r\n\r\nid: 3\nretry: 10\nnonsense\n\ndata: {\"x\": 1}\n\n\n\ndata: tail"
	r := newSSEReader(strings.NewReader(in))
	var got []string
	for {
		d, err := r.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(d))
	}
	want := []string{"a\nb", `{"x": 1}`, "tail"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("events %q, want %q", got, want)
	}
}

func TestParseEvent(t *testing.T) {
	for _, c := range []struct {
		data    string
		content bool
		usage   int // completion tokens, -1 none
		errMsg  string
		bad     bool
	}{
		{`[DONE]`, false, -1, "", false},
		{`{"choices":[{"delta":{"role":"assistant","content":""}}]}`, false, -1, "", false},
		{`{"choices":[{"delta":{"content":"hi"}}]}`, true, -1, "", false},
		{`{"choices":[{"delta":{"reasoning_content":"hmm"}}]}`, true, -1, "", false},
		{`{"choices":[{"text":"hi"}],"usage":{"prompt_tokens":0,"completion_tokens":0}}`, true, 0, "", false},
		{`{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":9}}`, false, 9, "", false},
		{`{"error":{"message":"boom"}}`, false, -1, "boom", false},
		{`{"error":"plain"}`, false, -1, `"plain"`, false},
		{`{"choices": [ oops`, false, -1, "", true},
		{`hello`, false, -1, "", true},
	} {
		ev, err := parseEvent([]byte(c.data))
		u := -1
		if ev.usage != nil {
			u = ev.usage.CompletionTokens
		}
		if (err != nil) != c.bad || ev.content != c.content || u != c.usage || ev.errMsg != c.errMsg || ev.done != (c.data == "[DONE]") {
			t.Errorf("%s: %+v usage %d err %v", c.data, ev, u, err)
		}
	}
}

// FuzzSSE: no input makes the reader or the event parser panic or loop, and every
// event's data is bounded by the input.
func FuzzSSE(f *testing.F) {
	f.Add([]byte("data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n"))
	f.Add([]byte("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\r\n\r\n"))
	f.Add([]byte(": ping\n\nevent: error\ndata: {\"error\":{\"message\":\"x\"}}\n\n"))
	f.Add([]byte("data: {\"choices\": [ oops\n\ndata:\ndata\n\r\r\n"))
	f.Add([]byte("data: {\"choices\":[{\"text\":null,\"delta\":null}],\"usage\":null,\"error\":null}"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := newSSEReader(bytes.NewReader(in))
		for i := 0; ; i++ {
			d, err := r.next()
			if err != nil {
				return
			}
			if len(d) > len(in) || i > len(in) {
				t.Fatalf("event %d of %d bytes from %d bytes of input", i, len(d), len(in))
			}
			parseEvent(d)
		}
	})
}

// TestPromptTokens: a synthetic prompt of n words counts n tokens (SyntheticPrompt writes
// one vocabulary word per token); other text counts 4 bytes per token, rounded up (hand:
// "Hello, world! How are you?" is 26 bytes → 7 tokens).
func TestPromptTokens(t *testing.T) {
	for _, n := range []int{1, 7, 300} {
		if got := PromptTokens(SyntheticPrompt(3, 5, n, n/2).Text); got != n {
			t.Errorf("synthetic prompt of %d words: %d tokens", n, got)
		}
	}
	if got := PromptTokens("Hello, world! How are you?"); got != 7 {
		t.Errorf("free text: %d tokens, want 7", got)
	}
	if got := PromptTokens(""); got != 1 {
		t.Errorf("empty prompt: %d tokens, want 1", got)
	}
}

// TestVLLMMeta: vllm bench serve writes max_concurrency 1 for its default closed loop, and
// the backend "openai" for the completions endpoint (vllm/benchmarks/serve.py).
func TestVLLMMeta(t *testing.T) {
	m := Config{Model: "m", API: APICompletions}.VLLMMeta(time.Unix(0, 0), 5)
	if m.Backend != "openai" || m.MaxConcurrency != 1 || m.NumPrompts != 5 || m.ModelID != "m" {
		t.Errorf("closed loop, completions: %+v", m)
	}
	m = Config{Model: "m", API: APIChat, RequestRate: 2}.VLLMMeta(time.Unix(0, 0), 5)
	if m.Backend != "openai-chat" || m.MaxConcurrency != 0 || m.RequestRate != 2 {
		t.Errorf("open loop, chat: %+v", m)
	}
}

// TestImportFileEmpty: an empty --record file is a run that recorded nothing: one summary,
// nothing completed, and a warning; two summaries print as a JSON array.
func TestImportFileEmpty(t *testing.T) {
	p := filepath.Join(t.TempDir(), "empty.jsonl")
	os.WriteFile(p, nil, 0o644)
	ss, err := ImportFile(p, FormatAuto)
	if err != nil || len(ss) != 1 || ss[0].Completed != 0 || len(ss[0].Warnings) == 0 {
		t.Fatalf("empty file: %+v, %v", ss, err)
	}
	var b strings.Builder
	if err := WriteJSONList(&b, []Summary{ss[0], ss[0]}); err != nil {
		t.Fatal(err)
	}
	var arr []map[string]any
	if err := json.Unmarshal([]byte(b.String()), &arr); err != nil || len(arr) != 2 {
		t.Errorf("two summaries: %v, %d elements; want a JSON array of 2", err, len(arr))
	}
}

// TestReadRecordsFileErrors: a record file that holds no record is refused, naming the
// file; a summary of it would print 0 req/s and 0 tok/s as measured (the documented rule:
// no verdict without data). Expected texts are the documented messages.
func TestReadRecordsFileErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, body, want string
	}{
		{"empty", "", "no records"},
		{"blank lines", "\n  \n\n", "no records"},
		{"not JSON", "garbage\n", "records line 1"},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".jsonl")
		if err := os.WriteFile(p, []byte(tc.body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadRecordsFile(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: err = %v; want one naming %s and saying %q", tc.name, err, p, tc.want)
		}
	}
}

// TestFileHelpers: a missing record file is an error; a vLLM result written to a file is
// the JSON document WriteVLLMResult writes.
func TestFileHelpers(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadRecordsFile(filepath.Join(dir, "none.jsonl")); err == nil {
		t.Error("missing record file: no error")
	}
	p := filepath.Join(dir, "r.json")
	s := Summarize(nil, Options{})
	meta := Config{Model: "m"}.VLLMMeta(time.Unix(0, 0), 0)
	if err := WriteVLLMResultFile(p, s, meta, []float64{99}); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	WriteVLLMResult(&b, s, meta, []float64{99})
	if got, _ := os.ReadFile(p); string(got) != b.String() {
		t.Errorf("file %q, want %q", got, b.String())
	}
}

// TestWriteAs: two summaries as a table are separated by one blank line; as CSV they are a
// header and two rows.
func TestWriteAs(t *testing.T) {
	s := Summarize(nil, Options{})
	var one, two strings.Builder
	WriteAs(&one, "table", s)
	WriteAs(&two, "table", s, s)
	if two.String() != one.String()+"\n"+one.String() {
		t.Errorf("two tables:\n%s", two.String())
	}
	var c strings.Builder
	WriteAs(&c, "csv", s, s)
	if n := strings.Count(strings.TrimSpace(c.String()), "\n"); n != 2 {
		t.Errorf("CSV has %d line breaks, want 2 (header and two rows)", n)
	}
}
