package estimator

import (
	"math"
	"testing"
)

// TestModuleDtypeReadsLiveEfficiency: calibrate fits gemm_efficiency by writing it into the
// profile its deployments point to, so a GEMM of a mixed-precision checkpoint (DeepSeek-R1
// with NVFP4 experts keeps q_b_proj in FP8: fp4ExpertsOnly/moduleDtype) must read the
// efficiency at step time like the other GEMMs. A compute-bound prefill GEMM's compute time is
// FLOPs/(ceiling·η·M/(M+half)), so halving η doubles it: the ratio is exactly 2.
func TestModuleDtypeReadsLiveEfficiency(t *testing.T) {
	p := *MustEngine("trtllm")
	d := mustDeploy(t, Spec{Model: mustModel(t, "deepseek-ai/DeepSeek-R1"), GPU: mustGPU(t, "B200"), TP: 8, WeightDtype: "fp4", Profile: &p})
	b := Batch{Prefill: []Chunk{{New: 4096}}}
	compute := func() float64 {
		for _, op := range d.StepTime(b, true).Ops {
			if op.Name == "q_b_proj" {
				return float64(op.Compute)
			}
		}
		t.Fatal("no q_b_proj operator")
		return 0
	}
	before := compute()
	p.GEMMEfficiency /= 2
	if r := compute() / before; math.Abs(r-2) > 1e-9 {
		t.Errorf("q_b_proj compute after halving gemm_efficiency: ×%.4f, want ×2", r)
	}
}
