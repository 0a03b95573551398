package estimator

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/optimize"
)

// StepSample is one measured engine step (a row of steps.csv): for phase "prefill", Batch
// prompts of Tokens tokens each; for "decode", one step of Batch sequences that each hold
// Tokens cached tokens.
type StepSample struct {
	Spec     Spec
	Phase    string
	Batch    int
	Tokens   int
	Measured float64 // seconds
}

// StepBatch turns a phase, batch and token count into the Batch the step model takes.
func StepBatch(phase string, batch, tokens int) (Batch, error) {
	if batch < 1 || tokens < 1 {
		return Batch{}, fmt.Errorf("batch %d, tokens %d: both must be ≥ 1", batch, tokens)
	}
	var b Batch
	switch phase {
	case "prefill":
		for i := 0; i < batch; i++ {
			b.Prefill = append(b.Prefill, Chunk{New: tokens})
		}
	case "decode":
		for i := 0; i < batch; i++ {
			b.Decode = append(b.Decode, tokens)
		}
	default:
		return Batch{}, fmt.Errorf("phase %q: allowed values are prefill, decode", phase)
	}
	return b, nil
}

// CheckStep returns an error when a step of batch sequences with tokens tokens each (prompt
// tokens for "prefill", cached tokens for "decode", which adds one) cannot run on d: a
// sequence longer than MaxModelLen, or more KV-cache tokens than one pipeline lane of one
// replica holds (Memory().KVCacheTokens / PP). Call it before StepBatch, which allocates
// one entry per sequence.
func (d *Deployment) CheckStep(phase string, batch, tokens int) error {
	if batch < 1 || tokens < 1 {
		return fmt.Errorf("--batch %d, --tokens %d: both must be ≥ 1", batch, tokens)
	}
	per := tokens
	if phase == "decode" {
		per++ // the step writes one more token per sequence
	}
	if per > d.MaxModelLen {
		return fmt.Errorf("--tokens %d: a sequence of %d tokens exceeds max_model_len %d", tokens, per, d.MaxModelLen)
	}
	hold := d.Memory().KVCacheTokens / d.PP
	if need := float64(batch) * float64(per); need > float64(hold) {
		return fmt.Errorf("--batch %d × %d tokens needs %.0f KV-cache tokens; the KV cache of one replica holds %d (range of --batch here: 1 to %d)", batch, per, need, hold, hold/per)
	}
	return nil
}

// FitParam is one fitted profile parameter.
type FitParam struct {
	Name   string  `json:"name"`
	Before float64 `json:"before"`
	After  float64 `json:"after"`
}

// Fit is the result of Calibrate.
type Fit struct {
	Profile  *Profile   `json:"-"`
	Params   []FitParam `json:"params"`
	N        int        `json:"rows"`
	MAPE     float64    `json:"mape_pct"`      // mean absolute percentage error after the fit
	MaxAPE   float64    `json:"max_ape_pct"`   // worst row after the fit
	MAPE0    float64    `json:"base_mape_pct"` // before the fit (base profile)
	Warnings []string   `json:"warnings"`
}

// calibParams are the profile fields calibration may move, with accessors.
var calibParams = []struct {
	name string
	get  func(*Profile) *float64
	eff  bool // an efficiency (fraction of a peak)
}{
	{"gemm_efficiency", func(p *Profile) *float64 { return &p.GEMMEfficiency }, true},
	{"memory_efficiency", func(p *Profile) *float64 { return &p.MemoryEfficiency }, true},
	{"attention_efficiency", func(p *Profile) *float64 { return &p.AttentionEfficiency }, true},
	{"attention_memory_efficiency", func(p *Profile) *float64 { return &p.AttentionMemoryEfficiency }, true},
	{"step_overhead_ms", func(p *Profile) *float64 { return &p.StepOverheadMs }, false},
	{"seq_overhead_us", func(p *Profile) *float64 { return &p.SeqOverheadUs }, false},
	{"prefill_layer_overhead_us", func(p *Profile) *float64 { return &p.PrefillLayerOverheadUs }, false},
}

// CalibParamNames lists the parameters Calibrate can fit.
func CalibParamNames() []string {
	var out []string
	for _, c := range calibParams {
		out = append(out, c.name)
	}
	return out
}

