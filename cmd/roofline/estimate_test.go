package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// Golden files pin each renderer's layout; the numbers in them are checked by the estimator's
// own tests against hand calculations and measurements, not here.
func TestEstimateRenderersGolden(t *testing.T) {
	base := []string{"estimate", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100", "--input-len", "1024", "--output-len", "256", "--concurrency", "16", "--max-model-len", "8192"}
	for _, f := range []string{"table", "json", "csv", "markdown"} {
		stdout, stderr, code := runCLI(t, append(base, "--output", f)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", f, code, stderr)
		}
		golden(t, "estimate_llama8b_h100_c16."+f, stdout)
	}
}

func TestEstimateJSONContract(t *testing.T) {
	stdout, stderr, code := runCLI(t, "estimate", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100", "--num-gpus", "1",
		"--input-len", "1024", "--output-len", "256", "--request-rate", "4", "--simulate", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var j map[string]any
	if err := json.Unmarshal([]byte(stdout), &j); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ttft_ms", "itl_ms", "tpot_ms", "e2e_ms"} {
		d, _ := j[k].(map[string]any)
		for _, q := range []string{"mean", "median", "p90", "p99"} {
			if _, ok := d[q].(float64); !ok {
				t.Errorf("%s.%s missing or not a number", k, q)
			}
		}
	}
	for _, k := range []string{"output_tok_s", "total_tok_s", "request_per_s", "kv_cache_tokens", "max_concurrency", "cost_usd_per_1m_output_tokens"} {
		if _, ok := j[k].(float64); !ok {
			t.Errorf("%s missing or not a number", k)
		}
	}
}

func TestEstimateOverloadedJSON(t *testing.T) {
	stdout, _, code := runCLI(t, "estimate", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100", "--input-len", "4000",
		"--output-len", "4000", "--request-rate", "500", "--max-model-len", "8192", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var j struct {
		Overloaded bool `json:"overloaded"`
		TTFT       struct {
			Mean *float64 `json:"mean"`
		} `json:"ttft_ms"`
		MaxRate float64 `json:"max_request_rate"`
	}
	if err := json.Unmarshal([]byte(stdout), &j); err != nil {
		t.Fatal(err)
	}
	if !j.Overloaded || j.TTFT.Mean != nil || !(j.MaxRate > 0 && j.MaxRate < 500) {
		t.Errorf("overloaded=%v ttft=%v max rate=%g: want overloaded, null TTFT, a sustainable rate below 500", j.Overloaded, j.TTFT.Mean, j.MaxRate)
	}
}

func TestEstimateBadInput(t *testing.T) {
	m := []string{"--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--input-len", "10", "--output-len", "10"}, "give a load"},
		{[]string{"--input-len", "10", "--output-len", "10", "--concurrency", "2", "--request-rate", "3"}, "give one of"},
		{[]string{"--input-len", "0", "--output-len", "10", "--concurrency", "2"}, "--input-len"},
		{[]string{"--input-len", "10", "--output-len", "10", "--concurrency", "2", "--tp", "3"}, "--tp 3"},
		{[]string{"--input-len", "10", "--output-len", "10", "--concurrency", "2", "--weight-dtype", "fp7"}, "fp7"},
		{[]string{"--input-len", "10", "--output-len", "10", "--concurrency", "2", "--output", "xml"}, "--output"},
		{[]string{"--input-len", "10", "--output-len", "10", "--concurrency", "2", "--gpu", "H10"}, "did you mean"},
		{[]string{"--input-len", "10", "--output-len", "10", "--concurrency", "-3"}, "--concurrency -3: must be in [1, 100000]"},
		{[]string{"--input-len", "10", "--output-len", "10", "--request-rate", "-1"}, "--request-rate -1: must be a finite number in (0, ∞)"},
		{[]string{"--input-len", "10", "--output-len", "10", "--request-rate", "NaN"}, "--request-rate NaN"},
		{[]string{"--input-len", "10", "--output-len", "10", "--num-requests", "-2"}, "--num-requests"},
		// 100 + 10 tokens cannot run with max_model_len 50 (vLLM rejects such requests).
		{[]string{"--input-len", "100", "--output-len", "10", "--concurrency", "2", "--max-model-len", "50"}, "requests of 110 tokens (--input-len 100 + --output-len 10) exceed max_model_len 50"},
		{[]string{"--input-len", "100", "--output-len", "10", "--concurrency", "2", "--max-model-len", "50", "--simulate"}, "exceed max_model_len 50"},
		// Llama-3.1-8B's context is 131072 tokens.
		{[]string{"--input-len", "131000", "--output-len", "100", "--concurrency", "1"}, "exceed max_model_len 131072"},
	} {
		_, stderr, code := runCLI(t, append(append([]string{"estimate"}, m...), c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line containing %q", c.args, code, stderr, c.want)
		}
	}
}

func TestMemoryAndStepJSON(t *testing.T) {
	stdout, _, code := runCLI(t, "memory", "--model", "meta-llama/Llama-3.1-70B-Instruct", "--gpu", "H100", "--max-model-len", "8192", "--output", "json")
	if code != 0 {
		t.Fatalf("memory exit %d", code)
	}
	var m struct {
		Fits    bool   `json:"fits"`
		MinGPUs int    `json:"min_gpus"`
		Error   string `json:"error"`
	}
	json.Unmarshal([]byte(stdout), &m)
	// 70.6e9 bf16 parameters are 141 GB: one 80 GB GPU cannot hold them.
	if m.Fits || m.MinGPUs < 2 || !strings.Contains(m.Error, "weights 141 GB") || !strings.Contains(m.Error, "need") {
		t.Errorf("70B on one H100: fits=%v min_gpus=%d error=%q", m.Fits, m.MinGPUs, m.Error)
	}
	stdout, stderr, code := runCLI(t, "step", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100", "--phase", "decode", "--batch", "4", "--tokens", "100", "--explain", "--output", "json")
	if code != 0 {
		t.Fatalf("step exit %d: %s", code, stderr)
	}
	var s struct {
		PredictedMs float64 `json:"predicted_ms"`
		Ops         []struct {
			Name string `json:"name"`
		} `json:"ops"`
	}
	json.Unmarshal([]byte(stdout), &s)
	if s.PredictedMs <= 0 || len(s.Ops) < 5 {
		t.Errorf("step json: predicted %g ms, %d ops", s.PredictedMs, len(s.Ops))
	}
}

// TestOverloadedTechniqueJSON: Llama-3.1-8B on one H100 sustains about 39 req/s at 1000/200
// tokens with a 500-token shared prefix (the table's max sustainable rate), so 64 req/s is
// overloaded on both sides of a --kv-offload comparison: the mean TTFT and E2E are unbounded
// and the per-user speed is not predicted. JSON has no infinity: they are null, and the
// document is written (it failed with "json: unsupported value: +Inf", exit 1).
func TestOverloadedTechniqueJSON(t *testing.T) {
	stdout, stderr, code := runCLI(t, "estimate", "--model", llama8b, "--gpu", "H100", "--input-len", "1000", "--output-len", "200",
		"--prefix-len", "500", "--request-rate", "64", "--kv-offload", "cpu:100GB", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc struct {
		Technique struct {
			Baseline map[string]any `json:"baseline"`
			With     map[string]any `json:"with_technique"`
		} `json:"technique"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	for name, side := range map[string]map[string]any{"baseline": doc.Technique.Baseline, "with": doc.Technique.With} {
		if side["overloaded"] != true {
			t.Fatalf("%s: not overloaded: %v", name, side)
		}
		for _, k := range []string{"ttft_ms_mean", "e2e_ms_mean", "output_tok_s_per_user"} {
			if v, ok := side[k]; !ok || v != nil {
				t.Errorf("%s %s = %v (present %v), want null", name, k, v, ok)
			}
		}
		if v, ok := side["tpot_ms_mean"].(float64); !ok || !(v > 0) {
			t.Errorf("%s tpot_ms_mean = %v, want a positive number (the full batch's step)", name, side["tpot_ms_mean"])
		}
	}
}
