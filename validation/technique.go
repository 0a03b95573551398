package validation

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"roofline/estimator"
	"roofline/units"
)

// TechniqueColumns are the optional columns of the validation format that describe a serving
// technique; a row that leaves them empty is the baseline of its source.
var TechniqueColumns = []string{"spec_method", "spec_tokens", "spec_accept_len", "prefill_replicas", "prefill_tp", "prefill_ep", "prefill_dp",
	"decode_replicas", "decode_tp", "decode_ep", "decode_dp", "kv_transfer", "offload_tier", "nodes", "internode"}

// Technique holds a row's technique columns.
//
//   - spec_method: draft, eagle, eagle3, mtp or ngram; spec_tokens: K; spec_accept_len: mean
//     tokens per target forward including the bonus token (empty: the method's default α).
//   - prefill_*/decode_*: the pools of a disaggregated fleet (replicas of TP·EP/DP GPUs);
//     kv_transfer: nvlink, rdma or tcp (empty: rdma). num_gpus is then the whole fleet.
//   - offload_tier: cpu:SIZE[,disk:SIZE] (estimator.ParseOffload).
//   - nodes: node count; internode: the scale-out network, free text; "N GB/s per GPU" in it
//     overrides the catalogue's per-GPU bandwidth.
type Technique struct {
	SpecMethod                                       string
	SpecTokens                                       int
	SpecAcceptLen                                    float64
	PrefillReplicas, PrefillTP, PrefillEP, PrefillDP int
	DecodeReplicas, DecodeTP, DecodeEP, DecodeDP     int
	KVTransfer, OffloadTier                          string
	Nodes                                            int
	Internode                                        string
	present                                          bool // the file has technique columns
}

// Disaggregated reports whether the row describes a P/D-disaggregated fleet.
func (t Technique) Disaggregated() bool { return t.PrefillReplicas > 0 || t.DecodeReplicas > 0 }

// Name classifies the row: speculative, disaggregation, offload, baseline (a row of a file
// with technique columns that sets none of them; nodes and internode only say where it ran),
// or "" (a file without technique columns).
func (t Technique) Name() string {
	switch {
	case t.SpecMethod != "":
		return "speculative"
	case t.Disaggregated():
		return "disaggregation"
	case t.OffloadTier != "":
		return "offload"
	case t.present: // nodes/internode alone describe where the baseline ran
		return "baseline"
	}
	return ""
}

type techErr struct{ field, msg string }

func (t Technique) check() *techErr {
	if t.SpecMethod != "" {
		ok := false
		for _, m := range estimator.SpecMethods {
			ok = ok || m == t.SpecMethod
		}
		if !ok {
			return &techErr{"spec_method", fmt.Sprintf("%q: allowed values are %s", t.SpecMethod, strings.Join(estimator.SpecMethods, ", "))}
		}
	}
	if t.Disaggregated() && (t.PrefillReplicas < 1 || t.DecodeReplicas < 1) {
		return &techErr{"prefill_replicas", "a disaggregated row needs prefill_replicas ≥ 1 and decode_replicas ≥ 1"}
	}
	switch t.KVTransfer {
	case "", estimator.TransportNVLink, estimator.TransportRDMA, estimator.TransportTCP:
	default:
		return &techErr{"kv_transfer", fmt.Sprintf("%q: allowed values are nvlink, rdma, tcp", t.KVTransfer)}
	}
	if t.OffloadTier != "" {
		if _, err := estimator.ParseOffload(t.OffloadTier); err != nil {
			return &techErr{"offload_tier", err.Error()}
		}
	}
	return nil
}

