package estimator

import (
	"context"
	"math"
	"strings"
	"testing"

	"roofline/hardware"
	"roofline/models"
)

func mustModel(t testing.TB, id string) *models.Model {
	t.Helper()
	r := &models.Resolver{Offline: true}
	m, err := r.Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustGPU(t testing.TB, name string) *hardware.GPU {
	t.Helper()
	c, err := hardware.Load()
	if err != nil {
		t.Fatal(err)
	}
	g, err := c.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func mustDeploy(t testing.TB, s Spec) *Deployment {
	t.Helper()
	d, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func near(got, want, rel float64) bool { return math.Abs(got-want) <= rel*math.Abs(want) }

// TestIdealDecodeHandCalc checks the pure roofline of one decode step of Llama-3.1-8B on an
// H100 SXM (bf16, TP1, batch 1, 1023 cached tokens) against a hand calculation.
func TestIdealDecodeHandCalc(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	d := mustDeploy(t, Spec{Model: m, GPU: mustGPU(t, "H100 SXM"), Profile: MustEngine("ideal")})
	// Hand calculation (config.json: hidden 4096, 32 layers, 32 heads, 8 KV heads, head_dim 128,
	// intermediate 14336, vocab 128256, untied lm_head):
	//   linear weights per layer: q,k,v 4096·(4096+1024+1024) = 25,165,824; o 4096·4096 = 16,777,216;
	//   gate+up 4096·28672 = 117,440,512; down 14336·4096 = 58,720,256 → 218,103,808 · 32 layers
	//   = 6,979,321,856; lm_head 4096·128256 = 525,336,576 → 7,504,658,432 weights · 2 B
	//   = 15,009,316,864 B.
	//   activations read and written per GEMM, (K+N)·2 B: per layer (4096+6144)+(4096+4096)+
	//   (4096+28672)+(14336+4096) = 69,632 elements → ·2·32 = 4,456,448 B; lm_head (4096+128256)·2 = 264,704 B.
	//   KV read: 2·8·128·2 B = 4096 B per token per layer · 32 layers = 131,072 B/token · 1024 tokens = 134,217,728 B.
	//   elementwise: 12 · 4096 · 2 B · 32 layers = 3,145,728 B.
	//   total 15,151,401,472 B; every operator is memory-bound; 3.35e12 B/s → 4.5228 ms.
	want := 15151401472.0 / 3.35e12
	b, _ := StepBatch("decode", 1, 1023)
	st := d.StepTime(b, true)
	if !near(float64(st.Time), want, 1e-9) {
		t.Errorf("ideal decode step = %.9g s, hand calculation %.9g s", float64(st.Time), want)
	}
	if st.Bound != BoundMemory {
		t.Errorf("bound = %s, want memory", st.Bound)
	}
}

// TestIdealPrefillHandCalc: one 2048-token prompt of Llama-3.1-8B on H100 SXM, ideal profile.
func TestIdealPrefillHandCalc(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	d := mustDeploy(t, Spec{Model: m, GPU: mustGPU(t, "H100 SXM"), Profile: MustEngine("ideal")})
	const M, peak, bw = 2048.0, 989.5e12, 3.35e12
	// Each GEMM takes max(2·M·K·N/peak, (2·K·N + 2·M·(K+N))/bw) per layer.
	gemm := func(m, k, n float64) float64 { return math.Max(2*m*k*n/peak, (2*k*n+2*m*(k+n))/bw) }
	want := 32 * (gemm(M, 4096, 6144) + gemm(M, 4096, 4096) + gemm(M, 4096, 28672) + gemm(M, 14336, 4096))
	want += gemm(1, 4096, 128256) // logits for the last position only
	// Attention: causal, keys = M(M+1)/2 per head; FLOPs 2·32 heads·(128+128)·keys per layer.
	keys := M * (M + 1) / 2
	attnF := 2 * 32 * 256 * keys * 32
	// Bytes: write M tokens of KV and read them back (2·M·4096 B per layer) plus Q/O (M·32·256·2 B).
	attnB := (2*M*4096 + M*32*256*2) * 32
	want += math.Max(attnF/peak, attnB/bw)
	want += 12 * M * 4096 * 2 * 32 / bw // elementwise
	b, _ := StepBatch("prefill", 1, 2048)
	got := float64(d.StepTime(b, false).Time)
	if !near(got, want, 1e-9) {
		t.Errorf("ideal prefill = %.9g s, hand calculation %.9g s", got, want)
	}
	if st := d.StepTime(b, false); st.Bound != BoundCompute {
		t.Errorf("bound = %s, want compute", st.Bound)
	}
}

// TestDecodeMonotonic: decode time never decreases with batch or context (property).
func TestDecodeMonotonic(t *testing.T) {
	for _, id := range []string{"meta-llama/Llama-3.1-8B-Instruct", "mistralai/Mixtral-8x7B-Instruct-v0.1", "google/gemma-2-9b-it", "deepseek-ai/DeepSeek-V3"} {
		m := mustModel(t, id)
		tp := 1
		if id == "deepseek-ai/DeepSeek-V3" {
			tp = 8
		}
		d := mustDeploy(t, Spec{Model: m, GPU: mustGPU(t, "H200"), TP: tp, Profile: MustEngine("vllm")})
		prev := 0.0
		for _, bsz := range []int{1, 2, 3, 8, 16, 17, 64, 128, 256} {
			b, _ := StepBatch("decode", bsz, 1024)
			tm := d.StepSeconds(&b)
			if tm < prev {
				t.Errorf("%s: decode batch %d = %g s < batch before %g s", id, bsz, tm, prev)
			}
			prev = tm
		}
		prev = 0
		for _, ctx := range []int{1, 100, 1000, 4095, 4096, 4097, 10000, 32000} {
			b, _ := StepBatch("decode", 8, ctx)
			tm := d.StepSeconds(&b)
			if tm < prev {
				t.Errorf("%s: decode ctx %d = %g s < shorter context %g s", id, ctx, tm, prev)
			}
			prev = tm
		}
	}
}

// TestMemoryBoundScalesWithBandwidth: halving bandwidth doubles a memory-bound step under
// the ideal profile (no overheads).
func TestMemoryBoundScalesWithBandwidth(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	g := *mustGPU(t, "H100 SXM")
	d1 := mustDeploy(t, Spec{Model: m, GPU: &g, Profile: MustEngine("ideal")})
	g2 := g
	g2.MemoryBandwidth /= 2
	d2 := mustDeploy(t, Spec{Model: m, GPU: &g2, Profile: MustEngine("ideal")})
	b, _ := StepBatch("decode", 4, 512)
	t1, t2 := d1.StepSeconds(&b), d2.StepSeconds(&b)
	if !near(t2, 2*t1, 1e-9) {
		t.Errorf("half bandwidth: %g s, want 2 × %g s", t2, t1)
	}
}

// TestMoreTPNeverRaisesWeights: per-GPU weight bytes never grow with TP (property).
func TestMoreTPNeverRaisesWeights(t *testing.T) {
	for _, id := range []string{"meta-llama/Llama-3.1-70B-Instruct", "Qwen/Qwen3-30B-A3B", "deepseek-ai/DeepSeek-V3", "openai/gpt-oss-120b"} {
		m := mustModel(t, id)
		prev := math.Inf(1)
		for _, tp := range []int{1, 2, 4, 8} {
			if m.NumHeads%tp != 0 {
				continue
			}
			d := mustDeploy(t, Spec{Model: m, GPU: mustGPU(t, "H100 SXM"), TP: tp})
			w := float64(d.WeightsPerGPU())
			if w > prev {
				t.Errorf("%s: tp=%d weights %g B > %g B at smaller tp", id, tp, w, prev)
			}
			prev = w
		}
	}
}

// TestVLLMKVCapacity compares with the "GPU KV cache size" vLLM 0.15.1 logged on H100 SXM
// 80GB (gpu_memory_utilization 0.9, max_model_len 4096, max_num_seqs 128, max_num_batched_tokens
// 2048, fp16 weights): reference/serving README of the sim-to-real study.
func TestVLLMKVCapacity(t *testing.T) {
	for _, c := range []struct {
		id     string
		tp     int
		tokens int
	}{
		{"meta-llama/Llama-2-7b-hf", 1, 119408},
		{"meta-llama/Llama-2-70b-hf", 4, 501712},
		{"mistralai/Mixtral-8x7B-v0.1", 2, 440176},
		{"codellama/CodeLlama-34b-Instruct-hf", 2, 425648},
	} {
		d := mustDeploy(t, Spec{Model: mustModel(t, c.id), GPU: mustGPU(t, "H100 SXM"), TP: c.tp, WeightDtype: "fp16",
			Profile: MustEngine("vllm"), MemoryFraction: 0.9, MaxModelLen: 4096, MaxNumSeqs: 128, MaxNumBatchedTokens: 2048})
		got := d.Memory().KVCacheTokens
		if !near(float64(got), float64(c.tokens), 0.05) {
			t.Errorf("%s tp=%d: KV capacity %d tokens, vLLM logged %d (%.1f%% off)", c.id, c.tp, got, c.tokens, 100*(float64(got)/float64(c.tokens)-1))
		} else {
			t.Logf("%s tp=%d: %d tokens vs vLLM %d (%+.2f%%)", c.id, c.tp, got, c.tokens, 100*(float64(got)/float64(c.tokens)-1))
		}
	}
}

func TestDeploymentValidation(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	g := mustGPU(t, "H100 SXM")
	for _, s := range []Spec{
		{Model: m, GPU: g, TP: 3},               // 32 heads not divisible by 3
		{Model: m, GPU: g, TP: 2, NumGPUs: 3},   // 3 ≠ 2·1·1
		{Model: m, GPU: g, PP: 64},              // more stages than layers
		{Model: m, GPU: g, EP: 2},               // dense model
		{Model: m, GPU: g, WeightDtype: "fp7"},  // unknown dtype
		{Model: m, GPU: g, KVDtype: "int4"},     // not a KV dtype
		{Model: m, GPU: g, MemoryFraction: 1.5}, // fraction
		{Model: m, GPU: g, TP: -1},              // negative
	} {
		if _, err := New(s); err == nil {
			t.Errorf("New(%+v) accepted an invalid deployment", s)
		}
	}
}

func TestKVHeadsReplicated(t *testing.T) {
	// Llama-3.1-70B has 8 KV heads: at TP 16 vLLM keeps one KV head per GPU (replicated),
	// so per-GPU KV bytes per token stop shrinking: 80 layers · 2 · 1 · 128 · 2 B = 40,960 B.
	m := mustModel(t, "meta-llama/Llama-3.1-70B-Instruct")
	d := mustDeploy(t, Spec{Model: m, GPU: mustGPU(t, "H100 SXM"), TP: 16})
	if got := float64(d.KVBytesPerToken()); got != 40960 {
		t.Errorf("KV bytes/token/GPU at TP16 = %g, want 40960", got)
	}
	d8 := mustDeploy(t, Spec{Model: m, GPU: mustGPU(t, "H100 SXM"), TP: 8})
	if got := float64(d8.KVBytesPerToken()); got != 40960 {
		t.Errorf("KV bytes/token/GPU at TP8 = %g, want 40960", got)
	}
}

func TestDoesNotFit(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-70B-Instruct")
	d := mustDeploy(t, Spec{Model: m, GPU: mustGPU(t, "H100 SXM"), Profile: MustEngine("vllm"), MaxModelLen: 8192})
	err := d.CheckFits()
	nf, ok := err.(*DoesNotFitError)
	if !ok {
		t.Fatalf("70B bf16 on one 80 GB GPU: err = %v, want DoesNotFitError", err)
	}
	// 70.6e9 params · 2 B = 141 GB of weights: on 2 GPUs 70.6 GB each exceed 0.9 × 85.0 GB
	// less the 5.1 GB sampler pass; on 3 (tp=1 pp=3, stages of 27 layers) 47 GB each fit.
	if nf.MinGPUs != 3 || nf.MinTP != 1 || nf.MinPP != 3 {
		t.Errorf("min GPUs = %d (tp=%d pp=%d), want 3 (tp=1 pp=3)", nf.MinGPUs, nf.MinTP, nf.MinPP)
	}
}

// TestDoesNotFitNamesSplit: the smallest fitting count is a tp·pp split, and the error
// says which; "tensor-parallel size 12" was printed for 70B on L4, a TP size vLLM
// refuses (64 attention heads are not divisible by 12).
func TestDoesNotFitNamesSplit(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-70B-Instruct")
	for _, tc := range []struct {
		gpu           string
		maxLen        int
		wantN, tp, pp int
		wantText      string
	}{
		// Hand calculation in TestDoesNotFit: 3 stages of 47 GB fit an 80 GB H100.
		{"H100 SXM", 8192, 3, 1, 3, "3 GPUs: --tp 1 --pp 3"},
		// L4, 20.2 GB usable at 0.9: 8 GPUs (tp 8) hold 141/8 = 17.6 GB of weights + KV of
		// one 131072-token sequence at one KV head per GPU (80·2·128·2 B · 131072 = 5.4 GB)
		// + the 1.19 GiB sampler pass: 24 GB > 20.2. The next counts the grid has are 12
		// (tp 4 × pp 3, the larger TP first): 11.8 GB of weights + 27 of 80 layers of KV
		// at two heads per GPU (1.8 GB per layer-share: 3.6 GB) + 1.3 GB: 17 GB fits.
		{"L4", 0, 12, 4, 3, "12 GPUs: --tp 4 --pp 3"},
	} {
		d := mustDeploy(t, Spec{Model: m, GPU: mustGPU(t, tc.gpu), Profile: MustEngine("vllm"), MaxModelLen: tc.maxLen})
		nf, ok := d.CheckFits().(*DoesNotFitError)
		if !ok {
			t.Fatalf("%s: want DoesNotFitError", tc.gpu)
		}
		if nf.MinGPUs != tc.wantN || nf.MinTP != tc.tp || nf.MinPP != tc.pp {
			t.Errorf("%s: min %d GPUs (tp=%d pp=%d), want %d (tp=%d pp=%d)", tc.gpu, nf.MinGPUs, nf.MinTP, nf.MinPP, tc.wantN, tc.tp, tc.pp)
		}
		if msg := nf.Error(); !strings.Contains(msg, tc.wantText) || strings.Contains(msg, "tensor-parallel size is") {
			t.Errorf("%s: %q; want it to name the split (%q)", tc.gpu, msg, tc.wantText)
		}
		if tp, pp, err := MinSplit(d.Spec); err != nil || tp != tc.tp || pp != tc.pp {
			t.Errorf("%s: MinSplit = %d, %d, %v", tc.gpu, tp, pp, err)
		}
	}
}

func BenchmarkStepDecode(b *testing.B) {
	m := mustModel(b, "meta-llama/Llama-3.1-8B-Instruct")
	d := mustDeploy(b, Spec{Model: m, GPU: mustGPU(b, "H100 SXM"), Profile: MustEngine("vllm")})
	bt, _ := StepBatch("decode", 32, 1024)
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		d.StepSeconds(&bt)
	}
	cpu.report(b, 0, "op")
}

func BenchmarkStepPrefill(b *testing.B) {
	m := mustModel(b, "meta-llama/Llama-3.1-70B-Instruct")
	d := mustDeploy(b, Spec{Model: m, GPU: mustGPU(b, "H100 SXM"), TP: 4, Profile: MustEngine("vllm")})
	bt, _ := StepBatch("prefill", 4, 2048)
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		d.StepSeconds(&bt)
	}
	cpu.report(b, 0, "op")
}

// TestEmbeddedProfilesLoad: every embedded engine profile decodes strictly and validates, and
// every numeric field of the non-ideal profiles names its source.
func TestEmbeddedProfilesLoad(t *testing.T) {
	names := EngineNames()
	if len(names) < 5 {
		t.Fatalf("engine profiles: %v, want at least ideal, default, vllm, sglang, trtllm", names)
	}
	for _, n := range names {
		p, ok, err := Engine(n)
		if err != nil || !ok {
			t.Errorf("%s: ok=%v err=%v", n, ok, err)
			continue
		}
		if n != "ideal" && len(p.Sources) == 0 {
			t.Errorf("%s: no [sources]", n)
		}
	}
	if _, ok, err := Engine("mlc-llm"); ok || err != nil {
		t.Errorf("unknown engine: ok=%v err=%v, want the default profile and ok=false", ok, err)
	}
}

func TestParseProfileStrict(t *testing.T) {
	for _, doc := range []string{
		"name = \"x\"\ngemm_efficency = 0.5\n",            // misspelt key
		"name = \"x\"\nmemory_efficiency = -0.1\n",        // negative efficiency
		"name = \"x\"\nmemory_model = \"tgi\"\n",          // unknown memory model
		"name = \"x\"\nadmission = \"lazy\"\n",            // unknown admission policy
		"name = \"x\"\nstep_overhead_ms = \"fast\"\n",     // wrong type
		"name = \"x\"\n[sources]\na = \"b\"\na = \"c\"\n", // duplicate key
	} {
		if _, err := ParseProfile("p.toml", []byte(doc)); err == nil {
			t.Errorf("ParseProfile accepted %q", doc)
		}
	}
}

// TestModelNotesBecomeWarnings: a caveat of the model's reading (here a model_type the
// parser was not written against) reaches the deployment's warnings, which estimate prints.
func TestModelNotesBecomeWarnings(t *testing.T) {
	m, err := models.Parse([]byte(`{"model_type":"starcoder2","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":10,"intermediate_size":128,"max_position_embeddings":2048}`), "x/y")
	if err != nil {
		t.Fatal(err)
	}
	d := mustDeploy(t, Spec{Model: m, GPU: mustGPU(t, "H100 SXM"), Profile: MustEngine("vllm")})
	found := false
	for _, w := range d.Warnings() {
		found = found || strings.Contains(w.Error(), `model x/y: model_type "starcoder2" is not one roofline was checked against`)
	}
	if !found {
		t.Errorf("warnings %v lack the model's note", d.Warnings())
	}
	if w := mustDeploy(t, Spec{Model: mustModel(t, "meta-llama/Llama-3.1-8B-Instruct"), GPU: mustGPU(t, "H100 SXM"), Profile: MustEngine("vllm")}).Warnings(); len(w) != 0 {
		t.Errorf("Llama-3.1-8B bf16 on H100: warnings %v, want none", w)
	}
}

// Multi-step scheduling (vLLM V0 --num-scheduler-steps n): a decode-only step pays the
// profile's host costs once per n steps. Hand calculation with the vllm-v0 profile
// (step_overhead_ms 10, seq_overhead_us 500): 4 decoding sequences cost 10 + 4·0.5 = 12 ms of
// host work per step, 1.2 ms at n = 10, so the step is 10.8 ms shorter; a step with a prompt
// still pays all of it.
func TestSchedulerStepsAmortiseHostCosts(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	cat, err := hardware.Load()
	if err != nil {
		t.Fatal(err)
	}
	g, _ := cat.Lookup("A100 80GB")
	p, _, err := Engine("vllm@0.6.0")
	if err != nil {
		t.Fatal(err)
	}
	step := func(n int, b *Batch) float64 {
		d, err := New(Spec{Model: m, GPU: g, Profile: p, SchedulerSteps: n})
		if err != nil {
			t.Fatal(err)
		}
		return d.StepSeconds(b)
	}
	dec := &Batch{Decode: []int{200, 300, 400, 500}}
	if got := step(1, dec) - step(10, dec); math.Abs(got-10.8e-3) > 1e-9 {
		t.Errorf("decode step shorter by %.6f s with 10 scheduler steps, want 0.0108 s", got)
	}
	pre := &Batch{Prefill: []Chunk{{New: 200}}, Decode: []int{200, 300}}
	if got := step(1, pre) - step(10, pre); got != 0 {
		t.Errorf("a step with a prompt changed by %g s, want 0", got)
	}
	if _, err := New(Spec{Model: m, GPU: g, Profile: p, SchedulerSteps: -1}); err == nil {
		t.Error("SchedulerSteps -1 accepted")
	}
}

// TestDoesNotFitMessageAddsUp: the message set "needs weights + KV + runtime" against the
// memory left after the runtime (V100 32 GB: "needs 37.9 GB, 27.4 GB available", a 10.5 GB
// gap for a 5.9 GB shortfall). It now sets weights + KV against what is left for them.
// Hand calculation, Llama-3.1-8B: KV 32 layers · 2 · 8 KV heads · 128 · 2 B = 131,072 B
// per token, × 131,072 tokens = 17.2 GB; weights 16.1 GB (8.03 B params · 2 B).
func TestDoesNotFitMessageAddsUp(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	d := mustDeploy(t, Spec{Model: m, GPU: mustGPU(t, "V100"), Profile: MustEngine("vllm")})
	nf, ok := d.CheckFits().(*DoesNotFitError)
	if !ok {
		t.Fatal("Llama-3.1-8B at 131072 tokens on a 32 GB V100: want DoesNotFitError")
	}
	msg := nf.Error()
	for _, want := range []string{"weights 16.1 GB + KV for one 131072-token sequence 17.2 GB need 33.2 GB per GPU", "of 32.0 GB"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
	if got := float64(nf.Needed - (nf.Total - nf.Available) - nf.Weights); math.Abs(got-131072*131072) > 1 {
		t.Errorf("KV part of the need = %.0f B, want 131072 · 131072 = %d B", got, 131072*131072)
	}
	// A memory fraction that leaves nothing: no negative "available".
	d = mustDeploy(t, Spec{Model: m, GPU: mustGPU(t, "H100 SXM"), Profile: MustEngine("vllm"), MemoryFraction: 1e-9})
	if err := d.CheckFits(); err == nil || strings.Contains(err.Error(), "GB available") || !strings.Contains(err.Error(), "nothing of the 85.0 GB per GPU is left") {
		t.Errorf("fraction 1e-9: %v", err)
	}
}
