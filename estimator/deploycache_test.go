package estimator

import (
	"errors"
	"fmt"
	"testing"
)

// serveText is every field of a Serving (and its TTFT breakdown) with each float written in
// the shortest form that reads back to the same bits: two estimates are bit for bit the same
// when their texts are.
func serveText(s Serving, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	ex := "<nil>"
	if s.Explain != nil {
		ex = fmt.Sprintf("%+v", *s.Explain)
	}
	s.Explain = nil
	return fmt.Sprintf("%+v %s", s, ex)
}

// TestDeployCacheExact: estimates on deployments New returns from deployCache (copies of one
// kept deployment, sharing its rate, burst and GEMM-table memos, filled by the estimates
// before) are bit for bit those of a deployment built anew for each estimate, with nothing
// memoized — over dense, MoE, MLA, sliding-window and MXFP4 models, TP/PP/EP/DP splits,
// W8A8 and KV dtypes, closed and open loops, many lengths and loads. The expected values are
// the uncached path's own: the cache must not change a number.
func TestDeployCacheExact(t *testing.T) {
	type dep struct {
		model, gpu, wd, kvd  string
		tp, pp, ep, dp, gpus int
		engine               string
	}
	deps := []dep{
		{"meta-llama/Llama-3.1-8B-Instruct", "H100 SXM", "", "", 1, 1, 0, 1, 1, "vllm"},
		{"meta-llama/Llama-3.1-8B-Instruct", "A100", "fp8", "fp8", 2, 1, 0, 2, 4, "vllm"},
		{"meta-llama/Llama-3.1-70B-Instruct", "H200", "fp8", "", 4, 2, 0, 1, 8, "sglang"},
		{"Qwen/Qwen3-30B-A3B", "H200", "", "", 2, 1, 2, 1, 2, "vllm"},
		{"deepseek-ai/DeepSeek-V3", "H200", "", "", 8, 1, 8, 1, 8, "sglang"},
		{"google/gemma-2-9b-it", "L40S", "", "", 1, 1, 0, 1, 1, "trtllm"},
		{"openai/gpt-oss-20b", "H100 SXM", "", "", 1, 1, 0, 1, 1, "vllm"},
		{"mistralai/Mixtral-8x7B-Instruct-v0.1", "MI300X", "", "", 2, 1, 0, 1, 2, "vllm"},
	}
	var loads []Workload
	for i, in := range []int{1, 300, 1000, 2900, 7000} {
		for _, c := range []int{1, 7, 64, 300} {
			loads = append(loads, Workload{Kind: Concurrency, InputLen: in, OutputLen: 1 + 97*i, Concurrency: c})
		}
		loads = append(loads, Workload{Kind: Rate, InputLen: in, OutputLen: 200, RequestRate: 0.5 + 3*float64(i)})
	}
	checked := 0
	for _, x := range deps {
		spec := Spec{Model: mustModel(t, x.model), GPU: mustGPU(t, x.gpu), NumGPUs: x.gpus, TP: x.tp, PP: x.pp, EP: x.ep, DP: x.dp,
			WeightDtype: x.wd, KVDtype: x.kvd, Profile: MustEngine(x.engine), MaxModelLen: 8192}
		for round := range 3 { // the first fills the memos, the others read them
			for _, w := range loads {
				d, err := New(spec)
				if err != nil {
					t.Fatalf("%+v: %v", x, err)
				}
				fresh, err := newDeployment(spec)
				if err != nil {
					t.Fatal(err)
				}
				got, want := serveText(d.Serve(w)), serveText(fresh.Serve(w))
				if got != want {
					t.Fatalf("%+v round %d, %+v:\ncached   %s\nuncached %s", x, round, w, got, want)
				}
				checked++
			}
		}
	}
	t.Logf("%d estimates identical", checked)
}

// TestDeployCacheCopies: New returns a copy of the kept deployment: what a caller changes in
// it (a scheduler knob, an appended warning) is not seen by the next New of the same Spec;
// an error is not kept; a Spec with speculative decoding is built anew.
func TestDeployCacheCopies(t *testing.T) {
	spec := Spec{Model: mustModel(t, "meta-llama/Llama-3.1-8B-Instruct"), GPU: mustGPU(t, "V100"), Profile: MustEngine("vllm"), MaxModelLen: 4096}
	a := mustDeploy(t, spec)
	n, seqs := len(a.Warnings()), a.MaxNumSeqs
	if n == 0 {
		t.Fatal("V100 (no bf16) should warn")
	}
	a.MaxNumSeqs = 3
	_ = append(a.Warnings(), errors.New("caller's own"))
	a.warnings = append(a.warnings, errors.New("caller's own"))
	b := mustDeploy(t, spec)
	if b == a || b.MaxNumSeqs != seqs || len(b.Warnings()) != n {
		t.Errorf("second New: max_num_seqs %d (want %d), %d warnings (want %d)", b.MaxNumSeqs, seqs, len(b.Warnings()), n)
	}
	if b.rates != a.rates {
		t.Error("copies of one Spec do not share the rate memo")
	}
	bad := spec
	bad.TP = 3
	for range 2 {
		if _, err := New(bad); err == nil {
			t.Error("tp 3 of 32 heads: want an error")
		}
	}
	sp := spec
	sp.Speculation = &Speculation{Method: "ngram", Tokens: 3}
	s1, err1 := New(sp)
	s2, err2 := New(sp)
	if err1 == nil && err2 == nil && s1.rates == s2.rates {
		t.Error("a speculative Spec was kept")
	}
}

// TestDeployCacheConcurrent: goroutines building the same Specs at once and estimating on
// the copies (which share one kept deployment's memos) get the estimates of deployments
// built anew. Run with -race, it also checks the cache and the shared memos for data races.
func TestDeployCacheConcurrent(t *testing.T) {
	m, p := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct"), MustEngine("vllm")
	var specs []Spec
	for _, g := range []string{"H100 SXM", "A100"} {
		for _, tp := range []int{1, 2} {
			specs = append(specs, Spec{Model: m, GPU: mustGPU(t, g), NumGPUs: tp, TP: tp, Profile: p, MaxModelLen: 4096})
		}
	}
	load := func(i int) Workload {
		return Workload{Kind: Concurrency, InputLen: 200 + 300*(i%5), OutputLen: 100, Concurrency: 1 + 13*(i%7)}
	}
	const workers, each = 4, 30
	got := make([][]string, workers)
	done := make(chan bool)
	for g := range workers {
		go func() {
			for i := range each {
				d, err := New(specs[(g+i)%len(specs)])
				if err != nil {
					t.Error(err)
					break
				}
				got[g] = append(got[g], serveText(d.Serve(load(i))))
			}
			done <- true
		}()
	}
	for range workers {
		<-done
	}
	for g := range workers {
		for i := range each {
			fresh, err := newDeployment(specs[(g+i)%len(specs)])
			if err != nil {
				t.Fatal(err)
			}
			if want := serveText(fresh.Serve(load(i))); i >= len(got[g]) || got[g][i] != want {
				t.Fatalf("worker %d estimate %d differs from a deployment built anew", g, i)
			}
		}
	}
}
