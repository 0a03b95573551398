package estimator

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"

	"roofline/hardware"
	"roofline/models"
)

// TestClosedFormMatchesSimulation: where both apply (steady state, no queueing beyond the
// batch, fixed lengths), closed form and simulation agree on mean TTFT, TPOT and E2E within 5%
// for the decode-dominated metrics and on throughput.
func TestClosedFormMatchesSimulation(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	d := mustDeploy(t, Spec{Model: m, GPU: mustGPU(t, "H100 SXM"), Profile: MustEngine("vllm"), MaxModelLen: 4096})
	for _, w := range []Workload{
		{Kind: Concurrency, InputLen: 1024, OutputLen: 256, Concurrency: 1, NumRequests: 200},
		// Closed loops with fixed lengths stay in lock-step (all prefill together); lengths that
		// vary ±25% spread the prefills over time, the steady state the closed form describes.
		{Kind: Concurrency, InputLen: 1024, OutputLen: 256, Concurrency: 16, NumRequests: 1500,
			InputDist: &LengthDist{Kind: "uniform", Min: 768, Max: 1280}, OutputDist: &LengthDist{Kind: "uniform", Min: 192, Max: 320}},
		{Kind: Concurrency, InputLen: 512, OutputLen: 512, Concurrency: 64, NumRequests: 2000,
			InputDist: &LengthDist{Kind: "uniform", Min: 384, Max: 640}, OutputDist: &LengthDist{Kind: "uniform", Min: 384, Max: 640}},
		{Kind: Rate, InputLen: 1024, OutputLen: 256, RequestRate: 4, NumRequests: 2000},
	} {
		cf, err := d.Serve(w)
		if err != nil {
			t.Fatal(err)
		}
		sim, err := d.Simulate(w, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name    string
			cf, sim float64
		}{
			{"tpot mean", cf.TPOT.Mean, sim.TPOT.Mean},
			{"e2e mean", cf.E2E.Mean, sim.E2E.Mean},
			{"output tok/s", cf.OutputTokS, sim.OutputTokS},
		} {
			if rel := math.Abs(c.cf/c.sim - 1); rel > 0.05 {
				t.Errorf("%s c=%d rate=%g: %s closed form %.4g vs simulation %.4g (%.1f%% apart)", w.Kind, w.Concurrency, w.RequestRate, c.name, c.cf, c.sim, 100*rel)
			}
		}
	}
}

// TestOverloadIsNeverFinite: an open-loop rate above capacity is reported as overloaded,
// with unbounded latencies and the sustainable rate.
func TestOverloadIsNeverFinite(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	d := mustDeploy(t, Spec{Model: m, GPU: mustGPU(t, "H100 SXM"), Profile: MustEngine("vllm"), MaxModelLen: 4096})
	s, err := d.Serve(Workload{Kind: Rate, InputLen: 2000, OutputLen: 2000, RequestRate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Overloaded || !math.IsInf(s.TTFT.Mean, 1) || !math.IsInf(s.E2E.P99, 1) {
		t.Errorf("1000 req/s of 2000/2000 on one H100: overloaded=%v ttft=%g e2e p99=%g, want overloaded and +Inf", s.Overloaded, s.TTFT.Mean, s.E2E.P99)
	}
	if !(s.MaxRequestRate > 0 && s.MaxRequestRate < 1000) {
		t.Errorf("max sustainable rate %g req/s, want in (0, 1000)", s.MaxRequestRate)
	}
}

// TestSimulationReproducible: the same seed gives the same numbers; another seed differs.
func TestSimulationReproducible(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	d := mustDeploy(t, Spec{Model: m, GPU: mustGPU(t, "H100 SXM"), Profile: MustEngine("vllm"), MaxModelLen: 4096})
	w := Workload{Kind: Rate, InputLen: 512, OutputLen: 128, RequestRate: 10, NumRequests: 300}
	a, _ := d.Simulate(w, 1)
	b, _ := d.Simulate(w, 1)
	c, _ := d.Simulate(w, 2)
	if a.TTFT != b.TTFT || a.E2E != b.E2E {
		t.Errorf("same seed, different results: %+v vs %+v", a.TTFT, b.TTFT)
	}
	if a.TTFT == c.TTFT {
		t.Errorf("different seeds gave identical TTFT %+v", a.TTFT)
	}
}

// TestPercentileNumpyLinear checks Percentile against numpy.percentile(x, q) (method="linear"):
// for x = [1, 2, 3, 4, 10], numpy gives p50 = 3, p90 = 7.6, p99 = 9.76 (hand: h = q·(n−1)).
func TestPercentileNumpyLinear(t *testing.T) {
	x := []float64{1, 2, 3, 4, 10}
	for _, c := range []struct{ q, want float64 }{{0.5, 3}, {0.9, 7.6}, {0.99, 9.76}, {0, 1}, {1, 10}} {
		if got := Percentile(x, c.q); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Percentile(%v, %g) = %g, want %g", x, c.q, got, c.want)
		}
	}
	if !math.IsNaN(Percentile(nil, 0.5)) {
		t.Error("Percentile of empty input should be NaN")
	}
}

// BenchmarkServeClosedForm repeats one estimate on one deployment (8B, H100, 1024/256 tokens,
// 32 clients): the sustainable-rate scan is memoized after the first call, so this is the
// estimate without it (the memory plan, the operating point, the start-up burst of 32 clients).
func BenchmarkServeClosedForm(b *testing.B) {
	m := mustModel(b, "meta-llama/Llama-3.1-8B-Instruct")
	d := mustDeploy(b, Spec{Model: m, GPU: mustGPU(b, "H100 SXM"), Profile: MustEngine("vllm"), MaxModelLen: 4096})
	w := Workload{Kind: Concurrency, InputLen: 1024, OutputLen: 256, Concurrency: 32}
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		if _, err := d.Serve(w); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b, 0, "op")
}

