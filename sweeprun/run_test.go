//go:build unix

package sweeprun

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"roofline/bench"
)

// The fault tests start this test binary as a small scripted server (see TestMain):
// "BIN PORT MODE PIDDIR" with helperEnv=1. Every helper writes its pid and the pid of a
// child it starts (a second process of the group, like a vLLM worker) to PIDDIR, so the
// test can check that none survives the sweep. Modes:
//
//	ok     serves /v1/models and streaming chat completions (tokenDelay per token)
//	exit   prints a line and exits with status 3 at once
//	never  never listens, and ignores SIGTERM (only SIGKILL ends it)
//	die    serves, and exits with status 7 as its 3rd request arrives
const helperEnv = "SWEEPRUN_TEST_HELPER"

const tokenDelay = 20 * time.Millisecond

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		helper(os.Args[1:])
		return
	}
	os.Exit(m.Run())
}

func helper(args []string) {
	port, mode, dir := args[0], args[1], args[2]
	child := exec.Command("sleep", "300")
	if err := child.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.pids", os.Getpid())), fmt.Appendf(nil, "%d %d", os.Getpid(), child.Process.Pid), 0o644)
	fmt.Fprintf(os.Stderr, "helper %s starting on port %s\n", mode, port)
	switch mode {
	case "exit":
		fmt.Fprintln(os.Stderr, "helper: fatal: no GPU found")
		os.Exit(3)
	case "never":
		signal.Ignore(syscall.SIGTERM)
		time.Sleep(time.Hour)
	}
	var n atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/models", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"data":[{"id":"m"}]}`) })
	mux.HandleFunc("/v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 3 && mode == "die" {
			fmt.Fprintln(os.Stderr, "helper: segmentation fault")
			os.Exit(7)
		}
		var req struct {
			MaxTokens int `json:"max_tokens"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range req.MaxTokens {
			time.Sleep(tokenDelay)
			fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"t%d \"}}]}\n\n", i)
			w.(http.Flusher).Flush()
		}
		fmt.Fprintf(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":%d}}\n\ndata: [DONE]\n\n", req.MaxTokens)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	http.Serve(ln, mux)
}

// faultOptions sweeps the helper over modes with two client configurations.
func faultOptions(t *testing.T, dir, pidDir string, modes ...string) Options {
	grid, err := ParseGrid("mode=[" + strings.Join(modes, ",") + "]")
	if err != nil {
		t.Fatal(err)
	}
	clients, _ := ParseGrid("concurrency=[1,2];num_requests=4")
	return Options{
		Launcher:      Launcher{Template: shellQuote(os.Args[0]) + " {port} {mode} " + shellQuote(pidDir)},
		ServerArgs:    grid,
		ServerEnv:     []Params{{{helperEnv, "1"}}},
		Clients:       clients,
		Bench:         bench.Config{Model: "m", InputLen: 4, OutputLen: 5, Timeout: 30 * time.Second},
		Dir:           dir,
		ReadyTimeout:  30 * time.Second,
		Grace:         500 * time.Millisecond,
		GPUsAvailable: -1,
	}
}

// checkNoSurvivor fails if a helper or its child is still running (zombies, which
// hold no resources and wait for their reaper, count as gone).
func checkNoSurvivor(t *testing.T, pidDir string, wantHelpers int) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(pidDir, "*.pids"))
	if len(files) != wantHelpers {
		t.Errorf("%d helpers started, want %d", len(files), wantHelpers)
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			pid, _ := strconv.Atoi(s)
			if running(pid) {
				st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
				t.Errorf("process %d (of %s) survived the sweep: %s", pid, filepath.Base(f), st)
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

func running(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no /proc (not Linux): the signal check says it exists
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z")
}

func readResults(t *testing.T, dir string) []Result {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := ReadResults(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestFaults sweeps four scripted servers: one that exits at start, one that dies during
// the first benchmark, a healthy one, then (continuing the same results, with a 1 s
// ready timeout, so that the others have all the time a busy machine needs to start)
// one that never becomes ready and ignores SIGTERM. Each is recorded with its status,
// the sweep goes on past every failure, and no process of any of them survives.
func TestFaults(t *testing.T) {
	dir, pidDir := t.TempDir(), t.TempDir()
	var log bytes.Buffer
	o := faultOptions(t, dir, pidDir, "exit", "die", "ok")
	o.Log, o.ReadyTimeout = &log, 30*time.Second
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	o.ServerArgs, o.ReadyTimeout, o.Continue = []Params{{{"mode", "never"}}}, time.Second, true
	res, err = Run(context.Background(), o)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	t.Logf("log:\n%s", log.String())
	got := readResults(t, dir)
	if len(got) != len(res) || len(got) != 8 {
		t.Fatalf("%d results in the file, %d returned; want 8 (4 servers × 2 clients)", len(got), len(res))
	}
	want := []struct{ status, errText string }{
		{StatusServerFailed, "exit status 3"}, {StatusServerFailed, "exit status 3"},
		{StatusBenchFailed, "exit status 7"}, {StatusBenchFailed, "exited during an earlier run (exit status 7)"},
		{StatusOK, ""}, {StatusOK, ""},
		{StatusNotReady, "not ready within 1s"}, {StatusNotReady, "not ready within 1s"},
	}
	for i, r := range got {
		if r.Status != want[i].status || !strings.Contains(r.Error, want[i].errText) {
			t.Errorf("result %d (%s, %s): status %s, error %q; want %s with %q", i, r.ServerArgs, r.ClientArgs, r.Status, r.Error, want[i].status, want[i].errText)
		}
	}
	// The log tail travels with the failure.
	if !strings.Contains(got[0].Error, "no GPU found") || !strings.Contains(got[2].Error, "segmentation fault") {
		t.Errorf("errors lack the server log's last lines: %q, %q", got[0].Error, got[2].Error)
	}
	for _, r := range got[4:6] {
		if r.Measured == nil || r.Measured.Completed != 4 || r.Measured.TotalOutputTokens != 4*5 {
			t.Errorf("ok run %s: measured %+v, want 4 requests of 5 tokens", r.ClientArgs, r.Measured)
		}
		if r.Command == "" || !strings.Contains(r.Command, "ok") || r.ServerLog == "" {
			t.Errorf("ok run: command %q, log %q", r.Command, r.ServerLog)
		}
	}
	if got[2].Measured == nil || got[2].Measured.Failed == 0 {
		t.Errorf("die run: measured %+v, want the requests up to the crash, some failed", got[2].Measured)
	}
	checkNoSurvivor(t, pidDir, 4)
}

// TestInterruptAndContinue cancels a sweep of two servers during the first benchmark
// (as Ctrl-C does), checks that the run is recorded as interrupted, that the second
// server never started and that no process survives, then continues it: the
// interrupted run and the missing ones run, nothing else.
func TestInterruptAndContinue(t *testing.T) {
	dir, pidDir := t.TempDir(), t.TempDir()
	o := faultOptions(t, dir, pidDir, "ok", "ok2")
	o.ServerArgs = []Params{{{"mode", "ok"}, {"label", "a"}}, {{"mode", "ok"}, {"label", "b"}}}
	o.Launcher.Template += " {label}"
	// 4 requests of 40 tokens one at a time: 3.2 s of streaming at tokenDelay, so
	// cancelling as the first token of the first request arrives is well inside the run.
	o.Bench.OutputLen = 40
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	o.Log = writerFunc(func(p []byte) {
		if bytes.Contains(p, []byte("ready after")) {
			once.Do(func() {
				go func() {
					// Cancel once the first record file has begun (a request is in flight).
					for i := 0; i < 500; i++ {
						if _, err := os.Stat(filepath.Join(dir, "records", "001-001.jsonl")); err == nil {
							break
						}
						time.Sleep(10 * time.Millisecond)
					}
					time.Sleep(100 * time.Millisecond)
					cancel()
				}()
			})
		}
	})
	_, err := Run(ctx, o)
	if err != context.Canceled {
		t.Fatalf("Run: %v, want context.Canceled", err)
	}
	got := readResults(t, dir)
	if len(got) != 1 || got[0].Status != StatusInterrupted {
		t.Fatalf("results after the interrupt: %+v; want one, interrupted", got)
	}
	checkNoSurvivor(t, pidDir, 1)

	// Continue with shorter runs: the interrupted run and the three never run.
	o.Continue, o.Log, o.Bench.OutputLen = true, io.Discard, 3
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	got = readResults(t, dir)
	var keys []string
	for _, r := range got {
		if r.Status != StatusOK {
			t.Errorf("%s %s: %s %s", r.ServerArgs, r.ClientArgs, r.Status, r.Error)
		}
		keys = append(keys, r.Key())
	}
	if len(got) != 4 {
		t.Errorf("%d results after --continue, want 4: %v", len(got), keys)
	}
	checkNoSurvivor(t, pidDir, 3)

	// A third pass has nothing to do: it starts no server.
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if n := len(readResults(t, dir)); n != 4 {
		t.Errorf("%d results after a complete --continue, want 4", n)
	}
	checkNoSurvivor(t, pidDir, 3)

	// Without --continue the results are not overwritten.
	o.Continue = false
	if _, err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "--continue") {
		t.Errorf("rerun without --continue: %v, want a refusal naming --continue", err)
	}
}

type writerFunc func([]byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }

func TestGPUsAvailable(t *testing.T) {
	grid, _ := ParseGrid("tp_size=[1,2,4]")
	plan, err := Plan(Options{Launcher: Launcher{Framework: "vllm", Model: "m"}, ServerArgs: grid, GPUsAvailable: 2})
	if err != nil {
		t.Fatal(err)
	}
	var skips []string
	for _, c := range plan {
		skips = append(skips, c.Skip)
	}
	if skips[0] != "" || skips[1] != "" || !strings.Contains(skips[2], "needs 4 GPU(s), 2 available") {
		t.Errorf("skips %q: want only tp 4 refused", skips)
	}
}
