package estimator

import (
	"context"
	"encoding/json"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"roofline/hardware"
)

// acceptanceSpace is the space of the acceptance test of the sweep: Llama-3.1-70B over five
// GPU types × 1/2/4/8 GPUs (every TP·PP·DP split) × bf16/fp8 weights × bf16/fp8 KV ×
// concurrency 1–512 (18 values) × 4 max-num-seqs × 4 max-num-batched-tokens values.
func acceptanceSpace(t testing.TB) SweepSpace {
	var gpus []*hardware.GPU
	for _, g := range []string{"H100", "H200", "A100", "B200", "L40S"} {
		gpus = append(gpus, mustGPU(t, g))
	}
	conc, err := ParseRange("1-512", true)
	if err != nil {
		t.Fatal(err)
	}
	var cs []int
	for _, c := range conc {
		cs = append(cs, int(c))
	}
	return SweepSpace{
		Model: mustModel(t, "meta-llama/Llama-3.1-70B-Instruct"), GPUs: gpus, NumGPUs: []int{1, 2, 4, 8},
		Profiles: []*Profile{MustEngine("vllm")}, WeightDtypes: []string{"bf16", "fp8"}, KVDtypes: []string{"bf16", "fp8"},
		MaxNumSeqs: []int{32, 64, 128, 256}, MaxNumBatchedTokens: []int{2048, 4096, 8192, 16384},
		Workload: Workload{Kind: Concurrency, InputLen: 1000, OutputLen: 200}, Concurrencies: cs,
	}
}

// acceptanceConstraints are typical interactive SLOs.
func acceptanceConstraints(t testing.TB) []Constraint {
	var cons []Constraint
	for _, s := range []string{"ttft:p95<500ms", "itl:p99<40ms"} {
		c, err := ParseConstraint(s)
		if err != nil {
			t.Fatal(err)
		}
		cons = append(cons, c)
	}
	return cons
}

func BenchmarkSweep(b *testing.B) {
	sp := acceptanceSpace(b)
	cons := acceptanceConstraints(b)
	b.ResetTimer()
	cpu := startCPU()
	var n int64
	for i := 0; i < b.N; i++ {
		r, err := Sweep(context.Background(), sp, SweepOptions{Constraints: cons, Objective: ObjectiveThroughput, Top: 20})
		if err != nil {
			b.Fatal(err)
		}
		n += r.Evaluated
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(n)/sec, "configs/s")
	b.ReportMetric(float64(n)/sec/float64(runtime.GOMAXPROCS(0)), "configs/s/core")
	cpu.report(b, n, "config")
}

// BenchmarkSweepClosedForm is BenchmarkSweep without constraints: every one of the 115,200
// configurations is a closed-form estimate (none is simulated), so cpu-ns/config is the
// sweep's cost per configuration estimate — a new deployment (New) per GPU, split and
// dtypes, a copy per max_num_seqs × token budget, and an estimate per concurrency.
func BenchmarkSweepClosedForm(b *testing.B) {
	sp := acceptanceSpace(b)
	cpu := startCPU()
	var n int64
	for b.Loop() {
		r, err := Sweep(context.Background(), sp, SweepOptions{Objective: ObjectiveThroughput, Top: 20})
		if err != nil {
			b.Fatal(err)
		}
		n += r.Evaluated
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(n)/sec/float64(runtime.GOMAXPROCS(0)), "configs/s/core")
	cpu.report(b, n, "config")
}

