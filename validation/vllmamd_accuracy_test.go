package validation_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"roofline/estimator"
	"roofline/validation"
)

// TestVLLMAMDAccuracy holds issue 11's acceptance point for the VLLMAMD rows (vLLM blog
// "Serving LLMs on AMD MI300X", 2024-10-23: Llama-3.1-405B BF16 on 8 MI300X, ShareGPT; request
// throughput of vLLM 0.6.2 and TGI, 4.05, 2.58 and 3.55 req/s as the blog's text gives them):
// median APE ≤ 30% under their version profiles, predicted as roofline accuracy predicts them
// (the scheduler simulation). The rows are out of sample: no constant was chosen on them. The
// 2024 GEMM ceiling (profile ceilings_as_of; MI300X BF16 ~450 TFLOP/s with ROCm 6.1 against
// 668.4 with ROCm 6.3 and TunableOp) is what brings them there: with the newest ceilings
// (ceilings_as_of cleared) every row is predicted faster (median APE 36.5% when the rule was
// added, 25.9% with it).
func TestVLLMAMDAccuracy(t *testing.T) {
	all, err := validation.ReadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	var rows []validation.Row
	for _, r := range all {
		if strings.HasPrefix(r.ID, "VLLMAMD-") {
			rows = append(rows, r)
		}
	}
	if len(rows) != 3 {
		t.Fatalf("%d VLLMAMD rows, want 3", len(rows))
	}
	opts := closedFormOptions(t)
	opts.ClosedForm = false
	median := func(res []validation.Result) float64 {
		var ape []float64
		for _, r := range res {
			if r.APEPct == nil {
				t.Fatalf("%s not predicted: %s", r.ID, r.Reason)
			}
			ape = append(ape, *r.APEPct)
		}
		sort.Float64s(ape)
		return ape[len(ape)/2]
	}
	res := validation.Predict(context.Background(), rows, opts)
	for _, r := range res {
		t.Logf("%s %s %s: measured %.2f, predicted %.2f req/s (%+.1f%%)", r.ID, r.Engine, r.Profile, r.Measured, *r.Predicted, *r.ErrPct)
	}
	if m := median(res); m > 30 {
		t.Errorf("VLLMAMD median APE %.1f%%, want ≤ 30%%", m)
	}
	// The same rows with each profile's ceilings_as_of cleared: the 2025 ceilings.
	newest := make([]validation.Result, len(rows))
	for i, r := range rows {
		p, _, err := estimator.Engine(validation.EngineName(r))
		if err != nil {
			t.Fatal(err)
		}
		q := *p
		q.CeilingsAsOf = ""
		o := opts
		o.Profile = &q
		newest[i] = validation.Predict(context.Background(), []validation.Row{r}, o)[0]
		if *newest[i].Predicted <= *res[i].Predicted {
			t.Errorf("%s: %.2f req/s with the newest ceilings, %.2f with the 2024 ones: want faster", r.ID, *newest[i].Predicted, *res[i].Predicted)
		}
	}
	t.Logf("median APE %.1f%% (with the newest ceilings %.1f%%)", median(res), median(newest))
}
