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
	"roofline/units"
)

const benchSynopsis = `bench --url URL --model NAME [--api chat|completions]
       [--concurrency C | --request-rate R [--burstiness K]] [--num-requests N | --duration D]
       --input-len I --output-len O [--prefix-len P] [--dataset random|jsonl|sharegpt --dataset-file F]
       [--warmup N] [--seed S] [--timeout T] [--api-key-env VAR] [--record FILE.jsonl]
       [--goodput ttft:500ms,tpot:50ms,…] [--output table|json|csv]

Sends streaming requests to an OpenAI-compatible server and prints TTFT, ITL, TPOT, E2E
latency (ms; mean, median, p90, p95, p99, std) and throughput, defined as vllm bench serve
does. Latency counts from each request's scheduled send time. --record writes one JSON
line per request as it completes; "roofline bench --summarize FILE" re-reports it.`

func runBench(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench", benchSynopsis)
	url := fs.String("url", "", "server root (http://host:port) or its OpenAI base ending in /v1")
	api := fs.String("api", "chat", "endpoint: chat (/v1/chat/completions) or completions (/v1/completions)")
	model := fs.String("model", "", "model name sent in each request")
	conc := fs.Int("concurrency", 0, "closed loop: requests in flight (default 1); with --request-rate: cap on requests in flight")
	rate := floatFlag(fs, "request-rate", 0, positive, "open loop: arrival rate in requests/s")
	burst := floatFlag(fs, "burstiness", 1, positive, "gamma shape of arrival gaps with --request-rate (1 = Poisson, <1 burstier)")
	numReq := fs.Int("num-requests", 0, "requests to send (default 100 unless --duration is given)")
	durText := fs.String("duration", "", "stop sending after this long (e.g. 30s, 5m)")
	inLen := fs.Int("input-len", 0, "synthetic prompt length in tokens (≈ one token per word)")
	outLen := fs.Int("output-len", 0, "max_tokens per request (with a dataset, 0 uses each prompt's own)")
	prefixLen := fs.Int("prefix-len", 0, "leading prompt tokens shared by every request")
	dataset := fs.String("dataset", "random", "prompts: random (synthetic), jsonl or sharegpt (with --dataset-file)")
	datasetFile := fs.String("dataset-file", "", "dataset file for --dataset jsonl|sharegpt")
	naturalEOS := fs.Bool("natural-eos", false, "do not send ignore_eos/min_tokens (replies may end early)")
	warmup := fs.Int("warmup", 0, "requests sent before the run, not recorded")
	seed := fs.Uint64("seed", 0, "seed of arrival times and synthetic prompts")
	timeoutText := fs.String("timeout", "10m", "limit per request, send to end of stream")
	keyEnv := fs.String("api-key-env", "", "environment variable holding the API key (sent as a Bearer token)")
	recordPath := fs.String("record", "", "write one JSON line per request to this file")
	summarize := fs.String("summarize", "", "summarise a --record file instead of running (other run flags are ignored)")
	output := fs.String("output", "table", "output format: table, json or csv")
	goodput := fs.String("goodput", "", "SLOs for goodput (requests/s meeting all), e.g. ttft:500ms,tpot:50ms,e2el:10s,tok_s_per_user:20")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("bench: unexpected argument %q (every input is a flag)", fs.Arg(0))
	}
	if err := checkOutput(*output, "table", "json", "csv"); err != nil {
		return err
	}
	var opt bench.Options
	if *goodput != "" {
		slo, err := bench.ParseSLO(*goodput)
		if err != nil {
			return usageErr("--goodput: %v", err)
		}
		opt.SLO = slo
	}
	if *summarize != "" {
		f, err := os.Open(*summarize)
		if err != nil {
			return usageErr("--summarize: %v", err)
		}
		defer f.Close()
		recs, err := bench.ReadRecords(f)
		if err != nil {
			return usageErr("--summarize %s: %v", *summarize, err)
		}
		return writeSummary(e.stdout, *output, bench.Summarize(recs, opt))
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
	var err error
	if *durText != "" {
		if cfg.Duration, err = parseDuration(*durText); err != nil {
			return usageErr("--duration: %v", err)
		}
	}
	if cfg.NumRequests == 0 && cfg.Duration == 0 {
		cfg.NumRequests = 100
	}
	if cfg.Timeout, err = parseDuration(*timeoutText); err != nil {
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
		f, err := os.Open(*datasetFile)
		if err != nil {
			return usageErr("--dataset-file: %v", err)
		}
		load := bench.LoadJSONL
		if *dataset == "sharegpt" {
			load = bench.LoadShareGPT
		}
		cfg.Prompts, err = load(f)
		f.Close()
		if err != nil {
			return usageErr("--dataset-file %s: %v", *datasetFile, err)
		}
	default:
		return usageErr("--dataset %q: allowed values are random, jsonl, sharegpt", *dataset)
	}
	if *keyEnv != "" {
		cfg.APIKey = e.getenv(*keyEnv)
		if cfg.APIKey == "" {
			return usageErr("--api-key-env %s: the environment variable is empty or unset", *keyEnv)
		}
	}
	if err := cfg.Validate(); err != nil {
		return usageErr("bench: %s", flagNames(err.Error()))
	}

	var rec io.Writer
	if *recordPath != "" {
		f, err := os.Create(*recordPath)
		if err != nil {
			return usageErr("--record: %v", err)
		}
		defer f.Close()
		rec = f // unbuffered: each record is on disk once it completes
	}
	prog := newProgress(e.stderr, cfg.NumRequests)
	var recErr error
	var mu sync.Mutex
	recs, runErr := bench.Run(ctx, cfg, func(r bench.Record) {
		mu.Lock()
		defer mu.Unlock()
		if rec != nil && recErr == nil {
			recErr = bench.WriteRecord(rec, r)
		}
		prog.add(r)
	})
	prog.done()
	if recErr != nil {
		return fmt.Errorf("--record %s: %v", *recordPath, recErr)
	}
	s := bench.Summarize(recs, opt)
	if err := writeSummary(e.stdout, *output, s); err != nil {
		return err
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
		{"num requests or duration", "--num-requests or --duration"}, {"model:", "--model:"}, {"url", "--url"}, {"api ", "--api "}} {
		if strings.HasPrefix(msg, p[0]) {
			return p[1] + strings.TrimPrefix(msg, p[0])
		}
	}
	return msg
}

