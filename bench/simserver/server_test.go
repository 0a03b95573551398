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
// token as bench builds prompts, + 200 > 1024).
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
	body := `{"model":"m","prompt":"` + prompt + `","max_tokens":200,"stream":true}`
	resp, err := http.Post("http://"+ln.Addr().String()+"/v1/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "1200 tokens") {
		t.Errorf("status %d, body %s; want 400 naming the 1200 requested tokens", resp.StatusCode, b)
	}
	stop()
	<-done
}
