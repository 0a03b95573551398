package estimator_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"roofline/estimator"
	"roofline/hardware"
	"roofline/models"
)

// TestSweepSpaceCheck: each out-of-range list is refused naming its flag; a repeated engine
// is resolved once and an unknown one names the allowed values.
func TestSweepSpaceCheck(t *testing.T) {
	w := estimator.Workload{Kind: estimator.Concurrency, InputLen: 100, OutputLen: 10}
	for _, c := range []struct {
		sp   estimator.SweepSpace
		want string
	}{
		{estimator.SweepSpace{MaxModelLen: 50}, "50"},
		{estimator.SweepSpace{MemoryFraction: 1.5}, "--gpu-memory-utilization 1.5"},
		{estimator.SweepSpace{NumGPUs: []int{0}}, "--num-gpus 0"},
		{estimator.SweepSpace{NumGPUs: []int{4097}}, "--num-gpus 4097"},
		{estimator.SweepSpace{MaxNumSeqs: []int{0}}, "--max-num-seqs 0"},
		{estimator.SweepSpace{MaxNumBatchedTokens: []int{-1}}, "--max-num-batched-tokens -1"},
		{estimator.SweepSpace{KVDtypes: []string{"fp7"}}, `"fp7": allowed values are`},
		{estimator.SweepSpace{NumGPUs: []int{1, 8}, WeightDtypes: []string{"fp8"}}, ""},
	} {
		c.sp.Workload = w
		err := c.sp.Check()
		if (c.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.sp, err, c.want)
		}
	}
	ps, err := estimator.EnginesByName([]string{"vllm", " vllm", "sglang"})
	if err != nil || len(ps) != 2 {
		t.Errorf("EnginesByName: %d profiles, %v; want vllm and sglang", len(ps), err)
	}
	if _, err := estimator.EnginesByName([]string{"vlm"}); err == nil || !strings.Contains(err.Error(), "--engine \"vlm\"") {
		t.Errorf("unknown engine: %v", err)
	}
}

// TestInferKind: the one load given sets the kind; two loads, or none, are errors.
func TestInferKind(t *testing.T) {
	for _, c := range []struct {
		w    estimator.Workload
		want string
	}{
		{estimator.Workload{Concurrency: 8}, estimator.Concurrency},
		{estimator.Workload{RequestRate: 2}, estimator.Rate},
		{estimator.Workload{BatchSize: 4}, estimator.Static},
		{estimator.Workload{NumRequests: 100}, estimator.Offline},
		{estimator.Workload{Concurrency: -1}, estimator.Concurrency}, // Validate names it later
		{estimator.Workload{Concurrency: 8, RequestRate: 2}, ""},
		{estimator.Workload{}, ""},
	} {
		w := c.w
		err := w.InferKind()
		if (c.want == "") != (err != nil) || w.Kind != c.want && c.want != "" {
			t.Errorf("%+v: kind %q, %v; want %q", c.w, w.Kind, err, c.want)
		}
	}
	if _, src, err := estimator.ResolveProfile("engine", "vllm", ""); err != nil || !strings.Contains(src, "(embedded)") {
		t.Errorf("ResolveProfile(vllm): %q, %v", src, err)
	}
	if _, _, err := estimator.ResolveProfile("base", "vlm", ""); err == nil || !strings.HasPrefix(err.Error(), `--base "vlm"`) {
		t.Errorf("ResolveProfile(vlm): %v", err)
	}
}

// TestPlannerCheck: the planner refuses the lists a command line can get wrong, naming the
// flag; 0 tokens per step means the profile's budget and is allowed.
func TestPlannerCheck(t *testing.T) {
	w := estimator.Workload{Kind: estimator.Rate, RequestRate: 1, InputLen: 100, OutputLen: 10}
	ok := estimator.Planner{Workload: w, MaxNumBatchedTokens: []int{0, 2048}, WeightDtypes: []string{"", "fp8"}}
	if err := ok.Check(); err != nil {
		t.Errorf("valid planner: %v", err)
	}
	for _, c := range []struct {
		pl   estimator.Planner
		want string
	}{
		{estimator.Planner{Workload: w, MaxNumSeqs: []int{0}}, "--max-num-seqs 0"},
		{estimator.Planner{Workload: w, MaxNumBatchedTokens: []int{-1}}, "--max-num-batched-tokens -1"},
		{estimator.Planner{Workload: w, KVDtypes: []string{"fp7"}}, `"fp7"`},
		{estimator.Planner{Workload: w, MaxModelLen: 50}, "50"},
	} {
		if err := c.pl.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error containing %q", c.pl, err, c.want)
		}
	}
}

