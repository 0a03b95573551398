package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

// ErrServerDown is returned (wrapped) by Run when it stopped scheduling requests after
// Config.StopAfterConnErrors transport failures in a row.
var ErrServerDown = errors.New("server unreachable")

// Run sends the requests cfg describes and returns one Record per request sent, in
// index order. sink, when not nil, receives each record as it completes (from a single
// goroutine, in completion order), so a caller can write records as they arrive.
//
// Errors of single requests are recorded, never returned. Run returns an error when
// cfg is invalid (nothing is sent, no records), when ctx is cancelled (the requests in
// flight are aborted and recorded with a "canceled" error; every record so far is
// returned with ctx.Err()), or when the server looks dead (ErrServerDown, with the
// records so far).
func Run(ctx context.Context, cfg Config, sink func(Record)) ([]Record, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := newRunner(cfg)
	if cfg.Warmup > 0 {
		r.t0 = time.Now()
		discard := make(chan Record)
		go func() {
			for range discard {
			}
		}()
		conc := max(1, cfg.Concurrency)
		if cfg.RequestRate > 0 && cfg.Concurrency == 0 {
			conc = cfg.Warmup
		}
		r.closedLoop(ctx, ctx, min(conc, cfg.Warmup), cfg.Warmup, 0, discard)
		close(discard)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r.connErrs.Store(0)
	}

	results := make(chan Record)
	var recs []Record
	collected := make(chan struct{})
	go func() {
		for rec := range results {
			recs = append(recs, rec)
			if sink != nil {
				sink(rec)
			}
		}
		close(collected)
	}()
	schedCtx, stop := context.WithCancel(ctx)
	r.stop = stop
	r.t0 = time.Now()
	if cfg.RequestRate > 0 {
		r.openLoop(ctx, schedCtx, results)
	} else {
		r.closedLoop(ctx, schedCtx, max(1, cfg.Concurrency), cfg.NumRequests, cfg.Duration, results)
	}
	stop()
	close(results)
	<-collected
	sort.Slice(recs, func(i, j int) bool { return recs[i].Index < recs[j].Index })
	if err := ctx.Err(); err != nil {
		return recs, err
	}
	if r.down.Load() {
		return recs, fmt.Errorf("%w: %d transport failures in a row; stopped sending", ErrServerDown, r.stopLimit)
	}
	return recs, nil
}

type runner struct {
	cfg       Config
	endpoint  string
	client    *http.Client
	t0        time.Time
	stop      func()
	noExtras  atomic.Bool  // the server rejected ignore_eos/min_tokens
	connErrs  atomic.Int64 // transport failures in a row
	stopLimit int
	down      atomic.Bool
}

func newRunner(cfg Config) *runner {
	ep, _ := cfg.Endpoint() // validated
	r := &runner{cfg: cfg, endpoint: ep, client: cfg.Client, stopLimit: cfg.StopAfterConnErrors, stop: func() {}}
	if r.stopLimit == 0 {
		r.stopLimit = DefaultStopAfterConnErrors
	}
	if r.client == nil {
		r.client = &http.Client{
			Transport: &http.Transport{
				Proxy:               http.ProxyFromEnvironment, // loopback is never proxied
				DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
				MaxIdleConnsPerHost: max(cfg.Concurrency, 64),
				IdleConnTimeout:     90 * time.Second,
				TLSHandshakeTimeout: 10 * time.Second,
				DisableCompression:  true, // a gzip layer would batch SSE events
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return r
}

// now is the time since the start of the run, in seconds.
func (r *runner) now() float64 { return time.Since(r.t0).Seconds() }

// closedLoop runs conc workers that each send a request as soon as their previous one
// ends, until n requests (n > 0) or dur (dur > 0) or schedCtx ends.
func (r *runner) closedLoop(ctx, schedCtx context.Context, conc, n int, dur time.Duration, out chan<- Record) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for schedCtx.Err() == nil {
				if dur > 0 && r.now() >= dur.Seconds() {
					return
				}
				// Every index taken is sent, so indices stay contiguous.
				i := int(next.Add(1) - 1)
				if n > 0 && i >= n {
					return
				}
				req := r.prepare(i)
				out <- r.send(ctx, req, i, r.now())
			}
		}()
	}
	wg.Wait()
}

