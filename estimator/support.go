package estimator

import (
	"errors"
	"fmt"
	"strings"

	"roofline/hardware"
	"roofline/models"
)

// Engine support. An engine release that cannot run a deployment at all (no build for the
// GPU, no such parallel layout) is refused: New returns one line naming the flag and what
// is allowed, and the command exits with status 2. A combination whose support is doubtful
// (a release older than the GPU, a layout whose first release is not sourced here) is
// predicted as if it ran, with a warning saying what is uncertain. A refusal needs a cited
// source (a support matrix, release notes); a claim without one is only ever a warning.
//
// Which release a profile predicts: the one named with NAME@VERSION (Profile.Release) when
// there is one, else every release of the profile's range (Profile.Versions). A rule about
// "releases before v" holds when the named release, or the whole range, is older than v; one
// about "releases from v on" when the named release, or the range's lower bound, is v or
// newer. A profile with neither (a --profile file without versions) is below and above
// nothing: it gets only the rules that hold for every release of its engine.

// SupportError is a refusal (from CheckEngineGPU, CheckEngineLayout) or a warning (from
// ReleaseGPUWarning, LayoutWarning, ReleaseModelWarning) about what an engine release supports; IsSupport picks
// it out of Deployment.Warnings.
type SupportError struct{ msg string }

func (e *SupportError) Error() string { return e.msg }

func supportErr(format string, a ...any) error { return &SupportError{fmt.Sprintf(format, a...)} }

// IsSupport reports whether err is (or wraps) a SupportError.
func IsSupport(err error) bool {
	var s *SupportError
	return errors.As(err, &s)
}

// before reports whether every release p predicts is older than v: the named release
// (NAME@VERSION) when there is one, else the profile's range (Below).
func (p *Profile) before(v Version) bool {
	if r, err := ParseVersion(p.Release); p.Release != "" && err == nil {
		return r.Compare(v) < 0
	}
	return p.Below(v)
}

// from reports whether every release p predicts is v or newer: the named release when there
// is one, else a lower bound ">= u" or "> u" of the profile's range with u ≥ v.
func (p *Profile) from(v Version) bool {
	if r, err := ParseVersion(p.Release); p.Release != "" && err == nil {
		return r.Compare(v) >= 0
	}
	cs, err := parseRange(p.Versions)
	if err != nil {
		return false
	}
	for _, c := range cs {
		if (c.op == ">=" || c.op == ">") && c.v.Compare(v) >= 0 {
			return true
		}
	}
	return false
}

// startsWithWords reports whether s starts with the words ws, compared in any case: a
// catalogue architecture ("Blackwell Ultra (+ Grace CPU)", "CDNA 4") or vendor ("NVIDIA
// Corporation", as lspci names it), so a --gpu-file entry's spelling does not decide a
// refusal or a warning ("blackwell ultra" is Blackwell Ultra, "Blackwellish" is not
// Blackwell).
func startsWithWords(s string, ws ...string) bool {
	f := strings.Fields(s)
	if len(f) < len(ws) {
		return false
	}
	for i, w := range ws {
		if !strings.EqualFold(f[i], w) {
			return false
		}
	}
	return true
}

// isCDNA4 reports whether arch is AMD CDNA 4 (MI350X, MI355X), written "CDNA 4" in the
// catalogue or "CDNA4".
func isCDNA4(arch string) bool {
	return startsWithWords(arch, "CDNA", "4") || startsWithWords(arch, "CDNA4")
}

// preAmpere lists the NVIDIA architectures older than Ampere (compute capability below 8.0),
// with their compute capability.
var preAmpere = map[string]string{"volta": "sm70", "turing": "sm75", "pascal": "sm60", "maxwell": "sm50", "kepler": "sm35"}

// preAmpereArch returns the architecture word and compute capability of an NVIDIA GPU older
// than Ampere ("", "" otherwise).
func preAmpereArch(g *hardware.GPU) (string, string) {
	f := strings.Fields(g.Architecture)
	if len(f) == 0 {
		return "", ""
	}
	if sm, ok := preAmpere[strings.ToLower(f[0])]; ok {
		return f[0], sm
	}
	return "", ""
}

