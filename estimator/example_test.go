package estimator_test

import (
	"context"
	"fmt"

	"roofline/estimator"
	"roofline/hardware"
	"roofline/models"
)

// A deployment is a model on GPUs with an engine profile; from it come the memory plan, step
// times and serving metrics.
func Example() {
	m, _ := (&models.Resolver{Offline: true}).Load(context.Background(), "meta-llama/Llama-3.1-8B-Instruct")
	cat, _ := hardware.Load()
	gpu, _ := cat.Lookup("H100 SXM")
	d, err := estimator.New(estimator.Spec{Model: m, GPU: gpu, Profile: estimator.MustEngine("vllm"), MaxModelLen: 8192})
	if err != nil {
		fmt.Println(err)
		return
	}
	mem := d.Memory()
	fmt.Printf("weights per GPU: %s; KV cache per token: %s\n", mem.WeightsBytes, mem.KVBytesPerToken)

	b, _ := estimator.StepBatch("decode", 32, 1024)
	st := d.StepTime(b, false)
	fmt.Printf("decode step, 32 sequences at 1024 tokens: %s-bound\n", st.Bound)

	s, _ := d.Serve(estimator.Workload{Kind: estimator.Concurrency, Concurrency: 16, InputLen: 1024, OutputLen: 256})
	fmt.Printf("closed loop at 16: overloaded %v, method %s\n", s.Overloaded, s.Method)
	// Output:
	// weights per GPU: 16.1 GB; KV cache per token: 131 kB
	// decode step, 32 sequences at 1024 tokens: memory-bound
	// closed loop at 16: overloaded false, method closed-form
}

// The pure roofline (the "ideal" profile) of one decode step is the bytes every operator
// moves over the HBM bandwidth when all are memory-bound.
func ExampleDeployment_StepTime() {
	m, _ := (&models.Resolver{Offline: true}).Load(context.Background(), "meta-llama/Llama-3.1-8B-Instruct")
	cat, _ := hardware.Load()
	gpu, _ := cat.Lookup("H100 SXM")
	d, _ := estimator.New(estimator.Spec{Model: m, GPU: gpu, Profile: estimator.MustEngine("ideal")})
	b, _ := estimator.StepBatch("decode", 1, 1023)
	st := d.StepTime(b, true)
	fmt.Printf("%s, %s-bound, %s moved\n", st.Time, st.Bound, st.Bytes)
	// Output:
	// 4.52 ms, memory-bound, 15.2 GB moved
}
