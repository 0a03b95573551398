//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"roofline/bench"
	"roofline/internal/gguf"
)

// The live test serves a generated tiny llama model (package internal/gguf) with a real
// Ollama server and runs "roofline bench" against it. .ci/ollama.sh builds the pinned
// server and .ci/run exports its path in ROOFLINE_OLLAMA_BIN.
const (
	ollamaBinEnv = "ROOFLINE_OLLAMA_BIN"
	ollamaSlots  = 4  // OLLAMA_NUM_PARALLEL: sequences the server decodes at once
	liveRequests = 16 // requests per bench run
	liveInput    = 16 // --input-len, words
	liveOutput   = 32 // --output-len, max_tokens
)

func TestOllamaLive(t *testing.T) {
	bin := os.Getenv(ollamaBinEnv)
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is unset under CI=true: .ci/run builds the server with .ci/ollama.sh and exports it", ollamaBinEnv)
		}
		t.Skipf("%s is unset: build the server with .ci/ollama.sh and export its path to run this test", ollamaBinEnv)
	}
	start := time.Now()
	srv := startOllama(t, bin)
	srv.create(t, "tiny", gguf.TinyLlama{Seed: 1})
	srv.create(t, "tiny-split", gguf.TinyLlama{Seed: 1, SplitChars: true})
	t.Logf("server up and models created in %.1f s", time.Since(start).Seconds())

	for _, api := range []string{bench.APIChat, bench.APICompletions} {
		t.Run(api, func(t *testing.T) {
			// Every token of the default tiny model is a word piece and </s> is never sampled
			// (see gguf.TinyLlama.Model), so each reply has exactly liveOutput tokens and one
			// content chunk per token: usage and the client's own count must agree.
			one, sOne := srv.bench(t, "tiny", api, 1, liveRequests)
			eight, sEight := srv.bench(t, "tiny", api, 8, liveRequests)
			for _, run := range []struct {
				name string
				recs []bench.Record
				s    liveSummary
			}{{"c=1", one, sOne}, {"c=8", eight, sEight}} {
				checkRecords(t, run.name, run.recs, liveRequests, liveOutput, oneChunkPerToken)
				checkSummary(t, run.name, run.s, run.recs, 1)
			}
			checkQueueing(t, one, eight, sOne, sEight)
		})
	}
	t.Run("split-chars", func(t *testing.T) {
		// This model replies "é" (bytes C3 A9) and " the" in turn; the server holds back the
		// lead byte until its continuation arrives, so 3 tokens make 2 content chunks and
		// 32 tokens make ⌊2·32/3⌋ = 21 (10 full cycles, then C3 A9).
		recs, s := srv.bench(t, "tiny-split", bench.APIChat, ollamaSlots, 8)
		checkRecords(t, "split-chars", recs, 8, liveOutput, func(tokens int) int { return 2 * tokens / 3 })
		checkSummary(t, "split-chars", s, recs, 21.0/32)
	})
}

// ollamaServer is a running "ollama serve" with its own home and model directory.
type ollamaServer struct {
	bin, dir, base string
	env            []string
}

// startOllama starts the server on a free loopback port, waits until it answers and
// registers its shutdown (the whole process group, runners included) with t.Cleanup.
func startOllama(t *testing.T, bin string) *ollamaServer {
	t.Helper()
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s: %v", ollamaBinEnv, err)
	}
	dir := t.TempDir()
	port := freePort(t)
	s := &ollamaServer{bin: bin, dir: dir, base: "http://127.0.0.1:" + strconv.Itoa(port)}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OLLAMA_") && !strings.HasPrefix(kv, "HOME=") {
			s.env = append(s.env, kv)
		}
	}
	s.env = append(s.env, "HOME="+filepath.Join(dir, "home"), "OLLAMA_HOST=127.0.0.1:"+strconv.Itoa(port),
		"OLLAMA_MODELS="+filepath.Join(dir, "models"), "OLLAMA_NUM_PARALLEL="+strconv.Itoa(ollamaSlots),
		"OLLAMA_KEEP_ALIVE=1h", "OLLAMA_NOPRUNE=1")
	logPath := filepath.Join(dir, "serve.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	// The server runs under a supervisor (this test binary, see superviseOllama) that
	// stops its whole process group, runners included, when our end of its stdin closes:
	// at cleanup, or when this process dies (a timed-out "go test" is killed before any
	// cleanup runs).
	cmd := exec.Command(os.Args[0], bin, "serve")
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = append(s.env, superviseEnv+"=1"), dir, logf, logf
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("ollama serve: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(exited) }()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Error("the Ollama supervisor did not stop within 10 s")
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			t.Logf("last lines of the server log:\n%s", strings.Join(lines[max(0, len(lines)-30):], "\n"))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.base + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(logPath)
			t.Fatalf("ollama serve exited before answering:\n%s", b)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("ollama serve did not answer on %s within 30 s", s.base)
		}
	}
}

