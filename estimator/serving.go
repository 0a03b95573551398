package estimator

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Dist summarises a latency distribution in milliseconds. Percentiles use linear
// interpolation between order statistics (numpy's default, as vLLM, SGLang and GenAI-Perf).
//
// Min and Max bound the distribution, so that a mean pulled above p99 by rare long values
// (the steps that carry a prefill, for ITL) is visibly one of them.
type Dist struct {
	Mean   float64 `json:"mean"`
	Median float64 `json:"median"`
	P90    float64 `json:"p90"`
	P95    float64 `json:"p95"`
	P99    float64 `json:"p99"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// Serving is the predicted steady-state behaviour of a deployment under a workload. Rates
// are for the whole deployment (all DP replicas); latencies are per request.
type Serving struct {
	Method string `json:"method"` // "closed-form" or "simulation"
	// Explain splits the closed form's mean TTFT into its parts (nil for the simulation and
	// for static batches); estimate --explain prints it.
	Explain *TTFTBreakdown `json:"-"`
	// MethodReason says why Method was used (Predict fills it; see ClosedFormValid), or, for
	// the closed form outside its region of validity, why it should not be trusted.
	MethodReason string `json:"method_reason,omitempty"`
	outside      string // the condition of ClosedFormValid that fails ("" inside)
	TTFT         Dist   `json:"ttft_ms"`
	ITL          Dist   `json:"itl_ms"`
	TPOT         Dist   `json:"tpot_ms"`
	E2E          Dist   `json:"e2e_ms"`
	// OutputTokS and TotalTokS are output and input+output tokens/s; RequestPerS requests/s.
	OutputTokS  float64 `json:"output_tok_s"`
	TotalTokS   float64 `json:"total_tok_s"`
	RequestPerS float64 `json:"request_per_s"`
	// OutputTokSPerUser is the mean streaming speed a reader sees: output/(E2E − TTFT),
	// tok/s. NaN (JSON null) when the closed form finds the deployment overloaded: E2E and
	// TTFT are then both unbounded and there is no speed to predict.
	OutputTokSPerUser NullFloat `json:"output_tok_s_per_user"`
	// Batch is the mean number of running sequences per replica.
	Batch float64 `json:"mean_batch"`
	// Overloaded is true when arrivals exceed what the deployment sustains: latencies then
	// grow without bound and are not reported as finite numbers.
	Overloaded bool `json:"overloaded"`
	// MaxRequestRate is the highest sustainable request rate of the deployment, req/s.
	MaxRequestRate float64 `json:"max_request_rate"`
	// BatchElapsedS is the time to finish a static batch or offline run, s (0 otherwise).
	BatchElapsedS float64 `json:"batch_elapsed_s,omitempty"`
	// DecodeStepMs and MixedStepMs are the modelled decode-only and mean steps, ms.
	DecodeStepMs float64 `json:"decode_step_ms"`
	MeanStepMs   float64 `json:"mean_step_ms"`
	Bound        string  `json:"bound"`
	// MFU and MBU are model FLOPs and memory-bandwidth utilisation over the run (0..1).
	MFU float64 `json:"mfu"`
	MBU float64 `json:"mbu"`
	// PrefillShare is the fraction of GPU time spent on prefill work (used to split cost
	// between input and output tokens).
	PrefillShare float64 `json:"prefill_time_share"`
	// Preemptions counts sequences evicted for lack of KV cache (simulation only).
	Preemptions int      `json:"preemptions"`
	Warnings    []string `json:"warnings"`
}

// ServeModel is the per-replica state of the closed form: the step times it needs.
type cf struct {
	d *Deployment
	w *Workload // nil in Serve (numRequests is its NumRequests)
	// numRequests is the workload's NumRequests.
	numRequests int
	in, out     float64 // mean input tokens to compute (prefix excluded) and output tokens
	inTotal     float64
	budget      float64 // max_num_batched_tokens
	bmax        float64 // largest running batch (max_num_seqs, KV capacity)
	kvTokens    float64
	batch       Batch
	loadS       float64 // mean time to load a request's prefix from an offload tier (offload.go)
	// closed is true for a closed loop (arrivals right after a step ends, when a reply ends);
	// cv2 is the squared coefficient of variation of arrivals per step (1/burstiness; 1 closed).
	closed bool
	cv2    float64
	// in2 is E[in²]/E[in]² of the prompt lengths (1 for fixed lengths).
	in2    float64
	storeS float64 // GPU time to store a request's new KV into the offload tier (offload.go)
	dmemo  [2]decodeMemo
	dnext  int
	// burst, when set, replaces startBurst (the sweep shares one burst run per token budget).
	burst func(k int) []float64
	// tab, when set, prices the steps' GEMMs from the deployment's table (gemmtable.go).
	tab *gemmTable
}

func (c *cf) ctx() int { return int(c.inTotal + c.out/2) }

// decodeOnly is the target's time of a decode-only step of n sequences at the mean context
// (c.batch.Verify as set), remembering the last two: an operating point needs the same
// whole batches for its decode step and for the steps its prefills join.
func (c *cf) decodeOnly(n int) float64 {
	for i := range c.dmemo {
		if e := &c.dmemo[i]; e.ok && e.n == n && e.verify == c.batch.Verify {
			return e.t
		}
	}
	c.batch.Prefill = c.batch.Prefill[:0]
	c.batch.Decode = c.batch.Decode[:0]
	c.batch.Uniform.N, c.batch.Uniform.Ctx = n, c.ctx()
	acc := stepAcc{tab: c.tab}
	c.d.step(&c.batch, &acc)
	c.dmemo[c.dnext] = decodeMemo{n: n, verify: c.batch.Verify, t: acc.total, ok: true, flops: acc.flops, bytes: acc.bytes, bound: acc.bound}
	c.dnext ^= 1
	return acc.total
}

type decodeMemo struct {
	n, verify    int
	t            float64
	ok           bool
	flops, bytes float64    // the step's FLOPs and bytes per GPU (stepAcc)
	bound        [4]float64 // and its time by bound (stepAcc.bound)
}

// decode returns the time per output token of decode-only steps of b sequences at the mean
// context: the step time, or with speculative decoding (verify + draft) / acceptance length.
func (c *cf) decode(b float64) float64 {
	t, draft := c.decodeStep(b)
	if s := c.d.spec; s != nil {
		return (t + draft) / s.acceptLen
	}
	return t
}

// decodeStep returns the target's time of a decode-only step of b sequences at the mean
// context (verifying K+1 positions each with speculative decoding) and the draft's time.
func (c *cf) decodeStep(b float64) (t, draft float64) {
	n := int(max(1, math.Ceil(b)))
	c.batch.Prefill = c.batch.Prefill[:0]
	c.batch.Decode = c.batch.Decode[:0]
	c.batch.Uniform.N, c.batch.Uniform.Ctx = n, c.ctx()
	if s := c.d.spec; s != nil {
		c.batch.Verify = s.Tokens + 1
	}
	t = c.decodeOnly(n)
	draft = c.d.specDraftTime(&c.batch)
	if f := b - math.Floor(b); n > 1 && f > 0 {
		// interpolate between integer batches
		c.batch.Uniform.N = n - 1
		t0 := c.decodeOnly(n - 1)
		t = t0 + (t-t0)*f
		if draft > 0 {
			d0 := c.d.specDraftTime(&c.batch)
			draft = d0 + (draft-d0)*f
		}
	}
	c.batch.Uniform.N = 0
	return t, draft
}

// prefillExtra returns, for one request's prefill piggybacked on a decode batch of b when k
// prompts (k ≥ 1, mean prompts admitted per step) start in the same step, the extra time its
// chunks add and the number of steps they span. A step's time is convex in its tokens (a
// roofline: max of the weights' read and the tokens' compute), so k prompts in one step cost
// more than k times one prompt's marginal time near the ridge, while a step's fixed prefill
// cost is paid once for all k: a prompt's share is the extra of the step carrying all of them,
// T(b + k·in) − T(b), over k. Prompts that do not fit the
// step's room together (k·in > budget − b) fill it: the share is then that of a full step
// per room tokens; a prompt longer than the room spans its chunks as when it is alone.
func (c *cf) prefillExtra(b, k float64) (extra, dispShare, disp float64, chunks int) {
	// Evaluated at whole running batches and interpolated, as the decode step (decodeStep).
	if s := c.d.spec; s != nil {
		c.batch.Verify = s.Tokens + 1 // the mixed steps verify as the decode steps do
	}
	n := max(0, math.Floor(b))
	extra, dispShare, disp, chunks = c.prefillExtraAt(int(n), b, k)
	if f := b - n; f > 0 {
		e1, s1, d1, _ := c.prefillExtraAt(int(n)+1, b, k)
		extra += (e1 - extra) * f
		dispShare += (s1 - dispShare) * f
		disp += (d1 - disp) * f
	}
	extra = (extra-dispShare)*(1+c.d.specPrefillShare()) + dispShare
	c.batch.Prefill = c.batch.Prefill[:0]
	c.batch.Decode = c.batch.Decode[:0]
	c.batch.Uniform.N = 0
	return extra, dispShare, disp, chunks
}

// prefillExtraAt is prefillExtra with n decoding sequences in the steps (b sets the room).
// With an eager prefill dispatch (Profile.EagerPrefillLayerUs), disp is its exposed part
// summed over the steps that carry the prompt and dispShare the prompt's share of it (the
// steps' dispatch over the prompts in them), both included in extra: throughput pays each
// step's dispatch once for all its prompts, while every prompt waits for its steps' whole
// dispatch (cf.at).
func (c *cf) prefillExtraAt(n int, b, k float64) (extra, dispShare, disp float64, chunks int) {
	room := max(c.budget-b, 1)
	in := int(math.Ceil(c.in))
	past := max(int(c.inTotal)-in, 0)
	ctx := c.ctx()
	base := c.decodeOnly(n)
	c.batch.Decode = c.batch.Decode[:0]
	c.batch.Uniform.N, c.batch.Uniform.Ctx = n, ctx
	c.batch.Prefill = c.batch.Prefill[:0]
	eager := c.d.eagerPrefillLayerUs() > 0
	// step returns the extra of the batch over the decode-only step and its exposed dispatch.
	step := func() (float64, float64) {
		t := c.stepSeconds(&c.batch)
		if !eager {
			return t - base, 0
		}
		c.batch.noDispatch = true
		t0 := c.stepSeconds(&c.batch)
		c.batch.noDispatch = false
		return t - base, t - t0
	}
	kEff := min(k, room/float64(in)) // prompts per step that fit the room
	if kEff <= 1 {
		var first float64 // the first (full-room) chunk's exposed dispatch
		// A prompt alone in its steps, in chunks of the room.
		for left := in; left > 0; {
			chunk := left // room is +Inf without a token budget: int(room) would overflow
			if room < float64(left) {
				chunk = int(room)
			}
			c.batch.Prefill = append(c.batch.Prefill[:0], Chunk{New: chunk, Past: past})
			e, dd := step()
			extra += e
			disp += dd
			if chunks == 0 {
				first = dd
			}
			past += chunk
			left -= chunk
			chunks++
		}
		if chunks > 1 {
			// A prompt longer than the room: its last, short chunk shares its step with the
			// next prompts' heads as soon as others wait, so the prompt is charged the
			// dispatch of in/room full steps (the first chunk's), not one per chunk.
			share := first * float64(in) / room
			return extra - disp + share, share, share, chunks
		}
		return extra, disp, disp, chunks
	}
	// j whole prompts in one step; a fractional count interpolates between ⌊k⌋ and ⌈k⌉
	// prompts (a partial prompt would price its attention as a shorter, cheaper one).
	stepWith := func(j int) (float64, float64) {
		c.batch.Prefill = c.batch.Prefill[:0]
		for range j {
			c.batch.Prefill = append(c.batch.Prefill, Chunk{New: in, Past: past})
		}
		return step()
	}
	full := int(kEff)
	extra, disp = stepWith(full)
	if f := kEff - float64(full); f > 0 {
		e1, d1 := stepWith(full + 1)
		extra += (e1 - extra) * f
		disp += (d1 - disp) * f
	}
	return extra / kEff, disp / kEff, disp, 1
}

type cfPoint struct {
	b, tauD, extra, tau, ttft0, e2e float64
	chunks                          int
	// The parts of TTFT₀ (s): the wait for the step in progress, the wait for prefill budget
	// behind prompts admitted earlier, the prompt's own prefill chunks (decode part) and the
	// extra time prefills add to those steps; fixed is the API server's per-request cost.
	waitStep, waitBudget, prefill, interference, fixed float64
	decodePart, loadPart                               float64 // prefill = decodePart + loadPart
}

// prefillShare is the fraction of step time spent on prefill: b·Δ/O of each mean step τ̄.
func (p cfPoint) prefillShare(O float64) float64 {
	if p.tau <= 0 {
		return 0
	}
	return p.b * p.extra / O / p.tau
}

// at evaluates the steady state of the Scheduler at a running batch b (per lane):
//
//   - decode step τ_d(b) (b + 1 in an open loop: the request itself and b others on average);
//     one prompt's prefill adds Δ(b) over its chunks (prefillExtra);
//   - a = b/O prompts start per step on average, so the mean step is τ̄ = τ_d + a·Δ and the
//     prefill share of time u = a·Δ/τ̄;
//   - the prompts admitted in one step are those that arrived during the step before
//     (Poisson-like with mean a, variance a·cv²), so step lengths vary:
//     Var τ = Δ²·a·cv²/(1 − u²) and a length-biased step lasts m = τ̄ + Var τ/τ̄;
//   - an open-loop arrival lands in a length-biased step and waits m/2 for it to end, with
//     a·m/τ̄ other prompts arriving in the same step; a closed-loop arrival comes right after
//     a step ends (the reply that freed its client ended it, plus the API server's cost f)
//     and waits τ̄ − f, with a others (the replies that ended in the same step);
//   - FCFS, half of the co-arrivals go first: the prompt completes after
//     n = ⌈in·(1 + co/2)/room⌉ steps (room = budget − b), taking n·τ_d + Δ·min(n·room/in, 1 + co);
//
// TTFT₀ = wait + n·τ_d + Δ·min(…) + f and E2E = TTFT₀ + (O−1)·τ̄.
func (c *cf) at(b float64) cfPoint {
	p := cfPoint{b: b}
	// The batch a request runs in: in a closed loop the b clients; in an open loop itself
	// plus the others, Poisson with mean b (arrivals see time averages), so 1 + b.
	seen := b
	if !c.closed {
		seen = min(b+1, max(c.bmax, b))
	}
	al := 1.0 // tokens per step: with speculative decoding a step is al per-token times long
	if s := c.d.spec; s != nil {
		al = s.acceptLen
	}
	p.tauD = c.decode(seen)
	var dispShare, disp float64 // exposed eager prefill dispatch (prefillExtraAt)
	p.extra, dispShare, disp, p.chunks = c.prefillExtra(seen, b*al/c.out)
	p.extra += c.storeS
	if e := c.d.adpEagerStep(); e.dispatch > 0 {
		// Attention DP + EP: a step is eager when any rank of the group holds a prompt chunk;
		// each of the others does in a share q = min(1, a·chunks) of the steps, as this lane
		// (the simulation's adpEager, priced in expectation on the decode step).
		q := math.Min(1, b*al/c.out*float64(max(p.chunks, 1)))
		pe := 1 - math.Pow(1-q, e.others)
		p.tauD += pe * math.Max(0, e.dispatch-p.tauD)
	}
	p.tau = p.tauD + b*p.extra/c.out
	p.fixed = c.d.Profile.RequestOverheadMs * 1e-3
	step, stepD := p.tau*al, p.tauD*al
	a := b * al / c.out
	u := min(a*p.extra/step, 0.95)
	cv2 := c.cv2
	if cv2 <= 0 {
		cv2 = 1
	}
	// The prompts' work varies with how many arrive (Poisson-like, above); an eager prefill
	// dispatch (prefillExtraAt) does not grow with them: a step pays it whole or not at all,
	// and τ̄ charges it to a share q = min(1, a·chunks) of the steps (each one once a step
	// carries a prompt or more), so it adds per²·q·(1 − q) to the variance.
	v := p.extra - dispShare
	m := step + v*v*c.in2*a*cv2/(1-u*u)/step
	if disp > 0 {
		per := disp / float64(max(p.chunks, 1))
		q := min(1, a*float64(max(p.chunks, 1)))
		m += per * per * q * (1 - q) / step
	}
	var co float64
	if c.closed {
		// With b ≤ 1 nobody else runs: the engine is idle when the request comes.
		p.waitStep = max(step-p.fixed, step/2) * min(1, max(0, b-1))
		co = a * max(0, b-1) / b
	} else {
		p.waitStep = m / 2
		co = a * m / step
	}
	room := max(c.budget-b, 1)
	ahead := c.in * (1 + co/2)
	// The steps until the prompt completes: its own chunks, or, behind co/2 others, the
	// tokens ahead over the room per step — a mean over where the queue's head falls within a
	// step, so not rounded up (a rounded count would jump by a whole step as the load rises
	// and make TTFT and throughput step backwards).
	n := max(float64(p.chunks), ahead/room)
	if math.IsInf(room, 1) {
		n = float64(p.chunks)
	}
	share := 1 + co
	if !math.IsInf(room, 1) {
		share = min(n*room/c.in, share)
	}
	p.decodePart, p.loadPart = float64(p.chunks)*stepD, c.loadS // loadS: the prefix's KV from an offload tier
	p.prefill = p.decodePart + p.loadPart
	p.waitBudget = (n - float64(p.chunks)) * stepD
	// The prompts' work is shared as above; each prompt waits for its own steps' whole
	// dispatch, however many prompts share those steps.
	p.interference = (p.extra-dispShare)*share + disp
	p.ttft0 = p.waitStep + p.waitBudget + p.prefill + p.interference + p.fixed
	p.e2e = p.ttft0 + (c.out-1)*p.tau
	return p
}

// maxRate is the highest request rate per lane the mean field sustains, max over running
// batches b ≤ bmax of b / E2E(b), req/s (scanned on a geometric grid plus bmax: the rate
// need not peak at the largest batch when prefill interference grows with it).
func (c *cf) maxRate() float64 { return c.maxRateAt(c.at) }

// maxRateAt is maxRate with the operating points from at (the sweep memoizes them).
//
// The maximum over the grid is found with the same result as evaluating every point
// (maxRateScan) wherever E2E does not decrease as the batch grows (TestMaxRateBranchAndBound
// checks it over models, GPUs, splits, dtypes, budgets and lengths): the largest batch and
// the smallest are evaluated first, then the grid bottom up: every b above an evaluated
// point b_lo has E2E(b) ≥ E2E(b_lo), so its rate is at most b/E2E(b_lo); a point whose bound
// does not beat the best rate so far is not evaluated, the next one that may is. Each point
// skipped is so by the highest E2E below it, so no order evaluates fewer points with this
// bound. The rate usually peaks at or near the batch cap: about a third of the points are
// evaluated. Where two evaluated points show E2E falling as the batch grows, the bound does
// not hold and every point is evaluated.
func (c *cf) maxRateAt(at func(float64) cfPoint) float64 {
	var grid [64]float64
	n := 0
	for b := 1.0; ; b *= 1.25 {
		if b > c.bmax {
			b = c.bmax
		}
		if n == len(grid) {
			return c.maxRateScan(at)
		}
		grid[n] = b
		n++
		if b >= c.bmax {
			break
		}
	}
	top := at(grid[n-1])
	best := top.b / top.e2e
	if n == 1 {
		return max(0, best)
	}
	p := at(grid[0])
	best = max(best, p.b/p.e2e)
	lo := p.e2e // E2E at the highest point evaluated so far below the cap
	if !(lo > 0) || top.e2e < lo {
		return c.maxRateScan(at)
	}
	for k := 1; k < n-1; k++ {
		if !(grid[k]/lo > best) {
			continue
		}
		p := at(grid[k])
		r := p.b / p.e2e
		if math.IsNaN(r) || p.e2e < lo || top.e2e < p.e2e {
			return c.maxRateScan(at) // E2E falls as the batch grows here: the bound does not hold
		}
		best = max(best, r)
		lo = p.e2e
	}
	return max(0, best)
}

// maxRateScan is maxRateAt evaluating every point of the grid: max over b of b/E2E(b).
func (c *cf) maxRateScan(at func(float64) cfPoint) float64 {
	best := 0.0
	for b := 1.0; ; b *= 1.25 {
		if b > c.bmax {
			b = c.bmax
		}
		p := at(b)
		best = max(best, p.b/p.e2e)
		if b >= c.bmax {
			return best
		}
	}
}

// rateMemo caches the closed form's sustainable rate per lane (cf.maxRate, a search over up to
// 38 operating points: most of an estimate's time) for a deployment, keyed by every input of
// cf.at that is not the deployment's own: a sweep of loads over one deployment and one pair
// of lengths scans once. The deployment's copies (the sweep varies max_num_seqs and the token
// budget on copies) share it: both are in the key, through bmax and budget.
type rateMemo struct {
	mu sync.Mutex
	m  map[rateKey]float64
}

// rateKey holds the bits of inTotal, in, out, budget, bmax, loadS, storeS, cv2, in2 and
// closed (1 or 0): hashed as 80 bytes of memory, cheaper than nine float fields (a float key
// that is +0 in one estimate and −0 in another is a miss, never a wrong hit).
type rateKey [10]uint64

// maxRateMemo is c.maxRate() through the deployment's memo.
func (d *Deployment) maxRateMemo(c *cf) float64 {
	if d.rates == nil {
		return c.maxRate()
	}
	k := rateKey{math.Float64bits(c.inTotal), math.Float64bits(c.in), math.Float64bits(c.out), math.Float64bits(c.budget),
		math.Float64bits(c.bmax), math.Float64bits(c.loadS), math.Float64bits(c.storeS), math.Float64bits(c.cv2), math.Float64bits(c.in2)}
	if c.closed {
		k[9] = 1
	}
	d.rates.mu.Lock()
	v, ok := d.rates.m[k]
	d.rates.mu.Unlock()
	if ok {
		return v
	}
	v = c.maxRate()
	d.rates.mu.Lock()
	if d.rates.m == nil {
		d.rates.m = map[rateKey]float64{}
	} else if len(d.rates.m) >= 1024 { // bounded: a long run of distinct lengths starts over
		clear(d.rates.m)
	}
	d.rates.m[k] = v
	d.rates.mu.Unlock()
	return v
}

func newCF(d *Deployment, w *Workload, mem Memory) *cf {
	c := &cf{w: w}
	c.init(d, w, mem)
	return c
}

// init sets c for d and w (c.w is left as it is; c.batch keeps its buffers).
func (c *cf) init(d *Deployment, w *Workload, mem Memory) {
	c.d, c.inTotal, c.out, c.budget, c.in2, c.cv2 = d, w.meanInput(), w.meanOutput(), float64(d.MaxNumBatchedTokens), 1, 1
	c.numRequests = w.NumRequests
	c.loadS, c.storeS, c.dmemo, c.dnext, c.burst, c.tab = 0, 0, [2]decodeMemo{}, 0, nil, nil
	c.batch.Prefill, c.batch.Decode, c.batch.Uniform.N, c.batch.Uniform.Ctx, c.batch.Verify = c.batch.Prefill[:0], c.batch.Decode[:0], 0, 0, 0
	if w.InputDist != nil {
		m, v := w.InputDist.moments()
		c.in2 = 1 + v/(m*m)
	}
	if w.Kind == Rate && w.Burstiness > 0 {
		c.cv2 = 1 / w.Burstiness
	}
	c.closed = w.Kind == Concurrency
	block := d.Profile.KVBlockTokens
	if block < 1 {
		block = 1
	}
	prefix := float64(w.PrefixLen / block * block)
	c.in = max(1, c.inTotal-prefix)
	if c.budget == 0 {
		c.budget = math.Inf(1)
	}
	// Each pipeline lane holds its own sequences; windowed layers are priced by the
	// per-sequence footprint at the mean context (KVTokensAt).
	c.kvTokens = float64(d.kvTokensAt(mem, int(c.inTotal+c.out/2)) / d.PP)
	c.bmax = c.kvTokens / (c.inTotal + c.out/2)
	if ms := float64(d.MaxNumSeqs); ms > 0 && c.bmax > ms {
		c.bmax = ms
	}
	// Every step's token budget must cover one token per running sequence plus, on average,
	// in/O prompt tokens per sequence: b·(1 + in/O) ≤ max_num_batched_tokens. One sequence
	// always runs (a prompt longer than the budget is prefilled in chunks over several steps):
	// a small budget is not a lack of memory.
	if cap := max(1, c.budget/(1+c.in/c.out)); c.bmax > cap {
		c.bmax = cap
	}
	if c.bmax > 4096 {
		c.bmax = 4096
	}
}

// Serve predicts serving metrics with the closed form and, outside its region of validity
// (ClosedFormValid), says so in MethodReason.
func (d *Deployment) Serve(w Workload) (Serving, error) {
	if err := w.Validate(); err != nil {
		return Serving{}, err
	}
	mem := d.memoryPlan() // once: serveCF and the region of validity read the same plan
	var c cf
	var chunks [16]Chunk // the steps' prefill chunks, on the stack while they fit
	c.batch.Prefill = chunks[:0]
	s, err := d.serveCF(&c, w, mem)
	if err == nil {
		// The region of validity reads what applyOffload and serveBatch leave as newCF set it
		// (bmax, kvTokens, the lengths).
		d.markValidity(&s, &w, &c)
		s.Warnings = append(s.Warnings, d.moeFitWarnings(w)...)
	}
	return s, err
}

// serveCF predicts serving metrics with the closed form (mean-field continuous batching,
// Little's law, and an M/D/1-style queue for open-loop arrivals; see the package doc).
// mem is d.Memory() (or memoryPlan); c is set for w and used.
func (d *Deployment) serveCF(c *cf, w Workload, mem Memory) (Serving, error) {
	if err := w.Validate(); err != nil {
		return Serving{}, err
	}
	if err := d.CheckWorkload(&w); err != nil {
		return Serving{}, err
	}
	if !mem.Fits { // the one fits rule: the engine refuses to start (Memory.Fits)
		return Serving{}, d.notFit(mem, w)
	}
	c.init(d, &w, mem)
	if c.bmax < 1 {
		return Serving{}, d.notFit(mem, w)
	}
	c.tab = d.gemmTab.again()
	s := Serving{Method: "closed-form"}
	reps := float64(d.Lanes())
	if d.Offload != nil {
		d.applyOffload(c, &w, mem, reps)
	}
	O := c.out
	var p cfPoint
	var ttftWait, ttftSpread float64 // mean queueing wait, and the scale of its exponential tail
	maxLane := d.maxRateMemo(c)
	s.MaxRequestRate = reps * maxLane
	switch w.Kind {
	case Concurrency:
		s = d.serveClosed(c, w.clientsSending()/reps, c.at)
		// The scan over batches can miss the peak between its points: an operating point
		// the loop reaches is sustainable by definition.
		s.MaxRequestRate = max(reps*maxLane, s.RequestPerS)
		return s, nil
	case Rate:
		lam := w.RequestRate / reps
		if lam >= maxLane {
			full := c.at(c.bmax)
			s.Overloaded = true
			s.OutputTokSPerUser = NullFloat(math.NaN()) // output/(E2E − TTFT) of two unbounded times
			s.Warnings = append(s.Warnings, fmt.Sprintf("overloaded: %.3g req/s exceeds the sustainable %.3g req/s; queues grow without bound", w.RequestRate, s.MaxRequestRate))
			s.Batch = c.bmax
			s.RequestPerS = s.MaxRequestRate
			s.OutputTokS = s.RequestPerS * O
			s.TotalTokS = s.RequestPerS * (O + c.inTotal)
			s.TTFT, s.E2E = infDist(), infDist()
			s.TPOT = constDist(full.tau * 1e3)
			s.ITL = constDist(full.tau * 1e3)
			s.DecodeStepMs, s.MeanStepMs = full.tauD*1e3, full.tau*1e3
			_, _, s.Bound = d.stepBrief(&c.batch)
			return s, nil
		}
		// Solve b = λ·E2E(b) by bisection on [λ·E2E(~0), bmax].
		lo, hi := 0.0, c.bmax
		for i := 0; i < 40; i++ {
			mid := (lo + hi) / 2
			if lam*c.at(max(mid, 1e-3)).e2e > mid {
				lo = mid
			} else {
				hi = mid
			}
		}
		p = c.at(max(hi, 1e-3))
		p.e2e += ttftWait
		s.RequestPerS = w.RequestRate // steady state: what arrives is served
	case Static, Offline:
		n := float64(w.BatchSize)
		if w.Kind == Offline {
			n = float64(w.NumRequests)
		} else {
			c.budget = math.Inf(1) // a static batch prefills every prompt in one step
		}
		return d.serveBatch(c, s, n, reps)
	}
	d.finishSteady(&s, c, p, ttftWait, ttftSpread)
	return s, nil
}

// serveClosed is the closed form of a closed loop of cr clients per lane (at gives the
// operating points): the steady state at the running batch cr (closedLoop), and, as vllm bench
// serve starts every client at once, the first requests' start-up burst pooled with the
// steady-state ones (burstMix) over the run's requests (Workload.NumRequests per lane, or the
// simulation's default max(10·clients, 500)). MaxRequestRate is left to the caller.
func (d *Deployment) serveClosed(c *cf, cr float64, at func(float64) cfPoint) Serving {
	s := Serving{Method: "closed-form"}
	reps := float64(d.Lanes())
	p, wait, rps := closedLoop(cr, c.bmax, at)
	s.RequestPerS = reps * rps
	d.finishSteady(&s, c, p, wait, 0)
	s.Batch = min(s.Batch, cr) // fewer clients than lanes: the mean over busy and idle lanes
	// Above the batch cap the first min(clients, cap) requests start together and the others
	// queue for a slot: the burst is the cap's, the steady state waits as well.
	if clients := int(max(1, math.Round(cr))); clients > 1 {
		n := c.numRequests
		if n <= 0 {
			n = max(10*clients, 500)
		} else {
			n = int(math.Ceil(float64(n) / reps))
		}
		k := min(clients, int(max(1, math.Round(c.bmax))))
		var burst []float64
		var buf *[]float64
		if c.burst != nil {
			burst = c.burst(k)
		} else {
			burst, buf = d.burstMemoized(c, k)
		}
		s.TTFT = burstMix(burst, n, p.ttft0+wait, p.tau, p.fixed)
		if buf != nil {
			*buf = burst[:0]
			d.bursts.mu.Lock()
			d.bursts.buf = buf
			d.bursts.mu.Unlock()
		}
		s.E2E = shift(s.TTFT, (c.out-1)*p.tau*1e3)
		if s.Explain != nil {
			s.Explain.StartupBurstMs = s.TTFT.Mean - (p.ttft0+wait)*1e3
		}
	}
	return s
}

// closedLoop is the operating point of cr clients per replica: below the batch cap the running
// batch is cr; above it the extra requests queue, and Little's law at the capped batch gives
// their wait (deterministic in the mean field). at evaluates the model at a batch.
//
// Fewer clients than lanes (cr < 1): a lane with a client serves that one request alone and
// the others idle, so the latencies are one request's (at(1)) and a lane completes cr/E2E
// requests on average. At the fractional batch the prompt was charged part of a prefill step
// on an empty engine plus a whole decode step no one ran: 4 clients on 8 DP replicas had a
// higher TTFT than 8.
func closedLoop(cr, bmax float64, at func(float64) cfPoint) (p cfPoint, wait, reqPerReplica float64) {
	if cr < 1 && bmax >= 1 {
		p = at(1)
		return p, 0, cr / p.e2e
	}
	if cr <= bmax {
		p = at(cr)
		return p, 0, p.b / p.e2e
	}
	p = at(bmax)
	e2e := cr / (p.b / p.e2e)
	wait = e2e - p.e2e
	p.e2e = e2e
	return p, wait, cr / p.e2e
}

// finishSteady fills a steady-state result from its operating point: mean TTFT is TTFT₀ plus the
// queueing wait (with an exponential tail of mean spread), TPOT the mean step, E2E TTFT plus
// (O−1) steps; throughputs follow from s.RequestPerS.
func (d *Deployment) finishSteady(s *Serving, c *cf, p cfPoint, wait, spread float64) {
	O := c.out
	s.Batch = p.b
	s.DecodeStepMs, s.MeanStepMs = p.tauD*1e3, p.tau*1e3
	s.PrefillShare = p.prefillShare(O)
	s.TTFT = ttftDist(p.ttft0+wait, p.tau, spread)
	s.Explain = explainOf(d, p, wait)
	s.TPOT = constDist(p.tau * 1e3)
	s.ITL = itlDist(p, O)
	s.E2E = shift(s.TTFT, (O-1)*p.tau*1e3)
	s.OutputTokS = s.RequestPerS * O
	s.TotalTokS = s.RequestPerS * (O + c.inTotal)
	if O > 1 {
		s.OutputTokSPerUser = NullFloat(1 / p.tau)
	}
	d.utilisation(s, c, p)
}

// serveBatch handles static batches and offline runs: n requests at t = 0.
func (d *Deployment) serveBatch(c *cf, s Serving, n, reps float64) (Serving, error) {
	// Fewer requests than lanes: each busy lane runs one request alone (a fractional batch
	// priced a fraction of a prompt: 3 prompts on 8 replicas had a TTFT below one prompt's).
	nr := n / reps
	if n >= 1 {
		nr = max(nr, 1)
	}
	b := min(nr, c.bmax)
	waves := math.Ceil(nr / b)
	// Prefill: b prompts in chunks of the budget; request i's first token comes when its
	// chunk completes, so the mean TTFT is the mean over the prefill steps.
	tokens := b * c.in
	steps := max(1, math.Ceil(tokens/c.budget))
	chunk := int(min(c.budget, tokens))
	seqs := int(math.Ceil(b / steps))
	c.batch.Decode = c.batch.Decode[:0]
	c.batch.Prefill = c.batch.Prefill[:0]
	per := chunk / seqs
	for i := 0; i < seqs; i++ {
		c.batch.Prefill = append(c.batch.Prefill, Chunk{New: per, Past: int(c.inTotal - c.in)})
	}
	tp := c.d.StepSeconds(&c.batch)*(1+c.d.specPrefillShare()) + c.storeS*float64(seqs)
	dec := c.decode(b)
	wave := steps*tp + (c.out-1)*dec
	elapsed := wave * waves
	// TTFT over waves: wave w starts at w·wave; within it, the prompts finishing in prefill
	// step j (1…steps, an equal share each) get their first token at j·tp. The percentiles
	// are those of these values, one per (wave, step).
	ovh := d.Profile.RequestOverheadMs * 1e-3
	var vals []float64
	for wv := 0.0; wv < waves && len(vals) < 1<<16; wv++ {
		for j := 1.0; j <= steps; j++ {
			vals = append(vals, (j*tp+wv*wave+ovh)*1e3)
		}
	}
	ttft := (steps+1)/2*tp + (waves-1)/2*wave + ovh
	s.TTFT = Dist{Mean: ttft * 1e3, Median: Percentile(vals, 0.5), P90: Percentile(vals, 0.9), P95: Percentile(vals, 0.95), P99: Percentile(vals, 0.99), Min: vals[0], Max: vals[len(vals)-1]}
	s.TPOT = constDist(dec * 1e3)
	s.ITL = constDist(dec * 1e3)
	s.E2E = shift(s.TTFT, (c.out-1)*dec*1e3)
	s.BatchElapsedS = elapsed
	s.RequestPerS = n / elapsed
	s.OutputTokS = s.RequestPerS * c.out
	s.TotalTokS = s.RequestPerS * (c.out + c.inTotal)
	s.Batch = b
	s.DecodeStepMs, s.MeanStepMs = dec*1e3, wave/(steps+c.out-1)*1e3
	s.PrefillShare = steps * tp / wave
	if c.out > 1 {
		s.OutputTokSPerUser = NullFloat(1 / dec)
	}
	p := cfPoint{b: b, tauD: dec, tau: dec}
	d.utilisation(&s, c, p)
	// A batch that starts together can beat the steady state it is compared with.
	s.MaxRequestRate = max(s.MaxRequestRate, s.RequestPerS)
	return s, nil
}

func (d *Deployment) notFit(mem Memory, w Workload) error {
	return d.notFitErr(mem)
}

// utilisation fills MFU and MBU from the decode step at the operating point.
func (d *Deployment) utilisation(s *Serving, c *cf, p cfPoint) {
	n := int(max(1, math.Round(p.b)))
	var stFLOPs, stBytes float64
	var bound string
	for _, e := range c.dmemo {
		if e.ok && e.n == n && e.verify == 0 { // the same step, priced by decodeOnly
			a := stepAcc{bound: e.bound}
			stFLOPs, stBytes, bound = e.flops, e.bytes, a.boundName()
		}
	}
	if bound == "" {
		stFLOPs, stBytes, bound = d.stepBrief(&Batch{Uniform: struct{ N, Ctx int }{n, c.ctx()}})
	}
	s.Bound = bound
	gpus := float64(d.NumGPUs)
	// Useful FLOPs per output token ≈ 2·active params + attention; per input token likewise.
	flopsPerTok := stFLOPs * float64(d.TP*d.PP) / float64(n)
	if s.TotalTokS > 0 {
		s.MFU = flopsPerTok * s.TotalTokS / (gpus * float64(d.gemmPeak))
		if p.tau > 0 {
			s.MBU = stBytes / p.tau / float64(d.GPU.MemoryBandwidth)
		}
	}
	if s.MFU > 1 {
		s.MFU = 1
	}
}

func constDist(v float64) Dist { return Dist{v, v, v, v, v, v, v} }

func infDist() Dist {
	i := math.Inf(1)
	return Dist{i, i, i, i, i, i, i}
}

func shift(d Dist, by float64) Dist {
	return Dist{d.Mean + by, d.Median + by, d.P90 + by, d.P95 + by, d.P99 + by, d.Min + by, d.Max + by}
}

// startBurst returns the TTFT (s, without the API server's cost) of each of the k requests a
// closed loop sends together when it starts: FCFS, each step prefills up to the token budget
// less one token per sequence already decoding, and the requests whose prompts completed
// decode alongside.
func (c *cf) startBurst(k int) []float64 {
	r := burstRun{doneAt: make([]float64, 0, k)}
	r.run(c, k, false)
	return r.doneAt
}

// burstRun is startBurst computed once for up to k prompts and kept, step by step, so that
// the burst of any j ≤ k prompts costs one step (burstOf): j prompts run the same steps as k
// until the step in which the j-th completes, which carries only the chunks of the first j.
type burstRun struct {
	k        int
	ends     []float64 // time at the end of each step, s
	stepOf   []int32   // step in which each prompt completes
	doneAt   []float64 // end of the step in which each prompt completes (ends[stepOf[i]]), s
	first    []int32   // first chunk of each step in chunks (one more entry: the end)
	chunks   []Chunk
	promptOf []int32 // prompt of each chunk
	decoding []int32 // sequences decoding in each step
}

// run prices startBurst(k)'s steps into r.doneAt and, with keep, keeps the steps themselves
// (ends, stepOf, first, chunks, promptOf, decoding) for burstOf.
func (r *burstRun) run(c *cf, k int, keep bool) {
	in := int(max(1, math.Ceil(c.in)))
	past := int(c.inTotal) - in
	budget := math.MaxInt32
	if !math.IsInf(c.budget, 1) {
		budget = int(c.budget)
	}
	r.k = k
	r.ends, r.stepOf, r.first, r.chunks, r.promptOf, r.decoding = r.ends[:0], r.stepOf[:0], r.first[:0], r.chunks[:0], r.promptOf[:0], r.decoding[:0]
	r.doneAt = r.doneAt[:0]
	t := 0.0
	next, doneTok, decoding := 0, 0, 0
	var last *gemmLast // without c.tab: the steps' GEMMs before the head, by tokens
	if c.tab == nil && float64(k)*float64(in) >= 4*float64(budget) {
		last = newGEMMLast(c.d) // four full-budget steps or more: worth its copy of the deployment
	}
	for next < k {
		room := max(budget-decoding, 1)
		if keep {
			r.first = append(r.first, int32(len(r.chunks)))
		}
		c.batch.Prefill = c.batch.Prefill[:0]
		finishing := 0
		for room > 0 && next < k {
			take := min(in-doneTok, room)
			ch := Chunk{New: take, Past: past + doneTok}
			c.batch.Prefill = append(c.batch.Prefill, ch)
			if keep {
				r.chunks = append(r.chunks, ch)
				r.promptOf = append(r.promptOf, int32(next))
			}
			room -= take
			doneTok += take
			if doneTok == in {
				finishing++
				next++
				doneTok = 0
				if keep {
					r.stepOf = append(r.stepOf, int32(len(r.ends)))
				}
			}
		}
		c.batch.Decode = c.batch.Decode[:0]
		c.batch.Uniform.N, c.batch.Uniform.Ctx = decoding, int(c.inTotal)
		acc := stepAcc{tab: c.tab, last: last}
		c.d.step(&c.batch, &acc)
		t += acc.total
		if keep {
			r.decoding = append(r.decoding, int32(decoding))
			r.ends = append(r.ends, t)
		}
		for range finishing {
			r.doneAt = append(r.doneAt, t)
		}
		decoding += finishing
	}
	if keep {
		r.first = append(r.first, int32(len(r.chunks)))
	}
	c.batch.Prefill, c.batch.Uniform.N = c.batch.Prefill[:0], 0
}

// burstOf returns startBurst(j) for j ≤ r.k (c as for run), bit for bit: the steps before
// the one in which prompt j−1 completes are r's, and that step is priced with the chunks of
// the first j prompts only, after the same earlier steps.
func (r *burstRun) burstOf(c *cf, j int) []float64 {
	return r.burstInto(c, j, make([]float64, 0, j))
}

// burstInto is burstOf appended to out[:0].
func (r *burstRun) burstInto(c *cf, j int, out []float64) []float64 {
	s := int(r.stepOf[j-1])
	// The prompts that complete before step s: r's times (doneAt is ascending by prompt).
	before := sort.Search(j, func(i int) bool { return int(r.stepOf[i]) >= s })
	out = append(out[:0], r.doneAt[:before]...)
	t := 0.0
	if s > 0 {
		t = r.ends[s-1]
	}
	c.batch.Prefill = c.batch.Prefill[:0]
	for x := r.first[s]; x < r.first[s+1] && int(r.promptOf[x]) < j; x++ {
		c.batch.Prefill = append(c.batch.Prefill, r.chunks[x])
	}
	c.batch.Decode = c.batch.Decode[:0]
	c.batch.Uniform.N, c.batch.Uniform.Ctx = int(r.decoding[s]), int(c.inTotal)
	t += c.stepSeconds(&c.batch)
	n := len(out)
	out = slices.Grow(out, j-n)[:j]
	for i := n; i < j; i++ {
		out[i] = t
	}
	c.batch.Prefill, c.batch.Uniform.N = c.batch.Prefill[:0], 0
	return out
}

// burstMemo keeps a deployment's start-up bursts (burstRun) by what c.startBurst reads
// besides the deployment's step model: the prompt's tokens to compute and its context, the
// token budget and the positions each decoding sequence verifies. Estimates of one deployment
// and one pair of lengths at many loads run the burst once and then price one step each
// (burstRun.burstOf). A stored run is never changed (a larger burst stores a new one), so it
// is read without the lock. The deployment's copies (the sweep's max_num_seqs and token
// budgets) share it: the budget is in the key, max_num_seqs only sets k.
type burstMemo struct {
	mu    sync.Mutex
	m     map[burstKey]*burstRun
	words int        // chunks and steps held, bounded (burstMemoWords)
	buf   *[]float64 // a buffer for the bursts handed out (burstMemoized), kept between calls
}

type burstKey struct {
	in, inTotal, verify int
	budget              float64
}

// burstMemoWords bounds what a burstMemo holds (chunks + steps of its runs, ~40 bytes
// each): a long run of distinct lengths starts over.
const burstMemoWords = 1 << 17

// burstMemoized is c.startBurst(k) through the deployment's memo, bit for bit (burstOf). A
// run is grown to twice the prompts when a larger burst is asked for. A non-nil buf holds
// the burst: the caller gives it back to d.bursts.bufs when done with the burst.
func (d *Deployment) burstMemoized(c *cf, k int) (burst []float64, buf *[]float64) {
	m := d.bursts
	if m == nil {
		return c.startBurst(k), nil
	}
	key := burstKey{in: int(max(1, math.Ceil(c.in))), inTotal: int(c.inTotal), verify: c.batch.Verify, budget: c.budget}
	m.mu.Lock()
	r, seen := m.m[key]
	if !seen {
		// A first burst of these lengths: priced alone (cheaper than keeping its steps); a
		// second one keeps the run.
		if m.m == nil || len(m.m) >= 1024 || m.words >= burstMemoWords {
			m.m, m.words = map[burstKey]*burstRun{}, 0
		}
		m.m[key] = nil
		m.words++
	}
	m.mu.Unlock()
	if !seen {
		return c.startBurst(k), nil
	}
	if r == nil || r.k < k {
		size := k
		if r != nil {
			size = max(k, 2*r.k)
		}
		r = &burstRun{}
		r.run(c, size, true)
		words := len(r.chunks) + len(r.ends)
		m.mu.Lock()
		if old := m.m[key]; old == nil || old.k < r.k {
			if m.words+words > burstMemoWords {
				m.m, m.words = map[burstKey]*burstRun{}, 0
			}
			if old != nil {
				m.words -= len(old.chunks) + len(old.ends)
			}
			m.m[key] = r
			m.words += words
		}
		m.mu.Unlock()
	}
	m.mu.Lock()
	buf, m.buf = m.buf, nil
	m.mu.Unlock()
	if buf == nil {
		buf = new([]float64)
	}
	return r.burstInto(c, k, *buf), buf
}

// burstMix is the TTFT distribution (ms) of a closed loop of n requests per lane whose first
// len(burst) start together (TTFT burst[i] + fixed, s) and the rest in the steady state
// (mean ttft0, s; residual step wait uniform over τ̄): percentiles of the pooled values.
func burstMix(burst []float64, n int, ttft0, tau, fixed float64) Dist {
	k := len(burst)
	if n <= k {
		n = k
	}
	// Both lists are ascending; the order statistics of their merge are found by bisection
	// (no merged copy: an estimate stays allocation-light).
	rest := n - k
	steady := func(j int) float64 { return (ttft0 + ((float64(j)+0.5)/float64(rest)-0.5)*tau) * 1e3 }
	first := func(i int) float64 { return (burst[i] + fixed) * 1e3 }
	sum := float64(rest) * ttft0 * 1e3
	for i := range k {
		sum += first(i)
	}
	// kth is the i-th smallest (0-based) of the merge, and how many of the i+1 smallest
	// come from burst.
	kth := func(i int) (float64, int) {
		lo, hi := max(0, i+1-rest), min(k, i+1) // how many of the first i+1 come from burst
		for lo < hi {
			t := (lo + hi) / 2
			if first(t) <= steady(i-t) {
				lo = t + 1
			} else {
				hi = t
			}
		}
		v := math.Inf(-1)
		if lo > 0 {
			v = first(lo - 1)
		}
		if u := i + 1 - lo; u > 0 {
			v = max(v, steady(u-1))
		}
		return v, lo
	}
	pct := func(p float64) float64 {
		h := p * float64(n-1)
		lo := math.Floor(h)
		i := int(lo)
		if i+1 >= n {
			v, _ := kth(n - 1)
			return v
		}
		a, from := kth(i)
		// The (i+1)-th smallest is the smaller of the next value of each list after the
		// i+1 smallest (no second bisection): the same value kth(i+1) finds.
		b := math.Inf(1)
		if from < k {
			b = first(from)
		}
		if u := i + 1 - from; u < rest {
			b = min(b, steady(u))
		}
		return a + (h-lo)*(b-a)
	}
	lo, _ := kth(0)
	hi, _ := kth(n - 1)
	return Dist{Mean: sum / float64(n), Median: pct(0.5), P90: pct(0.9), P95: pct(0.95), P99: pct(0.99), Min: lo, Max: hi}
}

// ttftDist: TTFT = fixed part + residual wait for the running step (uniform on [0, τ̄]) +
// an exponential queueing tail with mean `spread` (closed-form approximation).
func ttftDist(mean, tau, spread float64) Dist {
	base := mean - tau/2 - spread
	q := func(p float64) float64 {
		v := base + p*tau
		if spread > 0 {
			v += spread * math.Log(1/(1-p))
		}
		return v * 1e3
	}
	top := q(1)
	if spread > 0 {
		top = q(0.9999) // the exponential tail has no bound: its 99.99th percentile
	}
	return Dist{Mean: mean * 1e3, Median: q(0.5), P90: q(0.9), P95: q(0.95), P99: q(0.99), Min: q(0), Max: top}
}

// itlDist: gaps are decode-only steps, except steps that also carry prefill chunks. On
// average x = b·chunks/O chunks join each step; with n = ⌈x⌉, a fraction x/n of the steps
// carry n chunks and last τ_d + n·Δ/chunks, the rest τ_d (mean τ_d + b·Δ/O = τ̄).
func itlDist(p cfPoint, O float64) Dist {
	if p.chunks == 0 || p.extra <= 0 {
		return constDist(p.tau * 1e3)
	}
	x := p.b * float64(p.chunks) / O
	n := max(1, math.Ceil(x))
	f := min(1, x/n)
	long := p.tauD + n*p.extra/float64(p.chunks)
	q := func(y float64) float64 {
		if y <= 1-f {
			return p.tauD * 1e3
		}
		return long * 1e3
	}
	min := p.tauD * 1e3
	if f >= 1 {
		min = long * 1e3
	}
	return Dist{Mean: p.tau * 1e3, Median: q(0.5), P90: q(0.9), P95: q(0.95), P99: q(0.99), Min: min, Max: long * 1e3}
}

// NullFloat is a float64 that may be unknown: NaN (or ±Inf) stands for a value that is
// not predicted, which JSON writes as null (never 0) and reads back from null as NaN.
type NullFloat float64

// Known reports whether f is a finite number.
func (f NullFloat) Known() bool { return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) }

// MarshalJSON writes f as a JSON number, or null when it is not finite.
func (f NullFloat) MarshalJSON() ([]byte, error) {
	if !f.Known() {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(f), 'g', -1, 64), nil
}

// UnmarshalJSON reads a JSON number, or null as NaN.
func (f *NullFloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = NullFloat(math.NaN())
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("output_tok_s_per_user: %q is not a number", b)
	}
	*f = NullFloat(v)
	return nil
}

// MarshalJSON writes non-finite values (an overloaded queue) as null: JSON has no infinity.
func (d Dist) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range []struct {
		k string
		v float64
	}{{"mean", d.Mean}, {"median", d.Median}, {"p90", d.P90}, {"p95", d.P95}, {"p99", d.P99}, {"min", d.Min}, {"max", d.Max}} {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + f.k + `":`)
		if math.IsInf(f.v, 0) || math.IsNaN(f.v) {
			b.WriteString("null")
		} else {
			b.WriteString(strconv.FormatFloat(f.v, 'g', -1, 64))
		}
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// Lanes is the number of independent batches the deployment runs at once: DP replicas, each
// with PP micro-batches in flight (pipeline parallelism keeps every stage busy with a different
// batch; vLLM's virtual engines, TensorRT-LLM's micro-batches). Each lane's step takes the
// full pipeline latency (StepSeconds) and holds 1/PP of the replica's KV cache.
func (d *Deployment) Lanes() int { return d.DP * d.PP }

// TTFTBreakdown splits a mean TTFT (ms) into the parts of the closed form's steady state
// (cf.at); they add up to the mean.
type TTFTBreakdown struct {
	// QueueMs is the wait before admission: for the engine step in progress when the request
	// arrives, plus, in a closed loop with more clients than the batch holds, the queue for a slot.
	QueueMs float64 `json:"queueing_ms"`
	// BudgetWaitMs is the wait for prefill budget behind prompts admitted earlier, and the
	// time the prompts admitted with it add to its steps.
	BudgetWaitMs float64 `json:"prefill_budget_wait_ms"`
	// PrefillMs is the time the prompt's own prefill chunks add to the steps they ride in
	// (Chunks of them), plus loading a cached prefix from an offload tier.
	PrefillMs float64 `json:"prefill_compute_ms"`
	Chunks    int     `json:"prefill_chunks"`
	// InterferenceMs is the decode work of the running batch in those steps.
	InterferenceMs float64 `json:"decode_interference_ms"`
	// StartupBurstMs is what a closed loop's start (every client sending at once) adds to
	// the mean over the run's requests.
	StartupBurstMs float64 `json:"startup_burst_ms"`
	// FixedMs is the per-request cost outside the engine loop (API server: HTTP,
	// tokenisation, detokenisation, streaming); FixedSource says where it comes from.
	FixedMs     float64 `json:"fixed_per_request_ms"`
	FixedSource string  `json:"fixed_per_request_source"`
}

// Total is the sum of the parts, ms.
func (b TTFTBreakdown) Total() float64 {
	return b.QueueMs + b.BudgetWaitMs + b.PrefillMs + b.InterferenceMs + b.StartupBurstMs + b.FixedMs
}

// fixedSource names where profile p's per-request cost comes from (the API server's cost
// cited by the profile), formatted once per deployment: New keeps it with the name and
// citation it was formatted from, and it is formatted again if either changed since.
type fixedSource struct {
	name, cite, text string
}

func (f *fixedSource) of(p *Profile) string {
	cite := p.Sources["request_overhead_ms"]
	if f.text != "" && f.name == p.Name && f.cite == cite {
		return f.text
	}
	if cite == "" {
		return "engine profile " + p.Name
	}
	return "engine profile " + p.Name + ": " + cite
}

func newFixedSource(p *Profile) fixedSource {
	f := fixedSource{name: p.Name, cite: p.Sources["request_overhead_ms"]}
	key := [2]string{f.name, f.cite}
	if v, ok := fixedTexts.Load(key); ok {
		f.text = v.(string)
		return f
	}
	f.text = f.of(p)
	if fixedTextsN.Add(1) <= 1024 { // bounded: at most 1,024 profile names and citations kept
		fixedTexts.Store(key, f.text)
	}
	return f
}

// fixedTexts keeps fixedSource texts by profile name and citation ([2]string → string): New
// runs once per configuration of a sweep, the text is the same for every one.
var (
	fixedTexts  sync.Map
	fixedTextsN atomic.Int64
)

func explainOf(d *Deployment, p cfPoint, wait float64) *TTFTBreakdown {
	src := d.fixedSrc.of(d.Profile)
	return &TTFTBreakdown{QueueMs: (p.waitStep + wait) * 1e3, BudgetWaitMs: (p.waitBudget + p.interference - p.extra) * 1e3,
		PrefillMs: (p.extra + p.loadPart) * 1e3, Chunks: p.chunks, InterferenceMs: p.decodePart * 1e3, FixedMs: p.fixed * 1e3, FixedSource: src}
}

// LoadFraction is the load of an online workload relative to the deployment's capacity: the
// offered request rate ÷ s.MaxRequestRate for an open loop (offered > 0 and finite), else
// the achieved s.RequestPerS ÷ s.MaxRequestRate (a closed loop); 0 when s has no sustainable
// rate. Above about 0.8 latency amplifies any capacity error ρ/(1 − ρ)-fold.
func LoadFraction(offered float64, s Serving) float64 {
	if s.MaxRequestRate <= 0 {
		return 0
	}
	if offered > 0 && !math.IsInf(offered, 1) {
		return offered / s.MaxRequestRate
	}
	return s.RequestPerS / s.MaxRequestRate
}
