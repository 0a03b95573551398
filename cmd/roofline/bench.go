package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"roofline/bench"
	"roofline/internal/flagvalue"
	"roofline/internal/progress"
	"roofline/units"
)

const benchSynopsis = `bench --url URL --model NAME [--api chat|completions]
       [--concurrency C | --request-rate R [--burstiness K]] [--num-requests N | --duration D]
       --input-len I --output-len O [--prefix-len P] [--dataset random|jsonl|sharegpt --dataset-file F]
       [--warmup N] [--seed S] [--timeout T] [--api-key-env VAR] [--record FILE.jsonl]
       [--save-result FILE.json [--percentiles 50,90,99]] [--timing-origin sent|scheduled]
       [--goodput ttft:500ms,tpot:50ms,…] [-o table|json|csv] [--quiet]

Sends streaming requests to an OpenAI-compatible server and prints TTFT, ITL, TPOT, E2E
latency (ms; mean, median, p90, p95, p99, std) and throughput, defined as vllm bench serve
does. TTFT and E2E count from each request's actual send (--timing-origin sent, as vLLM);
--timing-origin scheduled counts from the time the arrival schedule gave it, so waiting
behind --concurrency or a slow client counts as latency. Every record keeps both times.
--record writes one JSON line per request as it completes; "roofline bench --summarize
FILE" re-reports it. --save-result writes vLLM's result schema, for scripts that read
vllm bench serve results. The API key comes from --api-key-env VAR, else OPENAI_API_KEY;
it is never printed or recorded. Progress goes to stderr (a bar on a terminal, a line
every 5 s otherwise); --quiet turns it off.`

func runBench(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench", benchSynopsis)
	url := fs.String("url", "", "server root (http://host:port) or its OpenAI base ending in /v1")
	api := fs.String("api", "chat", "endpoint: chat (/v1/chat/completions) or completions (/v1/completions)")
	model := fs.String("model", "", "model name sent in each request")
	conc := fs.Int("concurrency", 0, "closed loop: requests in flight (default 1); with --request-rate: cap on requests in flight")
	rate := flagvalue.NewFloat(fs, "request-rate", 0, flagvalue.Positive, "open loop: arrival rate in requests/s")
	burst := flagvalue.NewFloat(fs, "burstiness", 1, flagvalue.Positive, "gamma shape of arrival gaps with --request-rate (1 = Poisson, <1 burstier)")
	numReq := fs.Int("num-requests", 0, "requests to send (default 100 unless --duration is given)")
	durText := fs.String("duration", "", "stop sending after this long (e.g. 30s, 5m)")
	inLen := fs.Int("input-len", 0, "synthetic prompt length in tokens (≈ one token per word)")
	outLen := fs.Int("output-len", 0, "max_tokens per request (with a dataset, 0 uses each prompt's own)")
	prefixLen := fs.Int("prefix-len", 0, "leading prompt tokens shared by every request")
	dataset := choice(fs, "dataset", "random", "prompts: random (synthetic), jsonl or sharegpt (with --dataset-file)", "random", "jsonl", "sharegpt")
	datasetFile := fs.String("dataset-file", "", "dataset file for --dataset jsonl|sharegpt")
	naturalEOS := fs.Bool("natural-eos", false, "do not send ignore_eos/min_tokens (replies may end early)")
	warmup := fs.Int("warmup", 0, "requests sent before the run, not recorded")
	seed := fs.Uint64("seed", 0, "seed of arrival times and synthetic prompts")
	timeoutText := fs.String("timeout", "10m", "limit per request, send to end of stream")
	keyEnv := fs.String("api-key-env", "", "environment variable holding the API key, sent as a Bearer token (default: OPENAI_API_KEY when set)")
	recordPath := fs.String("record", "", "write one JSON line per request to this file")
	summarize := fs.String("summarize", "", "summarise a --record file instead of running (other run flags are ignored)")
	output := outputFlag(fs, "table", "json", "csv")
	goodput := fs.String("goodput", "", "SLOs for goodput (requests/s meeting all), e.g. ttft:500ms,tpot:50ms,e2el:10s,tok_s_per_user:20")
	saveResult := fs.String("save-result", "", "also write the result in vllm bench serve's --save-result JSON schema to this file")
	percentiles := fs.String("percentiles", "99", "percentiles written by --save-result, as vLLM's --percentiles (e.g. 50,90,99)")
	origin := choice(fs, "timing-origin", bench.OriginSent, "TTFT and E2E count from: sent (actual send, as vLLM) or scheduled (the arrival schedule; includes waiting for a free slot)", bench.OriginSent, bench.OriginScheduled)
	quiet := fs.BoolP("quiet", "q", false, "no progress on stderr")
	if err := parseFlagsArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("bench: unexpected argument %q (every input is a flag)", fs.Arg(0))
	}
	pcts, err := bench.VLLMPercentiles(*percentiles)
	if err != nil {
		return usageErr("--percentiles: %v", err)
	}
	if fs.Changed("percentiles") && *saveResult == "" {
		return usageErr("--percentiles: only with --save-result")
	}
	opt := bench.Options{TimingOrigin: *origin}
	if *goodput != "" {
		slo, err := bench.ParseSLO(*goodput)
		if err != nil {
			return usageErr("--goodput: %v", err)
		}
		opt.SLO = slo
	}
	if *summarize != "" {
		recs, err := bench.ReadRecordsFile(*summarize)
		if err != nil {
			return usageErr("--summarize: %v", err)
		}
		s := bench.Summarize(recs, opt)
		if *saveResult != "" {
			return usageErr("--save-result: not with --summarize (a record file does not hold the run's settings); run bench again or use import")
		}
		return bench.WriteAs(e.stdout, *output, s)
	}

	cfg := bench.Config{
		URL: *url, API: *api, Model: *model, Concurrency: *conc, RequestRate: *rate,
		NumRequests: *numReq, InputLen: *inLen, OutputLen: *outLen, PrefixLen: *prefixLen,
		NaturalEOS: *naturalEOS, Warmup: *warmup, Seed: *seed,
	}
	if fs.Changed("burstiness") {
		if *rate == 0 {
			return usageErr("--burstiness: only with --request-rate")
		}
		cfg.Burstiness = *burst
		if !(*burst > 0) {
			return usageErr("--burstiness %v: must be > 0 (1 = Poisson)", *burst)
		}
	}
	if fs.Changed("request-rate") && !(*rate > 0) {
		return usageErr("--request-rate %v: must be > 0 requests/s (leave it out for the closed loop)", *rate)
	}
	if fs.Changed("concurrency") && *conc < 1 {
		return usageErr("--concurrency %d: must be ≥ 1", *conc)
	}
	if fs.Changed("num-requests") && *numReq < 1 {
		return usageErr("--num-requests %d: must be ≥ 1", *numReq)
	}
	if *durText != "" {
		if cfg.Duration, err = units.ParseDuration(*durText); err != nil {
			return usageErr("--duration: %v", err)
		}
	}
	if cfg.NumRequests == 0 && cfg.Duration == 0 {
		cfg.NumRequests = 100
	}
	if cfg.Timeout, err = units.ParseDuration(*timeoutText); err != nil {
		return usageErr("--timeout: %v", err)
	}
	switch *dataset {
	case "random":
		if *datasetFile != "" {
			return usageErr("--dataset-file: only with --dataset jsonl or sharegpt")
		}
	case "jsonl", "sharegpt":
		if *datasetFile == "" {
			return usageErr("--dataset %s: needs --dataset-file", *dataset)
		}
		if cfg.Prompts, err = bench.LoadDataset(*dataset, *datasetFile); err != nil {
			return usageErr("--dataset-file: %v", err)
		}
	}
	if *keyEnv != "" {
		cfg.APIKey = e.getenv(*keyEnv)
		if cfg.APIKey == "" {
			return usageErr("--api-key-env %s: the environment variable is empty or unset", *keyEnv)
		}
	} else {
		cfg.APIKey = e.getenv("OPENAI_API_KEY")
	}
	if err := cfg.Validate(); err != nil {
		return usageErr("bench: %s", flagNames(err.Error()))
	}

	if *saveResult != "" { // fail before sending anything
		if err := os.WriteFile(*saveResult, nil, 0o644); err != nil {
			return usageErr("--save-result: %v", err)
		}
	}
	started := time.Now()
	recs, runErr, err := runRecorded(ctx, e, cfg, "bench", *recordPath, *quiet)
	if err != nil {
		return err
	}
	s := bench.Summarize(recs, opt)
	s.Run = cfg.RunInfo(len(recs), "requested (--input-len, --output-len)")
	if err := bench.WriteAs(e.stdout, *output, s); err != nil {
		return err
	}
	if *saveResult != "" {
		if err := bench.WriteVLLMResultFile(*saveResult, s, cfg.VLLMMeta(started, len(recs)), pcts); err != nil {
			return fmt.Errorf("--save-result %s: %v", *saveResult, err)
		}
	}
	switch {
	case errors.Is(runErr, context.Canceled) || errors.Is(runErr, context.DeadlineExceeded):
		return &exitError{code: 130, err: fmt.Errorf("bench: interrupted; %d requests recorded and summarised", len(recs))}
	case runErr != nil:
		return fmt.Errorf("bench: %v (%d requests recorded and summarised)", runErr, len(recs))
	case s.Completed == 0:
		return fmt.Errorf("bench: no request succeeded (%d failed)", s.Failed)
	}
	return nil
}

