package estimator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"roofline/hardware"
	"roofline/models"
	"roofline/units"
)

// SweepSpace is a configuration space: the product of every list below, with each GPU count
// split every valid way into TP·PP·DP (and, for MoE models, with and without expert
// parallelism). Empty lists mean the single default value.
type SweepSpace struct {
	Model *models.Model
	GPUs  []*hardware.GPU
	// NumGPUs are total GPU counts (default {1}).
	NumGPUs []int
	// MaxTP is the largest tensor-parallel size tried (0 = 8, one node).
	MaxTP int
	// Profiles are engine profiles (nil entries mean the embedded "default").
	Profiles []*Profile
	// WeightDtypes and KVDtypes ("" = the checkpoint's / the model's 16-bit dtype).
	WeightDtypes, KVDtypes []string
	// MaxNumSeqs and MaxNumBatchedTokens are scheduler knobs (0 = the profile's default).
	MaxNumSeqs, MaxNumBatchedTokens []int
	// MemoryFraction and MaxModelLen apply to every configuration (0 = defaults, as in Spec).
	MemoryFraction float64
	MaxModelLen    int
	// EnforceEager turns CUDA graphs off in every configuration (Spec.EnforceEager); Check
	// refuses it with a profile that gives no eager dispatch time.
	EnforceEager bool
	// Workload gives the request lengths; its Kind is Concurrency or Rate and its load field
	// is replaced by each entry of Concurrencies or RequestRates (req/s, whole deployment).
	Workload      Workload
	Concurrencies []int
	RequestRates  []float64
}

// SweepOptions control a sweep.
type SweepOptions struct {
	// Constraints every returned point meets.
	Constraints []Constraint
	// Objective ranks the points: ObjectiveCost, ObjectiveThroughput (default),
	// ObjectiveLatency or ObjectiveGoodput.
	Objective string
	// PriceUSDPerGPUHour overrides the catalogue's on-demand price (0 = catalogue; a GPU
	// without a price then has no cost).
	PriceUSDPerGPUHour float64
	// Top is how many ranked points to return (0 = all); Pareto-front points are returned
	// in SweepResult.Front whatever their rank.
	Top int
	// Workers evaluating deployments in parallel (0 = GOMAXPROCS).
	Workers int
	// Simulate evaluates every configuration with the simulation (seed 1). Without it the
	// closed form evaluates every configuration, and, when there are constraints, the ones
	// that meet them but lie outside the closed form's region of validity (ClosedFormValid)
	// are simulated and checked again, so that no point is kept on closed-form tails the
	// simulation contradicts.
	Simulate bool
	// NumRequests is the number of requests each simulation runs (0: as many as the emitted
	// benchmark sends, max(100, 5·concurrency) or max(100, 60 s of arrivals)).
	NumRequests int
	// Progress, when set, is called from the workers with the configurations done so far and
	// the total; it must be safe for concurrent use.
	Progress func(done, total int64)
}

// SweepConfig is one point of the space.
type SweepConfig struct {
	GPU     string `json:"gpu"`
	NumGPUs int    `json:"num_gpus"`
	TP      int    `json:"tp"`
	PP      int    `json:"pp"`
	DP      int    `json:"dp"`
	EP      int    `json:"ep"`
	Engine  string `json:"engine"`
	// EngineFamily is the engine the profile describes (Profile.Family: vllm for vllm-v0
	// and a calibrated vllm profile alike): it picks the launch command and its flags.
	EngineFamily        string  `json:"engine_family,omitempty"`
	WeightDtype         string  `json:"weight_dtype"`
	KVDtype             string  `json:"kv_dtype"`
	MaxNumSeqs          int     `json:"max_num_seqs"`
	MaxNumBatchedTokens int     `json:"max_num_batched_tokens"`
	MaxModelLen         int     `json:"max_model_len"`
	MemoryFraction      float64 `json:"gpu_memory_utilization"`
	// EnforceEager: CUDA graphs off (Spec.EnforceEager); omitted when false.
	EnforceEager bool    `json:"enforce_eager"`
	Concurrency  int     `json:"concurrency,omitempty"`
	RequestRate  float64 `json:"request_rate,omitempty"`
}

// Family is the configuration's engine family (EngineFamily, or Engine when it is empty, as
// for a configuration read back from JSON written before the field).
func (c SweepConfig) Family() string {
	if c.EngineFamily != "" {
		return c.EngineFamily
	}
	return c.Engine
}

// Less orders configurations field by field (GPU, counts, engine, dtypes, knobs, load); it
// breaks ranking ties.
func (c *SweepConfig) Less(o *SweepConfig) bool {
	if c.GPU != o.GPU {
		return c.GPU < o.GPU
	}
	for _, p := range [...][2]int{{c.NumGPUs, o.NumGPUs}, {c.TP, o.TP}, {c.PP, o.PP}, {c.DP, o.DP}, {c.EP, o.EP}} {
		if p[0] != p[1] {
			return p[0] < p[1]
		}
	}
	for _, p := range [...][2]string{{c.Engine, o.Engine}, {c.WeightDtype, o.WeightDtype}, {c.KVDtype, o.KVDtype}} {
		if p[0] != p[1] {
			return p[0] < p[1]
		}
	}
	for _, p := range [...][2]int{{c.MaxNumSeqs, o.MaxNumSeqs}, {c.MaxNumBatchedTokens, o.MaxNumBatchedTokens}, {c.Concurrency, o.Concurrency}} {
		if p[0] != p[1] {
			return p[0] < p[1]
		}
	}
	return c.RequestRate < o.RequestRate
}

