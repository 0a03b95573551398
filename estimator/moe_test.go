package estimator

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"roofline/hardware"
	"roofline/models"
)

// With attention DP (tp=1, dp=8, ep=8, TensorRT-LLM "DEP8") one GPU's experts serve the
// tokens of all 8 ranks: per GPU the routed-expert FLOPs equal those of the whole model's
// experts for M tokens split over 8 GPUs, i.e. the same as TP8 (hand calculation:
// 2·M·k·K·N·layers/8 either way), not 1/8 of it.
func TestDEPExpertsServeEveryRank(t *testing.T) {
	m, err := models.LoadCatalogue("deepseek-ai/DeepSeek-R1")
	if err != nil {
		t.Skip(err)
	}
	cat, err := hardware.Load()
	if err != nil {
		t.Fatal(err)
	}
	g, err := cat.Lookup("B200")
	if err != nil {
		t.Fatal(err)
	}
	prof := MustEngine("trtllm")
	flopsOf := func(tp, dp, ep int) float64 {
		d, err := New(Spec{Model: m, GPU: g, TP: tp, DP: dp, EP: ep, WeightDtype: "fp4", KVDtype: "fp8", Profile: prof})
		if err != nil {
			t.Fatal(err)
		}
		s := d.StepTime(Batch{Uniform: struct{ N, Ctx int }{256, 1000}}, true)
		for _, op := range s.Ops {
			if op.Name == "expert_up_gate" {
				return float64(op.FLOPs)
			}
		}
		t.Fatal("no expert_up_gate op")
		return 0
	}
	dep := flopsOf(1, 8, 8)
	// Hand calculation: 256 tokens × 8 experts × 2·7168·4096 FLOPs × 58 MoE layers / 8 GPUs × 8 ranks.
	want := 256.0 * 8 * 2 * 7168 * 4096 * 58 / 8 * 8
	if math.Abs(dep/want-1) > 1e-6 {
		t.Errorf("DEP8 expert_up_gate FLOPs per GPU = %.4g, want %.4g", dep, want)
	}
	if g := (&Deployment{Spec: Spec{TP: 1, DP: 8, EP: 8}}).moeGather(); g != 8 {
		t.Errorf("moeGather(tp1 dp8 ep8) = %g, want 8", g)
	}
	if g := (&Deployment{Spec: Spec{TP: 8, DP: 1, EP: 8}}).moeGather(); g != 1 {
		t.Errorf("moeGather(tp8 ep8) = %g, want 1", g)
	}
}

// mla_decode_efficiency applies to the absorbed MLA decode kernel only: halving it doubles the
// compute time of DeepSeek-R1's attention_decode (2·heads·(576+512) FLOPs per cached token,
// compute-bound at batch 256 × 4000 tokens) and leaves a GQA model's untouched.
func TestMLADecodeEfficiency(t *testing.T) {
	cat, err := hardware.Load()
	if err != nil {
		t.Fatal(err)
	}
	g, _ := cat.Lookup("H200")
	attn := func(model string, eff float64) float64 {
		m, err := models.LoadCatalogue(model)
		if err != nil {
			t.Skip(err)
		}
		p := *MustEngine("sglang")
		p.MLADecodeEfficiency = eff
		d, err := New(Spec{Model: m, GPU: g, TP: 8, WeightDtype: "fp8", Profile: &p})
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range d.StepTime(Batch{Uniform: struct{ N, Ctx int }{256, 4000}}, true).Ops {
			if op.Name == "attention_decode" {
				return float64(op.Compute)
			}
		}
		t.Fatal("no attention_decode")
		return 0
	}
	if a, b := attn("deepseek-ai/DeepSeek-R1", 0.4), attn("deepseek-ai/DeepSeek-R1", 0.2); math.Abs(b/a-2) > 1e-9 {
		t.Errorf("DeepSeek-R1 decode compute %g → %g s: want ×2", a, b)
	}
	if a, b := attn("meta-llama/Llama-3.1-70B-Instruct", 0.4), attn("meta-llama/Llama-3.1-70B-Instruct", 0.2); a != b {
		t.Errorf("Llama decode compute changed %g → %g s", a, b)
	}
}

