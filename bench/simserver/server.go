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

// simEngine runs one replica's continuous batching in real time: each step takes the time the step model
// predicts for its batch, then every running sequence receives its token. It is a fixture for
// trying bench and validate without a GPU; it is never evidence of accuracy.
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
	prompt, max int
	at          time.Time // when the engine may see it (arrival plus the API server's overhead)
	done        int       // prompt tokens computed
	generated   int
	tokens      chan int // receives the index of each generated token; closed at the end
}

func newSimEngine(d *estimator.Deployment) *simEngine {
	return &simEngine{d: d, submit: make(chan *simReq, 1024)}
}

// run steps the engine until ctx ends.
func (s *simEngine) run(ctx context.Context) {
	var waiting, running []*simReq
	budget := s.d.MaxNumBatchedTokens
	if budget <= 0 {
		budget = 8192
	}
	maxSeqs := s.d.MaxNumSeqs
	if maxSeqs <= 0 {
		maxSeqs = 256
	}
	var b estimator.Batch
	clock := time.Now() // virtual time: the start of the next step
	for {
		if len(waiting) == 0 && len(running) == 0 {
			select {
			case <-ctx.Done():
				return
			case r := <-s.submit:
				waiting = append(waiting, r)
				if clock.Before(r.at) { // idle until it came
					clock = r.at
				}
			}
		}
	drain:
		for {
			select {
			case r := <-s.submit:
				waiting = append(waiting, r)
			default:
				break drain
			}
		}
		b.Prefill, b.Decode = b.Prefill[:0], b.Decode[:0]
		left := budget
		chunks := map[*simReq]int{}
		for _, r := range running {
			if left == 0 {
				break
			}
			if r.done < r.prompt {
				c := min(r.prompt-r.done, left)
				b.Prefill = append(b.Prefill, estimator.Chunk{New: c, Past: r.done})
				chunks[r] = c
				left -= c
				continue
			}
			b.Decode = append(b.Decode, r.prompt+r.generated)
			chunks[r] = -1
			left--
		}
		for len(waiting) > 0 && left > 0 && len(running) < maxSeqs && !waiting[0].at.After(clock) {
			r := waiting[0]
			waiting = waiting[1:]
			c := min(r.prompt, left)
			b.Prefill = append(b.Prefill, estimator.Chunk{New: c})
			chunks[r] = c
			left -= c
			running = append(running, r)
		}
		if len(b.Prefill) == 0 && len(b.Decode) == 0 {
			// Only requests that arrived after this step's start wait: start at the first.
			clock = waiting[0].at
			continue
		}
		dt := time.Duration(s.d.StepSeconds(&b) * float64(time.Second))
		if now := time.Now(); clock.Before(now.Add(-time.Second)) {
			clock = now // the process was stopped: start a new timeline
		}
		clock = clock.Add(dt)
		if bench.WaitUntil(ctx, clock) != nil {
			return
		}
		keep := running[:0]
		for _, r := range running {
			c, ok := chunks[r]
			if !ok {
				keep = append(keep, r)
				continue
			}
			if c > 0 {
				r.done += c
				if r.done < r.prompt {
					keep = append(keep, r)
					continue
				}
			}
			r.tokens <- r.generated
			r.generated++
			if r.generated >= r.max {
				close(r.tokens)
				continue
			}
			keep = append(keep, r)
		}
		running = keep
	}
}

// openAIRequest holds the fields serve-sim reads from a chat or completions request.
type openAIRequest struct {
	Model    string          `json:"model"`
	Prompt   json.RawMessage `json:"prompt"`
	Messages []struct {
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	MaxTokens           int  `json:"max_tokens"`
	MaxCompletionTokens int  `json:"max_completion_tokens"`
	Stream              bool `json:"stream"`
	StreamOptions       struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

// promptTokens approximates a prompt's tokens as its whitespace-separated words (the same
// approximation bench's synthetic prompts use).
func promptTokens(req *openAIRequest) int {
	var text strings.Builder
	text.Write(req.Prompt)
	for _, m := range req.Messages {
		text.Write(m.Content)
		text.WriteByte(' ')
	}
	return max(1, len(strings.Fields(text.String())))
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
		maxTok := req.MaxTokens
		if req.MaxCompletionTokens > 0 {
			maxTok = req.MaxCompletionTokens
		}
		if maxTok <= 0 {
			maxTok = 16
		}
		// The API server's per-request cost (tokenisation, HTTP) before the engine sees it,
		// counted from the request's arrival so that decoding it here is part of it.
		ovh := time.Duration(s.d.Profile.RequestOverheadMs * float64(time.Millisecond))
		sr := &simReq{prompt: promptTokens(&req), max: maxTok, at: arrived.Add(ovh), tokens: make(chan int, maxTok)}
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
				obj, served, sr.prompt, sr.max, sr.prompt+sr.max)
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
