package estimator

import (
	"fmt"
	"math"
	"testing"
)

// TestClosedFormGrid is the acceptance grid of the closed form: 3 models (one MoE) × 3 GPUs ×
// closed and open loops × fixed and drawn lengths (vllm bench serve --random-range-ratio 0.5)
// × light to near-saturated load. Wherever Predict uses the closed form, its mean TTFT, TPOT,
// E2E and output throughput are within 10% of the simulation of the same workload (seed 1,
// 2,000 requests); elsewhere Predict ran the simulation and said why. The reference is the
// simulation of the same scheduler (Simulate), an independent computation of the same model:
// it steps every request through the engine instead of solving for the steady state.
func TestClosedFormGrid(t *testing.T) {
	if testing.Short() {
		t.Skip("grid of ~250 simulations")
	}
	type dep struct {
		model string
		tp    int
		wd    string
	}
	deps := []dep{{"meta-llama/Llama-3.1-8B-Instruct", 1, ""}, {"Qwen/Qwen3-30B-A3B", 1, ""}, {"meta-llama/Llama-3.1-70B-Instruct", 4, ""}}
	gpus := []string{"H100 SXM", "H200", "A100 SXM4 80GB"}
	inside, outside := 0, 0
	for _, dp := range deps {
		for _, g := range gpus {
			d := mustDeploy(t, Spec{Model: mustModel(t, dp.model), GPU: mustGPU(t, g), TP: dp.tp, WeightDtype: dp.wd, Profile: MustEngine("vllm"), MaxModelLen: 4096})
			ref, err := d.Serve(Workload{Kind: Rate, RequestRate: 1, InputLen: 1000, OutputLen: 200})
			if err != nil {
				t.Fatal(err)
			}
			for _, drawn := range []bool{false, true} {
				base := Workload{InputLen: 1000, OutputLen: 200, NumRequests: 2000}
				if drawn {
					base.InputDist, base.OutputDist = RangeRatioDist(1000, 0.5), RangeRatioDist(200, 0.5)
				}
				var ws []Workload
				for _, c := range []int{1, 8, 32, 128} {
					w := base
					w.Kind, w.Concurrency = Concurrency, c
					ws = append(ws, w)
				}
				for _, f := range []float64{0.2, 0.5, 0.7, 0.9} {
					w := base
					w.Kind, w.RequestRate = Rate, f*ref.MaxRequestRate
					ws = append(ws, w)
				}
				for _, w := range ws {
					label := fmt.Sprintf("%s on %s, %s c=%d rate=%.3g drawn=%v", dp.model, g, w.Kind, w.Concurrency, w.RequestRate, drawn)
					p, err := d.Predict(w, 1)
					if err != nil {
						t.Fatalf("%s: %v", label, err)
					}
					if p.Method != "closed-form" {
						outside++
						if p.Method != "simulation" || p.MethodReason == "" {
							t.Errorf("%s: method %q (%q), want the simulation with a reason", label, p.Method, p.MethodReason)
						}
						continue
					}
					inside++
					sim, err := d.Simulate(w, 1)
					if err != nil {
						t.Fatal(err)
					}
					// An open loop's run of n requests, as vllm bench serve and the simulation
					// measure it, lasts from the first arrival to the last reply: (n−1)/λ + E2E,
					// so its throughput is n·O/((n−1)/λ + E2E) rather than the steady λ·O.
					tput := p.OutputTokS
					if w.Kind == Rate {
						n := float64(w.NumRequests)
						tput = n * p.OutputTokS / p.RequestPerS / ((n-1)/w.RequestRate + p.E2E.Mean/1e3)
					}
					for _, c := range []struct {
						name    string
						cf, sim float64
					}{{"mean TTFT", p.TTFT.Mean, sim.TTFT.Mean}, {"mean TPOT", p.TPOT.Mean, sim.TPOT.Mean}, {"mean E2E", p.E2E.Mean, sim.E2E.Mean}, {"output tok/s", tput, sim.OutputTokS}} {
						if rel := math.Abs(c.cf/c.sim - 1); rel > 0.10 {
							t.Errorf("%s: %s closed form %.4g vs simulation %.4g (%.1f%% apart)", label, c.name, c.cf, c.sim, 100*rel)
						}
					}
				}
			}
		}
	}
	t.Logf("%d grid points in the closed form's region (checked against the simulation), %d outside (simulated)", inside, outside)
	if inside < 40 || outside < 20 {
		t.Errorf("%d inside, %d outside: the grid should exercise both", inside, outside)
	}
}
