package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"roofline/estimator"
	"roofline/units"
)

// techFlags select serving techniques that estimate compares with the same deployment
// without them: speculative decoding, P/D disaggregation, KV-cache offloading.
type techFlags struct {
	specMethod    string
	specTokens    int
	specAcceptLen float64
	specRates     []float64
	specDraft     string
	disagg        string
	kvTransfer    string
	kvOffload     string
	prefixes      int
}

func (f *techFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.specMethod, "spec-method", "", "speculative decoding: "+strings.Join(estimator.SpecMethods, ", "))
	fs.IntVar(&f.specTokens, "spec-tokens", 0, "speculative decoding: draft tokens K proposed per step (default 3)")
	floatVar(fs, &f.specAcceptLen, "spec-accept-len", 0, nonNegative, "mean tokens per step including the bonus token, in [1, K+1] (default: the method's sourced α)")
	fs.Float64SliceVar(&f.specRates, "spec-accept-rates", nil, "per-position acceptance rates r1,r2,… (instead of --spec-accept-len)")
	fs.StringVar(&f.specDraft, "spec-draft-model", "", "draft model of --spec-method draft (Hugging Face id or config.json)")
	fs.StringVar(&f.disagg, "disagg", "", "prefill/decode disaggregation xPyD[:prefill tp=,ep=,dp=[:decode tp=,ep=,dp=]], e.g. 1P2D:tp=8:tp=4,dp=2")
	fs.StringVar(&f.kvTransfer, "kv-transfer", "rdma", "KV transport between prefill and decode instances: nvlink, rdma, tcp")
	fs.StringVar(&f.kvOffload, "kv-offload", "", "KV-cache offload tiers per replica: cpu:SIZE[,disk:SIZE], e.g. cpu:500GB")
	fs.IntVar(&f.prefixes, "prefixes", 0, "distinct reusable prefixes of --prefix-len tokens that requests pick uniformly (multi-turn histories; default 1)")
}

func (f *techFlags) active() bool {
	return f.specMethod != "" || f.disagg != "" || f.kvOffload != "" || f.prefixes > 1
}

// techSide is one column of the comparison: the metrics a technique moves.
type techSide struct {
	NumGPUs           int      `json:"num_gpus"`
	TTFTMs            float64  `json:"ttft_ms_mean"`
	TPOTMs            float64  `json:"tpot_ms_mean"`
	E2EMs             float64  `json:"e2e_ms_mean"`
	OutputTokS        float64  `json:"output_tok_s"`
	OutputTokSPerGPU  float64  `json:"output_tok_s_per_gpu"`
	OutputTokSPerUser float64  `json:"output_tok_s_per_user"`
	MaxRequestRate    float64  `json:"max_request_rate"`
	KVCacheTokens     int      `json:"kv_cache_tokens"`
	WeightsBytes      float64  `json:"weights_bytes_per_gpu"`
	CostOut           *float64 `json:"cost_usd_per_1m_output_tokens"`
	Overloaded        bool     `json:"overloaded"`
}

// techniqueReport is the technique beside the baseline (the same deployment without it).
type techniqueReport struct {
	Technique string   `json:"technique"`
	Baseline  techSide `json:"baseline"`
	With      techSide `json:"with_technique"`
	Details   []string `json:"details"`
}

func sideOf(s *estimator.Serving, gpus int, kvTokens int, weights units.Bytes, price float64) techSide {
	t := techSide{NumGPUs: gpus, TTFTMs: s.TTFT.Mean, TPOTMs: s.TPOT.Mean, E2EMs: s.E2E.Mean, OutputTokS: s.OutputTokS,
		OutputTokSPerGPU: s.OutputTokS / float64(gpus), OutputTokSPerUser: s.OutputTokSPerUser, MaxRequestRate: s.MaxRequestRate,
		KVCacheTokens: kvTokens, WeightsBytes: float64(weights), Overloaded: s.Overloaded}
	if c, ok := estimator.CostOf(price*float64(gpus), s); ok {
		t.CostOut = &c.Per1MOutput
	}
	return t
}

// baselineSpec is the deployment the report describes: the flags' deployment, with the
// reuse pattern (--prefixes) but no technique.
func (f *techFlags) baselineSpec(d *estimator.Deployment) (*estimator.Deployment, error) {
	if f.prefixes > 1 {
		s := d.Spec
		s.Offload = &estimator.Offload{Prefixes: f.prefixes}
		return rebuild(s)
	}
	return d, nil
}

