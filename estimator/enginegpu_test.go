package estimator

import (
	"strings"
	"testing"
)

// TestEngineGPUVendor: TensorRT-LLM builds CUDA kernels for NVIDIA GPUs only (its support
// matrix, nvidia.github.io/TensorRT-LLM/reference/support-matrix.html, lists Blackwell,
// Hopper, Ada Lovelace and Ampere parts and no other vendor's), so every trtllm release is
// refused on the AMD Instinct parts of the catalogue (vendor "AMD" in data/gpus.toml), with a
// line naming the engine, the GPU and what runs there; vLLM and SGLang ship ROCm builds (their
// installation guides) and are kept. A GPU with no vendor stated is not refused.
func TestEngineGPUVendor(t *testing.T) {
	r1 := mustModel(t, "deepseek-ai/DeepSeek-R1")
	for _, tc := range []struct {
		engine, gpu string
		refused     bool
	}{
		{"trtllm", "mi355x", true},
		{"trtllm", "mi300x", true},
		{"trtllm@0.17", "mi325x", true},
		{"trtllm", "h200", false},
		{"trtllm", "b300", false},
		{"sglang", "mi355x", false},
		{"sglang@0.4.6", "mi300x", false},
		{"vllm", "mi325x", false},
		{"vllm@0.7.3", "mi300x", false},
	} {
		p, _, err := Engine(tc.engine)
		if err != nil {
			t.Fatal(err)
		}
		_, err = New(Spec{Model: r1, GPU: mustGPU(t, tc.gpu), TP: 8, Profile: p})
		if tc.refused {
			if err == nil {
				t.Errorf("%s on %s: accepted, want refused (TensorRT-LLM has no build for this vendor)", tc.engine, tc.gpu)
			} else if msg := err.Error(); !strings.Contains(msg, "--engine trtllm") || !strings.Contains(msg, "NVIDIA GPUs only") || !strings.Contains(msg, "AMD") || !strings.Contains(msg, "vllm") {
				t.Errorf("%s on %s: %q, want the engine, 'NVIDIA GPUs only', the GPU's vendor and an engine that runs there", tc.engine, tc.gpu, msg)
			}
		} else if err != nil {
			t.Errorf("%s on %s: %v, want accepted", tc.engine, tc.gpu, err)
		}
	}
	// A --gpu-file entry without a vendor is not refused: nothing says it is not NVIDIA's.
	g := *mustGPU(t, "mi300x")
	g.Vendor = ""
	if err := CheckEngineGPU(MustEngine("trtllm"), &g); err != nil {
		t.Errorf("trtllm on a GPU with no vendor: %v, want accepted", err)
	}
}

// TestTRTLLMFP4NeedsBlackwell: TensorRT-LLM's NVFP4 GEMM and MoE kernels run on Blackwell's
// FP4 tensor cores only (its quantization guide's hardware table lists NVFP4 for Blackwell,
// not Hopper or Ada), so DeepSeek-R1 re-quantised to fp4 under trtllm is refused on H200 and
// H100 (no fp4_tflops_dense in data/gpus.toml) and kept on B200; vLLM, which dequantises FP4
// weights on Hopper, keeps it with the dequantisation warning; a checkpoint stored in MXFP4
// (gpt-oss-120b: served as stored, TRTMAIN-0017 runs it under TensorRT-LLM on an H200) is
// not a re-quantisation and is kept.
func TestTRTLLMFP4NeedsBlackwell(t *testing.T) {
	r1 := mustModel(t, "deepseek-ai/DeepSeek-R1")
	for _, tc := range []struct {
		engine, gpu, model, wd string
		refused                bool
	}{
		{"trtllm", "h200", "deepseek-ai/DeepSeek-R1", "fp4", true},
		{"trtllm@0.17", "H100 SXM", "deepseek-ai/DeepSeek-R1", "fp4", true},
		{"trtllm", "b200", "deepseek-ai/DeepSeek-R1", "fp4", false},
		{"trtllm", "h200", "deepseek-ai/DeepSeek-R1", "fp8", false},
		{"vllm", "h200", "deepseek-ai/DeepSeek-R1", "fp4", false},
		{"trtllm", "h200", "openai/gpt-oss-120b", "fp4", false},
	} {
		p, _, err := Engine(tc.engine)
		if err != nil {
			t.Fatal(err)
		}
		m := r1
		if tc.model != r1.ID {
			m = mustModel(t, tc.model)
		}
		tp := 8
		if m != r1 {
			tp = 1
		}
		_, err = New(Spec{Model: m, GPU: mustGPU(t, tc.gpu), TP: tp, WeightDtype: tc.wd, Profile: p})
		switch {
		case tc.refused && err == nil:
			t.Errorf("%s %s on %s under %s: accepted, want refused (no NVFP4 kernels without FP4 tensor cores)", tc.model, tc.wd, tc.gpu, tc.engine)
		case tc.refused && !strings.Contains(err.Error(), "--weight-dtype fp4 with --engine trtllm") || tc.refused && !strings.Contains(err.Error(), "allowed there: fp8"):
			t.Errorf("%s on %s under %s: %q, want the flag, the engine and what is allowed", tc.model, tc.gpu, tc.engine, err)
		case !tc.refused && err != nil:
			t.Errorf("%s %s on %s under %s: %v, want accepted", tc.model, tc.wd, tc.gpu, tc.engine, err)
		}
	}
}