// mla_ep_seq_overhead_us and mla_ep_layer_overhead_us apply only to MLA models whose MoE layers are expert
// parallel across attention-DP ranks (tp=1, dp=8, ep=8), and add exactly (hand calculation)
// seqs × ep_seq + MoE layers × ep_layer: DeepSeek-R1 has 61 layers, the first 3 dense
// (config first_k_dense_replace = 3), so 58 MoE layers; at 100 sequences, 80 µs and 250 µs:
// 100·80 µs + 58·250 µs = 8.0 + 14.5 = 22.5 ms. TP8 with ep=8 (no attention DP) and a dense
// model, and a GQA MoE model (Qwen3-235B) under DEP8, are unchanged.
func TestEPOverheadsOnlyWithAttentionDP(t *testing.T) {
	cat, err := hardware.Load()
	if err != nil {
		t.Fatal(err)
	}
	g, _ := cat.Lookup("B200")
	delta := func(model string, tp, dp, ep int) float64 {
		m, err := models.LoadCatalogue(model)
		if err != nil {
			t.Skip(err)
		}
		step := func(seq, layer float64) float64 {
			p := *MustEngine("trtllm")
			// No attention-TP figure: it is the floor of the per-layer EP cost (mlaEPLayerUs,
			// TestMLAEPLayerFloor), so with it the 0 below would count as 80 µs.
			p.MLAEPSeqOverheadUs, p.MLAEPLayerOverheadUs, p.MLATPLayerOverheadUs = seq, layer, 0
			d, err := New(Spec{Model: m, GPU: g, TP: tp, DP: dp, EP: ep, WeightDtype: "fp4", KVDtype: "fp8", Profile: &p})
			if err != nil {
				t.Fatal(err)
			}
			return d.StepSeconds(&Batch{Uniform: struct{ N, Ctx int }{100, 2000}})
		}
		return step(80, 250) - step(0, 0)
	}
	for _, tc := range []struct {
		name       string
		model      string
		tp, dp, ep int
		want       float64 // s
	}{
		{"DEP8", "deepseek-ai/DeepSeek-R1", 1, 8, 8, 100*80e-6 + 58*250e-6},
		{"TP8 EP8", "deepseek-ai/DeepSeek-R1", 8, 1, 8, 0},
		{"dense DP8", "meta-llama/Llama-3.1-8B-Instruct", 1, 8, 1, 0},
		{"GQA MoE DEP8", "Qwen/Qwen3-235B-A22B", 1, 8, 8, 0},
	} {
		if got := delta(tc.model, tc.tp, tc.dp, tc.ep); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: overhead added %.6f s, want %.6f s", tc.name, got, tc.want)
		}
	}
}