// flagNames turns the package's field names ("input len 0: …") into flag names.
func flagNames(msg string) string {
	for _, p := range [][2]string{{"input len", "--input-len"}, {"output len", "--output-len"}, {"prefix len", "--prefix-len"},
		{"num requests or duration", "--num-requests or --duration"}, {"model:", "--model:"}, {"url", "--url"}, {"api ", "--api "},
		{"warmup", "--warmup"}, {"num requests", "--num-requests"}, {"request rate", "--request-rate"}, {"burstiness", "--burstiness"},
		{"concurrency", "--concurrency"}, {"duration", "--duration"}, {"timeout", "--timeout"}} {
		if strings.HasPrefix(msg, p[0]) {
			return p[1] + strings.TrimPrefix(msg, p[0])
		}
	}
	return msg
}

// runRecorded runs cfg with a progress bar named what, writing each record to the file path
// as it completes ("": nowhere). It returns the records, the run's error, and an error when
// the file cannot be created (bad input) or written.
func runRecorded(ctx context.Context, e *env, cfg bench.Config, what, path string, quiet bool) ([]bench.Record, error, error) {
	var rec io.Writer
	if path != "" {
		f, err := os.Create(path)
		if err != nil {
			return nil, nil, usageErr("--record: %v", err)
		}
		defer f.Close()
		rec = f // unbuffered: each record is on disk once it completes
	}
	prog := progress.New(e.stderr, what, "requests", cfg.NumRequests, quiet)
	var recErr error
	var mu sync.Mutex
	recs, runErr := bench.Run(ctx, cfg, func(r bench.Record) {
		mu.Lock()
		defer mu.Unlock()
		if rec != nil && recErr == nil {
			recErr = bench.WriteRecord(rec, r)
		}
		prog.Add(!r.OK())
	})
	prog.Done()
	if recErr != nil {
		return recs, runErr, fmt.Errorf("--record %s: %v", path, recErr)
	}
	return recs, runErr, nil
}
