package estimator

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// Workload kinds, as in the validation data format.
const (
	Static      = "static"      // BatchSize requests start together, prefill in one step and run to completion
	Concurrency = "concurrency" // closed loop: Concurrency requests always in flight
	Rate        = "rate"        // open loop: Poisson (or gamma) arrivals at RequestRate req/s
	Offline     = "offline"     // NumRequests submitted at once; maximum throughput
)

// MinBurstiness and MaxBurstiness bound Workload.Burstiness, the gamma shape k of the gaps
// between open-loop arrivals (their coefficient of variation is 1/√k).
//
// Below 0.01 (CV > 10) a run does not offer the rate asked for: the mean of N Gamma(k) gaps
// is Gamma(N·k)-distributed with CV 1/√(N·k), above 1 at the 100 requests of the smallest
// default run, so a few huge gaps hold the run's time and the rest arrive at once (at
// k = 1e-300 every drawn gap rounds to 0 and 5 req/s was reported overloaded at a fifth of
// capacity). Above 100 (CV < 0.1) the arrivals are periodic for every purpose: the arrival
// term c_a² = 1/k of Kingman's formula is below 0.01, and k·λ overflows near 1e308.
const (
	MinBurstiness = 0.01
	MaxBurstiness = 100.0
)

// Workload is what the clients send.
type Workload struct {
	Kind        string
	InputLen    int // prompt tokens (mean when a distribution is given)
	OutputLen   int // output tokens (mean when a distribution is given)
	PrefixLen   int // leading prompt tokens shared by all requests and served from the prefix cache
	Concurrency int
	RequestRate float64 // req/s, whole deployment
	// Burstiness is the gamma shape k of inter-arrival gaps (1 = Poisson, < 1 burstier), as vllm bench serve;
	// Kind Rate only (0 or 1 otherwise, Validate), in [MinBurstiness, MaxBurstiness].
	Burstiness  float64
	BatchSize   int
	NumRequests int // requests to simulate (0: a default that reaches steady state)
	// Arrivals, when set with Kind Rate, replays these arrival times (seconds from the start,
	// ascending) in the simulation instead of drawing them: validate uses the live run's
	// scheduled send times so prediction and measurement see the same arrivals.
	Arrivals []float64
	// InputDist and OutputDist draw lengths; nil means fixed lengths.
	InputDist, OutputDist *LengthDist
}

// LengthDist is a distribution of token counts.
type LengthDist struct {
	Kind      string // "uniform" (Min..Max), "normal" (Mean, Std, clipped at 1), "histogram" (Values with Weights)
	Min, Max  int
	Mean, Std float64
	Values    []int
	Weights   []float64
	cum       []float64
}