// parseDuration accepts Go durations ("30s", "1m30s") and quantities ("30 s", "500 ms").
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		v, uerr := units.ParseSeconds(s)
		if uerr != nil {
			return 0, fmt.Errorf("%q: want a duration such as 30s, 5m or 500ms", s)
		}
		d = time.Duration(float64(v) * float64(time.Second))
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q: must be > 0", s)
	}
	return d, nil
}

func writeSummary(w io.Writer, format string, s bench.Summary) error {
	switch format {
	case "json":
		return s.WriteJSON(w)
	case "csv":
		return bench.WriteCSV(w, s)
	}
	return s.WriteTable(w)
}

// progress prints a "\r" status line on stderr when it is a terminal, and nothing
// otherwise (so piped and tested output stays clean).
type progress struct {
	w          io.Writer
	total      int
	n, failed  int
	tty, drawn bool
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) add(r bench.Record) {
	p.n++
	if !r.OK() {
		p.failed++
	}
	if !p.tty {
		return
	}
	if p.total > 0 {
		fmt.Fprintf(p.w, "\rbench: %d/%d requests done, %d failed ", p.n, p.total, p.failed)
	} else {
		fmt.Fprintf(p.w, "\rbench: %d requests done, %d failed ", p.n, p.failed)
	}
	p.drawn = true
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
