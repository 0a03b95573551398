package main

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"roofline/estimator"
)

// TestH200StepsOutOfSample predicts the step times measured for this project on one H200
// (hardware/testdata/h200: a Llama-3.1-8B-shaped forward in plain PyTorch 2.11 replayed as a
// CUDA graph) with a profile whose every constant comes from that folder's microbenchmarks
// (GEMM by M, kernel cost) or a public figure, not from the step rows. The bf16 rows check
// the operator model out of sample; the FP8 rows run unfused per-tensor quantisation (five
// kernels before each GEMM) that no engine profile models, so they are only reported.
func TestH200StepsOutOfSample(t *testing.T) {
	dir := filepath.Join("..", "..", "hardware", "testdata", "h200")
	e := &env{stdout: os.Stdout, stderr: os.Stderr, getenv: func(string) string { return "" }}
	rows, samples, err := loadStepSamples(context.Background(), e, filepath.Join(dir, "steps.csv"), nil)
	if err != nil {
		t.Fatal(err)
	}
	prof, err := estimator.LoadProfileFile(filepath.Join(dir, "pytorch-graph.toml"))
	if err != nil {
		t.Fatal(err)
	}
	errs := map[string][]float64{}
	for i, s := range samples {
		_, signed, err := estimator.StepErrors([]estimator.StepSample{s}, prof)
		if err != nil {
			t.Fatal(err)
		}
		k := rows[i].WeightDtype + " " + s.Phase
		errs[k] = append(errs[k], signed[0])
	}
	med := func(v []float64) (bias, ape float64) {
		a := make([]float64, len(v))
		b := append([]float64(nil), v...)
		for i, x := range v {
			a[i] = math.Abs(x)
		}
		sort.Float64s(a)
		sort.Float64s(b)
		return b[len(b)/2], a[len(a)/2]
	}
	for _, k := range []string{"bf16 decode", "bf16 prefill", "fp8 decode", "fp8 prefill"} {
		bias, ape := med(errs[k])
		t.Logf("%-12s %2d rows: median signed error %+.1f%%, median APE %.1f%%", k, len(errs[k]), bias, ape)
		// bf16 decode: the operator model from microbenchmarks alone lands within 12% (median).
		if k == "bf16 decode" && ape > 12 {
			t.Errorf("%s: median APE %.1f%% > 12%%", k, ape)
		}
	}
}
