package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"roofline/estimator"
	"roofline/units"
)

// disaggSweepOutput is the JSON document of sweep --disagg.
type disaggSweepOutput struct {
	Kind        string        `json:"kind"` // "sweep-disagg"
	Model       string        `json:"model"`
	GPU         string        `json:"gpu"`
	Workload    sweepWorkload `json:"workload"`
	Constraints []string      `json:"constraints"`
	estimator.DisaggSweepResult
	Method string `json:"method"`
}

// sweepDisagg searches colocated and xPyD splits of each fleet size for goodput per GPU.
func sweepDisagg(ctx context.Context, e *env, f *sweepFlags) error {
	if err := checkOutput(f.output, "table", "json"); err != nil {
		return err
	}
	if f.model == "" || f.gpus == "" {
		return usageErr("sweep --disagg needs --model and --gpu")
	}
	if strings.Contains(f.gpus, ",") || strings.EqualFold(f.gpus, "all") {
		return usageErr("sweep --disagg: give one GPU (--gpu G), got %q", f.gpus)
	}
	if f.inputLen < 1 || f.outputLen < 1 {
		return usageErr("--input-len and --output-len are required (tokens ≥ 1)")
	}
	if f.concurrency != "" || f.rate != "" {
		return usageErr("sweep --disagg searches the request rate itself (goodput under the constraints): drop --concurrency/--request-rate")
	}
	if f.maxTP < 1 {
		return usageErr("--max-tp %d: must be ≥ 1", f.maxTP)
	}
	var cons []estimator.Constraint
	for _, s := range f.constraints {
		c, err := estimator.ParseConstraint(s)
		if err != nil {
			return usageErr("--constraint: %v", err)
		}
		cons = append(cons, c)
	}
	m, err := loadModel(ctx, e, f.model)
	if err != nil {
		return err
	}
	cat, err := gpuCatalogue(f.gpuFiles)
	if err != nil {
		return err
	}
	g, err := cat.Lookup(f.gpus)
	if err != nil {
		return usageErr("--gpu: %v", err)
	}
	if len(f.engines) != 1 || len(f.weightDtypes) > 1 || len(f.kvDtypes) > 1 {
		return usageErr("sweep --disagg takes one --engine, --weight-dtype and --kv-dtype")
	}
	prof, _, err := resolveProfile("engine", f.engines[0], "")
	if err != nil {
		return err
	}
	tmpl := estimator.Spec{Model: m, GPU: g, Profile: prof, MemoryFraction: f.memFrac, MaxModelLen: f.maxModelLen}
	if len(f.weightDtypes) == 1 {
		tmpl.WeightDtype = f.weightDtypes[0]
	}
	if len(f.kvDtypes) == 1 {
		tmpl.KVDtype = f.kvDtypes[0]
	}
	w := estimator.Workload{Kind: estimator.Rate, RequestRate: 1, InputLen: f.inputLen, OutputLen: f.outputLen, PrefixLen: f.prefixLen, Burstiness: f.burstiness}
	if err := w.Validate(); err != nil {
		return asUsage(err)
	}
	res, err := estimator.SweepDisagg(ctx, tmpl, f.numGPUs, f.maxTP, w, cons, f.kvTransfer)
	if err != nil {
		return asUsage(err)
	}
	out := disaggSweepOutput{Kind: "sweep-disagg", Model: m.ID, GPU: g.ID, Constraints: []string{}, DisaggSweepResult: res,
		Method: "closed form: highest open-loop rate whose mean TTFT and TPOT meet the constraints (prefill queue, KV transfer and decode pool modelled separately)"}
	out.Workload = sweepWorkload{Kind: estimator.Rate, InputLen: f.inputLen, OutputLen: f.outputLen, PrefixLen: f.prefixLen, Burstiness: w.Burstiness}
	for _, c := range cons {
		out.Constraints = append(out.Constraints, c.String())
	}
	if f.output == "json" {
		return writeJSON(e.stdout, out)
	}
	fmt.Fprintf(e.stdout, "sweep --disagg: %s on %s, input %d / output %d tokens, Poisson arrivals; SLOs %s\n", m.ID, g.ID, f.inputLen, f.outputLen, strings.Join(out.Constraints, ", "))
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "rank\tconfig\tGPUs\tgoodput (req/s)\tgoodput per GPU (output tok/s)\tTTFT mean (ms)\tTPOT mean (ms)\tKV transfer (ms)")
	n := len(res.Candidates)
	if f.top > 0 && n > f.top {
		n = f.top
	}
	for i, c := range res.Candidates[:n] {
		xfer := "—"
		if !c.Colocated {
			xfer = units.Sig(c.KVTransferMs)
		}
		if c.GoodputReqS <= 0 {
			fmt.Fprintf(tw, "%d\t%s\t%d\tnone meets the SLOs\t\t\t\t%s\n", i+1, c.Label, c.GPUs, xfer)
			continue
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", i+1, c.Label, c.GPUs, units.Sig(c.GoodputReqS), units.Sig(c.GoodputTokSPerGPU), units.Sig(c.TTFTMs), units.Sig(c.TPOTMs), xfer)
	}
	tw.Flush()
	switch {
	case res.BestColocated == nil && res.BestDisagg == nil:
		fmt.Fprintln(e.stdout, "no configuration meets the constraints")
	case res.BestColocated == nil:
		fmt.Fprintf(e.stdout, "best: %s; no colocated configuration meets the constraints\n", res.BestDisagg.Label)
	case res.BestDisagg == nil:
		fmt.Fprintf(e.stdout, "best: %s; no disaggregated configuration meets the constraints\n", res.BestColocated.Label)
	default:
		fmt.Fprintf(e.stdout, "best disaggregated %s: %s output tok/s per GPU = %.2f× the best colocated %s (%s)\n",
			res.BestDisagg.Label, units.Sig(res.BestDisagg.GoodputTokSPerGPU), res.GainOverColoc, res.BestColocated.Label, units.Sig(res.BestColocated.GoodputTokSPerGPU))
	}
	fmt.Fprintf(e.stdout, "KV transfer: %s\n", res.TransportNotes)
	return nil
}
