package report

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"roofline/estimator"
	"roofline/hardware"
	"roofline/units"
)

// Plan is the document of "roofline plan": per GPU the cheapest fleet meeting the load
// and SLOs (estimator.Planner), the cheapest over all GPUs, notes and the method.
type Plan struct {
	Kind        string        `json:"kind"` // "plan"
	Model       string        `json:"model"`
	Workload    SweepWorkload `json:"workload"`
	TargetRate  float64       `json:"target_request_rate,omitempty"`
	TargetUsers int           `json:"target_users,omitempty"`
	Constraints []string      `json:"constraints"`
	// Engine is the engine profile's name (e.g. "vllm", "vllm-v0", a calibrated file's
	// name), EngineRelease the framework and release range it predicts (Profile.Label, e.g.
	// "vllm@0.7.3 (profile vllm-v0, versions >=0.6, <0.8)"), as in estimate's server_config;
	// EngineSource says where the profile came from (embedded, or a --profile file).
	Engine        string              `json:"engine"`
	EngineRelease string              `json:"engine_release"`
	EngineSource  string              `json:"engine_source,omitempty"`
	Cheapest      *estimator.Fleet    `json:"cheapest"`
	PerGPU        []estimator.GPUPlan `json:"per_gpu"`
	Notes         []string            `json:"notes"`
	Method        string              `json:"method"`
}

// NewPlan runs the planner on every GPU of list and assembles the document: targetRate
// (req/s, open loop) or targetUsers (closed loop) is the load as given; the cheapest fleet is
// the one with the lowest USD per hour among those with a price. Errors are the planner's.
func NewPlan(pl estimator.Planner, list []*hardware.GPU, targetRate float64, targetUsers int) (Plan, error) {
	po := Plan{Kind: "plan", Model: pl.Model.ID, TargetRate: targetRate, TargetUsers: targetUsers, Constraints: []string{}, Notes: []string{},
		Workload: SweepWorkload{Kind: pl.Workload.Kind, InputLen: pl.Workload.InputLen, OutputLen: pl.Workload.OutputLen, PrefixLen: pl.Workload.PrefixLen},
		Method:   "closed form, and the simulation for fleets meeting the SLOs outside its region of validity; replicas split the load evenly (data parallel); the smallest replica count meeting the SLOs is found by doubling then bisection"}
	prof := pl.Profile
	if prof == nil {
		prof = estimator.MustEngine("default")
	}
	po.Engine, po.EngineRelease = prof.Name, prof.Label()
	if pl.EnforceEager {
		po.Notes = append(po.Notes, eagerNote)
	}
	for _, c := range pl.Constraints {
		po.Constraints = append(po.Constraints, c.String())
	}
	for _, g := range list {
		if err := estimator.ReleaseGPUWarning(pl.Profile, g); err != nil {
			po.Notes = append(po.Notes, err.Error())
		}
		pg, err := pl.GPU(g)
		if err != nil {
			return Plan{}, err
		}
		po.PerGPU = append(po.PerGPU, pg)
		if b := pg.Best; b != nil && b.CostPerHour != nil && (po.Cheapest == nil || *b.CostPerHour < *po.Cheapest.CostPerHour) {
			po.Cheapest = b
		}
	}
	if po.Cheapest == nil {
		met, unpriced, tooSmall := false, []string{}, len(po.PerGPU) > 0
		for i, pg := range po.PerGPU {
			met = met || pg.Best != nil
			tooSmall = tooSmall && strings.Contains(pg.Note, "no fleet was tried")
			if pl.PricePerGPUHour == 0 && list[i].PriceUSDPerHour <= 0 {
				unpriced = append(unpriced, list[i].ID)
			}
		}
		switch {
		case tooSmall:
			po.Notes = append(po.Notes, "no fleet meets the load and constraints: the model fits on no replica the plan may try (see each GPU's note)")
		case !met:
			po.Notes = append(po.Notes, "no fleet meets the load and constraints: relax a constraint or the load")
		case len(unpriced) > 0:
			po.Notes = append(po.Notes, "no priced fleet meets the load and constraints: give --price-per-gpu-hour for GPUs without a price ("+strings.Join(unpriced, ", ")+"), or relax a constraint")
		default:
			po.Notes = append(po.Notes, "no priced fleet meets the load and constraints: relax a constraint")
		}
	}
	return po, nil
}

