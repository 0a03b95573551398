package estimator

import (
	"math"
	"math/rand/v2"
	"sync"
)

// Simulate runs a seeded discrete-event simulation of one lane's Scheduler (continuous
// batching with a per-step token budget, FCFS admission, chunked prefill, KV blocks with
// preemption by recomputation, prefix caching), stepping time with the step model, and scales
// rates by the number of independent lanes (DP replicas × PP micro-batches). Closed loops
// resubmit the moment a reply ends (plus the API server's per-request cost); open loops draw
// Poisson or gamma gaps (or replay Workload.Arrivals). The same seed gives the same result.
func (d *Deployment) Simulate(w Workload, seed uint64) (Serving, error) {
	if err := w.Validate(); err != nil {
		return Serving{}, err
	}
	if w.NumRequests > MaxSimRequests {
		return Serving{}, &TooManyRequestsError{w.NumRequests}
	}
	if err := d.CheckWorkload(&w); err != nil {
		return Serving{}, err
	}
	mem := d.Memory()
	if !mem.Fits || mem.KVCacheTokens/d.PP < w.InputLen+1 { // the one fits rule (Memory.Fits)
		return Serving{}, d.notFit(mem, w)
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	reps := float64(d.Lanes())
	sch := d.newScheduler(mem, w.InputLen+w.OutputLen, w.PrefixLen, w.Kind == Static)
	reqOvh := d.Profile.RequestOverheadMs * 1e-3

	// Requests and arrivals for this lane.
	n := w.NumRequests
	var clients int
	switch w.Kind {
	case Static:
		n = int(math.Ceil(float64(w.BatchSize) / reps))
	case Offline:
		n = int(math.Ceil(float64(w.NumRequests) / reps))
	case Concurrency:
		clients = int(math.Max(1, math.Round(w.clientsSending()/reps)))
		if n <= 0 {
			n = max(10*clients, 500)
		} else {
			n = int(math.Ceil(float64(n) / reps))
		}
	case Rate:
		if n <= 0 {
			n = 1000
		} else {
			n = int(math.Ceil(float64(n) / reps))
		}
		if len(w.Arrivals) > 0 {
			n = int(math.Ceil(float64(len(w.Arrivals)) / reps))
		}
	}
	buf := simBufs.Get().(*simBuf)
	defer simBufs.Put(buf)
	if cap(buf.reqs) < n {
		buf.reqs = make([]SchedRequest, n)
	}
	reqs := buf.reqs[:n]
	clear(reqs)
	buf.gemm.Reset()
	gc := &buf.gemm
	if simSingleSteps {
		gc = nil
	}
	lam := w.RequestRate / reps
	t := 0.0
	for i := range reqs {
		r := &reqs[i]
		r.In, r.Out = w.InputLen, w.OutputLen
		if w.InputDist != nil {
			r.In = w.InputDist.draw(rng)
		}
		if w.OutputDist != nil {
			r.Out = w.OutputDist.draw(rng)
		}
		if i > 0 { // the first request warms the prefix cache
			r.Cached = max(0, sch.CachedPrefix(w.PrefixLen, r.In))
		}
		if !sch.Fits(r.In, r.Out, r.Cached) {
			return Serving{}, d.notFit(mem, w)
		}
		switch w.Kind {
		case Rate:
			// Gamma(k, 1/(λk)) gaps: Poisson for k = 1 (vllm bench serve's burstiness).
			t += gammaDraw(rng, w.Burstiness) / (lam * w.Burstiness)
			r.Arrival = t
			if len(w.Arrivals) > 0 {
				// Replayed arrivals, dealt round-robin to the replicas: this is replica 0's share.
				r.Arrival = w.Arrivals[min(i*int(reps), len(w.Arrivals)-1)]
			}
		case Concurrency:
			r.Arrival = math.Inf(1) // set when a client frees up
			if i < clients {
				r.Arrival = 0
			}
		}
	}

	var (
		now         float64
		next        int // next request not yet enqueued
		finished    int
		issued      = clients
		flops, byts float64
		busy        float64
		ends        = buf.ends[:0]
	)
	itl := itlAcc{keys: buf.itl[:0]} // each step with decode tokens: its duration and tokens
	eager := d.adpEagerStep()
	if w.Kind == Concurrency {
		// Clients resubmit the moment a reply ends; the engine sees it after the API server's cost.
		sch.OnDone = func(_ *SchedRequest, end float64) {
			if issued < n {
				reqs[issued].Arrival = end + reqOvh
				issued++
			}
		}
	}
	for finished < n {
		for next < n && reqs[next].Arrival <= now {
			sch.Enqueue(&reqs[next])
			next++
		}
		if sch.Idle() || !sch.Plan() {
			if next >= n || math.IsInf(reqs[next].Arrival, 1) {
				break // nothing will ever arrive: cannot happen, guard anyway
			}
			now = math.Max(now, reqs[next].Arrival)
			continue
		}
		b := sch.Batch()
		dt, f, by := d.stepTotals(b, gc)
		pre := len(b.Prefill) > 0
		dt = eager.price(dt, pre)
		k, queued := sch.runLength()
		if queued && simSingleSteps {
			k = 1
		}
		if k > 1 && queued {
			// Requests wait for KV blocks (Scheduler.runLength): a run of k steps that admits
			// none, priced and counted step by step exactly as single steps would be.
			arrive := math.Inf(1)
			if next < n {
				arrive = reqs[next].Arrival
			}
			ends = ends[:0]
			for i := 0; i < k; i++ {
				if i > 0 {
					if now >= arrive {
						break
					}
					sch.ShiftDecode(1)
					dt, f, by = d.stepTotals(b, gc)
					dt = eager.price(dt, pre)
				}
				flops += f
				byts += by
				busy += dt
				now += dt
				itl.add(dt, len(b.Decode))
				ends = append(ends, now)
			}
			eager.count(len(ends), pre)
			finished += sch.CommitRun(ends)
			continue
		}
		if k == 1 {
			flops += f
			byts += by
			busy += dt
			now += dt
			if len(b.Decode) > 0 {
				itl.add(dt, len(b.Decode))
			}
			eager.count(1, pre)
			finished += sch.Commit(now)
			continue
		}
		// A decode-only run of up to k steps: price its last step, interpolate the steps
		// between (attention grows linearly with the context), and stop before the step
		// that would start after the next arrival (which the scheduler must see).
		sch.ShiftDecode(k - 1)
		dtK, fK, byK := d.stepTotals(b, gc)
		dtK = eager.price(dtK, false)
		sch.ShiftDecode(1 - k)
		slope, fs, bs := (dtK-dt)/float64(k-1), (fK-f)/float64(k-1), (byK-by)/float64(k-1)
		arrive := math.Inf(1)
		if next < n {
			arrive = reqs[next].Arrival
		}
		ends = ends[:0]
		t := now
		for i := 0; i < k; i++ {
			if i > 0 && t >= arrive {
				break
			}
			di := dt + float64(i)*slope
			t += di
			ends = append(ends, t)
			itl.add(di, len(b.Decode))
			flops += f + float64(i)*fs
			byts += by + float64(i)*bs
			busy += di
		}
		now = t
		eager.count(len(ends), false)
		finished += sch.CommitRun(ends)
	}

	buf.ends, buf.itl = ends, itl.keys

	// Metrics. The API server's per-request cost (tokenisation, HTTP, streaming) adds to TTFT and E2E.
	s := Serving{Method: "simulation", Preemptions: sch.Preemptions}
	ttft, tpot, e2e, user := buf.ttft[:0], buf.tpot[:0], buf.e2e[:0], buf.user[:0]
	defer func() { buf.ttft, buf.tpot, buf.e2e, buf.user = ttft, tpot, e2e, user }()
	var first, lastEnd = math.Inf(1), 0.0
	var outTok, inTok float64
	for i := range reqs {
		r := &reqs[i]
		if r.First == 0 {
			continue
		}
		ttft = append(ttft, (r.First-r.Arrival+reqOvh)*1e3)
		e2e = append(e2e, (r.Last-r.Arrival+reqOvh)*1e3)
		if r.Out > 1 {
			tp := (r.Last - r.First) / float64(r.Out-1)
			tpot = append(tpot, tp*1e3)
			if r.Last > r.First {
				user = append(user, float64(r.Out)/(r.Last-r.First))
			}
		}
		first = math.Min(first, r.Arrival)
		lastEnd = math.Max(lastEnd, r.Last)
		outTok += float64(r.Out)
		inTok += float64(r.In)
	}
	dur := lastEnd - first
	if dur <= 0 || len(ttft) == 0 {
		return s, nil
	}
	s.TTFT, s.TPOT, s.E2E = buf.summarize(ttft), buf.summarize(tpot), buf.summarize(e2e)
	s.ITL = buf.weighted(&itl)
	// The lanes together carry the workload's clients (or requests); the simulated lane carried
	// a whole share of them, rounded. Rates scale by the true total over that share, not by the
	// lanes: 4 clients on 8 attention-DP ranks are 4 busy lanes, not 8 (they were priced as 8,
	// twice the throughput Little's law allows 4 clients at the simulated E2E).
	// An open loop of N requests (or N replayed arrivals) likewise carries N, not n per lane ×
	// the lanes: 3 requests on 8 replicas were priced as 8 and exceeded the offered rate.
	scale := reps
	switch w.Kind {
	case Concurrency:
		// The clients' share, or, for a short run, the requests' (C = 8 clients running N = 12
		// requests on 8 replicas: the simulated replica runs 2 with its one client, but only 12
		// exist, 12/(2·E2E) = 6/E2E, not 8/E2E).
		scale = w.clientsSending() / float64(clients)
		if w.NumRequests > 0 {
			scale = min(scale, float64(w.NumRequests)/float64(n))
		}
	case Static:
		scale = float64(w.BatchSize) / float64(n)
	case Offline:
		scale = float64(w.NumRequests) / float64(n)
	case Rate:
		if len(w.Arrivals) > 0 {
			scale = float64(len(w.Arrivals)) / float64(n)
		} else if w.NumRequests > 0 {
			scale = float64(w.NumRequests) / float64(n)
		}
	}
	s.RequestPerS = scale * float64(len(ttft)) / dur
	s.OutputTokS = scale * outTok / dur
	s.TotalTokS = scale * (outTok + inTok) / dur
	if len(user) > 0 {
		s.OutputTokSPerUser = NullFloat(mean(user))
	}
	if w.Kind == Static || w.Kind == Offline {
		s.BatchElapsedS = dur
	}
	s.MeanStepMs = busy / float64(max(1, len(itl.keys))) * 1e3
	if busy > 0 {
		s.MFU = flops / busy / float64(d.gemmPeak)
		s.MBU = byts / busy / float64(d.GPU.MemoryBandwidth)
	}
	// Mean running batch by Little's law over the run.
	s.Batch = s.RequestPerS / reps * (s.E2E.Mean - s.TTFT.Mean) / 1e3
	c := newCF(d, &w, mem)
	s.MaxRequestRate = reps * c.maxRate()
	s.PrefillShare = c.at(math.Min(math.Max(1, s.Batch), c.bmax)).prefillShare(c.out)
	s.DecodeStepMs = c.decode(math.Max(1, s.Batch)) * 1e3
	_, _, s.Bound = d.stepBrief(&Batch{Decode: []int{c.ctx()}})
	if w.Kind == Rate && w.RequestRate >= s.MaxRequestRate {
		s.Overloaded = true
		s.Warnings = append(s.Warnings, "overloaded: arrivals exceed the sustainable rate; simulated latencies grow with the number of requests")
	}
	if s.RequestPerS > s.MaxRequestRate {
		// A finite run (a static batch, the warm-up of a closed loop) can beat the steady state.
		s.MaxRequestRate = s.RequestPerS
	}
	switch {
	case sch.Preemptions > 0 && sch.ratioMode:
		s.Warnings = append(s.Warnings, "KV cache exhausted in decode: requests were retracted and recomputed (SGLang's retract_decode: the decayed new_token_ratio had admitted more than the cache holds at the end of their outputs)")
	case sch.Preemptions > 0:
		s.Warnings = append(s.Warnings, "KV cache exhausted: sequences were preempted and recomputed")
	}
	s.Warnings = append(s.Warnings, d.moeFitWarnings(w)...)
	return s, nil
}

// adpEager prices, in a lane's simulation, the steps that run without a CUDA graph because
// some rank of the attention-DP group holds a context chunk (Profile.ADPEagerLayerUs). The
// other ranks of the group are statistically the lane's copies (same arrivals, same
// scheduler), so each holds a context chunk in a step with the probability q the lane itself
// does (its share of steps with prefill so far); a decode-only step of the lane is then eager
// with probability 1 − (1 − q)^(g−1) and costs max(GPU work, dispatch) when it is. Priced in
// expectation: t + P(eager)·max(0, dispatch − t). A step with the lane's own prefill is eager.
type adpEager struct {
	others, dispatch float64 // g − 1 ranks; host dispatch of an eager step (s)
	steps, prefill   float64 // steps priced so far, of which with the lane's own prefill
}

// adpEagerStep returns the pricing of eager steps for this deployment (zero: none applies).
func (d *Deployment) adpEagerStep() adpEager {
	us, g := d.Profile.ADPEagerLayerUs, d.moeGather()
	if us <= 0 || g <= 1 {
		return adpEager{}
	}
	return adpEager{others: g - 1, dispatch: us * 1e-6 * float64(d.layers) * float64(d.PP)}
}

// price returns step time t (s) with the expected eager dispatch added.
func (e *adpEager) price(t float64, prefill bool) float64 {
	if e.dispatch <= 0 {
		return t
	}
	if prefill {
		return math.Max(t, e.dispatch)
	}
	q := 0.0
	if e.steps > 0 {
		q = e.prefill / e.steps
	}
	p := 1 - math.Pow(1-q, e.others)
	return t + p*math.Max(0, e.dispatch-t)
}

// count records n steps run, with the lane's own prefill or without.
func (e *adpEager) count(n int, prefill bool) {
	e.steps += float64(n)
	if prefill {
		e.prefill += float64(n)
	}
}

// simSingleSteps turns off the shortcuts that give the single steps' numbers bit for bit —
// the runs taken while requests wait for KV blocks and the GEMM terms cached by batch shape —
// so that a test can check that they do (TestSimulationShortcutsExact).
var simSingleSteps bool

// gammaDraw draws Gamma(k, 1) (Marsaglia–Tsang; k < 1 by boosting).
func gammaDraw(r *rand.Rand, k float64) float64 {
	if k == 1 {
		return r.ExpFloat64()
	}
	if k < 1 {
		return gammaDraw(r, k+1) * math.Pow(r.Float64(), 1/k)
	}
	dd := k - 1.0/3
	c := 1 / math.Sqrt(9*dd)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if math.Log(u) < 0.5*x*x+dd-dd*v+dd*math.Log(v) {
			return dd * v
		}
	}
}

