package report

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"text/tabwriter"

	"roofline/estimator"
	"roofline/units"
)

// Sweep is the document of "roofline sweep" (its JSON, which Render reads back): the
// space's counts, the ranked configurations with their launch commands, the Pareto
// fronts without repeats and notes.
type Sweep struct {
	Kind        string                 `json:"kind"` // "sweep"
	Model       string                 `json:"model"`
	Workload    SweepWorkload          `json:"workload"`
	Objective   string                 `json:"objective"`
	Constraints []string               `json:"constraints"`
	Evaluated   int64                  `json:"evaluated"`
	Fits        int64                  `json:"fits"`
	Met         int64                  `json:"meet_constraints"`
	Invalid     int64                  `json:"invalid_splits_skipped"`
	Distinct    int64                  `json:"closed_form_runs"`
	Simulated   int64                  `json:"simulated_runs"`
	Fronts      []FrontInfo            `json:"pareto_fronts"`
	Configs     []estimator.SweepPoint `json:"configs"`
	Front       []estimator.SweepPoint `json:"front"`
	Notes       []string               `json:"notes"`
	Method      string                 `json:"method"`
}

// SweepWorkload is the workload of a sweep or plan: kind, lengths in tokens, burstiness
// (gamma shape, open loop) and requests per simulated run.
type SweepWorkload struct {
	Kind        string  `json:"workload"`
	InputLen    int     `json:"input_len"`
	OutputLen   int     `json:"output_len"`
	PrefixLen   int     `json:"prefix_len"`
	Burstiness  float64 `json:"burstiness,omitempty"`
	NumRequests int     `json:"num_requests,omitempty"`
}

// FrontInfo names a Pareto front, its axes (with the direction of each) and its size.
type FrontInfo struct {
	Name string `json:"name"`
	X    string `json:"x"`
	Y    string `json:"y"`
	Size int    `json:"size"`
}

