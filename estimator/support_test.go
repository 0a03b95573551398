package estimator

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// supportWarned returns the engine-support warnings of a deployment.
func supportWarned(d *Deployment) []string {
	var out []string
	for _, w := range d.Warnings() {
		// A release older than the model's architecture has a warning of its own
		// (TestReleaseModelWarning); the tests here count the GPU's and the layout's.
		if IsSupport(w) && !strings.Contains(w.Error(), "as if it loaded the model") {
			out = append(out, w.Error())
		}
	}
	return out
}

// TestAttentionDPByRelease: attention data parallelism with expert parallelism (EP > TP,
// DP > 1) per engine release, DeepSeek-R1 on 8 H200 as --dp 8 --ep 8.
//
//   - vLLM before 0.8 is refused: data-parallel attention with EP MoE layers is the V1
//     engine's (vLLM's data-parallel deployment guide: the DP ranks step together around
//     every MoE layer), V1 is the default engine from vLLM 0.8.0 (its release notes), and the
//     profiles below 0.8 (vllm-0.5, vllm-v0) describe the V0 engine. The same release with
//     experts inside each replica (--tp 8 --ep 8) or plain replicas (--dp 8, no EP) is kept.
//   - SGLang before 0.4 is refused: --enable-dp-attention came with v0.4 (the SGLang v0.4
//     release blog, 2024-12-04: "data parallelism attention for DeepSeek models"); 0.4.x and
//     newer are kept without a warning.
//   - TensorRT-LLM before 0.17 is warned, not refused: its attention DP came with its
//     DeepSeek-V3/R1 support in 2025 releases and the first release that had it is not
//     sourced; from 0.17 on (0.19 was used for its DeepSeek-R1 throughput blogs) no warning.
func TestAttentionDPByRelease(t *testing.T) {
	r1 := mustModel(t, "deepseek-ai/DeepSeek-R1")
	h200 := mustGPU(t, "h200")
	for _, tc := range []struct {
		engine       string
		tp, dp, ep   int
		refused      bool
		warned       bool
		wantInReason string
	}{
		{"vllm@0.7.3", 1, 8, 8, true, false, "vllm@0.8"},
		{"vllm@0.6.3", 1, 8, 8, true, false, "V0 engine"},
		{"vllm@0.5.4", 2, 4, 8, true, false, "V0 engine"},
		{"vllm@0.7.3", 8, 1, 8, false, false, ""},
		{"vllm@0.7.3", 1, 8, 1, false, false, ""},
		{"vllm@0.8.5", 1, 8, 8, false, false, ""},
		{"vllm", 1, 8, 8, false, false, ""},
		{"sglang@0.3.0", 1, 8, 8, true, false, "--enable-dp-attention"},
		{"sglang@0.4.6", 1, 8, 8, false, false, ""},
		{"sglang@0.4.0", 1, 8, 8, false, false, ""},
		{"sglang", 1, 8, 8, false, false, ""},
		{"trtllm@0.16", 1, 8, 8, false, true, "not sourced"},
		{"trtllm@0.14.0", 2, 4, 8, false, true, "not sourced"},
		{"trtllm@0.16", 8, 1, 8, false, false, ""},
		{"trtllm@0.17", 1, 8, 8, false, false, ""},
		{"trtllm@0.19", 1, 8, 8, false, false, ""},
		{"trtllm", 1, 8, 8, false, false, ""},
	} {
		p, _, err := Engine(tc.engine)
		if err != nil {
			t.Fatal(err)
		}
		d, err := New(Spec{Model: r1, GPU: h200, TP: tc.tp, DP: tc.dp, EP: tc.ep, Profile: p})
		name := tc.engine + " tp/dp/ep " + strings.Join([]string{strconv.Itoa(tc.tp), strconv.Itoa(tc.dp), strconv.Itoa(tc.ep)}, "/")
		if tc.refused {
			if err == nil {
				t.Errorf("%s: accepted, want refused", name)
				continue
			}
			msg := err.Error()
			if !IsSupport(err) || !strings.Contains(msg, "--dp "+strconv.Itoa(tc.dp)) || !strings.Contains(msg, "--ep "+strconv.Itoa(tc.ep)) || !strings.Contains(msg, "allowed there") || !strings.Contains(msg, tc.wantInReason) || strings.Contains(msg, "\n") {
				t.Errorf("%s: %q, want one line naming --dp, --ep, %q and what is allowed", name, msg, tc.wantInReason)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v, want accepted", name, err)
			continue
		}
		ws := supportWarned(d)
		if got := len(ws) > 0; got != tc.warned {
			t.Errorf("%s: support warnings %q, want warned %v", name, ws, tc.warned)
		} else if got && !strings.Contains(ws[0], tc.wantInReason) {
			t.Errorf("%s: %q, want it to say %q", name, ws[0], tc.wantInReason)
		}
	}
}

// TestSGLang04AttentionDPBeyondMLA: SGLang introduced --enable-dp-attention for DeepSeek
// models (the v0.4 release blog, December 2024: "data parallelism attention for DeepSeek
// models"), so attention DP8 + EP8 of Qwen3-30B-A3B (no MLA) under SGLang 0.4 is predicted
// with a warning that the release extending it to that architecture is not sourced; the
// newest sglang profile, and DeepSeek-R1 under 0.4.6, are not warned.
func TestSGLang04AttentionDPBeyondMLA(t *testing.T) {
	g := mustGPU(t, "h200")
	for _, tc := range []struct {
		engine, model string
		warned        bool
	}{
		{"sglang@0.4.6", "Qwen/Qwen3-30B-A3B", true},
		{"sglang@0.4.2", "Qwen/Qwen3-30B-A3B", true},
		{"sglang", "Qwen/Qwen3-30B-A3B", false},
		{"sglang@0.4.6", "deepseek-ai/DeepSeek-R1", false},
		{"vllm", "Qwen/Qwen3-30B-A3B", false},
	} {
		p, _, err := Engine(tc.engine)
		if err != nil {
			t.Fatal(err)
		}
		d, err := New(Spec{Model: mustModel(t, tc.model), GPU: g, TP: 1, DP: 8, EP: 8, Profile: p})
		if err != nil {
			t.Errorf("%s, %s DP8+EP8: %v, want predicted", tc.engine, tc.model, err)
			continue
		}
		ws := supportWarned(d)
		if got := len(ws) > 0; got != tc.warned {
			t.Errorf("%s, %s DP8+EP8: support warnings %q, want warned %v", tc.engine, tc.model, ws, tc.warned)
		} else if got && (!strings.Contains(ws[0], "Qwen3MoeForCausalLM") || !strings.Contains(ws[0], "not sourced")) {
			t.Errorf("%s, %s: %q, want the architecture and what is not sourced", tc.engine, tc.model, ws[0])
		}
	}
}

// TestReleaseOlderThanGPUWarns: an engine release that may predate its GPU is predicted with
// a warning (as vLLM before 0.9 on Blackwell is, TestVLLMBeforeBlackwellWarns), never refused:
//
//   - SGLang before 0.5 on Blackwell (B200, GB200, B300, RTX PRO 6000) and on CDNA 4
//     (MI355X): the 0.4 series ran from December 2024 (the v0.4 release blog) to mid-2025,
//     and AMD launched MI350X/MI355X in June 2025; which 0.4 release first ran on either is
//     not sourced, so the warning says so. SGLang 0.4 on Hopper or CDNA 3 (MI300X, its launch
//     GPU for ROCm builds) is not warned, nor is the newest profile anywhere.
//   - vLLM before 0.10 on CDNA 4 (0.9.0 dates from May 2025, before MI355X's launch).
//   - TensorRT-LLM before 0.17 on Blackwell (its 0.17.0 release notes add B200) and before 1.0
//     on Blackwell Ultra (B300: sm103, shipped in the second half of 2025).
func TestReleaseOlderThanGPUWarns(t *testing.T) {
	r1 := mustModel(t, "deepseek-ai/DeepSeek-R1")
	for _, tc := range []struct {
		engine, gpu string
		warned      bool
		want        string
	}{
		{"sglang@0.4.6", "b200", true, "not sourced"},
		{"sglang@0.4.6", "gb200", true, "Blackwell"},
		{"sglang@0.4.6", "b300", true, "Blackwell"},
		{"sglang@0.4.6", "rtx-pro-6000-blackwell", true, "Blackwell"},
		{"sglang@0.4.6", "mi355x", true, "June 2025"},
		{"sglang@0.3.0", "mi355x", true, "gfx950"},
		{"sglang@0.4.6", "h200", false, ""},
		{"sglang@0.4.6", "mi300x", false, ""},
		{"sglang", "b200", false, ""},
		{"sglang", "mi355x", false, ""},
		{"sglang@0.5.9", "mi355x", false, ""},
		{"vllm@0.9.0", "mi355x", true, "gfx950"},
		{"vllm@0.7.3", "mi355x", true, "gfx950"},
		{"vllm@0.10.0", "mi355x", false, ""},
		{"vllm", "mi355x", false, ""},
		{"vllm@0.7.3", "mi300x", false, ""},
		{"trtllm@0.14.0", "b200", true, "0.17.0"},
		{"trtllm@0.5", "gb200", true, "0.17.0"},
		{"trtllm@0.17", "b200", false, ""},
		{"trtllm@0.19", "b300", true, "Blackwell Ultra"},
		{"trtllm@0.19", "gb300", true, "Blackwell Ultra"},
		{"trtllm", "b300", false, ""},
		{"trtllm@1.0", "gb300", false, ""},
	} {
		p, _, err := Engine(tc.engine)
		if err != nil {
			t.Fatal(err)
		}
		d, err := New(Spec{Model: r1, GPU: mustGPU(t, tc.gpu), TP: 8, Profile: p})
		if err != nil {
			t.Errorf("%s on %s: %v, want predicted", tc.engine, tc.gpu, err)
			continue
		}
		ws := supportWarned(d)
		if got := len(ws) > 0; got != tc.warned {
			t.Errorf("%s on %s: support warnings %q, want warned %v", tc.engine, tc.gpu, ws, tc.warned)
		} else if got && (!strings.Contains(ws[0], tc.want) || !strings.Contains(ws[0], "as if it ran there")) {
			t.Errorf("%s on %s: %q, want it to say %q and that the release is predicted as if it ran there", tc.engine, tc.gpu, ws[0], tc.want)
		}
	}
}

// TestTRTLLMBelowAmpere: TensorRT-LLM's support matrix (nvidia.github.io/TensorRT-LLM/
// reference/support-matrix.html, releases 1.x) lists Blackwell, Hopper, Ada Lovelace and
// Ampere GPUs, so trtllm from 1.0 on is refused on the catalogue's V100 (Volta, sm70) and T4
// (Turing, sm75) and on a --gpu-file Pascal part, with one line naming --engine and what
// runs there; Ampere and Ada parts (A10, A100, L4) are kept. Releases before 1.0 are
// predicted with a warning: which 0.x releases still ran on Volta or Turing is not sourced.
// vLLM keeps both (its installation guide: compute capability 7.0 or higher). A GPU without
// an architecture is not refused.
func TestTRTLLMBelowAmpere(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	for _, tc := range []struct {
		engine, gpu, arch string
		refused, warned   bool
	}{
		{"trtllm", "v100", "", true, false},
		{"trtllm", "t4", "", true, false},
		{"trtllm@1.2", "t4", "", true, false},
		{"trtllm@1.0", "v100", "", true, false},
		{"trtllm", "h100", "Pascal", true, false},
		{"trtllm", "h100", "kepler", true, false},
		{"trtllm", "h100", "", false, false},
		{"trtllm", "a10", "", false, false},
		{"trtllm", "a100", "", false, false},
		{"trtllm", "l4", "", false, false},
		{"trtllm@0.9", "v100", "", false, true},
		{"trtllm@0.17", "t4", "", false, true},
		{"vllm", "v100", "", false, false},
		{"vllm@0.6.3", "t4", "", false, false},
	} {
		p, _, err := Engine(tc.engine)
		if err != nil {
			t.Fatal(err)
		}
		g := *mustGPU(t, tc.gpu)
		if tc.arch != "" {
			g.Architecture = tc.arch
		}
		name := tc.engine + " on " + tc.gpu + " " + tc.arch
		d, err := New(Spec{Model: m, GPU: &g, TP: 1, Profile: p})
		if tc.refused {
			if err == nil || !IsSupport(err) || !strings.Contains(err.Error(), "--engine "+tc.engine) || !strings.Contains(err.Error(), "support matrix") || !strings.Contains(err.Error(), "allowed there") {
				t.Errorf("%s: %v, want refused naming --engine, the support matrix and what is allowed", name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v, want accepted", name, err)
			continue
		}
		ws := supportWarned(d)
		if got := len(ws) > 0; got != tc.warned {
			t.Errorf("%s: support warnings %q, want warned %v", name, ws, tc.warned)
		} else if got && !strings.Contains(ws[0], "not sourced") {
			t.Errorf("%s: %q, want it to say what is not sourced", name, ws[0])
		}
	}
	g := *mustGPU(t, "v100")
	g.Architecture = ""
	if err := CheckEngineGPU(MustEngine("trtllm"), &g); err != nil {
		t.Errorf("trtllm on a GPU with no architecture: %v, want accepted", err)
	}
}

// TestProfileReleaseBounds: which releases a profile predicts, read by hand: the named
// release when there is one, else the range.
func TestProfileReleaseBounds(t *testing.T) {
	for _, tc := range []struct {
		versions, release string
		v                 Version
		before, from      bool
	}{
		{"<0.5", "0.4.6", Version{0, 5}, true, false},
		{"<0.5", "0.4.6", Version{0, 4}, false, true},
		{"<0.5", "", Version{0, 4}, false, false},
		{"<0.5", "", Version{0, 5}, true, false},
		{">=1.0", "", Version{1, 0}, false, true},
		{">=1.0", "1.2", Version{1, 0}, false, true},
		{">=0.9", "", Version{1, 0}, false, false},
		{"", "", Version{1, 0}, false, false},
		{">0.8", "", Version{0, 8}, false, true},
	} {
		p := &Profile{Versions: tc.versions, Release: tc.release}
		if got := p.before(tc.v); got != tc.before {
			t.Errorf("versions %q release %q before %v: %v, want %v", tc.versions, tc.release, tc.v, got, tc.before)
		}
		if got := p.from(tc.v); got != tc.from {
			t.Errorf("versions %q release %q from %v: %v, want %v", tc.versions, tc.release, tc.v, got, tc.from)
		}
	}
}

// TestTRTLLMOnGPUWithoutArchitecture: a --gpu-file entry may leave vendor and architecture
// out; CheckEngineGPU then cannot refuse TensorRT-LLM there (nothing says it is not an
// NVIDIA Ampere or later part), and the prediction came without a word. It stands, with a
// warning naming what is missing; a catalogue GPU (H100: NVIDIA Hopper) gets none.
func TestTRTLLMOnGPUWithoutArchitecture(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	for _, tc := range []struct {
		vendor, arch, want string
	}{
		{"", "", "gives no vendor and no architecture"},
		{"NVIDIA", "", "gives no architecture"},
		{"", "Hopper", "gives no vendor"},
		{"NVIDIA", "Hopper", ""},
	} {
		g := *mustGPU(t, "h100")
		g.Vendor, g.Architecture = tc.vendor, tc.arch
		d, err := New(Spec{Model: m, GPU: &g, TP: 1, Profile: MustEngine("trtllm")})
		if err != nil {
			t.Errorf("vendor %q architecture %q: %v, want predicted", tc.vendor, tc.arch, err)
			continue
		}
		ws := strings.Join(supportWarned(d), "; ")
		if tc.want == "" && ws != "" || tc.want != "" && !strings.Contains(ws, tc.want) {
			t.Errorf("vendor %q architecture %q: support warnings %q, want %q", tc.vendor, tc.arch, ws, tc.want)
		}
	}
}

// TestTRTLLMVendorRefusalNamesRelease: the vendor refusal named "--engine trtllm" for
// --engine trtllm@0.16 (the other refusals name the release) and offered "sglang and tgi on
// AMD" on a Google TPU or an Intel Gaudi. It names the release and offers vLLM there, vLLM,
// SGLang or TGI on AMD.
func TestTRTLLMVendorRefusalNamesRelease(t *testing.T) {
	for _, tc := range []struct{ engine, gpu, want string }{
		{"trtllm@0.16", "tpu-v5e", "--engine trtllm@0.16: TensorRT-LLM runs on NVIDIA GPUs only; tpu-v5e's vendor is Google: allowed there an engine built for it (vllm)"},
		{"trtllm", "gaudi3", "gaudi3's vendor is Intel (Habana): allowed there an engine built for it (vllm)"},
		{"trtllm@1.0", "mi300x", "--engine trtllm@1.0: TensorRT-LLM runs on NVIDIA GPUs only; mi300x's vendor is AMD: allowed there an engine built for it (vllm, sglang or tgi)"},
	} {
		p, _, err := Engine(tc.engine)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckEngineGPU(p, mustGPU(t, tc.gpu)); err == nil || err.Error() != tc.want && !strings.HasSuffix(err.Error(), tc.want) {
			t.Errorf("%s on %s: %v, want %q", tc.engine, tc.gpu, err, tc.want)
		}
	}
}

// TestRefusalNamesProfileFile: a refusal names the flag the user gave. With --profile F
// (base = "trtllm", or base = "sglang@0.3.0") it said "--engine trtllm on v100-sxm2" and
// "under --engine sglang@0.3.0", a flag that was not on the command line; it now names the
// file and the engine release it describes.
func TestRefusalNamesProfileFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		base, gpu, model string
		tp, dp, ep       int
		want             string
	}{
		{"trtllm", "v100", "meta-llama/Llama-3.1-8B-Instruct", 1, 1, 1, "--profile %s (trtllm) on v100-sxm2: TensorRT-LLM's support matrix"},
		{"sglang@0.3.0", "h100", "Qwen/Qwen3-30B-A3B", 1, 4, 4, "under --profile %s (sglang@0.3.0): SGLang's data-parallel attention"},
	} {
		f := filepath.Join(dir, strings.ReplaceAll(tc.base, "@", "_")+".toml")
		if err := os.WriteFile(f, []byte("base = \""+tc.base+"\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := LoadProfileFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, err = New(Spec{Model: mustModel(t, tc.model), GPU: mustGPU(t, tc.gpu), TP: tc.tp, DP: tc.dp, EP: tc.ep, Profile: p})
		if want := fmt.Sprintf(tc.want, f); err == nil || !IsSupport(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("base %s on %s: %v, want a refusal containing %q", tc.base, tc.gpu, err, want)
		}
	}
}