// superviseEnv makes the test binary run "ollama serve" as a supervisor (see TestMain).
const superviseEnv = "ROOFLINE_TEST_SUPERVISE_OLLAMA"

func init() { childModes[superviseEnv] = superviseOllama }

// superviseOllama runs os.Args[1:] (the server binary and "serve") in a process group
// of its own and, once its stdin reaches end of file, sends the group SIGTERM, then
// SIGKILL after 5 s, and exits. It exits with the server's status if the server ends
// first.
func superviseOllama() {
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its runners join its group
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "supervisor:", err)
		os.Exit(1)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	eof := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(eof) }()
	pgid := cmd.Process.Pid
	select {
	case <-exited:
		syscall.Kill(-pgid, syscall.SIGKILL)
		os.Exit(cmd.ProcessState.ExitCode())
	case <-eof:
	}
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
	}
	syscall.Kill(-pgid, syscall.SIGKILL) // the server if it hung, and any runner left behind
	os.Exit(0)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// create writes the model described by c and a Modelfile, and registers it as name.
func (s *ollamaServer) create(t *testing.T, name string, c gguf.TinyLlama) {
	t.Helper()
	var buf bytes.Buffer
	if err := gguf.WriteTinyLlama(&buf, c); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, name+".gguf"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// The template passes the prompt through untouched; each of the 4 slots holds 512 tokens.
	modelfile := fmt.Sprintf("FROM ./%s.gguf\nTEMPLATE \"\"\"{{ .Prompt }}\"\"\"\nPARAMETER num_ctx 512\n", name)
	mf := filepath.Join(s.dir, name+".Modelfile")
	if err := os.WriteFile(mf, []byte(modelfile), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, "create", name, "-f", mf)
	cmd.Env, cmd.Dir = s.env, s.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ollama create %s: %v\n%s", name, err, out)
	}
}

// liveSummary is the part of bench's JSON summary the test checks.
type liveSummary struct {
	Completed         int     `json:"completed"`
	Failed            int     `json:"failed"`
	NoContent         int     `json:"no_content"`
	TotalOutputTokens int     `json:"total_output_tokens"`
	ChunksPerToken    float64 `json:"chunks_per_token"`
	Approximate       bool    `json:"approximate"`
	TTFT              struct {
		Count  int      `json:"count"`
		Mean   *float64 `json:"mean"`
		Median *float64 `json:"median"`
		P90    *float64 `json:"p90"`
	} `json:"ttft_ms"`
}

// bench runs "roofline bench" at concurrency c and returns its records and summary.
func (s *ollamaServer) bench(t *testing.T, model, api string, c, n int) ([]bench.Record, liveSummary) {
	t.Helper()
	recPath := filepath.Join(t.TempDir(), "records.jsonl")
	args := []string{"bench", "--url", s.base + "/v1", "--model", model, "--api", api,
		"--concurrency", strconv.Itoa(c), "--num-requests", strconv.Itoa(n),
		"--input-len", strconv.Itoa(liveInput), "--output-len", strconv.Itoa(liveOutput),
		"--warmup", "2", "--seed", "1", "--timeout", "60s", "--record", recPath, "--output", "json"}
	stdout, stderr, code := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("roofline %s: exit %d\nstderr: %s\nstdout: %s", strings.Join(args, " "), code, stderr, stdout)
	}
	var sum liveSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("bench --output json: %v\n%s", err, stdout)
	}
	f, err := os.Open(recPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := bench.ReadRecords(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s %s c=%d: %d requests, TTFT mean %.1f ms p90 %.1f ms, %d output tokens, %.2f chunks/token",
		model, api, c, len(recs), val(sum.TTFT.Mean), val(sum.TTFT.P90), sum.TotalOutputTokens, sum.ChunksPerToken)
	return recs, sum
}