// SweepPoint is an evaluated configuration that met every constraint.
type SweepPoint struct {
	Rank int `json:"rank"`
	SweepConfig
	Serving
	OutputTokSPerGPU float64 `json:"output_tok_s_per_gpu"`
	// GoodputReqS estimates requests/s meeting every SLO: RequestPerS × the smallest
	// Attainment over the constraints (RequestPerS when there are none).
	GoodputReqS       float64 `json:"goodput_req_s"`
	GoodputReqSPerGPU float64 `json:"goodput_req_s_per_gpu"`
	// CostPerHour is the fleet's price, USD/hour; CostPer1MOutput charges all GPU time
	// (prefill included) to output tokens, USD per 1M output tokens, and is what the
	// cost objective ranks by; the split pair divides GPU time by the prefill share, as
	// estimate does (see Cost). nil: no price known.
	CostPerHour          *float64 `json:"cost_usd_per_hour"`
	CostPer1MOutput      *float64 `json:"cost_usd_per_1m_output_tokens"`
	CostPer1MInputSplit  *float64 `json:"cost_usd_per_1m_input_tokens"`
	CostPer1MOutputSplit *float64 `json:"cost_usd_per_1m_output_tokens_split"`
	// Pareto is true when the point is on at least one front; ParetoFronts names them
	// (FrontThroughputInteractivity, FrontCostLatency).
	Pareto       bool     `json:"pareto"`
	ParetoFronts []string `json:"pareto_fronts"`
	Launch       *Launch  `json:"launch,omitempty"`
	// Equivalent lists the other scheduler knobs of the same deployment and load that give
	// exactly the same prediction (they are not ranked separately).
	Equivalent []Knobs `json:"equivalent_knobs,omitempty"`
}

// Knobs are the scheduler settings of a configuration.
type Knobs struct {
	MaxNumSeqs          int `json:"max_num_seqs"`
	MaxNumBatchedTokens int `json:"max_num_batched_tokens"`
}

// SweepResult is the outcome of a sweep.
type SweepResult struct {
	// Evaluated counts every configuration of the space with a valid split: deployments ×
	// knob combinations × loads, including those answered from the memo.
	Evaluated int64
	// Fits counts configurations whose model fits in memory; Met those meeting every constraint.
	Fits, Met int64
	// Distinct counts the predictions among Met: configurations of one deployment and load
	// whose knobs give the same prediction count once (see SweepPoint.Equivalent).
	DistinctMet int64
	// InvalidSplits counts TP/PP/DP/EP splits rejected by New (× their dtype and engine
	// combinations), not included in Evaluated.
	InvalidSplits int64
	// Skipped says why whole GPU × dtype combinations were left out (e.g. a GPU without
	// the dtype's tensor cores and no fallback).
	Skipped []string
	// Distinct counts the closed-form evaluations actually run (the rest came from the memo).
	Distinct int64
	// Simulated counts the simulations run (SweepOptions.Simulate, or points meeting the
	// constraints outside the closed form's region of validity).
	Simulated int64
	// Points are the best configurations meeting every constraint, ranked by the objective
	// (SweepOptions.Top of them; all when Top is 0); overloaded ones rank after every
	// sustainable one (RankPoints).
	Points []SweepPoint
	// Front holds every point on a Pareto front (of all points meeting the constraints, not
	// only the top ones), in rank order; overloaded points are on no front (MarkFronts).
	Front []SweepPoint
	// Overloaded counts the distinct points (DistinctMet) whose request rate exceeds the
	// deployment's sustainable rate (Serving.Overloaded).
	Overloaded int64
	// FrontSizes gives the size of each Pareto front over Points.
	FrontSizes map[string]int
}

// Split is one way to place a model on a GPU count.
type Split struct{ TP, PP, DP, EP int }

// Splits enumerates TP·PP·DP = n with TP ≤ maxTP (0 = 8) and PP ≤ the model's layers, TP
// dividing the attention heads, in order of TP, then PP. For an MoE model each split also
// comes with expert parallelism over TP·DP GPUs when that divides the experts (vLLM's
// --enable-expert-parallel). Splits that New would reject are left out.
func Splits(m *models.Model, n, maxTP int) []Split {
	if maxTP <= 0 {
		maxTP = 8
	}
	var out []Split
	for tp := 1; tp <= n && tp <= maxTP; tp++ {
		if n%tp != 0 || m.NumHeads%tp != 0 {
			continue
		}
		for pp := 1; pp <= n/tp; pp++ {
			if (n/tp)%pp != 0 || pp > m.NumLayers {
				continue
			}
			dp := n / (tp * pp)
			out = append(out, Split{tp, pp, dp, 1})
			if ep := tp * dp; m.MoE != nil && ep > 1 && m.MoE.Experts%ep == 0 {
				out = append(out, Split{tp, pp, dp, ep})
			}
		}
	}
	return out
}

// base is one deployment of the space without its scheduler knobs.
type base struct {
	gpu      *hardware.GPU
	split    Split
	n        int
	prof     *Profile
	wd, kvd  string
	combos   int64 // knob combinations × loads it stands for
	invalid  bool
	weightOK bool
}

type atKey struct{ budget, b float64 }

type servKey struct {
	budget, bmax float64 // bmax is 0 below saturation, where the result does not depend on it
	load         float64
}

