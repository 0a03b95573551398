package estimator

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/gonum/mat"
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
// replica holds for sequences of that length (KVTokensAt / PP: windowed layers held to
// their window). Call it before StepBatch, which allocates
// one entry per sequence.
func (d *Deployment) CheckStep(phase string, batch, tokens int) error {
	if batch < 1 || tokens < 1 {
		return fmt.Errorf("--batch %d, --tokens %d: both must be ≥ 1", batch, tokens)
	}
	if tokens > MaxTokens {
		// tokens+1 overflowed to a negative length below max_model_len, and the step
		// was priced at -8115298139 s. (A batch too large is refused below, with the
		// range the KV cache allows.)
		return fmt.Errorf("--tokens %d: must be ≤ %d", tokens, MaxTokens)
	}
	per := tokens
	if phase == "decode" {
		per++ // the step writes one more token per sequence
	}
	if per > d.MaxModelLen {
		return fmt.Errorf("--tokens %d: a sequence of %d tokens exceeds max_model_len %d", tokens, per, d.MaxModelLen)
	}
	hold := d.kvTokensAt(d.Memory(), per) / d.PP
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
	// Identifiability says, per fitted parameter, how much the rows pin it down.
	Identifiability []ParamIdent `json:"identifiability"`
}

// ParamIdent is how well the rows determine one fitted parameter: Sensitivity is the RMS
// relative change of the predicted step times per unit change of the parameter's logarithm
// (0.1: doubling the parameter moves predictions by ~7%); RelStdErr is the parameter's
// standard error as a fraction of its value from the fit's Jacobian and residuals (the
// Gauss–Newton covariance s²(JᵀJ)⁻¹ in log space; +Inf, JSON null, when the rows cannot
// separate it from the others). Identified is Sensitivity ≥ 0.01 and RelStdErr ≤ 0.5.
type ParamIdent struct {
	Name        string    `json:"name"`
	Sensitivity float64   `json:"sensitivity"`
	RelStdErr   NullFloat `json:"rel_std_err"`
	Identified  bool      `json:"identified"`
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
	{"kernel_overhead_us", func(p *Profile) *float64 { return &p.KernelOverheadUs }, false},
	{"overlap_exponent", func(p *Profile) *float64 { return &p.OverlapExponent }, false},
	{"gemm_fixed_us", func(p *Profile) *float64 { return &p.GEMMFixedUs }, false},
	{"step_overhead_ms", func(p *Profile) *float64 { return &p.StepOverheadMs }, false},
	{"seq_overhead_us", func(p *Profile) *float64 { return &p.SeqOverheadUs }, false},
	{"prefill_layer_overhead_us", func(p *Profile) *float64 { return &p.PrefillLayerOverheadUs }, false},
	{"prefill_seq_layer_overhead_us", func(p *Profile) *float64 { return &p.PrefillSeqLayerOverheadUs }, false},
	{"collective_latency_us", func(p *Profile) *float64 { return &p.CollectiveLatencyUs }, false},
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
// memory efficiency and the overheads; collective_latency_us needs rows with TP, EP or
// PP > 1). names selects parameters (nil: all identifiable; kernel_overhead_us and
// gemm_fixed_us only on request, overlap_exponent only on request when the base sets it,
// since those come from microbenchmarks of single kernels). The overlap exponent is held
// ≥ 1: an operator is never slower than its compute and memory times added. Efficiencies
// are fractions of the achievable ceilings of each row's GPU and dtype, so a fit on one
// card carries to another, and are held ≤ 1 (a fit never beats the measured ceiling).
//
// The fit reports, per parameter, how well the rows identify it (Fit.Identifiability,
// from the Jacobian at the optimum). With names nil, parameters the rows do not identify
// are put back to the base profile's value and the rest refitted without them (a warning
// names each); with names given every named parameter is fitted and an unidentified one
// is only warned about. It also warns when there are fewer than two rows per parameter.
func Calibrate(samples []StepSample, base *Profile, names []string) (Fit, error) {
	if len(samples) == 0 {
		return Fit{}, errors.New("calibrate: no step rows")
	}
	if base == nil {
		return Fit{}, errors.New("calibrate: no base profile")
	}
	var hasPrefill, hasDecode, hasComm bool
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
		hasComm = hasComm || d.TP > 1 || d.EP > 1 || d.PP > 1
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
		case "gemm_efficiency", "attention_efficiency", "prefill_layer_overhead_us", "prefill_seq_layer_overhead_us", "overlap_exponent":
			if !hasPrefill {
				continue
			}
		case "attention_memory_efficiency", "seq_overhead_us":
			if !hasDecode {
				continue
			}
		case "collective_latency_us":
			if !hasComm {
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
		if c.name == "overlap_exponent" && v <= 0 {
			v = 4 // max(c, m) is the limit p → ∞; start from a ridge that is nearly max
		}
		if (c.name == "kernel_overhead_us" || c.name == "gemm_fixed_us") && len(names) == 0 {
			continue // only on request: per-layer overheads already absorb it (see identifiability)
		}
		if c.name == "overlap_exponent" && base.OverlapExponent > 0 && len(names) == 0 {
			// A base that sets the ridge exponent took it from a GEMM-by-M microbenchmark
			// (a GEMM's own shape, not the engine): whole steps cannot tell it from a
			// per-layer fixed cost, so it is refitted only on request.
			continue
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
			v := s.p0 * math.Exp(x[i])
			if calibParams[s.idx].name == "overlap_exponent" {
				// p < 1 would make an operator slower than its compute and memory times
				// added (no overlap at all): not a physical combination.
				v = math.Max(v, 1)
			}
			if calibParams[s.idx].eff {
				// An efficiency is a fraction of the achievable ceiling, the best rate
				// measured on the GPU: above 1 the fit would beat that measurement.
				v = math.Min(v, 1)
			}
			*calibParams[s.idx].get(&work) = v
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
	// A weak pull towards the base profile (±50% in log space, weight 0.001 of one row's
	// squared error): it only breaks ties between parameters the rows cannot separate;
	// parameters that are not identified at all are put back to the base value below.
	const prior = 0.5
	const priorWeight = 0.001
	obj := func(x []float64) float64 {
		set(x)
		s := 0.0
		for _, e := range apes() {
			s += e * e
		}
		s /= float64(len(rows))
		for _, v := range x {
			s += priorWeight * (v / prior) * (v / prior) / float64(len(rows))
		}
		return s
	}
	// Nelder–Mead restarted from its own result: the max() in each operator makes the
	// surface kinked, and a fresh simplex escapes where the old one collapsed.
	minimize := func(x0 []float64, restarts int) ([]float64, error) {
		x := append([]float64(nil), x0...)
		for range restarts {
			res, err := optimize.Minimize(optimize.Problem{Func: obj}, x,
				&optimize.Settings{FuncEvaluations: 2000}, &optimize.NelderMead{})
			if err != nil && res == nil {
				return nil, fmt.Errorf("calibrate: %w", err)
			}
			x = res.X
		}
		return x, nil
	}
	x, err := minimize(make([]float64, len(slots)), 3)
	if err != nil {
		return Fit{}, err
	}
	names2 := func() []string {
		return slots2names(slots, func(i int) string { return calibParams[i].name }, func(s slot) int { return s.idx })
	}
	set(x)
	fit.Identifiability = identify(x, len(rows), func(x []float64) []float64 { set(x); return apes() }, names2())
	// Parameters the rows do not identify are not fitted: with names empty (automatic
	// selection) the least identified one (largest relative standard error) goes back to
	// the base profile's sourced value and the rest are refitted, until every fitted
	// parameter is identified (backward elimination). An unidentified parameter cannot
	// then drift to absorb another's effect (an attention efficiency of 0.24 standing in
	// for a per-layer cost) and carry that to other GPUs.
	var held []string
	var heldIdent []ParamIdent
	candidates := len(slots)
	for len(names) == 0 && len(slots) > 1 {
		worst, worstSE := -1, 0.0
		for j, id := range fit.Identifiability {
			se := float64(id.RelStdErr)
			if !id.Identified && (worst < 0 || se > worstSE || (math.IsInf(se, 1) && id.Sensitivity < fit.Identifiability[worst].Sensitivity)) {
				worst, worstSE = j, se
			}
		}
		if worst < 0 {
			break
		}
		var keep []slot
		var xk []float64
		for i, s := range slots {
			if calibParams[s.idx].name == fit.Identifiability[worst].Name {
				held = append(held, calibParams[s.idx].name)
				heldIdent = append(heldIdent, fit.Identifiability[worst])
				*calibParams[s.idx].get(&work) = *calibParams[s.idx].get(base)
				continue
			}
			keep = append(keep, s)
			xk = append(xk, x[i])
		}
		slots = keep
		// Refit from where the others were (one Nelder–Mead run; a full restart sequence
		// once the set is final, below).
		if x, err = minimize(xk, 1); err != nil {
			return Fit{}, err
		}
		set(x)
		fit.Identifiability = identify(x, len(rows), func(x []float64) []float64 { set(x); return apes() }, names2())
	}
	if len(held) > 0 {
		if x, err = minimize(x, 3); err != nil {
			return Fit{}, err
		}
		set(x)
		fit.Identifiability = identify(x, len(rows), func(x []float64) []float64 { set(x); return apes() }, names2())
	}
	set(x)
	for _, id := range fit.Identifiability {
		if !id.Identified {
			// The weak prior keeps an unidentified value near the base only while other
			// parameters can absorb the error; the last one left is moved freely (one row
			// fitted memory_efficiency 0.93 -> 0.83), and the warning says what it did.
			before, after := 0.0, 0.0
			for _, c := range calibParams {
				if c.name == id.Name {
					before, after = *c.get(base), *c.get(&work)
				}
			}
			what := "its value stays near the base profile's"
			if before != 0 && math.Abs(after/before-1) > 0.05 {
				what = fmt.Sprintf("it moved from the base profile's %.4g to %.4g all the same", before, after)
			}
			fit.Warnings = append(fit.Warnings, fmt.Sprintf("%s is not identified by these rows (sensitivity %.3g, relative standard error %s): %s and should not be trusted", id.Name, id.Sensitivity, pctOrInf(float64(id.RelStdErr)), what))
		}
	}
	for _, h := range held {
		fit.Warnings = append(fit.Warnings, fmt.Sprintf("%s is not identified by these rows: kept at the base profile's value and left out of the fit", h))
	}
	if len(rows) < 2*candidates {
		advice := "fit fewer parameters with --params or add rows"
		if candidates == 1 {
			advice = "add rows" // one parameter cannot be made fewer
		}
		fit.Warnings = append(fit.Warnings, fmt.Sprintf("under-determined: %d rows for %d parameters (want at least %d): %s", len(rows), candidates, 2*candidates, advice))
	}
	fit.Identifiability = append(fit.Identifiability, heldIdent...)
	sort.Slice(fit.Identifiability, func(a, b int) bool { return fit.Identifiability[a].Name < fit.Identifiability[b].Name })
	fit.MAPE, fit.MaxAPE = mape(apes())
	out := work
	out.Origin = "calibration"
	// The fit describes the base's engine: keep its family explicit, since Fit.Rename gives
	// the profile a new name and an empty family would then read as that name
	// ("vllm-calibrated"), with no release ranges, launch flags or validation rows of its own.
	out.EngineFamily = base.Family()
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
			fit.Warnings = append(fit.Warnings, fmt.Sprintf("%s = %.3g exceeds 1: faster than the ceiling it is a fraction of (achievable, or datasheet for ceilings = \"datasheet\"); check the GPU, dtype or data, or an operator the model does not capture", c.name, after))
		}
		if !c.eff && after < 1e-6 {
			fit.Warnings = append(fit.Warnings, fmt.Sprintf("%s fitted to ~0: the data wants a negative overhead; check the rows", c.name))
		}
	}
	for _, h := range held {
		for _, c := range calibParams {
			if c.name == h {
				fit.Params = append(fit.Params, FitParam{Name: h, Before: *c.get(base), After: *c.get(base)})
			}
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

func slots2names[S any](slots []S, name func(int) string, idx func(S) int) []string {
	out := make([]string, len(slots))
	for i, s := range slots {
		out[i] = name(idx(s))
	}
	return out
}

func pctOrInf(v float64) string {
	if math.IsInf(v, 1) || v > 100 {
		return "unbounded"
	}
	return fmt.Sprintf("±%.0f%%", 100*v)
}

// identify estimates each parameter's sensitivity and standard error from the Jacobian
// of the relative residuals r(x) (n rows) with respect to the log-parameters x.
func identify(x []float64, n int, resid func([]float64) []float64, names []string) []ParamIdent {
	p := len(x)
	r0 := resid(x)
	J := mat.NewDense(n, p, nil)
	const h = 1e-3
	for j := range p {
		xp := append([]float64(nil), x...)
		xp[j] += h
		rp := resid(xp)
		for i := range n {
			J.Set(i, j, (rp[i]-r0[i])/h)
		}
	}
	ssr := 0.0
	for _, v := range r0 {
		ssr += v * v
	}
	dof := float64(n - p)
	s2 := math.Inf(1)
	if dof > 0 {
		s2 = ssr / dof
	}
	var jtj mat.SymDense
	jtj.SymOuterK(1, J.T())
	var inv mat.Dense
	invErr := inv.Inverse(&jtj)
	out := make([]ParamIdent, p)
	for j := range p {
		col := mat.Col(nil, j, J)
		sens := 0.0
		for _, v := range col {
			sens += v * v
		}
		sens = math.Sqrt(sens / float64(n))
		se := math.Inf(1)
		if invErr == nil && !math.IsInf(s2, 1) {
			if v := inv.At(j, j) * s2; v >= 0 {
				se = math.Sqrt(v)
			}
		}
		out[j] = ParamIdent{Name: names[j], Sensitivity: sens, RelStdErr: NullFloat(se), Identified: sens >= 0.01 && se <= 0.5}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

// CVGroup is the held-out result for one group of a leave-one-group-out check.
type CVGroup struct {
	Group     string  `json:"group"`
	Rows      int     `json:"rows"`       // held-out rows
	TrainRows int     `json:"train_rows"` // rows of every other group
	BaseMAPE  float64 `json:"base_mape_pct"`
	FitMAPE   float64 `json:"fit_mape_pct"` // held-out MAPE of the fit on the other groups
	Bias      float64 `json:"fit_bias_pct"` // median signed error of the held-out rows
}

// CrossValidate fits on every group but one and reports the held-out error of each group
// (leave-one-group-out). groups[i] labels samples[i] (a GPU, dtype or model).
func CrossValidate(samples []StepSample, groups []string, base *Profile, names []string) ([]CVGroup, error) {
	if len(groups) != len(samples) {
		return nil, errors.New("cross-validate: one group label per row")
	}
	var keys []string
	seen := map[string]bool{}
	for _, g := range groups {
		if !seen[g] {
			seen[g] = true
			keys = append(keys, g)
		}
	}
	if len(keys) < 2 {
		return nil, fmt.Errorf("cross-validate: the rows form %d group; need at least 2", len(keys))
	}
	sort.Strings(keys)
	var out []CVGroup
	for _, k := range keys {
		var train, test []StepSample
		for i, s := range samples {
			if groups[i] == k {
				test = append(test, s)
			} else {
				train = append(train, s)
			}
		}
		fit, err := Calibrate(train, base, names)
		if err != nil {
			return nil, fmt.Errorf("cross-validate without %s: %w", k, err)
		}
		b, _, err := StepErrors(test, base)
		if err != nil {
			return nil, err
		}
		f, signed, err := StepErrors(test, fit.Profile)
		if err != nil {
			return nil, err
		}
		out = append(out, CVGroup{Group: k, Rows: len(test), TrainRows: len(train), BaseMAPE: b, FitMAPE: f, Bias: median(signed)})
	}
	return out, nil
}

// StepErrors predicts each sample with profile p and returns the mean absolute percentage
// error and the signed errors (%).
func StepErrors(samples []StepSample, p *Profile) (mape float64, signed []float64, err error) {
	for i, s := range samples {
		sp := s.Spec
		sp.Profile = p
		d, err := New(sp)
		if err != nil {
			return 0, nil, fmt.Errorf("row %d: %w", i+1, err)
		}
		b, err := StepBatch(s.Phase, s.Batch, s.Tokens)
		if err != nil {
			return 0, nil, fmt.Errorf("row %d: %w", i+1, err)
		}
		e := 100 * (d.StepSeconds(&b)/s.Measured - 1)
		signed = append(signed, e)
		mape += math.Abs(e)
	}
	if len(samples) > 0 {
		mape /= float64(len(samples))
	}
	return mape, signed, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Rename names the fitted profile after its base: "<base>-calibrated" (once, however often
// it is refitted), with description.
func (f *Fit) Rename(base, description string) {
	f.Profile.Name = strings.TrimSuffix(base, "-calibrated") + "-calibrated"
	f.Profile.Description = description
}

// ProfileTOML is the fitted profile as a TOML file (Profile.WriteTOML) after the comment
// lines of header (each ending in a newline).
func (f *Fit) ProfileTOML(header string) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(header)
	if err := f.Profile.WriteTOML(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