// moe_gemm_efficiency_by_dtype describes one dtype's fused-MoE kernel: for routed-expert GEMMs
// computed in that dtype its value replaces moe_efficiency in the compute roof and the expert
// weights stream at the dense rate; other dtypes and dense GEMMs keep their roofs. Hand
// calculation from the step model (compute = FLOPs/(ceiling·η(m)·f_c), memory =
// bytes/(bandwidth·η_mem·f_m)): with moe_efficiency 0.85 and an fp8 entry of 0.15, an FP8
// expert GEMM's compute time grows by 0.85/0.15 and its memory time shrinks by 0.85 up to 64
// rows per expert. Qwen3-30B-A3B routes each token to 8 of 128 experts: a 256-token prefill
// gives 256·8/128 = 16 rows per expert (full entry), 2048 tokens 128 rows (half-way in
// log(m/64)/log(256/64) = 0.5: compute ×(0.85/0.15)^0.5 = 2.380, memory ×0.85/(1 − 0.5·0.15)
// = 0.9189), 8192 tokens 512 rows (moe_efficiency again: ×1).
func TestMoEGEMMEfficiencyByDtype(t *testing.T) {
	m, err := models.LoadCatalogue("Qwen/Qwen3-30B-A3B")
	if err != nil {
		t.Skip(err)
	}
	cat, err := hardware.Load()
	if err != nil {
		t.Fatal(err)
	}
	g, _ := cat.Lookup("H100 SXM")
	tokens := 256
	ops := func(wd string, entry map[string]float64) map[string]OpTime {
		p := *MustEngine("vllm")
		p.MoEEfficiency, p.MoEGEMMEfficiencyByDtype = 0.85, entry
		d, err := New(Spec{Model: m, GPU: g, WeightDtype: wd, Profile: &p, MaxModelLen: 4096})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]OpTime{}
		for _, op := range d.StepTime(Batch{Prefill: []Chunk{{New: tokens}}}, true).Ops {
			out[op.Name] = op
		}
		return out
	}
	entry := map[string]float64{"fp8": 0.15}
	base, fp8 := ops("fp8", nil), ops("fp8", entry)
	for _, c := range []struct {
		op, roof  string
		got, want float64
	}{
		{"expert_up_gate", "compute", float64(fp8["expert_up_gate"].Compute / base["expert_up_gate"].Compute), 0.85 / 0.15},
		{"expert_down", "compute", float64(fp8["expert_down"].Compute / base["expert_down"].Compute), 0.85 / 0.15},
		{"expert_up_gate", "memory", float64(fp8["expert_up_gate"].Memory / base["expert_up_gate"].Memory), 0.85},
		{"qkv_proj", "compute", float64(fp8["qkv_proj"].Compute / base["qkv_proj"].Compute), 1},
	} {
		if math.Abs(c.got/c.want-1) > 1e-9 {
			t.Errorf("fp8 entry: %s %s time ×%.6g, want ×%.6g", c.op, c.roof, c.got, c.want)
		}
	}
	for _, c := range []struct {
		tokens                  int
		wantCompute, wantMemory float64
	}{
		{2048, math.Sqrt(0.85 / 0.15), 0.85 / 0.925},
		{8192, 1, 1},
	} {
		tokens = c.tokens
		base, fp8 := ops("fp8", nil), ops("fp8", entry)
		gotC := float64(fp8["expert_up_gate"].Compute / base["expert_up_gate"].Compute)
		gotM := float64(fp8["expert_up_gate"].Memory / base["expert_up_gate"].Memory)
		if math.Abs(gotC/c.wantCompute-1) > 1e-9 || math.Abs(gotM/c.wantMemory-1) > 1e-9 {
			t.Errorf("%d-token prefill: expert compute ×%.6g, memory ×%.6g; want ×%.6g, ×%.6g", c.tokens, gotC, gotM, c.wantCompute, c.wantMemory)
		}
	}
	tokens = 2048
	// bf16 experts compute in bf16: the fp8 entry does not apply.
	if a, b := ops("bf16", nil)["expert_up_gate"], ops("bf16", entry)["expert_up_gate"]; a.Time != b.Time {
		t.Errorf("bf16 expert_up_gate %g → %g s with an fp8-only entry", a.Time, b.Time)
	}
}

// A profile's by-dtype fractions name the dtypes they may (compute dtypes for
// moe_gemm_efficiency_by_dtype, storage dtypes for moe_dequant_memory_efficiency) and hold
// fractions in (0, 1].
func TestDtypeMapsParse(t *testing.T) {
	gemm := func(p *Profile) float64 { return p.MoEGEMMEfficiencyByDtype["fp8"] }
	dequant := func(p *Profile) float64 { return p.MoEDequantMemoryEfficiency["fp4"] }
	for _, c := range []struct {
		toml, wantErr string
		get           func(*Profile) float64
		want          float64
	}{
		{"base = \"vllm\"\nmoe_gemm_efficiency_by_dtype = { fp8 = 0.2 }\n", "", gemm, 0.2},
		{"base = \"vllm\"\nmoe_gemm_efficiency_by_dtype = { fp6 = 0.2 }\n", "moe_gemm_efficiency_by_dtype.fp6: allowed keys are bf16, fp16, fp8, int8, fp4", nil, 0},
		{"base = \"vllm\"\nmoe_gemm_efficiency_by_dtype = { fp8 = 0 }\n", "moe_gemm_efficiency_by_dtype.fp8 = 0: must be in (0, 1]", nil, 0},
		{"base = \"vllm\"\nmoe_dequant_memory_efficiency = { fp4 = 0.5 }\n", "", dequant, 0.5},
		{"base = \"vllm\"\nmoe_dequant_memory_efficiency = { bf16 = 0.5 }\n", "moe_dequant_memory_efficiency.bf16: allowed keys are fp8, int8, int4, fp4", nil, 0},
		{"base = \"vllm\"\nmoe_dequant_memory_efficiency = { fp4 = 0 }\n", "moe_dequant_memory_efficiency.fp4 = 0: must be in (0, 1]", nil, 0},
		{"base = \"vllm\"\nmoe_dequant_memory_efficiency = { fp4 = 2.5 }\n", "moe_dequant_memory_efficiency.fp4 = 2.5", nil, 0},
	} {
		p, err := ParseProfile("t.toml", []byte(c.toml))
		if err == nil {
			err = p.Validate()
		}
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%q: %v", c.toml, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%q: error %v, want one containing %q", c.toml, err, c.wantErr)
		case c.wantErr == "" && c.get(p) != c.want:
			t.Errorf("%q: entry %g, want %g", c.toml, c.get(p), c.want)
		}
	}
}

