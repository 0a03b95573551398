package estimator

import (
	"math"
	"strings"
	"testing"
)

// TestExpectedAcceptLenHandCalc checks the accepted tokens per step against sums done by hand.
func TestExpectedAcceptLenHandCalc(t *testing.T) {
	for _, c := range []struct {
		k     int
		alpha float64
		want  float64
		calc  string
	}{
		{3, 0.6, 2.176, "1 + 0.6 + 0.36 + 0.216"},
		{4, 0.8, 3.3616, "1 + 0.8 + 0.64 + 0.512 + 0.4096"},
		{1, 0.92, 1.92, "1 + 0.92 (DeepSeek-R1 MTP depth 1, TensorRT-LLM blog 1: AL 1.92)"},
		{5, 0, 1, "nothing accepted: only the bonus token"},
		{5, 1, 6, "everything accepted: K + 1"},
	} {
		if got := ExpectedAcceptLen(c.k, c.alpha); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("K=%d α=%g: got %.6g, want %.6g (%s)", c.k, c.alpha, got, c.want, c.calc)
		}
	}
	// Per-position rates: 1 + 0.9 + 0.9·0.5 + 0.9·0.5·0.5 (last rate repeated) = 2.575.
	if got := AcceptLenFromRates(3, []float64{0.9, 0.5}); math.Abs(got-2.575) > 1e-12 {
		t.Errorf("rates: got %g, want 2.575", got)
	}
}

// TestSpeculationGainShrinksWithBatch: at batch 1 a memory-bound decode step verifies K+1
// positions for about the cost of one, so TPOT falls by nearly the acceptance length; at a
// large batch the verify step is compute-bound and costs ~K+1 times more, so the gain turns
// into a loss.
func TestSpeculationGainShrinksWithBatch(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	g := mustGPU(t, "H100 SXM")
	base := mustDeploy(t, Spec{Model: m, GPU: g, Profile: MustEngine("vllm")})
	spec := mustDeploy(t, Spec{Model: m, GPU: g, Profile: MustEngine("vllm"), Speculation: &Speculation{Method: "eagle3", Tokens: 3, AcceptLen: 2.5}})
	gain := func(c int) float64 {
		w := Workload{Kind: Concurrency, Concurrency: c, InputLen: 200, OutputLen: 200}
		a, err := base.Serve(w)
		if err != nil {
			t.Fatal(err)
		}
		b, err := spec.Serve(w)
		if err != nil {
			t.Fatal(err)
		}
		return b.OutputTokS / a.OutputTokS
	}
	g1, g512 := gain(1), gain(256)
	t.Logf("speed-up: %.3g at batch 1, %.3g at batch 256", g1, g512)
	if !(g1 > 1.5 && g1 < 2.5) {
		t.Errorf("batch 1 speed-up %.3g: want between 1.5 and the acceptance length 2.5", g1)
	}
	if !(g512 < 1) {
		t.Errorf("batch 256 speed-up %.3g: want a loss (< 1) once the verify step is compute-bound", g512)
	}
	// Memory: the EAGLE-3 head adds one layer's weights and KV.
	if spec.Memory().KVBytesPerToken <= base.Memory().KVBytesPerToken || spec.WeightsPerGPU() <= base.WeightsPerGPU() {
		t.Error("the draft's weights and KV are not counted")
	}
}

func TestSpeculationBadInput(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	g := mustGPU(t, "H100 SXM")
	for _, s := range []Speculation{{Method: "medusa", Tokens: 3}, {Method: "mtp", Tokens: 0}, {Method: "mtp", Tokens: 3, AcceptLen: 5}, {Method: "draft", Tokens: 3}} {
		if _, err := New(Spec{Model: m, GPU: g, Speculation: &s}); err == nil {
			t.Errorf("%+v: want an error", s)
		}
	}
}

// TestSpecDraftRunsOverThePrompt: the EAGLE head also runs over every prompt token, at its
// parameter share of the target. Llama-3.1-8B (config.json: hidden 4096, 32 layers, 32/8
// heads of 128, MLP 14336, vocabulary 128256, untied head): a decoder layer holds
// 2·4096·4096 + 2·4096·1024 + 3·4096·14336 + 2·4096 = 218,112,000 parameters, the LM head
// 128256·4096 = 525,336,576, the model 32·218,112,000 + 2·525,336,576 + 4096 = 8,030,261,248;
// the head's share is (218,112,000 + 525,336,576)/8,030,261,248 = 0.092581. A static batch of
// one 1000-token prompt (one prefill step, no fixed costs in the ideal profile) so has a TTFT
// 1.092581 times the one without speculation.
func TestSpecDraftRunsOverThePrompt(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	g := mustGPU(t, "H100 SXM")
	w := Workload{Kind: Static, BatchSize: 1, InputLen: 1000, OutputLen: 2}
	base, err := mustDeploy(t, Spec{Model: m, GPU: g, Profile: MustEngine("ideal")}).Serve(w)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := mustDeploy(t, Spec{Model: m, GPU: g, Profile: MustEngine("ideal"), Speculation: &Speculation{Method: "eagle", Tokens: 3}}).Serve(w)
	if err != nil {
		t.Fatal(err)
	}
	want := 1 + (218112000.0+525336576.0)/8030261248.0
	if got := spec.TTFT.Mean / base.TTFT.Mean; math.Abs(got-want) > 1e-6 {
		t.Errorf("TTFT ratio %.6f, want %.6f", got, want)
	}
}

// TestNewSpeculation: no method is no speculation, unless a speculation setting is given
// (an error naming --spec-method); K defaults to 3 draft tokens per step.
func TestNewSpeculation(t *testing.T) {
	if s, err := NewSpeculation("", 0, 0, nil, false); s != nil || err != nil {
		t.Errorf("none: %v, %v", s, err)
	}
	if _, err := NewSpeculation("", 4, 0, nil, false); err == nil || !strings.Contains(err.Error(), "--spec-method") {
		t.Errorf("settings without a method: %v", err)
	}
	if s, err := NewSpeculation(SpecEagle, 0, 2.5, nil, false); err != nil || s.Tokens != 3 || s.AcceptLen != 2.5 {
		t.Errorf("eagle: %+v, %v", s, err)
	}
	// Both ways of giving α: the length was used and the rates dropped without a word.
	if _, err := NewSpeculation(SpecEagle, 0, 2, []float64{0.5}, false); err == nil || !strings.Contains(err.Error(), "--spec-accept-len 2 and --spec-accept-rates: give one") {
		t.Errorf("length and rates: %v", err)
	}
	if s, err := NewSpeculation(SpecEagle, 0, 0, []float64{0.5}, false); err != nil || len(s.AcceptRates) != 1 {
		t.Errorf("rates only: %+v, %v", s, err)
	}
}
