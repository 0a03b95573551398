package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"roofline/estimator"
)

// stepMAPE is the mean absolute percentage error of a profile over samples.
func stepMAPE(t *testing.T, samples []estimator.StepSample, p *estimator.Profile) float64 {
	t.Helper()
	s := 0.0
	for _, x := range samples {
		x.Spec.Profile = p
		d, err := estimator.New(x.Spec)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := estimator.StepBatch(x.Phase, x.Batch, x.Tokens)
		s += math.Abs(d.StepSeconds(&b)/x.Measured - 1)
	}
	return 100 * s / float64(len(samples))
}

// TestCalibrationHeldOut fits the vllm profile on some published step times and reports the
// error on rows it did not see: (1) LMDeploy A100 rows split by id parity; (2) a fit on every
// A100 row tested on the H100 and L40S rows (efficiencies are fractions of each GPU's own
// achievable ceilings, so a fit must carry across cards). The fit starts from the vllm
// profile with the small-M GEMM shape measured on an H200 (hardware/testdata/h200/
// small-m-gemm.toml: 5 µs per GEMM, ridge exponent 3; never chosen on these rows) and fits
// only what the rows identify. Targets from issue 10: ≤ 12% and ≤ 15% mean absolute error
// on the held-out rows; the fit must not make held-out rows worse.
func TestCalibrationHeldOut(t *testing.T) {
	e := &env{stdout: os.Stdout, stderr: os.Stderr, getenv: func(string) string { return "" }}
	rows, samples, err := loadStepSamples(context.Background(), e, filepath.Join("..", "..", "data", "validation", "steps_published.csv"), nil)
	if err != nil {
		t.Fatal(err)
	}
	id := func(r estimator.StepRow) string { return r.Fields[len(r.Fields)-1] }
	base, err := estimator.LoadProfileFile(filepath.Join("..", "..", "hardware", "testdata", "h200", "small-m-gemm.toml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name        string
		train, test func(r estimator.StepRow) bool
		target      float64 // held-out MAPE bound, % (0: report only)
	}{
		{"LMDeploy A100, even ids → odd ids",
			func(r estimator.StepRow) bool { return strings.HasPrefix(id(r), "LMDEPLOY") && lastDigitEven(id(r)) },
			func(r estimator.StepRow) bool { return strings.HasPrefix(id(r), "LMDEPLOY") && !lastDigitEven(id(r)) }, 12},
		{"all A100 rows → H100 and L40S rows",
			func(r estimator.StepRow) bool { return r.GPU == "A100 SXM 80GB" },
			func(r estimator.StepRow) bool { return r.GPU != "A100 SXM 80GB" }, 15},
		{"TensorRT-LLM only: A100 rows → H100 and L40S rows (one engine's constants)",
			func(r estimator.StepRow) bool { return r.GPU == "A100 SXM 80GB" && strings.HasPrefix(id(r), "TRT") },
			func(r estimator.StepRow) bool { return r.GPU != "A100 SXM 80GB" }, 0},
	} {
		var train, test []estimator.StepSample
		for i, r := range rows {
			switch {
			case c.train(r):
				train = append(train, samples[i])
			case c.test(r):
				test = append(test, samples[i])
			}
		}
		if len(train) == 0 || len(test) == 0 {
			t.Fatalf("%s: %d train, %d test rows", c.name, len(train), len(test))
		}
		fit, err := estimator.Calibrate(train, base, nil)
		if err != nil {
			t.Fatal(err)
		}
		before, after := stepMAPE(t, test, base), stepMAPE(t, test, fit.Profile)
		t.Logf("%s: %d train rows MAPE %.1f%% → %.1f%% (max %.1f%%); %d held-out rows MAPE %.1f%% → %.1f%%",
			c.name, fit.N, fit.MAPE0, fit.MAPE, fit.MaxAPE, len(test), before, after)
		for _, p := range fit.Params {
			t.Logf("  %s %.4g → %.4g", p.Name, p.Before, p.After)
		}
		for _, w := range fit.Warnings {
			t.Logf("  warning: %s", w)
		}
		if fit.MAPE > fit.MAPE0 {
			t.Errorf("%s: the fit raised the training error %.1f%% → %.1f%%", c.name, fit.MAPE0, fit.MAPE)
		}
		if after > before*1.1 {
			t.Errorf("%s: held-out error rose from %.1f%% to %.1f%%", c.name, before, after)
		}
		if c.target > 0 && after > c.target {
			t.Errorf("%s: held-out MAPE %.1f%%, target ≤ %g%%", c.name, after, c.target)
		}
	}
}

func lastDigitEven(id string) bool {
	if id == "" {
		return false
	}
	return (id[len(id)-1]-'0')%2 == 0
}

func TestCalibrateCLI(t *testing.T) {
	out := filepath.Join(t.TempDir(), "p.toml")
	stdout, stderr, code := runCLI(t, "calibrate", "--steps", filepath.Join("..", "..", "data", "validation", "steps_published.csv"), "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "MAPE") {
		t.Errorf("no fit quality in output: %s", stdout)
	}
	p, err := estimator.LoadProfileFile(out)
	if err != nil {
		t.Fatalf("written profile does not load: %v", err)
	}
	if p.Origin != "calibration" {
		t.Errorf("origin %q, want calibration", p.Origin)
	}
	// The written profile is accepted wherever --engine is.
	if _, stderr, code := runCLI(t, "step", "--model", "meta-llama/Llama-2-7b-hf", "--gpu", "A100 SXM 80GB", "--phase", "decode", "--batch", "8", "--tokens", "512", "--profile", out); code != 0 {
		t.Errorf("step --profile: exit %d: %s", code, stderr)
	}
}

func TestCalibrateCV(t *testing.T) {
	steps := filepath.Join("..", "..", "data", "validation", "steps_published.csv")
	out := filepath.Join(t.TempDir(), "p.toml")
	stdout, stderr, code := runCLI(t, "calibrate", "--steps", steps, "--out", out, "--cv", "gpu")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// The file's GPUs: A100 SXM 80GB, H100 SXM, L40S: one held-out line each.
	for _, g := range []string{"leave-one-gpu-out", "A100 SXM 80GB", "H100 SXM", "L40S", "rel. std. error"} {
		if !strings.Contains(stdout, g) {
			t.Errorf("output lacks %q:\n%s", g, stdout)
		}
	}
	if _, stderr, code := runCLI(t, "calibrate", "--steps", steps, "--out", out, "--cv", "engine"); code != 2 || !strings.Contains(stderr, "gpu, dtype, model") {
		t.Errorf("--cv engine: exit %d, %s", code, stderr)
	}
}

// TestCalibrateUnidentifiedJSON: three decode steps of one shape (batch 1, 1024 tokens)
// cannot separate the step overhead from the memory efficiency (both move every row alike),
// so the overhead's relative standard error is unbounded (+Inf). JSON has no infinity: it
// is null, and the document is written (it failed with "json: unsupported value: +Inf").
func TestCalibrateUnidentifiedJSON(t *testing.T) {
	dir := t.TempDir()
	steps := filepath.Join(dir, "steps.csv")
	rows := "model,gpu,tp,weight_dtype,phase,batch,tokens,ms\n"
	for _, ms := range []string{"8.0", "8.0", "8.1"} {
		rows += llama8b + ",H100 SXM,1,bf16,decode,1,1024," + ms + "\n"
	}
	if err := os.WriteFile(steps, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, "calibrate", "--steps", steps, "--out", filepath.Join(dir, "p.toml"), "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc struct {
		Ident []map[string]any `json:"identifiability"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	found := false
	for _, id := range doc.Ident {
		if id["name"] == "step_overhead_ms" {
			found = true
			if v, ok := id["rel_std_err"]; !ok || v != nil || id["identified"] != false {
				t.Errorf("step_overhead_ms: %v, want rel_std_err null and not identified", id)
			}
		}
	}
	if !found {
		t.Errorf("no step_overhead_ms in %s", stdout)
	}
}