// readTechnique reads the technique columns of one record.
func readTechnique(col map[string]int, get func(string) string, num func(string) int, flt func(string) float64, name string, line int) (Technique, error) {
	var t Technique
	for _, c := range TechniqueColumns {
		if _, ok := col[c]; ok {
			t.present = true
		}
	}
	if !t.present {
		return t, nil
	}
	t = Technique{present: true, SpecMethod: strings.ToLower(get("spec_method")), SpecTokens: num("spec_tokens"), SpecAcceptLen: flt("spec_accept_len"),
		PrefillReplicas: num("prefill_replicas"), PrefillTP: num("prefill_tp"), PrefillEP: num("prefill_ep"), PrefillDP: num("prefill_dp"),
		DecodeReplicas: num("decode_replicas"), DecodeTP: num("decode_tp"), DecodeEP: num("decode_ep"), DecodeDP: num("decode_dp"),
		KVTransfer: strings.ToLower(get("kv_transfer")), OffloadTier: get("offload_tier"), Nodes: num("nodes"), Internode: get("internode")}
	return t, nil
}

var perGPURe = regexp.MustCompile(`([0-9.]+)\s*GB/s per GPU`)

// internodeBandwidth extracts "N GB/s per GPU" from the internode text (bytes/s), or 0.
func internodeBandwidth(s string) float64 {
	m := perGPURe.FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0
	}
	return v * 1e9
}

// applyTechnique adds a row's speculation, offload tiers and topology to its deployment spec.
func applyTechnique(s *estimator.Spec, r Row, o Options) error {
	t := r.Tech
	if t.SpecMethod != "" {
		k := t.SpecTokens
		if k == 0 {
			k = 3
		}
		s.Speculation = &estimator.Speculation{Method: t.SpecMethod, Tokens: k, AcceptLen: t.SpecAcceptLen}
	}
	if t.Nodes > 0 || internodeBandwidth(t.Internode) > 0 {
		s.Topology.Nodes = t.Nodes
		if bw := internodeBandwidth(t.Internode); bw > 0 {
			s.Topology.Network = s.GPU.ScaleOut
			s.Topology.Network.Name = t.Internode
			s.Topology.Network.Bandwidth = units.BytesPerSecond(bw)
		}
	}
	if t.OffloadTier != "" {
		tiers, err := estimator.ParseOffload(t.OffloadTier)
		if err != nil {
			return err
		}
		base, err := estimator.New(*s)
		if err != nil {
			return err
		}
		if tiers, err = base.ResolveTiers(tiers); err != nil {
			return err
		}
		s.Offload = &estimator.Offload{Tiers: tiers}
	}
	return nil
}

// predictTechnique predicts a row with a technique in the closed form: a disaggregated fleet
// from its pools, anything else from the deployment d built with the technique.
func predictTechnique(s estimator.Spec, d *estimator.Deployment, r Row, w estimator.Workload) (Prediction, string, error) {
	if !r.Tech.Disaggregated() {
		sv, err := d.Serve(w)
		return Prediction{Serving: sv, NumGPUs: d.NumGPUs, Lanes: d.Lanes()}, "closed-form", err
	}
	t := r.Tech
	pool := func(tp, ep, dp int, spec *estimator.Speculation) (*estimator.Deployment, error) {
		ps := s
		ps.TP, ps.EP, ps.DP, ps.PP, ps.NumGPUs = max(tp, 1), ep, max(dp, 1), 1, 0
		ps.Speculation = spec
		ps.Topology.Nodes = 0
		return estimator.New(ps)
	}
	p, err := pool(t.PrefillTP, t.PrefillEP, t.PrefillDP, nil)
	if err != nil {
		return Prediction{}, "", fmt.Errorf("prefill pool: %w", err)
	}
	dd, err := pool(t.DecodeTP, t.DecodeEP, t.DecodeDP, s.Speculation)
	if err != nil {
		return Prediction{}, "", fmt.Errorf("decode pool: %w", err)
	}
	link, err := estimator.DefaultKVLink(t.KVTransfer, p, dd)
	if err != nil {
		return Prediction{}, "", err
	}
	x := &estimator.Disagg{Prefill: p, Decode: dd, PrefillReplicas: t.PrefillReplicas, DecodeReplicas: t.DecodeReplicas, Link: link}
	ds, err := x.Serve(w)
	if err != nil {
		return Prediction{}, "", err
	}
	return Prediction{Serving: ds.Serving, NumGPUs: ds.GPUs, Disagg: &ds, Lanes: t.DecodeReplicas * dd.Lanes()}, "closed-form (disaggregated)", nil
}