// TestSweepAcceptance is the acceptance case: ≥ 100,000 configurations in under
// 3 s on the 2-core CI machine, every returned point meeting the constraints, a non-empty
// front. The timing is checked only without -short (the race detector slows it ~10×).
func TestSweepAcceptance(t *testing.T) {
	sp := acceptanceSpace(t)
	cons := acceptanceConstraints(t)
	t0 := time.Now()
	r, err := Sweep(context.Background(), sp, SweepOptions{Constraints: cons, Objective: ObjectiveThroughput})
	el := time.Since(t0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v: evaluated %d, fit %d, met %d (%d distinct), closed-form runs %d, fronts %v", el, r.Evaluated, r.Fits, r.Met, r.DistinctMet, r.Distinct, r.FrontSizes)
	// 5 GPUs × 20 splits of 1/2/4/8 GPUs (1 + 3 + 6 + 10 ordered TP·PP·DP factorisations)
	// × 2 weight × 2 KV dtypes × 4 × 4 knobs × 18 concurrencies = 115,200.
	if r.Evaluated != 115200 {
		t.Errorf("evaluated %d, want 115200 (hand count above)", r.Evaluated)
	}
	if !testing.Short() && el > 3*time.Second {
		t.Errorf("sweep took %v, want < 3 s", el)
	}
	if int64(len(r.Points)) != r.DistinctMet || r.Met == 0 || r.DistinctMet > r.Met {
		t.Fatalf("%d points returned, %d met the constraints, %d distinct", len(r.Points), r.Met, r.DistinctMet)
	}
	n := int64(0)
	for _, p := range r.Points {
		n += 1 + int64(len(p.Equivalent))
	}
	if n != r.Met {
		t.Errorf("points and their equivalents count %d, want %d", n, r.Met)
	}
	for i := range r.Points {
		p := &r.Points[i]
		for _, c := range cons {
			if !c.Met(p) {
				t.Fatalf("point %+v breaks %s (%g)", p.SweepConfig, c, c.Observe(p))
			}
		}
		if p.Rank != i+1 {
			t.Fatalf("point %d has rank %d", i, p.Rank)
		}
		if i > 0 && p.OutputTokSPerGPU > r.Points[i-1].OutputTokSPerGPU {
			t.Fatalf("rank %d has more throughput per GPU than rank %d", i+1, i)
		}
	}
	if r.FrontSizes[FrontThroughputInteractivity] == 0 || r.FrontSizes[FrontCostLatency] == 0 {
		t.Errorf("empty front: %v", r.FrontSizes)
	}
}

// TestSweepMatchesServe checks the memoized sweep against Deployment.Serve for every point
// of a space that exercises the memo: budgets below and above the prompt (chunked and
// single-chunk prefill), max-num-seqs below and above the KV capacity, DP replicas, and
// concurrencies below and above saturation; then the same for a request-rate sweep.
func TestSweepMatchesServe(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	gpus := []*hardware.GPU{mustGPU(t, "H100"), mustGPU(t, "L4")}
	vllm := MustEngine("vllm")
	conc, _ := ParseRange("1-512", true)
	var cs []int
	for _, c := range conc {
		cs = append(cs, int(c))
	}
	base := SweepSpace{Model: m, GPUs: gpus, NumGPUs: []int{1, 2}, Profiles: []*Profile{vllm},
		WeightDtypes: []string{"bf16", "fp8"}, KVDtypes: []string{"bf16", "fp8"},
		MaxNumSeqs: []int{8, 64, 256}, MaxNumBatchedTokens: []int{256, 1024, 8192}, MaxModelLen: 8192}
	cases := []struct {
		name string
		w    Workload
		cs   []int
		rs   []float64
	}{
		{"concurrency", Workload{Kind: Concurrency, InputLen: 1500, OutputLen: 150}, cs, nil},
		{"rate", Workload{Kind: Rate, InputLen: 1500, OutputLen: 150}, nil, []float64{0.5, 2, 8, 32}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sp := base
			sp.Workload, sp.Concurrencies, sp.RequestRates = tc.w, tc.cs, tc.rs
			r, err := Sweep(context.Background(), sp, SweepOptions{Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			// Rate results depend on the exact batch cap and budget, so only the concurrency
			// sweep shares results between knob values.
			if len(r.Points) == 0 || r.Distinct > r.Fits || tc.w.Kind == Concurrency && r.Distinct >= r.Fits {
				t.Fatalf("%d points, %d closed-form runs for %d fitting configurations", len(r.Points), r.Distinct, r.Fits)
			}
			t.Logf("%d points, %d closed-form runs", len(r.Points), r.Distinct)
			byID := map[string]*hardware.GPU{}
			for _, g := range gpus {
				byID[g.ID] = g
			}
			var all []SweepPoint
			for _, p := range r.Points {
				all = append(all, p)
				for _, k := range p.Equivalent {
					q := p
					q.MaxNumSeqs, q.MaxNumBatchedTokens = k.MaxNumSeqs, k.MaxNumBatchedTokens
					all = append(all, q)
				}
			}
			if int64(len(all)) != r.Met {
				t.Fatalf("%d points with equivalents, %d met", len(all), r.Met)
			}
			for _, p := range all {
				c := p.SweepConfig
				d := mustDeploy(t, Spec{Model: m, GPU: byID[c.GPU], NumGPUs: c.NumGPUs, TP: c.TP, PP: c.PP, DP: c.DP, EP: c.EP,
					WeightDtype: c.WeightDtype, KVDtype: c.KVDtype, Profile: vllm, MaxModelLen: 8192,
					MaxNumSeqs: c.MaxNumSeqs, MaxNumBatchedTokens: c.MaxNumBatchedTokens})
				w := tc.w
				w.Concurrency, w.RequestRate = c.Concurrency, c.RequestRate
				want, err := d.Serve(w)
				if err != nil {
					t.Fatalf("%+v: Serve: %v", c, err)
				}
				got := p.Serving
				want.Warnings = append(want.Warnings, warnText(d.Warnings())...)
				if len(got.Warnings) == 0 && len(want.Warnings) == 0 {
					got.Warnings, want.Warnings = nil, nil
				}
				if !got.OutputTokSPerUser.Known() && !want.OutputTokSPerUser.Known() {
					// Both not predicted (overloaded): NaN, which DeepEqual never finds equal.
					got.OutputTokSPerUser, want.OutputTokSPerUser = 0, 0
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%+v:\nsweep %+v\nServe %+v", c, got, want)
				}
			}
		})
	}
}

// TestSweepNoPoints: impossible constraints give no points, no front, and no error.
func TestSweepNoPoints(t *testing.T) {
	sp := acceptanceSpace(t)
	sp.GPUs = sp.GPUs[:1]
	c, _ := ParseConstraint("ttft:p99<0.001ms")
	r, err := Sweep(context.Background(), sp, SweepOptions{Constraints: []Constraint{c}})
	if err != nil || len(r.Points) != 0 || len(r.Front) != 0 || r.Evaluated == 0 {
		t.Errorf("got %d points, %d front, evaluated %d, err %v", len(r.Points), len(r.Front), r.Evaluated, err)
	}
}

func TestSweepErrors(t *testing.T) {
	sp := acceptanceSpace(t)
	for _, tc := range []struct {
		name string
		edit func(*SweepSpace, *SweepOptions)
		want string
	}{
		{"objective", func(s *SweepSpace, o *SweepOptions) { o.Objective = "speed" }, `--objective "speed": allowed values are cost`},
		{"kind", func(s *SweepSpace, o *SweepOptions) { s.Workload.Kind = Static }, "allowed values are concurrency, rate"},
		{"no loads", func(s *SweepSpace, o *SweepOptions) { s.Concurrencies = nil }, "at least one concurrency"},
		{"weight dtype", func(s *SweepSpace, o *SweepOptions) { s.WeightDtypes = []string{"fp9"} }, "--weight-dtype"},
		{"kv dtype", func(s *SweepSpace, o *SweepOptions) { s.KVDtypes = []string{"int4"} }, "--kv-dtype"},
		{"gpus", func(s *SweepSpace, o *SweepOptions) { s.NumGPUs = []int{0} }, "--num-gpus 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sp
			var o SweepOptions
			tc.edit(&s, &o)
			_, err := Sweep(context.Background(), s, o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestSplits checks the enumeration by hand. Llama-3.1-70B has 64 heads and 80 layers, so
// every factorisation counts: 8 = 1·1·8, 1·2·4, 1·4·2, 1·8·1, 2·1·4, 2·2·2, 2·4·1, 4·1·2,
// 4·2·1, 8·1·1 (TP·PP·DP). Qwen3-30B-A3B (32 heads, 128 experts) adds EP = TP·DP.
func TestSplits(t *testing.T) {
	llama := mustModel(t, "meta-llama/Llama-3.1-70B-Instruct")
	got := Splits(llama, 8, 0)
	want := []Split{{1, 1, 8, 1}, {1, 2, 4, 1}, {1, 4, 2, 1}, {1, 8, 1, 1}, {2, 1, 4, 1}, {2, 2, 2, 1}, {2, 4, 1, 1}, {4, 1, 2, 1}, {4, 2, 1, 1}, {8, 1, 1, 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Splits(70B, 8) = %v, want %v", got, want)
	}
	if got := Splits(llama, 8, 2); len(got) != 7 {
		t.Errorf("Splits(70B, 8, maxTP 2) has %d splits, want 7 (TP 1: 4, TP 2: 3)", len(got))
	}
	moe := mustModel(t, "Qwen/Qwen3-30B-A3B")
	got = Splits(moe, 2, 0)
	want = []Split{{1, 1, 2, 1}, {1, 1, 2, 2}, {1, 2, 1, 1}, {2, 1, 1, 1}, {2, 1, 1, 2}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Splits(Qwen3-30B-A3B, 2) = %v, want %v", got, want)
	}
}

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		in      string
		integer bool
		want    []float64
	}{
		// Powers of two and their midpoints 3·2^k: hand-listed.
		{"1-512", true, []float64{1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512}},
		{"1-10", true, []float64{1, 2, 3, 4, 6, 8, 10}},
		{"4", true, []float64{4}},
		{"64, 8,8 ,1-2", true, []float64{1, 2, 8, 64}},
		{"0.5-4", false, []float64{0.5, 0.75, 1, 1.5, 2, 3, 4}},
		{"2.5", false, []float64{2.5}},
	} {
		got, err := ParseRange(tc.in, tc.integer)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseRange(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "0", "-1", "4-2", "a-b", "1.5", "1-x", ",", "1-1e300", "NaN"} {
		if _, err := ParseRange(bad, true); err == nil {
			t.Errorf("ParseRange(%q) accepted", bad)
		}
	}
}

func FuzzParseRange(f *testing.F) {
	// "10000000000000000000" came back as 1e19, which no int64 holds.
	for _, s := range []string{"1-512", "1,2,4", "0.5-4", "3", "-", "1-", "1e3-1e4", "10000000000000000000", "1-10000000000000000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseRange(s, true)
		if err != nil {
			return
		}
		if len(v) == 0 || len(v) > 200 {
			t.Fatalf("%q: %d values", s, len(v))
		}
		for i, x := range v {
			if !(x > 0) || x > math.MaxInt32 || x != float64(int64(x)) || i > 0 && x <= v[i-1] {
				t.Fatalf("%q: bad list %v", s, v)
			}
		}
	})
}

// TestSweepBudgetsAgreeWithServe: a sweep over several max_num_batched_tokens shares its
// operating points between them only where the budget cannot matter; each point equals
// Serve's for that budget (INV-P9 across budgets). 64 clients of 512/64 tokens put
// 64/64 = 1 … 8 prompts (up to 4096 tokens) into a step, so 2048 and 8192 differ.
func TestSweepBudgetsAgreeWithServe(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	g := mustGPU(t, "H100 SXM")
	w := Workload{Kind: Concurrency, InputLen: 512, OutputLen: 64}
	sp := SweepSpace{Model: m, GPUs: []*hardware.GPU{g}, NumGPUs: []int{1}, MaxTP: 1, Profiles: []*Profile{MustEngine("vllm")},
		MaxNumSeqs: []int{256}, MaxNumBatchedTokens: []int{1024, 2048, 8192}, MaxModelLen: 4096, Workload: w, Concurrencies: []int{32, 128, 512}}
	res, err := Sweep(context.Background(), sp, SweepOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Points) < 6 {
		t.Fatalf("%d points, want at least 6", len(res.Points))
	}
	for _, p := range res.Points {
		d := mustDeploy(t, Spec{Model: m, GPU: g, Profile: MustEngine("vllm"), MaxModelLen: 4096, MaxNumSeqs: 256, MaxNumBatchedTokens: p.MaxNumBatchedTokens})
		w.Concurrency = p.Concurrency
		s, err := d.Serve(w)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(p.TTFT.Mean-s.TTFT.Mean) > 1e-9*s.TTFT.Mean || math.Abs(p.OutputTokS-s.OutputTokS) > 1e-9*s.OutputTokS {
			t.Errorf("budget %d, concurrency %d: sweep TTFT %g ms, %g tok/s; Serve %g ms, %g tok/s", p.MaxNumBatchedTokens, p.Concurrency, p.TTFT.Mean, p.OutputTokS, s.TTFT.Mean, s.OutputTokS)
		}
	}
}

// TestBurstRunMatchesStartBurst: the sweep's shared start-up burst (burstRun, one run per
// token budget) gives, for every number of clients up to the run's, exactly the values of
// cf.startBurst, the reference: budgets from below one prompt to unlimited, prompts from 1
// to 4,000 tokens, with and without a cached prefix.
func TestBurstRunMatchesStartBurst(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	d := mustDeploy(t, Spec{Model: m, GPU: mustGPU(t, "H100"), Profile: MustEngine("vllm"), MaxModelLen: 8192})
	mem := d.Memory()
	for _, in := range []int{1, 100, 1000, 4000} {
		for _, prefix := range []int{0, 512} {
			for _, budget := range []float64{64, 512, 2048, 8192, math.Inf(1)} {
				w := Workload{Kind: Concurrency, InputLen: in, OutputLen: 100, PrefixLen: min(prefix, in-1), Concurrency: 64}
				c := newCF(d, &w, mem)
				c.budget = budget
				var r burstRun
				r.run(c, 70, true)
				for j := 1; j <= 70; j++ {
					got, want := r.burstOf(c, j), c.startBurst(j)
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("in %d prefix %d budget %g, %d clients: burst %v, startBurst %v", in, prefix, budget, j, got, want)
					}
				}
			}
		}
	}
}

// TestSweepOverloadedLast: Llama-3.1-8B on one H100 at 1000/200 tokens sustains about
// 28 req/s (its max_request_rate). Of the rates 1–64 (13 values), 32, 48 and 64 req/s
// exceed it: Serve marks them overloaded and reports the ceiling as their throughput, the
// highest of all. The rule (Sweep's doc) puts every sustainable point first and no
// overloaded point on a front, whatever the objective; the overloaded are exactly the
// rates at or above the point's own MaxRequestRate.
func TestSweepOverloadedLast(t *testing.T) {
	rates, err := ParseRange("1-64", false)
	if err != nil {
		t.Fatal(err)
	}
	sp := SweepSpace{Model: mustModel(t, "meta-llama/Llama-3.1-8B-Instruct"), GPUs: []*hardware.GPU{mustGPU(t, "H100")},
		Profiles: []*Profile{MustEngine("vllm")}, Workload: Workload{Kind: Rate, InputLen: 1000, OutputLen: 200, Burstiness: 1},
		RequestRates: rates}
	for _, obj := range Objectives() {
		r, err := Sweep(context.Background(), sp, SweepOptions{Objective: obj, PriceUSDPerGPUHour: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Points) != 13 || r.Overloaded != 3 {
			t.Fatalf("%s: %d points, %d overloaded; want 13 and 3 (32, 48, 64 req/s)", obj, len(r.Points), r.Overloaded)
		}
		for i, p := range r.Points {
			if want := p.RequestRate >= p.MaxRequestRate; p.Overloaded != want {
				t.Errorf("%s: %g req/s, max %g: overloaded %v", obj, p.RequestRate, p.MaxRequestRate, p.Overloaded)
			}
			if p.Overloaded != (i >= 10) {
				t.Errorf("%s: rank %d (%g req/s) overloaded %v: want the 3 overloaded last", obj, p.Rank, p.RequestRate, p.Overloaded)
			}
			if p.Overloaded && (p.Pareto || len(p.ParetoFronts) > 0) {
				t.Errorf("%s: overloaded %g req/s on fronts %v", obj, p.RequestRate, p.ParetoFronts)
			}
		}
		for _, p := range r.Front {
			if p.Overloaded {
				t.Errorf("%s: overloaded %g req/s in Front", obj, p.RequestRate)
			}
		}
	}
}

// TestNullFloatJSON: a per-user speed that is not predicted (NaN, ±Inf) is JSON null, never
// 0; a number is written as strconv's shortest form and null reads back as NaN.
func TestNullFloatJSON(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{{math.NaN(), "null"}, {math.Inf(1), "null"}, {math.Inf(-1), "null"}, {31.25, "31.25"}, {0, "0"}, {1e-7, "1e-07"}} {
		b, err := json.Marshal(NullFloat(tc.v))
		if err != nil || string(b) != tc.want {
			t.Errorf("Marshal(%g) = %s, %v; want %s", tc.v, b, err, tc.want)
		}
	}
	var f NullFloat
	if err := json.Unmarshal([]byte("null"), &f); err != nil || f.Known() {
		t.Errorf("Unmarshal(null) = %g, %v; want NaN", float64(f), err)
	}
	if err := json.Unmarshal([]byte("42.5"), &f); err != nil || f != 42.5 {
		t.Errorf("Unmarshal(42.5) = %g, %v", float64(f), err)
	}
	if err := json.Unmarshal([]byte(`"fast"`), &f); err == nil {
		t.Error(`Unmarshal("fast") accepted`)
	}
}

// TestOverloadedPerUserNull: Llama-3.1-8B on one H100 at 1000/200 tokens sustains about
// 28 req/s (TestSweepOverloadedLast); at 64 req/s Serve is overloaded and E2E and TTFT are
// unbounded, so output_tok_s_per_user, output/(E2E − TTFT), is JSON null; at 1 req/s it is
// a positive number (the closed form: 1/TPOT).
func TestOverloadedPerUserNull(t *testing.T) {
	d := mustDeploy(t, Spec{Model: mustModel(t, "meta-llama/Llama-3.1-8B-Instruct"), GPU: mustGPU(t, "H100"), Profile: MustEngine("vllm")})
	for _, tc := range []struct {
		rate       float64
		overloaded bool
	}{{64, true}, {1, false}} {
		s, err := d.Serve(Workload{Kind: Rate, InputLen: 1000, OutputLen: 200, RequestRate: tc.rate, Burstiness: 1})
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		null := strings.Contains(string(b), `"output_tok_s_per_user":null`)
		if s.Overloaded != tc.overloaded || null != tc.overloaded {
			t.Errorf("%g req/s: overloaded %v, per-user null %v; want both %v", tc.rate, s.Overloaded, null, tc.overloaded)
		}
		if !tc.overloaded && !(s.OutputTokSPerUser > 0) {
			t.Errorf("%g req/s: per-user %g, want > 0", tc.rate, float64(s.OutputTokSPerUser))
		}
	}
}
