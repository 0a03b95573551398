package simserver

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"roofline/bench"
	"roofline/estimator"
	"roofline/hardware"
	"roofline/models"
)

// TestRejectsLongerThanMaxModelLen: as vLLM answers HTTP 400 to a request whose prompt plus
// max_tokens exceeds max_model_len, so does the simulator (here 1000 prompt words, each one
// token as bench builds prompts, + 200 > 1024); and to a max_tokens below 1 (vLLM
// SamplingParams: "max_tokens must be at least 1, got -5."), which serve-sim answered with 16
// tokens.
func TestRejectsLongerThanMaxModelLen(t *testing.T) {
	m, err := (&models.Resolver{Offline: true}).Load(context.Background(), "meta-llama/Llama-3.1-8B-Instruct")
	if err != nil {
		t.Fatal(err)
	}
	cat, _ := hardware.Load()
	gpu, _ := cat.Lookup("H100 SXM")
	d, err := estimator.New(estimator.Spec{Model: m, GPU: gpu, Profile: estimator.MustEngine("vllm"), MaxModelLen: 1024})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error)
	go func() { done <- Serve(ctx, d, "m", ln) }()
	prompt := bench.SyntheticPrompt(1, 0, 1000, 0).Text
	for _, c := range []struct{ name, body, want string }{
		{"too long", `{"model":"m","prompt":"` + prompt + `","max_tokens":200,"stream":true}`, "1200 tokens"},
		{"max_tokens -5", `{"model":"m","prompt":"hi","max_tokens":-5,"stream":true}`, "max_tokens must be at least 1, got -5."},
		{"max_tokens 0", `{"model":"m","prompt":"hi","max_tokens":0,"stream":true}`, "max_tokens must be at least 1, got 0."},
		{"max_completion_tokens 0", `{"model":"m","prompt":"hi","max_completion_tokens":0,"stream":true}`, "max_completion_tokens must be at least 1, got 0."},
	} {
		resp, err := http.Post("http://"+ln.Addr().String()+"/v1/completions", "application/json", strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), c.want) {
			t.Errorf("%s: status %d, body %s; want 400 containing %q", c.name, resp.StatusCode, b, c.want)
		}
	}
	stop()
	<-done
}
