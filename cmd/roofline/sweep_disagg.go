package main

import (
	"context"
	"io"
	"strings"

	"roofline/estimator"
	"roofline/hardware"
	"roofline/report"
)

// sweepDisagg searches colocated and xPyD splits of each fleet size for goodput per GPU.
func sweepDisagg(ctx context.Context, e *env, f *sweepFlags) error {
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
	cons, err := estimator.ParseConstraints(f.constraints)
	if err != nil {
		return usageErr("--constraint: %v", err)
	}
	m, err := loadModel(ctx, e, f.model)
	if err != nil {
		return err
	}
	g, err := lookupGPU(f.gpuFiles, f.gpus, "--gpu")
	if err != nil {
		return err
	}
	if len(f.engines) != 1 || len(f.weightDtypes) > 1 || len(f.kvDtypes) > 1 {
		return usageErr("sweep --disagg takes one --engine, --weight-dtype and --kv-dtype")
	}
	prof, _, err := resolveProfile("engine", f.engines[0], f.profile)
	if err != nil {
		return err
	}
	tmpl := estimator.Spec{Model: m, GPU: g, Profile: prof, MemoryFraction: f.memFrac, MaxModelLen: f.maxModelLen, EnforceEager: f.enforceEager}
	if f.enforceEager {
		if err := estimator.CheckEnforceEager(prof); err != nil {
			return usageErr("%v", err)
		}
	}
	if len(f.weightDtypes) == 1 {
		tmpl.WeightDtype = f.weightDtypes[0]
	}
	if len(f.kvDtypes) == 1 {
		tmpl.KVDtype = f.kvDtypes[0]
	}
	// The engine cannot run on the GPU or dtype at all (--engine trtllm on AMD): say so, not
	// "the model fits no instance".
	if err := planRunsOnNone(tmpl, []*hardware.GPU{g}, []string{tmpl.WeightDtype}, []string{tmpl.KVDtype}); err != nil {
		return err
	}
	w := estimator.Workload{Kind: estimator.Rate, RequestRate: 1, InputLen: f.inputLen, OutputLen: f.outputLen, PrefixLen: f.prefixLen, Burstiness: f.burstiness}
	if err := w.Validate(); err != nil {
		return asUsage(err)
	}
	res, err := estimator.SweepDisagg(ctx, tmpl, f.numGPUs, f.maxTP, w, cons, f.kvTransfer)
	if err != nil {
		return asUsage(err)
	}
	out := report.NewDisaggSweep(m.ID, g.ID, w, cons, res)
	return render(e.stdout, f.output, out, func(w io.Writer) { report.WriteDisaggSweepTable(w, out, f.top) })
}