// Sweep evaluates every configuration of the space with the closed form, keeps those that
// meet every constraint, ranks them by the objective and marks the Pareto fronts. An
// overloaded open-loop point (request rate above the sustainable rate) ranks after every
// sustainable point and is on no front, whatever the objective.
//
// It memoizes: a configuration's result depends on max_num_seqs and max_num_batched_tokens
// only through the running-batch cap b_max = min(KV tokens/(input + output/2), max_num_seqs)
// and through whether one prompt's prefill fits the token budget beside the running batch,
// so each distinct (deployment, effective budget, operating batch, load) is evaluated once.
// Results equal Deployment.Serve's exactly (a test checks every point of a sweep).
// Deployments are spread over Workers goroutines; the result does not depend on their order.
func Sweep(ctx context.Context, sp SweepSpace, opt SweepOptions) (SweepResult, error) {
	var res SweepResult
	if sp.Model == nil || len(sp.GPUs) == 0 {
		return res, errors.New("sweep needs a model and at least one GPU")
	}
	if opt.Objective == "" {
		opt.Objective = ObjectiveThroughput
	}
	if err := CheckObjective(opt.Objective); err != nil {
		return res, err
	}
	def := func(v []int, d int) []int {
		if len(v) == 0 {
			return []int{d}
		}
		return v
	}
	sp.NumGPUs = def(sp.NumGPUs, 1)
	sp.MaxNumSeqs = def(sp.MaxNumSeqs, 0)
	sp.MaxNumBatchedTokens = def(sp.MaxNumBatchedTokens, 0)
	if len(sp.WeightDtypes) == 0 {
		sp.WeightDtypes = []string{""}
	}
	if len(sp.KVDtypes) == 0 {
		sp.KVDtypes = []string{""}
	}
	sp.Profiles = append([]*Profile(nil), sp.Profiles...)
	if len(sp.Profiles) == 0 {
		sp.Profiles = []*Profile{nil}
	}
	for i, p := range sp.Profiles {
		if p == nil {
			d, _, err := Engine("default")
			if err != nil {
				return res, err
			}
			sp.Profiles[i] = d
		}
	}
	var loads []Workload
	w := sp.Workload
	switch w.Kind {
	case Concurrency:
		for _, c := range sp.Concurrencies {
			w.Concurrency = c
			loads = append(loads, w)
		}
	case Rate:
		for _, r := range sp.RequestRates {
			w.RequestRate = r
			loads = append(loads, w)
		}
	default:
		return res, fmt.Errorf("sweep workload %q: allowed values are %s, %s", w.Kind, Concurrency, Rate)
	}
	if len(loads) == 0 {
		return res, fmt.Errorf("sweep needs at least one %s value", w.Kind)
	}
	for i := range loads {
		if err := loads[i].Validate(); err != nil {
			return res, err
		}
	}
	for _, d := range sp.WeightDtypes {
		if _, err := units.CanonicalDtype(d); err != nil {
			return res, fmt.Errorf("--weight-dtype: %w", err)
		}
	}
	for _, d := range sp.KVDtypes {
		if c, err := units.CanonicalDtype(d); err != nil || !KVDtypeAllowed(c) {
			return res, fmt.Errorf("--kv-dtype %q: allowed values are bf16, fp16, fp8", d)
		}
	}
	for _, v := range sp.MaxNumSeqs {
		if v < 0 {
			return res, fmt.Errorf("--max-num-seqs %d: must be ≥ 1", v)
		}
	}
	for _, v := range sp.MaxNumBatchedTokens {
		if v < 0 {
			return res, fmt.Errorf("--max-num-batched-tokens %d: must be ≥ 1", v)
		}
	}
	perBase := int64(len(sp.MaxNumSeqs) * len(sp.MaxNumBatchedTokens) * len(loads))
	var bases []base
	for _, g := range sp.GPUs {
		for _, n := range sp.NumGPUs {
			if n < 1 {
				return res, fmt.Errorf("--num-gpus %d: must be ≥ 1", n)
			}
			for _, s := range Splits(sp.Model, n, sp.MaxTP) {
				for _, wd := range sp.WeightDtypes {
					for _, kd := range sp.KVDtypes {
						for _, p := range sp.Profiles {
							bases = append(bases, base{gpu: g, split: s, n: n, prof: p, wd: wd, kvd: kd, combos: perBase})
						}
					}
				}
			}
		}
	}
	var total int64
	for _, b := range bases {
		total += b.combos
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var (
		next, done                                     atomic.Int64
		mu                                             sync.Mutex
		firstErr                                       error
		evaluated, fits, met, inv, distinct, simulated int64
		all                                            []*sweepWorker
		skipped                                        = map[string]bool{}
	)
	var wg sync.WaitGroup
	for k := 0; k < workers; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := &sweepWorker{sp: &sp, opt: &opt, loads: loads}
			for {
				i := next.Add(1) - 1
				if i >= int64(len(bases)) || ctx.Err() != nil {
					break
				}
				if err := ev.run(&bases[i]); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					break
				}
				d := done.Add(bases[i].combos)
				if opt.Progress != nil {
					opt.Progress(d, total)
				}
			}
			mu.Lock()
			evaluated += ev.evaluated
			fits += ev.fits
			met += int64(len(ev.cands))
			inv += ev.invalid
			distinct += ev.distinct
			simulated += ev.simulated
			all = append(all, ev)
			for k := range ev.skipped {
				skipped[k] = true
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return res, firstErr
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	res.Evaluated, res.Fits, res.Met, res.InvalidSplits, res.Distinct, res.Simulated = evaluated, fits, met, inv, distinct, simulated
	for k := range skipped {
		res.Skipped = append(res.Skipped, k)
	}
	sort.Strings(res.Skipped)
	cands := make([]cand, 0, met)
	var cfgs []cfgEntry
	for _, ev := range all {
		off := int32(len(cfgs))
		for _, c := range ev.cands {
			c.ci += off
			cands = append(cands, c)
		}
		cfgs = append(cfgs, ev.cfgs...)
	}
	// Collapse knob variants with one prediction: same memo entry (same deployment and
	// load) and same batch cap. The smallest configuration stands for the group.
	type group struct {
		s   *servEntry
		mrr float64
		l   float64
	}
	rep := make(map[group]int, len(cands))
	var equiv map[int][]Knobs
	kept := cands[:0]
	for _, c := range cands {
		g := group{c.e, c.mrr, float64(c.conc) + c.rate}
		if j, ok := rep[g]; ok {
			a, b := cfgs[kept[j].ci].cfg, cfgs[c.ci].cfg
			if b.Less(&a) {
				kept[j], c = c, kept[j]
				a = b
				b = cfgs[c.ci].cfg
			}
			if equiv == nil {
				equiv = map[int][]Knobs{}
			}
			equiv[j] = append(equiv[j], Knobs{b.MaxNumSeqs, b.MaxNumBatchedTokens})
			continue
		}
		rep[g] = len(kept)
		kept = append(kept, c)
	}
	cands = kept
	res.DistinctMet = int64(len(cands))
	n := len(cands)
	// Rank with the same total order as RankPoints (ties fall back to the configuration), so
	// the result does not depend on which worker finished first.
	recs := make([]rankRec, n)
	for i := range cands {
		c := &cands[i]
		g := float64(cfgs[c.ci].cfg.NumGPUs)
		if c.s.Overloaded {
			res.Overloaded++
		}
		recs[i] = rankRecOf(opt.Objective, c.s.Overloaded, c.cost, c.s.E2E.Median, c.good/g, c.s.OutputTokS/g)
	}
	// cfgLess is SweepConfig.Less of the two points' configurations with their loads. The
	// table's configurations carry no load (zero), so they compare as the loaded ones up to
	// the load: their order is computed once (equal ones share a rank) and the load breaks
	// the remaining ties.
	byCfg := make([]int32, len(cfgs))
	for i := range byCfg {
		byCfg[i] = int32(i)
	}
	sort.Slice(byCfg, func(a, b int) bool { return cfgs[byCfg[a]].cfg.Less(&cfgs[byCfg[b]].cfg) })
	cfgRank := make([]int32, len(cfgs))
	for k := 1; k < len(byCfg); k++ {
		cfgRank[byCfg[k]] = cfgRank[byCfg[k-1]]
		if cfgs[byCfg[k-1]].cfg.Less(&cfgs[byCfg[k]].cfg) {
			cfgRank[byCfg[k]]++
		}
	}
	cfgLess := func(i, j int) bool {
		if ri, rj := cfgRank[cands[i].ci], cfgRank[cands[j].ci]; ri != rj {
			return ri < rj
		}
		if cands[i].conc != cands[j].conc {
			return cands[i].conc < cands[j].conc
		}
		return cands[i].rate < cands[j].rate
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool {
		i, j := idx[a], idx[b]
		if l, ok := recs[i].less(recs[j]); ok {
			return l
		}
		return cfgLess(i, j)
	})
	// Overloaded points are on no front (as MarkFronts): NaN leaves them out.
	x, y := make([]float64, n), make([]float64, n)
	for i := range cands {
		x[i], y[i] = recs[i].tput, float64(cands[i].s.OutputTokSPerUser)
		if recs[i].overloaded {
			x[i] = math.NaN()
		}
	}
	ti := ParetoFront(x, y, true, true)
	for i := range cands {
		x[i], y[i] = cands[i].cost, cands[i].s.E2E.Median
		if recs[i].overloaded {
			x[i] = math.NaN()
		}
	}
	cl := ParetoFront(x, y, false, false)
	res.FrontSizes = map[string]int{FrontThroughputInteractivity: 0, FrontCostLatency: 0}
	top := opt.Top
	if top <= 0 || top > n {
		top = n
	}
	for r, i := range idx {
		if !ti[i] && !cl[i] && r >= top {
			continue
		}
		p := cands[i].point(&cfgs[cands[i].ci])
		if eq := equiv[i]; len(eq) > 0 {
			sort.Slice(eq, func(a, b int) bool {
				return eq[a].MaxNumSeqs < eq[b].MaxNumSeqs || eq[a].MaxNumSeqs == eq[b].MaxNumSeqs && eq[a].MaxNumBatchedTokens < eq[b].MaxNumBatchedTokens
			})
			p.Equivalent = eq
		}
		p.Concurrency, p.RequestRate = int(cands[i].conc), cands[i].rate
		p.Rank = r + 1
		if ti[i] {
			p.ParetoFronts = append(p.ParetoFronts, FrontThroughputInteractivity)
			res.FrontSizes[FrontThroughputInteractivity]++
		}
		if cl[i] {
			p.ParetoFronts = append(p.ParetoFronts, FrontCostLatency)
			res.FrontSizes[FrontCostLatency]++
		}
		p.Pareto = len(p.ParetoFronts) > 0
		if r < top {
			res.Points = append(res.Points, p)
		}
		if p.Pareto {
			res.Front = append(res.Front, p)
		}
	}
	return res, nil
}

// cfgEntry is a deployment with its knobs (the load is kept in each cand).
type cfgEntry struct {
	cfg  SweepConfig
	warn []string
	cost float64 // USD per GPU-hour × GPUs (NaN: no price)
}

// cand is a point that met the constraints, kept small until the sweep ends.
type cand struct {
	ci        int32 // index into the cfgEntry table
	conc      int32
	rate      float64
	s         *Serving   // shared with the memo: read only
	e         *servEntry // the memo entry (identifies equal predictions within a deployment)
	mrr, good float64
	cost      float64 // USD per 1M output tokens (NaN: unknown)
}

func (c *cand) point(e *cfgEntry) SweepPoint {
	p := SweepPoint{SweepConfig: e.cfg, Serving: *c.s, GoodputReqS: c.good}
	p.MaxRequestRate = c.mrr
	g := float64(e.cfg.NumGPUs)
	p.OutputTokSPerGPU = p.OutputTokS / g
	p.GoodputReqSPerGPU = p.GoodputReqS / g
	if !math.IsNaN(e.cost) {
		h := e.cost
		p.CostPerHour = &h
	}
	if cost, ok := CostOf(e.cost, c.s); ok {
		p.CostPer1MOutput = &cost.Per1MOutput
		p.CostPer1MInputSplit, p.CostPer1MOutputSplit = finitePtr(cost.Per1MInputSplit), finitePtr(cost.Per1MOutputSplit)
	}
	if len(e.warn) > 0 {
		p.Warnings = append(append([]string(nil), p.Warnings...), e.warn...)
	}
	return p
}

// sweepWorker evaluates whole deployments; its memo tables are per deployment.
type sweepWorker struct {
	sp                                            *SweepSpace
	opt                                           *SweepOptions
	loads                                         []Workload
	batch                                         Batch
	at                                            map[atKey]cfPoint
	serv                                          map[servKey]*servEntry
	mrr                                           map[atKey]float64
	bursts                                        map[float64]*burstRun // by token budget (cf.burst)
	cands                                         []cand
	cfgs                                          []cfgEntry
	evaluated, fits, invalid, distinct, simulated int64
	skipped                                       map[string]bool
}

func (ev *sweepWorker) run(b *base) error {
	sp := ev.sp
	d, err := New(Spec{Model: sp.Model, GPU: b.gpu, NumGPUs: b.n, TP: b.split.TP, PP: b.split.PP, DP: b.split.DP, EP: b.split.EP,
		WeightDtype: b.wd, KVDtype: b.kvd, Profile: b.prof, MemoryFraction: sp.MemoryFraction, MaxModelLen: sp.MaxModelLen, EnforceEager: sp.EnforceEager})
	if err != nil {
		// A GPU that cannot take a dtype at all (no bf16 on a V100) is noted, not an error:
		// dtype names were checked before the sweep.
		if _, derr := New(Spec{Model: sp.Model, GPU: b.gpu, WeightDtype: b.wd, KVDtype: b.kvd, Profile: b.prof}); derr != nil {
			if ev.skipped == nil {
				ev.skipped = map[string]bool{}
			}
			ev.skipped[derr.Error()] = true
		}
		ev.invalid += b.combos
		return nil
	}
	ev.evaluated += b.combos
	if ev.at == nil {
		ev.at, ev.serv, ev.mrr = map[atKey]cfPoint{}, map[servKey]*servEntry{}, map[atKey]float64{}
	}
	clear(ev.at)
	clear(ev.serv)
	clear(ev.mrr)
	for _, r := range ev.bursts {
		r.k = 0 // kept for its slices; recomputed for this deployment
	}
	price := ev.opt.PriceUSDPerGPUHour
	if price == 0 {
		price = b.gpu.PriceUSDPerHour
	}
	gpus := float64(d.NumGPUs)
	warn := warnText(d.Warnings())
	w0 := &ev.loads[0] // every load has the same lengths
	for _, mns := range sp.MaxNumSeqs {
		for _, mnbt := range sp.MaxNumBatchedTokens {
			dd := *d
			if mns > 0 {
				dd.MaxNumSeqs = mns
			}
			if mnbt > 0 {
				dd.MaxNumBatchedTokens = mnbt
			}
			seqs, ok := seqsForBudget(&dd, mns > 0)
			if !ok {
				continue // the engine refuses it at start-up, as estimate does
			}
			dd.MaxNumSeqs = seqs
			mem := dd.Memory()
			// Serve's own checks: the engine must start (Memory.Fits, the one fits rule),
			// and one sequence run.
			if !mem.Fits {
				continue
			}
			c := newCF(&dd, w0, mem)
			c.batch = ev.batch
			c.burst = func(k int) []float64 { return ev.burst(c, k) }
			if c.bmax < 1 {
				continue
			}
			mrr := 0.0
			if w0.Kind == Concurrency {
				mrr = ev.maxRate(c)
			}
			entry := cfgEntry{cfg: SweepConfig{GPU: b.gpu.ID, NumGPUs: dd.NumGPUs, TP: dd.TP, PP: dd.PP, DP: dd.DP, EP: dd.EP, EngineFamily: dd.Profile.Family(),
				Engine: dd.Profile.Name, WeightDtype: dd.WeightDtypeResolved, KVDtype: dd.KVDtypeResolved,
				MaxNumSeqs: dd.MaxNumSeqs, MaxNumBatchedTokens: dd.MaxNumBatchedTokens, MaxModelLen: dd.MaxModelLen,
				MemoryFraction: dd.MemoryFraction, EnforceEager: dd.EnforceEager}, warn: warn, cost: math.NaN()}
			if price > 0 {
				entry.cost = price * gpus
			}
			ci := int32(len(ev.cfgs))
			used := false
			for li := range ev.loads {
				w := &ev.loads[li]
				e, ok := ev.serve(c, w, gpus, entry.cost)
				if !ok {
					continue
				}
				ev.fits++
				if !e.pass {
					continue
				}
				ev.cands = append(ev.cands, cand{ci: ci, conc: int32(w.Concurrency), rate: w.RequestRate, s: &e.s, e: e,
					mrr: e.mrr(mrr), good: e.good, cost: e.cost})
				used = true
			}
			if used {
				ev.cfgs = append(ev.cfgs, entry)
			}
			ev.batch = c.batch
		}
	}
	return nil
}

func warnText(errs []error) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

// servEntry is a memoized result with what the constraints made of it (the same for every
// configuration of one deployment sharing it: the GPU count and price are the deployment's).
type servEntry struct {
	s          Serving
	pass       bool
	good, cost float64 // goodput req/s; USD per 1M output tokens (NaN: unknown)
	rate       bool    // MaxRequestRate comes from Serve (rate workloads)
}

// mrr is the point's MaxRequestRate: the entry's own for rate workloads, else the knob's.
func (e *servEntry) mrr(knob float64) float64 {
	if e.rate {
		return e.s.MaxRequestRate
	}
	return math.Max(knob, e.s.RequestPerS) // as Serve: a reached operating point is sustainable
}

func (ev *sweepWorker) entry(s Serving, gpus, fleetPerHour float64) *servEntry {
	e := &servEntry{s: s, cost: math.NaN()}
	if c, ok := CostOf(fleetPerHour, &s); ok {
		e.cost = c.Per1MOutput
	}
	e.good, e.pass = evalPoint(&e.s, ev.opt.Constraints, gpus, e.cost)
	return e
}

// budgetFor is the token budget as the memo keys it. The operating point depends on the
// budget through the room left beside the running batch (how many prompts share a step,
// cf.prefillExtra, and how many steps the queue ahead takes) and the start-up burst
// (cf.startBurst) depends on it at every load, so every budget has its own entries.
func budgetFor(c *cf, b float64) float64 { return c.budget }

// burst is c.startBurst(k) from the run kept for c's token budget (the burst depends on the
// deployment's step model, the lengths and the budget only), grown to twice the prompts when
// a larger burst is asked for.
func (ev *sweepWorker) burst(c *cf, k int) []float64 {
	if ev.bursts == nil {
		ev.bursts = map[float64]*burstRun{}
	}
	r := ev.bursts[c.budget]
	if r == nil {
		r = &burstRun{}
		ev.bursts[c.budget] = r
	}
	if r.k < k {
		r.run(c, max(k, 2*r.k), true)
	}
	return r.burstOf(c, k)
}

// atMemo is cf.at with the memo.
func (ev *sweepWorker) atMemo(c *cf, b float64) cfPoint {
	k := atKey{budgetFor(c, b), b}
	if p, ok := ev.at[k]; ok {
		return p
	}
	p := c.at(b)
	ev.at[k] = p
	return p
}

// maxRate is Serve's MaxRequestRate for a concurrency workload: reps·max_b b/E2E(b).
func (ev *sweepWorker) maxRate(c *cf) float64 {
	k := atKey{budgetFor(c, c.bmax), c.bmax}
	if v, ok := ev.mrr[k]; ok {
		return v
	}
	v := float64(c.d.Lanes()) * c.maxRateAt(func(b float64) cfPoint { return ev.atMemo(c, b) })
	ev.mrr[k] = v
	return v
}

// serve returns the memoized closed-form result of one configuration and false when Serve
// would fail. For concurrency workloads the entry's MaxRequestRate is not the
// configuration's (see maxRate).
func (ev *sweepWorker) serve(c *cf, w *Workload, gpus, fleetPerHour float64) (*servEntry, bool) {
	d := c.d
	reps := float64(d.Lanes())
	if w.Kind != Concurrency {
		k := servKey{budget: c.budget, bmax: c.bmax, load: w.RequestRate}
		if e, ok := ev.serv[k]; ok {
			return e, e != nil
		}
		s, err := d.Serve(*w)
		if err != nil {
			ev.serv[k] = nil
			return nil, false
		}
		ev.distinct++
		e := ev.confirm(d, w, ev.entry(s, gpus, fleetPerHour), gpus, fleetPerHour)
		e.rate = true
		ev.serv[k] = e
		return e, true
	}
	cr := float64(w.Concurrency) / reps
	sat := cr > c.bmax
	k := servKey{load: cr}
	if sat {
		k.bmax, k.budget = c.bmax, budgetFor(c, c.bmax)
	} else {
		k.budget = budgetFor(c, cr)
	}
	if e, ok := ev.serv[k]; ok {
		return e, true
	}
	ev.distinct++
	e := ev.confirm(d, w, ev.entry(d.serveConcurrency(c, ev, cr), gpus, fleetPerHour), gpus, fleetPerHour)
	ev.serv[k] = e
	return e, true
}

// confirm replaces a closed-form entry by the simulation's when SweepOptions.Simulate is set,
// or when the point meets the constraints but lies outside the closed form's region of
// validity (its tails cannot be trusted there).
func (ev *sweepWorker) confirm(d *Deployment, w *Workload, e *servEntry, gpus, fleetPerHour float64) *servEntry {
	if !ev.opt.Simulate && (!e.pass || len(ev.opt.Constraints) == 0) {
		return e // nothing to confirm: no constraint relies on the tails
	}
	why := "--simulate"
	if !ev.opt.Simulate {
		if e.s.outside == "" {
			return e
		}
		why = "outside the closed form's region of validity: " + e.s.outside
	}
	ww := *w
	switch {
	case ev.opt.NumRequests > 0:
		ww.NumRequests = ev.opt.NumRequests
	case w.Kind == Concurrency:
		// As many requests as the benchmark the sweep emits for this point (LaunchFor).
		ww.NumRequests = max(100, 5*w.Concurrency)
	default:
		ww.NumRequests = max(100, int(w.RequestRate*60))
	}
	s, err := d.Simulate(ww, 1)
	if err != nil {
		return e
	}
	ev.simulated++
	s.MethodReason = why
	if w.Kind == Concurrency {
		s.MaxRequestRate = e.s.MaxRequestRate
	}
	return ev.entry(s, gpus, fleetPerHour)
}

// serveConcurrency is the Concurrency branch of Serve with the memoized operating points.
// TestSweepMatchesServe compares every point with Serve.
func (d *Deployment) serveConcurrency(c *cf, ev *sweepWorker, cr float64) Serving {
	s := d.serveClosed(c, cr, func(b float64) cfPoint { return ev.atMemo(c, b) })
	w := *c.w
	w.Concurrency = int(math.Round(cr * float64(d.Lanes())))
	d.markValidity(&s, &w, c)
	return s
}

// ParseRange parses a load list: a comma list of numbers and ranges "A-B", where a range
// gives A·2^k up to B and the midpoints 1.5·A·2^k between them (1-512 → 1, 2, 3, 4, 6, 8,
// 12, …, 384, 512), always including A and B. With integer, non-integer values are errors
// and non-integer midpoints are skipped. Values are returned sorted without duplicates.
// Errors name the offending item.
func ParseRange(text string, integer bool) ([]float64, error) {
	var out []float64
	seen := map[float64]bool{}
	add := func(v float64) {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	for _, item := range splitComma(text) {
		lo, hi, isRange := cutRange(item)
		if !isRange {
			v, err := strconv.ParseFloat(item, 64)
			if err != nil || !(v > 0) || math.IsInf(v, 0) || integer && (v != math.Trunc(v) || v > maxRangeInt) {
				return nil, fmt.Errorf("%q: need a positive %s%s or a range A-B", item, kind(integer), bound(integer))
			}
			add(v)
			continue
		}
		a, err1 := strconv.ParseFloat(lo, 64)
		b, err2 := strconv.ParseFloat(hi, 64)
		if err1 != nil || err2 != nil || !(a > 0) || !(b >= a) || math.IsInf(b, 0) || integer && (a != math.Trunc(a) || b != math.Trunc(b) || b > maxRangeInt) {
			return nil, fmt.Errorf("range %q: need %ss 0 < A ≤ B%s", item, kind(integer), bound(integer))
		}
		if b/a > 1<<40 {
			return nil, fmt.Errorf("range %q: spans too many powers of two", item)
		}
		add(a)
		for v := a; v <= b; v *= 2 {
			add(v)
			if m := v * 1.5; m < b && m > a && (!integer || m == math.Trunc(m)) {
				add(m)
			}
		}
		add(b)
	}
	if len(out) == 0 {
		return nil, errors.New("empty list")
	}
	sort.Float64s(out)
	return out, nil
}

// maxRangeInt is the largest integer ParseRange accepts (2³¹ − 1): counts beyond it are
// nonsense and would not survive the conversion to int on every platform.
const maxRangeInt = math.MaxInt32

// bound is the upper bound ParseRange names in its errors.
func bound(integer bool) string {
	if integer {
		return " ≤ 2147483647"
	}
	return ""
}

func kind(integer bool) string {
	if integer {
		return "integer"
	}
	return "number"
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if f := trimSpace(s[start:i]); f != "" {
				out = append(out, f)
			}
			start = i + 1
		}
	}
	return out
}