// NewSweep assembles the document of an estimator sweep over sp: res's counts and ranked
// points, each with its launch commands (estimator.LaunchFor), the fronts without repeats
// (configurations that differ only in a knob that does not change the prediction sit on
// one spot; the best-ranked stands for them), and notes on GPUs without a price (price is
// the USD per GPU-hour given for all, 0: the catalogue's).
func NewSweep(sp estimator.SweepSpace, cons []estimator.Constraint, res estimator.SweepResult, objective string, price float64) Sweep {
	out := Sweep{Kind: "sweep", Model: sp.Model.ID, Objective: objective, Constraints: []string{},
		Evaluated: res.Evaluated, Fits: res.Fits, Met: res.Met, Invalid: res.InvalidSplits, Distinct: res.Distinct, Simulated: res.Simulated,
		Configs: []estimator.SweepPoint{}, Front: []estimator.SweepPoint{}, Notes: []string{},
		Method: "closed form (mean-field continuous batching); percentiles are closed-form approximations"}
	out.Workload = SweepWorkload{Kind: sp.Workload.Kind, InputLen: sp.Workload.InputLen, OutputLen: sp.Workload.OutputLen,
		PrefixLen: sp.Workload.PrefixLen, NumRequests: sp.Workload.NumRequests}
	if sp.Workload.Kind == estimator.Rate {
		out.Workload.Burstiness = sp.Workload.Burstiness
	}
	for _, c := range cons {
		out.Constraints = append(out.Constraints, c.String())
	}
	out.Fronts = []FrontInfo{
		{estimator.FrontThroughputInteractivity, "output_tok_s_per_gpu (maximised)", "output_tok_s_per_user (maximised)", res.FrontSizes[estimator.FrontThroughputInteractivity]},
		{estimator.FrontCostLatency, "cost_usd_per_1m_output_tokens (minimised)", "e2e_ms.median (minimised)", res.FrontSizes[estimator.FrontCostLatency]},
	}
	for _, p := range res.Points {
		l := estimator.LaunchFor(sp.Model, p.SweepConfig, sp.Workload)
		p.Launch = &l
		out.Configs = append(out.Configs, p)
	}
	// The front without repeats: configurations that differ only in a knob that does not
	// change the prediction sit on the same spot; the best-ranked one stands for them.
	spot := map[[3]float64]bool{}
	for _, p := range res.Front {
		cost := math.NaN()
		if p.CostPer1MOutput != nil {
			cost = *p.CostPer1MOutput
		}
		k := [3]float64{p.OutputTokSPerGPU, float64(p.OutputTokSPerUser), cost*1e6 + p.E2E.Median}
		if !spot[k] {
			spot[k] = true
			out.Front = append(out.Front, p)
		}
	}
	if sp.EnforceEager {
		out.Notes = append(out.Notes, eagerNote)
	}
	out.Notes = append(out.Notes, res.Skipped...)
	adp := false // the space holds an attention DP + EP split (ep > tp, dp > 1)
	for _, n := range sp.NumGPUs {
		for _, s := range estimator.Splits(sp.Model, n, sp.MaxTP) {
			adp = adp || s.EP > s.TP && s.DP > 1
		}
	}
	for _, pr := range sp.Profiles {
		for _, g := range sp.GPUs {
			if err := estimator.ReleaseGPUWarning(pr, g); err != nil {
				out.Notes = append(out.Notes, err.Error())
			}
		}
		if n := estimator.AttentionDPNote(pr); adp && n != "" {
			out.Notes = append(out.Notes, n)
		}
		if n := estimator.LayoutNote(pr, sp.Model); adp && n != "" {
			out.Notes = append(out.Notes, n)
		}
		if err := estimator.ReleaseModelWarning(pr, sp.Model); err != nil {
			out.Notes = append(out.Notes, err.Error())
		}
	}
	var noPrice []string
	for _, g := range sp.GPUs {
		if g.PriceUSDPerHour == 0 && price == 0 {
			noPrice = append(noPrice, g.ID)
		}
	}
	if len(noPrice) > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("no price in the catalogue for %s: their configurations have no cost (give --price-per-gpu-hour)", strings.Join(noPrice, ", ")))
	}
	if objective == estimator.ObjectiveCost && len(noPrice) > 0 {
		out.Notes = append(out.Notes, "objective cost: configurations without a price rank last")
	}
	switch {
	case res.Fits == 0 && res.Evaluated > 0:
		out.Notes = append(out.Notes, notFitNote(sp))
	case res.Met == 0:
		out.Notes = append(out.Notes, "no configuration meets every constraint: relax a constraint or widen the space")
	}
	if res.Overloaded > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("%d of %d distinct configurations are overloaded (request rate above the sustainable max_request_rate: queues grow without bound; tok/s is the deployment's ceiling, not what the load gets): they rank after every sustainable one, are on no Pareto front and are marked overloaded", res.Overloaded, res.DistinctMet))
	}
	return out
}

