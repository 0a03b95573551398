package estimator_test

import (
	"math"
	"strings"
	"testing"

	"roofline/estimator"
	"roofline/hardware"
	"roofline/models"
)

// TestEPBelowTPSplitsEachExpert: with ep < tp each routed expert is split over the tp/ep GPUs
// of its group (MoE tensor parallelism: TensorRT-LLM moe_tp_size × moe_ep_size = tp_size,
// SGLang moe_tp_size = tp_size / ep_size), so the weights per GPU do not depend on how the 8
// GPUs divide the experts. Hand calculation for DeepSeek-R1 on 8 GPUs: every routed-expert
// byte is on exactly one GPU whether ep is 8 (whole experts, 32 per GPU) or 4 (64 experts per
// group of 2, each half on a GPU), and attention, dense and shared-expert weights are split by
// tp = 8 either way: equal per-GPU weights. It was 167 GB at ep 4 against 85 GB at ep 8 (every
// GPU of a group held its group's experts whole). ep must divide tp when smaller.
func TestEPBelowTPSplitsEachExpert(t *testing.T) {
	cat, err := hardware.Load()
	if err != nil {
		t.Fatal(err)
	}
	g, err := cat.Lookup("B200")
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.LoadCatalogue("deepseek-ai/DeepSeek-R1")
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := estimator.Engine("sglang")
	if err != nil {
		t.Fatal(err)
	}
	w := map[int]float64{}
	for _, ep := range []int{8, 4, 2} {
		d, err := estimator.New(estimator.Spec{Model: m, GPU: g, TP: 8, EP: ep, Profile: p})
		if err != nil {
			t.Fatalf("ep %d: %v", ep, err)
		}
		w[ep] = float64(d.WeightsPerGPU())
	}
	for _, ep := range []int{4, 2} {
		if math.Abs(w[ep]-w[8]) > 1e-6*w[8] {
			t.Errorf("weights per GPU at tp 8, ep %d = %.4g B, want the ep 8 figure %.4g B", ep, w[ep], w[8])
		}
	}
	m2, err := models.LoadCatalogue("mistralai/Mixtral-8x7B-Instruct-v0.1")
	if err != nil {
		t.Fatal(err)
	}
	// Mixtral's 8 experts at tp 4, ep 2: ep divides tp, accepted.
	if _, err := estimator.New(estimator.Spec{Model: m2, GPU: g, TP: 4, EP: 2, Profile: p}); err != nil {
		t.Errorf("tp 4, ep 2: %v", err)
	}
	// Kimi-K2's 384 experts divide by 3, but tp 4 does not: a group of 4/3 GPUs is refused.
	m3, err := models.LoadCatalogue("moonshotai/Kimi-K2-Instruct")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := estimator.New(estimator.Spec{Model: m3, GPU: g, TP: 4, EP: 3, Profile: p}); err == nil || !strings.Contains(err.Error(), "--ep 3 must divide --tp 4") {
		t.Errorf("tp 4, ep 3: error %v, want --ep 3 must divide --tp 4", err)
	}
}