func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// cutRange splits "A-B" (A may not be empty, so a lone negative number is not a range).
func cutRange(s string) (lo, hi string, ok bool) {
	for i := 1; i < len(s); i++ {
		if s[i] == '-' && s[i-1] != 'e' && s[i-1] != 'E' {
			return trimSpace(s[:i]), trimSpace(s[i+1:]), true
		}
	}
	return "", "", false
}

// finitePtr returns &v, or nil for NaN and ±Inf (JSON null).
func finitePtr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// SetLoads sets the workload's kind and the loads of the space from a command line's
// lists (ParseRange): concurrency ("1-512", "8,32") for a closed loop, else rate (req/s)
// for an open loop. Errors name the flag: an unparsable list, or a concurrency above 2^20.
func (sp *SweepSpace) SetLoads(concurrency, rate string) error {
	if concurrency != "" {
		vs, err := ParseRange(concurrency, true)
		if err != nil {
			return fmt.Errorf("--concurrency: %v", err)
		}
		sp.Workload.Kind = Concurrency
		for _, v := range vs {
			if v > 1<<20 {
				return fmt.Errorf("--concurrency %s: at most %d clients (this list reaches %d)", concurrency, 1<<20, int64(v))
			}
			sp.Concurrencies = append(sp.Concurrencies, int(v))
		}
		return nil
	}
	vs, err := ParseRange(rate, false)
	if err != nil {
		return fmt.Errorf("--request-rate: %v", err)
	}
	sp.Workload.Kind, sp.RequestRates = Rate, vs
	return nil
}

