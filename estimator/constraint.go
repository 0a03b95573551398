package estimator

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"roofline/units"
)

// Constraint is one service-level objective a configuration must meet, parsed from text
// such as "ttft:p95<500ms", "itl:p99<=40ms", "e2e:median<5s" or "output_tok_s_per_user>30".
//
// Latency metrics (ttft, itl, tpot, e2e) need a statistic (mean, median, p90, p95, p99) and
// are compared in milliseconds; the value may carry a unit (us, ms, s; a bare number is ms).
// Rate and cost metrics compare the metric's own unit (tokens/s, requests/s, USD).
type Constraint struct {
	Metric string  // ttft, itl, tpot, e2e, or one of the rate/cost metrics (see ConstraintMetrics)
	Stat   string  // mean, median, p90, p95, p99 for latency metrics; "" otherwise
	Op     string  // <, <=, >, >=
	Value  float64 // threshold, ms for latencies, the metric's own unit otherwise
	Text   string  // the text it was parsed from, normalised (no spaces)
}

// latencyMetrics are compared in ms on a Dist; rateMetrics on a scalar.
var (
	latencyMetrics = []string{"ttft", "itl", "tpot", "e2e"}
	latencyStats   = []string{"mean", "median", "p90", "p95", "p99"}
	rateMetrics    = []struct{ name, unit string }{
		{"output_tok_s_per_user", "tok/s"},
		{"output_tok_s_per_gpu", "tok/s"},
		{"output_tok_s", "tok/s"},
		{"total_tok_s", "tok/s"},
		{"request_per_s", "req/s"},
		{"goodput_req_s", "req/s"},
		{"cost_usd_per_1m_output_tokens", "usd"},
	}
)

// ConstraintMetrics lists the metric names a Constraint accepts.
func ConstraintMetrics() []string {
	out := append([]string{}, latencyMetrics...)
	for _, m := range rateMetrics {
		out = append(out, m.name)
	}
	return out
}

