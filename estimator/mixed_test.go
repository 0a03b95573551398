package estimator

import (
	"math"
	"strings"
	"testing"

	"roofline/models"
)

// TestMixedPrecisionGEMMs: a compressed-tensors checkpoint with FP8 attention and NVFP4 MLP
// runs each module group at its own tensor rate. On B200 (FP8 and FP4 tensor cores) qkv_proj
// is an fp8 GEMM and mlp_up_gate an fp4 one; on H100 (no FP4) the MLP weights are dequantised
// and computed in bf16 while attention stays fp8. Hand calculation of qkv_proj on H100 for a
// 4096-token prefill: 2 · 4096 · 4096 · 6144 · 4 layers = 824.6 GFLOP at the H100 fp8 ceiling
// 1402.6 TFLOP/s (stas00 MAMF, data/hardware/ceilings.csv) × η(4096) = 1 · 4096/(4096 + 24)
// (the ideal profile with achievable ceilings and gemm_half_m 24)
// → 591.4 µs of compute.
func TestMixedPrecisionGEMMs(t *testing.T) {
	cfg := `{"model_type":"llama","hidden_size":4096,"num_hidden_layers":4,"num_attention_heads":32,"num_key_value_heads":8,
"vocab_size":1000,"intermediate_size":14336,"max_position_embeddings":8192,"torch_dtype":"bfloat16","quantization_config":{"quant_method":"compressed-tensors","ignore":["lm_head"],"config_groups":{
"group_0":{"targets":["re:.*self_attn.*"],"weights":{"num_bits":8,"type":"float","strategy":"channel"}},
"group_1":{"targets":["re:.*mlp.*"],"weights":{"num_bits":4,"type":"float","strategy":"tensor_group","group_size":16}}}}}`
	m, err := models.Parse([]byte(cfg), "mixed")
	if err != nil {
		t.Fatal(err)
	}
	ceil := func(st Step, op string) string {
		for _, o := range st.Ops {
			if o.Name == op {
				return o.Ceiling
			}
		}
		return ""
	}
	b, _ := StepBatch("prefill", 1, 4096)
	for _, c := range []struct {
		gpu, qkv, mlp string
	}{
		{"B200", "fp8 GEMM", "fp4 GEMM"},
		{"H100 SXM", "fp8 GEMM", "bf16 GEMM"},
	} {
		p := *MustEngine("ideal") // efficiencies 1, no overheads
		p.Ceilings, p.GEMMHalfM, p.GEMMEfficiency, p.GEMMEfficiencyByDtype = "achievable", 24, 1, nil
		d := mustDeploy(t, Spec{Model: m, GPU: mustGPU(t, c.gpu), Profile: &p})
		st := d.StepTime(b, true)
		if got := ceil(st, "qkv_proj"); !strings.HasPrefix(got, c.qkv) {
			t.Errorf("%s qkv_proj: %q, want %s", c.gpu, got, c.qkv)
		}
		if got := ceil(st, "mlp_up_gate"); !strings.HasPrefix(got, c.mlp) {
			t.Errorf("%s mlp_up_gate: %q, want %s", c.gpu, got, c.mlp)
		}
		if c.gpu == "H100 SXM" {
			for _, o := range st.Ops {
				if o.Name == "qkv_proj" {
					want := 2 * 4096.0 * 4096 * 6144 * 4 / (1402.6e12 * 4096 / (4096 + 24))
					if math.Abs(float64(o.Compute)/want-1) > 1e-6 {
						t.Errorf("H100 qkv_proj compute %.4g s, want %.4g s", float64(o.Compute), want)
					}
				}
			}
		}
	}
}
