package simserver_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"

	"roofline/bench/simserver"
	"roofline/estimator"
	"roofline/hardware"
	"roofline/models"
)

// Serve plays an estimator deployment back as a streaming OpenAI-compatible server: a
// request for 3 tokens gets 3 content chunks, a usage chunk and [DONE]. The prompt counts
// as 4 tokens: its words are all from the synthetic vocabulary bench builds prompts from.
func ExampleServe() {
	m, _ := (&models.Resolver{Offline: true}).Load(context.Background(), "meta-llama/Llama-3.1-8B-Instruct")
	cat, _ := hardware.Load()
	gpu, _ := cat.Lookup("H100 SXM")
	d, _ := estimator.New(estimator.Spec{Model: m, GPU: gpu, Profile: estimator.MustEngine("vllm"), MaxModelLen: 4096})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error)
	go func() { done <- simserver.Serve(ctx, d, "llama", ln) }()

	body := `{"model":"llama","prompt":"the world is small","max_tokens":3,"stream":true,"stream_options":{"include_usage":true}}`
	resp, err := http.Post("http://"+ln.Addr().String()+"/v1/completions", "application/json", strings.NewReader(body))
	if err != nil {
		fmt.Println(err)
		return
	}
	chunks := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "data: ") {
			chunks++
			if strings.Contains(l, "usage") {
				fmt.Println(l[strings.Index(l, `"usage"`):])
			}
		}
	}
	resp.Body.Close()
	stop()
	<-done
	fmt.Println(chunks, "data lines")
	// Output:
	// "usage":{"prompt_tokens":4,"completion_tokens":3,"total_tokens":7}}
	// 5 data lines
}
