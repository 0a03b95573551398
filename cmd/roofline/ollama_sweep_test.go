//go:build unix

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"roofline/bench"
	"roofline/internal/gguf"
	"roofline/sweeprun"
)

// TestOllamaSweepRun runs "sweep --run --framework ollama" against the real Ollama
// server the project builds (see TestOllamaLive): 2 values of OLLAMA_NUM_PARALLEL (given
// as max_num_seqs, which the ollama framework maps to it) × 2 concurrencies on the
// generated tiny model. It checks from the results file that the 4 runs finished, that
// with 1 slot the server's queue shows at concurrency 4 (by the order of events, not by
// durations: no two requests ever received tokens at once, and at least half the
// requests got their first token only after another request had finished), and that
// no process started by the sweep is left afterwards.
func TestOllamaSweepRun(t *testing.T) {
	bin := os.Getenv(ollamaBinEnv)
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is unset under CI=true: .ci/run builds the server with .ci/ollama.sh and exports it", ollamaBinEnv)
		}
		t.Skipf("%s is unset: build the server with .ci/ollama.sh and export its path to run this test", ollamaBinEnv)
	}
	start := time.Now()
	// A server of the test's own registers the model in a models directory; the sweep's
	// servers read it from there (OLLAMA_MODELS).
	srv := startOllama(t, bin)
	srv.create(t, "tiny", gguf.TinyLlama{Seed: 1})
	models := filepath.Join(srv.dir, "models")
	mark := "roofline-sweep-test-" + strconv.Itoa(os.Getpid())
	dir := t.TempDir()
	env := fmt.Sprintf("OLLAMA_MODELS=%s;HOME=%s;OLLAMA_KEEP_ALIVE=1h;OLLAMA_NOPRUNE=1;ROOFLINE_TEST_MARK=%s",
		strconv.Quote(models), strconv.Quote(filepath.Join(srv.dir, "home")), mark)
	stdout, stderr, code := runCLI(t, "sweep", "--run", "--framework", "ollama", "--server-bin", bin,
		"--server-args", "max_num_seqs=[1,4]", "--server-env", env,
		"--client-args", "concurrency=[1,4];num_requests=6;warmup=1", "--served-model-name", "tiny",
		"--input-len", strconv.Itoa(liveInput), "--output-len", "16",
		"--output-dir", dir, "--ready-timeout", "60s", "--grace", "5s")
	t.Logf("sweep took %.1f s\n%s", time.Since(start).Seconds(), stdout)
	if code != 0 {
		t.Fatalf("sweep --run exited %d\nstderr: %s", code, stderr)
	}
	rs := readSweepResults(t, dir)
	if len(rs) != 4 {
		t.Fatalf("%d results, want 4 (2 servers × 2 concurrencies)", len(rs))
	}
	recs := map[string][]bench.Record{}
	for _, r := range rs {
		if r.Status != sweeprun.StatusOK || r.Measured == nil || r.Measured.Completed != 6 || r.Measured.Failed != 0 {
			b, _ := os.ReadFile(filepath.Join(dir, r.ServerLog))
			t.Fatalf("%s %s: status %s, measured %+v, error %s\nlog:\n%s", r.ServerArgs, r.ClientArgs, r.Status, r.Measured, r.Error, b)
		}
		if !strings.Contains(r.Command, "OLLAMA_NUM_PARALLEL=") || !strings.Contains(r.Command, " serve") {
			t.Errorf("command %q: want OLLAMA_NUM_PARALLEL and serve", r.Command)
		}
		if r.Predicted != nil || !strings.Contains(r.PredictedReason, "no --model") {
			t.Errorf("%s: a prediction without --model, or no reason given (%q)", r.ServerArgs, r.PredictedReason)
		}
		f, err := os.Open(filepath.Join(dir, r.Records))
		if err != nil {
			t.Fatal(err)
		}
		rr, err := bench.ReadRecords(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		slots, _ := r.ServerArgs.Get("max_num_seqs")
		c, _ := r.ClientArgs.Get("concurrency")
		recs[slots+"/"+c] = rr
	}
	one, four := recs["1/1"], recs["1/4"]
	if len(one) != 6 || len(four) != 6 {
		t.Fatalf("records: %d at 1 slot c=1, %d at 1 slot c=4; want 6 each", len(one), len(four))
	}
	decoding := maxOverlap(four, func(r bench.Record) (float64, float64) { return r.FirstContentS, r.LastContentS })
	inFlight := maxOverlap(four, func(r bench.Record) (float64, float64) { return r.SentS, r.EndS })
	w1, w4 := waiters(one), waiters(four)
	t.Logf("1 slot: waited %d/6 at c=1, %d/6 at c=4; at c=4 %d in flight and %d receiving tokens at once", w1, w4, inFlight, decoding)
	if w1 != 0 {
		t.Errorf("1 slot, c=1: %d requests waited for another; with one in flight none can", w1)
	}
	if inFlight != 4 || decoding != 1 {
		t.Errorf("1 slot, c=4: %d in flight (want 4), %d receiving tokens at once (want 1: one slot)", inFlight, decoding)
	}
	if 2*w4 < len(four) {
		t.Errorf("1 slot, c=4: %d of 6 requests waited for a slot, want at least half: queueing not visible", w4)
	}
	m1, m4 := rsTTFT(rs, "1", "1"), rsTTFT(rs, "1", "4")
	if !(m4 > 2*m1) {
		t.Errorf("1 slot: median TTFT %.1f ms at c=4 not above twice %.1f ms at c=1", m4, m1)
	}
	// No process the sweep started (servers and their runners carry the mark) is left.
	if left := marked(mark); len(left) > 0 {
		t.Errorf("processes of the sweep still running: %v", left)
	}
}

// rsTTFT is the measured median TTFT of the run with the given slots and concurrency.
func rsTTFT(rs []sweeprun.Result, slots, c string) float64 {
	for _, r := range rs {
		s, _ := r.ServerArgs.Get("max_num_seqs")
		cc, _ := r.ClientArgs.Get("concurrency")
		if s == slots && cc == c {
			return r.Measured.TTFT.Median
		}
	}
	return 0
}

// marked lists the running (not zombie) processes whose environment holds mark.
func marked(mark string) []string {
	var out []string
	envs, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, p := range envs {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(b, []byte("ROOFLINE_TEST_MARK="+mark)) {
			continue
		}
		st, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "stat"))
		if i := bytes.LastIndexByte(st, ')'); i >= 0 && bytes.HasPrefix(bytes.TrimSpace(st[i+1:]), []byte("Z")) {
			continue
		}
		out = append(out, filepath.Base(filepath.Dir(p))+" "+string(st))
	}
	return out
}