// TestVLLMBeforeBlackwellWarns: vLLM 0.7.x was built on PyTorch 2.5.1 and 0.8.x on 2.6.0 (the
// releases' requirements files); Blackwell support came with PyTorch 2.7.0's CUDA 12.8 wheels
// (its release notes), which vLLM 0.9.0 adopted. A release profile wholly below 0.9 on a
// Blackwell GPU is still predicted, with a warning saying so; the newest vLLM profile, Hopper,
// and other engines are not warned.
func TestVLLMBeforeBlackwellWarns(t *testing.T) {
	r1 := mustModel(t, "deepseek-ai/DeepSeek-R1")
	for _, tc := range []struct {
		engine, gpu string
		warned      bool
	}{
		{"vllm@0.7.3", "b200", true},
		{"vllm@0.8.5", "b300", true},
		{"vllm@0.5.4", "b200", true},
		{"vllm", "b200", false},
		{"vllm@0.9.0", "b200", false},
		{"vllm@0.7.3", "h200", false},
		{"sglang@0.4.6", "b200", false},
	} {
		p, _, err := Engine(tc.engine)
		if err != nil {
			t.Fatal(err)
		}
		d := mustDeploy(t, Spec{Model: r1, GPU: mustGPU(t, tc.gpu), TP: 8, Profile: p})
		var got bool
		for _, w := range d.Warnings() {
			if strings.Contains(w.Error(), "vLLM releases before 0.9") {
				got = true
			}
		}
		if got != tc.warned {
			t.Errorf("%s on %s: warned %v, want %v (warnings %v)", tc.engine, tc.gpu, got, tc.warned, d.Warnings())
		}
	}
}

// TestProfileBelow: a release range lies below v when its upper bound is "< u" with u ≤ v or
// "<= u" with u < v (read off the range by hand).
func TestProfileBelow(t *testing.T) {
	for _, tc := range []struct {
		versions string
		v        Version
		want     bool
	}{
		{">=0.6, <0.8", Version{0, 9}, true},
		{">=0.8, <0.9", Version{0, 9}, true},
		{">=0.8, <0.9", Version{0, 8, 5}, false},
		{">=0.9", Version{0, 9}, false},
		{"<=0.9", Version{0, 9}, false},
		{"<=0.8.5", Version{0, 9}, true},
		{"", Version{0, 9}, false},
	} {
		if got := (&Profile{Versions: tc.versions}).Below(tc.v); got != tc.want {
			t.Errorf("versions %q below %v: %v, want %v", tc.versions, tc.v, got, tc.want)
		}
	}
}

