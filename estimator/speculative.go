package estimator

import (
	"fmt"
	"math"
	"strings"

	"roofline/models"
	"roofline/units"
)

// Speculation methods.
const (
	SpecDraft  = "draft"  // a separate small draft model
	SpecEagle  = "eagle"  // EAGLE / EAGLE-2 draft head (one decoder layer on the target's features)
	SpecEagle3 = "eagle3" // EAGLE-3 draft head
	SpecMTP    = "mtp"    // the model's own multi-token-prediction module(s) (DeepSeek-V3, GLM-4.5…)
	SpecNgram  = "ngram"  // prompt lookup / n-gram matching on the CPU: no draft model
)

// SpecMethods lists the accepted Speculation.Method values.
var SpecMethods = []string{SpecDraft, SpecEagle, SpecEagle3, SpecMTP, SpecNgram}

// specDefault is a method's default per-position acceptance α (the probability that a
// drafted token is accepted given that the previous ones were) and where it comes from.
type specDefault struct {
	alpha  float64
	source string
}

// Defaults are round values between published acceptance lengths (AL, tokens per target
// forward including the bonus token); each reproduces the cited AL within ±15% at the cited K.
var specDefaults = map[string]specDefault{
	SpecMTP:    {0.70, "between DeepSeek-R1 MTP on B200, AL 2.82 at K=3 (TensorRT-LLM tech blog 1) and DeepSeek-V3 MTP at 64K context, AL 2.18 at K=3 (LMSYS blog 2025-07-17); α=0.70 gives 2.53 at K=3"},
	SpecEagle3: {0.65, "EAGLE-3: Qwen3 AL 1.8–2.2 (AngelSlim), MiniMax-M3 average 2.80 and gpt-oss-20b 2.2–3.3 (vLLM blog); α=0.65 gives 2.35 at K=3, 2.69 at K=5"},
	SpecEagle:  {0.55, "EAGLE/EAGLE-2 accept fewer tokens than EAGLE-3 (SGLang docs: Llama-3.1-8B 244 vs 373 tok/s at batch 1); α=0.55 gives 2.02 at K=3"},
	SpecDraft:  {0.60, "draft models: α 0.5–0.9 by task in Leviathan et al. 2023 (Table 3); 0.6 is the lower middle for a 0.5B–1B draft of a chat model"},
	SpecNgram:  {0.30, "n-gram/prompt lookup on generic chat: AL 1.37–1.40 at K=3 (TensorRT-LLM tech blog 7); α=0.30 gives 1.42 at K=3"},
}

// specFamilyDefaults override specDefaults for a method on a model family (config.json
// model_type).
var specFamilyDefaults = map[string]specDefault{
	SpecEagle3 + "/qwen3":     {0.54, "EAGLE-3 drafts for Qwen3 (AngelSlim benchmarks: mean AL 1.79–2.17 over GSM8K, Alpaca, HumanEval, MT-bench for Qwen3-1.7B…32B, 1.99 for Qwen3-8B; K not stated, taken as 3); α=0.54 gives 1.99 at K=3"},
	SpecEagle3 + "/qwen3_moe": {0.56, "EAGLE-3 drafts for Qwen3 MoE (AngelSlim: Qwen3-30B-A3B mean AL 2.04; K taken as 3); α=0.56 gives 2.05 at K=3"},
}

// Speculation configures speculative decoding. Each decode step drafts K tokens per sequence
// and the target verifies K+1 positions in one forward pass.
type Speculation struct {
	// Method is one of SpecMethods.
	Method string
	// Tokens is K, the draft tokens proposed per step (≥ 1).
	Tokens int
	// AcceptLen is the mean tokens emitted per target forward, including the bonus token,
	// in [1, K+1]; 0 = from AcceptRates, else from the method's default α.
	AcceptLen float64
	// AcceptRates are per-position acceptance rates r_i = P(token i accepted | tokens 1..i−1
	// accepted), i = 1..K (a shorter list repeats its last rate); nil = not given.
	AcceptRates []float64
	// DraftModel is the draft model of Method "draft" (required there, ignored otherwise).
	DraftModel *models.Model
}

// specState is a validated Speculation with the quantities the step model uses.
type specState struct {
	Speculation
	acceptLen   float64 // mean tokens per step
	costShare   float64 // one draft pass / one target decode pass (same batch)
	alphaSource string
}

