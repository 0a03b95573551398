package estimator

import (
	"math"
	"math/bits"
	"slices"
)

// SchedRequest is one request inside a Scheduler. Times are seconds on the caller's clock;
// lengths are tokens.
type SchedRequest struct {
	// Arrival is when the engine may first schedule the request (after the API server's
	// per-request cost), s.
	Arrival float64
	// In and Out are the prompt and output tokens; Cached leading prompt tokens are served
	// from the prefix cache and never computed (0 ≤ Cached < In).
	In, Out, Cached int
	// Generated counts output tokens emitted so far. First and Last are the times of the
	// first and latest emitted token, s (First is 0 until the first token).
	Generated   int
	First, Last float64
	// Preempted counts the times the request was evicted for lack of KV blocks (its KV is
	// recomputed when it is scheduled again, as vLLM's recompute preemption does).
	Preempted int
	// Tag is the caller's handle (the streaming server keeps its reply channel here).
	Tag any

	need   int // tokens to prefill: In − Cached, plus the tokens generated before a preemption
	done   int // tokens of need computed so far
	blocks int // KV blocks held (shared prefix blocks excluded)
	chunk  int // tokens scheduled in the planned step: > 0 prefill chunk, −1 decode, 0 none
}

// Scheduler is one lane's continuous-batching scheduler, the single model of the engine's
// scheduling that Simulate, the streaming simulator server and the closed form's region of
// validity rest on. It follows vLLM's V1 scheduler:
//
//   - every step has a token budget (max_num_batched_tokens; a decode costs 1 token, a
//     prefill chunk its length) and at most max_num_seqs running sequences;
//   - running sequences are served first, in admission order: each decodes one token or
//     continues its prefill with as much of the remaining budget as it needs (chunked prefill);
//   - waiting requests are then admitted first-come first-served while budget, sequence slots
//     and KV blocks allow, the first one that does not fit blocking those behind it;
//   - KV cache is allocated in blocks of kv_block_tokens as sequences grow; when a running
//     sequence needs a block and none is free, the most recently admitted sequence is preempted
//     (its blocks freed, its prompt and generated tokens recomputed when it is readmitted, ahead
//     of the waiting queue). With the profile's admission "reserve" (TensorRT-LLM's guaranteed
//     no-evict) a request is admitted only with blocks for its whole sequence.
//
// With admission "ratio" it follows SGLang's scheduler instead (managers/schedule_policy.py
// PrefillAdder, managers/scheduler.py update_running_batch, managers/schedule_batch.py
// retract_decode):
//
//   - a waiting request of p prompt tokens still to compute and o = min(out − generated,
//     clip_max_new_tokens) output tokens is admitted only if p + o < F − R, where F is the free
//     KV tokens and R the reserve: for every decoding request, ratio × min(out − generated,
//     clip), and for every request still in its prefill (and every one admitted earlier in
//     the same step), its uncomputed prompt tokens plus its whole min(out − generated, clip);
//     the first request that fails blocks those behind it;
//   - ratio starts at new_token_ratio_init and, at every step with decoding requests, falls
//     by (init − min)/new_token_ratio_decay_steps, never below new_token_ratio_min;
//   - when the decoding requests need more KV blocks than are free, requests are retracted —
//     the one with the fewest generated tokens first (ties: the longest prompt), its KV freed
//     and recomputed when it is readmitted from the back of the waiting queue — until the
//     free tokens reach retract_decode_steps per remaining decoding request (at least one is
//     retracted, the last one never); ratio becomes min(1, (Σ generated + retract_decode_steps
//     × n)/Σ out) over the n remaining decoding requests, instead of decaying in that step.
//     Retractions are counted as preemptions.
//
// A step's duration is Deployment.StepSeconds of the batch it plans. The Scheduler keeps no
// clock: Plan forms the next step, the caller advances its clock by the duration and calls
// Commit with the step's end time.
type Scheduler struct {
	d       *Deployment
	budget  int
	maxSeqs int
	block   int
	shift   int // log2(block) when block is a power of two, else −1
	free    int // free KV blocks
	reserve bool
	// Admission "ratio" (SGLang): the ratio now, its floor and its decay per decode step,
	// the output cap (tokens, MaxInt32: none) and the retraction target (tokens per request).
	ratioMode           bool
	ratio               float64
	ratioMin, ratioStep float64
	clip, retractSteps  int
	waiting             []*SchedRequest // FCFS; waiting[head:] are queued
	head                int
	running             []*SchedRequest
	batch               Batch
	// Preemptions counts evictions so far (retractions, with admission "ratio").
	Preemptions int
	// OnToken, when set, is called by Commit for every emitted token (index = Generated − 1)
	// and OnDone when a request has emitted its last token and freed its KV blocks.
	OnToken func(r *SchedRequest, t float64)
	OnDone  func(r *SchedRequest, t float64)
}

