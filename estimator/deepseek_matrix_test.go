package estimator

import (
	"fmt"
	"math"
	"testing"
)

// TestDeepSeekR1MatrixInvariants walks a slice of a planner's DeepSeek-R1 matrix (8 B200,
// FP8 weights, 1024 in / 1024 out, closed loop at 4-64 clients, 20 of them not a multiple of
// the 8 ranks) over every engine release
// the tool offers and the three layouts engines run it in (TP8; TP8 with EP8; attention DP8 +
// EP8), as estimate predicts it (Deployment.Predict: the closed form or the simulation), and
// checks what must hold whatever the constants:
//   - more clients never lower the output throughput of the deployment and never shorten a
//     decode step (TPOT), short of KV-cache exhaustion, which 8 B200 do not reach here
//     (1024 + 1024 tokens × 64 clients ≪ the KV capacity);
//   - Little's law for a closed loop: request_per_s × mean E2E = clients (within 3%: a finite
//     simulated run counts its drain; 20 clients on 8 ranks were simulated as 24 before);
//   - with no more clients than attention-DP ranks every client has a rank to itself, so
//     TTFT is the same at 4 and 8 clients (it fell from 83 to 72 ms before).
//
// vLLM 0.7.3 (V0) has no attention DP + EP (CheckEngineLayout; TestAttentionDPByRelease): its
// DP8+EP8 cell must be refused, and its other layouts are walked.
func TestDeepSeekR1MatrixInvariants(t *testing.T) {
	m, g := mustModel(t, "deepseek-ai/DeepSeek-R1"), mustGPU(t, "b200")
	layouts := []struct {
		name       string
		tp, dp, ep int
	}{{"TP8", 8, 1, 1}, {"TP8+EP8", 8, 1, 8}, {"DP8+EP8", 1, 8, 8}}
	for _, eng := range []string{"sglang", "sglang@0.4.6", "trtllm", "vllm", "vllm@0.7.3"} {
		p, _, err := Engine(eng)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range layouts {
			if CheckEngineLayout(p, l.tp, l.dp, l.ep) != nil {
				if eng != "vllm@0.7.3" || l.name != "DP8+EP8" {
					t.Errorf("%s %s: refused (%v), want predicted", eng, l.name, CheckEngineLayout(p, l.tp, l.dp, l.ep))
				}
				continue
			} else if eng == "vllm@0.7.3" && l.name == "DP8+EP8" {
				t.Errorf("%s %s: accepted, want refused (vLLM V0 has no attention DP)", eng, l.name)
			}
			d := mustDeploy(t, Spec{Model: m, GPU: g, TP: l.tp, DP: l.dp, EP: l.ep, WeightDtype: "fp8", Profile: p})
			name := fmt.Sprintf("%s %s", eng, l.name)
			var prev Serving
			prevC := 0
			for i, c := range []int{4, 8, 16, 20, 32, 64} {
				s, err := d.Predict(Workload{Kind: Concurrency, InputLen: 1024, OutputLen: 1024, Concurrency: c}, 1)
				if err != nil {
					t.Fatalf("%s, %d clients: %v", name, c, err)
				}
				if s.Preemptions > 0 {
					t.Fatalf("%s, %d clients: %d preemptions; the invariants below assume none", name, c, s.Preemptions)
				}
				if lit := s.RequestPerS * s.E2E.Mean / 1e3; math.Abs(lit/float64(c)-1) > 0.03 {
					t.Errorf("%s, %d clients (%s): %.3f req/s × %.0f ms = %.2f clients, want %d (Little's law)", name, c, s.Method, s.RequestPerS, s.E2E.Mean, lit, c)
				}
				if i > 0 {
					if s.OutputTokS < prev.OutputTokS*0.999 {
						t.Errorf("%s: output %.0f tok/s at %d clients, below %.0f at %d", name, s.OutputTokS, c, prev.OutputTokS, prevC)
					}
					if s.TPOT.Mean < prev.TPOT.Mean*0.999 {
						t.Errorf("%s: TPOT %.2f ms at %d clients, below %.2f ms at %d", name, s.TPOT.Mean, c, prev.TPOT.Mean, prevC)
					}
					if l.dp == 8 && c == 8 && math.Abs(s.TTFT.Mean/prev.TTFT.Mean-1) > 1e-9 {
						t.Errorf("%s: TTFT %.1f ms at 8 clients and %.1f ms at 4; one client per rank in both", name, s.TTFT.Mean, prev.TTFT.Mean)
					}
				}
				prev, prevC = s, c
			}
		}
	}
}
