package estimator_test

import (
	"context"
	"fmt"

	"roofline/estimator"
	"roofline/hardware"
	"roofline/models"
)

// A planner answers "how many H100s serve 20 req/s of 1000/200-token requests with p95 TTFT
// under 500 ms?" with the cheapest fleet of replicas it finds.
func ExamplePlanner_GPU() {
	m, _ := (&models.Resolver{Offline: true}).Load(context.Background(), "meta-llama/Llama-3.1-8B-Instruct")
	cat, _ := hardware.Load()
	gpu, _ := cat.Lookup("H100 SXM")
	c, _ := estimator.ParseConstraint("ttft:p95<500ms")
	pl := estimator.Planner{Model: m, Profile: estimator.MustEngine("vllm"), Constraints: []estimator.Constraint{c},
		Workload:          estimator.Workload{Kind: estimator.Rate, RequestRate: 20, InputLen: 1000, OutputLen: 200},
		MaxGPUsPerReplica: 2, MaxReplicas: 16, PricePerGPUHour: 2}
	p, err := pl.GPU(gpu)
	if err != nil || p.Best == nil {
		fmt.Println(err, p.Note)
		return
	}
	fmt.Printf("fits on %d GPU; cheapest: %d replica(s) of tp=%d, %d GPU(s), $%.2f/hour\n", p.MinGPUs["checkpoint"], p.Best.Replicas, p.Best.TP, p.Best.TotalGPUs, *p.Best.CostPerHour)
	// Output:
	// fits on 1 GPU; cheapest: 1 replica(s) of tp=1, 1 GPU(s), $2.00/hour
}