// Calibrate fits the profile's efficiencies and overheads to measured step times by
// minimising the mean squared relative error (Nelder–Mead on log-parameters, so overheads
// stay ≥ 0), with a weak pull towards the base profile (a prior of ±50% in log space) so
// that parameters the data cannot identify stay where they were. Parameters whose phase
// has no rows are not moved (prefill rows identify compute efficiencies; decode rows the
// memory efficiency and the overheads). names selects parameters (nil: all identifiable).
func Calibrate(samples []StepSample, base *Profile, names []string) (Fit, error) {
	if len(samples) == 0 {
		return Fit{}, errors.New("calibrate: no step rows")
	}
	if base == nil {
		return Fit{}, errors.New("calibrate: no base profile")
	}
	var hasPrefill, hasDecode bool
	type prepared struct {
		d    *Deployment
		b    Batch
		meas float64
	}
	work := *base
	work.Sources = nil
	var rows []prepared
	for i, s := range samples {
		if !(s.Measured > 0) {
			return Fit{}, fmt.Errorf("calibrate: row %d: measured time must be > 0", i+1)
		}
		sp := s.Spec
		sp.Profile = &work
		d, err := New(sp)
		if err != nil {
			return Fit{}, fmt.Errorf("calibrate: row %d: %w", i+1, err)
		}
		b, err := StepBatch(s.Phase, s.Batch, s.Tokens)
		if err != nil {
			return Fit{}, fmt.Errorf("calibrate: row %d: %w", i+1, err)
		}
		hasPrefill = hasPrefill || s.Phase == "prefill"
		hasDecode = hasDecode || s.Phase == "decode"
		rows = append(rows, prepared{d, b, s.Measured})
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	type slot struct {
		idx int
		p0  float64
	}
	var slots []slot
	for i, c := range calibParams {
		if len(names) > 0 && !want[c.name] {
			continue
		}
		switch c.name {
		case "gemm_efficiency", "attention_efficiency", "prefill_layer_overhead_us":
			if !hasPrefill {
				continue
			}
		case "attention_memory_efficiency", "seq_overhead_us":
			if !hasDecode {
				continue
			}
		}
		v := *c.get(base)
		if c.eff && v == 0 {
			v = 1
		}
		if !c.eff && v <= 0 {
			v = map[bool]float64{true: 0.1, false: 1}[c.name == "step_overhead_ms"]
		}
		slots = append(slots, slot{i, v})
	}
	if len(slots) == 0 {
		return Fit{}, errors.New("calibrate: no parameter can be identified from these rows")
	}
	apes := func() []float64 {
		out := make([]float64, len(rows))
		for i, r := range rows {
			pred := r.d.StepSeconds(&r.b)
			out[i] = (pred - r.meas) / r.meas
		}
		return out
	}
	set := func(x []float64) {
		for i, s := range slots {
			*calibParams[s.idx].get(&work) = s.p0 * math.Exp(x[i])
		}
	}
	mape := func(e []float64) (m, mx float64) {
		for _, v := range e {
			m += math.Abs(v)
			mx = math.Max(mx, math.Abs(v))
		}
		return 100 * m / float64(len(e)), 100 * mx
	}
	fit := Fit{N: len(rows)}
	fit.MAPE0, _ = mape(apes())
	const prior = 0.5 // log-space scale of the pull towards the base profile
	obj := func(x []float64) float64 {
		set(x)
		s := 0.0
		for _, e := range apes() {
			s += e * e
		}
		s /= float64(len(rows))
		for _, v := range x {
			s += 0.01 * (v / prior) * (v / prior) / float64(len(rows))
		}
		return s
	}
	res, err := optimize.Minimize(optimize.Problem{Func: obj}, make([]float64, len(slots)),
		&optimize.Settings{FuncEvaluations: 4000}, &optimize.NelderMead{})
	if err != nil && res == nil {
		return Fit{}, fmt.Errorf("calibrate: %w", err)
	}
	set(res.X)
	fit.MAPE, fit.MaxAPE = mape(apes())
	out := work
	out.Origin = "calibration"
	out.Sources = map[string]string{}
	for k, v := range base.Sources {
		out.Sources[k] = v
	}
	for _, s := range slots {
		c := calibParams[s.idx]
		after := *c.get(&work)
		fit.Params = append(fit.Params, FitParam{Name: c.name, Before: *c.get(base), After: after})
		out.Sources[c.name] = fmt.Sprintf("calibration on %d measured steps (base %s = %.4g)", len(rows), c.name, *c.get(base))
		if c.eff && after > 1 {
			fit.Warnings = append(fit.Warnings, fmt.Sprintf("%s = %.3g exceeds 1: faster than the datasheet peak; check the GPU, dtype or data", c.name, after))
		}
		if !c.eff && after < 1e-6 {
			fit.Warnings = append(fit.Warnings, fmt.Sprintf("%s fitted to ~0: the data wants a negative overhead; check the rows", c.name))
		}
	}
	distinct := map[string]bool{}
	for _, s := range samples {
		distinct[fmt.Sprintf("%s|%s|%d|%d|%s|%d|%d", s.Spec.Model.ID, s.Spec.GPU.ID, s.Spec.TP, s.Spec.PP, s.Phase, s.Batch, s.Tokens)] = true
	}
	if len(distinct) <= len(slots) {
		fit.Warnings = append(fit.Warnings, fmt.Sprintf("under-determined: %d parameters fitted to %d distinct steps, so the fit error says nothing about accuracy; give more distinct steps than parameters, or fewer --params", len(slots), len(distinct)))
	}
	sort.Slice(fit.Params, func(i, j int) bool { return fit.Params[i].Name < fit.Params[j].Name })
	fit.Profile = &out
	if err := out.Validate(); err != nil {
		fit.Warnings = append(fit.Warnings, err.Error())
	}
	return fit, nil
}
