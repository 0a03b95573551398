package estimator

import (
	"context"
	"errors"
	"sort"
	"strconv"
)

// DisaggCandidate is one configuration of a disaggregation sweep at its highest rate that
// meets the constraints (goodput). Colocated candidates have Shape.Prefill.Replicas = 0 and
// DP replicas of TP GPUs.
type DisaggCandidate struct {
	Colocated bool        `json:"colocated"`
	Shape     DisaggShape `json:"-"`
	Label     string      `json:"config"` // "8×TP1 colocated" or "3P5D (prefill TP1, decode TP1)"
	GPUs      int         `json:"num_gpus"`
	// GoodputReqS is the highest request rate meeting every constraint (req/s, 0 = none);
	// GoodputTokSPerGPU the output tokens/s per GPU there.
	GoodputReqS       float64 `json:"goodput_req_s"`
	GoodputTokSPerGPU float64 `json:"goodput_output_tok_s_per_gpu"`
	TTFTMs            float64 `json:"ttft_ms_mean"`
	TPOTMs            float64 `json:"tpot_ms_mean"`
	KVTransferMs      float64 `json:"kv_transfer_ms,omitempty"`
}

// DisaggSweepResult lists every candidate, best first, and the best of each kind.
type DisaggSweepResult struct {
	Candidates     []DisaggCandidate `json:"candidates"`
	BestColocated  *DisaggCandidate  `json:"best_colocated"`
	BestDisagg     *DisaggCandidate  `json:"best_disaggregated"`
	GainOverColoc  float64           `json:"goodput_per_gpu_gain"` // best disaggregated / best colocated (0 when either has none)
	TransportNotes string            `json:"kv_transport"`
}

// SweepDisagg searches, for each fleet size in sizes, every colocated split DP×TP (TP a
// power of two ≤ maxTP dividing the attention heads) and every xPyD split of the same GPUs
// into prefill and decode instances of such TPs, and ranks them by goodput per GPU: the
// output tokens/s per GPU at the highest open-loop rate whose closed-form TTFT and TPOT meet
// every constraint (MaxGoodput, MaxGoodputColocated). tmpl gives the model, GPU, dtypes and
// profile; its TP/PP/DP/NumGPUs are ignored. transport is the KV link (DefaultKVLink).
func SweepDisagg(ctx context.Context, tmpl Spec, sizes []int, maxTP int, w Workload, cons []Constraint, transport string) (DisaggSweepResult, error) {
	var res DisaggSweepResult
	if len(cons) == 0 {
		return res, errors.New("sweep --disagg needs SLOs to define goodput: give at least one --constraint, e.g. --constraint ttft:p95<500ms --constraint tpot:mean<50ms")
	}
	build := func(tp, dp int) (*Deployment, error) {
		s := tmpl
		s.TP, s.DP, s.PP, s.NumGPUs, s.EP = tp, dp, 1, 0, 0
		s.Topology = Topology{}
		return New(s)
	}
	var tps []int
	for tp := 1; tp <= maxTP; tp *= 2 {
		if tmpl.Model.NumHeads%tp == 0 {
			tps = append(tps, tp)
		}
	}
	inst := map[int]*Deployment{}
	for _, tp := range tps {
		if d, err := build(tp, 1); err == nil && d.Memory().Fits {
			inst[tp] = d
		}
	}
	if len(inst) == 0 {
		return res, errors.New("sweep --disagg: the model fits no instance of TP ≤ --max-tp on this GPU")
	}
	for _, n := range sizes {
		for _, tp := range tps {
			if inst[tp] == nil || n%tp != 0 {
				continue
			}
			if err := ctx.Err(); err != nil {
				return res, err
			}
			d, err := build(tp, n/tp)
			if err != nil {
				continue
			}
			lam, s, err := d.MaxGoodputColocated(w, cons)
			if err != nil {
				continue
			}
			c := DisaggCandidate{Colocated: true, Label: labelColoc(n/tp, tp), GPUs: n, GoodputReqS: lam, GoodputTokSPerGPU: s.OutputTokS / float64(n), TTFTMs: s.TTFT.Mean, TPOTMs: s.TPOT.Mean}
			c.Shape = DisaggShape{Decode: PoolShape{Replicas: n / tp, TP: tp, EP: 1, DP: 1}}
			res.Candidates = append(res.Candidates, c)
		}
		for _, ptp := range tps {
			for _, dtp := range tps {
				p, dd := inst[ptp], inst[dtp]
				if p == nil || dd == nil {
					continue
				}
				link, err := DefaultKVLink(transport, p, dd)
				if err != nil {
					return res, err
				}
				if res.TransportNotes == "" {
					res.TransportNotes = link.Transport + ": " + link.Source
				}
				for x := 1; x*ptp < n; x++ {
					rest := n - x*ptp
					if rest%dtp != 0 {
						continue
					}
					y := rest / dtp
					if err := ctx.Err(); err != nil {
						return res, err
					}
					dx := &Disagg{Prefill: p, Decode: dd, PrefillReplicas: x, DecodeReplicas: y, Link: link}
					lam, s, err := dx.MaxGoodput(w, cons)
					if err != nil {
						continue
					}
					sh := DisaggShape{Prefill: PoolShape{x, ptp, 1, 1}, Decode: PoolShape{y, dtp, 1, 1}}
					res.Candidates = append(res.Candidates, DisaggCandidate{Shape: sh, Label: labelDisagg(sh), GPUs: n, GoodputReqS: lam,
						GoodputTokSPerGPU: s.OutputTokS / float64(n), TTFTMs: s.TTFT.Mean, TPOTMs: s.TPOT.Mean, KVTransferMs: s.KVTransferMs})
				}
			}
		}
	}
	sort.SliceStable(res.Candidates, func(i, j int) bool {
		return res.Candidates[i].GoodputTokSPerGPU > res.Candidates[j].GoodputTokSPerGPU
	})
	for i := range res.Candidates {
		c := &res.Candidates[i]
		if c.GoodputReqS <= 0 {
			continue
		}
		if c.Colocated && res.BestColocated == nil {
			res.BestColocated = c
		}
		if !c.Colocated && res.BestDisagg == nil {
			res.BestDisagg = c
		}
	}
	if res.BestColocated != nil && res.BestDisagg != nil {
		res.GainOverColoc = res.BestDisagg.GoodputTokSPerGPU / res.BestColocated.GoodputTokSPerGPU
	}
	return res, nil
}

func labelColoc(dp, tp int) string {
	return strconv.Itoa(dp) + "×TP" + strconv.Itoa(tp) + " colocated"
}

func labelDisagg(s DisaggShape) string {
	return strconv.Itoa(s.Prefill.Replicas) + "P" + strconv.Itoa(s.Decode.Replicas) + "D (prefill TP" + strconv.Itoa(s.Prefill.TP) + ", decode TP" + strconv.Itoa(s.Decode.TP) + ")"
}
