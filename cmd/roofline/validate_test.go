package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"roofline/validation"
)

// runMainEnv makes the test binary act as the roofline command (see TestMain): the
// live tests start serve-sim in a child process, so that its real-time engine and the
// benchmark client do not share one Go runtime (scheduler and garbage collector), as
// they would not against a real server.
const runMainEnv = "ROOFLINE_TEST_RUN_MAIN"

// childModes are the other roles a test may start this test binary in: the
// environment variable that selects the role, and the function that plays it (it
// must exit).
var childModes = map[string]func(){}

func TestMain(m *testing.M) {
	for env, f := range childModes {
		if os.Getenv(env) == "1" {
			f()
		}
	}
	if os.Getenv(runMainEnv) == "1" {
		// The parent holds our stdin open: when it ends, even killed by a test timeout, so do we.
		go func() { io.Copy(io.Discard, os.Stdin); os.Exit(0) }()
		main()
	}
	os.Exit(m.Run())
}

// startServeSim runs "roofline serve-sim ARGS --port 0" in a child process, returns its
// /v1 URL and stops it (Ctrl-C, then kill) when the test ends; if the test process is
// killed first, the child sees its stdin close and exits.
func startServeSim(t *testing.T, args ...string) string {
	t.Helper()
	url, _ := startServeSimBanner(t, args...)
	return url
}

// startServeSimBanner is startServeSim that also returns the banner line.
func startServeSimBanner(t *testing.T, args ...string) (string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve-sim", "--port", "0"}, args...)...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe() // never written: the child exits when it closes
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	t.Cleanup(func() {
		if cmd.Process.Signal(os.Interrupt) != nil {
			stdin.Close()
		}
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			t.Error("serve-sim did not stop on interrupt")
			cmd.Process.Kill()
			<-exited
		}
		stdin.Close()
	})
	// The banner names the address: "serve-sim: … at http://127.0.0.1:PORT/v1 — …".
	line, err := bufio.NewReader(stderr).ReadString('\n')
	go func() { io.Copy(io.Discard, stderr); cmd.Wait(); close(exited) }()
	_, rest, ok := strings.Cut(line, " at http://")
	addr, _, ok2 := strings.Cut(rest, "/v1")
	if err != nil || !ok || !ok2 {
		t.Fatalf("serve-sim did not start: %q, %v", line, err)
	}
	return "http://" + addr + "/v1", line
}

// TestServeSimBannerEager: serve-sim's banner says which profile and release it simulates
// and that CUDA graphs are off under --enforce-eager (it named the profile only, so a server
// simulating eager steps looked like one with graphs).
func TestServeSimBannerEager(t *testing.T) {
	_, banner := startServeSimBanner(t, "--model", llama8b, "--gpu", "H100", "--engine", "tgi", "--enforce-eager")
	if !strings.Contains(banner, "engine profile tgi (embedded); CUDA graphs off (--enforce-eager)") {
		t.Errorf("banner %q: want the profile and CUDA graphs off (--enforce-eager)", banner)
	}
}

// TestValidateAgainstServeSim is the plumbing check: the live client against a server that
// answers with the simulated timing of the same deployment agrees within 5% on the key metrics.
// A 70B model on 4 GPUs and 2048-token prompts keep steps (15–40 ms) and TTFT (~260 ms)
// long against timer and HTTP jitter: a request that reaches the server a fraction of a
// millisecond after its scheduled time can miss a step boundary and wait one more step,
// which against a 50 ms TTFT (512-token prompts) made the TTFT mean 5–7% longer than
// the replayed simulation, against 2% here.
func TestValidateAgainstServeSim(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time run of ~8 s")
	}
	dep := []string{"--model", "meta-llama/Llama-3.1-70B-Instruct", "--gpu", "H100", "--num-gpus", "4", "--max-model-len", "4096"}
	url := startServeSim(t, dep...)
	rec := filepath.Join(t.TempDir(), "run.jsonl")
	args := []string{"validate", "--url", url, "--model", "sim", "--model-id", "meta-llama/Llama-3.1-70B-Instruct",
		"--gpu", "H100", "--num-gpus", "4", "--max-model-len", "4096", "--request-rate", "6", "--num-requests", "40",
		"--input-len", "2048", "--output-len", "48", "--max-error", "5", "--record", rec, "--output", "json"}
	var stdout, stderr string
	var code int
	for try := 0; try < 3; try++ { // a loaded CI machine can delay one run's timers
		stdout, stderr, code = runCLI(t, args...)
		var r validation.ComparisonReport
		if json.Unmarshal([]byte(stdout), &r) == nil {
			var errs []string
			for _, m := range r.Metrics {
				if m.Key {
					errs = append(errs, fmt.Sprintf("%s %.4g/%.4g ms (%+.1f%%)", m.Metric, val(m.Predicted), val(m.Measured), val(m.ErrPct)))
				}
			}
			t.Logf("try %d, predicted/measured: %s; %s", try+1, strings.Join(errs, ", "), r.Verdict)
		}
		if code == 0 {
			break
		}
	}
	if code != 0 {
		t.Fatalf("validate exited %d: %s\n%s", code, stderr, stdout)
	}
	var r validation.ComparisonReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if r.Measured.Completed != 40 || r.Measured.Failed != 0 {
		t.Errorf("completed %d failed %d, want 40 and 0", r.Measured.Completed, r.Measured.Failed)
	}
	if r.Measured.TotalOutputTokens != 40*48 {
		t.Errorf("output tokens %d, want %d (serve-sim reports usage exactly)", r.Measured.TotalOutputTokens, 40*48)
	}
	b, err := os.ReadFile(rec)
	if err != nil || strings.Count(string(b), "\n") != 40 {
		t.Errorf("record file: %d lines, err %v; want 40", strings.Count(string(b), "\n"), err)
	}
}

func TestValidateBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"validate", "--model-id", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100", "--input-len", "8", "--output-len", "8", "--concurrency", "1"},
		{"validate", "--url", "http://127.0.0.1:1/v1", "--model", "x", "--model-id", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100", "--input-len", "8", "--output-len", "8", "--batch-size", "4"},
		{"compare", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100", "--input-len", "8", "--output-len", "8", "--concurrency", "1"},
		{"serve-sim", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100", "--port", "70000"},
		// The run went ahead and the unwritable profile was only a warning at the end.
		{"validate", "--url", "http://127.0.0.1:1/v1", "--model", "x", "--model-id", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100", "--input-len", "8", "--output-len", "8", "--concurrency", "1",
			"--calibrate-out", filepath.Join(t.TempDir(), "missing", "p.toml")},
	} {
		_, stderr, code := runCLI(t, args...)
		if code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line", args, code, stderr)
		}
	}
}

// TestCompareRecords: compare reads a bench record file and lines it up with a prediction.
func TestCompareRecords(t *testing.T) {
	stdout, stderr, code := runCLI(t, "compare", "--result", "testdata/bench_records.jsonl", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100",
		"--max-model-len", "4096", "--input-len", "16", "--output-len", "8", "--concurrency", "2", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r validation.ComparisonReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Metrics) == 0 || r.Metrics[0].Metric != "ttft_ms_mean" || r.Metrics[0].Measured == nil || r.Metrics[0].Predicted == nil {
		t.Errorf("metrics: %+v", r.Metrics)
	}
}