// oneChunkPerToken is the content chunks of a reply of the default tiny model.
func oneChunkPerToken(tokens int) int { return tokens }

// checkRecords checks every record of a run: n of them, one per request index, all
// successful, token counts from the server's usage equal to max_tokens, wantChunks(tokens)
// content chunks, and timestamps in the order they happen. It sorts recs by index
// (the record file is in completion order).
func checkRecords(t *testing.T, name string, recs []bench.Record, n, outLen int, wantChunks func(tokens int) int) {
	t.Helper()
	if len(recs) != n {
		t.Errorf("%s: %d records, want %d (one per request)", name, len(recs), n)
	}
	slices.SortFunc(recs, func(a, b bench.Record) int { return a.Index - b.Index })
	for i, r := range recs {
		if r.Index != i {
			t.Errorf("%s: request indexes are %v, want 0 to %d once each", name, indexes(recs), n-1)
			break
		}
	}
	for i, r := range recs {
		if !r.OK() || r.HTTPStatus != http.StatusOK {
			t.Errorf("%s request %d: HTTP %d, error %q", name, i, r.HTTPStatus, r.Error)
			continue
		}
		// The server's final usage object is the source (Ollama's completions endpoint puts
		// an all-zero usage on every chunk before it: taking any but the last gives 0).
		if r.UsageSource != bench.UsageFromServer || r.CompletionTokens != outLen {
			t.Errorf("%s request %d: %d completion tokens from %q, want %d from the server's usage",
				name, i, r.CompletionTokens, r.UsageSource, outLen)
		}
		// Each of the liveInput words takes at least one token (byte fallback makes it several).
		if r.PromptTokens < liveInput {
			t.Errorf("%s request %d: %d prompt tokens, want ≥ %d", name, i, r.PromptTokens, liveInput)
		}
		if want := wantChunks(r.CompletionTokens); r.ContentChunks != want {
			t.Errorf("%s request %d: %d content chunks for %d tokens, want %d", name, i, r.ContentChunks, r.CompletionTokens, want)
		}
		if len(r.ChunkS) != r.ContentChunks || !slices.IsSorted(r.ChunkS) {
			t.Errorf("%s request %d: %d chunk times for %d chunks, sorted %v", name, i, len(r.ChunkS), r.ContentChunks, slices.IsSorted(r.ChunkS))
			continue
		}
		ordered := []float64{r.ScheduledS, r.SentS, r.FirstChunkS, r.FirstContentS, r.ChunkS[0], r.ChunkS[len(r.ChunkS)-1], r.LastContentS, r.EndS}
		if !slices.IsSorted(ordered) || r.FirstContentS != r.ChunkS[0] || r.LastContentS != r.ChunkS[len(r.ChunkS)-1] {
			t.Errorf("%s request %d: times out of order: scheduled, sent, first chunk, first content, chunks…, last content, end = %v", name, i, ordered)
		}
	}
}

func indexes(recs []bench.Record) []int {
	var xs []int
	for _, r := range recs {
		xs = append(xs, r.Index)
	}
	return xs
}

// checkSummary checks that bench's JSON summary agrees with its own records.
func checkSummary(t *testing.T, name string, s liveSummary, recs []bench.Record, chunkPerToken float64) {
	t.Helper()
	tokens := 0
	for _, r := range recs {
		tokens += r.CompletionTokens
	}
	if s.Completed != len(recs) || s.Failed != 0 || s.NoContent != 0 || s.Approximate ||
		s.TotalOutputTokens != tokens || s.TTFT.Count != len(recs) || math.Abs(s.ChunksPerToken-chunkPerToken) > 1e-9 {
		t.Errorf("%s: summary %+v disagrees with %d records of %d tokens (want %v chunks per token, none failed, none approximate)",
			name, s, len(recs), tokens, chunkPerToken)
	}
}

