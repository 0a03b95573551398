//go:build unix

package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"roofline/sweeprun"
)

func readSweepResults(t *testing.T, dir string) []sweeprun.Result {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, sweeprun.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := sweeprun.ReadResults(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestSweepRunServeSim sweeps serve-sim (this test binary acting as roofline) through
// --server-cmd over two deployments of a 70B model, 4 and 8 H100s, and checks that the
// measured key metrics (mean TTFT, TPOT, E2E, output tok/s) are within 5% of the
// prediction for both: serve-sim streams the timing the estimator's step model gives,
// so this checks the loop's plumbing (ports, readiness, client arguments, the
// deployment rebuilt from the server arguments), not the model's accuracy. The long
// prompts keep steps (15–40 ms) long against timer jitter, as in TestValidateAgainstServeSim.
func TestSweepRunServeSim(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time runs of ~5 s")
	}
	var last string
	for try := 0; try < 3; try++ { // a loaded CI machine can delay one run's timers
		dir := t.TempDir()
		tmpl := shellQuoteTest(os.Args[0]) + " serve-sim --model meta-llama/Llama-3.1-70B-Instruct --gpu H100 --num-gpus {num_gpus} --max-model-len 4096 --served-model-name sim --port {port}"
		stdout, stderr, code := runCLI(t, "sweep", "--run", "--server-cmd", tmpl, "--server-args", "num_gpus=[4,8]",
			"--server-env", runMainEnv+"=1", "--client-args", "request_rate=6;num_requests=24",
			"--model", "meta-llama/Llama-3.1-70B-Instruct", "--gpus", "H100", "--max-model-len", "4096",
			"--served-model-name", "sim", "--input-len", "2048", "--output-len", "32", "--output-dir", dir, "--grace", "2s")
		if code != 0 {
			t.Fatalf("sweep --run exited %d\nstderr: %s\nstdout: %s", code, stderr, stdout)
		}
		rs := readSweepResults(t, dir)
		if len(rs) != 2 {
			t.Fatalf("%d results, want 2:\n%s", len(rs), stdout)
		}
		var bad []string
		for _, r := range rs {
			if r.Status != sweeprun.StatusOK || r.Predicted == nil || r.Measured == nil {
				t.Fatalf("%s: status %s, predicted %v (%s), error %s", r.ServerArgs, r.Status, r.Predicted != nil, r.PredictedReason, r.Error)
			}
			if r.Measured.Completed != 24 || r.Measured.TotalOutputTokens != 24*32 {
				t.Errorf("%s: %d completed, %d output tokens; want 24 and %d", r.ServerArgs, r.Measured.Completed, r.Measured.TotalOutputTokens, 24*32)
			}
			for _, m := range []string{"ttft_ms_mean", "tpot_ms_mean", "e2e_ms_mean", "output_tok_s"} {
				e, ok := r.ErrorPct[m]
				if !ok || math.Abs(e) > 5 {
					bad = append(bad, fmt.Sprintf("%s %s %+.1f%% (present %v)", r.ServerArgs, m, e, ok))
				}
			}
			t.Logf("try %d %s: error %% %v", try+1, r.ServerArgs, r.ErrorPct)
		}
		if len(bad) == 0 {
			if !strings.Contains(stdout, "num_gpus=4") || !strings.Contains(stdout, "num_gpus=8") {
				t.Errorf("table lacks the configurations:\n%s", stdout)
			}
			return
		}
		last = strings.Join(bad, "; ")
	}
	t.Fatalf("measured not within 5%% of predicted in 3 tries: %s", last)
}

func shellQuoteTest(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func TestSweepDryRunVLLM(t *testing.T) {
	stdout, stderr, code := runCLI(t, "sweep", "--dry-run", "--framework", "vllm", "--model", "meta-llama/Llama-3.1-8B-Instruct",
		"--server-args", "tp_size*dp_size=[(1,2),(2,1)];max_num_seqs=[64,256]", "--client-args", "concurrency=[8,32];num_requests=200",
		"--input-len", "1024", "--output-len", "256", "--gpus-available", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	golden(t, "sweep_dry_run_vllm.txt", stdout)
	// Hand count: 2 tied (tp, dp) pairs × 2 max_num_seqs = 4 servers, × 2 concurrencies = 8 runs.
	if !strings.Contains(stdout, "4 server configurations × 2 client configurations = 8 runs") {
		t.Errorf("run count missing:\n%s", stdout)
	}
}

func TestSweepRunBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--run", "--input-len", "8", "--output-len", "8"}, "--framework (vllm, sglang, trtllm, ollama) or --server-cmd"},
		{[]string{"--run", "--framework", "tgi", "--model", "m", "--input-len", "8", "--output-len", "8"}, `--framework "tgi": allowed values are vllm, sglang, trtllm, ollama`},
		{[]string{"--dry-run", "--framework", "vllm", "--model", "m", "--server-args", "tp=[1,2", "--input-len", "8", "--output-len", "8"}, "--server-args:"},
		{[]string{"--dry-run", "--framework", "vllm", "--model", "m", "--client-args", "speed=3", "--input-len", "8", "--output-len", "8"}, "client argument speed: allowed names"},
		{[]string{"--dry-run", "--framework", "ollama", "--served-model-name", "x", "--server-args", "tp_size=2", "--input-len", "8", "--output-len", "8"}, "ollama serve has no setting"},
		{[]string{"--dry-run", "--server-cmd", "srv {port}", "--server-args", "tp=[1,2]", "--served-model-name", "x", "--input-len", "8", "--output-len", "8"}, "no {tp} placeholder"},
		{[]string{"--run", "--dry-run", "--framework", "vllm", "--model", "m"}, "--run and --dry-run"},
		{[]string{"--dry-run", "--framework", "vllm", "--model", "m", "--output-len", "8"}, "--input-len and --output-len"},
	} {
		_, stderr, code := runCLI(t, append([]string{"sweep"}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("sweep %s: exit %d, stderr %q; want exit 2 and one line containing %q", strings.Join(c.args, " "), code, stderr, c.want)
		}
	}
}
