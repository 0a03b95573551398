package estimator

import (
	"strings"
	"testing"
)

// TestMTPNeedsTheModelsModule: --spec-method mtp drafts with the checkpoint's own
// multi-token-prediction module, which config.json counts in num_nextn_predict_layers:
// DeepSeek-R1 ships one (1), Kimi-K2-Instruct none (0; the Hugging Face config of
// moonshotai/Kimi-K2-Instruct), and gpt-oss-120b's config has no such key. Kimi-K2 and
// gpt-oss were predicted with DeepSeek's MTP acceptance (2.53 tokens per step) without a word.
func TestMTPNeedsTheModelsModule(t *testing.T) {
	g := mustGPU(t, "B200")
	for _, c := range []struct {
		model, err, warn string // "" = none
	}{
		{"deepseek-ai/DeepSeek-R1", "", ""},
		{"moonshotai/Kimi-K2-Instruct", "--spec-method mtp: moonshotai/Kimi-K2-Instruct ships no multi-token-prediction module (num_nextn_predict_layers 0 in its config.json): allowed there draft, eagle, eagle3, ngram", ""},
		{"openai/gpt-oss-120b", "", "gives no num_nextn_predict_layers"},
	} {
		m := mustModel(t, c.model)
		d, err := New(Spec{Model: m, GPU: g, TP: 8, Profile: MustEngine("vllm"), MaxModelLen: 8192, Speculation: &Speculation{Method: "mtp", Tokens: 3}})
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.model, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.model, err)
			continue
		}
		got := ""
		for _, w := range d.Warnings() {
			if strings.Contains(w.Error(), "num_nextn_predict_layers") {
				got = w.Error()
			}
		}
		if c.warn == "" && got != "" || c.warn != "" && !strings.Contains(got, c.warn) {
			t.Errorf("%s: MTP warning %q, want %q", c.model, got, c.warn)
		}
	}
}