// openLoop sends request i at its scheduled time: arrivals with gamma-distributed gaps
// (shape k = Burstiness, mean 1/RequestRate), the first at time 0.
func (r *runner) openLoop(ctx, schedCtx context.Context, out chan<- Record) {
	cfg := r.cfg
	gap := newGaps(cfg.RequestRate, cfg.Burstiness, cfg.Seed)
	var sem chan struct{}
	if cfg.Concurrency > 0 {
		sem = make(chan struct{}, cfg.Concurrency)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	t := 0.0
	for i := 0; ; i++ {
		if i > 0 {
			t += gap()
		}
		if (cfg.NumRequests > 0 && i >= cfg.NumRequests) || (cfg.Duration > 0 && t >= cfg.Duration.Seconds()) {
			return
		}
		req := r.prepare(i)
		// Sleep until just before the arrival and start the request's goroutine then; it
		// polls the clock up to the arrival itself (WaitUntil), since starting a goroutine
		// can take from tens of µs to a millisecond on a busy machine.
		at := r.t0.Add(time.Duration(t * float64(time.Second)))
		if WaitUntil(schedCtx, at.Add(-spinWindow)) != nil {
			return
		}
		if sem != nil {
			select {
			case <-schedCtx.Done():
				return
			case sem <- struct{}{}:
			}
		}
		if schedCtx.Err() != nil {
			return
		}
		wg.Add(1)
		go func(i int, t float64) {
			defer wg.Done()
			if WaitUntil(ctx, at) != nil {
				// Interrupted before its time: never sent, so no record (the last
				// indices of an interrupted run are the ones missing).
				if sem != nil {
					<-sem
				}
				return
			}
			rec := r.send(ctx, req, i, t)
			if sem != nil {
				<-sem
			}
			out <- rec
		}(i, t)
	}
}

// newGaps returns a seeded source of gaps between arrivals, in seconds: Gamma with
// shape k (0 means 1, a Poisson process) and scale 1/(rate·k), so the mean gap is
// 1/rate and the squared coefficient of variation 1/k.
func newGaps(rate, k float64, seed uint64) func() float64 {
	if k == 0 {
		k = 1
	}
	g := distuv.Gamma{Alpha: k, Beta: rate * k, Src: rand.NewPCG(seed, 0x9e3779b97f4a7c15)}
	return g.Rand
}

// prepared is a request body built ahead of its send time.
type prepared struct {
	body, bare []byte // with and without ignore_eos/min_tokens
	inputLen   int
}

func (r *runner) prepare(i int) prepared {
	cfg := r.cfg
	var p Prompt
	if cfg.Prompts != nil {
		p = cfg.Prompts[i%len(cfg.Prompts)]
	} else {
		p = SyntheticPrompt(cfg.Seed, i, cfg.InputLen, cfg.PrefixLen)
	}
	maxTok := cfg.OutputLen
	if maxTok == 0 {
		maxTok = p.OutputLen
	}
	m := map[string]any{
		"model":          cfg.Model,
		"max_tokens":     maxTok,
		"stream":         true,
		"stream_options": map[string]any{"include_usage": true},
		"temperature":    0,
	}
	if cfg.API == APICompletions {
		m["prompt"] = p.Text
	} else {
		m["messages"] = []map[string]string{{"role": "user", "content": p.Text}}
	}
	bare, _ := json.Marshal(m)
	body := bare
	if !cfg.NaturalEOS {
		m["ignore_eos"] = true
		m["min_tokens"] = maxTok
		body, _ = json.Marshal(m)
	}
	return prepared{body: body, bare: bare, inputLen: p.InputLen}
}

// send performs request i, scheduled at sched seconds, and records what happened.
func (r *runner) send(ctx context.Context, p prepared, i int, sched float64) Record {
	rec := Record{Index: i, ScheduledS: sched, PromptTokens: p.inputLen, UsageSource: UsageCounted}
	rctx := ctx
	if r.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(ctx, r.cfg.Timeout)
		defer cancel()
	}
	body := p.body
	if r.noExtras.Load() {
		body = p.bare
	}
	rec.SentS = r.now()
	resp, err := r.post(rctx, body)
	if err == nil && resp.StatusCode == http.StatusBadRequest && !bytes.Equal(body, p.bare) {
		// Some servers reject unknown fields: retry once without ignore_eos/min_tokens.
		msg := httpError(resp, r.cfg.APIKey)
		resp, err = r.post(rctx, p.bare)
		if err == nil && resp.StatusCode == http.StatusOK {
			r.noExtras.Store(true)
			rec.Note = "server rejected ignore_eos/min_tokens (" + msg + "); retried without them, so replies may stop early; latency includes the rejected attempt"
		}
	}
	if err != nil {
		rec.EndS = r.now()
		rec.Error = r.failure(ctx, rctx, err)
		if rec.ErrorKind() == "transport" {
			if r.connErrs.Add(1) >= int64(r.stopLimit) && r.stopLimit > 0 {
				r.down.Store(true)
				r.stop()
			}
		}
		return rec
	}
	r.connErrs.Store(0)
	defer resp.Body.Close()
	rec.HTTPStatus = resp.StatusCode
	if resp.StatusCode != http.StatusOK {
		rec.Error = httpError(resp, r.cfg.APIKey)
		rec.EndS = r.now()
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			if ra := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ra > 0 {
				rec.RetryAfterS = ra
				rec.Error += fmt.Sprintf(" (Retry-After %g s)", ra)
			}
		}
		return rec
	}
	if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/json") {
		// The server answered with one JSON completion: it ignored "stream": true, so
		// there is no first token or gap between tokens to time.
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		rec.EndS = r.now()
		rec.Error = "not streamed: the server ignored \"stream\": true and sent one JSON reply (" + ct + "); TTFT and ITL cannot be measured"
		return rec
	}
	r.readStream(ctx, rctx, resp.Body, &rec)
	return rec
}