// laneKVBlocks is the KV cache one lane (a DP replica's pipeline stage set, 1/PP of the
// replica's cache) holds, in blocks of blockTokens tokens, for sequences of seqTokens tokens
// (windowed layers hold only their window: the memory plan's KV capacity per layer group,
// kvTokensAt; 0: max_model_len). It is the one place the scheduler reads the memory plan's
// KV capacity.
func (d *Deployment) laneKVBlocks(mem Memory, seqTokens int) (blocks, blockTokens int) {
	blockTokens = max(d.Profile.KVBlockTokens, 1)
	if seqTokens <= 0 {
		seqTokens = d.MaxModelLen
	}
	return d.kvTokensAt(mem, seqTokens) / d.PP / blockTokens, blockTokens
}

// NewScheduler returns an empty scheduler for one lane of d. seqTokens is the typical
// sequence length (prompt + output, tokens; 0: max_model_len) at which the KV cache is
// counted; prefixTokens leading prompt tokens shared by every request stay cached (their
// whole blocks are taken out of the KV cache once); static makes every step's token budget
// unlimited (a static batch prefills all its prompts in one step).
func (d *Deployment) NewScheduler(seqTokens, prefixTokens int, static bool) *Scheduler {
	return d.newScheduler(d.Memory(), seqTokens, prefixTokens, static)
}

// newScheduler is NewScheduler with the memory plan mem = d.Memory().
func (d *Deployment) newScheduler(mem Memory, seqTokens, prefixTokens int, static bool) *Scheduler {
	blocks, block := d.laneKVBlocks(mem, seqTokens)
	s := &Scheduler{d: d, budget: d.MaxNumBatchedTokens, maxSeqs: d.MaxNumSeqs, block: block,
		free: blocks - prefixTokens/block}
	s.setAdmission(d.Profile)
	if s.budget <= 0 || static {
		s.budget = math.MaxInt32
	}
	if s.maxSeqs <= 0 {
		s.maxSeqs = math.MaxInt32
	}
	s.shift = -1
	if block&(block-1) == 0 {
		s.shift = bits.TrailingZeros(uint(block))
	}
	return s
}

// setAdmission sets the admission policy and its knobs from profile p.
func (s *Scheduler) setAdmission(p *Profile) {
	s.reserve = p.Admission == "reserve"
	s.ratioMode = p.Admission == "ratio"
	if !s.ratioMode {
		return
	}
	s.ratio, s.ratioMin = p.NewTokenRatioInit, p.NewTokenRatioMin
	s.ratioStep = (p.NewTokenRatioInit - p.NewTokenRatioMin) / max(p.NewTokenRatioDecaySteps, 1)
	s.clip, s.retractSteps = p.ClipMaxNewTokens, p.RetractDecodeSteps
	if s.clip <= 0 {
		s.clip = math.MaxInt32
	}
}

// CachedPrefix is the part of a prefixTokens-long shared prefix the prefix cache serves:
// whole blocks only (vLLM caches full blocks), at most in − 1 so that one token is computed.
func (s *Scheduler) CachedPrefix(prefixTokens, in int) int {
	return min(prefixTokens/s.block*s.block, in-1)
}

// Fits reports whether a request of in prompt and out output tokens (cached excluded) can
// ever run alone in the lane's KV cache.
func (s *Scheduler) Fits(in, out, cached int) bool {
	return s.blocksFor(in-cached+out) <= s.free
}

func (s *Scheduler) blocksFor(tokens int) int {
	if s.shift >= 0 && tokens >= 0 {
		return (tokens + s.block - 1) >> s.shift // the same quotient, without a division
	}
	return (tokens + s.block - 1) / s.block
}

// Enqueue adds an arrived request to the back of the waiting queue.
func (s *Scheduler) Enqueue(r *SchedRequest) {
	r.need, r.done, r.blocks, r.chunk = r.In-r.Cached, 0, 0, 0
	s.waiting = append(s.waiting, r)
}

// Idle reports whether nothing is running or waiting.
func (s *Scheduler) Idle() bool { return len(s.running) == 0 && s.head == len(s.waiting) }

