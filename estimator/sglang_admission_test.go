package estimator

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// ratioScheduler is a bare lane of free one-token KV blocks (SGLang's page size 1) with an
// unlimited token budget and sequence count, admitting as profile p says.
func ratioScheduler(p *Profile, free int) *Scheduler {
	s := &Scheduler{budget: math.MaxInt32, maxSeqs: math.MaxInt32, block: 1, shift: 0, free: free}
	s.setAdmission(p)
	return s
}

// TestRatioAdmissionByHand: SGLang's admission with the sglang profile's knobs (init 0.7, min
// 0.098, 600 decay steps: δ = 0.602/600 = 0.00100333 per decode step), a lane of 2300 free KV
// tokens and three requests of 10 prompt and 1000 output tokens. Hand calculation
// (schedule_policy.py PrefillAdder: admit while prompt + output < free − reserve):
//   - step 0, nothing running: request 1 counts 10 + 1000 = 1010 < 2300 (left 1290), request 2
//     1010 < 1290 (left 280), request 3 1010 ≥ 280: two admitted (greedy admission would take
//     all three: 30 prompt tokens of 2300);
//   - step j ≥ 1 (after j tokens each; no decode in step 0, so j − 1 decays): each running
//     request holds 10 + j + 1 blocks, so free = 2300 − 2·(11 + j) = 2278 − 2j, and the
//     reserve is ratio_j · 2·(1000 − j) with ratio_j = 0.7 − (j − 1)·δ;
//   - j = 113: ratio 0.587627, free 2052, reserve 0.587627 · 1774 = 1042.45, 2052 − 1042.45 =
//     1009.55 < 1010: still out; j = 114: ratio 0.586623, free 2050, reserve 0.586623 · 1772 =
//     1039.50, 2050 − 1039.50 = 1010.50 > 1010: admitted in step 114;
//   - after step 114 the ratio has decayed 114 times: 0.7 − 114·δ = 0.585620; after 600 + 1
//     decode steps it rests at the floor 0.098;
//   - the three then hold 2·(11 + j) + (j − 103) = 3j − 81 blocks at step j (the third is 114
//     tokens behind), 2298 at j = 793: step 794 needs 3 more with 2 free, so decode retracts
//     the third (680 tokens against 794), and the ratio becomes (794 + 794 + 20·2)/2000 = 0.814.
func TestRatioAdmissionByHand(t *testing.T) {
	p := MustEngine("sglang")
	if p.Admission != "ratio" || p.NewTokenRatioInit != 0.7 || p.NewTokenRatioMin != 0.098 || p.NewTokenRatioDecaySteps != 600 {
		t.Fatalf("sglang profile: admission %q, ratio %g → %g over %g steps; the hand calculation assumes ratio, 0.7 → 0.098 over 600", p.Admission, p.NewTokenRatioInit, p.NewTokenRatioMin, p.NewTokenRatioDecaySteps)
	}
	s := ratioScheduler(p, 2300)
	reqs := make([]SchedRequest, 3)
	for i := range reqs {
		reqs[i] = SchedRequest{In: 10, Out: 1000}
		s.Enqueue(&reqs[i])
	}
	admitted := -1
	for step := 0; step < 2000 && !s.Idle(); step++ {
		if !s.Plan() {
			t.Fatalf("step %d: nothing to run", step)
		}
		if step == 0 && (s.Running() != 2 || s.Waiting() != 1) {
			t.Fatalf("step 0: %d running, %d waiting; want 2 admitted, 1 waiting", s.Running(), s.Waiting())
		}
		if admitted < 0 && s.Running() == 3 {
			admitted = step
			if want := 0.7 - 114*(0.7-0.098)/600; math.Abs(s.Ratio()-want) > 1e-9 {
				t.Errorf("ratio after step %d: %.6f, want 0.7 − 114·δ = %.6f", step, s.Ratio(), want)
			}
		}
		if step == 700 && math.Abs(s.Ratio()-0.098) > 1e-12 {
			t.Errorf("ratio after 700 decode steps: %g, want the floor 0.098", s.Ratio())
		}
		if step == 793 && s.Preemptions != 0 || step == 794 && (s.Preemptions != 1 || reqs[2].Preempted != 1) {
			t.Errorf("step %d: %d retractions (third request %d); want the first, of the third request, in step 794", step, s.Preemptions, reqs[2].Preempted)
		}
		if step == 794 && math.Abs(s.Ratio()-0.814) > 1e-12 {
			t.Errorf("ratio after the retraction in step 794: %g, want 0.814", s.Ratio())
		}
		s.Commit(float64(step + 1))
	}
	if admitted != 114 {
		t.Errorf("third request admitted in step %d, want 114 (hand calculation)", admitted)
	}
	if !s.Idle() || reqs[2].Generated != 1000 {
		t.Errorf("idle %v, third request generated %d; want every request done", s.Idle(), reqs[2].Generated)
	}
}

