package estimator

import (
	"math/rand/v2"
	"testing"
)

// TestGEMMTableExact: a step priced through the deployment's GEMM table (gemmtable.go) is
// bit for bit the step priced directly — time, FLOPs, bytes and the time by bound — over
// dense, MoE, MLA, sliding-window and mixed-precision models, TP/PP/EP splits, W8A8 and
// weight-only dtypes, speculative verification, and batches of prefill chunks beside
// decoding sequences; the second lookup of each shape reads the kept entries. The
// expected values are the direct step model's own (the table must not change a number).
func TestGEMMTableExact(t *testing.T) {
	type dep struct {
		model, gpu, dtype    string
		tp, pp, ep, dp, gpus int
		engine               string
	}
	deps := []dep{
		{"meta-llama/Llama-3.1-8B-Instruct", "H100 SXM", "", 1, 1, 0, 1, 1, "vllm"},
		{"meta-llama/Llama-3.1-8B-Instruct", "H100 SXM", "fp8", 1, 1, 0, 1, 1, "vllm"},
		{"meta-llama/Llama-3.1-70B-Instruct", "A100", "", 4, 2, 0, 1, 8, "sglang"},
		{"Qwen/Qwen3-30B-A3B", "H200", "fp8", 2, 1, 2, 1, 2, "vllm"},
		{"deepseek-ai/DeepSeek-V3", "H200", "", 8, 1, 8, 1, 8, "sglang"},
		{"google/gemma-2-9b-it", "L40S", "", 1, 1, 0, 1, 1, "trtllm"},
		{"openai/gpt-oss-20b", "H100 SXM", "", 1, 1, 0, 1, 1, "vllm"},
		{"mistralai/Mixtral-8x7B-Instruct-v0.1", "MI300X", "", 2, 1, 0, 1, 2, "vllm"},
	}
	r := rand.New(rand.NewPCG(3, 4))
	checked := 0
	for _, x := range deps {
		d, err := New(Spec{Model: mustModel(t, x.model), GPU: mustGPU(t, x.gpu), NumGPUs: x.gpus, TP: x.tp, PP: x.pp, EP: x.ep, DP: x.dp,
			WeightDtype: x.dtype, Profile: MustEngine(x.engine), MaxModelLen: 8192})
		if err != nil {
			t.Fatalf("%+v: %v", x, err)
		}
		var batches []Batch
		for range 300 {
			var b Batch
			for range r.IntN(4) {
				b.Prefill = append(b.Prefill, Chunk{New: 1 + r.IntN(9000), Past: r.IntN(3) * r.IntN(8000)})
			}
			for range r.IntN(3) {
				b.Decode = append(b.Decode, r.IntN(20000))
			}
			b.Uniform.N, b.Uniform.Ctx = r.IntN(3)*r.IntN(600), r.IntN(30000)
			b.Verify = []int{0, 1, 4}[r.IntN(3)]
			batches = append(batches, b)
		}
		for round := range 2 { // first fills the table, then reads it
			for i := range batches {
				b := &batches[i]
				var want, got stepAcc
				got.tab = d.gemmTab
				d.step(b, &want)
				d.step(b, &got)
				if want.total != got.total || want.flops != got.flops || want.bytes != got.bytes || want.bound != got.bound {
					t.Fatalf("%s %s on %d× %s, round %d, batch %+v: table gives time %v FLOPs %v bytes %v bounds %v, direct %v %v %v %v",
						x.model, x.dtype, x.gpus, x.gpu, round, *b, got.total, got.flops, got.bytes, got.bound, want.total, want.flops, want.bytes, want.bound)
				}
				checked++
			}
		}
	}
	if d := mustDeploy(t, Spec{Model: mustModel(t, "meta-llama/Llama-3.1-8B-Instruct"), GPU: mustGPU(t, "H100 SXM"), Profile: MustEngine("vllm")}); d.gemmTab.dir.Load() != nil {
		t.Error("a new deployment's table is built before it is used")
	}
	t.Logf("%d steps identical", checked)
}

// TestGEMMTableConcurrent: estimates of one deployment from several goroutines (which share
// its GEMM table) equal the same estimates each made on a new deployment (whose first
// estimate prices its steps directly, gemmTable.again). Run
// with -race, it also checks that the table is read and filled without a data race.
func TestGEMMTableConcurrent(t *testing.T) {
	spec := Spec{Model: mustModel(t, "meta-llama/Llama-3.1-8B-Instruct"), GPU: mustGPU(t, "H100 SXM"), Profile: MustEngine("vllm"), MaxModelLen: 8192}
	shared := mustDeploy(t, spec)
	const workers, each = 4, 40
	load := func(g, i int) Workload {
		return Workload{Kind: Concurrency, InputLen: 100 + 37*(g*each+i), OutputLen: 64 + i, Concurrency: 1 + (g+i)%48}
	}
	got := make([][]Serving, workers)
	done := make(chan int)
	for g := range workers {
		go func() {
			for i := range each {
				s, err := shared.Serve(load(g, i))
				if err != nil {
					t.Error(err)
				}
				got[g] = append(got[g], s)
			}
			done <- g
		}()
	}
	for range workers {
		<-done
	}
	for g := range workers {
		for i := range each {
			want, err := mustDeploy(t, spec).Serve(load(g, i))
			if err != nil {
				t.Fatal(err)
			}
			if i >= len(got[g]) || got[g][i].TTFT != want.TTFT || got[g][i].E2E != want.E2E || got[g][i].MaxRequestRate != want.MaxRequestRate {
				t.Fatalf("worker %d estimate %d: the shared deployment's differs from a new one's", g, i)
			}
		}
	}
}

