package estimator_test

import (
	"strings"
	"testing"

	"roofline/estimator"
)

// TestSweepSpaceCheck: each out-of-range list is refused naming its flag; a repeated engine
// is resolved once and an unknown one names the allowed values.
func TestSweepSpaceCheck(t *testing.T) {
	for _, c := range []struct {
		sp   estimator.SweepSpace
		want string
	}{
		{estimator.SweepSpace{NumGPUs: []int{0}}, "--num-gpus 0"},
		{estimator.SweepSpace{NumGPUs: []int{4097}}, "--num-gpus 4097"},
		{estimator.SweepSpace{MaxNumSeqs: []int{0}}, "--max-num-seqs 0"},
		{estimator.SweepSpace{MaxNumBatchedTokens: []int{-1}}, "--max-num-batched-tokens -1"},
		{estimator.SweepSpace{KVDtypes: []string{"fp7"}}, `"fp7": allowed values are`},
		{estimator.SweepSpace{NumGPUs: []int{1, 8}, WeightDtypes: []string{"fp8"}}, ""},
	} {
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