// Running and Waiting are the numbers of running and queued requests.
func (s *Scheduler) Running() int { return len(s.running) }
func (s *Scheduler) Waiting() int { return len(s.waiting) - s.head }

// Batch is the step planned by the latest Plan (valid until the next Plan).
func (s *Scheduler) Batch() *Batch { return &s.batch }

func (s *Scheduler) pushFront(r *SchedRequest) {
	if s.head > 0 {
		s.head--
		s.waiting[s.head] = r
		return
	}
	s.waiting = append(s.waiting, nil)
	copy(s.waiting[1:], s.waiting)
	s.waiting[0] = r
}

// preemptLast evicts the most recently admitted running request to the front of the queue.
func (s *Scheduler) preemptLast() {
	s.pushFront(s.evict(len(s.running) - 1))
}

// evict removes running request i, frees its KV blocks and sets it to recompute its prompt
// and generated tokens when readmitted (counted as a preemption); the caller queues it.
func (s *Scheduler) evict(i int) *SchedRequest {
	v := s.running[i]
	s.running = slices.Delete(s.running, i, i+1)
	s.free += v.blocks
	v.need = v.In - v.Cached + v.Generated
	v.blocks, v.done, v.chunk = 0, 0, 0
	v.Preempted++
	s.Preemptions++
	return v
}

// Ratio is admission "ratio"'s new_token_ratio now (0 with any other admission).
func (s *Scheduler) Ratio() float64 {
	if !s.ratioMode {
		return 0
	}
	return s.ratio
}

// decayRatio lowers the ratio by one decode step's decay, to its floor at most.
func (s *Scheduler) decayRatio() { s.ratio = max(s.ratio-s.ratioStep, s.ratioMin) }

// reserveTokens is admission "ratio"'s reserve R = full + ratio·scaled (see Scheduler), with
// the running requests ahead decode steps further on (a decode-only run; 0: now). full is
// the exact integer part (prompts still to allocate and the outputs of requests in their
// prefill) and scaled the outputs of decoding requests, so that every caller rounds alike.
func (s *Scheduler) reserveTokens(ahead int) (full, scaled int) {
	for _, r := range s.running {
		o := min(max(r.Out-r.Generated-ahead, 0), s.clip)
		if r.done < r.need {
			full += max(r.need-r.blocks*s.block, 0) + o
			continue
		}
		scaled += o
	}
	return full, scaled
}

// decodeBlocks is the KV blocks the running decoding requests need for their next token.
func (s *Scheduler) decodeBlocks() (need, n int) {
	for _, r := range s.running {
		if r.done < r.need {
			continue
		}
		n++
		if ctx := r.In - r.Cached + r.Generated; ctx+1 > r.blocks*s.block {
			need += s.blocksFor(ctx+1) - r.blocks
		}
	}
	return need, n
}

// retract is SGLang's retract_decode, run when the decoding requests need more KV blocks than
// are free: it retracts requests (fewest generated tokens first, then the longest prompt)
// until free tokens ≥ retract_decode_steps × the decoding requests left, at least one and
// never the last, and resets the ratio from the rest's progress. It reports whether it ran.
func (s *Scheduler) retract() bool {
	need, n := s.decodeBlocks()
	if need <= s.free || n <= 1 {
		return false
	}
	for first := true; first || s.free*s.block < s.retractSteps*n; first = false {
		if n <= 1 {
			break
		}
		v := -1
		for i, r := range s.running {
			if r.done < r.need {
				continue
			}
			if v < 0 || r.Generated < s.running[v].Generated || r.Generated == s.running[v].Generated && r.In > s.running[v].In {
				v = i
			}
		}
		s.waiting = append(s.waiting, s.evict(v)) // SGLang extends the waiting queue with them
		n--
	}
	gen, out := 0, 0
	for _, r := range s.running {
		if r.done >= r.need {
			gen += r.Generated
			out += r.Out
		}
	}
	if out > 0 {
		s.ratio = min(1, float64(gen+s.retractSteps*n)/float64(out))
	}
	return true
}