// TestGEMMLastExact: a step priced through gemmLast (a start-up burst's steps on a
// deployment's first estimate) is bit for bit the step priced directly — time, FLOPs, bytes
// and the time by bound — over the models, splits and dtypes of TestGEMMTableExact, for runs
// of steps of one token count whose heads differ (a prompt's chunk split in two: the same
// tokens over one more sequence), as a burst's full-budget steps are, and steps of another
// count between them. The expected values are the direct step model's own.
func TestGEMMLastExact(t *testing.T) {
	deps := []Spec{
		{GPU: mustGPU(t, "H100 SXM"), Profile: MustEngine("vllm")},
		{GPU: mustGPU(t, "H100 SXM"), WeightDtype: "fp8", Profile: MustEngine("vllm")},
		{GPU: mustGPU(t, "A100"), NumGPUs: 8, TP: 4, PP: 2, Profile: MustEngine("sglang")},
		{GPU: mustGPU(t, "H200"), NumGPUs: 2, TP: 2, EP: 2, WeightDtype: "fp8", Profile: MustEngine("vllm")},
		{GPU: mustGPU(t, "H200"), NumGPUs: 8, TP: 8, EP: 8, Profile: MustEngine("sglang")},
		{GPU: mustGPU(t, "L40S"), Profile: MustEngine("trtllm")},
		{GPU: mustGPU(t, "H100 SXM"), Profile: MustEngine("vllm")},
		{GPU: mustGPU(t, "MI300X"), NumGPUs: 2, TP: 2, Profile: MustEngine("vllm")},
	}
	ids := []string{"meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-70B-Instruct",
		"Qwen/Qwen3-30B-A3B", "deepseek-ai/DeepSeek-V3", "google/gemma-2-9b-it", "openai/gpt-oss-20b", "mistralai/Mixtral-8x7B-Instruct-v0.1"}
	r := rand.New(rand.NewPCG(7, 8))
	checked, hits := 0, 0
	for i, sp := range deps {
		sp.Model, sp.MaxModelLen = mustModel(t, ids[i]), 8192
		d := mustDeploy(t, sp)
		last := newGEMMLast(d)
		if last == nil {
			t.Fatalf("%s: the last GEMM is not the head", ids[i])
		}
		for range 200 {
			var b Batch
			for range 1 + r.IntN(4) {
				b.Prefill = append(b.Prefill, Chunk{New: 2 + r.IntN(3000), Past: r.IntN(2) * r.IntN(8000)})
			}
			b.Uniform.N, b.Uniform.Ctx = r.IntN(3)*r.IntN(300), r.IntN(9000)
			b.Verify = []int{0, 0, 4}[r.IntN(3)]
			split := b
			split.Prefill = append([]Chunk{}, b.Prefill...)
			c := split.Prefill[0]
			split.Prefill[0].New = c.New / 2
			split.Prefill = append(split.Prefill, Chunk{New: c.New - c.New/2, Past: c.Past + c.New/2})
			for _, x := range []*Batch{&b, &split, &b} {
				var want, got stepAcc
				got.last = last
				d.step(x, &want)
				had := last.have && last.tokens == x.Prefill[0].New+sumNew(x.Prefill[1:])+x.Uniform.N*max(x.Verify, 1)
				d.step(x, &got)
				if want.total != got.total || want.flops != got.flops || want.bytes != got.bytes || want.bound != got.bound {
					t.Fatalf("%s on %s, batch %+v: kept GEMMs give time %v FLOPs %v bytes %v bounds %v, direct %v %v %v %v",
						ids[i], sp.GPU.ID, *x, got.total, got.flops, got.bytes, got.bound, want.total, want.flops, want.bytes, want.bound)
				}
				if had {
					hits++
				}
				checked++
			}
		}
	}
	if hits < checked/2 {
		t.Errorf("%d of %d steps read the kept GEMMs: want most", hits, checked)
	}
	t.Logf("%d steps identical, %d from the kept GEMMs", checked, hits)
}

func sumNew(cs []Chunk) int {
	n := 0
	for _, c := range cs {
		n += c.New
	}
	return n
}
