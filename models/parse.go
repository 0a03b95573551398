package models

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"roofline/units"
)

// cfg is one level of a config.json (the top level, or a nested text_config) with
// typed accessors that name the file and the field in their errors.
type cfg struct {
	id     string
	m      map[string]any
	parent *cfg // top level, consulted for keys absent from a text_config (nil at top)
	// seen records every key the parser looked up at this level, present or not: the keys
	// of an unknown model_type that were never looked up are the ones it did not understand.
	seen map[string]bool
	// defaults holds a model_type's documented config-class defaults, consulted last for
	// a text_config that gives only some fields; used lists the keys taken from it.
	defaults map[string]any
	used     map[string]bool
}

// raw returns the value of the first key present and not null, looking in c, then its
// parent, then c's model_type defaults.
func (c *cfg) raw(keys ...string) (string, any, bool) {
	for l := c; l != nil; l = l.parent {
		for _, k := range keys {
			l.mark(k)
			if v, ok := l.m[k]; ok && v != nil {
				return k, v, true
			}
		}
	}
	for _, k := range keys {
		if v, ok := c.defaults[k]; ok {
			if c.used == nil {
				c.used = map[string]bool{}
			}
			c.used[k] = true
			return k, v, true
		}
	}
	return "", nil, false
}

func (c *cfg) mark(k string) {
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	c.seen[k] = true
}

// has reports whether any of keys is present (even as null) at c's level.
func (c *cfg) has(key string) bool {
	c.mark(key)
	_, ok := c.m[key]
	return ok
}

// intOpt returns the integer under the first present key, or def when none is present.
func (c *cfg) intOpt(def int, keys ...string) (int, error) {
	k, v, ok := c.raw(keys...)
	if !ok {
		return def, nil
	}
	f, isNum := v.(float64)
	if !isNum || f != math.Trunc(f) || f < 0 || f > 1<<40 {
		return 0, fmt.Errorf("%s: field %q: want a non-negative integer, got %s", c.id, k, show(v))
	}
	return int(f), nil
}

// errMissing is a required size field absent from the config (under every name read).
var errMissing = errors.New("missing required field")

// intReq is intOpt for a field that must be present and positive.
func (c *cfg) intReq(keys ...string) (int, error) {
	v, err := c.intOpt(-1, keys...)
	if err != nil {
		return 0, err
	}
	if v < 0 {
		return 0, fmt.Errorf("%s: %w %q", c.id, errMissing, keys[0])
	}
	if v == 0 {
		return 0, fmt.Errorf("%s: field %q must be positive, got 0", c.id, keys[0])
	}
	return v, nil
}

// boolOpt returns the boolean under the first present key, or def.
func (c *cfg) boolOpt(def bool, keys ...string) (bool, error) {
	k, v, ok := c.raw(keys...)
	if !ok {
		return def, nil
	}
	b, isBool := v.(bool)
	if !isBool {
		return false, fmt.Errorf("%s: field %q: want true or false, got %s", c.id, k, show(v))
	}
	return b, nil
}

// strOpt returns the string under the first present key, or "".
func (c *cfg) strOpt(keys ...string) (string, error) {
	k, v, ok := c.raw(keys...)
	if !ok {
		return "", nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", fmt.Errorf("%s: field %q: want a string, got %s", c.id, k, show(v))
	}
	return s, nil
}

// intList returns the integer list under key (nil when absent).
func (c *cfg) intList(key string) ([]int, error) {
	_, v, ok := c.raw(key)
	if !ok {
		return nil, nil
	}
	l, isList := v.([]any)
	if !isList {
		return nil, fmt.Errorf("%s: field %q: want a list of integers, got %s", c.id, key, show(v))
	}
	out := make([]int, len(l))
	for i, e := range l {
		f, isNum := e.(float64)
		if !isNum || f != math.Trunc(f) || math.Abs(f) > 1<<40 {
			return nil, fmt.Errorf("%s: field %q: want a list of integers, got %s", c.id, key, show(v))
		}
		out[i] = int(f)
	}
	return out, nil
}