// Plan forms the next step and reports whether it holds any work (false: nothing can run
// until a request arrives).
func (s *Scheduler) Plan() bool {
	b := &s.batch
	b.Prefill, b.Decode = b.Prefill[:0], b.Decode[:0]
	left := s.budget
	retracted := false
	if s.ratioMode {
		retracted = s.retract()
	}
	for i := 0; i < len(s.running) && left > 0; i++ {
		r := s.running[i]
		if r.done < r.need { // continue a chunked prefill
			c := min(r.need-r.done, left)
			// Blocks beyond those it holds: none under admission "reserve", which allocated the
			// whole sequence up front (a negative difference would hand that reservation back).
			need := max(s.blocksFor(r.done+c)-r.blocks, 0)
			for need > s.free && len(s.running) > i+1 {
				s.preemptLast()
			}
			if need > s.free {
				c = (r.blocks+s.free)*s.block - r.done
				if c <= 0 {
					continue
				}
				need = max(s.blocksFor(r.done+c)-r.blocks, 0)
			}
			s.free -= need
			r.blocks += need
			r.chunk = c
			left -= c
			b.Prefill = append(b.Prefill, Chunk{New: c, Past: r.Cached + r.done})
			continue
		}
		ctx := r.In - r.Cached + r.Generated // tokens in its own KV blocks after this step, less one
		if ctx+1 > r.blocks*s.block {
			need := s.blocksFor(ctx+1) - r.blocks
			for need > s.free && len(s.running) > i+1 {
				s.preemptLast()
			}
			if need > s.free {
				continue
			}
			s.free -= need
			r.blocks += need
		}
		r.chunk = -1
		left--
		b.Decode = append(b.Decode, r.Cached+ctx)
	}
	var rem float64 // admission "ratio": free tokens less the reserve
	if s.ratioMode {
		full, scaled := s.reserveTokens(0)
		rem = float64(s.free*s.block-full) - s.ratio*float64(scaled)
	}
	for s.head < len(s.waiting) && left > 0 && len(s.running) < s.maxSeqs {
		r := s.waiting[s.head]
		c := min(r.need, left)
		need := s.blocksFor(c)
		if s.reserve {
			need = s.blocksFor(r.In - r.Cached + r.Out) // the whole sequence, up front
		}
		if need > s.free {
			break
		}
		if s.ratioMode {
			total := float64(r.need + min(r.Out-r.Generated, s.clip))
			if total >= rem {
				break
			}
			rem -= total
		}
		s.waiting[s.head] = nil
		s.head++
		s.free -= need
		r.blocks, r.done, r.chunk = need, 0, c
		left -= c
		s.running = append(s.running, r)
		b.Prefill = append(b.Prefill, Chunk{New: c, Past: r.Cached})
	}
	if s.head == len(s.waiting) {
		s.waiting, s.head = s.waiting[:0], 0
	}
	if s.ratioMode && !retracted && len(b.Decode) > 0 {
		s.decayRatio()
	}
	return len(b.Prefill) > 0 || len(b.Decode) > 0
}

// Commit ends the planned step at time t: prefill chunks advance, sequences whose prefill
// completed and decoding sequences emit a token, and finished requests leave, freeing
// their KV blocks. It returns the number of requests that finished.
func (s *Scheduler) Commit(t float64) int {
	// Survivors are compacted in place, writing a pointer only after the first finished
	// request (a pointer store costs a GC write barrier while a collection runs).
	j, finished := 0, 0
	for i, r := range s.running {
		emit := false
		switch {
		case r.chunk > 0:
			r.done += r.chunk
			emit = r.done >= r.need
		case r.chunk < 0:
			emit = true
		}
		r.chunk = 0
		if emit {
			r.Generated++
			if r.First == 0 {
				r.First = t
			}
			r.Last = t
			if s.OnToken != nil {
				s.OnToken(r, t)
			}
		}
		if r.Generated >= r.Out && r.done >= r.need {
			finished++
			s.retire(r, t)
			continue
		}
		if j != i { // no pointer store (write barrier) while nothing has left
			s.running[j] = r
		}
		j++
	}
	s.keepRunning(j)
	return finished
}

// retire frees a finished request's KV blocks and reports it (OnDone) at time t.
func (s *Scheduler) retire(r *SchedRequest, t float64) {
	s.free += r.blocks
	r.blocks = 0
	if s.OnDone != nil {
		s.OnDone(r, t)
	}
}

// keepRunning shortens the running list to its first n entries, the ones a commit kept in
// order, and drops the references past them.
func (s *Scheduler) keepRunning(n int) {
	clear(s.running[n:])
	s.running = s.running[:n]
}

// RunLength reports, after a Plan, how many steps like the planned one the scheduler would
// plan in a row if nothing arrived: the planned step decodes every running sequence and no
// prefill, no waiting request could be admitted, and the KV blocks for the growth are free.
// It is the number of steps until the first running sequence finishes (at least 1). Such a
// run can be committed at once with CommitRun.
func (s *Scheduler) RunLength() int {
	if k, queued := s.runLength(); !queued {
		return k
	}
	return 1 // a waiting request may be admitted at the next step
}

