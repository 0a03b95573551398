package estimator

import (
	"cmp"
	"errors"
	"fmt"

	"roofline/hardware"
	"roofline/models"
)

// Fleet is one fleet: Replicas data-parallel copies of a tp·pp deployment of one GPU type,
// with its cost (USD), its closed-form serving metrics (ms, tok/s, req/s) and launch command.
type Fleet struct {
	GPU               string   `json:"gpu"`
	GPUsPerReplica    int      `json:"gpus_per_replica"`
	TP                int      `json:"tp"`
	PP                int      `json:"pp"`
	Replicas          int      `json:"replicas"`
	TotalGPUs         int      `json:"total_gpus"`
	WeightDtype       string   `json:"weight_dtype"`
	KVDtype           string   `json:"kv_dtype"`
	MaxNumSeqs        int      `json:"max_num_seqs"`
	CostPerHour       *float64 `json:"cost_usd_per_hour"`
	CostPer1MOut      *float64 `json:"cost_usd_per_1m_output_tokens"`
	CostPer1MTotal    *float64 `json:"cost_usd_per_1m_total_tokens"`
	PriceUSDPerHour   float64  `json:"price_usd_per_gpu_hour"`
	PriceSource       string   `json:"price_source"`
	OutputTokS        float64  `json:"output_tok_s"`
	RequestPerS       float64  `json:"request_per_s"`
	TTFT              Dist     `json:"ttft_ms"`
	ITL               Dist     `json:"itl_ms"`
	E2E               Dist     `json:"e2e_ms"`
	OutputTokSPerUser float64  `json:"output_tok_s_per_user"`
	Launch            Launch   `json:"launch"`
}

// GPUPlan is the answer for one GPU type.
type GPUPlan struct {
	GPU     string         `json:"gpu"`
	MinGPUs map[string]int `json:"min_gpus_to_fit"` // by weight dtype; 0 = does not fit on 128
	Best    *Fleet         `json:"cheapest_fleet"`  // nil: no fleet meets the load and SLOs
	Note    string         `json:"note,omitempty"`
}

// Planner finds, per GPU type, the cheapest fleet of data-parallel replicas that serves a
// workload within SLO constraints. Every latency comes from the closed form (Serve); replicas
// split the load evenly. Zero values of the option fields mean "the profile's default".
type Planner struct {
	Model   *models.Model
	Profile *Profile
	// Workload is the whole fleet's load: RequestRate (req/s) or Concurrency (users).
	Workload    Workload
	Constraints []Constraint
	// WeightDtypes, KVDtypes, MaxNumSeqs and MaxNumBatchedTokens list the settings tried
	// ("" or 0: the checkpoint's or profile's). Empty lists try the default only.
	WeightDtypes, KVDtypes []string
	MaxNumSeqs             []int
	MaxNumBatchedTokens    []int
	// MaxGPUsPerReplica bounds tp·pp (replicas of 1, 2, 4, … GPUs); MaxReplicas bounds the
	// replicas tried.
	MaxGPUsPerReplica, MaxReplicas int
	// PricePerGPUHour in USD overrides the catalogue's on-demand price when > 0.
	PricePerGPUHour float64
	// MaxModelLen is the engine's max_model_len in tokens (0: the model's context).
	MaxModelLen int
	// EnforceEager turns CUDA graphs off in every fleet (Spec.EnforceEager).
	EnforceEager bool
}