// ExpectedAcceptLen is the mean tokens emitted per verification step when each of K drafted
// tokens is accepted with probability α independently of position, stopping at the first
// rejection, plus the bonus (or corrected) token: Σ_{i=0..K} α^i = (1 − α^{K+1})/(1 − α)
// (Leviathan et al. 2023, eq. 1). α = 1 gives K+1; α = 0 gives 1.
func ExpectedAcceptLen(K int, alpha float64) float64 {
	if alpha >= 1 {
		return float64(K + 1)
	}
	return (1 - math.Pow(alpha, float64(K+1))) / (1 - alpha)
}

// AcceptLenFromRates is 1 + Σ_{i=1..K} Π_{j≤i} r_j: the bonus token plus the probability that
// each of the first i drafted tokens is accepted. A list shorter than K repeats its last rate.
func AcceptLenFromRates(K int, rates []float64) float64 {
	al, p := 1.0, 1.0
	for i := 0; i < K && len(rates) > 0; i++ {
		p *= rates[min(i, len(rates)-1)]
		al += p
	}
	return al
}

// resolveSpeculation validates d.Speculation and derives the acceptance length, the draft
// cost share and the draft's memory (weights and KV added to the deployment's).
func (d *Deployment) resolveSpeculation() error {
	s := d.Speculation
	if s == nil {
		return nil
	}
	st := &specState{Speculation: *s}
	st.Method = strings.ToLower(s.Method)
	def, ok := specDefaults[st.Method]
	if f, fok := specFamilyDefaults[st.Method+"/"+d.Model.ModelType]; fok {
		def = f
	}
	if !ok {
		return fmt.Errorf("--spec-method %q: allowed values are %s", s.Method, strings.Join(SpecMethods, ", "))
	}
	if st.Method == SpecMTP {
		switch n := d.Model.MTPLayers; {
		case n == 0:
			return fmt.Errorf("--spec-method mtp: %s ships no multi-token-prediction module (num_nextn_predict_layers 0 in its config.json): allowed there draft, eagle, eagle3, ngram", d.Model.ID)
		case n < 0:
			d.warnings = append(d.warnings, fmt.Errorf("--spec-method mtp: the config.json of %s gives no num_nextn_predict_layers, so whether the checkpoint ships a multi-token-prediction module is not known; predicted with one, at the acceptance of DeepSeek's", d.Model.ID))
		}
	}
	if s.Tokens < 1 || s.Tokens > 16 {
		return fmt.Errorf("--spec-tokens %d: must be in 1..16", s.Tokens)
	}
	K := s.Tokens
	switch {
	case s.AcceptLen != 0:
		if !(s.AcceptLen >= 1 && s.AcceptLen <= float64(K+1)) {
			return fmt.Errorf("--spec-accept-len %g: must be in [1, K+1] = [1, %d] (tokens per step including the bonus token)", s.AcceptLen, K+1)
		}
		st.acceptLen, st.alphaSource = s.AcceptLen, "--spec-accept-len"
	case len(s.AcceptRates) > 0:
		for _, r := range s.AcceptRates {
			if !(r >= 0 && r <= 1) {
				return fmt.Errorf("--spec-accept-rates %g: each rate must be in [0, 1]", r)
			}
		}
		st.acceptLen, st.alphaSource = AcceptLenFromRates(K, s.AcceptRates), "--spec-accept-rates"
	default:
		st.acceptLen = ExpectedAcceptLen(K, def.alpha)
		st.alphaSource = fmt.Sprintf("default α=%.2f for %s: %s", def.alpha, st.Method, def.source)
	}
	m := d.Model
	pc := m.Params()
	active := float64(pc.Active)
	head := float64(pc.LMHead)
	if head == 0 {
		head = float64(pc.Embedding) // tied: the head is the embedding matrix
	}
	layer := math.Max(active-float64(pc.Embedding)-float64(pc.LMHead), 0) / float64(m.NumLayers)
	switch st.Method {
	case SpecNgram:
		st.costShare = 0 // a CPU lookup in the prompt; no draft forward
	case SpecDraft:
		if s.DraftModel == nil {
			return fmt.Errorf("--spec-method draft needs the draft model (--spec-draft-model)")
		}
		dp := s.DraftModel.Params()
		st.costShare = float64(dp.Active) / active
		// The draft runs with the target's TP: its weights and KV are sharded alike.
		half, err := s.DraftModel.ElemBytes(false, "")
		if err != nil {
			return err
		}
		d.weightsPerGPU += units.Bytes(float64(dp.Total) * half / float64(d.TP))
		kvb, _ := units.DtypeBytes(d.KVDtypeResolved)
		dm := s.DraftModel
		hd := dm.HeadDim
		d.specKVBytes = float64(dm.NumLayers) * 2 * float64(max(dm.NumKVHeads/d.TP, 1)) * float64(hd) * kvb
	default: // mtp, eagle, eagle3: one decoder layer on the target's hidden size, sharing its LM head
		st.costShare = (layer + head) / active
		// One extra layer's weights (sharded by TP like the target's) and its KV per token.
		layerAll := float64(pc.Total-pc.Embedding-pc.LMHead) / float64(m.NumLayers)
		d.weightsPerGPU += units.Bytes(layerAll * d.bytesPerParam() / float64(d.TP))
		d.specKVBytes = d.meanKVLayerBytes()
	}
	d.spec = st
	return nil
}