// strList returns the string list under key (nil when absent).
func (c *cfg) strList(key string) ([]string, error) {
	_, v, ok := c.raw(key)
	if !ok {
		return nil, nil
	}
	l, isList := v.([]any)
	if !isList {
		return nil, fmt.Errorf("%s: field %q: want a list of strings, got %s", c.id, key, show(v))
	}
	out := make([]string, len(l))
	for i, e := range l {
		s, isStr := e.(string)
		if !isStr {
			return nil, fmt.Errorf("%s: field %q: want a list of strings, got %s", c.id, key, show(v))
		}
		out[i] = s
	}
	return out, nil
}

// show prints a JSON value briefly for an error message.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

// unsupportedTypes are model_type values of architectures roofline does not model.
var unsupportedTypes = map[string]string{
	"qwen3_next": "linear-attention (Gated DeltaNet) layers (Qwen3-Next)",
	"mamba":      "state-space (Mamba) layers", "mamba2": "state-space (Mamba) layers",
	"falcon_mamba": "state-space (Mamba) layers", "jamba": "state-space (Mamba) layers (Jamba)",
	"zamba": "state-space (Mamba) layers", "zamba2": "state-space (Mamba) layers",
	"falcon_h1": "state-space (Mamba) layers (Falcon-H1)", "nemotron_h": "state-space (Mamba) layers (Nemotron-H)",
	"rwkv": "recurrent (RWKV) layers", "recurrent_gemma": "recurrent (Griffin) layers",
	"t5": "encoder-decoder", "mt5": "encoder-decoder", "bart": "encoder-decoder", "whisper": "encoder-decoder",
	"deepseek_v32": "DeepSeek sparse attention indexer (DeepSeek-V3.2)",
	"gpt2":         "learned position embeddings and Conv1D blocks (GPT-2)",
}

// knownTypes are the model_type values whose layouts Parse was written against: every
// one of them appears in the embedded catalogue or in a test with its official
// parameter count, or is handled by name below (qwen2_moe, olmo2, the Qwen2-VL text
// towers). Another model_type is read as a Llama-style decoder from the same fields,
// with a note: right for the many Llama derivatives, wrong for a layout with parts
// of its own.
var knownTypes = map[string]bool{
	"llama": true, "llama4": true, "llama4_text": true, "mistral": true, "mixtral": true,
	"qwen2": true, "qwen2_moe": true, "qwen2_vl": true, "qwen2_5_vl": true, "qwen3": true, "qwen3_moe": true,
	"deepseek_v2": true, "deepseek_v3": true, "kimi_k2": true,
	"gemma": true, "gemma2": true, "gemma3": true, "gemma3_text": true,
	"phi3": true, "gpt_oss": true, "gptj": true, "internlm": true, "olmo2": true,
	"falcon": true, "refinedweb": true, "refinedwebmodel": true,
	"gemma4": true, "gemma4_text": true, "chatglm": true, "glm": true, "glm4": true, "glm4_moe": true,
	"ernie4_5": true, "ernie4_5_moe": true, "dbrx": true, "mpt": true,
}