// CheckEngineGPU returns the error New gives when profile p's engine cannot run on GPU g at
// all. nil p is the default profile, which runs anywhere.
//
//   - TensorRT-LLM (family trtllm, every release) builds CUDA kernels for NVIDIA GPUs only —
//     its support matrix lists NVIDIA Blackwell, Hopper, Ada Lovelace and Ampere parts
//     (nvidia.github.io/TensorRT-LLM/reference/support-matrix.html) — so a GPU whose catalogue
//     vendor is another (AMD Instinct, Intel Gaudi, Google TPU) has no TensorRT-LLM to
//     predict. A GPU with no vendor (a --gpu-file entry that leaves it out) is not refused;
//     the vendor's first word is compared in any case ("NVIDIA", "nvidia", "NVIDIA
//     Corporation" as lspci and nvidia-smi name it).
//   - TensorRT-LLM from 1.0 on, on an NVIDIA GPU older than Ampere (V100: Volta, sm70; T4:
//     Turing, sm75; Pascal and older): the same support matrix (the 1.x releases) lists
//     Blackwell, Hopper, Ada Lovelace and Ampere and no older generation. Releases before 1.0
//     (trtllm@0.x) are warned instead (ReleaseGPUWarning): which of them still ran there is
//     not sourced here. A GPU without an architecture is not refused.
func CheckEngineGPU(p *Profile, g *hardware.GPU) error {
	if p == nil || g == nil || p.Family() != "trtllm" {
		return nil
	}
	if strings.TrimSpace(g.Vendor) != "" && !startsWithWords(g.Vendor, "NVIDIA") {
		allowed := "vllm"
		if startsWithWords(g.Vendor, "AMD") {
			allowed = "vllm, sglang or tgi"
		}
		return supportErr("%s: TensorRT-LLM runs on NVIDIA GPUs only; %s's vendor is %s: allowed there an engine built for it (%s)", engineArg(p), g.ID, g.Vendor, allowed)
	}
	if arch, sm := preAmpereArch(g); arch != "" && p.from(Version{1, 0}) {
		return supportErr("%s on %s: TensorRT-LLM's support matrix (releases 1.x) lists Blackwell, Hopper, Ada Lovelace and Ampere GPUs, and %s is %s (%s): allowed there an engine that runs on it (vllm), or --gpu of Ampere or a later generation (a100, l40s, h100, …)", engineArg(p), g.ID, g.ID, arch, sm)
	}
	return nil
}

// engineArg is the flag and value that selected p: "--engine NAME@VERSION" when a release was
// named, "--engine NAME" otherwise, and "--profile FILE (NAME…)" for a profile file, which
// the user gave instead of --engine.
func engineArg(p *Profile) string {
	e := p.Family()
	if p.Release != "" {
		e += "@" + p.Release
	}
	if p.File != "" {
		return "--profile " + p.File + " (" + e + ")"
	}
	return "--engine " + e
}