// ParseConstraints parses each text with ParseConstraint; the result is empty (not nil)
// when texts is. The error is the first text's that fails.
func ParseConstraints(texts []string) ([]Constraint, error) {
	out := []Constraint{}
	for _, t := range texts {
		c, err := ParseConstraint(t)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// ParseConstraint parses "METRIC[:STAT] OP VALUE[UNIT]". Spaces are ignored. Errors name
// the text and the allowed values.
func ParseConstraint(text string) (Constraint, error) {
	s := strings.Join(strings.Fields(text), "")
	c := Constraint{Text: s}
	i := strings.IndexAny(s, "<>")
	if i < 0 {
		return c, fmt.Errorf("constraint %q: need an operator <, <=, > or >= (e.g. ttft:p95<500ms)", text)
	}
	lhs, rest := s[:i], s[i:]
	switch {
	case strings.HasPrefix(rest, "<="), strings.HasPrefix(rest, ">="):
		c.Op, rest = rest[:2], rest[2:]
	default:
		c.Op, rest = rest[:1], rest[1:]
	}
	if strings.ContainsAny(rest, "<>=") {
		return c, fmt.Errorf("constraint %q: one comparison only (<, <=, > or >=)", text)
	}
	c.Metric, c.Stat, _ = strings.Cut(strings.ToLower(lhs), ":")
	if c.Stat == "p50" {
		c.Stat = "median"
	}
	if contains(latencyMetrics, c.Metric) {
		if c.Stat == "" {
			return c, fmt.Errorf("constraint %q: %s needs a statistic, one of %s (e.g. %s:p95<500ms)", text, c.Metric, strings.Join(latencyStats, ", "), c.Metric)
		}
		if !contains(latencyStats, c.Stat) {
			return c, fmt.Errorf("constraint %q: statistic %q: allowed values are %s", text, c.Stat, strings.Join(latencyStats, ", "))
		}
		v, err := parseMs(rest)
		if err != nil {
			return c, fmt.Errorf("constraint %q: %v", text, err)
		}
		c.Value = v
		return c, nil
	}
	unit := ""
	for _, m := range rateMetrics {
		if m.name == c.Metric {
			unit = m.unit
		}
	}
	if unit == "" {
		return c, fmt.Errorf("constraint %q: metric %q: allowed values are %s", text, c.Metric, strings.Join(ConstraintMetrics(), ", "))
	}
	if c.Stat != "" {
		return c, fmt.Errorf("constraint %q: %s is a mean and takes no statistic", text, c.Metric)
	}
	num := strings.TrimPrefix(strings.TrimSuffix(strings.ToLower(rest), unit), "$")
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return c, fmt.Errorf("constraint %q: value %q: need a finite number ≥ 0 (unit %s)", text, rest, unit)
	}
	c.Value = v
	return c, nil
}

// parseMs parses a positive duration with an optional unit (us, µs, ms, s; none = ms) into ms.
func parseMs(s string) (float64, error) {
	v, err := units.ParseMs(strings.ToLower(s))
	if err != nil || v <= 0 {
		// 0 ms: no latency meets "< 0", and "<= 0" only a step of no time.
		return 0, fmt.Errorf("value %q: need a finite duration > 0 such as 500ms, 2s or 800us", s)
	}
	return v, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// String is the normalised constraint text.
func (c Constraint) String() string { return c.Text }

// IsLatency reports whether the constraint bounds a latency statistic (ms).
func (c Constraint) IsLatency() bool { return c.Stat != "" }

// dist returns the latency distribution the constraint reads.
func (c Constraint) dist(s *Serving) Dist {
	switch c.Metric {
	case "ttft":
		return s.TTFT
	case "itl":
		return s.ITL
	case "tpot":
		return s.TPOT
	default:
		return s.E2E
	}
}

func statOf(d Dist, stat string) float64 {
	switch stat {
	case "mean":
		return d.Mean
	case "median":
		return d.Median
	case "p90":
		return d.P90
	case "p95":
		return d.P95
	default:
		return d.P99
	}
}

// Observe returns the value the constraint compares for a point (NaN when unknown, e.g. a
// cost without a price).
func (c Constraint) Observe(p *SweepPoint) float64 {
	cost := math.NaN()
	if p.CostPer1MOutput != nil {
		cost = *p.CostPer1MOutput
	}
	return c.observe(&p.Serving, p.OutputTokSPerGPU, p.GoodputReqS, cost)
}

func (c Constraint) observe(s *Serving, tputPerGPU, goodput, cost float64) float64 {
	if c.IsLatency() {
		return statOf(c.dist(s), c.Stat)
	}
	switch c.Metric {
	case "output_tok_s_per_user":
		return float64(s.OutputTokSPerUser) // NaN when overloaded: no constraint holds
	case "output_tok_s_per_gpu":
		return tputPerGPU
	case "output_tok_s":
		return s.OutputTokS
	case "total_tok_s":
		return s.TotalTokS
	case "request_per_s":
		return s.RequestPerS
	case "goodput_req_s":
		return goodput
	case "cost_usd_per_1m_output_tokens":
		return cost
	}
	return math.NaN()
}

// Holds reports whether v meets the constraint; NaN never does, +Inf (an overloaded queue)
// only meets a lower bound.
func (c Constraint) Holds(v float64) bool {
	if math.IsNaN(v) {
		return false
	}
	switch c.Op {
	case "<":
		return v < c.Value
	case "<=":
		return v <= c.Value
	case ">":
		return v > c.Value
	default:
		return v >= c.Value
	}
}

// Met reports whether the point meets the constraint.
func (c Constraint) Met(p *SweepPoint) bool { return c.Holds(c.Observe(p)) }

// Attainment estimates the fraction of requests whose own latency meets the threshold of a
// latency constraint (an upper bound; lower bounds on latency count as met). The quantile
// function is interpolated linearly through (0, 0), (0.5, median), (0.9, p90), (0.95, p95),
// (0.99, p99) and taken as 1 at or above p99. Mean-based metrics (tokens/s, cost) give 1
// when met and 0 otherwise.
func (c Constraint) Attainment(p *SweepPoint) float64 {
	if !c.IsLatency() || c.Op == ">" || c.Op == ">=" {
		if c.Met(p) {
			return 1
		}
		return 0
	}
	return cdfFromQuantiles(c.dist(&p.Serving), c.Value)
}

// evalPoint computes goodput (RequestPerS × the smallest Attainment; goodput constraints
// themselves excluded) and whether every constraint holds, from the serving metrics, the
// GPU count and the cost per 1M output tokens (NaN: unknown).
func evalPoint(s *Serving, cons []Constraint, gpus, cost float64) (goodput float64, ok bool) {
	tput := s.OutputTokS / gpus
	att := 1.0
	if s.Overloaded {
		att = 0
	}
	for _, c := range cons {
		if c.Metric == "goodput_req_s" {
			continue
		}
		var a float64
		switch {
		case c.IsLatency() && (c.Op == "<" || c.Op == "<="):
			a = cdfFromQuantiles(c.dist(s), c.Value)
		case c.Holds(c.observe(s, tput, 0, cost)):
			a = 1
		}
		att = math.Min(att, a)
	}
	goodput = s.RequestPerS * att
	for _, c := range cons {
		if !c.Holds(c.observe(s, tput, goodput, cost)) {
			return goodput, false
		}
	}
	return goodput, true
}

// cdfFromQuantiles inverts the piecewise-linear quantile function described at Attainment.
func cdfFromQuantiles(d Dist, x float64) float64 {
	qs := [...]float64{0, d.Median, d.P90, d.P95, d.P99}
	ps := [...]float64{0, 0.5, 0.9, 0.95, 0.99}
	if math.IsNaN(x) || math.IsInf(d.P99, 1) && x < d.Median {
		return 0
	}
	if x >= qs[4] {
		return 1
	}
	for i := 1; i < len(qs); i++ {
		if x < qs[i] {
			if math.IsInf(qs[i], 1) {
				return ps[i-1]
			}
			w := qs[i] - qs[i-1]
			if w <= 0 {
				return ps[i]
			}
			return ps[i-1] + (ps[i]-ps[i-1])*(x-qs[i-1])/w
		}
	}
	return 1
}