// GPU finds the minimum GPUs to fit (per weight dtype) and the cheapest fleet on one GPU type.
// A fleet is cheapest by total GPUs (one price per type), then by output tok/s per user.
func (pl *Planner) GPU(g *hardware.GPU) (GPUPlan, error) {
	pg := GPUPlan{GPU: g.ID, MinGPUs: map[string]int{}}
	price, src := pl.PricePerGPUHour, "--price-per-gpu-hour"
	if price == 0 {
		price, src = g.PriceUSDPerHour, fmt.Sprintf("catalogue: %s, as of %s", g.PriceProvider, g.PriceAsOf)
	}
	for _, wd := range orEmpty(pl.WeightDtypes) {
		// The fewest GPUs on which the engine starts, over the scheduler settings the plan
		// explores (a smaller max_num_seqs shrinks vLLM's start-up sampler pass).
		n := 0
		for _, mns := range orZero(pl.MaxNumSeqs) {
			for _, mnbt := range orZero(pl.MaxNumBatchedTokens) {
				k, err := MinGPUs(Spec{Model: pl.Model, GPU: g, WeightDtype: wd, Profile: pl.Profile, MaxModelLen: pl.MaxModelLen,
					MaxNumSeqs: mns, MaxNumBatchedTokens: mnbt})
				if err == nil && (n == 0 || k < n) {
					n = k
				}
			}
		}
		key := wd
		if key == "" {
			key = "checkpoint"
		}
		pg.MinGPUs[key] = n
	}
	var best *Fleet
	better := func(f *Fleet) bool {
		if best == nil {
			return true
		}
		if f.TotalGPUs != best.TotalGPUs {
			return f.TotalGPUs < best.TotalGPUs // same GPU type: fewer GPUs is cheaper
		}
		return f.OutputTokSPerUser > best.OutputTokSPerUser
	}
	for n := 1; n <= pl.MaxGPUsPerReplica; n *= 2 {
		for tp := 1; tp <= n; tp *= 2 {
			pp := n / tp
			for _, wd := range orEmpty(pl.WeightDtypes) {
				for _, kvd := range orEmpty(pl.KVDtypes) {
					for _, mns := range orZero(pl.MaxNumSeqs) {
						for _, mnbt := range orZero(pl.MaxNumBatchedTokens) {
							spec := Spec{Model: pl.Model, GPU: g, TP: tp, PP: pp, WeightDtype: wd, KVDtype: kvd, Profile: pl.Profile,
								MaxNumSeqs: mns, MaxNumBatchedTokens: mnbt, MaxModelLen: pl.MaxModelLen, EnforceEager: pl.EnforceEager}
							f, err := pl.fleet(spec)
							if err != nil {
								var dt *dtypeError
								if errors.As(err, &dt) && pg.Note == "" {
									pg.Note = "skipped " + dt.err.Error()
								}
								continue
							}
							if f != nil && better(f) {
								best = f
							}
						}
					}
				}
			}
		}
	}
	if best == nil && pg.Note == "" {
		// A replica too small for the model is no answer about the load: say which bound binds.
		need := 0
		for _, n := range pg.MinGPUs {
			if n > 0 && (need == 0 || n < need) {
				need = n
			}
		}
		switch {
		case need > pl.MaxGPUsPerReplica:
			pg.Note = fmt.Sprintf("the model needs %d GPUs per replica to fit, above --max-gpus-per-replica %d: no fleet was tried (raise it)", need, pl.MaxGPUsPerReplica)
		case need == 0 && len(pg.MinGPUs) > 0:
			pg.Note = "the model fits on no replica of up to 128 GPUs: no fleet was tried"
		default:
			pg.Note = "no fleet of up to " + fmt.Sprint(pl.MaxReplicas) + " replicas meets the load and constraints"
		}
		return pg, nil
	}
	if best == nil {
		return pg, nil
	}
	best.PriceUSDPerHour = price
	if price > 0 {
		best.PriceSource = src
		h := price * float64(best.TotalGPUs)
		best.CostPerHour = &h
		if best.OutputTokS > 0 {
			o := h / (best.OutputTokS * 3600) * 1e6
			tot := h / ((best.OutputTokS + best.RequestPerS*float64(pl.Workload.InputLen)) * 3600) * 1e6
			best.CostPer1MOut, best.CostPer1MTotal = &o, &tot
		}
	} else {
		pg.Note = "no price" // the fleet shown uses the fewest GPUs
	}
	pg.Best = best
	return pg, nil
}

// dtypeError marks a configuration skipped because the GPU cannot run its dtypes.
type dtypeError struct{ err error }

func (d *dtypeError) Error() string { return d.err.Error() }

// meets reports whether a replica's prediction meets every constraint but cost (what the
// planner minimises).
func (pl *Planner) meets(d *Deployment, sv Serving) bool {
	p := SweepPoint{Serving: sv}
	p.OutputTokSPerGPU = sv.OutputTokS / float64(d.NumGPUs)
	p.GoodputReqS = sv.RequestPerS
	for _, c := range pl.Constraints {
		if c.Metric != "cost_usd_per_1m_output_tokens" && !c.Met(&p) {
			return false
		}
	}
	return true
}