// ReleaseGPUWarning is the warning New attaches when profile p's engine release may predate
// support for GPU g, and nil otherwise; the prediction stands (the release is priced as if it
// ran there). nil p is the default profile, which has no release. The cases, each with its
// source or with what is not known:
//
//   - vLLM before 0.9 on Blackwell: vLLM 0.7 was built on PyTorch 2.5.1 and 0.8 on PyTorch
//     2.6.0 (their requirements files), whose CUDA wheels stop at CUDA 12.6; PyTorch 2.7.0
//     brought Blackwell support with CUDA 12.8 wheels (its release notes), and vLLM 0.9.0
//     moved to it.
//   - vLLM before 0.10 and SGLang before 0.5 on AMD CDNA 4 (MI350X, MI355X), which AMD
//     launched in June 2025: those releases date from before or around the launch; which
//     release first ran on gfx950 is not sourced here.
//   - SGLang before 0.5 on Blackwell: the 0.4 series (December 2024 to mid-2025) spans the
//     arrival of Blackwell; which 0.4 release first ran there is not sourced here.
//   - TensorRT-LLM before 0.17 on Blackwell: its 0.17.0 release notes add B200 (and GeForce
//     RTX 50) support; before 1.0 on Blackwell Ultra (B300, GB300: sm103), which shipped in
//     the second half of 2025, after the 0.x releases: which release first supported it is
//     not sourced here.
//   - TensorRT-LLM before 1.0 on an NVIDIA GPU older than Ampere (V100, T4): the 1.x
//     support matrix has no such GPU (CheckEngineGPU refuses it from 1.0 on); which 0.x
//     releases still ran there is not sourced here.
//   - TensorRT-LLM, any release, on a GPU whose entry (a --gpu-file) gives no vendor or no
//     architecture: CheckEngineGPU cannot refuse it, and it was predicted without a word.
func ReleaseGPUWarning(p *Profile, g *hardware.GPU) error {
	if p == nil || g == nil {
		return nil
	}
	arch := g.Architecture
	asIf := "this predicts the release as if it ran there"
	switch p.Family() {
	case "vllm":
		if p.before(Version{0, 9}) && startsWithWords(arch, "Blackwell") {
			return supportErr("%s on %s: vLLM releases before 0.9 were built on PyTorch 2.5-2.6 with CUDA ≤ 12.6; Blackwell support came with PyTorch 2.7 and CUDA 12.8 (vLLM 0.9.0): %s", p.Label(), g.ID, asIf)
		}
		if p.before(Version{0, 10}) && isCDNA4(arch) {
			return supportErr("%s on %s: AMD launched CDNA 4 (MI350X, MI355X; gfx950) in June 2025 and vLLM releases before 0.10 date from before or around that launch; which release first ran on gfx950 is not sourced here: %s", p.Label(), g.ID, asIf)
		}
	case "sglang":
		if p.before(Version{0, 5}) && startsWithWords(arch, "Blackwell") {
			return supportErr("%s on %s: SGLang's 0.4 releases (December 2024 to mid-2025) span the arrival of Blackwell GPUs, and which 0.4 release first ran on Blackwell is not sourced here: %s", p.Label(), g.ID, asIf)
		}
		if p.before(Version{0, 5}) && isCDNA4(arch) {
			return supportErr("%s on %s: AMD launched CDNA 4 (MI350X, MI355X; gfx950) in June 2025 and SGLang's 0.4 releases date from before or around that launch; which release first ran on gfx950 is not sourced here: %s", p.Label(), g.ID, asIf)
		}
	case "trtllm":
		if strings.TrimSpace(g.Vendor) == "" || strings.TrimSpace(arch) == "" {
			return supportErr("%s on %s: the GPU's entry gives no %s, so TensorRT-LLM's support matrix (NVIDIA Blackwell, Hopper, Ada Lovelace and Ampere GPUs) is not checked against it (add vendor and architecture to its --gpu-file entry): %s", p.Label(), g.ID, missingWhat(g.Vendor, arch), asIf)
		}
		if p.before(Version{0, 17}) && startsWithWords(arch, "Blackwell") {
			return supportErr("%s on %s: TensorRT-LLM added Blackwell support (B200, GeForce RTX 50) in release 0.17.0 (its release notes): %s", p.Label(), g.ID, asIf)
		}
		if p.before(Version{1, 0}) && startsWithWords(arch, "Blackwell", "Ultra") {
			return supportErr("%s on %s: Blackwell Ultra (B300, GB300; sm103) shipped in the second half of 2025, after TensorRT-LLM's 0.x releases, and which release first supported it is not sourced here: %s", p.Label(), g.ID, asIf)
		}
		if a, sm := preAmpereArch(g); a != "" && !p.from(Version{1, 0}) {
			return supportErr("%s on %s: TensorRT-LLM's support matrix of its 1.x releases has no GPU older than Ampere, and which 0.x releases still ran on %s (%s) is not sourced here: %s", p.Label(), g.ID, a, sm, asIf)
		}
	}
	return nil
}

// missingWhat names what of vendor and architecture a GPU entry leaves empty.
func missingWhat(vendor, arch string) string {
	switch {
	case strings.TrimSpace(vendor) == "" && strings.TrimSpace(arch) == "":
		return "vendor and no architecture"
	case strings.TrimSpace(vendor) == "":
		return "vendor"
	}
	return "architecture"
}

// attentionDP reports whether a layout is attention data parallelism with expert-parallel
// MoE: EP > TP with DP > 1, the experts of one GPU serving the tokens of several attention
// ranks (as the step model reads it: Deployment.moeGather; SGLang --enable-dp-attention,
// TensorRT-LLM enable_attention_dp, vLLM --data-parallel-size with --enable-expert-parallel).
func attentionDP(tp, dp, ep int) bool { return ep > tp && dp > 1 }

