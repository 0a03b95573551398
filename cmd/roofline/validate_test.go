package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startServeSim runs serve-sim in-process on a free loopback port and returns its /v1 URL.
func startServeSim(t *testing.T, args ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var df deployFlags
	fs := newFlags(&env{stderr: os.Stderr}, "serve-sim", "")
	df.register(fs, true)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	e := &env{stdout: os.Stdout, stderr: os.Stderr, getenv: func(string) string { return "" }}
	d, _, err := df.build(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveSim(ctx, d, "sim", ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("serve-sim did not stop")
		}
	})
	return "http://" + ln.Addr().String() + "/v1"
}

// TestValidateAgainstServeSim is the plumbing check: the live client against a server that
// answers with the simulated timing of the same deployment agrees within 5% on the key metrics.
// A 70B model on 4 GPUs keeps steps (~15 ms) long against timer and HTTP jitter.
func TestValidateAgainstServeSim(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time run of ~8 s")
	}
	dep := []string{"--model", "meta-llama/Llama-3.1-70B-Instruct", "--gpu", "H100", "--num-gpus", "4", "--max-model-len", "4096"}
	url := startServeSim(t, dep...)
	rec := filepath.Join(t.TempDir(), "run.jsonl")
	args := []string{"validate", "--url", url, "--model", "sim", "--model-id", "meta-llama/Llama-3.1-70B-Instruct",
		"--gpu", "H100", "--num-gpus", "4", "--max-model-len", "4096", "--request-rate", "6", "--num-requests", "40",
		"--input-len", "512", "--output-len", "48", "--max-error", "5", "--record", rec, "--output", "json"}
	var stdout, stderr string
	var code int
	for try := 0; try < 3; try++ { // a loaded CI machine can delay one run's timers
		stdout, stderr, code = runCLI(t, args...)
		if code == 0 {
			break
		}
	}
	if code != 0 {
		t.Fatalf("validate exited %d: %s\n%s", code, stderr, stdout)
	}
	var r comparisonReport
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
	var r comparisonReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Metrics) == 0 || r.Metrics[0].Metric != "ttft_ms_mean" || r.Metrics[0].Measured == nil || r.Metrics[0].Predicted == nil {
		t.Errorf("metrics: %+v", r.Metrics)
	}
}
