package simserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"roofline/bench"
	"roofline/estimator"
)

// simEngine runs one lane's estimator.Scheduler in real time: each step takes the time the
// step model predicts for its batch, then every sequence that emitted a token receives it.
// It is a fixture for trying bench and validate without a GPU; it is never evidence of accuracy.
//
// It keeps the schedule of the discrete-event simulation on a virtual clock: while busy,
// steps run back to back in virtual time, whenever the process itself wakes up, and a
// step admits only requests that arrived before it started in virtual time. A late
// wake-up on a busy machine then delays the tokens it sends, not every later step, and
// it changes no scheduling decision.
type simEngine struct {
	d      *estimator.Deployment
	submit chan *simReq
}

type simReq struct {
	estimator.SchedRequest
	at     time.Time // when the engine may see it (arrival plus the API server's overhead)
	tokens chan int  // receives the index of each generated token; closed at the end
}

func newSimEngine(d *estimator.Deployment) *simEngine {
	return &simEngine{d: d, submit: make(chan *simReq, 1024)}
}

// run steps the engine until ctx ends.
func (s *simEngine) run(ctx context.Context) {
	sch := s.d.NewScheduler(0, 0, false)
	sch.OnToken = func(r *estimator.SchedRequest, _ float64) { r.Tag.(*simReq).tokens <- r.Generated - 1 }
	sch.OnDone = func(r *estimator.SchedRequest, _ float64) { close(r.Tag.(*simReq).tokens) }
	var arrived []*simReq // submitted, not yet due in virtual time
	clock := time.Now()   // virtual time: the start of the next step
	origin := clock
	for {
		if sch.Idle() && len(arrived) == 0 {
			select {
			case <-ctx.Done():
				return
			case r := <-s.submit:
				arrived = append(arrived, r)
				if clock.Before(r.at) { // idle until it came
					clock = r.at
				}
			}
		}
	drain:
		for {
			select {
			case r := <-s.submit:
				arrived = append(arrived, r)
			default:
				break drain
			}
		}
		keep := arrived[:0]
		for _, r := range arrived {
			if r.at.After(clock) {
				keep = append(keep, r)
				continue
			}
			r.Arrival = r.at.Sub(origin).Seconds()
			if !sch.Fits(r.In, r.Out, 0) {
				close(r.tokens) // longer than the whole KV cache: the engine rejects it
				continue
			}
			sch.Enqueue(&r.SchedRequest)
		}
		arrived = keep
		if sch.Idle() || !sch.Plan() {
			// Only requests that arrived after this step's start wait: start at the first.
			if len(arrived) > 0 {
				next := arrived[0].at
				for _, r := range arrived {
					if r.at.Before(next) {
						next = r.at
					}
				}
				clock = next
			}
			continue
		}
		dt := time.Duration(s.d.StepSeconds(sch.Batch()) * float64(time.Second))
		if now := time.Now(); clock.Before(now.Add(-time.Second)) {
			clock = now // the process was stopped: start a new timeline
		}
		clock = clock.Add(dt)
		if bench.WaitUntil(ctx, clock) != nil {
			return
		}
		sch.Commit(clock.Sub(origin).Seconds())
	}
}