// TestRatioRetractionByHand: decode runs out of KV and SGLang's retract_decode takes the
// request with the fewest output tokens back to the queue. Ratio fixed at 0.1 (init = min),
// 20 retract steps, 650 free tokens, three requests of 100 prompt and 200 output tokens:
//   - step 0: A counts 300 < 650 (left 350), B 300 < 350 (left 50), C 300 ≥ 50: A and B run;
//   - step 1: A and B decode (each holds 102 blocks, free 446), reserve 0.1 · 2 · 199 = 39.8,
//     446 − 39.8 = 406.2 > 300: C is admitted (free 346);
//   - step j: A and B hold 101 + j blocks, C 100 + j (one token behind), 302 + 3j in all,
//     which fits 650 up to j = 116 (650 − 650 = 0 free) and not at j = 117: retraction in
//     step 117 of C (116 tokens against A's and B's 117), freeing its 216 blocks ≥ 20 · 2;
//   - the ratio becomes (117 + 117 + 20 · 2)/(200 + 200) = 0.685 (no decay from init = min);
//   - C (now 216 tokens to recompute + 84 outputs = 300) waits: at step j the free tokens
//     448 − 2j less 0.685 · 2 · (200 − j) shrink, so it returns when A and B finish (step 199).
func TestRatioRetractionByHand(t *testing.T) {
	p := *MustEngine("sglang")
	p.NewTokenRatioInit, p.NewTokenRatioMin, p.RetractDecodeSteps = 0.1, 0.1, 20
	s := ratioScheduler(&p, 650)
	reqs := []SchedRequest{{In: 100, Out: 200}, {In: 100, Out: 200}, {In: 100, Out: 200}}
	for i := range reqs {
		s.Enqueue(&reqs[i])
	}
	retractedAt, readmittedAt := -1, -1
	for step := 0; step < 2000 && !s.Idle(); step++ {
		s.Plan()
		switch {
		case step == 1 && s.Running() != 3:
			t.Fatalf("step 1: %d running, want C admitted (3)", s.Running())
		case retractedAt < 0 && s.Preemptions == 1:
			retractedAt = step
			if reqs[2].Preempted != 1 || reqs[0].Preempted+reqs[1].Preempted != 0 {
				t.Errorf("step %d: retracted A %d, B %d, C %d times; want C only (fewest output tokens)", step, reqs[0].Preempted, reqs[1].Preempted, reqs[2].Preempted)
			}
			if math.Abs(s.Ratio()-0.685) > 1e-12 {
				t.Errorf("ratio after the retraction %g, want (117 + 117 + 40)/400 = 0.685", s.Ratio())
			}
		case retractedAt >= 0 && readmittedAt < 0 && s.Running() > 0 && reqs[2].chunk > 0:
			readmittedAt = step
		}
		s.Commit(float64(step + 1))
	}
	if retractedAt != 117 || readmittedAt != 200 {
		t.Errorf("C retracted in step %d and readmitted in step %d, want 117 and 200 (after A and B end in step 199)", retractedAt, readmittedAt)
	}
	if s.Preemptions != 1 || reqs[2].Generated != 200 {
		t.Errorf("%d retractions, C generated %d; want 1 and 200", s.Preemptions, reqs[2].Generated)
	}
}