// Check checks a space as a command line gives it (the error names the flag): GPU counts
// in [1, 4096], max_num_seqs in [1, MaxSimRequests] and max_num_batched_tokens in [1,
// MaxTokens], weight and KV dtypes that
// units.CanonicalDtype knows, a memory fraction in [0, 1] and max_model_len ≥ 0, and a
// workload that is valid at one request (Workload.Validate) and fits MaxModelLen.
func (sp SweepSpace) Check() error {
	probe := sp.Workload
	probe.Concurrency, probe.RequestRate = 1, 1
	if err := probe.Validate(); err != nil {
		return err
	}
	if sp.MemoryFraction < 0 || sp.MemoryFraction > 1 {
		return fmt.Errorf("--gpu-memory-utilization %g: must be in (0, 1]", sp.MemoryFraction)
	}
	if sp.MaxModelLen < 0 {
		return fmt.Errorf("--max-model-len %d: must be ≥ 1", sp.MaxModelLen)
	}
	if sp.EnforceEager {
		for _, p := range sp.Profiles {
			if err := CheckEnforceEager(p); err != nil {
				return err
			}
		}
	}
	if err := sp.Workload.CheckMaxModelLen(sp.MaxModelLen); err != nil {
		return err
	}
	for _, n := range sp.NumGPUs {
		if n < 1 || n > 4096 {
			return fmt.Errorf("--num-gpus %d: must be between 1 and 4096", n)
		}
	}
	if err := cmp.Or(belowMin("max-num-seqs", sp.MaxNumSeqs, 1, ""), belowMin("max-num-batched-tokens", sp.MaxNumBatchedTokens, 1, "")); err != nil {
		return err
	}
	if err := schedulerCaps(sp.MaxNumSeqs, sp.MaxNumBatchedTokens); err != nil {
		return err
	}
	return checkDtypes(sp.WeightDtypes, sp.KVDtypes, false)
}

