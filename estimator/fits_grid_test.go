package estimator

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"roofline/hardware"
	"roofline/models"
)

// TestFitsGrid: memory, estimate (Serve and Simulate), sweep and plan agree on fits /
// does-not-fit in every cell of models × GPUs × TP × max_model_len, and every fleet plan
// proposes passes the engine's start-up arithmetic (Memory.Fits) on at least the GPUs it
// says the model needs. The verdict under test is Memory.Fits, whose arithmetic the
// memory tests check against vLLM's logs; this test checks that no command decides apart.
func TestFitsGrid(t *testing.T) {
	ms := []*models.Model{
		mustModel(t, "meta-llama/Llama-3.1-8B-Instruct"),
		mustModel(t, "Qwen/Qwen3-30B-A3B"),
		mustModel(t, "google/gemma-3-27b-it"),
		mustModel(t, "openai/gpt-oss-20b"),
	}
	gpus := []*hardware.GPU{mustGPU(t, "H100 SXM"), mustGPU(t, "L40S"), mustGPU(t, "A10")}
	vllm := MustEngine("vllm")
	w := Workload{Kind: Concurrency, Concurrency: 4, InputLen: 1024, OutputLen: 128, NumRequests: 40}
	fits, refused := 0, 0
	for _, m := range ms {
		for _, g := range gpus {
			for _, mml := range []int{8192, 32768, 131072} {
				if mml > m.MaxContextLen {
					continue
				}
				for _, tp := range []int{1, 2, 4} {
					cell := fmt.Sprintf("%s on %d× %s, max_model_len %d", m.ID, tp, g.ID, mml)
					s := Spec{Model: m, GPU: g, TP: tp, Profile: vllm, MaxModelLen: mml}
					d, err := New(s)
					if err != nil {
						continue // invalid split (heads not divisible)
					}
					ok := d.Memory().Fits
					if ok {
						fits++
					} else {
						refused++
					}
					// memory: CheckFits is the same verdict.
					if (d.CheckFits() == nil) != ok {
						t.Errorf("%s: memory fits=%v but CheckFits says %v", cell, ok, d.CheckFits())
					}
					// estimate: the closed form and the simulator refuse exactly the cells that do not fit.
					var nf *DoesNotFitError
					_, err = d.Serve(w)
					if errors.As(err, &nf) == ok {
						t.Errorf("%s: memory fits=%v, estimate (closed form) err=%v", cell, ok, err)
					}
					if !ok {
						if _, err := d.Simulate(w, 1); !errors.As(err, &nf) {
							t.Errorf("%s: does not fit, estimate --simulate err=%v", cell, err)
						}
					}
					// sweep: a one-configuration sweep counts it as fitting only if it fits.
					res, err := Sweep(context.Background(), SweepSpace{Model: m, GPUs: []*hardware.GPU{g}, NumGPUs: []int{tp}, MaxTP: tp,
						Profiles: []*Profile{vllm}, MaxModelLen: mml, Workload: w, Concurrencies: []int{4}}, SweepOptions{})
					if err != nil {
						t.Fatalf("%s: sweep: %v", cell, err)
					}
					for _, p := range res.Points {
						pd, err := New(Spec{Model: m, GPU: g, TP: p.TP, PP: p.PP, DP: p.DP, EP: p.EP, Profile: vllm, MaxModelLen: p.MaxModelLen, MemoryFraction: p.MemoryFraction,
							MaxNumSeqs: p.MaxNumSeqs, MaxNumBatchedTokens: p.MaxNumBatchedTokens})
						if err != nil || !pd.Memory().Fits {
							t.Errorf("%s: sweep returned tp=%d pp=%d dp=%d, which does not fit (%v)", cell, p.TP, p.PP, p.DP, err)
						}
						if p.TP == tp && p.PP == 1 && !ok {
							t.Errorf("%s: does not fit, sweep returned it", cell)
						}
					}
					if ok && tp == 1 && res.Fits == 0 {
						t.Errorf("%s: fits on one GPU, sweep counts no fitting configuration", cell)
					}
				}
			}
		}
	}
	if fits == 0 || refused == 0 {
		t.Fatalf("grid has %d fitting and %d refused cells: both kinds are needed", fits, refused)
	}
	checked := 0
	// plan: every proposed fleet passes Memory.Fits with its own settings, on at least the
	// minimum it reports.
	for _, m := range ms {
		for _, mml := range []int{8192, 131072} {
			if mml > m.MaxContextLen {
				continue
			}
			pl := Planner{Model: m, Profile: vllm, Workload: Workload{Kind: Rate, RequestRate: 2, InputLen: 1024, OutputLen: 128},
				MaxNumSeqs: []int{0, 64}, MaxGPUsPerReplica: 8, MaxReplicas: 4, MaxModelLen: mml}
			for _, g := range gpus {
				p, err := pl.GPU(g)
				if err != nil {
					t.Fatal(err)
				}
				if p.Best == nil {
					continue
				}
				f := p.Best
				checked++
				d, err := New(Spec{Model: m, GPU: g, TP: f.TP, PP: f.PP, Profile: vllm, MaxModelLen: mml, MaxNumSeqs: f.MaxNumSeqs, WeightDtype: f.WeightDtype})
				if err != nil || !d.Memory().Fits {
					t.Errorf("plan %s on %s at %d: proposes tp=%d pp=%d max_num_seqs %d, which the engine would refuse (%v)", m.ID, g.ID, mml, f.TP, f.PP, f.MaxNumSeqs, err)
				}
				if min := p.MinGPUs["checkpoint"]; min == 0 || f.GPUsPerReplica < min {
					t.Errorf("plan %s on %s at %d: %d GPUs per replica, below its own minimum %d", m.ID, g.ID, mml, f.GPUsPerReplica, min)
				}
			}
		}
	}
	if checked < 5 {
		t.Errorf("only %d plans proposed a fleet: the plan check needs more cells", checked)
	}
}
