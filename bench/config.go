package bench

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// API names accepted by Config.API.
const (
	APIChat        = "chat"        // POST …/v1/chat/completions with messages
	APICompletions = "completions" // POST …/v1/completions with prompt
)

// DefaultStopAfterConnErrors is how many transport failures in a row, with no
// success in between, end the scheduling of new requests (a dead server).
const DefaultStopAfterConnErrors = 50

// Config describes one benchmark run. The zero value of each field is documented; Run
// checks the whole Config with Validate before sending anything.
type Config struct {
	// URL is the server root ("http://host:8000") or its OpenAI base ("…/v1"). Only
	// this server is contacted (redirects are not followed); HTTP_PROXY, HTTPS_PROXY and
	// NO_PROXY are honoured, loopback addresses are never proxied (net/http rules).
	URL string
	// API is APIChat (default when empty) or APICompletions.
	API string
	// Model is the model name sent in each request (required).
	Model string

	// Concurrency is the number of requests in flight. With RequestRate 0 it is a
	// closed loop of Concurrency workers (0 means 1). With RequestRate > 0 it caps the
	// requests in flight (0: no cap); latency still counts from the scheduled time.
	Concurrency int
	// RequestRate is the open-loop arrival rate in requests per second; 0 selects the
	// closed loop.
	RequestRate float64
	// Burstiness is the shape k of the gamma distribution of gaps between arrivals:
	// gaps ~ Gamma(k, scale 1/(RequestRate·k)), mean 1/RequestRate, as vllm bench serve.
	// 1 (also used for 0) is a Poisson process; k < 1 is burstier, k > 1 more regular.
	Burstiness float64

	// NumRequests stops scheduling after this many requests (0: no limit).
	// Duration stops scheduling once this much time has passed (0: no limit).
	// At least one must be set; in-flight requests finish either way.
	NumRequests int
	Duration    time.Duration

	// InputLen is the synthetic prompt length in tokens (approximate, see the package
	// doc), PrefixLen of them shared by every request (0: none). OutputLen is
	// max_tokens; with a dataset, 0 takes each prompt's own output length.
	InputLen, OutputLen, PrefixLen int
	// Prompts replaces the synthetic prompts (see LoadJSONL, LoadShareGPT); request i
	// uses Prompts[i % len(Prompts)].
	Prompts []Prompt
	// NaturalEOS stops sending ignore_eos and min_tokens, so replies may end early.
	NaturalEOS bool

	// Warmup requests are sent before the run and not recorded: Concurrency at a time
	// (all at once in an uncapped open loop), which also opens the connections the
	// run will reuse.
	Warmup int
	// Seed drives the arrival times and the synthetic prompts.
	Seed uint64
	// Timeout bounds each request from its actual send to the end of its stream
	// (0: no limit). A request over it is recorded with a "timeout" error.
	Timeout time.Duration
	// APIKey is sent as "Authorization: Bearer …" when not empty; it never appears in
	// records or errors.
	APIKey string
	// StopAfterConnErrors ends the scheduling of new requests after this many transport
	// failures in a row (0: DefaultStopAfterConnErrors; negative: never).
	StopAfterConnErrors int

	// Client sends the requests (nil: a client with no proxy, no redirects, no
	// compression and enough idle connections for the concurrency).
	Client *http.Client
}

// MaxPromptTokens bounds Config.InputLen and OutputLen: 2^24 tokens, above the longest
// context of any model in the catalogue (Llama-4-Scout, 10,485,760). A synthetic prompt
// is built word by word in memory, so "--input-len 9223372036854775807" ran the machine
// out of memory instead of being refused.
const MaxPromptTokens = 1 << 24

