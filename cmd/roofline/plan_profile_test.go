package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"roofline/estimator"
)

// TestPlanProfileAndEngine: plan takes --profile FILE as estimate does (it said "unknown
// flag: --profile" though the README has --profile accepted wherever --engine is), and
// says which engine profile it planned with, in the table and in JSON (engine,
// engine_release, engine_source: neither named it); the launch command is the planned
// engine's. The file is the embedded vllm profile with step_overhead_ms raised from 1 to 50
// ms, so every decode step lasts more than 50 ms and the fleet's ITL p99 must be above it
// (with the embedded profile a Llama-3.1-8B decode step on an H100 is ~7-8 ms: so the file
// was read, not ignored).
func TestPlanProfileAndEngine(t *testing.T) {
	file := slowHostProfile(t)
	base := []string{"plan", "--model", llama8b, "--gpus", "H100", "--target-rate", "2", "--input-len", "512", "--output-len", "64"}
	stdout, stderr, code := runCLI(t, append(base, "--profile", file, "-o", "json")...)
	if code != 0 {
		t.Fatalf("--profile: exit %d: %s", code, stderr)
	}
	var doc struct {
		Engine        string `json:"engine"`
		EngineRelease string `json:"engine_release"`
		EngineSource  string `json:"engine_source"`
		Cheapest      struct {
			ITL struct {
				P99 float64 `json:"p99"`
			} `json:"itl_ms"`
		} `json:"cheapest"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Engine != "vllm-slow-host" || !strings.HasPrefix(doc.EngineRelease, "vllm") || !strings.Contains(doc.EngineSource, "profile file "+file) || doc.Cheapest.ITL.P99 <= 50 {
		t.Errorf("--profile: engine %q, engine_source %q, ITL p99 %g ms; want vllm-slow-host from %s and ITL p99 > 50 ms", doc.Engine, doc.EngineSource, doc.Cheapest.ITL.P99, file)
	}
	// The HTML page of that plan names the profile too.
	dir := t.TempDir()
	in, page := filepath.Join(dir, "plan.json"), filepath.Join(dir, "plan.html")
	if err := os.WriteFile(in, []byte(stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runCLI(t, "report", "--in", in, "--html", page); code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	if b, err := os.ReadFile(page); err != nil || !strings.Contains(string(b), "engine profile") || !strings.Contains(string(b), "vllm-slow-host") {
		t.Errorf("plan page: %v; want the engine profile vllm-slow-host named", err)
	}
	for _, c := range []struct{ engine, profileLine, launch string }{
		{"vllm", "engine profile: vllm >=0.9", "launch (vLLM; dp = replicas): vllm serve "},
		{"sglang", "engine profile: sglang >=0.5", "launch (SGLang; dp = replicas): python -m sglang.launch_server "},
		{"vllm@0.7.3", "engine profile: vllm@0.7.3 (profile vllm-v0", "launch (vLLM; dp = replicas): vllm serve "},
	} {
		stdout, stderr, code := runCLI(t, append(base, "--engine", c.engine)...)
		if code != 0 || !strings.Contains(stdout, c.profileLine) || !strings.Contains(stdout, c.launch) {
			t.Errorf("--engine %s: exit %d %s; want %q and %q in:\n%s", c.engine, code, stderr, c.profileLine, c.launch, stdout)
		}
	}
}

// TestSweepProfile: sweep takes --profile FILE in place of its --engine list (it was
// "unknown flag: --profile"), for the ranked sweep and for --dry-run's predictions; the
// file is the embedded vllm profile with step_overhead_ms 50 (see TestPlanProfileAndEngine),
// so every configuration's ITL p99 is above 50 ms. --profile with --engine, or a profile of
// another engine than --framework launches, is refused (exit 2, one line naming both).
func TestSweepProfile(t *testing.T) {
	file := slowHostProfile(t)
	base := []string{"sweep", "--model", llama8b, "--gpus", "H100", "--num-gpus", "1", "--concurrency", "8", "--input-len", "512", "--output-len", "64", "--top", "1"}
	stdout, stderr, code := runCLI(t, append(base, "--profile", file, "-o", "json")...)
	if code != 0 {
		t.Fatalf("--profile: exit %d: %s", code, stderr)
	}
	var doc struct {
		Configs []struct {
			Engine string `json:"engine"`
			ITL    struct {
				P99 float64 `json:"p99"`
			} `json:"itl_ms"`
		} `json:"configs"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Configs) != 1 || doc.Configs[0].Engine != "vllm-slow-host" || doc.Configs[0].ITL.P99 <= 50 {
		t.Errorf("--profile: %+v; want one configuration of vllm-slow-host with ITL p99 > 50 ms", doc.Configs)
	}
	stdout, stderr, code = runCLI(t, append(base, "--profile", file, "--dry-run", "--framework", "vllm", "--gpus-available", "1")...)
	if code != 0 || !strings.Contains(stdout, "profile vllm-slow-host") {
		t.Errorf("--dry-run --framework vllm --profile: exit %d %s; want predictions of profile vllm-slow-host:\n%s", code, stderr, stdout)
	}
	for _, c := range []struct {
		extra []string
		want  string
	}{
		{[]string{"--engine", "sglang"}, "give --engine (a list of embedded profiles) or --profile FILE (one profile), not both"},
		{[]string{"--dry-run", "--framework", "sglang", "--gpus-available", "1"}, "a profile of engine vllm; --framework sglang launches sglang servers"},
	} {
		_, stderr, code := runCLI(t, append(append(base, "--profile", file), c.extra...)...)
		if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("--profile %v: exit %d, %q; want exit 2 and one line containing %q", c.extra, code, stderr, c.want)
		}
	}
}