// openAIRequest holds the fields serve-sim reads from a chat or completions request.
type openAIRequest struct {
	Model    string          `json:"model"`
	Prompt   json.RawMessage `json:"prompt"`
	Messages []struct {
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	MaxTokens           *int `json:"max_tokens"` // nil: absent
	MaxCompletionTokens *int `json:"max_completion_tokens"`
	Stream              bool `json:"stream"`
	StreamOptions       struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

// promptTokens counts a request's prompt tokens the way the bench client builds prompts
// (bench.PromptTokens): a synthetic prompt's words are one token each, other text 4 bytes per
// token. Chat message contents are joined; a content that is not a JSON string counts as text.
func promptTokens(req *openAIRequest) int {
	var text strings.Builder
	add := func(raw json.RawMessage) {
		var v string
		if json.Unmarshal(raw, &v) == nil {
			text.WriteString(v)
		} else {
			text.Write(raw)
		}
	}
	if len(req.Prompt) > 0 {
		add(req.Prompt)
	}
	for i, m := range req.Messages {
		if i > 0 {
			text.WriteByte(' ')
		}
		add(m.Content)
	}
	return bench.PromptTokens(text.String())
}

// simFleet is one engine per lane (DP replicas × PP micro-batches); requests go round-robin.
type simFleet struct {
	engines []*simEngine
	next    atomic.Uint64
}

func (f *simFleet) pick() *simEngine {
	return f.engines[int(f.next.Add(1)-1)%len(f.engines)]
}

func (f *simFleet) handler(served string, chat bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		arrived := time.Now()
		s := f.pick()
		if r.Method != http.MethodPost {
			http.Error(w, `{"error":{"message":"POST only"}}`, http.StatusMethodNotAllowed)
			return
		}
		var req openAIRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<20)).Decode(&req); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":{"message":%q}}`, "invalid JSON: "+err.Error())
			return
		}
		if !req.Stream {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":{"message":"serve-sim answers streaming requests only (stream: true)"}}`)
			return
		}
		maxTok := 16 // absent: the OpenAI completions default
		for _, p := range []struct {
			name string
			v    *int
		}{{"max_tokens", req.MaxTokens}, {"max_completion_tokens", req.MaxCompletionTokens}} {
			if p.v == nil {
				continue
			}
			if *p.v < 1 {
				// vLLM's SamplingParams refuses it with HTTP 400 ("max_tokens must be at
				// least 1, got -5."); serve-sim streamed 16 tokens.
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"error":{"message":"%s must be at least 1, got %d."}}`, p.name, *p.v)
				return
			}
			maxTok = *p.v // max_completion_tokens, read last, wins as in vLLM
		}
		// The API server's per-request cost (tokenisation, HTTP) before the engine sees it,
		// counted from the request's arrival so that decoding it here is part of it.
		ovh := time.Duration(s.d.Profile.RequestOverheadMs * float64(time.Millisecond))
		sr := &simReq{at: arrived.Add(ovh), tokens: make(chan int, maxTok)}
		sr.In, sr.Out, sr.Tag = promptTokens(&req), maxTok, sr
		if l := s.d.MaxModelLen; l > 0 && sr.In+sr.Out > l {
			// vLLM rejects a request longer than max_model_len before streaming.
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":{"message":"This model's maximum context length is %d tokens. However, you requested %d tokens (%d in the messages, %d in the completion)."}}`, l, sr.In+sr.Out, sr.In, sr.Out)
			return
		}
		if bench.WaitUntil(r.Context(), sr.at) != nil {
			return
		}
		select {
		case s.submit <- sr:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		fl, _ := w.(http.Flusher)
		obj := "text_completion"
		if chat {
			obj = "chat.completion.chunk"
		}
		for i := range sr.tokens {
			var choice string
			if chat {
				choice = fmt.Sprintf(`{"index":0,"delta":{"content":"tok%d "},"finish_reason":null}`, i)
			} else {
				choice = fmt.Sprintf(`{"index":0,"text":"tok%d ","finish_reason":null}`, i)
			}
			fmt.Fprintf(w, "data: {\"id\":\"sim\",\"object\":%q,\"model\":%q,\"choices\":[%s]}\n\n", obj, served, choice)
			if fl != nil {
				fl.Flush()
			}
		}
		if req.StreamOptions.IncludeUsage {
			fmt.Fprintf(w, "data: {\"id\":\"sim\",\"object\":%q,\"model\":%q,\"choices\":[],\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":%d,\"total_tokens\":%d}}\n\n",
				obj, served, sr.In, sr.Generated, sr.In+sr.Generated)
		}
		fmt.Fprint(w, "data: [DONE]\n\n")
		if fl != nil {
			fl.Flush()
		}
	}
}

// Serve starts the simulated server on ln and returns when ctx ends.
func Serve(ctx context.Context, d *estimator.Deployment, served string, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	fleet := &simFleet{}
	for range max(d.Lanes(), 1) {
		eng := newSimEngine(d)
		fleet.engines = append(fleet.engines, eng)
		wg.Add(1)
		go func() { defer wg.Done(); eng.run(ctx) }()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/chat/completions", fleet.handler(served, true))
	mux.HandleFunc("/v1/completions", fleet.handler(served, false))
	mux.HandleFunc("/v1/models", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"object":"list","data":[{"id":%q,"object":"model","owned_by":"roofline serve-sim"}]}`, served)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, c := context.WithTimeout(context.Background(), 2*time.Second)
		defer c()
		srv.Shutdown(sctx)
	}()
	err := srv.Serve(ln)
	cancel()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