// bytesPerParam is the mean bytes per weight of the deployment's shard (weights / params).
func (d *Deployment) bytesPerParam() float64 {
	p := float64(d.Model.Params().Total)
	if p == 0 {
		return 2
	}
	return float64(d.weightsPerGPU) * float64(d.TP*d.PP) / p
}

// SpecAcceptLen is the mean tokens per decode step (1 without speculation) and its source.
func (d *Deployment) SpecAcceptLen() (float64, string) {
	if d.spec == nil {
		return 1, ""
	}
	return d.spec.acceptLen, d.spec.alphaSource
}

// specDraftTime is the draft's time in one decode step of n sequences at context ctx: K
// sequential draft passes, each costShare × the target's one-token decode step (its weights
// and attention scale with its parameter share). n-gram drafting costs nothing on the GPU.
func (d *Deployment) specDraftTime(b *Batch) float64 {
	s := d.spec
	if s == nil || s.costShare == 0 {
		return 0
	}
	q := b.Verify
	b.Verify = 1
	t := d.StepSeconds(b)
	b.Verify = q
	return float64(s.Tokens) * s.costShare * t
}

// specPrefillShare is the draft's cost over a prompt relative to the target's: the draft (its
// own model, EAGLE head or MTP module) also runs over every prompt token, to fill its KV cache
// and to propose the first tokens (SGLang's EAGLE worker runs a draft extend after each target
// extend; vLLM's EAGLE proposer and TensorRT-LLM's MTP run in the context phase too). Its
// parameter share of the target, as for a draft pass (costShare); 0 without speculation and
// for n-gram lookup.
func (d *Deployment) specPrefillShare() float64 {
	if d.spec == nil {
		return 0
	}
	return d.spec.costShare
}

// meanKVLayerBytes is the KV bytes per token of an average layer on one GPU.
func (d *Deployment) meanKVLayerBytes() float64 {
	var b, l float64
	for _, g := range d.attnGroups {
		b += g.kvBytes * g.layers
		l += g.layers
	}
	if l == 0 {
		return 0
	}
	return b / l
}

// NewSpeculation is the speculative decoding a command line asks for: method (SpecMethods;
// "": none, nil), K draft tokens per step (0: 3), the mean accepted length per step (0: the
// method's sourced α) or per-position acceptance rates; draft says a draft model is given
// (the caller loads it into DraftModel). Errors: speculation settings without a method;
// both an accepted length and acceptance rates (each sets the same α; the length won
// silently before).
func NewSpeculation(method string, tokens int, acceptLen float64, rates []float64, draft bool) (*Speculation, error) {
	if method == "" {
		if tokens != 0 || acceptLen != 0 || rates != nil || draft {
			return nil, fmt.Errorf("--spec-tokens, --spec-accept-len, --spec-accept-rates and --spec-draft-model need --spec-method (%s)", strings.Join(SpecMethods, ", "))
		}
		return nil, nil
	}
	if acceptLen != 0 && len(rates) > 0 {
		return nil, fmt.Errorf("--spec-accept-len %g and --spec-accept-rates: give one (both set the tokens accepted per step)", acceptLen)
	}
	if tokens == 0 {
		tokens = 3
	}
	return &Speculation{Method: method, Tokens: tokens, AcceptLen: acceptLen, AcceptRates: rates}, nil
}