// Validate checks the workload and fills defaults.
func (w *Workload) Validate() error {
	if w.InputLen < 1 {
		return fmt.Errorf("--input-len %d: must be ≥ 1 token", w.InputLen)
	}
	if w.OutputLen < 1 {
		return fmt.Errorf("--output-len %d: must be ≥ 1 token", w.OutputLen)
	}
	if w.InputLen > MaxTokens || w.OutputLen > MaxTokens {
		return fmt.Errorf("--input-len %d, --output-len %d: each must be ≤ %d tokens", w.InputLen, w.OutputLen, MaxTokens)
	}
	if w.PrefixLen < 0 || w.PrefixLen >= w.InputLen {
		return fmt.Errorf("--prefix-len %d: must be ≥ 0 and below --input-len %d", w.PrefixLen, w.InputLen)
	}
	if w.Burstiness == 0 {
		w.Burstiness = 1
	}
	if !(w.Burstiness >= MinBurstiness && w.Burstiness <= MaxBurstiness) {
		return fmt.Errorf("--burstiness %g: allowed values are %g to %g (gamma shape of arrival gaps; 1 = Poisson, smaller is burstier)", w.Burstiness, MinBurstiness, MaxBurstiness)
	}
	if w.Burstiness != 1 && w.Kind != Rate && w.Kind != "" {
		// A closed loop, a static batch or an offline run has no arrival gaps to shape:
		// the value was ignored without a word.
		return fmt.Errorf("--burstiness %g: shapes the gaps between open-loop arrivals (--request-rate); a %s load has none", w.Burstiness, w.Kind)
	}
	if w.NumRequests < 0 {
		return fmt.Errorf("--num-requests %d: must be ≥ 1 (0: the default)", w.NumRequests)
	}
	switch w.Kind {
	case Static:
		if w.BatchSize < 1 || w.BatchSize > MaxSimRequests {
			return fmt.Errorf("--batch-size %d: must be in [1, %d] for a static batch", w.BatchSize, MaxSimRequests)
		}
	case Concurrency:
		if w.Concurrency < 1 || w.Concurrency > MaxClients {
			return fmt.Errorf("--concurrency %d: must be in [1, %d]", w.Concurrency, MaxClients)
		}
	case Rate:
		if !(w.RequestRate > 0) || math.IsInf(w.RequestRate, 0) {
			return fmt.Errorf("--request-rate %g: must be a positive finite number of req/s", w.RequestRate)
		}
	case Offline:
		if w.NumRequests < 1 {
			return errors.New("--num-requests: must be ≥ 1 for an offline run")
		}
	default:
		return fmt.Errorf("workload %q: allowed values are static, concurrency, rate, offline", w.Kind)
	}
	for _, d := range []*LengthDist{w.InputDist, w.OutputDist} {
		if d != nil {
			if err := d.init(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *LengthDist) init() error {
	switch d.Kind {
	case "uniform":
		if d.Min < 1 || d.Max < d.Min {
			return fmt.Errorf("uniform length distribution [%d, %d]: need 1 ≤ min ≤ max", d.Min, d.Max)
		}
	case "normal":
		// NaN passed "< 1" and "< 0" and the sampler then spun forever.
		if !(d.Mean >= 1) || !(d.Std >= 0) || math.IsInf(d.Mean, 0) || math.IsInf(d.Std, 0) {
			return fmt.Errorf("normal length distribution mean %g std %g: need mean ≥ 1, std ≥ 0", d.Mean, d.Std)
		}
	case "histogram":
		if len(d.Values) == 0 || len(d.Values) != len(d.Weights) {
			return errors.New("histogram length distribution: need as many weights as values, at least one")
		}
		d.cum = make([]float64, len(d.Weights))
		s := 0.0
		for i, w := range d.Weights {
			if !(w >= 0) || math.IsInf(w, 0) || d.Values[i] < 1 { // a NaN weight hung the sampler
				return errors.New("histogram length distribution: values must be ≥ 1 and weights ≥ 0")
			}
			s += w
			d.cum[i] = s
		}
		if s <= 0 {
			return errors.New("histogram length distribution: weights sum to zero")
		}
	default:
		return fmt.Errorf("length distribution %q: allowed values are uniform, normal, histogram", d.Kind)
	}
	return nil
}

// moments returns the distribution's mean and variance, tokens and tokens².
func (d *LengthDist) moments() (mean, variance float64) {
	switch d.Kind {
	case "uniform":
		n := float64(d.Max - d.Min + 1)
		return float64(d.Min+d.Max) / 2, (n*n - 1) / 12
	case "normal":
		return d.Mean, d.Std * d.Std
	default:
		s, s2, n := 0.0, 0.0, 0.0
		for i, v := range d.Values {
			s += float64(v) * d.Weights[i]
			s2 += float64(v) * float64(v) * d.Weights[i]
			n += d.Weights[i]
		}
		m := s / n
		return m, math.Max(0, s2/n-m*m)
	}
}

// MeanLen is the distribution's mean token count.
func (d *LengthDist) MeanLen() float64 {
	switch d.Kind {
	case "uniform":
		return float64(d.Min+d.Max) / 2
	case "normal":
		return d.Mean
	default:
		s, n := 0.0, 0.0
		for i, v := range d.Values {
			s += float64(v) * d.Weights[i]
			n += d.Weights[i]
		}
		return s / n
	}
}

func (d *LengthDist) draw(r *rand.Rand) int {
	switch d.Kind {
	case "uniform":
		return d.Min + r.IntN(d.Max-d.Min+1)
	case "normal":
		v := int(math.Round(d.Mean + d.Std*r.NormFloat64()))
		if v < 1 {
			v = 1
		}
		return v
	default:
		x := r.Float64() * d.cum[len(d.cum)-1]
		i := sort.SearchFloat64s(d.cum, x)
		if i >= len(d.Values) {
			i = len(d.Values) - 1
		}
		return d.Values[i]
	}
}

// meanInput and meanOutput are the mean lengths the closed form uses.
func (w *Workload) meanInput() float64 {
	if w.InputDist != nil {
		return w.InputDist.MeanLen()
	}
	return float64(w.InputLen)
}

func (w *Workload) meanOutput() float64 {
	if w.OutputDist != nil {
		return w.OutputDist.MeanLen()
	}
	return float64(w.OutputLen)
}

// MaxSimRequests bounds Workload.NumRequests in a simulation: each simulated request keeps a
// state and its latency samples, so memory grows with the count (measured: "roofline estimate
// --simulate --num-requests 1000000" for Llama-3.1-8B on H100 peaks at ~250 MB RSS in ~3 s;
// 10⁸ requests asked for 8 GB up front). The closed form has no such bound.
const MaxSimRequests = 1_000_000

// MaxClients bounds Workload.Concurrency: the closed form models the clients' start burst one
// by one, so memory and time grow with them (measured: "roofline estimate --concurrency
// 100000" for Llama-3.1-8B on H100 takes ~3.5 s and ~270 MB; 10¹¹ clients ran out of memory).
const MaxClients = 100_000

// MaxTokens bounds Workload.InputLen and OutputLen (2^30 tokens, 100× the longest context
// of any model in the catalogue, Llama-4-Scout's 10,485,760): near the int range their sum
// overflowed, passed the max_model_len check as a negative length and reached the memory
// plan ("--input-len 9223372036854775807" was reported as a model that does not fit).
const MaxTokens = 1 << 30

// TooManyRequestsError is a simulation asked for more than MaxSimRequests requests.
type TooManyRequestsError struct{ NumRequests int }

func (e *TooManyRequestsError) Error() string {
	// "or the closed form (no --simulate)" was the only advice, also to an offline run
	// given without --simulate, which is simulated whenever it exceeds one batch.
	return fmt.Sprintf("--num-requests %d: a simulation holds at most %d requests (memory); use fewer (its steady state comes long before), or, for a rate or concurrency load, the closed form (no --simulate); an offline run larger than one batch is always simulated", e.NumRequests, MaxSimRequests)
}

// TooLongError is a workload whose requests exceed the engine's max_model_len: the
// engine would reject every one (vLLM answers HTTP 400), so no latency applies.
type TooLongError struct {
	Tokens, InputLen, OutputLen, MaxModelLen int
}

func (e *TooLongError) Error() string {
	return fmt.Sprintf("requests of %d tokens (--input-len %d + --output-len %d) exceed max_model_len %d: the engine would reject them; raise --max-model-len or shorten the requests",
		e.Tokens, e.InputLen, e.OutputLen, e.MaxModelLen)
}

// CheckMaxModelLen returns a *TooLongError when the workload's mean request (prompt plus
// output) does not fit in maxModelLen tokens (0: no limit). Commands that know the limit
// before any deployment (sweep, plan) check it here.
func (w *Workload) CheckMaxModelLen(maxModelLen int) error {
	in, out := int(math.Round(w.meanInput())), int(math.Round(w.meanOutput()))
	if maxModelLen > 0 && in+out > maxModelLen {
		return &TooLongError{Tokens: in + out, InputLen: in, OutputLen: out, MaxModelLen: maxModelLen}
	}
	return nil
}

// CheckWorkload is CheckMaxModelLen with d's max_model_len; Serve and Simulate call it.
func (d *Deployment) CheckWorkload(w *Workload) error { return w.CheckMaxModelLen(d.MaxModelLen) }

// RangeRatioDist draws lengths as vllm bench serve's random dataset does with
// --random-range-ratio r: uniform integers in [⌊L·(1−r)⌋, ⌈L·(1+r)⌉] (lower end at least 1).
// r must be in [0, 1); r = 0 gives nil (fixed lengths).
func RangeRatioDist(l int, r float64) *LengthDist {
	if r <= 0 {
		return nil
	}
	lo := max(1, int(math.Floor(float64(l)*(1-r))))
	return &LengthDist{Kind: "uniform", Min: lo, Max: max(lo, int(math.Ceil(float64(l)*(1+r))))}
}

// clientsSending is the number of closed-loop clients that ever send: Concurrency, or
// NumRequests when fewer requests are run than there are clients (vllm bench serve with
// --num-prompts below --max-concurrency has only that many in flight).
func (w *Workload) clientsSending() float64 {
	if w.NumRequests > 0 && w.NumRequests < w.Concurrency {
		return float64(w.NumRequests)
	}
	return float64(w.Concurrency)
}

// InferKind sets Kind from the load field that is not zero, as a command line gives it:
// Concurrency (closed loop), RequestRate (open loop), BatchSize (static batch), or
// NumRequests alone (offline). A load field counts as given when it is not zero, so a
// negative or NaN value later fails Validate with its name. Errors: more than one load, or
// none.
func (w *Workload) InferKind() error {
	// A load flag counts as given when it is not zero (its default): a negative or NaN
	// value then fails Validate with the flag's name, rather than "give a load".
	n := 0
	for _, set := range []bool{w.Concurrency != 0, w.RequestRate != 0, w.BatchSize != 0} {
		if set {
			n++
		}
	}
	switch {
	case n > 1:
		return fmt.Errorf("give one of --concurrency, --request-rate, --batch-size")
	case w.Concurrency != 0:
		w.Kind = Concurrency
	case w.RequestRate != 0:
		w.Kind = Rate
	case w.BatchSize != 0:
		w.Kind = Static
	case w.NumRequests != 0:
		w.Kind = Offline
	default:
		return fmt.Errorf("give a load: --concurrency C, --request-rate R, --batch-size B, or --num-requests N (offline)")
	}
	return nil
}

// IsRefused reports whether err says the engine would refuse what was asked: requests
// longer than max_model_len (TooLongError), more simulated requests than memory allows
// (TooManyRequestsError), or a deployment that would not start (DoesNotFitError).
func IsRefused(err error) bool {
	var tooLong *TooLongError
	var tooMany *TooManyRequestsError
	var noFit *DoesNotFitError
	return errors.As(err, &tooLong) || errors.As(err, &tooMany) || errors.As(err, &noFit)
}
