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

// TestClosedFormFewerClientsThanLanes: with fewer clients than DP replicas each client has a
// replica to itself, so its TTFT, TPOT and E2E are those of one request on one replica
// (the same Llama-3.1-8B on one H100 at concurrency 1) and the request rate is the clients'
// count times that replica's (Little's law). The closed form evaluated a fractional running
// batch instead (estimate --engine vllm: at 4 clients on 8 replicas TTFT 31.1 ms against 27.9 ms at 8 clients and on
// one replica), a prompt charged part of a prefill step on an empty engine plus a whole decode
// step that nobody ran (fewer users, longer wait).
func TestClosedFormFewerClientsThanLanes(t *testing.T) {
	m, g := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct"), mustGPU(t, "H100 SXM")
	serve := func(dp, c int) Serving {
		t.Helper()
		s, err := mustDeploy(t, Spec{Model: m, GPU: g, DP: dp}).Serve(Workload{Kind: Concurrency, InputLen: 1024, OutputLen: 256, Concurrency: c})
		if err != nil {
			t.Fatal(err)
		}
		if s.Method != "closed-form" {
			t.Fatalf("dp %d, concurrency %d: method %s, want the closed form", dp, c, s.Method)
		}
		return s
	}
	one := serve(1, 1)
	for _, c := range []int{1, 2, 4, 8} {
		s := serve(8, c)
		if math.Abs(s.TTFT.Mean/one.TTFT.Mean-1) > 1e-9 || math.Abs(s.TPOT.Mean/one.TPOT.Mean-1) > 1e-9 || math.Abs(s.E2E.Mean/one.E2E.Mean-1) > 1e-9 {
			t.Errorf("%d clients on 8 replicas: TTFT %.2f, TPOT %.3f, E2E %.1f ms; want one request on one replica's %.2f, %.3f, %.1f ms",
				c, s.TTFT.Mean, s.TPOT.Mean, s.E2E.Mean, one.TTFT.Mean, one.TPOT.Mean, one.E2E.Mean)
		}
		if want := float64(c) * one.RequestPerS; math.Abs(s.RequestPerS/want-1) > 1e-9 {
			t.Errorf("%d clients on 8 replicas: %.4f req/s, want %d × %.4f = %.4f", c, s.RequestPerS, c, one.RequestPerS, want)
		}
		if want := float64(c) / 8; math.Abs(s.Batch-want) > 1e-9 {
			t.Errorf("%d clients on 8 replicas: mean running batch %.3f per replica, want %d/8 = %.3f", c, s.Batch, c, want)
		}
	}
}

// TestFewerRequestsThanLanes: runs of fewer requests than DP replicas or than clients.
// Independent checks:
//   - a closed loop of 3 clients running only 2 requests has 2 in flight (vllm bench serve
//     with --num-prompts 2 --max-concurrency 3), one per replica, so request_per_s × mean E2E
//     = 2 (Little's law), in the closed form and the simulation; both priced 3;
//   - an open loop of 3 requests can complete no faster than 3 per E2E of one of them, and
//     no faster than the 5 req/s offered; the simulation scaled one replica's single request by
//     the 8 replicas and reported 6.2 req/s;
//   - a static batch of 3 prompts on 8 replicas is one prompt per replica, so its closed-form
//     TTFT is one prompt's on one replica (batch 1 on DP 1) and equals the simulation's; the
//     fractional batch (3/8 of a request) priced 3/8 of a prompt: 15.4 ms against 27.4 ms.
func TestFewerRequestsThanLanes(t *testing.T) {
	m, g := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct"), mustGPU(t, "H100 SXM")
	d := mustDeploy(t, Spec{Model: m, GPU: g, DP: 8})
	closed := Workload{Kind: Concurrency, InputLen: 1000, OutputLen: 200, Concurrency: 3, NumRequests: 2}
	cf, err := d.Serve(closed)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := d.Simulate(closed, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []Serving{cf, sim} {
		if l := s.RequestPerS * s.E2E.Mean / 1e3; math.Abs(l/2-1) > 0.03 {
			t.Errorf("%s: 3 clients, 2 requests on 8 replicas: %.3f req/s × %.1f ms = %.2f in flight, want 2", s.Method, s.RequestPerS, s.E2E.Mean, l)
		}
	}
	// 8 clients running 12 requests on 8 replicas: 8 at once, then 4, each alone on its
	// replica, so the run lasts two E2Es and completes 12/(2·E2E); the simulated replica ran
	// 2 requests with its one client and was scaled by the 8 clients (8/E2E).
	short, err := d.Simulate(Workload{Kind: Concurrency, InputLen: 1000, OutputLen: 200, Concurrency: 8, NumRequests: 12}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := 12 / (2 * short.E2E.Mean / 1e3); math.Abs(short.RequestPerS/want-1) > 0.03 {
		t.Errorf("8 clients, 12 requests on 8 replicas: %.3f req/s, want 12 / (2 × %.1f ms) = %.3f", short.RequestPerS, short.E2E.Mean, want)
	}
	open, err := d.Simulate(Workload{Kind: Rate, InputLen: 1000, OutputLen: 200, RequestRate: 5, NumRequests: 3}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if limit := min(5, 3/(open.E2E.Mean/1e3)); open.RequestPerS > limit*(1+1e-9) {
		t.Errorf("3 requests at 5 req/s on 8 replicas: %.2f req/s, want at most min(5, 3 / %.3f s) = %.2f", open.RequestPerS, open.E2E.Mean/1e3, limit)
	}
	one, err := mustDeploy(t, Spec{Model: m, GPU: g}).Serve(Workload{Kind: Static, InputLen: 1000, OutputLen: 200, BatchSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	batch := Workload{Kind: Static, InputLen: 1000, OutputLen: 200, BatchSize: 3}
	b3, err := d.Serve(batch)
	if err != nil {
		t.Fatal(err)
	}
	b3sim, err := d.Simulate(batch, 1)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(b3.TTFT.Mean/one.TTFT.Mean-1) > 1e-9 || math.Abs(b3.TTFT.Mean/b3sim.TTFT.Mean-1) > 0.02 {
		t.Errorf("static batch 3 on 8 replicas: TTFT %.2f ms (simulation %.2f), want one prompt on one replica's %.2f ms", b3.TTFT.Mean, b3sim.TTFT.Mean, one.TTFT.Mean)
	}
	if want := 3 * one.RequestPerS; math.Abs(b3.RequestPerS/want-1) > 1e-9 {
		t.Errorf("static batch 3 on 8 replicas: %.3f req/s, want 3 × one replica's %.3f", b3.RequestPerS, one.RequestPerS)
	}
}