// BenchmarkServeClosedFormLoads estimates a different concurrency (1…512) on each call: the
// sustainable-rate scan is shared (same lengths), the operating point and start-up burst are not.
func BenchmarkServeClosedFormLoads(b *testing.B) {
	m := mustModel(b, "meta-llama/Llama-3.1-8B-Instruct")
	d := mustDeploy(b, Spec{Model: m, GPU: mustGPU(b, "H100 SXM"), Profile: MustEngine("vllm"), MaxModelLen: 4096})
	w := Workload{Kind: Concurrency, InputLen: 1024, OutputLen: 256}
	b.ReportAllocs()
	cpu := startCPU()
	i := 0
	for b.Loop() {
		w.Concurrency = 1 + i%512
		i++
		if _, err := d.Serve(w); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b, 0, "op")
}

// BenchmarkServeClosedFormNewDeployment is one configuration's estimate from scratch, as a
// caller evaluating configurations one by one does: every call builds a deployment (New)
// for the next of 4 GPUs × TP 1/2 × bf16/fp8 weights × 18 concurrencies (1…512) of
// Llama-3.1-8B at 1000/200 tokens and estimates it (Serve). New keeps the 16 deployments
// (deployCache): from the 17th call on it returns a copy of a kept one, whose memos (rates,
// bursts, GEMM table) earlier estimates filled. BenchmarkServeClosedFormNewDeploymentUncached
// is the same with nothing kept between calls.
func BenchmarkServeClosedFormNewDeployment(b *testing.B) { benchNewDeployment(b) }

// BenchmarkServeClosedFormNewDeploymentUncached is BenchmarkServeClosedFormNewDeployment with
// deployCache off: every call builds its deployment anew (New: sharding, dtypes, ceilings)
// and estimates it with empty memos.
func BenchmarkServeClosedFormNewDeploymentUncached(b *testing.B) {
	deployCache.off.Store(true)
	defer deployCache.off.Store(false)
	benchNewDeployment(b)
}