// EnginesByName resolves engine profile names (Engine), each profile once in the order
// given (names of one profile, such as vllm@0.7 and vllm@0.6.3 for vllm-v0, keep the first);
// an unknown name is an error naming --engine and the allowed values.
func EnginesByName(names []string) ([]*Profile, error) {
	var out []*Profile
	seen := map[string]bool{}
	for _, name := range names {
		name = strings.TrimSpace(name)
		if seen[name] {
			continue
		}
		seen[name] = true
		p, ok, err := Engine(name)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("--engine %q: allowed values are %s", name, strings.Join(EngineNames(), ", "))
		}
		if slices.ContainsFunc(out, func(q *Profile) bool { return q.Name == p.Name }) {
			continue // another name of a profile already listed (vllm@0.7, vllm@0.6.3: vllm-v0): the same predictions twice
		}
		out = append(out, p)
	}
	return out, nil
}

// checkDtypes checks weight and KV dtypes as a command line lists them: names
// units.CanonicalDtype knows ("" the default, when allowEmpty); the error names the flags.
func checkDtypes(weights, kv []string, allowEmpty bool) error {
	for _, d := range append(append([]string{}, weights...), kv...) {
		if _, err := units.CanonicalDtype(d); err != nil || d == "" && !allowEmpty {
			return fmt.Errorf("--weight-dtype/--kv-dtype %q: allowed values are %s", d, strings.Join(units.Dtypes(), ", "))
		}
	}
	return nil
}

