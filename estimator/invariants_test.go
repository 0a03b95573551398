package estimator

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"roofline/hardware"
	"roofline/models"
)

// Invariants every prediction must keep, whatever the deployment and workload. Each is
// numbered; a failure names its number, the case and the seed that drew it. The suite draws
// random valid deployments (model × GPU × TP × dtype × engine × memory and scheduler knobs) and
// workloads (lengths, closed or open loop, light to near saturation) from a fixed seed and
// checks the closed form (Serve), the memory plan (Memory), the cost (CostOf), and, on a
// sample, Sweep and Planner against Serve. The scheduler's own invariants (every request
// finishes, max_num_seqs and KV blocks respected, tokens conserved) are in
// scheduler_invariants_test.go where that file exists.
//
//	INV-P1  percentiles ordered: median ≤ p90 ≤ p95 ≤ p99 for TTFT, ITL, TPOT and E2E;
//	INV-P2  every mean and percentile within [min, max];
//	INV-P3  achieved request rate ≤ sustainable rate (MaxRequestRate), and an open loop
//	        below it is not overloaded;
//	INV-P4  in offered load (concurrency or request rate) up to saturation, output
//	        throughput and mean TTFT never decrease;
//	INV-P5  more replicas at the same load per replica are never slower (mean TTFT and E2E)
//	        and serve the load in proportion (throughput × replicas);
//	INV-P6  fits ⇒ the KV cache holds at least one max_model_len sequence (tokens and bytes);
//	INV-P7  cost × throughput = price × GPUs: Per1MOutput · output tok/s · 3600 / 10⁶ = $/h;
//	INV-P8  memory parts sum to the total: weights + activations + non-torch + reserve + KV
//	        = fraction × memory (vLLM accounting, when the KV pool is not empty), and never
//	        exceed the memory for any accounting;
//	INV-P9  estimate (Serve), sweep and plan agree for the same configuration: the same TTFT,
//	        throughput and cost.
//
// Tolerances are relative 1e-9 (floating point) unless a check says otherwise.
//
// Known violations. The closed form still breaks an invariant on some of the drawn cases
// (INV-P2, INV-P3 and INV-P4 were fixed since the suite was written); such cases are counted, not
// hidden: each entry has a ceiling (a measured count, same seed) that a change may lower but
// not raise, and the test logs the first example. Lower a ceiling, or delete its entry, when
// a change fixes them.
var knownViolations = map[string]struct {
	ceiling int
	why     string
}{}

// invariantCases is the number of random cases drawn (≥ 10,000, within a few seconds).
const invariantCases = 10000

type invDep struct {
	model, gpu string
	tps        []int
}

var invMenu = []invDep{
	{"meta-llama/Llama-3.1-8B-Instruct", "H100 SXM", []int{1, 2, 4}},
	{"meta-llama/Llama-3.1-8B-Instruct", "A100 SXM4 80GB", []int{1, 2}},
	{"meta-llama/Llama-3.1-8B-Instruct", "L40S", []int{1, 2}},
	{"meta-llama/Llama-3.1-70B-Instruct", "H100 SXM", []int{2, 4, 8}},
	{"meta-llama/Llama-3.1-70B-Instruct", "H200", []int{1, 2, 4}},
	{"mistralai/Mixtral-8x7B-Instruct-v0.1", "H100 SXM", []int{2, 4}},
	{"google/gemma-2-9b-it", "H100 SXM", []int{1, 2}},
	{"meta-llama/Llama-3.2-1B-Instruct", "L4", []int{1}},
}

// invCase is one drawn case, printable for a failure message.
type invCase struct {
	spec Spec
	w    Workload
	seed int
}