// Parse reads a Hugging Face config.json and returns the model's architecture. id names
// the model in errors and becomes Model.ID. Multimodal configs are read through their
// nested text_config (the vision tower is not counted; a note says so).
//
// Errors, each one line naming id: malformed JSON; a missing required field (hidden
// size, layers, heads, vocabulary, MLP size); a field of the wrong type; a feature
// roofline does not model ("unsupported: …", e.g. linear-attention or Mamba layers,
// encoder-decoder models) — never a silently wrong count.
func Parse(data []byte, id string) (*Model, error) {
	var top map[string]any
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("%s: invalid config.json: %v", id, oneLine(err.Error()))
	}
	if top == nil {
		return nil, fmt.Errorf("%s: invalid config.json: not a JSON object", id)
	}
	root := &cfg{id: id, m: top}
	c := root
	m := &Model{ID: id}
	if archs, err := root.strList("architectures"); err != nil {
		return nil, err
	} else if len(archs) > 0 {
		m.Architecture = archs[0]
	}
	if tc, ok := top["text_config"]; ok && tc != nil {
		tm, isObj := tc.(map[string]any)
		if !isObj {
			return nil, fmt.Errorf("%s: field \"text_config\": want an object, got %s", id, show(tc))
		}
		c = &cfg{id: id + " text_config", m: tm, parent: root}
	}
	mt, err := c.strOpt("model_type")
	if err != nil {
		return nil, err
	}
	m.ModelType = mt
	if m.MTPLayers, err = c.intOpt(-1, "num_nextn_predict_layers"); err != nil {
		return nil, err
	}
	if u := unsupportedFeature(c, mt); u != "" {
		return nil, fmt.Errorf("%s: unsupported: %s", id, u)
	}
	if c != root {
		c.defaults = textDefaults[strings.ToLower(mt)]
	}
	if err := flattenNested(c, m); err != nil {
		return nil, err
	}
	known := knownTypes[strings.ToLower(mt)]
	if !known {
		what := fmt.Sprintf("model_type %q", mt)
		if mt == "" {
			what = "no model_type"
		}
		m.Notes = append(m.Notes, what+" is not one roofline was checked against: read as a Llama-style decoder (RoPE attention, gated MLP); compare params_total with the model card")
	}
	steps := func() error {
		for _, f := range []func(*cfg, *Model) error{parseDims, parseAttention, parseMLP, parseLayers} {
			if err := f(c, m); err != nil {
				return err
			}
		}
		return parseQuant(root, m)
	}
	err = steps()
	if !known && (err == nil || errors.Is(err, errMissing)) {
		// Reading an unknown model_type as Llama is only safe when no key that sizes
		// something went unread: else refuse by name (also when a size was missing, perhaps
		// under a name not understood). A field present with a bad value is named by err:
		// keys left unread because the reading stopped there are no news.
		if keys := notUnderstood(c); len(keys) > 0 {
			for i, k := range keys {
				keys[i] = printable(k)
			}
			what := "model_type " + printable(mt)
			if mt == "" {
				what = "no model_type" // "model_type : keys …" read as a garbled line
			}
			return nil, fmt.Errorf("%s: unsupported: %s: keys %s not understood", id, what, strings.Join(keys, ", "))
		}
	}
	if err != nil {
		return nil, err
	}
	if len(c.used) > 0 {
		m.Notes = append(m.Notes, fmt.Sprintf("text_config omits %s: the %s config defaults are used", strings.Join(sortedKeys(c.used), ", "), mt))
	}
	if err := parseVision(root, m); err != nil {
		return nil, err
	}
	if m.Unsupported != "" {
		return nil, fmt.Errorf("%s: unsupported: %s", id, m.Unsupported)
	}
	if n := roughParams(m); n > 1e15 || math.IsNaN(n) {
		return nil, fmt.Errorf("%s: sizes give about %.3g parameters: not a plausible model", id, n)
	}
	return m, nil
}

