package estimator

import (
	"math"
	"testing"
)

// TestSimulateLanesLittlesLaw: the simulation runs one lane (a DP replica) with the
// workload's share of clients, rounded to whole clients, and scaled its rates by the number
// of lanes. With a concurrency that is not a multiple of the lanes that priced clients who do
// not exist: 4 clients on 8 DP replicas of Llama-3.1-8B ran as 8 (each replica one client),
// twice the throughput 4 clients can produce. Independent checks:
//   - Little's law for a closed loop (L = λ·W): the clients in the system equal the request
//     rate times the time each spends per request; a client resubmits as soon as its reply
//     ends and the API server's cost is inside E2E, so request_per_s × mean E2E = concurrency
//     (within 3%: a finite run's rate counts its drain, when the last clients run alone);
//   - 4 clients on 8 replicas are 4 busy replicas identical to the 8 of concurrency 8 (one
//     client each): half the request rate, the same latencies.
//
// Static batches: 4 requests on 8 replicas are 4 requests, not 8.
func TestSimulateLanesLittlesLaw(t *testing.T) {
	d := mustDeploy(t, Spec{Model: mustModel(t, "meta-llama/Llama-3.1-8B-Instruct"), GPU: mustGPU(t, "H100 SXM"), DP: 8})
	sim := func(w Workload) Serving {
		t.Helper()
		s, err := d.Simulate(w, 1)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, c := range []int{4, 8, 12, 20} {
		s := sim(Workload{Kind: Concurrency, InputLen: 1024, OutputLen: 256, Concurrency: c, NumRequests: 400})
		if l := s.RequestPerS * s.E2E.Mean / 1e3; math.Abs(l/float64(c)-1) > 0.03 {
			t.Errorf("concurrency %d on 8 replicas: %.3f req/s × %.1f ms = %.2f clients in the system, want %d (Little's law)", c, s.RequestPerS, s.E2E.Mean, l, c)
		}
	}
	four := sim(Workload{Kind: Concurrency, InputLen: 1024, OutputLen: 256, Concurrency: 4, NumRequests: 400})
	eight := sim(Workload{Kind: Concurrency, InputLen: 1024, OutputLen: 256, Concurrency: 8, NumRequests: 400})
	if math.Abs(four.RequestPerS/eight.RequestPerS-0.5) > 1e-9 || four.E2E.Mean != eight.E2E.Mean {
		t.Errorf("4 vs 8 clients on 8 replicas: %.3f vs %.3f req/s, E2E %.1f vs %.1f ms; want half the rate and the same E2E", four.RequestPerS, eight.RequestPerS, four.E2E.Mean, eight.E2E.Mean)
	}
	b4 := sim(Workload{Kind: Static, InputLen: 1024, OutputLen: 256, BatchSize: 4})
	b8 := sim(Workload{Kind: Static, InputLen: 1024, OutputLen: 256, BatchSize: 8})
	if math.Abs(b4.OutputTokS/b8.OutputTokS-0.5) > 1e-9 {
		t.Errorf("static batch 4 vs 8 on 8 replicas: %.0f vs %.0f output tok/s, want half (4 × 256 tokens in the same elapsed time)", b4.OutputTokS, b8.OutputTokS)
	}
}