// TestGPUFileSpellings: a --gpu-file GPU is judged by what its vendor and architecture name,
// not their spelling. "NVIDIA Corporation" (the PCI vendor name lspci prints) and " NVIDIA"
// are NVIDIA and keep TensorRT-LLM (both were refused as another vendor's GPU); "AMD
// Instinct" and "amd" are AMD's and are refused. An architecture written "blackwell" or
// "BLACKWELL Ultra" is Blackwell, so vLLM 0.8 on it warns as on the catalogue's B200 (it did
// not). "Blackwellish" is not Blackwell.
func TestGPUFileSpellings(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	for _, tc := range []struct {
		vendor  string
		refused bool
	}{
		{"NVIDIA", false}, {"nvidia", false}, {"NVIDIA Corporation", false}, {" NVIDIA", false}, {"", false}, {"  ", false},
		{"AMD", true}, {"amd", true}, {"AMD Instinct", true}, {"Intel (Habana)", true}, {"NVIDIAX", true},
	} {
		g := *mustGPU(t, "h100")
		g.Vendor = tc.vendor
		err := CheckEngineGPU(MustEngine("trtllm"), &g)
		if (err != nil) != tc.refused {
			t.Errorf("trtllm on a GPU of vendor %q: error %v, want refused %v", tc.vendor, err, tc.refused)
		}
	}
	p, _, err := Engine("vllm@0.8.5")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		arch   string
		warned bool
	}{
		{"Blackwell", true}, {"blackwell", true}, {"BLACKWELL Ultra", true}, {" Blackwell (GB202)", true},
		{"Hopper", false}, {"Blackwellish", false}, {"", false},
	} {
		g := *mustGPU(t, "b200")
		g.Architecture = tc.arch
		d := mustDeploy(t, Spec{Model: m, GPU: &g, Profile: p})
		got := false
		for _, w := range d.Warnings() {
			got = got || strings.Contains(w.Error(), "vLLM releases before 0.9")
		}
		if got != tc.warned {
			t.Errorf("vllm@0.8.5 on architecture %q: warned %v, want %v", tc.arch, got, tc.warned)
		}
	}
}

// TestProfileFileKeepsBaseEngine: a --profile file that starts from an embedded engine
// (base = "trtllm") describes that engine, so TensorRT-LLM's refusals hold for it (no AMD
// build; no NVFP4 without FP4 tensor cores, as TestEngineGPUVendor and
// TestTRTLLMFP4NeedsBlackwell state them) and its family is the base's. The file's name
// became its family, so DeepSeek-R1 on 8 MI355X under a one-line base = "trtllm" file was
// predicted, and a base = "vllm" file's intervals were an unknown engine's. A file's own
// engine key still says otherwise.
func TestProfileFileKeepsBaseEngine(t *testing.T) {
	r1 := mustModel(t, "deepseek-ai/DeepSeek-R1")
	p, err := ParseProfile("mytrt.toml", []byte(`base = "trtllm"`+"\n"+`gemm_efficiency = 0.7`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Family() != "trtllm" {
		t.Errorf("base trtllm file: family %q, want trtllm", p.Family())
	}
	if _, err := New(Spec{Model: r1, GPU: mustGPU(t, "mi355x"), TP: 8, Profile: p}); err == nil || !strings.Contains(err.Error(), "NVIDIA GPUs only") {
		t.Errorf("base trtllm file on MI355X: %v, want TensorRT-LLM's vendor refusal", err)
	}
	if _, err := New(Spec{Model: r1, GPU: mustGPU(t, "h200"), TP: 8, WeightDtype: "fp4", Profile: p}); err == nil || !strings.Contains(err.Error(), "--weight-dtype fp4 with --engine trtllm") {
		t.Errorf("base trtllm file, fp4 on H200: %v, want the NVFP4 refusal", err)
	}
	v, err := ParseProfile("myvllm.toml", []byte(`base = "vllm"`))
	if err != nil || v.Family() != "vllm" {
		t.Errorf("base vllm file: family %q, %v; want vllm", v.Family(), err)
	}
	o, err := ParseProfile("other.toml", []byte(`base = "vllm"`+"\n"+`engine = "myengine"`))
	if err != nil || o.Family() != "myengine" {
		t.Errorf("base vllm file with engine = myengine: family %q, %v; want myengine", o.Family(), err)
	}
}
