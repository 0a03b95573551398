package estimator

import "math"

// Cost is what serving costs at a fleet price, in USD. Every command reports cost with
// these definitions, so an estimate, a sweep point and a plan of the same
// configuration show the same numbers.
type Cost struct {
	PerHour float64 // the fleet: price per GPU-hour × GPUs
	// Per1MOutput charges all GPU time, prefill included, to the output tokens: what a
	// million generated tokens cost with the prompts that produced them. Sweeps rank
	// and constrain by it and plans minimise it.
	Per1MOutput float64
	// Per1MInputSplit and Per1MOutputSplit divide the GPU time between prompt and
	// generated tokens by the prefill share of GPU time (Serving.PrefillShare): NaN
	// when that side has no tokens.
	Per1MInputSplit, Per1MOutputSplit float64
	PerRequest                        float64
}

// CostOf returns the cost of s on a fleet priced perHour USD, and false when it has none:
// no price, no output or an overloaded (unbounded) workload.
func CostOf(perHour float64, s *Serving) (Cost, bool) {
	if !(perHour > 0) || !(s.OutputTokS > 0) || s.Overloaded {
		return Cost{}, false
	}
	perTok := func(share, tokS float64) float64 {
		if !(tokS > 0) {
			return math.NaN()
		}
		return perHour * share / (tokS * 3600) * 1e6
	}
	c := Cost{PerHour: perHour, Per1MOutput: perTok(1, s.OutputTokS),
		Per1MInputSplit: perTok(s.PrefillShare, s.TotalTokS-s.OutputTokS), Per1MOutputSplit: perTok(1-s.PrefillShare, s.OutputTokS),
		PerRequest: math.NaN()}
	if s.RequestPerS > 0 {
		c.PerRequest = perHour / (s.RequestPerS * 3600)
	}
	return c, true
}
