package estimator

import (
	"fmt"
	"strings"

	"roofline/units"
)

// Technique selects serving techniques to compare with the same deployment without them.
type Technique struct {
	// Speculation is speculative decoding (nil: none), its draft model already loaded.
	Speculation *Speculation
	// KVOffload is the offload tiers per replica as ParseOffload reads them
	// ("cpu:500GB,disk:2TB"; "": none).
	KVOffload string
	// Prefixes is the number of distinct reusable prefixes requests pick uniformly (≤ 1: one).
	Prefixes int
	// Disagg is a prefill/decode split as ParseDisagg reads it ("1P2D:tp=8:tp=4"; "": none),
	// KVTransfer its transport between instances (nvlink, rdma, tcp; DefaultKVLink).
	Disagg, KVTransfer string
}

// TechniqueSide is one column of a technique comparison: the metrics a technique moves
// (latencies in ms, rates in tok/s and req/s, weights in bytes per GPU, cost in USD per
// 1M output tokens; nil without a price).
type TechniqueSide struct {
	NumGPUs           int       `json:"num_gpus"`
	TTFTMs            NullFloat `json:"ttft_ms_mean"` // +Inf (JSON null) when overloaded
	TPOTMs            NullFloat `json:"tpot_ms_mean"`
	E2EMs             NullFloat `json:"e2e_ms_mean"` // +Inf (JSON null) when overloaded
	OutputTokS        float64   `json:"output_tok_s"`
	OutputTokSPerGPU  float64   `json:"output_tok_s_per_gpu"`
	OutputTokSPerUser NullFloat `json:"output_tok_s_per_user"` // NaN (null) when overloaded
	MaxRequestRate    float64   `json:"max_request_rate"`
	KVCacheTokens     int       `json:"kv_cache_tokens"`
	WeightsBytes      float64   `json:"weights_bytes_per_gpu"`
	CostOut           *float64  `json:"cost_usd_per_1m_output_tokens"`
	Overloaded        bool      `json:"overloaded"`
}

// TechniqueComparison is a technique beside the baseline (the same deployment without it).
type TechniqueComparison struct {
	Technique string        `json:"technique"`
	Baseline  TechniqueSide `json:"baseline"`
	With      TechniqueSide `json:"with_technique"`
	Details   []string      `json:"details"`
}

// sideOf is one column: s on gpus GPUs at price USD per GPU-hour (CostOf).
func sideOf(s *Serving, gpus int, kvTokens int, weights units.Bytes, price float64) TechniqueSide {
	t := TechniqueSide{NumGPUs: gpus, TTFTMs: NullFloat(s.TTFT.Mean), TPOTMs: NullFloat(s.TPOT.Mean), E2EMs: NullFloat(s.E2E.Mean), OutputTokS: s.OutputTokS,
		OutputTokSPerGPU: s.OutputTokS / float64(gpus), OutputTokSPerUser: s.OutputTokSPerUser, MaxRequestRate: s.MaxRequestRate,
		KVCacheTokens: kvTokens, WeightsBytes: float64(weights), Overloaded: s.Overloaded}
	if c, ok := CostOf(price*float64(gpus), s); ok {
		t.CostOut = &c.Per1MOutput
	}
	return t
}