// checkQueueing checks that bench sees the server's queue. With ollamaSlots = 4
// sequences decoded at once and 8 requests in flight, every request after the first 4
// waits for a slot, that is until a request that was running when it was sent has
// sent its last token. The checks use the order of events in the records, not
// durations, so a busy machine (which stretches every duration, and not evenly between
// the c=1 and the c=8 run) cannot make them fail:
//   - at c=1 no request ever waits (nothing else is in flight): exactly 0 waiters;
//   - at c=8 the client really had 8 requests in flight at once, yet at no moment did
//     more than ollamaSlots of them receive tokens (first to last content chunk);
//   - at c=8 at least half the requests waited (about 12 of 16 do: the first 4 go
//     straight to a slot);
//   - the median TTFT at c=8 is at least twice that at c=1: a waiter's TTFT holds a
//     whole reply of another request (a client that measured from the start of the
//     run instead of each send would fail this: its c=1 median would be half the c=1
//     run, longer than the c=8 run's);
//   - bench's own summary reports the same medians as the records (linear
//     interpolation: the mean of the two middle values of 16).
func checkQueueing(t *testing.T, one, eight []bench.Record, sOne, sEight liveSummary) {
	t.Helper()
	ttfts := func(recs []bench.Record) []float64 {
		var xs []float64
		for _, r := range recs {
			xs = append(xs, (r.FirstContentS-r.SentS)*1e3) // the summary's default origin: the actual send, as vllm bench serve
		}
		return slices.Sorted(slices.Values(xs))
	}
	t1, t8 := ttfts(one), ttfts(eight)
	w1, w8 := waiters(one), waiters(eight)
	inFlight, decoding := maxOverlap(eight, func(r bench.Record) (float64, float64) { return r.SentS, r.EndS }),
		maxOverlap(eight, func(r bench.Record) (float64, float64) { return r.FirstContentS, r.LastContentS })
	t.Logf("queueing: TTFT ms at c=1 %.0f, at c=8 %.0f; waited for a slot: %d/%d at c=1, %d/%d at c=8; at c=8 at most %d in flight and %d receiving tokens at once",
		t1, t8, w1, len(one), w8, len(eight), inFlight, decoding)
	if w1 != 0 {
		t.Errorf("c=1: %d requests got their first token after another in-flight request ended; with one request in flight there is none", w1)
	}
	if inFlight != 8 || decoding > ollamaSlots {
		t.Errorf("c=8: at most %d requests in flight (want 8) and %d receiving tokens at once (want ≤ %d, the server's slots)", inFlight, decoding, ollamaSlots)
	}
	if 2*w8 < len(eight) {
		t.Errorf("c=8: %d of %d requests waited for a slot, want at least half: server queueing not visible in TTFT", w8, len(eight))
	}
	if median(t8) < 2*median(t1) {
		t.Errorf("median TTFT at c=8 (%.1f ms) is not at least twice that at c=1 (%.1f ms)", median(t8), median(t1))
	}
	for _, c := range []struct {
		name string
		s    liveSummary
		xs   []float64
	}{{"c=1", sOne, t1}, {"c=8", sEight, t8}} {
		if got := val(c.s.TTFT.Median); !(math.Abs(got-median(c.xs)) < 1e-6) {
			t.Errorf("%s: summary median TTFT %v ms, records give %v ms", c.name, got, median(c.xs))
		}
	}
}

// waiters counts the requests that waited for a slot: another request streamed its last
// token after they were sent and before their first. Which one was sent first does not
// matter: the sends of one burst are microseconds apart and the server need not take them
// in that order (requiring the other to be sent first made the count depend on that order:
// 2 of 6 one run, 5 of 6 the next).
func waiters(recs []bench.Record) int {
	n := 0
	for _, r := range recs {
		for _, o := range recs {
			if o.Index != r.Index && o.LastContentS > r.SentS && o.LastContentS <= r.FirstContentS {
				n++
				break
			}
		}
	}
	return n
}

// maxOverlap is the largest number of records whose intervals [from, to) span one
// moment (checked at every interval start).
func maxOverlap(recs []bench.Record, span func(bench.Record) (from, to float64)) int {
	most := 0
	for _, r := range recs {
		at, _ := span(r)
		n := 0
		for _, o := range recs {
			if from, to := span(o); from <= at && at < to {
				n++
			}
		}
		most = max(most, n)
	}
	return most
}

// median returns the middle value of xs (mean of the two middle ones for even length).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(xs))
	return (s[(len(s)-1)/2] + s[len(s)/2]) / 2
}
