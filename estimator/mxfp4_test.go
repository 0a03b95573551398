package estimator

import (
	"math"
	"strings"
	"testing"
)

// TestMXFP4MoEComputeDtype: with mxfp4_moe_compute_dtype = "bf16" (the trtllm profile:
// TensorRT-LLM's W4A16_MXFP4 MoE, 16-bit activations and MXFP4 weights dequantised in the
// grouped GEMM) the routed experts of gpt-oss on a B200 are timed at the bf16 GEMM ceiling,
// not at the FP4 one; the MXFP4 weight bytes do not change, and on an H100 (no FP4 tensor
// cores: bf16 either way) nothing changes.
//
// Hand calculation, gpt-oss-20b (hidden 2880, expert intermediate 2880, 32 experts, top-4,
// 24 layers), one prefill of 8192 tokens on one B200:
//
//	expert_up_gate FLOPs = 8192 tokens × 4 experts × 2 × 2880 × (2 × 2880) × 24 layers
//	                     = 2.6089e13 FLOP
//	rows per expert      = 8192 × 4 / 32 = 1024 (every expert touched)
//	compute time         = FLOPs / (bf16 ceiling × gemm_efficiency 0.87 × 1024/(1024 + gemm_half_m 16)
//	                                × moe_efficiency 0.75)
func TestMXFP4MoEComputeDtype(t *testing.T) {
	m := mustModel(t, "openai/gpt-oss-20b")
	p, _, err := Engine("trtllm")
	if err != nil {
		t.Fatal(err)
	}
	if p.MXFP4MoEComputeDtype != "bf16" || p.GEMMEfficiency != 0.87 || p.GEMMHalfM != 16 || p.MoEEfficiency != 0.75 {
		t.Fatalf("trtllm profile: mxfp4_moe_compute_dtype %q, gemm_efficiency %g, gemm_half_m %g, moe_efficiency %g; the hand calculation assumes bf16, 0.87, 16, 0.75",
			p.MXFP4MoEComputeDtype, p.GEMMEfficiency, p.GEMMHalfM, p.MoEEfficiency)
	}
	unset := *p
	unset.MXFP4MoEComputeDtype = ""
	upGate := func(gpu string, prof *Profile) (OpTime, *Deployment) {
		d, err := New(Spec{Model: m, GPU: mustGPU(t, gpu), TP: 1, Profile: prof})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range d.StepTime(Batch{Prefill: []Chunk{{New: 8192}}}, true).Ops {
			if o.Name == "expert_up_gate" {
				return o, d
			}
		}
		t.Fatal("no expert_up_gate operator")
		return OpTime{}, nil
	}

	b200 := mustGPU(t, "B200")
	bf16 := b200.Achievable.GEMM["bf16"].Value
	if bf16 == 0 {
		t.Fatal("B200 has no bf16 GEMM ceiling in the catalogue")
	}
	const flops = 8192 * 4 * 2 * 2880 * (2 * 2880) * 24.0
	op, d := upGate("B200", p)
	if got := float64(op.FLOPs); math.Abs(got/flops-1) > 1e-9 {
		t.Errorf("expert_up_gate FLOPs %.6g, want %.6g (hand calculation)", got, flops)
	}
	want := flops / (bf16 * 0.87 * 1024 / 1040 * 0.75)
	if got := float64(op.Compute); math.Abs(got/want-1) > 1e-6 {
		t.Errorf("B200 expert_up_gate compute %.6g s, want %.6g s (bf16 ceiling)", got, want)
	}
	if d.ComputeDtype != "bf16" {
		t.Errorf("B200 compute dtype %q, want bf16 (the header's \"GEMMs in\")", d.ComputeDtype)
	}
	listed := false
	for _, q := range d.Parameters() {
		listed = listed || (q.Name == "mxfp4_moe_compute_dtype" && q.Value == 16 && strings.Contains(q.Source, "W4A16_MXFP4"))
	}
	if !listed {
		t.Errorf("Parameters() does not list mxfp4_moe_compute_dtype (16 activation bits, with its source)")
	}
	found := false
	for _, w := range d.Warnings() {
		found = found || strings.Contains(w.Error(), "mxfp4_moe_compute_dtype = bf16")
	}
	if !found {
		t.Errorf("no warning names mxfp4_moe_compute_dtype: %v", d.Warnings())
	}

	// Unset: the FP4 ceiling, as before; the same FLOPs and weights. The W4A4 GEMM reads the
	// FP4 activations its quantisation pass wrote (0.5 B) where W4A16 reads 16-bit ones (2 B):
	// 8192 × 4 routed rows × K 2880 × 24 layers × 1.5 B = 3,397,386,240 B fewer.
	op4, d4 := upGate("B200", &unset)
	fp4 := b200.Achievable.GEMM["fp4"].Value
	if got, want := float64(op4.Compute), flops/(fp4*0.87*1024/1040*0.75); math.Abs(got/want-1) > 1e-6 {
		t.Errorf("unset: B200 expert_up_gate compute %.6g s, want %.6g s (fp4 ceiling)", got, want)
	}
	if d4.ComputeDtype != "fp4" || math.Abs(float64(op.Bytes-op4.Bytes)-8192*4*2880*24*1.5) > 1 || d4.WeightsPerGPU() != d.WeightsPerGPU() {
		t.Errorf("unset: compute dtype %q (want fp4), bytes %g vs %g (want 3,397,386,240 fewer), weights %g vs %g (want equal)",
			d4.ComputeDtype, float64(op4.Bytes), float64(op.Bytes), float64(d4.WeightsPerGPU()), float64(d.WeightsPerGPU()))
	}

	// H100 has no FP4 tensor cores: bf16 with or without the field.
	if a, _ := upGate("H100", p); a.Time != func() OpTime { o, _ := upGate("H100", &unset); return o }().Time {
		t.Errorf("H100: the field changed expert_up_gate time")
	}

	// A re-quantised checkpoint (--weight-dtype fp8) is not an MXFP4 one: the field does not apply.
	d8, err := New(Spec{Model: m, GPU: b200, TP: 1, WeightDtype: "fp8", Profile: p})
	if err != nil {
		t.Fatal(err)
	}
	if d8.ComputeDtype != "fp8" {
		t.Errorf("--weight-dtype fp8: compute dtype %q, want fp8", d8.ComputeDtype)
	}
}

// TestMXFP4MoEComputeDtypeValidate: a value outside the GEMM dtypes is refused, naming the field.
func TestMXFP4MoEComputeDtypeValidate(t *testing.T) {
	for _, tc := range []struct {
		v  string
		ok bool
	}{{"", true}, {"bf16", true}, {"fp8", true}, {"fp4", true}, {"int4", false}, {"mxfp8", false}} {
		p := Profile{Name: "x", MXFP4MoEComputeDtype: tc.v}
		err := p.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("mxfp4_moe_compute_dtype %q: error %v, want ok=%v", tc.v, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "mxfp4_moe_compute_dtype") {
			t.Errorf("error %q does not name the field", err)
		}
	}
}