// runLength is RunLength also where requests wait: queued reports that they do and could be
// admitted if blocks were free. The planned step tried to admit the queue's head and could
// not (no prefill was planned): for lack of KV blocks, token budget or sequence slots. Until
// a sequence finishes, a decode-only run frees no block, keeps the same budget and slots, and
// only takes blocks, so the head stays out for the whole run; the steps are those single
// steps would plan.
func (s *Scheduler) runLength() (k int, queued bool) {
	if len(s.batch.Prefill) > 0 || len(s.batch.Decode) != len(s.running) || len(s.running) == 0 {
		return 1, false
	}
	queued = s.head < len(s.waiting) && len(s.running) < s.maxSeqs
	k = math.MaxInt32
	for _, r := range s.running {
		k = min(k, r.Out-r.Generated)
	}
	if k <= 1 {
		return 1, queued
	}
	// KV blocks for k−1 more tokens per sequence beyond the planned step. (Without a queue,
	// a sequence holding more blocks than it needs — a reservation — offsets the others' need,
	// as it always has; with one, the run must plan exactly the single steps, which only take
	// blocks.)
	for k > 1 {
		need := 0
		for _, r := range s.running {
			n := s.blocksFor(r.In-r.Cached+r.Generated+k) - r.blocks
			if queued {
				n = max(n, 0)
			}
			need += n
		}
		if need <= s.free {
			break
		}
		k /= 2
	}
	if queued && s.ratioMode {
		// Admission "ratio": the reserve shrinks as the ratio decays and outputs progress, so
		// the head may be admitted within the run: end the run before the first step that
		// would admit it (the same test Plan makes, on the state j steps on).
		k = min(k, s.ratioAdmitsAfter(k))
	}
	return max(k, 1), queued
}

// ratioAdmitsAfter is, for a decode-only run (admission "ratio") whose planned step admitted
// nothing, the first j in [1, k) at which Plan would admit the queue's head, else k.
func (s *Scheduler) ratioAdmitsAfter(k int) int {
	left := s.budget - len(s.running)
	if left <= 0 {
		return k // the token budget holds no prompt token: it stays so for the run
	}
	h := s.waiting[s.head]
	total := float64(h.need + min(h.Out-h.Generated, s.clip))
	first := s.blocksFor(min(h.need, left))
	ratio := s.ratio // Plan of the planned step has decayed it once
	for j := 1; j < k; j++ {
		free := s.free
		for _, r := range s.running {
			free -= max(s.blocksFor(r.In-r.Cached+r.Generated+j+1)-r.blocks, 0)
		}
		full, scaled := s.reserveTokens(j)
		rem := float64(free*s.block-full) - ratio*float64(scaled)
		if first <= free && total < rem {
			return j
		}
		ratio = max(ratio-s.ratioStep, s.ratioMin)
	}
	return k
}

// ShiftDecode adds by tokens to every decoding context of the planned batch (to price the
// last step of a run); ShiftDecode(−by) restores it.
func (s *Scheduler) ShiftDecode(by int) {
	for i := range s.batch.Decode {
		s.batch.Decode[i] += by
	}
}

// CommitRun commits k ≥ 1 steps of a decode-only run (RunLength ≥ k) ending at times
// ends[0…k−1]: every running sequence emits k tokens. It returns the requests finished.
func (s *Scheduler) CommitRun(ends []float64) int {
	k := len(ends)
	if k == 1 {
		return s.Commit(ends[0])
	}
	if s.ratioMode {
		for range k - 1 { // the steps after the planned one decay the ratio as Plan would
			s.decayRatio()
		}
	}
	for _, r := range s.running {
		r.chunk = 0
		if s.OnToken != nil {
			for i := range k {
				r.Generated++
				r.Last = ends[i]
				s.OnToken(r, ends[i])
			}
		} else {
			r.Generated += k
			r.Last = ends[k-1]
		}
		need := s.blocksFor(r.In-r.Cached+r.Generated) - r.blocks
		if need > 0 {
			s.free -= need
			r.blocks += need
		}
	}
	j, finished := 0, 0
	for i, r := range s.running {
		if r.Generated >= r.Out {
			finished++
			s.retire(r, r.Last)
			continue
		}
		if j != i { // no pointer store (write barrier) while nothing has left
			s.running[j] = r
		}
		j++
	}
	s.keepRunning(j)
	return finished
}