// TestRatioFullReserveNeverRetracts (property): with new_token_ratio fixed at 1 the admission
// test p + o < free − Σ(remaining prompt + remaining output) leaves, for every admitted
// request, the KV blocks of its whole remaining sequence free, so a lane whose requests
// know their output lengths never runs out of KV in decode: no retraction, whatever the
// cache size, lengths and arrivals — while the cache is small enough that admission does
// hold requests back (checked, so that the property is not vacuous). The blocks held plus
// free stay the lane's total at every step (as in TestSchedulerInvariants).
func TestRatioFullReserveNeverRetracts(t *testing.T) {
	p := *MustEngine("sglang")
	p.NewTokenRatioInit, p.NewTokenRatioMin = 1, 1
	r := rand.New(rand.NewPCG(11, 7))
	for c := range 30 {
		total := 2000 + r.IntN(20000)
		s := ratioScheduler(&p, total)
		s.budget = []int{256, 2048, math.MaxInt32}[r.IntN(3)]
		reqs := make([]SchedRequest, 60+r.IntN(100))
		for i := range reqs {
			reqs[i] = SchedRequest{Arrival: float64(i) * r.Float64() * 0.05, In: 1 + r.IntN(total/8), Out: 1 + r.IntN(total/8)}
		}
		now, next, done, held := 0.0, 0, 0, false
		for steps := 0; done < len(reqs) && steps < 1e6; steps++ {
			for next < len(reqs) && reqs[next].Arrival <= now {
				s.Enqueue(&reqs[next])
				next++
			}
			if s.Idle() || !s.Plan() {
				now = reqs[next].Arrival
				continue
			}
			held = held || s.Waiting() > 0 && s.Running() > 0
			sum := 0
			for _, x := range s.running {
				sum += x.blocks
			}
			if s.free < 0 || sum+s.free != total {
				t.Fatalf("case %d: %d blocks held + %d free ≠ %d", c, sum, s.free, total)
			}
			now += 0.01
			done += s.Commit(now)
		}
		if done != len(reqs) {
			t.Fatalf("case %d: %d of %d requests done", c, done, len(reqs))
		}
		if s.Preemptions != 0 {
			t.Errorf("case %d (%d KV tokens, budget %d): %d retractions with new_token_ratio 1", c, total, s.budget, s.Preemptions)
		}
		if !held {
			t.Errorf("case %d: admission never held a request back; the case does not test the reserve", c)
		}
	}
}

// TestRatioLittlesLaw (property): with SGLang's admission, whose queueing and retractions
// change who runs when, a closed loop still holds its clients: request_per_s × mean E2E =
// clients (Little's law, L = λ·W; a client resubmits when its reply ends, the API server's
// cost inside E2E), within 3% over 30 requests per client (a finite run counts its start and
// drain: at 4 per client greedy admission too falls 13% short). KV-bound cases (long
// sequences on a 48 GB L40S) are included and must queue.
func TestRatioLittlesLaw(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	r := rand.New(rand.NewPCG(3, 9))
	queued := 0
	for c := range 8 {
		d := mustDeploy(t, Spec{Model: m, GPU: mustGPU(t, []string{"L40S", "H100 SXM"}[c%2]), Profile: MustEngine("sglang"), MaxModelLen: 16384})
		in, out, clients := 500+r.IntN(6000), 100+r.IntN(2000), 8+r.IntN(120)
		w := Workload{Kind: Concurrency, InputLen: in, OutputLen: out, Concurrency: clients, NumRequests: 30 * clients}
		if c%3 == 0 {
			w.InputDist, w.OutputDist = RangeRatioDist(in, 0.5), RangeRatioDist(out, 0.5)
		}
		s, err := d.Simulate(w, 1)
		if err != nil {
			t.Fatalf("case %d: %v", c, err)
		}
		label := fmt.Sprintf("case %d: %d clients, %d/%d tokens on %s", c, clients, in, out, d.GPU.Name)
		if l := s.RequestPerS * s.E2E.Mean / 1e3; math.Abs(l/float64(clients)-1) > 0.03 {
			t.Errorf("%s: %.3f req/s × %.0f ms = %.2f clients, want %d (Little's law)", label, s.RequestPerS, s.E2E.Mean, l, clients)
		}
		if s.Batch < float64(clients)*0.9 {
			queued++
		}
	}
	if queued < 2 {
		t.Errorf("only %d cases queued requests: the admission's limit is not exercised", queued)
	}
}

