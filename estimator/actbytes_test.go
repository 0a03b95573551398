package estimator

import "testing"

// TestQuantisedGEMMReadsQuantisedInput: a W8A8 GEMM reads the FP8 activations its
// quantisation pass wrote (1 byte each) and writes a 16-bit output; the 16-bit read belongs
// to the quantisation pass (activation_quant), and counting it again in the GEMM read every
// input twice, the second time at twice its size. Hand calculation for Llama-3.1-8B in FP8 on
// an H100 (config.json: 32 layers, hidden 4096, intermediate 14336), a 4096-token prefill:
// mlp_down (K = 14336, N = 4096) moves per layer
//
//	weights 14336 · 4096 · 1 B (+ scales) + input 4096 · 14336 · 1 B + output 4096 · 4096 · 2 B,
//
// so its bytes beyond the weights are 32 · (58.72 + 33.55) MB = 2.953 GB (it was 32 · (117.44 +
// 33.55) MB = 4.832 GB), and the weights come to 32 · 58.72 MB = 1.879 GB within their scales.
// The 16-bit Llama (no quantisation pass) still reads 2-byte inputs.
func TestQuantisedGEMMReadsQuantisedInput(t *testing.T) {
	m, g := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct"), mustGPU(t, "H100 SXM")
	const M, K, N, L = 4096.0, 14336.0, 4096.0, 32.0
	for _, tc := range []struct {
		wd  string
		inB float64 // bytes per input element the GEMM reads
		wB  float64 // bytes per weight, before scales
	}{{"fp8", 1, 1}, {"bf16", 2, 2}} {
		d := mustDeploy(t, Spec{Model: m, GPU: g, WeightDtype: tc.wd, Profile: MustEngine("vllm")})
		st := d.StepTime(Batch{Prefill: []Chunk{{New: 4096}}}, true)
		var got float64
		for _, o := range st.Ops {
			if o.Name == "mlp_down" {
				got = float64(o.Bytes)
			}
		}
		act := L * M * (K*tc.inB + N*2)
		w := L * K * N * tc.wB
		if got < act+w || got > act+w*1.02 {
			t.Errorf("%s mlp_down: %.4g B, want %.4g B of activations + %.4g B of weights (+ ≤ 2%% scales) = %.4g-%.4g B", tc.wd, got, act, w, act+w, act+w*1.02)
		}
	}
}