// WriteSweepTable prints the ranked configurations (tok/s per GPU and per user, TTFT p95
// and ITL p99 in ms, E2E median in s, USD per 1M output tokens, fronts, or "overloaded"
// for a point whose request rate exceeds the sustainable rate), the fronts' sizes and the
// notes.
func WriteSweepTable(w io.Writer, o Sweep) {
	fmt.Fprintf(w, "roofline sweep: %s, %s workload, input %d / output %d tokens\n", o.Model, o.Workload.Kind, o.Workload.InputLen, o.Workload.OutputLen)
	cons := "none"
	if len(o.Constraints) > 0 {
		cons = strings.Join(o.Constraints, ", ")
	}
	fmt.Fprintf(w, "evaluated %d configurations (%d fit in memory, %d meet the constraints; %d closed-form runs, the rest memoized; %d simulated: outside the closed form's region of validity or --simulate)\n", o.Evaluated, o.Fits, o.Met, o.Distinct, o.Simulated)
	fmt.Fprintf(w, "constraints: %s; ranked by %s; showing %d\n\n", cons, o.Objective, len(o.Configs))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rank\tGPU\tGPUs\ttp/pp/dp/ep\tengine\tweights/KV\tmax seqs\tmax tokens\tload\ttok/s/GPU\ttok/s/user\tTTFT p95 ms\tITL p99 ms\tE2E median s\t$/1M out\tfront\t")
	for _, c := range o.Configs {
		p := c
		load := fmt.Sprintf("c=%d", p.Concurrency)
		if p.RequestRate > 0 {
			load = fmt.Sprintf("%s req/s", units.Sig(p.RequestRate))
		}
		cost := "-"
		if p.CostPer1MOutput != nil {
			cost = units.Sig(*p.CostPer1MOutput)
		}
		front := ""
		for _, fr := range p.ParetoFronts {
			front += map[string]string{estimator.FrontThroughputInteractivity: "T", estimator.FrontCostLatency: "C"}[fr]
		}
		if p.Overloaded {
			front = "overloaded" // never on a front (estimator.MarkFronts)
		}
		perUser := perUserText(p.OutputTokSPerUser)
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d/%d/%d/%d\t%s\t%s/%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", p.Rank, p.GPU, p.NumGPUs, p.TP, p.PP, p.DP, p.EP,
			p.Engine, p.WeightDtype, p.KVDtype, p.MaxNumSeqs, p.MaxNumBatchedTokens, load, units.Sig(p.OutputTokSPerGPU), perUser,
			ms(p.TTFT.P95), ms(p.ITL.P99), ms(p.E2E.Median/1e3), cost, front)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nPareto fronts (over all %d configurations meeting the constraints): ", o.Met)
	for i, f := range o.Fronts {
		if i > 0 {
			fmt.Fprint(w, "; ")
		}
		fmt.Fprintf(w, "%s %d points (%s vs %s)", map[string]string{estimator.FrontThroughputInteractivity: "T", estimator.FrontCostLatency: "C"}[f.Name]+" = "+f.Name, f.Size, f.X, f.Y)
	}
	fmt.Fprintln(w)
	for _, n := range o.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintln(w, "launch commands: --output json (configs[].launch) or --emit-script FILE")
}

// perUserText prints a per-user speed (tok/s) with 3 significant figures, or "-" when it is
// not predicted (NaN: output/(E2E − TTFT) of two unbounded times in an overloaded queue).
func perUserText(v estimator.NullFloat) string {
	if !v.Known() {
		return "-"
	}
	return units.Sig(float64(v))
}

// ms prints a latency with 3 significant figures, or "unbounded".
func ms(v float64) string {
	if math.IsInf(v, 1) {
		return "unbounded"
	}
	return units.Sig(v)
}

// eagerNote is the note of a sweep or plan with CUDA graphs off.
const eagerNote = "CUDA graphs off (--enforce-eager): every step pays the engine profile's per-layer host dispatch (eager_decode_layer_us, eager_prefill_layer_us)"

