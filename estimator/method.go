package estimator

import (
	"fmt"
	"math"
)

// Region of validity of the closed form (Serve). The closed form describes the Scheduler's
// steady state with a mean field (see cf.at); it leaves out what only a simulation captures:
//
//  1. synchronised waves: a closed loop whose output lengths are all equal keeps its clients
//     in lock-step (they finish, resubmit and prefill together), so TTFT is the prefill of a
//     whole wave, not of one prompt;
//  2. near saturation: an open loop above rhoMax of the sustainable rate queues in bursts the
//     mean field underestimates (measured against Simulate: beyond 0.75 the mean TTFT and
//     TPOT fall more than 10% short with drawn lengths);
//  3. KV-bound or capped batches: when the running sequences' KV (b·(input + output) tokens)
//     exceeds the lane's KV cache, or the clients exceed the batch cap, requests wait for
//     blocks or slots and are preempted. The same bound marks where admission "reserve" and
//     "ratio" (SGLang) hold requests back: each admits a request only while the KV cache holds
//     the prompts and outputs it counts, at most b·(input + output) tokens (every output whole
//     for "reserve"; for "ratio" the admitted request's whole and new_token_ratio ≤ 1 of the
//     others' remaining outputs), so below the bound neither queues a request the mean field
//     would run, and above it the simulation follows the engine's admission. An offline run
//     under these admissions is likewise simulated when its requests' whole sequences exceed
//     the KV cache (they are admitted in turn, not all at once);
//  4. heavy-tailed lengths: a coefficient of variation of input or output lengths above
//     cvMax (vllm bench serve's --random-range-ratio stays below 0.58; 0.5 allows up to about
//     ±85%);
//  5. bursty arrivals (gamma shape below 0.5) and replayed arrival times.
//
// Static batches and offline runs use their own closed form (serveBatch) except offline runs
// of more requests than one batch holds (waves that overlap).
const (
	rhoMax = 0.75
	cvMax  = 0.5
)

// ClosedFormValid reports whether the closed form describes w on d, and if not why (one
// line naming the condition). It fails only when w itself is invalid; a workload Serve cannot
// compute (it does not fit) counts as valid, Serve's error being the answer.
func (d *Deployment) ClosedFormValid(w Workload) (bool, string, error) {
	if err := w.Validate(); err != nil {
		return false, "", err
	}
	s, err := d.Serve(w)
	if err != nil {
		return true, "", nil
	}
	return s.outside == "", s.outside, nil
}

// markValidity records in s why the closed form does not describe w (empty when it does);
// c is the closed form's state for w (nil: built here).
func (d *Deployment) markValidity(s *Serving, w *Workload, c *cf) {
	if c == nil {
		var cc cf
		cc.init(d, w, d.memoryPlan())
		c = &cc
	}
	s.outside = outsideReason(c, w, float64(d.Lanes()), s)
	switch s.outside {
	case "":
	case outsideFixedOutputs: // the common one, without building the string
		s.MethodReason = outsidePrefix + outsideFixedOutputs
	default:
		s.MethodReason = outsidePrefix + s.outside
	}
}

const (
	outsidePrefix       = "closed form outside its region of validity: "
	outsideFixedOutputs = "closed loop with fixed output lengths: clients finish and resubmit together, in synchronised waves"
)

