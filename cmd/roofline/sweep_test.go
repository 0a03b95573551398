package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sweepArgs is a small sweep: Llama-3.1-8B on H100 and L40S, 1–2 GPUs, two dtypes, two
// max-num-seqs values, concurrency 1–64, two SLOs.
var sweepArgs = []string{"sweep", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpus", "H100,L40S", "--num-gpus", "1,2",
	"--weight-dtype", "bf16,fp8", "--max-num-seqs", "32,128", "--max-model-len", "8192", "--input-len", "1000", "--output-len", "200",
	"--concurrency", "1-64", "--constraint", "ttft:p95<300ms", "--constraint", "itl:p99<25ms", "--top", "5"}

func TestSweepGolden(t *testing.T) {
	for _, out := range []string{"table", "json"} {
		stdout, stderr, code := runCLI(t, append(append([]string{}, sweepArgs...), "--output", out)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		golden(t, "sweep_"+out+".golden", stdout)
	}
}

// TestSweepJSON checks the document: the count is the whole product (2 GPUs × 4 splits of
// 1–2 GPUs (1·1·1; 1·1·2, 1·2·1, 2·1·1) × 2 dtypes × 2 knobs × 12 concurrencies (1, 2, 3, 4,
// 6, 8, 12, 16, 24, 32, 48, 64) = 2·4·2·2·12 = 384), every config meets the SLOs and has
// launch commands, and the emitted script serves and benchmarks each of them.
func TestSweepJSON(t *testing.T) {
	script := filepath.Join(t.TempDir(), "runs.sh")
	stdout, stderr, code := runCLI(t, append(append([]string{}, sweepArgs...), "--output", "json", "--emit-script", script)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc struct {
		Evaluated int64 `json:"evaluated"`
		Configs   []struct {
			TTFT   struct{ P95 float64 } `json:"ttft_ms"`
			ITL    struct{ P99 float64 } `json:"itl_ms"`
			Pareto bool                  `json:"pareto"`
			Launch struct {
				VLLM, SGLang, TRTLLM, Bench string
			} `json:"launch"`
		} `json:"configs"`
		Fronts []struct {
			Name string
			Size int
		} `json:"pareto_fronts"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Evaluated != 384 {
		t.Errorf("evaluated %d, want 384 (hand count above)", doc.Evaluated)
	}
	if len(doc.Configs) == 0 || len(doc.Configs) > 5 {
		t.Fatalf("%d configs, want 1–5 (--top 5)", len(doc.Configs))
	}
	for _, c := range doc.Configs {
		if c.TTFT.P95 >= 300 || c.ITL.P99 >= 25 {
			t.Errorf("config breaks the SLOs: TTFT p95 %g ms, ITL p99 %g ms", c.TTFT.P95, c.ITL.P99)
		}
		if !strings.HasPrefix(c.Launch.VLLM, "vllm serve meta-llama/Llama-3.1-8B-Instruct ") || !strings.HasPrefix(c.Launch.Bench, "roofline bench ") {
			t.Errorf("launch commands: %+v", c.Launch)
		}
	}
	for _, f := range doc.Fronts {
		if f.Size == 0 && f.Name == "throughput_vs_interactivity" {
			t.Error("empty throughput front")
		}
	}
	b, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n\troofline bench "); n != len(doc.Configs) {
		t.Errorf("script has %d bench runs, want %d", n, len(doc.Configs))
	}
}

func TestSweepErrors(t *testing.T) {
	base := []string{"sweep", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpus", "H100", "--input-len", "100", "--output-len", "10"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--concurrency", "1-8", "--constraint", "ttft<5ms"}, "needs a statistic"},
		{[]string{"--concurrency", "1-8", "--constraint", "speed:p95<5ms"}, `metric "speed"`},
		{[]string{"--concurrency", "1-8", "--objective", "fast"}, `--objective "fast": allowed values are cost`},
		{[]string{"--concurrency", "8-1"}, "--concurrency: range"},
		{[]string{"--concurrency", "1-8", "--request-rate", "1"}, "give one of --concurrency"},
		{[]string{}, "give one of --concurrency"},
		{[]string{"--concurrency", "4", "--weight-dtype", "fp9"}, "--weight-dtype/--kv-dtype \"fp9\""},
		{[]string{"--concurrency", "4", "--engine", "nope"}, `--engine "nope"`},
		{[]string{"--concurrency", "4", "--num-gpus", "0"}, "--num-gpus 0"},
		{[]string{"--concurrency", "4", "--output", "xml"}, `--output "xml"`},
		{[]string{"--concurrency", "4", "--max-model-len", "50"}, "exceed max_model_len 50"},
	} {
		_, stderr, code := runCLI(t, append(append([]string{}, base...), tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line containing %q", tc.args, code, stderr, tc.want)
		}
	}
	_, stderr, code := runCLI(t, "sweep", "--gpus", "H100")
	if code != 2 || !strings.Contains(stderr, "--model is required") {
		t.Errorf("no model: exit %d, %q", code, stderr)
	}
}

func TestPlanGolden(t *testing.T) {
	args := []string{"plan", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpus", "H100,L40S,A10", "--target-rate", "20",
		"--input-len", "1000", "--output-len", "200", "--max-model-len", "8192", "--constraint", "ttft:p95<500ms", "--constraint", "itl:p99<30ms"}
	for _, out := range []string{"table", "json"} {
		stdout, stderr, code := runCLI(t, append(append([]string{}, args...), "--output", out)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		golden(t, "plan_"+out+".golden", stdout)
	}
	_, stderr, code := runCLI(t, "plan", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--input-len", "10", "--output-len", "10")
	if code != 2 || !strings.Contains(stderr, "--target-rate") {
		t.Errorf("no target: exit %d, %q", code, stderr)
	}
}

func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "sweep.json")
	stdout, stderr, code := runCLI(t, append(append([]string{}, sweepArgs...), "--output", "json")...)
	if code != 0 {
		t.Fatal(stderr)
	}
	if err := os.WriteFile(in, []byte(stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "r.html")
	stdout, stderr, code = runCLI(t, "report", "--in", in, "--html", out)
	if code != 0 || !strings.Contains(stdout, "sweep report") {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil || strings.Count(string(b), "<svg") < 2 {
		t.Errorf("report page: %v, %d plots", err, strings.Count(string(b), "<svg"))
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"x": 1}`), 0o644)
	_, stderr, code = runCLI(t, "report", "--in", bad, "--html", out)
	if code != 2 || !strings.Contains(stderr, "unrecognised JSON") {
		t.Errorf("bad input: exit %d, %q", code, stderr)
	}
	_, stderr, code = runCLI(t, "report", "--in", in)
	if code != 2 || !strings.Contains(stderr, "--html") {
		t.Errorf("no --html: exit %d, %q", code, stderr)
	}
}

// TestCostSameEverywhere: estimate and sweep report the same three cost figures for the
// same configuration (one definition, estimator.Cost), and the split pair adds back up
// to the fleet's price per hour: in·input tok/s + out·output tok/s = USD/hour. A closed loop
// of fixed lengths lies outside the closed form's region of validity, so estimate simulates
// it; sweep --simulate runs the same simulation (same seed and number of requests).
func TestCostSameEverywhere(t *testing.T) {
	dep := []string{"--model", "meta-llama/Llama-3.1-8B-Instruct", "--input-len", "1024", "--output-len", "256", "--concurrency", "16", "--num-requests", "200", "--output", "json"}
	est, stderr, code := runCLI(t, append([]string{"estimate", "--gpu", "H100 SXM"}, dep...)...)
	if code != 0 {
		t.Fatalf("estimate: exit %d: %s", code, stderr)
	}
	sw, stderr, code := runCLI(t, append([]string{"sweep", "--gpus", "H100 SXM", "--num-gpus", "1", "--objective", "cost", "--simulate"}, dep...)...)
	if code != 0 {
		t.Fatalf("sweep: exit %d: %s", code, stderr)
	}
	type costs struct {
		PerHour  *float64 `json:"cost_usd_per_hour"`
		Out      *float64 `json:"cost_usd_per_1m_output_tokens"`
		In       *float64 `json:"cost_usd_per_1m_input_tokens"`
		OutSplit *float64 `json:"cost_usd_per_1m_output_tokens_split"`
		OutTokS  float64  `json:"output_tok_s"`
		TotTokS  float64  `json:"total_tok_s"`
	}
	var e costs
	var s struct{ Configs []costs }
	if err := json.Unmarshal([]byte(est), &e); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(sw), &s); err != nil || len(s.Configs) == 0 {
		t.Fatalf("sweep JSON: %v, %d configs", err, len(s.Configs))
	}
	c := s.Configs[0]
	for _, f := range []struct {
		name string
		a, b *float64
	}{{"per hour", e.PerHour, c.PerHour}, {"per 1M output", e.Out, c.Out}, {"per 1M input", e.In, c.In}, {"per 1M output split", e.OutSplit, c.OutSplit}} {
		if f.a == nil || f.b == nil || math.Abs(*f.a-*f.b) > 1e-9**f.a {
			t.Errorf("%s: estimate %v, sweep %v; want the same", f.name, val(f.a), val(f.b))
		}
	}
	if e.In != nil && e.OutSplit != nil && e.PerHour != nil {
		if h := (*e.In*(e.TotTokS-e.OutTokS) + *e.OutSplit*e.OutTokS) * 3600 / 1e6; math.Abs(h-*e.PerHour) > 1e-9**e.PerHour {
			t.Errorf("split costs add up to $%v/hour, want $%v", h, *e.PerHour)
		}
	}
}

// TestSweepOverloadedPerUser: an open-loop point above the sustainable rate (1e9 req/s on
// one H100) has no per-user speed (E2E and TTFT are unbounded); the table printed 0.
func TestSweepOverloadedPerUser(t *testing.T) {
	stdout, stderr, code := runCLI(t, "sweep", "--model", llama8b, "--gpus", "H100", "--num-gpus", "1", "--input-len", "100", "--output-len", "10",
		"--request-rate", "1e9", "--max-num-seqs", "256", "--max-num-batched-tokens", "2048", "--top", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, l := range strings.Split(stdout, "\n") {
		if f := strings.Fields(l); len(f) > 10 && f[0] == "1" {
			// rank GPU GPUs split engine dtypes seqs tokens load(2 fields) tok/s/GPU tok/s/user
			if f[11] != "-" || f[12] != "unbounded" {
				t.Errorf("rank 1: tok/s/user %q, TTFT p95 %q; want - and unbounded\n%s", f[11], f[12], l)
			}
			return
		}
	}
	t.Errorf("no rank 1 row:\n%s", stdout)
}