// WriteSweepScript writes a bash script that, for each configuration of o, starts the
// server of its engine, waits for it, runs the matching roofline bench and stops it.
func WriteSweepScript(b *strings.Builder, o Sweep) {
	b.WriteString("#!/usr/bin/env bash\n")
	fmt.Fprintf(b, "# Generated by roofline sweep: the %d best configurations of %s (objective %s).\n", len(o.Configs), o.Model, o.Objective)
	b.WriteString("# Each run starts the server, waits until it answers, benchmarks it and stops it.\n")
	b.WriteString("# Results go to sweep-results/RANK.jsonl (one JSON line per request; roofline bench --summarize FILE),\n")
	b.WriteString("# server logs to sweep-results/RANK.server.log. A configuration that fails is reported and skipped;\n")
	b.WriteString("# the script goes on with the next and exits 1 when any failed.\n")
	b.WriteString("set -uo pipefail\nmkdir -p sweep-results\nfailed=0\n\n")
	b.WriteString("# wait_ready PID: until the server answers; fails at once when its process exits, or after 20 min.\n")
	b.WriteString("wait_ready() {\n\tfor _ in $(seq 1 600); do\n\t\tkill -0 \"$1\" 2>/dev/null || { echo \"server exited before it was ready\" >&2; return 1; }\n" +
		"\t\tcurl -sf http://localhost:" + fmt.Sprint(estimator.LaunchPort) + "/v1/models >/dev/null && return 0\n\t\tsleep 2\n\tdone\n\techo \"server did not answer within 20 min\" >&2\n\treturn 1\n}\n\n")
	b.WriteString("# stop PID: stop the server and wait for it to exit.\nstop() {\n\tkill \"$1\" 2>/dev/null\n\twait \"$1\" 2>/dev/null\n\treturn 0\n}\n\n")
	for _, c := range o.Configs {
		p := c
		l := p.Launch
		// The command of the engine the configuration was predicted for (its family: vllm
		// for vllm-v0 or a calibrated vllm profile); vLLM's, said so, for an engine the
		// estimator writes no command for (tgi, lmdeploy, default, ideal).
		fam, cmd, noCmd := p.Family(), l.VLLM, ""
		switch {
		case fam == "sglang" && l.SGLang != "":
			cmd = l.SGLang
		case fam == "sglang":
			fam = "vllm" // no SGLang command for this configuration (see the note)
		case fam == "trtllm":
			cmd = l.TRTLLM
		case fam != "vllm":
			noCmd = fmt.Sprintf("# no launch command for engine %s (profile %s): vLLM's below serves the same configuration\n", fam, p.Engine)
			fam = "vllm"
		}
		fmt.Fprintf(b, "# rank %d: %d× %s tp=%d pp=%d dp=%d ep=%d, %s, predicted %s output tok/s per GPU, %s tok/s per user\n",
			p.Rank, p.NumGPUs, p.GPU, p.TP, p.PP, p.DP, p.EP, p.Engine, units.Sig(p.OutputTokSPerGPU), perUserText(p.OutputTokSPerUser))
		b.WriteString(noCmd)
		for _, n := range l.Notes {
			// Notes about another engine's command ("trtllm: …") do not concern this one.
			if e, _, ok := strings.Cut(n, ": "); ok && (e == "vllm" || e == "sglang" || e == "trtllm") && e != fam && e != p.Family() {
				continue
			}
			fmt.Fprintf(b, "# note: %s\n", n)
		}
		fmt.Fprintf(b, "%s >sweep-results/%d.server.log 2>&1 &\nserver=$!\nif wait_ready $server; then\n"+
			"\t%s --record sweep-results/%d.jsonl || { echo \"rank %d: bench failed\" >&2; failed=$((failed + 1)); }\n"+
			"else\n\techo \"rank %d: skipped, the server did not start (sweep-results/%d.server.log)\" >&2\n\tfailed=$((failed + 1))\nfi\nstop $server\n\n",
			cmd, p.Rank, l.Bench, p.Rank, p.Rank, p.Rank, p.Rank)
	}
	b.WriteString("if [ \"$failed\" -gt 0 ]; then\n\techo \"$failed configuration(s) failed\" >&2\n\texit 1\nfi\n")
}

// DisaggSweep is the document of "roofline sweep --disagg": colocated and xPyD splits of
// each fleet size ranked by goodput per GPU (estimator.SweepDisagg).
type DisaggSweep struct {
	Kind        string        `json:"kind"` // "sweep-disagg"
	Model       string        `json:"model"`
	GPU         string        `json:"gpu"`
	Workload    SweepWorkload `json:"workload"`
	Constraints []string      `json:"constraints"`
	estimator.DisaggSweepResult
	Method string `json:"method"`
}