// belowMin is an error naming --flag for the first value below min ("must be ≥ 1" and
// hint, which says what a smaller allowed value means); nil when there is none.
// schedulerCaps refuses the max_num_seqs and max_num_batched_tokens that New refuses
// (above MaxSimRequests and MaxTokens: the profiling pass overflowed). In a sweep or a plan
// every configuration then failed, and the table said "0 fit in memory" or "none ≤ 128"
// GPUs with exit 0.
func schedulerCaps(seqs, tokens []int) error {
	for _, v := range seqs {
		if v > MaxSimRequests {
			return fmt.Errorf("--max-num-seqs %d: must be ≤ %d", v, MaxSimRequests)
		}
	}
	for _, v := range tokens {
		if v > MaxTokens {
			return fmt.Errorf("--max-num-batched-tokens %d: must be ≤ %d", v, MaxTokens)
		}
	}
	return nil
}

func belowMin(flag string, vs []int, min int, hint string) error {
	for _, v := range vs {
		if v < min {
			return fmt.Errorf("--%s %d: must be ≥ 1%s", flag, v, hint)
		}
	}
	return nil
}

// BudgetBelowSeqs reports whether d's token budget per step (max_num_batched_tokens) is
// below its max_num_seqs, which vLLM's SchedulerConfig refuses at start-up ("max_num_batched_tokens
// must be greater than or equal to max_num_seqs": each running sequence needs a token of the
// step's budget) and estimate refuses as --max-num-batched-tokens. Sweep and plan lower the
// profile's max_num_seqs to the budget, and skip a max_num_seqs given above it.
func BudgetBelowSeqs(d *Deployment) bool { return d.MaxNumBatchedTokens < d.MaxNumSeqs }

// seqsForBudget is the max_num_seqs sweep and plan run d's token budget with: d's own when
// the budget holds it; the budget when d's is the profile's default (lowered, as estimate's
// refusal advises); ok false when it was given (explicit) above the budget.
func seqsForBudget(d *Deployment, explicit bool) (seqs int, ok bool) {
	if !BudgetBelowSeqs(d) {
		return d.MaxNumSeqs, true
	}
	if explicit {
		return 0, false
	}
	return d.MaxNumBatchedTokens, true
}