func (c invCase) String() string {
	load := fmt.Sprintf("concurrency %d", c.w.Concurrency)
	if c.w.Kind == Rate {
		load = fmt.Sprintf("rate %.4g req/s", c.w.RequestRate)
	}
	return fmt.Sprintf("case %d: %s on %s tp=%d dp=%d %s/%s %s mem %.2f len %d seqs %d budget %d; %d/%d tokens, %s",
		c.seed, c.spec.Model.ID, c.spec.GPU.ID, c.spec.TP, c.spec.DP, c.spec.WeightDtype, c.spec.KVDtype, c.spec.Profile.Name, c.spec.MemoryFraction,
		c.spec.MaxModelLen, c.spec.MaxNumSeqs, c.spec.MaxNumBatchedTokens, c.w.InputLen, c.w.OutputLen, load)
}

func relLE(a, b float64) bool { return a <= b+1e-9*math.Max(math.Abs(a), math.Abs(b))+1e-12 }

func TestInvariants(t *testing.T) {
	start := time.Now()
	mods := map[string]*models.Model{}
	gpus := map[string]*hardware.GPU{}
	for _, d := range invMenu {
		if mods[d.model] == nil {
			mods[d.model] = mustModel(t, d.model)
		}
		if gpus[d.gpu] == nil {
			gpus[d.gpu] = mustGPU(t, d.gpu)
		}
	}
	profiles := []*Profile{MustEngine("vllm"), MustEngine("sglang"), MustEngine("trtllm")}
	r := rand.New(rand.NewPCG(16, 2026))
	pick := func(xs ...int) int { return xs[r.IntN(len(xs))] }
	checked, served, pairs := 0, 0, 0
	known, example := map[string]int{}, map[string]string{}
	fail := func(inv string, c invCase, format string, a ...any) {
		t.Helper()
		msg := fmt.Sprintf("INV-%s %v: %s", inv, c, fmt.Sprintf(format, a...))
		if _, ok := knownViolations[inv]; ok {
			if known[inv]++; known[inv] == 1 {
				example[inv] = msg
			}
			return
		}
		t.Error(msg)
	}
	for i := 0; i < invariantCases; i++ {
		dp := invMenu[r.IntN(len(invMenu))]
		c := invCase{seed: i}
		c.spec = Spec{Model: mods[dp.model], GPU: gpus[dp.gpu], TP: dp.tps[r.IntN(len(dp.tps))], Profile: profiles[r.IntN(len(profiles))],
			WeightDtype: []string{"", "", "fp8"}[r.IntN(3)], KVDtype: []string{"", "fp8"}[r.IntN(2)],
			MemoryFraction: []float64{0, 0.8, 0.9, 0.95}[r.IntN(4)], MaxModelLen: pick(4096, 8192, 32768),
			MaxNumSeqs: pick(0, 64, 256), MaxNumBatchedTokens: pick(0, 2048, 8192)}
		if c.spec.MaxNumSeqs > c.spec.MaxNumBatchedTokens && c.spec.MaxNumBatchedTokens > 0 {
			c.spec.MaxNumBatchedTokens = 0
		}
		d, err := New(c.spec)
		if err != nil {
			continue // not a valid deployment (e.g. no fp8 on the GPU): nothing to check
		}
		c.spec = d.Spec
		checked++
		mem := d.Memory()
		// INV-P6
		if mem.Fits && (mem.KVCacheTokens < d.MaxModelLen || mem.KVCacheBytes < d.KVSequenceBytes(d.MaxModelLen, 1)) {
			fail("P6", c, "fits with a KV cache of %d tokens (%v) for max_model_len %d (%v)", mem.KVCacheTokens, mem.KVCacheBytes, d.MaxModelLen, d.KVSequenceBytes(d.MaxModelLen, 1))
		}
		// INV-P8
		parts := float64(mem.WeightsBytes + mem.ActivationBytes + mem.NonTorchBytes + mem.ReserveBytes + mem.KVCacheBytes)
		if mem.Engine == "vllm" && mem.KVCacheBytes > 0 {
			if want := mem.MemoryFraction * float64(mem.TotalBytes); math.Abs(parts-want) > 1e-9*want+1 {
				fail("P8", c, "parts %.0f B ≠ fraction × memory %.0f B", parts, want)
			}
		}
		if mem.KVCacheBytes > 0 && !relLE(parts, float64(mem.TotalBytes)) {
			fail("P8", c, "parts %.0f B exceed the memory %.0f B", parts, float64(mem.TotalBytes))
		}
		if !mem.Fits {
			continue
		}
		ctxMax := d.MaxModelLen
		out := 1 + r.IntN(min(1000, ctxMax/4))
		in := 16 + r.IntN(min(4000, ctxMax-out-16))
		c.w = Workload{InputLen: in, OutputLen: out}
		open := r.IntN(2) == 0
		if open {
			c.w.Kind, c.w.RequestRate, c.w.Burstiness = Rate, 1, 1
		} else {
			c.w.Kind, c.w.Concurrency = Concurrency, 1+r.IntN(512)
		}
		var s Serving
		if open {
			// Draw the rate as a fraction of what the deployment sustains.
			probe, err := d.Serve(c.w)
			if err != nil {
				fail("serve", c, "%v", err)
				continue
			}
			c.w.RequestRate = probe.MaxRequestRate * (0.02 + 0.95*r.Float64())
		}
		s, err = d.Serve(c.w)
		if err != nil {
			fail("serve", c, "%v", err)
			continue
		}
		served++
		checkServing(t, c, s, fail)
		// INV-P7
		price := 0.5 + 10*r.Float64()
		if cost, ok := CostOf(price*float64(d.NumGPUs), &s); ok {
			if got, want := cost.Per1MOutput*s.OutputTokS*3600/1e6, price*float64(d.NumGPUs); math.Abs(got-want) > 1e-9*want {
				fail("P7", c, "cost × throughput %.12g $/h ≠ price × GPUs %.12g $/h", got, want)
			}
		} else if !s.Overloaded && s.OutputTokS > 0 {
			fail("P7", c, "no cost at %g $/GPU-hour for %g output tok/s", price, s.OutputTokS)
		}
		// INV-P4: a higher load on the same deployment.
		if !s.Overloaded {
			w2 := c.w
			if open {
				w2.RequestRate = c.w.RequestRate + (s.MaxRequestRate*0.97-c.w.RequestRate)*r.Float64()
			} else {
				w2.Concurrency = c.w.Concurrency + 1 + r.IntN(c.w.Concurrency)
			}
			if s2, err := d.Serve(w2); err == nil && !s2.Overloaded {
				pairs++
				if !relLE(s.OutputTokS, s2.OutputTokS) || !relLE(s.TTFT.Mean, s2.TTFT.Mean) {
					fail("P4", c, "load %s → %s: output %g → %g tok/s, TTFT mean %g → %g ms", loadOf(c.w), loadOf(w2), s.OutputTokS, s2.OutputTokS, s.TTFT.Mean, s2.TTFT.Mean)
				}
			}
		}
		// INV-P5: two replicas at twice the load (every fourth case: it builds a deployment).
		if i%4 == 0 {
			sp2 := c.spec
			sp2.DP, sp2.NumGPUs = 2*c.spec.DP, 0
			if d2, err := New(sp2); err == nil {
				w2 := c.w
				w2.Concurrency, w2.RequestRate = 2*c.w.Concurrency, 2*c.w.RequestRate
				if s2, err := d2.Serve(w2); err == nil {
					pairs++
					if s2.Overloaded != s.Overloaded || !s.Overloaded && (!relLE(s2.TTFT.Mean, s.TTFT.Mean) || !relLE(s2.E2E.Mean, s.E2E.Mean) ||
						!relLE(2*s.OutputTokS, s2.OutputTokS)) {
						fail("P5", c, "dp %d → %d at twice the load: TTFT %g → %g ms, E2E %g → %g ms, output %g → %g tok/s, overloaded %v → %v",
							c.spec.DP, sp2.DP, s.TTFT.Mean, s2.TTFT.Mean, s.E2E.Mean, s2.E2E.Mean, s.OutputTokS, s2.OutputTokS, s.Overloaded, s2.Overloaded)
					}
				}
			}
		}
		// INV-P9 on a sample (a sweep and a plan are heavier).
		if i%200 == 0 && !s.Overloaded {
			checkAgreement(t, c, d, s, price, fail)
		}
		if t.Failed() && testing.Short() {
			break
		}
	}
	t.Logf("%d cases drawn: %d valid deployments, %d served, %d load/replica pairs, in %v", invariantCases, checked, served, pairs, time.Since(start).Round(time.Millisecond))
	for inv, k := range knownViolations {
		switch n := known[inv]; {
		case n > k.ceiling:
			t.Errorf("INV-%s: %d violations, more than the %d known (%s); first: %s", inv, n, k.ceiling, k.why, example[inv])
		case n > 0:
			t.Logf("INV-%s: %d known violations of %d cases (ceiling %d: %s); first: %s", inv, n, invariantCases, k.ceiling, k.why, example[inv])
		default:
			t.Logf("INV-%s: no violation any more: delete its knownViolations entry", inv)
		}
	}
	if checked < invariantCases/2 || served < invariantCases/4 {
		t.Errorf("only %d valid deployments and %d served cases of %d: the menu draws too many invalid ones", checked, served, invariantCases)
	}
}

