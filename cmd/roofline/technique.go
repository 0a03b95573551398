package main

import (
	"context"
	"strings"

	"github.com/spf13/pflag"

	"roofline/estimator"
	"roofline/internal/flagvalue"
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
	flagvalue.Float(fs, &f.specAcceptLen, "spec-accept-len", 0, flagvalue.NonNegative, "mean tokens per step including the bonus token, in [1, K+1] (default: the method's sourced α)")
	fs.Float64SliceVar(&f.specRates, "spec-accept-rates", nil, "per-position acceptance rates r1,r2,… (instead of --spec-accept-len)")
	fs.StringVar(&f.specDraft, "spec-draft-model", "", "draft model of --spec-method draft (Hugging Face id or config.json)")
	fs.StringVar(&f.disagg, "disagg", "", "prefill/decode disaggregation xPyD[:prefill tp=,ep=,dp=[:decode tp=,ep=,dp=]], e.g. 1P2D:tp=8:tp=4,dp=2")
	flagvalue.Choice(fs, &f.kvTransfer, "kv-transfer", "", estimator.TransportRDMA, "KV transport between prefill and decode instances: nvlink, rdma, tcp",
		estimator.TransportNVLink, estimator.TransportRDMA, estimator.TransportTCP)
	fs.StringVar(&f.kvOffload, "kv-offload", "", "KV-cache offload tiers per replica: cpu:SIZE[,disk:SIZE], e.g. cpu:500GB")
	fs.IntVar(&f.prefixes, "prefixes", 0, "distinct reusable prefixes of --prefix-len tokens that requests pick uniformly (multi-turn histories; default 1)")
	positiveIfGiven(fs, "spec-tokens", "prefixes")
}

func (f *techFlags) active() bool {
	return f.specMethod != "" || f.disagg != "" || f.kvOffload != "" || f.prefixes > 1
}

// technique evaluates the selected techniques on top of the baseline deployment and returns
// the comparison (estimator.CompareTechnique).
func (f *techFlags) technique(ctx context.Context, e *env, base *estimator.Deployment, bs estimator.Serving, w estimator.Workload, price float64) (*estimator.TechniqueComparison, error) {
	if f.prefixes < 0 {
		return nil, usageErr("--prefixes %d: must be ≥ 1", f.prefixes)
	}
	if f.prefixes > 1 && w.PrefixLen == 0 {
		return nil, usageErr("--prefixes %d needs --prefix-len (the tokens each reusable prefix holds)", f.prefixes)
	}
	t := estimator.Technique{KVOffload: f.kvOffload, Prefixes: f.prefixes, Disagg: f.disagg, KVTransfer: f.kvTransfer}
	var err error
	if t.Speculation, err = estimator.NewSpeculation(f.specMethod, f.specTokens, f.specAcceptLen, f.specRates, f.specDraft != ""); err != nil {
		return nil, usageErr("%v", err)
	}
	if f.specDraft != "" && t.Speculation != nil {
		if t.Speculation.DraftModel, err = loadModel(ctx, e, f.specDraft); err != nil {
			return nil, err
		}
	}
	r, err := estimator.CompareTechnique(base, bs, w, t, price)
	return r, asUsage(err)
}