// Validate checks cfg and returns a one-line error naming the field and its allowed
// values.
func (cfg Config) Validate() error {
	if _, err := cfg.Endpoint(); err != nil {
		return err
	}
	switch {
	case cfg.Model == "":
		return fmt.Errorf("model: required (the name the server serves)")
	case cfg.Concurrency < 0:
		return fmt.Errorf("concurrency %d: must be ≥ 1", cfg.Concurrency)
	case cfg.RequestRate < 0 || math.IsNaN(cfg.RequestRate) || math.IsInf(cfg.RequestRate, 0):
		return fmt.Errorf("request rate %v: must be a finite number > 0 req/s (0 selects the closed loop)", cfg.RequestRate)
	case cfg.Burstiness < 0 || math.IsNaN(cfg.Burstiness) || math.IsInf(cfg.Burstiness, 0):
		return fmt.Errorf("burstiness %v: must be > 0 (1 = Poisson)", cfg.Burstiness)
	case cfg.Burstiness > 0 && cfg.RequestRate == 0:
		return fmt.Errorf("burstiness: only meaningful with a request rate")
	case cfg.NumRequests < 0:
		return fmt.Errorf("num requests %d: must be ≥ 1", cfg.NumRequests)
	case cfg.Duration < 0:
		return fmt.Errorf("duration %v: must be > 0", cfg.Duration)
	case cfg.NumRequests == 0 && cfg.Duration == 0:
		return fmt.Errorf("num requests or duration: one is required")
	case cfg.InputLen < 0 || cfg.OutputLen < 0 || cfg.PrefixLen < 0:
		return fmt.Errorf("input/output/prefix length: must be ≥ 0 tokens")
	case cfg.InputLen > MaxPromptTokens:
		return fmt.Errorf("input len %d: must be ≤ %d tokens", cfg.InputLen, MaxPromptTokens)
	case cfg.OutputLen > MaxPromptTokens:
		return fmt.Errorf("output len %d: must be ≤ %d tokens", cfg.OutputLen, MaxPromptTokens)
	case cfg.Prompts == nil && cfg.InputLen < 1:
		return fmt.Errorf("input len %d: must be ≥ 1 token for synthetic prompts", cfg.InputLen)
	case cfg.Prompts == nil && cfg.OutputLen < 1:
		return fmt.Errorf("output len %d: must be ≥ 1 token", cfg.OutputLen)
	case cfg.Prompts == nil && cfg.PrefixLen > cfg.InputLen:
		return fmt.Errorf("prefix len %d: must not exceed input len %d", cfg.PrefixLen, cfg.InputLen)
	case cfg.Prompts != nil && len(cfg.Prompts) == 0:
		return fmt.Errorf("dataset: no prompts")
	case cfg.Warmup < 0:
		return fmt.Errorf("warmup %d: must be ≥ 0", cfg.Warmup)
	case cfg.Timeout < 0:
		return fmt.Errorf("timeout %v: must be > 0", cfg.Timeout)
	}
	if cfg.Prompts != nil && cfg.OutputLen == 0 {
		for i, p := range cfg.Prompts {
			if p.OutputLen < 1 {
				return fmt.Errorf("dataset prompt %d: no output length (give an output length for every request)", i+1)
			}
		}
	}
	return nil
}

// Endpoint returns the URL requests are posted to: the server root or …/v1 of cfg.URL
// followed by /v1/chat/completions or /v1/completions.
func (cfg Config) Endpoint() (string, error) {
	api := cfg.API
	if api == "" {
		api = APIChat
	}
	if api != APIChat && api != APICompletions {
		return "", fmt.Errorf("api %q: allowed values are %s, %s", cfg.API, APIChat, APICompletions)
	}
	if cfg.URL == "" {
		return "", fmt.Errorf("url: required (server root such as http://127.0.0.1:8000, or …/v1)")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("url %q: want http:// or https:// followed by a host (server root or …/v1)", cfg.URL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("url %q: give the server root or …/v1, without credentials, query or fragment (use an API key variable)", redactURL(u))
	}
	p := strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(p, "/v1") {
		p += "/v1"
	}
	if api == APIChat {
		p += "/chat/completions"
	} else {
		p += "/completions"
	}
	u.Path = p
	u.RawPath = ""
	return u.String(), nil
}

func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = ""
	c.Fragment = ""
	return c.String()
}

// RunInfo says what a run of this configuration sent: URL, model, endpoint, load
// (a rate with its burstiness, 1 = Poisson when unset, or the concurrency, at least 1)
// and, for synthetic prompts, the requested lengths with lenSource naming where they
// came from. sent is the number of requests sent.
func (cfg Config) RunInfo(sent int, lenSource string) RunInfo {
	api := cfg.API
	if api == "" {
		api = APIChat
	}
	yes := true
	r := RunInfo{URL: cfg.URL, Model: cfg.Model, Endpoint: api, Streaming: &yes, NumRequests: &sent}
	if cfg.RequestRate > 0 {
		rate, b := cfg.RequestRate, cfg.Burstiness
		if b == 0 {
			b = 1
		}
		r.RequestRate, r.Burstiness = &rate, &b
		if cfg.Concurrency > 0 {
			c := cfg.Concurrency
			r.Concurrency = &c
		}
	} else {
		c := max(cfg.Concurrency, 1)
		r.Concurrency = &c
	}
	if len(cfg.Prompts) == 0 {
		in, out := float64(cfg.InputLen), float64(cfg.OutputLen)
		r.InputLen, r.OutputLen = &in, &out
		r.LenSource = lenSource
	}
	return r
}

// LoadDataset reads the prompts of a dataset file: kind "jsonl" (LoadJSONL) or "sharegpt"
// (LoadShareGPT). Errors name the file.
func LoadDataset(kind, path string) ([]Prompt, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	load := LoadJSONL
	if kind == "sharegpt" {
		load = LoadShareGPT
	}
	ps, err := load(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return ps, nil
}

// VLLMMeta is the run description vllm bench serve writes beside its results, for a run
// of this configuration that started at started and sent n requests: backend
// "openai-chat" (or "openai" for completions), and max_concurrency 1 for the default
// closed loop.
func (cfg Config) VLLMMeta(started time.Time, n int) VLLMMeta {
	backend := "openai-chat"
	if cfg.API == APICompletions {
		backend = "openai"
	}
	meta := VLLMMeta{Date: started, Backend: backend, ModelID: cfg.Model, NumPrompts: n,
		RequestRate: cfg.RequestRate, Burstiness: cfg.Burstiness, MaxConcurrency: cfg.Concurrency}
	if cfg.RequestRate == 0 && cfg.Concurrency == 0 {
		meta.MaxConcurrency = 1 // the closed loop's default
	}
	return meta
}