// TestDeepSeekR1SGLangLongPrompts is the case that showed greedy admission's thrashing:
// DeepSeek-R1 on 8 H200 (TP8), SGLang, 8192 prompt and 1024 output tokens, closed loop. The
// KV cache holds 668,237 tokens (TP ranks each hold the whole latent cache), 72 requests of
// 9216 tokens. At 128 clients greedy admission (vLLM's) took every prompt that fit and
// preempted 635 times, its output 1015 tok/s below the 1067 tok/s of 64 clients. SGLang
// admits while the prompts plus new_token_ratio of the outputs fit, queues the rest (TTFT
// grows) and retracts a request only when the decaying ratio has let in more than the cache
// holds at the end of their outputs (its log: "KV cache pool is full. Retract requests."):
//   - output tok/s at 128 clients at least 98% of that at 64 (the extra clients cannot add
//     throughput once the cache is full; 2% allows for the run's drain);
//   - retractions below 5% of the 1280 requests (each costs a recomputed 8k-token prompt);
//   - mean TTFT at 128 clients above that at 64 (the queue).
func TestDeepSeekR1SGLangLongPrompts(t *testing.T) {
	d := mustDeploy(t, Spec{Model: mustModel(t, "deepseek-ai/DeepSeek-R1"), GPU: mustGPU(t, "H200"), TP: 8, Profile: MustEngine("sglang")})
	run := func(c int) Serving {
		t.Helper()
		s, err := d.Predict(Workload{Kind: Concurrency, InputLen: 8192, OutputLen: 1024, Concurrency: c}, 1)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s64, s128 := run(64), run(128)
	if s128.OutputTokS < 0.98*s64.OutputTokS {
		t.Errorf("output %.0f tok/s at 128 clients, below 98%% of %.0f at 64", s128.OutputTokS, s64.OutputTokS)
	}
	if s128.Preemptions > 64 {
		t.Errorf("%d retractions at 128 clients (1280 requests), want fewer than 64 (5%%)", s128.Preemptions)
	}
	if s128.TTFT.Mean <= s64.TTFT.Mean {
		t.Errorf("TTFT %.0f ms at 128 clients, %.0f ms at 64: the extra clients should queue", s128.TTFT.Mean, s64.TTFT.Mean)
	}
}

// TestRatioClosedFormDefers: where SGLang's admission can hold requests back — the running
// sequences' prompts and outputs exceed the KV cache, or an offline run's do — Predict
// simulates and says why; below that bound the closed form stands (the reserve counts at most
// every prompt and output, so it cannot bind there). Llama-3.1-8B on one L40S: KV cache
// between 8 and 28 sequences of 4096 + 4096 tokens (checked; 128 KiB per token), so 25
// requests of 8192 tokens exceed it while the batch the closed form allows, KV/(4096 +
// 4096/2), holds 25; 8 do not.
func TestRatioClosedFormDefers(t *testing.T) {
	d := mustDeploy(t, Spec{Model: mustModel(t, "meta-llama/Llama-3.1-8B-Instruct"), GPU: mustGPU(t, "L40S"), Profile: MustEngine("sglang")})
	kv := float64(d.Memory().KVCacheTokens)
	if kv < 8*8192 || kv > 25*8192 || kv/6144 < 25 {
		t.Fatalf("KV cache %g tokens: the cases below assume between 8 and 25 sequences of 8192 and a batch of 25 at 6144", kv)
	}
	off, err := d.Predict(Workload{Kind: Offline, InputLen: 4096, OutputLen: 4096, NumRequests: 25}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if off.Method != "simulation" || !strings.Contains(off.MethodReason, "admission (ratio)") {
		t.Errorf("offline 25 × 8192 tokens: %s (%q), want the simulation, naming the admission", off.Method, off.MethodReason)
	}
	drawn := Workload{Kind: Concurrency, InputLen: 4096, OutputLen: 4096, Concurrency: 25, NumRequests: 100,
		InputDist: RangeRatioDist(4096, 0.8), OutputDist: RangeRatioDist(4096, 0.8)}
	cl, err := d.Predict(drawn, 1)
	if err != nil {
		t.Fatal(err)
	}
	if cl.Method != "simulation" || !strings.Contains(cl.MethodReason, "new_token_ratio") {
		t.Errorf("25 clients × 8192 drawn tokens: %s (%q), want the simulation, naming new_token_ratio", cl.Method, cl.MethodReason)
	}
	small, err := d.Predict(Workload{Kind: Offline, InputLen: 4096, OutputLen: 4096, NumRequests: 8}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if small.Method != "closed-form" {
		t.Errorf("offline 8 × 8192 tokens: %s (%q), want the closed form", small.Method, small.MethodReason)
	}
}

// TestParseProfileRatioKnobs: admission "ratio" needs its knobs in range; each error names
// the field and its allowed values.
func TestParseProfileRatioKnobs(t *testing.T) {
	base := "name = \"x\"\nadmission = \"ratio\"\nnew_token_ratio_decay_steps = 600\n"
	for _, c := range []struct{ doc, want string }{
		{base + "new_token_ratio_init = 0\n", "new_token_ratio_init = 0: must be a fraction in (0, 1]"},
		{base + "new_token_ratio_init = 1.5\n", "new_token_ratio_init = 1.5"},
		{base + "new_token_ratio_init = 0.5\nnew_token_ratio_min = 0.6\n", "new_token_ratio_min = 0.6: must be in [0, new_token_ratio_init = 0.5]"},
		{"name = \"x\"\nadmission = \"ratio\"\nnew_token_ratio_init = 0.7\n", "new_token_ratio_decay_steps = 0: must be in [1, 1e9]"},
		{base + "new_token_ratio_init = 0.7\nretract_decode_steps = -1\n", "must be ≥ 0"},
	} {
		_, err := ParseProfile("p.toml", []byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %q", c.doc, err, c.want)
		}
	}
	if _, err := ParseProfile("p.toml", []byte(base+"new_token_ratio_init = 0.7\nnew_token_ratio_min = 0.098\n")); err != nil {
		t.Errorf("valid ratio profile: %v", err)
	}
}

// TestRatioInsideClosedFormIsGreedy (property): inside the closed form's region of validity
// SGLang's admission never holds a request back — the region ends where the running
// sequences' prompts and whole outputs exceed the KV cache, and the reserve counts no more
// than those — so there the simulation with admission "ratio" gives the numbers of greedy
// admission (the scheduler the closed form describes) exactly. Outside it, in the KV-bound
// cases, the two differ (checked: else the comparison could not fail). Random Llama-3.1-8B
// cases on L40S, H100 and A100 with drawn lengths (--random-range-ratio 0.6), closed loops
// of 4-124 clients and open loops at 10-70% of the sustainable rate.
func TestRatioInsideClosedFormIsGreedy(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	ratio := MustEngine("sglang")
	greedy := *ratio
	greedy.Admission = "greedy"
	inside, differ := 0, 0
	defer func() {
		t.Logf("%d cases inside the region, %d KV-bound ones where the admissions differ", inside, differ)
	}()
	for c := range 28 {
		g := mustGPU(t, []string{"L40S", "H100 SXM", "A100 SXM4 80GB"}[r.IntN(3)])
		dr := mustDeploy(t, Spec{Model: m, GPU: g, Profile: ratio, MaxModelLen: 16384})
		dg := mustDeploy(t, Spec{Model: m, GPU: g, Profile: &greedy, MaxModelLen: 16384})
		il, ol := 500+r.IntN(6000), 100+r.IntN(3000)
		w := Workload{InputLen: il, OutputLen: ol, NumRequests: 300, InputDist: RangeRatioDist(il, 0.6), OutputDist: RangeRatioDist(ol, 0.6)}
		if r.IntN(2) == 0 {
			w.Kind, w.Concurrency = Concurrency, 4+r.IntN(120)
		} else {
			ref, err := dr.Serve(Workload{Kind: Rate, RequestRate: 1, InputLen: il, OutputLen: ol})
			if err != nil {
				t.Fatal(err)
			}
			w.Kind, w.RequestRate, w.Burstiness = Rate, ref.MaxRequestRate*(0.1+0.6*r.Float64()), 1
		}
		label := fmt.Sprintf("case %d: %s, %s, %d clients, %.3g req/s, %d/%d tokens", c, g.Name, w.Kind, w.Concurrency, w.RequestRate, il, ol)
		valid, why, err := dr.ClosedFormValid(w)
		if err != nil {
			t.Fatal(err)
		}
		a, err := dr.Simulate(w, 1)
		if err != nil {
			t.Fatal(err)
		}
		b, err := dg.Simulate(w, 1)
		if err != nil {
			t.Fatal(err)
		}
		same := fmt.Sprintf("%+v", a) == fmt.Sprintf("%+v", b)
		if valid {
			inside++
			if !same {
				t.Errorf("%s: inside the closed form's region, ratio admission gives TTFT %.1f ms, %.1f tok/s, greedy %.1f ms, %.1f tok/s", label, a.TTFT.Mean, a.OutputTokS, b.TTFT.Mean, b.OutputTokS)
			}
		} else if !same && strings.Contains(why, "KV-bound") {
			differ++
		}
	}
	if inside < 15 || differ == 0 {
		t.Errorf("%d cases inside the region, %d KV-bound ones where the admissions differ; want ≥ 15 and ≥ 1", inside, differ)
	}
}