func loadOf(w Workload) string {
	if w.Kind == Rate {
		return fmt.Sprintf("%.4g req/s", w.RequestRate)
	}
	return fmt.Sprint(w.Concurrency)
}

// checkServing checks INV-P1, INV-P2 and INV-P3 on one prediction.
func checkServing(t *testing.T, c invCase, s Serving, fail func(string, invCase, string, ...any)) {
	t.Helper()
	for _, x := range []struct {
		name string
		d    Dist
	}{{"TTFT", s.TTFT}, {"ITL", s.ITL}, {"TPOT", s.TPOT}, {"E2E", s.E2E}} {
		d := x.d
		if math.IsInf(d.Mean, 1) || d == (Dist{}) {
			continue
		}
		if !(relLE(d.Median, d.P90) && relLE(d.P90, d.P95) && relLE(d.P95, d.P99)) {
			fail("P1/"+x.name, c, "percentiles out of order: %+v", d)
		}
		for _, v := range []float64{d.Mean, d.Median, d.P90, d.P95, d.P99} {
			if !relLE(d.Min, v) || !relLE(v, d.Max) {
				fail("P2/"+x.name, c, "%g outside [min %g, max %g]", v, d.Min, d.Max)
				break
			}
		}
	}
	if !relLE(s.RequestPerS, s.MaxRequestRate) {
		fail("P3", c, "achieved %g req/s above the sustainable %g", s.RequestPerS, s.MaxRequestRate)
	}
	if c.w.Kind == Rate && c.w.RequestRate < s.MaxRequestRate*(1-1e-9) && s.Overloaded {
		fail("P3", c, "overloaded at %g req/s below the sustainable %g", c.w.RequestRate, s.MaxRequestRate)
	}
}