// outsideReason is the first condition of the list above that w meets on the closed form's
// result s, or "".
func outsideReason(c *cf, w *Workload, reps float64, s *Serving) string {
	if len(w.Arrivals) > 0 {
		return "replayed arrival times"
	}
	for _, x := range []struct {
		name string
		d    *LengthDist
	}{{"input", w.InputDist}, {"output", w.OutputDist}} {
		if x.d == nil {
			continue
		}
		if m, v := x.d.moments(); math.Sqrt(v)/m > cvMax {
			return fmt.Sprintf("heavy-tailed %s lengths (coefficient of variation %.2f > %.2f)", x.name, math.Sqrt(v)/m, cvMax)
		}
	}
	if c.bmax < 1 {
		return "KV cache holds less than one request"
	}
	kvBound := func(b float64) bool { return b*(c.inTotal+c.out) > c.kvTokens }
	kvWhy := "KV-bound: the running sequences' KV cache exceeds capacity near the end of their outputs (preemption)"
	switch c.d.Profile.Admission {
	case "reserve":
		kvWhy = "KV-bound: the running sequences' prompts and whole outputs exceed the KV cache, so admission (reserve: every output's blocks up front) holds requests back"
	case "ratio":
		kvWhy = "KV-bound: the running sequences' prompts and outputs exceed the KV cache, so SGLang's admission (new_token_ratio reserve) holds requests back and decode retracts requests when the cache runs out"
	}
	switch w.Kind {
	case Concurrency:
		cr := float64(w.Concurrency) / reps
		if cr >= 2 && (w.OutputDist == nil || w.OutputDist.Min == w.OutputDist.Max && w.OutputDist.Kind == "uniform") {
			return outsideFixedOutputs
		}
		if cr > c.bmax {
			return fmt.Sprintf("%.0f clients per replica exceed the %.0f sequences the batch holds (max_num_seqs, KV cache, token budget): requests queue", cr, c.bmax)
		}
		if kvBound(cr) {
			return kvWhy
		}
	case Rate:
		if w.Burstiness < 0.5 {
			return fmt.Sprintf("bursty arrivals (gamma shape %.2g < 0.5)", w.Burstiness)
		}
		if s.Overloaded || !(s.MaxRequestRate > 0) {
			return "" // the unbounded latencies are the answer
		}
		if rho := w.RequestRate / s.MaxRequestRate; rho > rhoMax {
			return fmt.Sprintf("load %.0f%% of the sustainable %.3g req/s (above %.0f%%: queueing the mean field underestimates)", 100*rho, s.MaxRequestRate, 100*rhoMax)
		}
		if kvBound(s.Batch) {
			if c.d.Profile.Admission == "" || c.d.Profile.Admission == "greedy" {
				return "KV-bound: the running sequences' KV cache exceeds capacity (preemption)"
			}
			return kvWhy
		}
	case Offline:
		if float64(w.NumRequests)/reps > c.bmax {
			return "offline run of more requests than one batch holds: overlapping waves"
		}
		if a := c.d.Profile.Admission; (a == "reserve" || a == "ratio") && kvBound(max(1, float64(w.NumRequests)/reps)) {
			return "offline run whose requests' prompts and whole outputs exceed the KV cache: admission (" + a + ") starts them in turn, not all at once"
		}
	}
	return ""
}

// Predict returns the closed form (Serve) where it is valid (ClosedFormValid) and the
// simulation (Simulate with seed) elsewhere, except for a deployment with an Offload
// (several reusable prefixes, offload tiers), which only the closed form models;
// Serving.Method says which and MethodReason why.
func (d *Deployment) Predict(w Workload, seed uint64) (Serving, error) {
	s, err := d.Serve(w)
	if err != nil {
		return s, err
	}
	if s.outside == "" {
		s.MethodReason = "inside the closed form's region of validity"
		if s.Overloaded {
			s.MethodReason = "overloaded: arrivals exceed the sustainable rate, so latencies grow without bound (a simulation's would only reflect how many requests it sent)"
		}
		return s, nil
	}
	why := s.outside
	if d.Offload != nil {
		// The simulation serves every shared prefix from HBM: it does not model prefix reuse
		// over several prefixes or offload tiers, so the closed form stands, saying so.
		s.MethodReason = "prefix reuse over several prefixes and KV offload are modelled in the closed form only; kept although outside its region of validity: " + why
		return s, nil
	}
	s, err = d.Simulate(w, seed)
	s.MethodReason = "outside the closed form's region of validity: " + why
	return s, err
}