// attentionDPRefusal returns why profile p's engine release has no attention DP + EP (""
// when it has it or when that is not sourced) and what is allowed instead.
//
//   - vLLM before 0.8 (V0 engine profiles vllm-0.5 and vllm-v0): data-parallel attention
//     with expert-parallel MoE is the V1 engine's — its data-parallel ranks step together,
//     an idle rank running a dummy batch, around every MoE layer (vLLM's data-parallel
//     deployment guide) — and vLLM runs V1 by default from 0.8.0 (its release notes).
//   - SGLang before 0.4: --enable-dp-attention came with v0.4 (the SGLang v0.4 release blog,
//     2024-12-04: "data parallelism attention for DeepSeek models").
func attentionDPRefusal(p *Profile) (why, allowed string) {
	switch {
	case p.Family() == "vllm" && p.before(Version{0, 8}):
		return "vLLM's data-parallel attention with expert-parallel MoE layers is the V1 engine's (its data-parallel ranks step together around every MoE layer; vLLM's data-parallel deployment guide), the default engine from vLLM 0.8.0 (its release notes); the profiles of releases before 0.8 describe the V0 engine (V1 was opt-in there), which has none",
			"--ep at most --tp (experts within each replica), or --engine vllm@0.8 or newer"
	case p.Family() == "sglang" && p.before(Version{0, 4}):
		return "SGLang's data-parallel attention (--enable-dp-attention) came with v0.4 (the SGLang v0.4 release blog, December 2024)",
			"--ep at most --tp (experts within each replica), or --engine sglang@0.4 or newer"
	}
	return "", ""
}

// AttentionDPNote is the note a sweep whose space holds attention DP + EP splits (EP > TP,
// DP > 1) gives for profile p when p's release has no such layout (New refuses those
// splits; see CheckEngineLayout), and "" otherwise.
func AttentionDPNote(p *Profile) string {
	if p == nil {
		return ""
	}
	why, _ := attentionDPRefusal(p)
	if why == "" {
		return ""
	}
	return fmt.Sprintf("%s: configurations with attention data parallelism + expert parallelism (ep > tp, dp > 1) left out: %s", p.Label(), why)
}

// CheckEngineLayout returns the error New gives when profile p's engine release has no
// attention data parallelism with expert parallelism and tp, dp, ep ask for it (EP > TP with
// DP > 1; see attentionDPRefusal for the releases and their sources). nil p is the default
// profile, which takes any layout.
func CheckEngineLayout(p *Profile, tp, dp, ep int) error {
	if p == nil || !attentionDP(tp, dp, ep) {
		return nil
	}
	why, allowed := attentionDPRefusal(p)
	if why == "" {
		return nil
	}
	return supportErr("--dp %d with --ep %d (attention data parallelism: experts spread over %d data-parallel attention ranks) under %s: %s: allowed there %s", dp, ep, min(ep/max(tp, 1), dp), engineArg(p), why, allowed)
}

// LayoutWarning is the warning New attaches when profile p's release may lack the layout
// tp, dp, ep asks for with model m, and nil otherwise; the prediction stands.
//
//   - TensorRT-LLM before 0.17 with attention DP + EP: TensorRT-LLM's attention DP
//     (enable_attention_dp, its PyTorch backend) came with its DeepSeek-V3/R1 support in the
//     2025 releases, and the releases before 0.17 date from before DeepSeek-V3 (published
//     2024-12-26); the first release that had it is not sourced here.
//   - SGLang 0.4 (from 0.4 to before 0.5) with attention DP + EP on a model without MLA
//     (Qwen3-MoE, Mixtral, gpt-oss): SGLang introduced --enable-dp-attention for DeepSeek
//     models (the v0.4 release blog: "data parallelism attention for DeepSeek models"); which
//     0.4 release extended it to other architectures is not sourced here.
func LayoutWarning(p *Profile, m *models.Model, tp, dp, ep int) error {
	if p == nil || !attentionDP(tp, dp, ep) {
		return nil
	}
	forModel, why := layoutDoubt(p, m)
	if why == "" {
		return nil
	}
	return supportErr("%s with --dp %d --ep %d (attention data parallelism)%s: %s: this predicts the layout as if the release ran it", p.Label(), dp, ep, forModel, why)
}

// LayoutNote is the note a sweep whose space holds attention DP + EP splits (EP > TP, DP > 1)
// gives when profile p's release may lack that layout for model m (LayoutWarning's cases), and
// "" otherwise: the sweep's table has no room for each configuration's warning, and a ranked
// row must not hide it.
func LayoutNote(p *Profile, m *models.Model) string {
	if p == nil {
		return ""
	}
	forModel, why := layoutDoubt(p, m)
	if why == "" {
		return ""
	}
	return fmt.Sprintf("%s: configurations with attention data parallelism + expert parallelism (ep > tp, dp > 1)%s are predicted with a warning (configs[].warnings in --output json): %s: they are predicted as if the release ran them", p.Label(), forModel, why)
}