// pairKey groups a technique row with the baseline measured in the same setting: source id
// prefix, model, GPU, GPU count, lengths, workload, load and metric.
func pairKey(r Row) string {
	prefix := r.ID
	if i := strings.IndexAny(r.ID, "-_"); i > 0 {
		prefix = r.ID[:i]
	}
	return fmt.Sprintf("%s|%s|%s|%d|%d|%d|%s|%d|%d|%s", prefix, strings.ToLower(r.Model), strings.ToLower(r.GPU), r.NumGPUs, r.InputLen, r.OutputLen,
		r.Workload, r.Concurrency, r.BatchSize, r.Metric)
}

// GainSigns counts technique/baseline pairs whose predicted change has the measured sign.
type GainSigns struct {
	Pairs       int             `json:"pairs"`
	Right       int             `json:"right"`
	ByTechnique []TechniqueSign `json:"by_technique"`
	// Wrong lists the technique rows whose predicted gain has the wrong sign.
	Wrong []string `json:"wrong"`
	// MedianRatioAPE is the median APE (%) of the predicted ratio technique/baseline against
	// the measured ratio: the technique's effect with the baseline's own error divided out.
	MedianRatioAPE *float64 `json:"median_gain_ratio_ape_pct"`
}

// TechniqueSign is GainSigns for one technique.
type TechniqueSign struct {
	Technique string `json:"technique"`
	Pairs     int    `json:"pairs"`
	Right     int    `json:"right"`
}

// summariseTechniques fills the per-technique APE groups and the gain signs: for every
// technique row with a predicted baseline row of the same pairKey, the sign of
// (technique − baseline) predicted against measured (pairs whose measured values are equal
// are skipped).
func summariseTechniques(s *Summary, rows []Result) {
	var tech []Result
	base := map[string]Result{}
	for _, r := range rows {
		if r.Technique == "" {
			continue
		}
		tech = append(tech, r)
		if r.Technique == "baseline" && r.Predicted != nil {
			base[r.pairKey] = r
		}
	}
	if len(tech) == 0 {
		return
	}
	s.ByTechnique = groupBy(tech, func(r Result) string { return r.Technique })
	g := &GainSigns{ByTechnique: []TechniqueSign{}, Wrong: []string{}}
	by := map[string]*TechniqueSign{}
	var ratios []float64
	var order []string
	for _, r := range tech {
		b, ok := base[r.pairKey]
		if r.Technique == "baseline" || !ok || r.Predicted == nil || r.Measured == b.Measured {
			continue
		}
		t := by[r.Technique]
		if t == nil {
			t = &TechniqueSign{Technique: r.Technique}
			by[r.Technique] = t
			order = append(order, r.Technique)
		}
		t.Pairs++
		g.Pairs++
		if *b.Predicted != 0 && b.Measured != 0 {
			ratios = append(ratios, 100*math.Abs((*r.Predicted / *b.Predicted)/(r.Measured/b.Measured)-1))
		}
		if (r.Measured > b.Measured) == (*r.Predicted > *b.Predicted) {
			t.Right++
			g.Right++
		} else {
			g.Wrong = append(g.Wrong, r.ID)
		}
	}
	sort.Strings(order)
	for _, k := range order {
		g.ByTechnique = append(g.ByTechnique, *by[k])
	}
	if len(ratios) > 0 {
		sort.Float64s(ratios)
		g.MedianRatioAPE = fptr(estimator.Percentile(ratios, 0.5))
	}
	s.GainSigns = g
}
