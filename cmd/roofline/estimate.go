package main

import (
	"context"
	"strings"

	"github.com/spf13/pflag"

	"roofline/estimator"
	"roofline/hardware"
	"roofline/internal/flagvalue"
	"roofline/report"
)

// workloadFlags are the client-side flags shared by estimate, validate and sweep.
type workloadFlags struct {
	inputLen, outputLen, prefixLen int
	concurrency, batchSize         int
	numRequests                    int
	rate, burstiness               float64
	rangeRatio                     float64
	inputDist, outputDist          string
}

func (f *workloadFlags) register(fs *pflag.FlagSet) {
	fs.IntVar(&f.inputLen, "input-len", 0, "prompt tokens per request (required)")
	fs.IntVar(&f.outputLen, "output-len", 0, "output tokens per request (required)")
	fs.IntVar(&f.prefixLen, "prefix-len", 0, "leading prompt tokens shared by all requests and served from the prefix cache")
	fs.IntVar(&f.concurrency, "concurrency", 0, "closed loop: requests kept in flight")
	flagvalue.Float(fs, &f.rate, "request-rate", 0, flagvalue.Positive, "open loop: Poisson arrivals, requests/s for the whole deployment")
	flagvalue.Float(fs, &f.burstiness, "burstiness", 1, flagvalue.Positive, "gamma shape of inter-arrival gaps (1 = Poisson, <1 burstier)")
	fs.IntVar(&f.batchSize, "batch-size", 0, "static batch: requests that start together and run to completion")
	fs.IntVar(&f.numRequests, "num-requests", 0, "requests (offline run when given alone; simulated requests otherwise)")
	flagvalue.Float(fs, &f.rangeRatio, "random-range-ratio", 0, flagvalue.HalfOpen01, "draw lengths uniformly in [⌊L·(1−r)⌋, ⌈L·(1+r)⌉] as vllm bench serve does")
	fs.StringVar(&f.inputDist, "input-dist", "", "draw prompt lengths: uniform:MIN:MAX, normal:MEAN:STD or hist:FILE.csv (rows: tokens,weight); the closed form uses the mean")
	fs.StringVar(&f.outputDist, "output-dist", "", "draw output lengths, as --input-dist")
	boundedIfGiven(fs, "concurrency", estimator.MaxClients)
	boundedIfGiven(fs, "batch-size", estimator.MaxSimRequests)
}

func (f *workloadFlags) workload() (estimator.Workload, error) {
	w := estimator.Workload{InputLen: f.inputLen, OutputLen: f.outputLen, PrefixLen: f.prefixLen,
		Concurrency: f.concurrency, RequestRate: f.rate, Burstiness: f.burstiness, BatchSize: f.batchSize, NumRequests: f.numRequests}
	if err := w.InferKind(); err != nil {
		return w, usageErr("%v", err)
	}
	if err := w.SetLengthDists(f.rangeRatio, f.inputDist, f.outputDist); err != nil {
		return w, usageErr("%v", err)
	}
	if err := w.Validate(); err != nil {
		return w, asUsage(err)
	}
	return w, nil
}

func runEstimate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "estimate", "estimate --model M --gpu G [--num-gpus N --tp --pp --dp --ep] [--weight-dtype --kv-dtype] [--engine E | --profile P] --input-len I --output-len O [--prefix-len P] [--concurrency C | --request-rate R | --batch-size B] [--simulate] [--price-per-gpu-hour X | --price-offering on-demand|reserved|spot|purchase] [--power-usd-per-kwh X] [--output table|json|csv|markdown]")
	var df deployFlags
	var wf workloadFlags
	var tf techFlags
	df.register(fs, true)
	wf.register(fs)
	tf.register(fs)
	explain := fs.Bool("explain", false, "split mean TTFT into queueing, prefill-budget wait, prefill compute, decode interference, start-up burst and fixed per-request cost")
	simulate := fs.Bool("simulate", false, "always run the discrete-event simulation (default: the closed form inside its region of validity, the simulation outside it; method_reason says which)")
	seed := fs.Uint64("seed", 1, "simulation seed")
	price := flagvalue.NewFloat(fs, "price-per-gpu-hour", 0, flagvalue.NonNegative, "USD per GPU-hour (default: the catalogue's price for --price-offering)")
	offering := fs.String("price-offering", "on-demand", "which public price to cost with: "+strings.Join(hardware.Offerings, ", ")+" (purchase: list price amortised over 5 years)")
	kwhDefault, kwhSource := hardware.PowerPrice()
	kwh := flagvalue.NewFloat(fs, "power-usd-per-kwh", kwhDefault, flagvalue.NonNegative, "electricity price for the power cost shown beside the rental cost, USD per kWh (default: "+kwhSource+")")
	out := outputFlag(fs, "table", "json", "csv", "markdown")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *price < 0 {
		return usageErr("--price-per-gpu-hour %g: must be ≥ 0", *price)
	}
	if fs.Changed("kv-transfer") && tf.disagg == "" {
		return usageErr("--kv-transfer %s: the KV transport between the prefill and decode instances of --disagg xPyD; without --disagg there is none", tf.kvTransfer)
	}
	w, err := wf.workload()
	if err != nil {
		return err
	}
	d, pv, err := df.build(ctx, e)
	if err != nil {
		return err
	}
	if tf.active() {
		if *out == "csv" {
			// The CSV row is the baseline only: with a technique its columns read as the
			// technique's figures, and the technique's effect was nowhere in it.
			return usageErr("--output csv: one row of the baseline deployment, without the technique's effect; with --spec-method, --disagg, --kv-offload or --prefixes use table, markdown or json, which show both")
		}
		if *simulate {
			return usageErr("--simulate: speculative decoding, --disagg, --kv-offload and --prefixes are modelled in the closed form only")
		}
		if d, err = d.WithPrefixes(tf.prefixes); err != nil {
			return asUsage(err)
		}
	}
	pr, err := report.ChoosePrice(d.GPU, *price, *offering)
	if err != nil {
		return usageErr("%v", err)
	}
	pr.USDPerKWh, pr.KWhSource = *kwh, kwhSource
	if fs.Changed("power-usd-per-kwh") {
		pr.KWhSource = "--power-usd-per-kwh"
	}
	r, err := report.NewEstimate(d, pv, w, *simulate, *seed, pr)
	if err != nil {
		return err
	}
	if *explain {
		r.ExplainTTFT(d, w)
	}
	if tf.active() || tf.specTokens != 0 || tf.specAcceptLen != 0 || tf.specRates != nil || tf.specDraft != "" {
		p := pr.USDPerGPUHour
		if r.Technique, err = tf.technique(ctx, e, d, r.Serving, w, p); err != nil {
			return err
		}
	}
	switch *out {
	case "json":
		return writeJSON(e.stdout, r)
	case "csv":
		return report.WriteEstimateCSV(e.stdout, r)
	case "markdown":
		report.WriteEstimateText(e.stdout, r, true)
	default:
		report.WriteEstimateText(e.stdout, r, false)
	}
	return nil
}