// A prompt whose prefill chunk gives the expert GEMMs of a dtype priced by
// moe_gemm_efficiency_by_dtype more than 64 rows per expert carries a warning: Qwen3-30B-A3B
// routes each token to 8 of 128 experts, so a chunk of n new tokens gives n·8/128 rows per
// expert (hand calculation): 466 → 29 rows (entry in full, no warning), 4000 → 250 rows
// (interpolated, warning), 8000 → 500 rows (moe_efficiency again, no warning); bf16 experts
// are not priced by the fp8 entry.
func TestMoEFitWarning(t *testing.T) {
	m, err := models.LoadCatalogue("Qwen/Qwen3-30B-A3B")
	if err != nil {
		t.Skip(err)
	}
	g := mustGPU(t, "H100 SXM")
	for _, c := range []struct {
		wd   string
		in   int
		warn bool
	}{{"fp8", 466, false}, {"fp8", 4000, true}, {"fp8", 8000, false}, {"bf16", 4000, false}} {
		d := mustDeploy(t, Spec{Model: m, GPU: g, WeightDtype: c.wd, Profile: MustEngine("vllm"), MaxModelLen: 8192})
		w := Workload{Kind: Rate, RequestRate: 0.5, InputLen: c.in, OutputLen: 100, NumRequests: 50}
		for _, method := range []string{"closed form", "simulation"} {
			var s Serving
			if method == "closed form" {
				s, err = d.Serve(w)
			} else {
				s, err = d.Simulate(w, 1)
			}
			if err != nil {
				t.Fatal(err)
			}
			got := false
			for _, x := range s.Warnings {
				if strings.Contains(x, "rows per expert") {
					got = true
					if c.in == 4000 && !strings.Contains(x, "~250 rows per expert") {
						t.Errorf("%s %s in=%d: %q, want ~250 rows per expert", c.wd, method, c.in, x)
					}
				}
			}
			if got != c.warn {
				t.Errorf("%s %s in=%d: warning %v, want %v (%q)", c.wd, method, c.in, got, c.warn, s.Warnings)
			}
		}
	}
}

