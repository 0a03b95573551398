package validation

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"roofline/units"
)

// MeansTolerancePct is how far (%) a configuration's mean E2E may sit from
// TTFT + TPOT·(output_len − 1) before CheckMeans flags it. With TPOT defined per request as
// (E2E − TTFT)/(output tokens − 1) (vllm bench serve, and the sim-to-real study's
// definition) and a fixed output length the identity holds exactly for the means; drawn
// lengths or a client that averages TPOT over its own token count move it by the covariance
// of TPOT and length. 5% lets that through: the consistent sim-to-real runs sit within 1.4%.
const MeansTolerancePct = 5.0

// WithheldPrefix starts the Reason of a row that CheckMeans withheld.
const WithheldPrefix = "inconsistent means: "

// Inconsistency is a configuration (rows of one deployment and workload) whose measured means
// contradict each other: E2E ≠ TTFT + TPOT·(output_len − 1) by more than MeansTolerancePct.
// Times are ms, lengths tokens.
type Inconsistency struct {
	// ID is the id of the configuration's e2e_ms_mean row without its metric suffix.
	ID              string
	E2E, TTFT, TPOT float64
	OutputLen       int
	// ImpliedE2E = TTFT + TPOT·(OutputLen − 1); DevPct = 100·(ImpliedE2E − E2E)/E2E.
	ImpliedE2E, DevPct float64
	// ImpliedOutput = 1 + (E2E − TTFT)/TPOT: the output tokens the three means imply.
	ImpliedOutput float64
	// E2ETPOT = (E2E − TTFT)/(OutputLen − 1): the TPOT the timings and the row's length imply.
	E2ETPOT float64
	// Withheld are the indices (into the rows given to CheckMeans) of the per-token rows
	// (tpot_ms_*, itl_ms_*) of the configuration.
	Withheld []int
}

// Reason is the one-line explanation a withheld row carries (it starts with WithheldPrefix).
func (c Inconsistency) Reason() string {
	return fmt.Sprintf("%s%s: TTFT %s + TPOT %s × (%d − 1) = %s ms, but mean E2E is %s ms (%+.1f%%): the means imply %.1f output tokens, not %d, or a TPOT of %s ms; TPOT/ITL rows withheld, E2E and TTFT (wall-clock timings) kept",
		WithheldPrefix, c.ID, units.Sig(c.TTFT), units.Sig(c.TPOT), c.OutputLen, units.Sig(c.ImpliedE2E), units.Sig(c.E2E), c.DevPct, c.ImpliedOutput, c.OutputLen, units.Sig(c.E2ETPOT))
}

// CheckMeans checks every configuration of rows (rows equal but for id, source, metric and
// value) that has ttft_ms_mean, tpot_ms_mean and e2e_ms_mean and an output_len ≥ 2 against
//
//	E2E = TTFT + TPOT·(output_len − 1)
//
// and returns those off by more than MeansTolerancePct, sorted by id. Such
// a configuration's per-token rows (TPOT, ITL) count tokens differently from output_len
// (a client counting streamed chunks rather than tokens, or a server stopping early): which
// of output_len and TPOT is wrong the rows cannot say, so they are withheld, not predicted.
// Its E2E and TTFT rows are wall-clock timings and stay.
func CheckMeans(rows []Row) []Inconsistency {
	type means struct {
		e2e, ttft, tpot int // row index + 1 (0: absent)
		perToken        []int
	}
	by := map[string]*means{}
	for i, r := range rows {
		k := configKey(r)
		m := by[k]
		if m == nil {
			m = &means{}
			by[k] = m
		}
		switch r.Metric {
		case "e2e_ms_mean":
			m.e2e = i + 1
		case "ttft_ms_mean":
			m.ttft = i + 1
		case "tpot_ms_mean":
			m.tpot = i + 1
		}
		if strings.HasPrefix(r.Metric, "tpot_ms_") || strings.HasPrefix(r.Metric, "itl_ms_") {
			m.perToken = append(m.perToken, i)
		}
	}
	var out []Inconsistency
	for _, m := range by {
		if m.e2e == 0 || m.ttft == 0 || m.tpot == 0 {
			continue
		}
		re := rows[m.e2e-1]
		n := re.OutputLen
		if n < 2 {
			continue
		}
		e2e, ttft, tpot := re.Value, rows[m.ttft-1].Value, rows[m.tpot-1].Value
		c := Inconsistency{ID: strings.TrimSuffix(re.ID, "-"+re.Metric), E2E: e2e, TTFT: ttft, TPOT: tpot, OutputLen: n}
		c.ImpliedE2E = ttft + tpot*float64(n-1)
		c.DevPct = 100 * (c.ImpliedE2E - e2e) / e2e
		if math.Abs(c.DevPct) <= MeansTolerancePct {
			continue
		}
		c.ImpliedOutput = 1 + (e2e-ttft)/tpot
		c.E2ETPOT = (e2e - ttft) / float64(n-1)
		c.Withheld = m.perToken
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// configKey identifies a row's configuration: the row without id, source, metric, value and
// line (Predict shares one prediction between rows of equal keys).
func configKey(r Row) string {
	r.ID, r.Metric, r.Value, r.Line, r.Source = "", "", 0, 0, ""
	return fmt.Sprintf("%+v", r)
}