func rebuild(s estimator.Spec) (*estimator.Deployment, error) {
	d, err := estimator.New(s)
	return d, asUsage(err)
}

// technique evaluates the selected techniques on top of the baseline deployment and returns
// the comparison.
func (f *techFlags) technique(ctx context.Context, e *env, base *estimator.Deployment, bs estimator.Serving, w estimator.Workload, price float64) (*techniqueReport, error) {
	if f.prefixes < 0 {
		return nil, usageErr("--prefixes %d: must be ≥ 1", f.prefixes)
	}
	if f.prefixes > 1 && w.PrefixLen == 0 {
		return nil, usageErr("--prefixes %d needs --prefix-len (the tokens each reusable prefix holds)", f.prefixes)
	}
	s := base.Spec
	var names, details []string
	if f.specMethod == "" && (f.specTokens != 0 || f.specAcceptLen != 0 || f.specRates != nil || f.specDraft != "") {
		return nil, usageErr("--spec-tokens, --spec-accept-len, --spec-accept-rates and --spec-draft-model need --spec-method (%s)", strings.Join(estimator.SpecMethods, ", "))
	}
	if f.specMethod != "" {
		k := f.specTokens
		if k == 0 {
			k = 3
		}
		sp := &estimator.Speculation{Method: f.specMethod, Tokens: k, AcceptLen: f.specAcceptLen, AcceptRates: f.specRates}
		if f.specDraft != "" {
			m, err := loadModel(ctx, e, f.specDraft)
			if err != nil {
				return nil, err
			}
			sp.DraftModel = m
		}
		s.Speculation = sp
	}
	if f.kvOffload != "" {
		tiers, err := estimator.ParseOffload(f.kvOffload)
		if err != nil {
			return nil, usageErr("%v", err)
		}
		if tiers, err = base.ResolveTiers(tiers); err != nil {
			return nil, usageErr("%v", err)
		}
		s.Offload = &estimator.Offload{Tiers: tiers, Prefixes: max(f.prefixes, 1)}
		if w.PrefixLen == 0 {
			details = append(details, "no --prefix-len: nothing is reused, so offloading changes nothing")
		}
		for _, t := range tiers {
			details = append(details, fmt.Sprintf("%s tier %s per replica: %s per GPU, %s", t.Name, t.Capacity, units.BytesPerSecond(t.Bandwidth), t.Source))
		}
	}
	dt, err := rebuild(s)
	if err != nil {
		return nil, err
	}
	if dt.Speculation != nil {
		al, src := dt.SpecAcceptLen()
		names = append(names, fmt.Sprintf("speculative decoding (%s, K=%d, %.3g tokens per step)", dt.Speculation.Method, dt.Speculation.Tokens, al))
		details = append(details, "acceptance: "+src)
	}
	if dt.Offload != nil && len(dt.Offload.Tiers) > 0 {
		names = append(names, "KV-cache offload ("+f.kvOffload+")")
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
	r := &techniqueReport{}
	bmem := base.Memory()
	r.Baseline = sideOf(&bs, base.NumGPUs, bmem.KVCacheTokens*base.DP, bmem.WeightsBytes, price)
	if f.disagg == "" {
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
		details = append(details, warnStrings(dt.Warnings())...)
		details = append(details, ts.Warnings...)
	} else {
		x, err := f.disaggOf(s, base)
		if err != nil {
			return nil, err
		}
		ds, err := x.Serve(w)
		if err != nil {
			return nil, asUsage(err)
		}
		r.With = sideOf(&ds.Serving, ds.GPUs, x.Decode.Memory().KVCacheTokens*x.Decode.DP*x.DecodeReplicas, x.Decode.Memory().WeightsBytes, price)
		names = append(names, fmt.Sprintf("P/D disaggregation %dP%dD (prefill tp=%d ep=%d dp=%d, decode tp=%d ep=%d dp=%d)", x.PrefillReplicas, x.DecodeReplicas,
			x.Prefill.TP, x.Prefill.EP, x.Prefill.DP, x.Decode.TP, x.Decode.EP, x.Decode.DP))
		details = append(details,
			fmt.Sprintf("TTFT = prefill queue %s + prefill %s + KV transfer %s + first decode step(s) (ms)", units.Sig(ds.PrefillQueueMs), units.Sig(ds.PrefillMs), units.Sig(ds.KVTransferMs)),
			fmt.Sprintf("KV transfer: %s per request over %s (%s line rate, %s)", units.Bytes(ds.KVTransferBytes), x.Link.Transport, units.BytesPerSecond(x.Link.Bandwidth), x.Link.Source),
			fmt.Sprintf("prefill pool utilisation %.0f%%, decode batch %s per instance; the %s pool limits the rate", 100*ds.PrefillUtil, units.Sig(ds.DecodeBatch), ds.Bound))
		details = append(details, ds.Warnings...)
	}
	r.Technique = strings.Join(names, " + ")
	if r.Technique == "" {
		r.Technique = fmt.Sprintf("prefix reuse over %d prefixes (no offload tier)", f.prefixes)
	}
	r.Details = details
	if r.Details == nil {
		r.Details = []string{}
	}
	return r, nil
}

// disaggOf builds the xPyD fleet from the technique spec s (speculation applies to the
// decode pool) and the --disagg shape; pools default to the baseline's TP.
func (f *techFlags) disaggOf(s estimator.Spec, base *estimator.Deployment) (*estimator.Disagg, error) {
	shape, err := estimator.ParseDisagg(f.disagg, base.TP)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	pool := func(p estimator.PoolShape, spec *estimator.Speculation) (*estimator.Deployment, error) {
		ps := s
		ps.TP, ps.EP, ps.DP, ps.PP, ps.NumGPUs = p.TP, p.EP, p.DP, 1, 0
		ps.Speculation = spec
		ps.Topology = estimator.Topology{}
		d, err := estimator.New(ps)
		if err != nil {
			return nil, usageErr("--disagg %s: %v", f.disagg, err)
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
	link, err := estimator.DefaultKVLink(f.kvTransfer, pd, dd)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return &estimator.Disagg{Prefill: pd, Decode: dd, PrefillReplicas: shape.Prefill.Replicas, DecodeReplicas: shape.Decode.Replicas, Link: link}, nil
}

// writeTechniqueText renders the comparison as one table.
func writeTechniqueText(w io.Writer, t *techniqueReport, markdown bool) {
	if markdown {
		fmt.Fprintf(w, "\n## Technique beside the baseline\n\n%s\n\n| metric | baseline | with technique | change |\n|---|---|---|---|\n", t.Technique)
	} else {
		fmt.Fprintf(w, "\nTechnique beside the baseline (same deployment without it)\n  %s\n", t.Technique)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if !markdown {
		fmt.Fprintf(tw, "  metric\tbaseline\twith technique\tchange\n")
	}
	row := func(name string, a, b float64) {
		ch := "—"
		if a != 0 && !math.IsInf(a, 0) && !math.IsInf(b, 0) && !math.IsNaN(a) && !math.IsNaN(b) {
			ch = fmt.Sprintf("%+.1f%%", 100*(b-a)/a)
		}
		f := func(v float64) string {
			if math.IsInf(v, 1) {
				return "unbounded"
			}
			return units.Sig(v)
		}
		if markdown {
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", name, f(a), f(b), ch)
		} else {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", name, f(a), f(b), ch)
		}
	}
	a, b := t.Baseline, t.With
	row("GPUs", float64(a.NumGPUs), float64(b.NumGPUs))
	row("TTFT mean (ms)", a.TTFTMs, b.TTFTMs)
	row("TPOT mean (ms)", a.TPOTMs, b.TPOTMs)
	row("E2E mean (ms)", a.E2EMs, b.E2EMs)
	row("output throughput (tok/s)", a.OutputTokS, b.OutputTokS)
	row("output tok/s per GPU", a.OutputTokSPerGPU, b.OutputTokSPerGPU)
	row("per-user speed (tok/s)", a.OutputTokSPerUser, b.OutputTokSPerUser)
	row("max sustainable rate (req/s)", a.MaxRequestRate, b.MaxRequestRate)
	row("KV cache (tokens, all replicas)", float64(a.KVCacheTokens), float64(b.KVCacheTokens))
	row("weights per GPU (GB)", a.WeightsBytes/1e9, b.WeightsBytes/1e9)
	if a.CostOut != nil && b.CostOut != nil {
		row("cost per 1M output tokens (USD)", *a.CostOut, *b.CostOut)
	}
	tw.Flush()
	for _, d := range t.Details {
		if markdown {
			fmt.Fprintf(w, "\n- %s", d)
		} else {
			fmt.Fprintf(w, "  %s\n", d)
		}
	}
	if markdown && len(t.Details) > 0 {
		fmt.Fprintln(w)
	}
}
