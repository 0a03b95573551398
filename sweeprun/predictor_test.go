package sweeprun_test

import (
	"math"
	"testing"

	"roofline/bench"
	"roofline/estimator"
	"roofline/hardware"
	"roofline/models"
	"roofline/sweeprun"
)

// TestSweepCalibrateRerank checks sweep --run --calibrate's step: after a run whose
// decode is 20% slower than predicted (measured TPOT and ITL 1.2× the prediction, TTFT and
// E2E consistent with them), the refitted profile predicts that run's TPOT within 5% and
// predicts the next deployment slower than before, and the remaining deployments are
// ranked by predicted output tok/s per GPU (at one request in flight, 8 GPUs do not
// halve a 4-GPU step — all-reduce and per-step overhead stay — so 4 GPUs rank first).
func TestSweepCalibrateRerank(t *testing.T) {
	model, err := models.LoadCatalogue("meta-llama/Llama-3.1-70B-Instruct")
	cat, cerr := hardware.Load()
	prof, _, perr := estimator.Engine("vllm")
	if err != nil || cerr != nil || perr != nil {
		t.Fatal(err, cerr, perr)
	}
	g, err := cat.Lookup("H100")
	if err != nil {
		t.Fatal(err)
	}
	pr := &sweeprun.ModelPredictor{Base: estimator.Spec{Model: model, GPU: g, MaxModelLen: 4096}, Profile: prof}
	cfg := bench.Config{Model: "sim", InputLen: 2048, OutputLen: 32, Concurrency: 1, NumRequests: 6, Seed: 1}
	four, eight := sweeprun.Params{{Name: "num_gpus", Value: "4"}}, sweeprun.Params{{Name: "num_gpus", Value: "8"}}
	p4, reason := pr.Predict(four, cfg, nil)
	p8, _ := pr.Predict(eight, cfg, nil)
	if p4 == nil || p8 == nil {
		t.Fatal(reason)
	}
	tpot := 1.2 * p4.TPOT.Mean
	e2e := p4.TTFT.Mean + 31*tpot
	m := bench.Summary{Completed: 6, TotalInputTokens: 6 * 2048, TotalOutputTokens: 6 * 32,
		TTFT: bench.NewDist([]float64{p4.TTFT.Mean}), TPOT: bench.NewDist([]float64{tpot}), ITL: bench.NewDist([]float64{tpot}),
		E2E: bench.NewDist([]float64{e2e}), RequestPerS: 1e3 / e2e, OutputTokS: 32e3 / e2e}
	done := []sweeprun.Result{{ServerArgs: four, ClientArgs: sweeprun.Params{{Name: "concurrency", Value: "1"}}, Status: sweeprun.StatusOK, Measured: &m}}
	remaining := []sweeprun.Config{{Index: 3, Args: eight}, {Index: 2, Args: four}}
	order := pr.Recalibrate(done, remaining)
	if order[0].Index != 2 || order[1].Index != 3 {
		t.Errorf("order after refit: %d, %d; want the 4-GPU configuration (2) first", order[0].Index, order[1].Index)
	}
	q4, _ := pr.Predict(four, cfg, nil)
	q8, _ := pr.Predict(eight, cfg, nil)
	if pr.Profile.Name != "vllm-calibrated" {
		t.Errorf("profile after the refit is named %q, want vllm-calibrated", pr.Profile.Name)
	}
	t.Logf("TPOT ms: 4 GPUs %.2f → %.2f (measured %.2f); 8 GPUs %.2f → %.2f; profile %s", p4.TPOT.Mean, q4.TPOT.Mean, tpot, p8.TPOT.Mean, q8.TPOT.Mean, pr.Profile.Name)
	if math.Abs(q4.TPOT.Mean-tpot) > 0.05*tpot {
		t.Errorf("refitted TPOT on 4 GPUs %.2f ms, measured %.2f ms: want within 5%%", q4.TPOT.Mean, tpot)
	}
	if !(q8.TPOT.Mean > 1.05*p8.TPOT.Mean) {
		t.Errorf("TPOT on 8 GPUs %.2f → %.2f ms after a slower measurement: want it to rise", p8.TPOT.Mean, q8.TPOT.Mean)
	}
}

func TestCountGPULines(t *testing.T) {
	// nvidia-smi -L as printed on a one-H200 machine (UUIDs shortened), then a two-GPU
	// variant; rocm-smi --showid prints several lines per GPU (format of ROCm 6.x).
	for _, c := range []struct {
		out  string
		want int
	}{
		{"GPU 0: NVIDIA H200 (UUID: GPU-039bdd59)\n", 1},
		{"GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-a)\nGPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-b)\n", 2},
		{"============================ ROCm System Management Interface ============================\n" +
			"GPU[0]\t\t: Device Name: \t\tAMD Instinct MI300X\nGPU[0]\t\t: Device ID: \t\t0x74a1\n" +
			"GPU[1]\t\t: Device Name: \t\tAMD Instinct MI300X\nGPU[1]\t\t: Device ID: \t\t0x74a1\n", 2},
		{"", 0},
	} {
		if got := sweeprun.CountGPULines(c.out); got != c.want {
			t.Errorf("sweeprun.CountGPULines(%q) = %d, want %d", c.out, got, c.want)
		}
	}
}