// roughParams estimates the parameter count in float64, to reject sizes whose exact
// int64 count could overflow.
func roughParams(m *Model) float64 {
	h, L := float64(m.HiddenSize), float64(m.NumLayers)
	attn := h * float64(m.NumHeads+2*m.NumKVHeads) * float64(m.HeadDim) * 2
	if ml := m.MLA; ml != nil {
		attn += float64(ml.QLoRARank+ml.KVLoRARank) * float64(m.NumHeads) * float64(m.HeadDim+m.VHeadDim)
	}
	mlp := 3 * h * float64(m.IntermediateSize)
	if e := m.MoE; e != nil {
		mlp += 3 * h * (float64(e.Experts)*float64(e.ExpertIntermediate) + float64(e.SharedExperts)*float64(e.SharedIntermediate))
	}
	return L*(attn+mlp) + 2*float64(m.VocabSize)*h
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// unsupportedFeature returns a description of a feature that roofline does not model, or "".
func unsupportedFeature(c *cfg, mt string) string {
	if u, ok := unsupportedTypes[strings.ToLower(mt)]; ok {
		return u
	}
	if b, _ := c.boolOpt(false, "is_encoder_decoder"); b {
		return "encoder-decoder"
	}
	for _, k := range []string{"linear_num_key_heads", "linear_conv_kernel_dim", "full_attention_interval"} {
		if c.has(k) {
			return "linear-attention layers (" + k + ")"
		}
	}
	for _, k := range []string{"ssm_cfg", "mamba_d_state", "ssm_state_size", "attn_layer_period"} {
		if c.has(k) {
			return "state-space (Mamba) layers (" + k + ")"
		}
	}
	for _, k := range []string{"index_topk", "index_n_heads"} {
		if c.has(k) {
			return "DeepSeek sparse attention indexer (" + k + ")"
		}
	}
	if b, _ := c.boolOpt(false, "alibi"); b {
		return "ALiBi attention (alibi: true)"
	}
	return ""
}

// isType reports whether the model_type is one of names.
func isType(m *Model, names ...string) bool {
	for _, n := range names {
		if strings.EqualFold(m.ModelType, n) {
			return true
		}
	}
	return false
}

// parseDims reads hidden size, layers, heads, vocabulary, context and dtype.
func parseDims(c *cfg, m *Model) error {
	var err error
	if m.HiddenSize, err = c.intReq("hidden_size", "n_embd", "d_model"); err != nil {
		return err
	}
	if m.NumLayers, err = c.intReq("num_hidden_layers", "n_layer", "num_layers", "n_layers"); err != nil {
		return err
	}
	if m.NumLayers > 100000 {
		return fmt.Errorf("%s: field \"num_hidden_layers\": %d is not a plausible layer count", c.id, m.NumLayers)
	}
	if m.NumHeads, err = c.intReq("num_attention_heads", "n_head", "n_heads"); err != nil {
		return err
	}
	// Gemma-3's text_config omits vocab_size: transformers' default is 262208.
	defVocab := -1
	if isType(m, "gemma3_text", "gemma3") {
		defVocab = 262208
	}
	vocabKeys := []string{"vocab_size", "padded_vocab_size"}
	if isType(m, "chatglm", "glm") {
		// ChatGLM's embedding and output layer are padded_vocab_size rows.
		vocabKeys = []string{"padded_vocab_size", "vocab_size"}
	}
	if m.VocabSize, err = c.intOpt(defVocab, vocabKeys...); err != nil {
		return err
	}
	if m.VocabSize <= 0 {
		return fmt.Errorf("%s: %w %q", c.id, errMissing, "vocab_size")
	}
	defCtx := 0
	if isType(m, "gemma3_text", "gemma3") {
		defCtx = 131072 // transformers' Gemma3TextConfig default
	}
	if isType(m, "falcon", "RefinedWeb", "RefinedWebModel") && !c.has("max_position_embeddings") {
		defCtx = 2048 // Falcon's trained context; the RW configs do not say
		m.Notes = append(m.Notes, "max_position_embeddings not given: 2048 assumed (Falcon)")
	}
	if m.MaxContextLen, err = c.intOpt(defCtx, "max_position_embeddings", "n_positions", "max_sequence_length", "seq_length", "max_seq_len"); err != nil {
		return err
	}
	td, err := c.strOpt("torch_dtype", "dtype")
	if err != nil {
		return err
	}
	m.TorchDtype = "bf16"
	if td == "" {
		m.Notes = append(m.Notes, "torch_dtype not given: bf16 assumed")
	} else {
		d, derr := units.CanonicalDtype(td)
		if derr != nil || d == "" {
			return fmt.Errorf("%s: field \"torch_dtype\": unknown dtype %q (allowed: float32, bfloat16, float16)", c.id, td)
		}
		m.TorchDtype = d
	}
	// tie_word_embeddings defaults to true for Gemma and Falcon configs, false for the
	// others read here (their config classes set false, or their configs always say).
	// MPT always ties (its config has no such key).
	defTie := isType(m, "gemma", "gemma2", "gemma3", "gemma3_text", "gemma4", "gemma4_text", "falcon", "RefinedWeb", "RefinedWebModel", "mpt")
	if m.TiedEmbeddings, err = c.boolOpt(defTie, "tie_word_embeddings"); err != nil {
		return err
	}
	return nil
}

// parseAttention reads head counts and dims, MHA/GQA/MQA/MLA, biases, norms, sinks.
func parseAttention(c *cfg, m *Model) error {
	var err error
	h := m.NumHeads
	m.NormsPerLayer = 2
	switch {
	case isType(m, "falcon", "RefinedWeb", "RefinedWebModel"):
		// Falcon: fused qkv, LayerNorm with bias, parallel attention + MLP, GELU MLP of 4×hidden.
		m.NormBias, m.ParallelBlock = true, true
		newArch, err := c.boolOpt(c.has("n_head_kv") || c.has("num_kv_heads"), "new_decoder_architecture")
		if err != nil {
			return err
		}
		mq, err := c.boolOpt(true, "multi_query")
		if err != nil {
			return err
		}
		def := h
		if mq {
			def = 1
		}
		if newArch {
			def = 8             // transformers FalconConfig default num_kv_heads when the new architecture is used
			m.NormsPerLayer = 2 // ln_attn and ln_mlp
		} else {
			m.NormsPerLayer = 1 // one input LayerNorm shared by attention and MLP
		}
		if m.NumKVHeads, err = c.intOpt(def, "num_kv_heads", "n_head_kv"); err != nil {
			return err
		}
		b, err := c.boolOpt(false, "bias")
		if err != nil {
			return err
		}
		m.QKVBias, m.OBias, m.MLPBias = b, b, b
	case isType(m, "gptj"):
		// GPT-J: q/k/v/o without bias, one LayerNorm per layer (parallel block), lm_head with bias.
		m.NumKVHeads = h
		m.NormBias, m.ParallelBlock, m.LMHeadBias, m.MLPBias = true, true, true, true
		m.NormsPerLayer = 1
	default:
		kvKeys := []string{"num_key_value_heads", "num_kv_heads", "n_head_kv", "kv_n_heads"}
		if isType(m, "chatglm", "glm") {
			// ChatGLM: multi_query_group_num KV heads when multi_query_attention is on.
			mq, err := c.boolOpt(false, "multi_query_attention")
			if err != nil {
				return err
			}
			kvKeys = nil
			if mq {
				kvKeys = []string{"multi_query_group_num"}
			}
		}
		if m.NumKVHeads, err = c.intOpt(h, kvKeys...); err != nil {
			return err
		}
		ab, err := c.boolOpt(false, "attention_bias")
		if err != nil {
			return err
		}
		m.QKVBias, m.OBias = ab, ab
		switch {
		case isType(m, "chatglm", "glm"):
			// ChatGLM: add_qkv_bias on the fused QKV; add_bias_linear on o and the MLP;
			// RMSNorm unless rmsnorm is false (then LayerNorm with bias).
			if m.QKVBias, err = c.boolOpt(false, "add_qkv_bias"); err != nil {
				return err
			}
			if m.OBias, err = c.boolOpt(false, "add_bias_linear"); err != nil {
				return err
			}
			m.MLPBias = m.OBias
			rms, err := c.boolOpt(true, "rmsnorm")
			if err != nil {
				return err
			}
			m.NormBias = !rms
		case isType(m, "ernie4_5", "ernie4_5_moe"):
			b, err := c.boolOpt(false, "use_bias")
			if err != nil {
				return err
			}
			m.QKVBias, m.OBias, m.MLPBias = b, b, b
		case isType(m, "mpt"):
			// MPT: no_bias (default true) removes every linear and LayerNorm bias.
			nb, err := c.boolOpt(true, "no_bias")
			if err != nil {
				return err
			}
			m.QKVBias, m.OBias, m.MLPBias, m.NormBias = !nb, !nb, !nb, !nb
		case isType(m, "dbrx"):
			m.NormBias = false // LayerNorm without bias
		}
		switch {
		case isType(m, "qwen2", "qwen2_moe", "qwen2_vl", "qwen2_5_vl"):
			// Qwen2 has q/k/v biases and no o bias, with no attention_bias key.
			m.QKVBias, m.OBias = true, false
		case isType(m, "internlm"):
			b, err := c.boolOpt(true, "bias")
			if err != nil {
				return err
			}
			m.QKVBias, m.OBias = b, b
		}
		if mb, err := c.boolOpt(false, "mlp_bias"); err != nil {
			return err
		} else if mb {
			m.MLPBias = true
		}
	}
	if m.NumKVHeads == 0 || m.NumKVHeads > h || h%m.NumKVHeads != 0 {
		return fmt.Errorf("%s: field \"num_key_value_heads\": %d does not divide num_attention_heads %d", c.id, m.NumKVHeads, h)
	}
	if m.HeadDim, err = c.intOpt(0, "head_dim", "kv_channels"); err != nil {
		return err
	}
	if m.HeadDim == 0 {
		if m.HiddenSize%h != 0 {
			return fmt.Errorf("%s: no head_dim and hidden_size %d is not a multiple of num_attention_heads %d", c.id, m.HiddenSize, h)
		}
		m.HeadDim = m.HiddenSize / h
	}
	m.VHeadDim = m.HeadDim
	switch {
	case m.NumKVHeads == h:
		m.Attention = MHA
	case m.NumKVHeads == 1:
		m.Attention = MQA
	default:
		m.Attention = GQA
	}
	if _, _, ok := c.raw("kv_lora_rank"); ok {
		ml := &MLAConfig{}
		if ml.QLoRARank, err = c.intOpt(0, "q_lora_rank"); err != nil {
			return err
		}
		if ml.KVLoRARank, err = c.intReq("kv_lora_rank"); err != nil {
			return err
		}
		if ml.QKNopeHeadDim, err = c.intReq("qk_nope_head_dim"); err != nil {
			return err
		}
		if ml.QKRopeHeadDim, err = c.intReq("qk_rope_head_dim"); err != nil {
			return err
		}
		if ml.VHeadDim, err = c.intReq("v_head_dim"); err != nil {
			return err
		}
		m.MLA, m.Attention = ml, MLA
		m.NumKVHeads = h
		m.HeadDim, m.VHeadDim = ml.QKNopeHeadDim+ml.QKRopeHeadDim, ml.VHeadDim
	}
	// Qwen3 and Gemma-3 RMS-normalise q and k per head with learned weights; Llama-4's
	// use_qk_norm is a weightless L2 norm and adds no parameters.
	if isType(m, "qwen3", "qwen3_moe", "gemma3", "gemma3_text", "gemma4", "gemma4_text", "olmo2") {
		m.QKNorm = true
	}
	if isType(m, "gemma2", "gemma3", "gemma3_text", "gemma4", "gemma4_text", "glm4") {
		m.NormsPerLayer = 4 // input, post-attention, pre-feedforward, post-feedforward
	}
	if isType(m, "gpt_oss") {
		m.AttentionSinks = true
	}
	return nil
}

// parseMLP reads the dense MLP and the mixture of experts.
func parseMLP(c *cfg, m *Model) error {
	var err error
	m.GatedMLP = true
	switch {
	case isType(m, "falcon", "RefinedWeb", "RefinedWebModel"):
		m.GatedMLP = false
		if m.IntermediateSize, err = c.intOpt(4*m.HiddenSize, "ffn_hidden_size"); err != nil {
			return err
		}
		return nil
	case isType(m, "gptj"):
		m.GatedMLP = false
		if m.IntermediateSize, err = c.intOpt(4*m.HiddenSize, "n_inner"); err != nil {
			return err
		}
		return nil
	case isType(m, "mpt"):
		// MPT: a GELU MLP of expansion_ratio·d_model (default 4).
		m.GatedMLP = false
		r, err := c.intOpt(4, "expansion_ratio")
		if err != nil {
			return err
		}
		m.IntermediateSize = r * m.HiddenSize
		return nil
	}
	if m.IntermediateSize, err = c.intReq("intermediate_size", "ffn_hidden_size", "n_inner"); err != nil {
		return err
	}
	experts, err := c.intOpt(0, "n_routed_experts", "num_local_experts", "num_experts", "moe_num_experts")
	if err != nil {
		return err
	}
	if experts == 0 {
		return nil
	}
	moe := &MoEConfig{Experts: experts}
	if moe.ExpertsPerToken, err = c.intReq("num_experts_per_tok", "experts_per_token", "moe_topk", "moe_k", "moe_top_k"); err != nil {
		return err
	}
	if moe.ExpertsPerToken > experts {
		return fmt.Errorf("%s: field \"num_experts_per_tok\": %d exceeds the %d experts", c.id, moe.ExpertsPerToken, experts)
	}
	switch {
	case isType(m, "llama4", "llama4_text"):
		// Llama-4: intermediate_size is one expert's (and the shared expert's) inner size;
		// intermediate_size_mlp is the dense layers'.
		moe.ExpertIntermediate = m.IntermediateSize
		moe.SharedExperts, moe.SharedIntermediate = 1, m.IntermediateSize
		if m.IntermediateSize, err = c.intOpt(m.IntermediateSize, "intermediate_size_mlp"); err != nil {
			return err
		}
	case isType(m, "gpt_oss"):
		moe.ExpertIntermediate = m.IntermediateSize
		moe.RouterBias = true
		m.MLPBias = true // gate_up and down projections of each expert carry biases
	default:
		if moe.ExpertIntermediate, err = c.intOpt(m.IntermediateSize, "moe_intermediate_size"); err != nil {
			return err
		}
		if moe.SharedExperts, err = c.intOpt(0, "n_shared_experts", "moe_num_shared_experts"); err != nil {
			return err
		}
		moe.SharedIntermediate = moe.ExpertIntermediate
		if si, err := c.intOpt(0, "shared_expert_intermediate_size"); err != nil {
			return err
		} else if si > 0 {
			moe.SharedExperts, moe.SharedIntermediate = 1, si
			moe.SharedGate = isType(m, "qwen2_moe")
		}
		if moe.SharedExperts == 0 {
			moe.SharedIntermediate = 0
		}
		// DeepSeek-V3's noaux_tc routing adds a learned per-expert score-correction bias.
		if tm, _ := c.strOpt("topk_method"); tm == "noaux_tc" {
			moe.RouterBias = true
		}
		// ERNIE 4.5 MoE keeps a per-expert score-correction bias (moe_statics).
		if isType(m, "ernie4_5_moe") {
			moe.RouterBias = true
		}
	}
	m.MoE = moe
	return nil
}

// parseLayers fills m.Layers: which layers are MoE and which attend through a window.
func parseLayers(c *cfg, m *Model) error {
	L := m.NumLayers
	m.Layers = make([]Layer, L)
	if m.MoE != nil {
		if err := moeLayers(c, m); err != nil {
			return err
		}
	}
	window, err := c.intOpt(0, "sliding_window")
	if err != nil {
		return err
	}
	types, err := c.strList("layer_types")
	if err != nil {
		return err
	}
	if types != nil {
		if len(types) != L {
			return fmt.Errorf("%s: field \"layer_types\" has %d entries, num_hidden_layers is %d", c.id, len(types), L)
		}
		chunk, err := c.intOpt(0, "attention_chunk_size")
		if err != nil {
			return err
		}
		for i, t := range types {
			switch t {
			case "full_attention":
			case "sliding_attention":
				if window == 0 {
					return fmt.Errorf("%s: layer_types has sliding_attention but sliding_window is not set", c.id)
				}
				m.Layers[i].SlidingWindow = window
			case "chunked_attention":
				if chunk == 0 {
					return fmt.Errorf("%s: layer_types has chunked_attention but attention_chunk_size is not set", c.id)
				}
				m.Layers[i].SlidingWindow, m.Layers[i].Chunked = chunk, true
			default:
				return fmt.Errorf("%s: unsupported: %s layers (layer_types)", c.id, t)
			}
		}
		return layerGeometry(c, m, types)
	}
	switch {
	case isType(m, "llama4", "llama4_text"):
		// Llama-4's local layers attend within chunks of attention_chunk_size tokens. A
		// chunk holds at most attention_chunk_size keys, so for KV memory and FLOPs they are
		// treated as a sliding window of that size (an upper bound: a chunked query sees
		// between 1 and attention_chunk_size keys). no_rope_layers marks with 1 the layers
		// that use RoPE and chunked attention; by default every 4th layer is global (NoPE).
		chunk, err := c.intOpt(0, "attention_chunk_size")
		if err != nil {
			return err
		}
		nope, err := c.intList("no_rope_layers")
		if err != nil {
			return err
		}
		if len(nope) == 0 {
			nope = make([]int, L)
			for i := range nope {
				if (i+1)%4 != 0 {
					nope[i] = 1
				}
			}
		}
		if len(nope) != L {
			return fmt.Errorf("%s: field \"no_rope_layers\" has %d entries, num_hidden_layers is %d", c.id, len(nope), L)
		}
		if chunk > 0 {
			for i, r := range nope {
				if r != 0 {
					m.Layers[i].SlidingWindow, m.Layers[i].Chunked = chunk, true
				}
			}
		}
	case isType(m, "gemma2"):
		// Gemma-2 alternates local (even layer indices) and global (odd) attention.
		for i := 0; i < L && window > 0; i += 2 {
			m.Layers[i].SlidingWindow = window
		}
	case isType(m, "gemma3", "gemma3_text"):
		// Gemma-3: every sliding_window_pattern-th layer (default 6) is global, the rest local.
		p, err := c.intOpt(6, "sliding_window_pattern")
		if err != nil {
			return err
		}
		for i := 0; i < L && window > 0; i++ {
			if p <= 1 || (i+1)%p != 0 {
				m.Layers[i].SlidingWindow = window
			}
		}
	case c.has("use_sliding_window"):
		// Qwen2/Qwen3: the window applies only when use_sliding_window is true, to the layers
		// from max_window_layers on (as transformers and vLLM implement it).
		use, err := c.boolOpt(false, "use_sliding_window")
		if err != nil {
			return err
		}
		from, err := c.intOpt(0, "max_window_layers")
		if err != nil {
			return err
		}
		for i := from; use && window > 0 && i < L; i++ {
			m.Layers[i].SlidingWindow = window
		}
	default:
		// Mistral-7B-v0.1, Phi-3: a sliding_window applies to every layer (null: none).
		for i := 0; i < L && window > 0; i++ {
			m.Layers[i].SlidingWindow = window
		}
	}
	for i := range m.Layers {
		if m.MaxContextLen > 0 && m.Layers[i].SlidingWindow >= m.MaxContextLen {
			m.Layers[i].SlidingWindow = 0 // a window as long as the context is no window
		}
	}
	return nil
}

// moeLayers marks the MoE layers, from the keys of each family.
func moeLayers(c *cfg, m *Model) error {
	firstDense, err := c.intOpt(0, "first_k_dense_replace", "moe_layer_start_index")
	if err != nil {
		return err
	}
	freq, err := c.intOpt(1, "moe_layer_freq")
	if err != nil {
		return err
	}
	step, err := c.intOpt(1, "decoder_sparse_step", "interleave_moe_layer_step", "moe_layer_interval")
	if err != nil {
		return err
	}
	if freq == 0 || step == 0 {
		return fmt.Errorf("%s: moe_layer_freq / decoder_sparse_step / interleave_moe_layer_step must be positive", c.id)
	}
	// ERNIE 4.5: MoE layers run from moe_layer_start_index to moe_layer_end_index
	// inclusive (-1 or absent: the last layer).
	last, err := c.intOpt(len(m.Layers)-1, "moe_layer_end_index")
	if err != nil {
		return err
	}
	dense, err := c.intList("mlp_only_layers")
	if err != nil {
		return err
	}
	only := map[int]bool{}
	for _, d := range dense {
		only[d] = true
	}
	for i := range m.Layers {
		// DeepSeek: i >= first_k_dense_replace and i % moe_layer_freq == 0.
		// Qwen-MoE: (i+1) % decoder_sparse_step == 0 and i not in mlp_only_layers.
		// Llama-4: (i+1) % interleave_moe_layer_step == 0.
		// ERNIE 4.5: start <= i <= end and (i+1) % moe_layer_interval == 0.
		m.Layers[i].MoE = i >= firstDense && i <= last && i%freq == 0 && (i+1)%step == 0 && !only[i]
	}
	n := 0
	for _, l := range m.Layers {
		if l.MoE {
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("%s: %d experts configured but no layer is a MoE layer", c.id, m.MoE.Experts)
	}
	return nil
}

// sortedKeys returns the keys of a string set, sorted.
func sortedKeys(s map[string]bool) []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// printable returns a name from a config file as it is when every rune is a visible,
// non-space character and it holds no comma, else Go-quoted, so that an error message
// naming it stays on one line and cannot be misread.
func printable(name string) string {
	for _, r := range name {
		if !unicode.IsGraphic(r) || unicode.IsSpace(r) || r == ',' {
			return strconv.Quote(name)
		}
	}
	return name
}