// checkAgreement checks INV-P9: a one-configuration sweep and a one-GPU-type plan give what
// Serve gives for the same deployment and load.
func checkAgreement(t *testing.T, c invCase, d *Deployment, s Serving, price float64, fail func(string, invCase, string, ...any)) {
	t.Helper()
	sp := SweepSpace{Model: d.Model, GPUs: []*hardware.GPU{d.GPU}, NumGPUs: []int{d.NumGPUs}, MaxTP: d.TP, Profiles: []*Profile{d.Profile},
		WeightDtypes: []string{d.WeightDtype}, KVDtypes: []string{d.KVDtype}, MaxNumSeqs: []int{d.MaxNumSeqs}, MaxNumBatchedTokens: []int{d.MaxNumBatchedTokens},
		MemoryFraction: d.MemoryFraction, MaxModelLen: d.MaxModelLen, Workload: c.w}
	if c.w.Kind == Rate {
		sp.RequestRates = []float64{c.w.RequestRate}
	} else {
		sp.Concurrencies = []int{c.w.Concurrency}
	}
	res, err := Sweep(context.Background(), sp, SweepOptions{PriceUSDPerGPUHour: price, Workers: 1})
	if err != nil {
		fail("P9", c, "sweep: %v", err)
		return
	}
	found := false
	for _, p := range res.Points {
		if p.TP != d.TP || p.PP != d.PP || p.DP != d.DP || p.EP != d.EP {
			continue
		}
		found = true
		if math.Abs(p.TTFT.Mean-s.TTFT.Mean) > 1e-9*s.TTFT.Mean || math.Abs(p.OutputTokS-s.OutputTokS) > 1e-9*s.OutputTokS {
			fail("P9", c, "sweep TTFT %g ms, %g tok/s; estimate %g ms, %g tok/s", p.TTFT.Mean, p.OutputTokS, s.TTFT.Mean, s.OutputTokS)
		}
		if cost, ok := CostOf(price*float64(d.NumGPUs), &s); ok && (p.CostPer1MOutput == nil || math.Abs(*p.CostPer1MOutput-cost.Per1MOutput) > 1e-9*cost.Per1MOutput) {
			fail("P9", c, "sweep cost %v $/1M, estimate %g", p.CostPer1MOutput, cost.Per1MOutput)
		}
	}
	if !found {
		fail("P9", c, "the sweep of this one configuration did not return it (%d points)", len(res.Points))
	}
	if c.w.Kind != Rate || d.DP != 1 || d.PP != 1 {
		return
	}
	// A plan for this load on this GPU type, with one replica of the same deployment
	// allowed, finds a fleet; the fleet's numbers are Serve's for its replica count.
	pl := Planner{Model: d.Model, Profile: d.Profile, Workload: c.w, WeightDtypes: []string{d.WeightDtype}, KVDtypes: []string{d.KVDtype},
		MaxNumSeqs: []int{d.MaxNumSeqs}, MaxNumBatchedTokens: []int{d.MaxNumBatchedTokens}, MaxGPUsPerReplica: d.TP, MaxReplicas: 4,
		PricePerGPUHour: price, MaxModelLen: d.MaxModelLen}
	pg, err := pl.GPU(d.GPU)
	if err != nil || pg.Best == nil {
		return // the plan may pick another split or find none under its own rules
	}
	b := pg.Best
	spec := d.Spec
	spec.TP, spec.PP, spec.DP, spec.NumGPUs, spec.MemoryFraction = b.TP, b.PP, b.Replicas, 0, 0
	spec.WeightDtype, spec.KVDtype, spec.MaxNumSeqs = b.WeightDtype, b.KVDtype, b.MaxNumSeqs
	d2, err := New(spec)
	if err != nil {
		fail("P9", c, "plan's fleet %+v is not a valid deployment: %v", b, err)
		return
	}
	s2, err := d2.Serve(c.w)
	if ok, _, _ := d2.ClosedFormValid(c.w); err == nil && !ok {
		s2, err = d2.Simulate(c.w, 1) // what plan (and estimate) use outside the closed form's region
	}
	if err != nil {
		fail("P9", c, "plan's fleet does not serve: %v", err)
		return
	}
	if math.Abs(b.TTFT.Mean-s2.TTFT.Mean) > 1e-9*s2.TTFT.Mean || math.Abs(b.OutputTokS-s2.OutputTokS) > 1e-9*s2.OutputTokS {
		fail("P9", c, "plan fleet (%d × tp=%d): TTFT %g ms, %g tok/s; estimate of it %g ms, %g tok/s", b.Replicas, b.TP, b.TTFT.Mean, b.OutputTokS, s2.TTFT.Mean, s2.OutputTokS)
	}
}