// BenchmarkNew is New alone for the next of BenchmarkServeClosedFormNewDeployment's 16
// deployments, with deployCache off (every call builds its deployment: sharding, dtypes,
// ceilings).
func BenchmarkNew(b *testing.B) {
	deployCache.off.Store(true)
	defer deployCache.off.Store(false)
	specs, _ := newDeploymentSpecs(b)
	b.ReportAllocs()
	cpu := startCPU()
	i := 0
	for b.Loop() {
		if _, err := New(specs[i%len(specs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	cpu.report(b, 0, "op")
}

// newDeploymentSpecs are BenchmarkServeClosedFormNewDeployment's deployments and concurrencies.
func newDeploymentSpecs(b *testing.B) ([]Spec, []float64) {
	m := mustModel(b, "meta-llama/Llama-3.1-8B-Instruct")
	p := MustEngine("vllm")
	var specs []Spec
	for _, g := range []string{"H100 SXM", "H200", "A100", "L40S"} {
		for _, tp := range []int{1, 2} {
			for _, wd := range []string{"bf16", "fp8"} {
				specs = append(specs, Spec{Model: m, GPU: mustGPU(b, g), NumGPUs: tp, TP: tp, WeightDtype: wd, Profile: p, MaxModelLen: 4096})
			}
		}
	}
	conc, err := ParseRange("1-512", true)
	if err != nil {
		b.Fatal(err)
	}
	return specs, conc
}

func benchNewDeployment(b *testing.B) {
	specs, conc := newDeploymentSpecs(b)
	b.ReportAllocs()
	cpu := startCPU()
	i := 0
	for b.Loop() {
		d, err := New(specs[i%len(specs)])
		if err != nil {
			b.Fatal(err)
		}
		w := Workload{Kind: Concurrency, InputLen: 1000, OutputLen: 200, Concurrency: int(conc[(i/len(specs))%len(conc)])}
		i++
		if _, err := d.Serve(w); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b, 0, "op")
}

// BenchmarkServeClosedFormLengths estimates different lengths on each call (input 512…3511
// tokens): nothing is shared, every call scans the sustainable rate.
func BenchmarkServeClosedFormLengths(b *testing.B) {
	m := mustModel(b, "meta-llama/Llama-3.1-8B-Instruct")
	d := mustDeploy(b, Spec{Model: m, GPU: mustGPU(b, "H100 SXM"), Profile: MustEngine("vllm"), MaxModelLen: 4096})
	w := Workload{Kind: Concurrency, OutputLen: 256, Concurrency: 32}
	b.ReportAllocs()
	cpu := startCPU()
	i := 0
	for b.Loop() {
		w.InputLen = 512 + i%3000 // more than the memo holds: every call misses
		i++
		if _, err := d.Serve(w); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b, 0, "op")
}

func BenchmarkSimulate10kRequests(b *testing.B) {
	m := mustModel(b, "meta-llama/Llama-3.1-8B-Instruct")
	d := mustDeploy(b, Spec{Model: m, GPU: mustGPU(b, "H100 SXM"), Profile: MustEngine("vllm"), MaxModelLen: 4096})
	w := Workload{Kind: Rate, InputLen: 512, OutputLen: 128, RequestRate: 40, NumRequests: 10000}
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		if _, err := d.Simulate(w, 1); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b, 0, "op")
}

// BenchmarkSimulate12kRequests is the speed case: 12,000 requests of 512/128 tokens
// in an open loop at 40 req/s on one H100 (run with -cpu 1 for one core).
func BenchmarkSimulate12kRequests(b *testing.B) {
	m := mustModel(b, "meta-llama/Llama-3.1-8B-Instruct")
	d := mustDeploy(b, Spec{Model: m, GPU: mustGPU(b, "H100 SXM"), Profile: MustEngine("vllm"), MaxModelLen: 4096})
	w := Workload{Kind: Rate, InputLen: 512, OutputLen: 128, RequestRate: 40, NumRequests: 12000}
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		if _, err := d.Simulate(w, 1); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b, 0, "op")
}

// BenchmarkSimulate12kClosedLoop: 12,000 requests of 1000/200 tokens from 64 clients.
func BenchmarkSimulate12kClosedLoop(b *testing.B) {
	m := mustModel(b, "meta-llama/Llama-3.1-8B-Instruct")
	d := mustDeploy(b, Spec{Model: m, GPU: mustGPU(b, "H100 SXM"), Profile: MustEngine("vllm"), MaxModelLen: 4096})
	w := Workload{Kind: Concurrency, InputLen: 1000, OutputLen: 200, Concurrency: 64, NumRequests: 12000}
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		if _, err := d.Simulate(w, 1); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b, 0, "op")
}

// TestBurstMixOrderStatistics checks burstMix's bisection against the definition: the
// numpy-linear percentiles of the sorted pooled values (burst[i] + fixed, and rest steady
// values ttft0 + ((j + ½)/rest − ½)·τ, all in ms).
func TestBurstMixOrderStatistics(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for c := 0; c < 200; c++ {
		k := 1 + r.IntN(40)
		burst := make([]float64, k)
		x := 0.0
		for i := range burst {
			x += r.Float64() * 0.05
			burst[i] = x
		}
		n := k + r.IntN(300)
		ttft0, tau, fixed := r.Float64()*0.5, r.Float64()*0.1, r.Float64()*0.01
		got, want := burstMix(burst, n, ttft0, tau, fixed), sortedPool(burst, n, ttft0, tau, fixed)
		for _, p := range [][2]float64{{got.Mean, want.Mean}, {got.Median, want.Median}, {got.P90, want.P90}, {got.P95, want.P95}, {got.P99, want.P99}, {got.Min, want.Min}, {got.Max, want.Max}} {
			if math.Abs(p[0]-p[1]) > 1e-9*math.Abs(p[1])+1e-12 {
				t.Fatalf("case %d (k %d, n %d): burstMix %+v, sorted pool %+v", c, k, n, got, want)
			}
		}
	}
}

// TestServeMemoized: the memos Serve keeps per deployment (sustainable rates, start-up
// bursts) change no bit of a result. Each estimate on a fresh deployment (nothing memoized)
// is compared with the same estimate on one shared deployment after others of the same
// lengths, called from 4 goroutines at once (run with -race to check the memos' locking).
func TestServeMemoized(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	spec := Spec{Model: m, GPU: mustGPU(t, "H100 SXM"), Profile: MustEngine("vllm"), MaxModelLen: 4096, MaxNumBatchedTokens: 2048}
	shared := mustDeploy(t, spec)
	var loads []Workload
	for _, c := range []int{1, 2, 7, 32, 33, 100, 256, 300, 600} {
		for _, in := range []int{100, 1000, 3000} {
			loads = append(loads, Workload{Kind: Concurrency, InputLen: in, OutputLen: 200, Concurrency: c})
		}
	}
	want := make([]Serving, len(loads))
	for i, w := range loads {
		s, err := mustDeploy(t, spec).Serve(w)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = s
	}
	errs := make(chan string, 4*3*len(loads))
	done := make(chan bool)
	for g := range 4 {
		go func() {
			for r := range 3 { // three rounds: the second and third hit the memos
				for i := range loads {
					j := (i*(g+1) + r) % len(loads)
					got, err := shared.Serve(loads[j])
					if err != nil || !reflect.DeepEqual(got, want[j]) {
						errs <- fmt.Sprintf("%+v: shared deployment %+v (%v), fresh %+v", loads[j], got.TTFT, err, want[j].TTFT)
					}
				}
			}
			done <- true
		}()
	}
	for range 4 {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestMaxRateBranchAndBound: the sustainable rate found by bounding (maxRateAt: points whose
// rate cannot beat the best so far are skipped) is
// bit for bit the maximum over every point of the grid (maxRateScan), which holds where E2E
// does not decrease as the batch grows. Checked over 7 models (dense, MoE, sliding windows,
// MLA), 5 GPUs, TP 1/2/8, bf16/fp8 weights, 4 engines, token budgets 256…16,384 or none,
// max_num_seqs, lengths 8…16,000 in and 1…2,000 out, shared prefixes, closed and open
// loops (Poisson and gamma arrivals, length distributions), speculative decoding and a KV offload tier.
func TestMaxRateBranchAndBound(t *testing.T) {
	gpus := []string{"H100 SXM", "A100", "L40S", "MI300X", "B200"}
	mods := []string{"meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-70B-Instruct", "Qwen/Qwen3-30B-A3B",
		"openai/gpt-oss-20b", "google/gemma-2-9b-it", "mistralai/Mixtral-8x7B-Instruct-v0.1", "deepseek-ai/DeepSeek-V3"}
	engines := []string{"vllm", "sglang", "trtllm", "ideal"}
	r := rand.New(rand.NewPCG(10, 2))
	pick := func(n int) int { return r.IntN(n) }
	model := map[string]*models.Model{}
	for _, id := range mods {
		model[id] = mustModel(t, id)
	}
	gpu := map[string]*hardware.GPU{}
	for _, id := range gpus {
		gpu[id] = mustGPU(t, id)
	}
	checked, points, scanned := 0, 0, 0
	for range 1500 {
		tp := []int{1, 2, 8}[pick(3)]
		spec := Spec{Model: model[mods[pick(len(mods))]], GPU: gpu[gpus[pick(len(gpus))]], NumGPUs: tp, TP: tp,
			WeightDtype: []string{"bf16", "fp8"}[pick(2)], Profile: MustEngine(engines[pick(len(engines))]), MaxModelLen: 20000,
			MaxNumBatchedTokens: []int{0, 256, 2048, 8192, 16384}[pick(5)], MaxNumSeqs: []int{0, 8, 64, 1024}[pick(4)]}
		switch pick(8) {
		case 0:
			spec.Speculation = &Speculation{Method: "eagle3", Tokens: 3}
		case 1:
			spec.Offload = &Offload{Prefixes: 64}
		}
		d, err := New(spec)
		if err != nil {
			continue // a dtype the GPU lacks, a split the model cannot take
		}
		in := []int{8, 128, 1000, 4000, 16000}[pick(5)]
		w := Workload{Kind: Concurrency, Concurrency: 1, InputLen: in, OutputLen: []int{1, 16, 200, 2000}[pick(4)]}
		if pick(3) == 0 {
			w.PrefixLen = in / 2
		}
		switch pick(4) {
		case 0:
			w.Kind, w.Concurrency, w.RequestRate = Rate, 0, 1
		case 1:
			w.Kind, w.Concurrency, w.RequestRate, w.Burstiness = Rate, 0, 1, 0.5
		case 2:
			w.InputDist = &LengthDist{Kind: "uniform", Min: max(1, in/2), Max: in * 3 / 2}
		}
		mem := d.Memory()
		if !mem.Fits || w.Validate() != nil || d.CheckWorkload(&w) != nil {
			continue
		}
		c := newCF(d, &w, mem)
		if c.bmax < 1 {
			continue
		}
		if d.Offload != nil {
			d.applyOffload(c, &w, mem, float64(d.Lanes()))
		}
		n := 0
		got := c.maxRateAt(func(b float64) cfPoint { n++; return c.at(b) })
		m := 0
		want := c.maxRateScan(func(b float64) cfPoint { m++; return c.at(b) })
		if got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("%s on %d× %s %s %s, budget %d, seqs %d, %+v: bounded search %v, scan %v", spec.Model.ID, tp, spec.GPU.ID,
				spec.WeightDtype, spec.Profile.Name, spec.MaxNumBatchedTokens, spec.MaxNumSeqs, w, got, want)
		}
		checked, points, scanned = checked+1, points+n, scanned+m
	}
	if checked < 500 {
		t.Errorf("only %d configurations checked", checked)
	}
	t.Logf("%d configurations: %d operating points evaluated, %d by the full scan", checked, points, scanned)
}

// TestServeWithoutTokenBudget: the ideal profile has no token budget (max_num_batched_tokens
// 0: a prompt is prefilled in one step). One client of 1000/200 tokens on one H100 waits for
// its prefill: at least its GEMMs at the dense BF16 peak, hand calculation 2 × 6.98e9
// parameters (Llama-3.1-8B: 8.03e9 less the embedding and the LM head, 128,256 × 4,096 each,
// the head running on the last token only) × 1000 tokens / 989.4e12 FLOP/s (H100 SXM
// datasheet) = 14.1 ms, and, the ideal engine having no
// fixed costs, well below 1.5 × that. (A prompt alone in a step without a budget once
// priced a chunk of int(+Inf) tokens: a TTFT of −2·10¹⁶ ms.)
func TestServeWithoutTokenBudget(t *testing.T) {
	d := mustDeploy(t, Spec{Model: mustModel(t, "meta-llama/Llama-3.1-8B-Instruct"), GPU: mustGPU(t, "H100 SXM"), Profile: MustEngine("ideal")})
	if d.MaxNumBatchedTokens != 0 {
		t.Fatalf("ideal profile: max_num_batched_tokens %d, want none", d.MaxNumBatchedTokens)
	}
	s, err := d.Serve(Workload{Kind: Concurrency, Concurrency: 1, InputLen: 1000, OutputLen: 200})
	if err != nil {
		t.Fatal(err)
	}
	const prefillMs = 2 * 6.98e9 * 1000 / 989.4e12 * 1e3
	if !(s.TTFT.Mean >= prefillMs && s.TTFT.Mean < 1.5*prefillMs) {
		t.Errorf("TTFT mean %.4g ms, want in [%.3g, %.3g] ms", s.TTFT.Mean, prefillMs, 1.5*prefillMs)
	}
}

// TestBurstMixNeighbourExact: burstMix gives the order statistics of the pooled values
// themselves (sorted, then numpy's linear interpolation), over bursts with ties (prompts that
// complete in one step share a time), steady states that tie with the burst or have no
// spread (τ̄ = 0), and pools from one request to thousands. The oracle builds the pool and
// sorts it: it shares no code with burstMix's merge by bisection.
func TestBurstMixNeighbourExact(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for c := range 3000 {
		k := 1 + r.IntN(60)
		burst := make([]float64, k)
		x := 0.0
		for i := range burst {
			if i == 0 || r.IntN(3) == 0 { // about three prompts per step
				x += r.Float64() * 0.05
			}
			burst[i] = x
		}
		n := []int{k, k + 1, k + r.IntN(50), k + r.IntN(5000)}[r.IntN(4)]
		ttft0, tau, fixed := r.Float64()*0.3, r.Float64()*0.1, r.Float64()*0.01
		switch r.IntN(4) {
		case 0:
			tau = 0
		case 1:
			ttft0 = burst[r.IntN(k)] + fixed // the steady mean on a burst value
		}
		got, want := burstMix(burst, n, ttft0, tau, fixed), sortedPool(burst, n, ttft0, tau, fixed)
		for _, p := range [][2]float64{{got.Mean, want.Mean}, {got.Median, want.Median}, {got.P90, want.P90}, {got.P95, want.P95}, {got.P99, want.P99}, {got.Min, want.Min}, {got.Max, want.Max}} {
			if math.Abs(p[0]-p[1]) > 1e-9*math.Abs(p[1])+1e-12 {
				t.Fatalf("case %d (k %d, n %d, τ̄ %g): burstMix %+v, sorted pool %+v", c, k, n, tau, got, want)
			}
		}
	}
}

// sortedPool is the TTFT distribution (ms) burstMix describes, computed the plain way: the
// n values in one slice, sorted, percentiles by linear interpolation between order statistics.
func sortedPool(burst []float64, n int, ttft0, tau, fixed float64) Dist {
	n = max(n, len(burst))
	vals := make([]float64, 0, n)
	for _, b := range burst {
		vals = append(vals, (b+fixed)*1e3)
	}
	rest := n - len(burst)
	for j := range rest {
		vals = append(vals, (ttft0+((float64(j)+0.5)/float64(rest)-0.5)*tau)*1e3)
	}
	sort.Float64s(vals)
	return Dist{Mean: mean(vals), Median: Percentile(vals, 0.5), P90: Percentile(vals, 0.9), P95: Percentile(vals, 0.95), P99: Percentile(vals, 0.99), Min: vals[0], Max: vals[len(vals)-1]}
}

// TestBurstMixByHand: two prompts of a start-up burst finish their prefill at 10 and 20 ms
// and pay a 1 ms fixed cost (11, 21 ms); the two steady-state requests of a closed loop of 4
// have mean TTFT 15 ms and a residual step wait uniform over τ̄ = 4 ms, so they sit at the
// midpoints of its two halves, 15 ∓ 1 ms (14, 16 ms). Pool 11, 14, 16, 21: mean 62/4 = 15.5 ms;
// median at rank 1.5, 14 + 0.5·2 = 15 ms; p90 at rank 2.7, 16 + 0.7·5 = 19.5 ms; p99 at rank
// 2.97, 16 + 0.97·5 = 20.85 ms; p95 at rank 2.85, 20.25 ms; min 11, max 21 ms.
func TestBurstMixByHand(t *testing.T) {
	got := burstMix([]float64{0.010, 0.020}, 4, 0.015, 0.004, 0.001)
	want := Dist{Mean: 15.5, Median: 15, P90: 19.5, P95: 16 + 0.85*5, P99: 20.85, Min: 11, Max: 21}
	for _, p := range [][3]any{{"mean", got.Mean, want.Mean}, {"median", got.Median, want.Median}, {"p90", got.P90, want.P90}, {"p95", got.P95, want.P95}, {"p99", got.P99, want.P99}, {"min", got.Min, want.Min}, {"max", got.Max, want.Max}} {
		if g, w := p[1].(float64), p[2].(float64); math.Abs(g-w) > 1e-9 {
			t.Errorf("%s: %.6g ms, want %.6g ms", p[0], g, w)
		}
	}
}