// fleet returns the smallest replica count of spec meeting the load and SLOs (nil if none
// up to maxRep). Latency falls as replicas share the load, so: double until it passes,
// then bisect.
func (pl *Planner) fleet(spec Spec) (*Fleet, error) {
	try := func(r int) (*Fleet, error) {
		s := spec
		s.DP = r
		d, err := New(s)
		if err != nil {
			if _, e2 := New(Spec{Model: pl.Model, GPU: spec.GPU, WeightDtype: spec.WeightDtype, KVDtype: spec.KVDtype, Profile: pl.Profile}); e2 != nil {
				return nil, &dtypeError{e2}
			}
			return nil, err
		}
		seqs, ok := seqsForBudget(d, s.MaxNumSeqs != 0)
		if !ok {
			return nil, nil // the engine refuses it at start-up, as estimate does
		}
		if seqs != d.MaxNumSeqs {
			s.MaxNumSeqs = seqs
			if d, err = New(s); err != nil {
				return nil, err
			}
		}
		sv, err := d.Serve(pl.Workload)
		if err != nil {
			return nil, err
		}
		if sv.Overloaded || !pl.meets(d, sv) {
			return nil, nil
		}
		if ok, why, _ := d.ClosedFormValid(pl.Workload); !ok {
			// The closed form's tails cannot be trusted here: confirm with the simulation.
			sim, err := d.Simulate(pl.Workload, 1)
			if err != nil || !pl.meets(d, sim) {
				return nil, nil
			}
			sim.MethodReason = "outside the closed form's region of validity: " + why
			sim.MaxRequestRate = sv.MaxRequestRate
			sv = sim
		}
		f := &Fleet{GPU: spec.GPU.ID, GPUsPerReplica: d.TP * d.PP, TP: d.TP, PP: d.PP, Replicas: r, TotalGPUs: d.NumGPUs,
			WeightDtype: d.WeightDtypeResolved, KVDtype: d.KVDtypeResolved, MaxNumSeqs: d.MaxNumSeqs,
			OutputTokS: sv.OutputTokS, RequestPerS: sv.RequestPerS, TTFT: sv.TTFT, ITL: sv.ITL, E2E: sv.E2E, OutputTokSPerUser: float64(sv.OutputTokSPerUser)}
		cfg := SweepConfig{GPU: f.GPU, NumGPUs: d.NumGPUs, TP: d.TP, PP: d.PP, DP: r, EP: d.EP, Engine: d.Profile.Name, EngineFamily: d.Profile.Family(),
			WeightDtype: d.WeightDtypeResolved, KVDtype: d.KVDtypeResolved, MaxNumSeqs: d.MaxNumSeqs, MaxNumBatchedTokens: d.MaxNumBatchedTokens,
			MaxModelLen: d.MaxModelLen, MemoryFraction: d.MemoryFraction, EnforceEager: d.EnforceEager, Concurrency: pl.Workload.Concurrency, RequestRate: pl.Workload.RequestRate}
		f.Launch = LaunchFor(pl.Model, cfg, pl.Workload)
		return f, nil
	}
	lo, hi := 0, 1
	var found *Fleet
	for hi <= pl.MaxReplicas {
		f, err := try(hi)
		if err != nil {
			return nil, err
		}
		if f != nil {
			found = f
			break
		}
		lo, hi = hi, hi*2
	}
	if found == nil {
		if hi/2 < pl.MaxReplicas {
			if f, err := try(pl.MaxReplicas); err == nil && f != nil {
				found, hi = f, pl.MaxReplicas
			}
		}
		if found == nil {
			return nil, nil
		}
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		f, err := try(mid)
		if err != nil {
			return nil, err
		}
		if f != nil {
			found, hi = f, mid
		} else {
			lo = mid
		}
	}
	return found, nil
}

func orEmpty(s []string) []string {
	if len(s) == 0 {
		return []string{""}
	}
	return s
}

func orZero(s []int) []int {
	if len(s) == 0 {
		return []int{0}
	}
	return s
}

// Check checks the planner's lists and workload as a command line gives them (errors name
// the flag): max_num_seqs in [1, MaxSimRequests], max_num_batched_tokens in [0, MaxTokens]
// (0: the profile's), dtypes that
// units.CanonicalDtype knows ("" allowed), a valid workload that fits MaxModelLen, and
// MaxReplicas ≤ MaxDP.
func (pl *Planner) Check() error {
	if pl.MaxReplicas > MaxDP {
		return fmt.Errorf("--max-replicas %d: allowed values are 1 to %d", pl.MaxReplicas, MaxDP)
	}
	if pl.EnforceEager {
		if err := CheckEnforceEager(pl.Profile); err != nil {
			return err
		}
	}
	if err := cmp.Or(belowMin("max-num-seqs", pl.MaxNumSeqs, 1, ""),
		belowMin("max-num-batched-tokens", pl.MaxNumBatchedTokens, 0, " (0: the profile's)"),
		schedulerCaps(pl.MaxNumSeqs, pl.MaxNumBatchedTokens)); err != nil {
		return err
	}
	if err := pl.Workload.Validate(); err != nil {
		return err
	}
	if err := pl.Workload.CheckMaxModelLen(pl.MaxModelLen); err != nil {
		return err
	}
	return checkDtypes(pl.WeightDtypes, pl.KVDtypes, true)
}
