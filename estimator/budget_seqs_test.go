package estimator

import (
	"context"
	"strings"
	"testing"

	"roofline/hardware"
)

// TestSweepPlanSkipBudgetBelowSeqs: a token budget per step below max_num_seqs is refused by
// vLLM at start-up (SchedulerConfig: "max_num_batched_tokens must be greater than or equal to
// max_num_seqs") and by estimate (--max-num-batched-tokens 512: must be ≥ max_num_seqs 1024).
// The vllm profile's max_num_seqs on an H200 is 1024 (its default, shown by estimate), so a
// budget of 512 must not come out of sweep or plan with it; both ranked that pair (sweep: DeepSeek-R1 tp=8 on
// H200, max seqs 1024, max tokens 512, rank 2; plan: 16 × B200 with
// --max-num-seqs 1024 --max-num-batched-tokens 512 in its launch line).
func TestSweepPlanSkipBudgetBelowSeqs(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	g := mustGPU(t, "H200")
	vllm := MustEngine("vllm")
	if d := mustDeploy(t, Spec{Model: m, GPU: g, Profile: vllm}); d.MaxNumSeqs <= 512 {
		t.Fatalf("vllm max_num_seqs on H200 is %d: the test needs one above 512", d.MaxNumSeqs)
	}
	sp := SweepSpace{Model: m, GPUs: []*hardware.GPU{g}, NumGPUs: []int{1}, MaxTP: 1, Profiles: []*Profile{vllm},
		MaxNumBatchedTokens: []int{512, 8192}, Workload: Workload{Kind: Concurrency, InputLen: 1000, OutputLen: 200}, Concurrencies: []int{16}}
	res, err := Sweep(context.Background(), sp, SweepOptions{Objective: ObjectiveThroughput, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Points) == 0 {
		t.Fatal("no point: the 8192 budget must remain")
	}
	small := false
	for _, p := range res.Points {
		if p.MaxNumBatchedTokens < p.MaxNumSeqs {
			t.Errorf("sweep point max_num_batched_tokens %d < max_num_seqs %d: the engine refuses it", p.MaxNumBatchedTokens, p.MaxNumSeqs)
		}
		small = small || p.MaxNumBatchedTokens == 512 && p.MaxNumSeqs == 512
	}
	// The 512-token budget stays in the space with max_num_seqs lowered to 512, as estimate's
	// refusal advises ("lower --max-num-seqs to run a smaller budget").
	if !small {
		t.Error("sweep: no point with a 512-token budget and max_num_seqs 512")
	}
	pl := Planner{Model: m, Profile: vllm, Workload: Workload{Kind: Rate, RequestRate: 2, InputLen: 1000, OutputLen: 200},
		MaxNumBatchedTokens: []int{512}, MaxGPUsPerReplica: 1, MaxReplicas: 4}
	p, err := pl.GPU(g)
	if err != nil {
		t.Fatal(err)
	}
	if f := p.Best; f == nil || !strings.Contains(f.Launch.VLLM, "--max-num-seqs 512 --max-num-batched-tokens 512 ") {
		t.Errorf("plan fleet %+v: want max_num_seqs lowered to the 512-token budget", f)
	}
	pl.MaxNumSeqs = []int{1024} // given above the budget: refused by the engine, so no fleet
	if p, err = pl.GPU(g); err != nil || p.Best != nil {
		t.Errorf("plan with --max-num-seqs 1024 and a 512-token budget: fleet %+v (%v), want none", p.Best, err)
	}
}