// TestSetLoads: a concurrency list is a closed loop, a rate list an open loop; a
// concurrency above 2^20 is refused.
func TestSetLoads(t *testing.T) {
	var sp estimator.SweepSpace
	if err := sp.SetLoads("8,32", ""); err != nil || sp.Workload.Kind != estimator.Concurrency || len(sp.Concurrencies) != 2 || sp.Concurrencies[1] != 32 {
		t.Errorf("concurrency: %+v, %v", sp, err)
	}
	sp = estimator.SweepSpace{}
	if err := sp.SetLoads("", "0.5,2"); err != nil || sp.Workload.Kind != estimator.Rate || len(sp.RequestRates) != 2 {
		t.Errorf("rate: %+v, %v", sp, err)
	}
	// The error quotes the list as given, not a grid point in exponent notation
	// ("--concurrency 1.572864e+06" for 1-1000000000, whose grid 1, 2, 3, 4, 6, 8, … of
	// ParseRange passes 2^20 first at 1.5 × 2^20 = 1572864).
	for _, tc := range []struct{ list, want string }{
		{"2000000", "--concurrency 2000000: at most 1048576 clients (this list reaches 2000000)"},
		{"1-1000000000", "--concurrency 1-1000000000: at most 1048576 clients (this list reaches 1572864)"},
	} {
		if err := (&estimator.SweepSpace{}).SetLoads(tc.list, ""); err == nil || err.Error() != tc.want {
			t.Errorf("concurrency %s: %v; want %q", tc.list, err, tc.want)
		}
	}
}

// TestIsRefused: the three refusals are recognised through wrapping; other errors are not.
func TestIsRefused(t *testing.T) {
	for _, err := range []error{&estimator.TooLongError{}, fmt.Errorf("x: %w", &estimator.TooManyRequestsError{NumRequests: 9}), &estimator.DoesNotFitError{}} {
		if !estimator.IsRefused(err) {
			t.Errorf("%T not recognised", err)
		}
	}
	if estimator.IsRefused(errors.New("other")) {
		t.Error("a plain error counted as a refusal")
	}
}

// TestWithPrefixes: one prefix is the deployment itself; several give the same deployment
// with the reuse pattern and no offload tier.
func TestWithPrefixes(t *testing.T) {
	m, err := models.LoadCatalogue("meta-llama/Llama-3.1-8B-Instruct")
	if err != nil {
		t.Fatal(err)
	}
	cat, _ := hardware.Load()
	g, _ := cat.Lookup("H100")
	d, err := estimator.New(estimator.Spec{Model: m, GPU: g, MaxModelLen: 4096})
	if err != nil {
		t.Fatal(err)
	}
	if same, err := d.WithPrefixes(1); err != nil || same != d {
		t.Errorf("one prefix: %v, %v; want d itself", same, err)
	}
	p, err := d.WithPrefixes(4)
	if err != nil || p.Offload == nil || p.Offload.Prefixes != 4 || len(p.Offload.Tiers) != 0 || p.TP != d.TP {
		t.Errorf("four prefixes: %+v, %v", p.Offload, err)
	}
}

// TestFitRename: a profile refitted twice is still "<base>-calibrated"; its TOML starts
// with the header given.
func TestFitRename(t *testing.T) {
	base, _, _ := estimator.Engine("vllm")
	cp := *base
	fit := estimator.Fit{Profile: &cp}
	fit.Rename("vllm-calibrated", "refit")
	if fit.Profile.Name != "vllm-calibrated" || fit.Profile.Description != "refit" {
		t.Errorf("name %q, description %q", fit.Profile.Name, fit.Profile.Description)
	}
	b, err := fit.ProfileTOML("# header\n")
	if err != nil || !strings.HasPrefix(string(b), "# header\n") {
		t.Errorf("TOML %q…, %v", string(b[:min(len(b), 40)]), err)
	}
}

// TestBurstinessRange: estimator.Workload.Validate takes gamma shapes in [0.01, 100] (MinBurstiness,
// MaxBurstiness: below 0.01 the mean of the 100 gaps of a default run has CV 1/√(100·k) > 1;
// above 100 the arrival CV² 1/k < 0.01 is periodic for every purpose) and 0, the default 1.
func TestBurstinessRange(t *testing.T) {
	for _, tc := range []struct {
		k  float64
		ok bool
	}{{0, true}, {0.01, true}, {0.5, true}, {1, true}, {100, true}, {0.0099, false}, {100.5, false}, {1e-300, false}, {1e300, false},
		{-1, false}, {math.NaN(), false}, {math.Inf(1), false}} {
		w := estimator.Workload{Kind: estimator.Rate, InputLen: 100, OutputLen: 10, RequestRate: 5, Burstiness: tc.k}
		err := w.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("burstiness %g: error %v, want ok %v", tc.k, err, tc.ok)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "--burstiness ") {
			t.Errorf("burstiness %g: %q does not name the flag", tc.k, err)
		}
	}
}