// layoutDoubt returns why profile p's release may lack attention DP + EP for model m (""
// when it is not in doubt) and, when the doubt is about the model, " for MODEL".
func layoutDoubt(p *Profile, m *models.Model) (forModel, why string) {
	if p.Family() == "sglang" && p.before(Version{0, 5}) && m != nil && m.MLA == nil {
		arch := m.Architecture
		if arch == "" {
			arch = m.ID
		}
		return " for " + m.ID, fmt.Sprintf("SGLang introduced --enable-dp-attention for DeepSeek (MLA) models in v0.4 (its release blog, December 2024), and which 0.4 release extended it to %s is not sourced here", arch)
	}
	if p.Family() == "trtllm" && p.before(Version{0, 17}) {
		return "", "TensorRT-LLM's attention DP (enable_attention_dp) came with its DeepSeek-V3/R1 support in 2025 releases, and releases before 0.17 date from before DeepSeek-V3 (2024-12-26); the first release that had it is not sourced here"
	}
	return "", ""
}

// archFirstRelease is, for a model architecture (config.json architectures[0]), the first
// release of an engine that loads it. Recalled from the engines' release notes and the model
// cards' install lines, not fetched into this repository, so a release before it only ever
// gets a warning (ReleaseModelWarning), never a refusal.
var archFirstRelease = []struct {
	archs  []string
	model  string // what the architecture is, in the warning
	engine string // profile family
	first  Version
	why    string
}{
	{[]string{"DeepseekV3ForCausalLM"}, "DeepSeek-V3/R1, Kimi-K2", "vllm", Version{0, 6, 6}, "vLLM added DeepSeek-V3 in 0.6.6 (its release notes, December 2024)"},
	{[]string{"DeepseekV3ForCausalLM"}, "DeepSeek-V3/R1, Kimi-K2", "sglang", Version{0, 4, 1}, "SGLang added DeepSeek-V3 in 0.4.1 (its release notes, December 2024)"},
	{[]string{"DeepseekV3ForCausalLM"}, "DeepSeek-V3/R1, Kimi-K2", "trtllm", Version{0, 17}, "TensorRT-LLM's releases before 0.17 date from before DeepSeek-V3 was published (2024-12-26)"},
	{[]string{"DeepseekV32ForCausalLM"}, "DeepSeek-V3.2 (sparse attention)", "vllm", Version{0, 11}, "vLLM added DeepSeek-V3.2-Exp in 0.11.0 (its release notes, October 2025)"},
	{[]string{"Llama4ForConditionalGeneration"}, "Llama 4", "vllm", Version{0, 8, 3}, "vLLM added Llama 4 in 0.8.3 (its release notes, April 2025)"},
	{[]string{"Qwen3ForCausalLM", "Qwen3MoeForCausalLM"}, "Qwen3", "vllm", Version{0, 8, 4}, "vLLM added Qwen3 in 0.8.4 (its release notes, April 2025; Qwen's model cards ask for vllm>=0.8.5)"},
	{[]string{"Qwen3ForCausalLM", "Qwen3MoeForCausalLM"}, "Qwen3", "sglang", Version{0, 4, 6}, "Qwen's model cards ask for sglang>=0.4.6.post1 (April 2025)"},
	{[]string{"GptOssForCausalLM"}, "gpt-oss", "vllm", Version{0, 10, 1}, "vLLM added gpt-oss in 0.10.1 (its release notes, August 2025)"},
	{[]string{"GptOssForCausalLM"}, "gpt-oss", "trtllm", Version{1, 0}, "TensorRT-LLM's 0.x releases date from before gpt-oss was published (2025-08-05)"},
}

// ReleaseModelWarning is the warning New attaches when profile p's release predates the
// first release of its engine that loads model m's architecture (archFirstRelease), and nil
// otherwise; the prediction stands. vllm@0.7.3 with gpt-oss-20b was predicted without a word,
// though that release has no GptOssForCausalLM.
func ReleaseModelWarning(p *Profile, m *models.Model) error {
	if p == nil || m == nil {
		return nil
	}
	for _, r := range archFirstRelease {
		if r.engine != p.Family() || !p.before(r.first) {
			continue
		}
		for _, a := range r.archs {
			if a == m.Architecture {
				return supportErr("%s with %s (%s: %s): %s: this predicts the release as if it loaded the model", p.Label(), m.ID, a, r.model, r.why)
			}
		}
	}
	return nil
}