// NewDisaggSweep assembles the document of a disaggregation sweep of model on gpu at the
// open-loop workload w under cons.
func NewDisaggSweep(model, gpu string, w estimator.Workload, cons []estimator.Constraint, res estimator.DisaggSweepResult) DisaggSweep {
	out := DisaggSweep{Kind: "sweep-disagg", Model: model, GPU: gpu, Constraints: []string{}, DisaggSweepResult: res,
		Method: "closed form: highest open-loop rate whose mean TTFT and TPOT meet the constraints (prefill queue, KV transfer and decode pool modelled separately)"}
	out.Workload = SweepWorkload{Kind: estimator.Rate, InputLen: w.InputLen, OutputLen: w.OutputLen, PrefixLen: w.PrefixLen, Burstiness: w.Burstiness}
	for _, c := range cons {
		out.Constraints = append(out.Constraints, c.String())
	}
	return out
}

// WriteDisaggSweepTable prints the top candidates of o (all when top ≤ 0): goodput in req/s
// and output tok/s per GPU, TTFT and TPOT means and the KV transfer in ms; then the best
// disaggregated split beside the best colocated one.
func WriteDisaggSweepTable(w io.Writer, o DisaggSweep, top int) {
	res := o.DisaggSweepResult
	fmt.Fprintf(w, "sweep --disagg: %s on %s, input %d / output %d tokens, Poisson arrivals; SLOs %s\n", o.Model, o.GPU, o.Workload.InputLen, o.Workload.OutputLen, strings.Join(o.Constraints, ", "))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "rank\tconfig\tGPUs\tgoodput (req/s)\tgoodput per GPU (output tok/s)\tTTFT mean (ms)\tTPOT mean (ms)\tKV transfer (ms)")
	n := len(res.Candidates)
	if top > 0 && n > top {
		n = top
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
		fmt.Fprintln(w, "no configuration meets the constraints")
	case res.BestColocated == nil:
		fmt.Fprintf(w, "best: %s; no colocated configuration meets the constraints\n", res.BestDisagg.Label)
	case res.BestDisagg == nil:
		fmt.Fprintf(w, "best: %s; no disaggregated configuration meets the constraints\n", res.BestColocated.Label)
	default:
		fmt.Fprintf(w, "best disaggregated %s: %s output tok/s per GPU = %.2f× the best colocated %s (%s)\n",
			res.BestDisagg.Label, units.Sig(res.BestDisagg.GoodputTokSPerGPU), res.GainOverColoc, res.BestColocated.Label, units.Sig(res.BestColocated.GoodputTokSPerGPU))
	}
	fmt.Fprintf(w, "KV transfer: %s\n", res.TransportNotes)
}

// WriteSweepScriptFile writes WriteSweepScript's script to the file path, executable (0755).
func WriteSweepScriptFile(path string, o Sweep) error {
	var b strings.Builder
	WriteSweepScript(&b, o)
	return os.WriteFile(path, []byte(b.String()), 0o755)
}

// notFitNote says, for a space none of whose configurations fits in memory, the fewest GPUs
// of each type on which the model fits (estimator.MinSplit, with the space's first profile
// and dtypes); a sweep of DeepSeek-R1 on 3 H200 printed an empty table saying only that no
// configuration met the constraints, where there were none.
func notFitNote(sp estimator.SweepSpace) string {
	var parts []string
	for _, g := range sp.GPUs {
		s := estimator.Spec{Model: sp.Model, GPU: g, MemoryFraction: sp.MemoryFraction, MaxModelLen: sp.MaxModelLen}
		if len(sp.Profiles) > 0 {
			s.Profile = sp.Profiles[0]
		}
		if len(sp.WeightDtypes) > 0 {
			s.WeightDtype = sp.WeightDtypes[0]
		}
		if len(sp.KVDtypes) > 0 {
			s.KVDtype = sp.KVDtypes[0]
		}
		if tp, pp, err := estimator.MinSplit(s); err == nil {
			parts = append(parts, fmt.Sprintf("%s from %d GPUs (tp=%d pp=%d)", g.ID, tp*pp, tp, pp))
		} else {
			parts = append(parts, g.ID+" on none up to 128")
		}
	}
	return fmt.Sprintf("no configuration fits in memory (weights and the KV cache of one max_model_len sequence): %s fits on %s; widen --num-gpus or lower --max-model-len", sp.Model.ID, strings.Join(parts, ", "))
}