// TestSweepScriptEngineFamily: --emit-script launches each configuration with the command of
// the engine its profile describes (Profile.Family), not of the profile's name: an sglang-0.4
// configuration got `vllm serve` (only "sglang" was matched), vllm-v0 lost vLLM's
// --gpu-memory-utilization (only "vllm" was), a tgi one got `vllm serve` unannounced, and every
// configuration carried the TensorRT-LLM note under its vLLM command. Checked by reading the
// script: the launcher of each rank (python -m sglang.launch_server, vllm serve), vLLM's memory
// knob for vllm-v0, the sentence saying TGI has no command here, and no trtllm note with
// --enforce-eager's vLLM/SGLang commands.
func TestSweepScriptEngineFamily(t *testing.T) {
	script := filepath.Join(t.TempDir(), "run.sh")
	_, stderr, code := runCLI(t, "sweep", "--model", llama8b, "--gpus", "H100", "--num-gpus", "1", "--engine", "sglang@0.4.3,tgi,vllm@0.7.3",
		"--input-len", "512", "--output-len", "128", "--concurrency", "8", "--top", "0", "--enforce-eager=false", "--emit-script", script)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	ranks := strings.Split(string(b), "# rank ")[1:]
	seen := map[string]bool{}
	for _, r := range ranks {
		head, _, _ := strings.Cut(r, "\n")
		var want []string
		switch {
		case strings.Contains(head, ", sglang-0.4,"):
			want = []string{"\npython -m sglang.launch_server "}
		case strings.Contains(head, ", tgi,"):
			want = []string{"# no launch command for engine tgi (profile tgi)", "\nvllm serve "}
		case strings.Contains(head, ", vllm-v0,"):
			want = []string{"\nvllm serve ", "--gpu-memory-utilization 0.9"}
		default:
			t.Fatalf("unexpected rank %q", head)
		}
		seen[strings.Split(head, ", ")[1]] = true
		for _, w := range want {
			if !strings.Contains(r, w) {
				t.Errorf("rank %q: want %q in\n%s", head, w, r)
			}
		}
		if strings.Contains(r, "# note: trtllm:") {
			t.Errorf("rank %q: a TensorRT-LLM note under another engine's command:\n%s", head, r)
		}
	}
	if len(seen) != 3 {
		t.Errorf("ranks of %v; want sglang-0.4, tgi and vllm-v0", seen)
	}
	// With CUDA graphs off LaunchFor adds a TensorRT-LLM note (trtllm-serve has no flag for
	// it): it belongs to TensorRT-LLM configurations only.
	_, stderr, code = runCLI(t, "sweep", "--model", llama8b, "--gpus", "H100", "--num-gpus", "1", "--engine", "tgi,vllm@0.7.3",
		"--input-len", "512", "--output-len", "128", "--concurrency", "8", "--top", "0", "--enforce-eager", "--emit-script", script)
	if b, err = os.ReadFile(script); code != 0 || err != nil {
		t.Fatalf("--enforce-eager: exit %d %s %v", code, stderr, err)
	}
	if n := strings.Count(string(b), "\nvllm serve "); n != 2 || strings.Count(string(b), "--enforce-eager") != 2 || strings.Contains(string(b), "# note: trtllm:") {
		t.Errorf("--enforce-eager: want two vllm serve … --enforce-eager commands and no trtllm note:\n%s", b)
	}
}

// slowHostProfile writes the embedded vllm profile with step_overhead_ms 50 (engine =
// "vllm", as calibrate writes it) to a temporary file and returns its path.
func slowHostProfile(t *testing.T) string {
	t.Helper()
	p, _, err := estimator.Engine("vllm")
	if err != nil {
		t.Fatal(err)
	}
	p.Name, p.EngineFamily, p.StepOverheadMs = "vllm-slow-host", "vllm", 50
	var b bytes.Buffer
	if err := p.WriteTOML(&b); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "slow.toml")
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}