// WritePlanTable prints one row per GPU, cheapest fleet first (USD per hour and per 1M
// output tokens, TTFT p95 and ITL p99 in ms, tok/s per user), then the cheapest fleet with
// its vLLM launch command and the notes.
func WritePlanTable(w io.Writer, o Plan) {
	load := fmt.Sprintf("%s req/s (Poisson)", units.Sig(o.TargetRate))
	if o.TargetUsers > 0 {
		load = fmt.Sprintf("%d concurrent users", o.TargetUsers)
	}
	cons := "none"
	if len(o.Constraints) > 0 {
		cons = strings.Join(o.Constraints, ", ")
	}
	fmt.Fprintf(w, "roofline plan: %s for %s, input %d / output %d tokens; constraints: %s\n", o.Model, load, o.Workload.InputLen, o.Workload.OutputLen, cons)
	if o.EngineRelease != "" {
		src := ""
		if o.EngineSource != "" {
			src = " — " + o.EngineSource
		}
		fmt.Fprintf(w, "engine profile: %s%s\n", o.EngineRelease, src)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "GPU\tmin GPUs to fit\tfleet\ttotal GPUs\tweights/KV\t$/hour\t$/1M out tokens\tTTFT p95 ms\tITL p99 ms\ttok/s/user\t")
	rows := append([]estimator.GPUPlan(nil), o.PerGPU...)
	sort.SliceStable(rows, func(a, b int) bool {
		ca, cb := rows[a].Best, rows[b].Best
		switch {
		case ca == nil || cb == nil:
			return ca != nil
		case (ca.CostPerHour == nil) != (cb.CostPerHour == nil):
			return ca.CostPerHour != nil
		case ca.CostPerHour != nil && *ca.CostPerHour != *cb.CostPerHour:
			return *ca.CostPerHour < *cb.CostPerHour
		}
		return false
	})
	for _, r := range rows {
		var fit []string
		keys := slices.Sorted(maps.Keys(r.MinGPUs))
		for _, k := range keys {
			v := "none ≤ 128"
			if r.MinGPUs[k] > 0 {
				v = fmt.Sprint(r.MinGPUs[k])
			}
			if len(keys) > 1 {
				v = k + ": " + v
			}
			fit = append(fit, v)
		}
		b := r.Best
		if b == nil {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t-\t-\t-\t-\t\n", r.GPU, strings.Join(fit, ", "))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d × (tp=%d pp=%d)\t%d\t%s/%s\t%s\t%s\t%s\t%s\t%s\t\n", r.GPU, strings.Join(fit, ", "), b.Replicas, b.TP, b.PP, b.TotalGPUs,
			b.WeightDtype, b.KVDtype, money2(b.CostPerHour), money2(b.CostPer1MOut), ms(b.TTFT.P95), ms(b.ITL.P99), units.Sig(b.OutputTokSPerUser))
	}
	tw.Flush()
	if c := o.Cheapest; c != nil {
		reps := "replicas"
		if c.Replicas == 1 {
			reps = "replica"
		}
		fmt.Fprintf(w, "\ncheapest: %d × %s as %d %s of tp=%d pp=%d (%s weights, %s KV): $%.2f/hour, $%.4f per 1M output tokens (price: %s)\n",
			c.TotalGPUs, c.GPU, c.Replicas, reps, c.TP, c.PP, c.WeightDtype, c.KVDtype, *c.CostPerHour, deref(c.CostPer1MOut), c.PriceSource)
		// The launch command of the engine planned for; vLLM's for engines with no
		// command of their own (the estimator writes vLLM, SGLang and TensorRT-LLM ones).
		switch fam, _, _ := strings.Cut(strings.Fields(o.EngineRelease + " ")[0], "@"); {
		case fam == "sglang" && c.Launch.SGLang != "":
			fmt.Fprintf(w, "launch (SGLang; dp = replicas): %s\n", c.Launch.SGLang)
		case fam == "trtllm" && c.Launch.TRTLLM != "":
			fmt.Fprintf(w, "launch (TensorRT-LLM; one command per replica): %s\n", c.Launch.TRTLLM)
		case fam == "vllm" || fam == "":
			fmt.Fprintf(w, "launch (vLLM; dp = replicas): %s\n", c.Launch.VLLM)
		default:
			fmt.Fprintf(w, "launch (vLLM, the engine planned for (%s) has no command here; dp = replicas): %s\n", fam, c.Launch.VLLM)
		}
	}
	var noPrice []string
	for _, r := range o.PerGPU {
		switch r.Note {
		case "":
		case "no price":
			noPrice = append(noPrice, r.GPU)
		default:
			fmt.Fprintf(w, "note: %s: %s\n", r.GPU, r.Note)
		}
	}
	if len(noPrice) > 0 {
		fmt.Fprintf(w, "note: no price in the catalogue for %s (give --price-per-gpu-hour); their fleets use the fewest GPUs\n", strings.Join(noPrice, ", "))
	}
	for _, n := range o.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

func money2(p *float64) string {
	if p == nil {
		return "no price"
	}
	return units.Sig(*p)
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}