func mean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// Percentile is the p-quantile (0 ≤ p ≤ 1) of sorted x by linear interpolation between
// order statistics (numpy's default "linear" method). Empty x gives NaN.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	h := p * float64(len(sorted)-1)
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-lo)*(sorted[i+1]-sorted[i])
}

// simBuf holds a simulation's working slices, reused across calls (a sweep runs thousands).
type simBuf struct {
	reqs                  []SchedRequest
	ends                  []float64
	itl                   []uint64
	ttft, tpot, e2e, user []float64
	scratch               []uint64
	gemm                  gemmCache
}

var simBufs = sync.Pool{New: func() any { return new(simBuf) }}

// summarize sorts x and returns its mean (summed in sorted order), numpy-linear percentiles,
// minimum and maximum.
func (b *simBuf) summarize(x []float64) Dist {
	if len(x) == 0 {
		return Dist{}
	}
	b.scratch = sortFloats(x, b.scratch)
	return Dist{Mean: mean(x), Median: Percentile(x, 0.5), P90: Percentile(x, 0.9), P95: Percentile(x, 0.95), P99: Percentile(x, 0.99), Min: x[0], Max: x[len(x)-1]}
}

// itlAcc collects values v (seconds) each occurring w times (decode tokens of a step) for
// weighted. Weights are whole counts below 65536; a value is kept as its float bits with the
// low 16 mantissa bits replaced by the weight (a relative error below 1e−11), so that sorting
// the keys sorts the values.
type itlAcc struct {
	keys       []uint64
	total, sum float64 // Σ w, Σ v·w
}