// --weight-dtype fp4 on DeepSeek-R1 quantises the routed experts only (NVIDIA's NVFP4 DeepSeek
// checkpoints; fp4ExpertsOnly). Hand count from the catalogue config.json (hidden 7168, 61
// layers of which the first 3 dense, 256 routed experts of intermediate 2048, routed and
// shared experts' three 7168×2048 matrices): the routed experts hold
// 58·256·3·7168·2048 = 653,908,770,816 parameters, 81,738,596,352 per GPU at EP8. Between an
// fp8 and an fp4 deployment only those change dtype, so the weights per GPU differ by exactly
// 81,738,596,352 × (bytes per fp8 element − bytes per fp4 element); before, every quantised
// GEMM (attention, dense and shared-expert, another 15,156,838,400 parameters) changed too.
// --weight-dtype fp8 names this checkpoint's own format, so it is served as stored: FP8 with one
// fp32 scale per 128×128 block, 1 + 4/16384 B per weight; the NVFP4 checkpoints' FP8 layers
// carry no block scales (1 B), so those 15,156,838,400 parameters also differ by 4/16384 B.
// Attention and shared-expert GEMMs are timed at the FP8 ceiling, routed experts at FP4's.
func TestFP4DeepSeekQuantisesRoutedExpertsOnly(t *testing.T) {
	m, err := models.LoadCatalogue("deepseek-ai/DeepSeek-R1")
	if err != nil {
		t.Skip(err)
	}
	cat, err := hardware.Load()
	if err != nil {
		t.Fatal(err)
	}
	g, _ := cat.Lookup("B200")
	dep := func(wd string) *Deployment {
		d, err := New(Spec{Model: m, GPU: g, TP: 1, DP: 8, EP: 8, WeightDtype: wd, KVDtype: "fp8", Profile: MustEngine("trtllm")})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	b8, _ := m.ElemBytes(true, "fp8")
	b4, _ := m.ElemBytes(true, "fp4")
	const scale = 4.0 / (128 * 128) // the stored checkpoint's block scales
	want := 81738596352*(b8+scale-b4) + 15156838400*scale
	if got := float64(dep("fp8").WeightsPerGPU() - dep("fp4").WeightsPerGPU()); math.Abs(got-want) > 1e-6*want {
		t.Errorf("fp8 − fp4 weights per GPU = %.0f B, want %.0f B (routed experts only)", got, want)
	}
	d := dep("fp4")
	s := d.StepTime(Batch{Uniform: struct{ N, Ctx int }{64, 1000}}, true)
	for _, op := range s.Ops {
		wantDt := map[string]string{"q_a_proj": "fp8", "o_proj": "fp8", "shared_up_gate": "fp8", "mlp_down": "fp8", "expert_up_gate": "fp4", "expert_down": "fp4"}[op.Name]
		if wantDt != "" && !strings.HasPrefix(op.Ceiling, wantDt+" GEMM") {
			t.Errorf("%s: ceiling %q, want %s GEMM", op.Name, op.Ceiling, wantDt)
		}
	}
	if w := d.Warnings(); len(w) == 0 || !strings.Contains(fmt.Sprint(w), "routed experts in FP4") {
		t.Errorf("warnings %v: want the fp4-experts-only note", w)
	}
}

// TestMLATPLayerOverheadEngines: the per-MoE-layer floor of an attention-TP DeepSeek layer
// (mla_tp_layer_overhead_us, 80 µs, derived bottom-up in the trtllm profile) is charged by
// every engine that runs DeepSeek with attention TP. DeepSeek-R1 has 61 layers, the first 3
// dense (config.json first_k_dense_replace = 3), so a decode step pays 58 × 80 µs = 4.64 ms.
func TestMLATPLayerOverheadEngines(t *testing.T) {
	m := mustModel(t, "deepseek-ai/DeepSeek-R1")
	g := mustGPU(t, "H200")
	for _, e := range []string{"vllm", "vllm@0.7.3", "vllm@0.8.5", "sglang", "sglang@0.4.3", "trtllm", "trtllm@0.17"} {
		p := *MustEngine(e)
		if p.MLATPLayerOverheadUs != 80 {
			t.Errorf("%s: mla_tp_layer_overhead_us = %g, want 80", e, p.MLATPLayerOverheadUs)
			continue
		}
		step := func(p *Profile) float64 {
			d := mustDeploy(t, Spec{Model: m, GPU: g, TP: 8, WeightDtype: "fp8", Profile: p})
			return float64(d.StepTime(Batch{Uniform: struct{ N, Ctx int }{1, 1000}}, false).Time)
		}
		off := p
		off.MLATPLayerOverheadUs = 0
		if got := step(&p) - step(&off); math.Abs(got-58*80e-6) > 1e-9 {
			t.Errorf("%s: the floor adds %.4f ms to a batch-1 decode step, want 58 × 80 µs = 4.64 ms", e, got*1e3)
		}
	}
}
