package estimator

import (
	"math"
	"math/rand/v2"
	"sort"
)

type simReq struct {
	arrival   float64
	in, out   int
	cached    int // prompt tokens served from the prefix cache
	done      int // prompt tokens computed so far
	generated int
	blocks    int // KV blocks held (prefix blocks excluded)
	first     float64
	last      float64
	chunk     int // tokens scheduled this step (0: decode)
}

// Simulate runs a seeded discrete-event simulation of one replica's scheduler (continuous
// batching with a per-step token budget, FCFS admission, KV blocks with preemption by
// recomputation, prefix caching), stepping time with the step model, and scales rates by
// the number of independent lanes (DP replicas × PP micro-batches). The same seed gives the same result.
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
	if mem.KVCacheTokens/d.PP < w.InputLen+1 {
		return Serving{}, d.notFit(mem, w)
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	reps := float64(d.Lanes())
	block := d.Profile.KVBlockTokens
	if block < 1 {
		block = 1
	}
	// One pipeline lane's share, in tokens of sequences of the workload's length
	// (windowed layers held to their window: KVTokensAt).
	totalBlocks := d.kvTokensAt(mem, w.InputLen+w.OutputLen) / d.PP / block
	prefixBlocks := w.PrefixLen / block
	cachedTokens := prefixBlocks * block
	freeBlocks := totalBlocks - prefixBlocks
	budget := d.MaxNumBatchedTokens
	if budget <= 0 {
		budget = math.MaxInt32
	}
	if w.Kind == Static {
		// A static batch (gptSessionBenchmark, LMDeploy profile_generation) prefills every
		// prompt of the batch in one step: no chunking budget.
		budget = math.MaxInt32
	}
	maxSeqs := d.MaxNumSeqs
	if maxSeqs <= 0 {
		maxSeqs = math.MaxInt32
	}

	// Requests and arrivals for this replica.
	n := w.NumRequests
	var clients int
	switch w.Kind {
	case Static:
		n = int(math.Ceil(float64(w.BatchSize) / reps))
	case Offline:
		n = int(math.Ceil(float64(w.NumRequests) / reps))
	case Concurrency:
		clients = int(math.Max(1, math.Round(float64(w.Concurrency)/reps)))
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
	reqs := make([]simReq, n)
	lam := w.RequestRate / reps
	t := 0.0
	for i := range reqs {
		r := &reqs[i]
		r.in, r.out = w.InputLen, w.OutputLen
		if w.InputDist != nil {
			r.in = w.InputDist.draw(rng)
		}
		if w.OutputDist != nil {
			r.out = w.OutputDist.draw(rng)
		}
		if i > 0 { // the first request warms the prefix cache
			r.cached = min(cachedTokens, r.in-1)
		}
		switch w.Kind {
		case Rate:
			// Gamma(k, 1/(λk)) gaps: Poisson for k = 1 (vllm bench serve's burstiness).
			t += gammaDraw(rng, w.Burstiness) / (lam * w.Burstiness)
			r.arrival = t
			if len(w.Arrivals) > 0 {
				// Replayed arrivals, dealt round-robin to the replicas: this is replica 0's share.
				r.arrival = w.Arrivals[min(i*int(reps), len(w.Arrivals)-1)]
			}
		case Concurrency:
			r.arrival = math.Inf(1) // set when a client frees up
			if i < clients {
				r.arrival = 0
			}
		}
	}

	var (
		now         float64
		next        int // next request not yet in the waiting queue
		waiting     []int
		running     []int
		batch       Batch
		stepDur     []float64 // duration of each step with decode tokens
		stepN       []float64 // decode tokens emitted in that step (ITL samples)
		finished    int
		preempt     int
		issued      = clients
		flops, byts float64
		busy        float64
	)
	blocksFor := func(tokens int) int { return (tokens + block - 1) / block }
	reserve := d.Profile.Admission == "reserve"
	for finished < n {
		for next < n && reqs[next].arrival <= now {
			waiting = append(waiting, next)
			next++
		}
		if len(running) == 0 && len(waiting) == 0 {
			if next >= n || math.IsInf(reqs[next].arrival, 1) {
				break // closed loop with nothing issued: cannot happen, guard anyway
			}
			now = reqs[next].arrival
			continue
		}
		batch.Prefill, batch.Decode = batch.Prefill[:0], batch.Decode[:0]
		left := budget
		// Running requests first: decode one token or continue their prefill.
		for i := 0; i < len(running) && left > 0; i++ {
			r := &reqs[running[i]]
			r.chunk = 0
			if r.done < r.in-r.cached {
				c := min(r.in-r.cached-r.done, left)
				need := max(0, blocksFor(r.done+c)-r.blocks)
				if need > freeBlocks {
					c = (r.blocks+freeBlocks)*block - r.done
					if c <= 0 {
						continue
					}
					need = max(0, blocksFor(r.done+c)-r.blocks)
				}
				freeBlocks -= need
				r.blocks += need
				r.chunk = c
				left -= c
				batch.Prefill = append(batch.Prefill, Chunk{New: c, Past: r.cached + r.done})
				continue
			}
			ctx := r.in - r.cached + r.generated
			need := max(0, blocksFor(ctx+1)-r.blocks)
			for need > freeBlocks && len(running) > i+1 {
				// Preempt the most recently admitted request (recompute later).
				v := running[len(running)-1]
				running = running[:len(running)-1]
				rv := &reqs[v]
				freeBlocks += rv.blocks
				rv.blocks, rv.done, rv.generated = 0, 0, 0
				waiting = append([]int{v}, waiting...)
				preempt++
			}
			if need > freeBlocks {
				continue
			}
			freeBlocks -= need
			r.blocks += need
			r.chunk = -1
			left--
			batch.Decode = append(batch.Decode, r.cached+ctx)
		}
		// Admit waiting requests FCFS while budget, sequence slots and blocks allow.
		for len(waiting) > 0 && left > 0 && len(running) < maxSeqs {
			r := &reqs[waiting[0]]
			c := min(r.in-r.cached, left)
			need := blocksFor(c)
			if reserve {
				need = blocksFor(r.in - r.cached + r.out) // the whole sequence, up front
			}
			if need > freeBlocks {
				break
			}
			freeBlocks -= need
			r.blocks, r.done, r.chunk = need, 0, c
			left -= c
			running = append(running, waiting[0])
			waiting = waiting[1:]
			batch.Prefill = append(batch.Prefill, Chunk{New: c, Past: r.cached})
		}
		if len(batch.Prefill) == 0 && len(batch.Decode) == 0 {
			// Nothing schedulable (KV exhausted by one request): advance to the next arrival.
			if next < n && !math.IsInf(reqs[next].arrival, 1) {
				now = math.Max(now, reqs[next].arrival)
				continue
			}
			break
		}
		dt, f, by := d.stepTotals(&batch)
		flops += f
		byts += by
		busy += dt
		now += dt
		if len(batch.Decode) > 0 {
			stepDur = append(stepDur, dt)
			stepN = append(stepN, float64(len(batch.Decode)))
		}
		// Emit tokens and retire finished requests.
		keep := running[:0]
		for _, id := range running {
			r := &reqs[id]
			switch {
			case r.chunk > 0:
				r.done += r.chunk
				if r.done >= r.in-r.cached {
					r.generated = 1
					if r.first == 0 {
						r.first = now
					}
					r.last = now
				}
			case r.chunk < 0:
				r.generated++
				r.last = now
			}
			r.chunk = 0
			if r.generated >= r.out && r.done >= r.in-r.cached {
				finished++
				freeBlocks += r.blocks
				r.blocks = 0
				if w.Kind == Concurrency && issued < n {
					reqs[issued].arrival = now + d.Profile.RequestOverheadMs*1e-3
					issued++
					// keep the queue ordered: the next request arrives now
				}
				continue
			}
			keep = append(keep, id)
		}
		running = keep
	}

	// Metrics. The API server's per-request cost (tokenisation, HTTP, streaming) adds to TTFT and E2E.
	reqOvh := d.Profile.RequestOverheadMs * 1e-3
	s := Serving{Method: "simulation", Preemptions: preempt}
	var ttft, tpot, e2e, user []float64
	var first, lastEnd = math.Inf(1), 0.0
	var outTok, inTok float64
	for i := range reqs {
		r := &reqs[i]
		if r.first == 0 {
			continue
		}
		ttft = append(ttft, (r.first-r.arrival+reqOvh)*1e3)
		e2e = append(e2e, (r.last-r.arrival+reqOvh)*1e3)
		if r.out > 1 {
			tp := (r.last - r.first) / float64(r.out-1)
			tpot = append(tpot, tp*1e3)
			if r.last > r.first {
				user = append(user, float64(r.out)/(r.last-r.first))
			}
		}
		first = math.Min(first, r.arrival)
		lastEnd = math.Max(lastEnd, r.last)
		outTok += float64(r.out)
		inTok += float64(r.in)
	}
	dur := lastEnd - first
	if dur <= 0 || len(ttft) == 0 {
		return s, nil
	}
	s.TTFT, s.TPOT, s.E2E = summarize(ttft), summarize(tpot), summarize(e2e)
	s.ITL = weighted(stepDur, stepN)
	s.RequestPerS = reps * float64(len(ttft)) / dur
	s.OutputTokS = reps * outTok / dur
	s.TotalTokS = reps * (outTok + inTok) / dur
	if len(user) > 0 {
		s.OutputTokSPerUser = mean(user)
	}
	if w.Kind == Static || w.Kind == Offline {
		s.BatchElapsedS = dur
	}
	s.MeanStepMs = busy / float64(max(1, len(stepDur))) * 1e3
	if busy > 0 {
		s.MFU = flops / busy / float64(d.gemmPeak)
		s.MBU = byts / busy / float64(d.GPU.MemoryBandwidth)
	}
	// Mean running batch by Little's law over the run.
	s.Batch = s.RequestPerS / reps * (s.E2E.Mean - s.TTFT.Mean) / 1e3
	c := newCF(d, &w, mem)
	full := c.at(c.bmax)
	s.MaxRequestRate = reps * full.b / full.e2e
	s.PrefillShare = c.at(math.Min(math.Max(1, s.Batch), c.bmax)).prefillShare(c.out)
	s.DecodeStepMs = c.decode(math.Max(1, s.Batch)) * 1e3
	s.Bound = d.StepTime(Batch{Decode: []int{c.ctx()}}, false).Bound
	if w.Kind == Rate && w.RequestRate >= s.MaxRequestRate {
		s.Overloaded = true
		s.Warnings = append(s.Warnings, "overloaded: arrivals exceed the sustainable rate; simulated latencies grow with the number of requests")
	}
	if preempt > 0 {
		s.Warnings = append(s.Warnings, "KV cache exhausted: sequences were preempted and recomputed")
	}
	return s, nil
}

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

func summarize(x []float64) Dist {
	if len(x) == 0 {
		return Dist{}
	}
	sort.Float64s(x)
	return Dist{Mean: mean(x), Median: Percentile(x, 0.5), P90: Percentile(x, 0.9), P95: Percentile(x, 0.95), P99: Percentile(x, 0.99)}
}

// weighted summarises values v[i] (seconds) each occurring w[i] times, in ms.
func weighted(v, w []float64) Dist {
	if len(v) == 0 {
		return Dist{}
	}
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	total, sum := 0.0, 0.0
	for i := range v {
		total += w[i]
		sum += v[i] * w[i]
	}
	q := func(p float64) float64 {
		target := p * total
		acc := 0.0
		for _, i := range idx {
			acc += w[i]
			if acc >= target {
				return v[i] * 1e3
			}
		}
		return v[idx[len(idx)-1]] * 1e3
	}
	return Dist{Mean: sum / total * 1e3, Median: q(0.5), P90: q(0.9), P95: q(0.95), P99: q(0.99)}
}