func (a *itlAcc) add(v float64, w int) {
	wi := uint64(min(max(w, 0), 0xFFFF))
	a.keys = append(a.keys, math.Float64bits(v)&^0xFFFF|wi)
	a.total += float64(wi)
	a.sum += v * float64(wi)
}

// weighted summarises a's values in ms: percentiles are the smallest value whose cumulative
// weight reaches p of the total.
func (b *simBuf) weighted(a *itlAcc) Dist {
	keys := a.keys
	if len(keys) == 0 {
		return Dist{}
	}
	if cap(b.scratch) < len(keys) {
		b.scratch = make([]uint64, len(keys))
	}
	// Non-negative durations: bit order is value order. Keys of equal value may end in any
	// order: the value at which the cumulative weight first reaches p is the same.
	sortKeys(keys, b.scratch[:len(keys)], 16)
	total := a.total
	val := func(k uint64) float64 { return math.Float64frombits(k&^0xFFFF) * 1e3 }
	qs := [...]float64{0.5, 0.9, 0.95, 0.99}
	var out [4]float64
	acc, j := 0.0, 0
	for _, k := range keys {
		acc += float64(k & 0xFFFF)
		for j < len(qs) && acc >= qs[j]*total {
			out[j] = val(k)
			j++
		}
	}
	for ; j < len(qs); j++ {
		out[j] = val(keys[len(keys)-1])
	}
	return Dist{Mean: a.sum / total * 1e3, Median: out[0], P90: out[1], P95: out[2], P99: out[3], Min: val(keys[0]), Max: val(keys[len(keys)-1])}
}