// retryAfter parses a Retry-After header value (RFC 9110 §10.2.3: delay-seconds or an
// HTTP-date) into seconds from now; 0 when absent or unreadable.
func retryAfter(v string, now time.Time) float64 {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 && !math.IsInf(n, 0) {
		return n
	}
	if t, err := http.ParseTime(v); err == nil {
		return math.Max(0, math.Round(t.Sub(now).Seconds()))
	}
	return 0
}

func (r *runner) post(ctx context.Context, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if r.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+r.cfg.APIKey)
	}
	return r.client.Do(req)
}

// readStream reads the SSE reply into rec: chunk times, usage, errors.
func (r *runner) readStream(ctx, rctx context.Context, body io.Reader, rec *Record) {
	sr := newSSEReader(body)
	var last *usage
	done := false
	for {
		data, err := sr.next()
		t := r.now()
		if err != nil {
			if done {
				break // what follows [DONE] does not matter
			}
			rec.EndS = t
			if err != io.EOF {
				rec.Error = r.failure(ctx, rctx, err)
			}
			break
		}
		if done {
			continue // tolerate anything after [DONE] until the server closes
		}
		if rec.FirstChunkS == 0 {
			rec.FirstChunkS = t
		}
		ev, perr := parseEvent(data)
		if perr != nil {
			rec.EndS = t
			rec.Error = perr.Error()
			break
		}
		if ev.done {
			done = true
			rec.EndS = t
			continue
		}
		if ev.errMsg != "" {
			rec.EndS = t
			rec.Error = "server error in stream: " + redact(ev.errMsg, r.cfg.APIKey)
			break
		}
		if ev.content {
			if rec.FirstContentS == 0 {
				rec.FirstContentS = t
			}
			rec.LastContentS = t
			rec.ChunkS = append(rec.ChunkS, t)
			rec.ContentChunks++
		}
		if ev.usage != nil {
			last = ev.usage
		}
	}
	switch {
	case rec.Error == "" && rec.ContentChunks == 0:
		// vllm bench serve fails such a reply too ("Never received a valid chunk to
		// calculate TTFT"): with no token it has no TTFT and must not count in the rates.
		rec.Error = "empty: the reply carried no content chunk"
		if !done {
			rec.Error += " and ended without [DONE]"
		}
	case rec.Error == "" && !done:
		// A stream that closes cleanly after its tokens is complete for vllm bench serve,
		// which never looks for [DONE]; say so rather than fail it.
		rec.Note = "stream ended cleanly without [DONE]: counted complete, as vllm bench serve does"
	}
	// The last usage object counts, unless it is an all-zero placeholder (Ollama puts
	// one on every chunk and the real one in a final choices: [] chunk).
	if last != nil && !(last.CompletionTokens == 0 && rec.ContentChunks > 0) {
		rec.PromptTokens = last.PromptTokens
		rec.CompletionTokens = last.CompletionTokens
		rec.UsageSource = UsageFromServer
	} else {
		rec.CompletionTokens = rec.ContentChunks
	}
}

// failure names a request error: "canceled" (the run was interrupted), "timeout" (over
// Config.Timeout) or "transport" (connection refused, reset, …).
func (r *runner) failure(ctx, rctx context.Context, err error) string {
	switch {
	case ctx.Err() != nil:
		return "canceled: run interrupted"
	case rctx.Err() != nil:
		return fmt.Sprintf("timeout: no complete reply within %v", r.cfg.Timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // drop "Post URL:"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "transport: stream broken (unexpected EOF)"
	}
	return "transport: " + redact(err.Error(), r.cfg.APIKey)
}

// httpError reads a failed response's body into "HTTP 500: message".
func httpError(resp *http.Response, key string) string {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	msg := strings.TrimSpace(string(b))
	var e struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  any             `json:"detail"`
	}
	if json.Unmarshal(b, &e) == nil {
		var inner struct {
			Message string `json:"message"`
		}
		var s string
		switch {
		case json.Unmarshal(e.Error, &inner) == nil && inner.Message != "":
			msg = inner.Message
		case json.Unmarshal(e.Error, &s) == nil && s != "":
			msg = s
		case e.Message != "":
			msg = e.Message
		}
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	out := fmt.Sprintf("HTTP %d", resp.StatusCode)
	if msg != "" {
		out += ": " + redact(msg, key)
	}
	return out
}

func redact(s, key string) string {
	if key == "" {
		return s
	}
	return strings.ReplaceAll(s, key, "[redacted]")
}