// CompareTechnique evaluates the techniques of t on top of base (whose prediction of w is
// bs) and returns both columns, from the closed form (the simulator does not model the
// techniques; where bs was simulated the baseline is predicted again in closed form).
// price is USD per GPU-hour (0: no cost). Errors: an offload, disaggregation or
// speculation the deployment cannot take, or a workload the closed form refuses.
func CompareTechnique(base *Deployment, bs Serving, w Workload, t Technique, price float64) (*TechniqueComparison, error) {
	s := base.Spec
	var names, details []string
	s.Speculation = t.Speculation
	if t.KVOffload != "" {
		tiers, err := ParseOffload(t.KVOffload)
		if err != nil {
			return nil, err
		}
		if tiers, err = base.ResolveTiers(tiers); err != nil {
			return nil, err
		}
		s.Offload = &Offload{Tiers: tiers, Prefixes: max(t.Prefixes, 1)}
		if w.PrefixLen == 0 {
			details = append(details, "no --prefix-len: nothing is reused, so offloading changes nothing")
		}
		for _, t := range tiers {
			details = append(details, fmt.Sprintf("%s tier %s per replica: %s per GPU, %s", t.Name, t.Capacity, units.BytesPerSecond(t.Bandwidth), t.Source))
		}
	}
	dt, err := New(s)
	if err != nil {
		return nil, err
	}
	if dt.Speculation != nil {
		al, src := dt.SpecAcceptLen()
		names = append(names, fmt.Sprintf("speculative decoding (%s, K=%d, %.3g tokens per step)", dt.Speculation.Method, dt.Speculation.Tokens, al))
		details = append(details, "acceptance: "+src)
	}
	if dt.Offload != nil && len(dt.Offload.Tiers) > 0 {
		names = append(names, "KV-cache offload ("+t.KVOffload+")")
	}
	// Both columns come from the closed form (the simulator does not model the techniques),
	// even where the report above was simulated outside the closed form's region of validity.
	if bs.Method != "closed-form" {
		cf, err := base.Serve(w)
		if err != nil {
			return nil, err
		}
		details = append(details, "both columns: closed form (the report above: "+bs.Method+")")
		bs = cf
	}
	r := &TechniqueComparison{}
	bmem := base.Memory()
	r.Baseline = sideOf(&bs, base.NumGPUs, bmem.KVCacheTokens*base.DP, bmem.WeightsBytes, price)
	if t.Disagg == "" {
		ts, err := dt.Serve(w)
		if err != nil {
			return nil, err
		}
		mem := dt.Memory()
		r.With = sideOf(&ts, dt.NumGPUs, mem.KVCacheTokens*dt.DP, mem.WeightsBytes, price)
		if h, ok := dt.OffloadHits(w, ts); ok {
			details = append(details, fmt.Sprintf("prefix hits: HBM %.0f%%, CPU %.0f%%, disk %.0f%%, recomputed %.0f%%; mean load %s ms per request (working set %s per GPU)",
				100*h.HBM, 100*h.CPU, 100*h.Disk, 100*h.Miss, units.Sig(h.LoadS*1e3), units.Bytes(h.WorkingSetBytes)))
		}
		if h, ok := base.OffloadHits(w, bs); ok {
			details = append(details, fmt.Sprintf("baseline prefix hits: HBM %.0f%%, recomputed %.0f%%", 100*h.HBM, 100*h.Miss))
		}
		details = append(details, Messages(dt.Warnings())...)
		details = append(details, ts.Warnings...)
	} else {
		x, err := t.disaggOf(s, base)
		if err != nil {
			return nil, err
		}
		ds, err := x.Serve(w)
		if err != nil {
			return nil, err
		}
		r.With = sideOf(&ds.Serving, ds.GPUs, x.Decode.Memory().KVCacheTokens*x.Decode.DP*x.DecodeReplicas, x.Decode.Memory().WeightsBytes, price)
		names = append(names, fmt.Sprintf("P/D disaggregation %dP%dD (prefill tp=%d ep=%d dp=%d, decode tp=%d ep=%d dp=%d)", x.PrefillReplicas, x.DecodeReplicas,
			x.Prefill.TP, x.Prefill.EP, x.Prefill.DP, x.Decode.TP, x.Decode.EP, x.Decode.DP))
		details = append(details,
			fmt.Sprintf("TTFT = prefill queue %s + prefill %s + KV transfer %s + first decode step(s) %s (ms)", units.Sig(ds.PrefillQueueMs), units.Sig(ds.PrefillMs), units.Sig(ds.KVTransferMs), units.Sig(ds.TTFT.Mean-ds.PrefillQueueMs-ds.PrefillMs-ds.KVTransferMs)),
			fmt.Sprintf("KV transfer: %s per request over %s (%s line rate, %s)", units.Bytes(ds.KVTransferBytes), x.Link.Transport, units.BytesPerSecond(x.Link.Bandwidth), x.Link.Source),
			fmt.Sprintf("prefill pool utilisation %.0f%%, decode batch %s per instance; the %s pool limits the rate", 100*ds.PrefillUtil, units.Sig(ds.DecodeBatch), ds.Bound))
		details = append(details, ds.Warnings...)
	}
	r.Technique = strings.Join(names, " + ")
	if r.Technique == "" {
		r.Technique = fmt.Sprintf("prefix reuse over %d prefixes (no offload tier)", t.Prefixes)
	}
	r.Details = details
	if r.Details == nil {
		r.Details = []string{}
	}
	return r, nil
}

// disaggOf builds the xPyD fleet from the technique spec s (speculation applies to the
// decode pool) and the disagg shape (ParseDisagg); pools default to the baseline's TP.
func (t Technique) disaggOf(s Spec, base *Deployment) (*Disagg, error) {
	shape, err := ParseDisagg(t.Disagg, base.TP)
	if err != nil {
		return nil, err
	}
	pool := func(p PoolShape, spec *Speculation) (*Deployment, error) {
		ps := s
		ps.TP, ps.EP, ps.DP, ps.PP, ps.NumGPUs = p.TP, p.EP, p.DP, 1, 0
		ps.Speculation = spec
		ps.Topology = Topology{}
		d, err := New(ps)
		if err != nil {
			return nil, fmt.Errorf("--disagg %s: %v", t.Disagg, err)
		}
		return d, nil
	}
	pd, err := pool(shape.Prefill, nil)
	if err != nil {
		return nil, err
	}
	dd, err := pool(shape.Decode, s.Speculation)
	if err != nil {
		return nil, err
	}
	link, err := DefaultKVLink(t.KVTransfer, pd, dd)
	if err != nil {
		return nil, err
	}
	return &Disagg{Prefill: pd, Decode: dd, PrefillReplicas: shape.Prefill.Replicas, DecodeReplicas: shape.Decode.Replicas, Link: link}, nil
}
