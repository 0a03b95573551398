package models

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// textDefaults are the documented defaults of the transformers config classes, for a
// multimodal text_config that names its model_type but gives only some fields (LLaVA-1.5
// gives model_type llama, vocab_size and max_position_embeddings only). Sources:
// transformers LlamaConfig, MistralConfig, Qwen2Config, GemmaConfig __init__ defaults.
var textDefaults = map[string]map[string]any{
	"llama": {"hidden_size": 4096.0, "intermediate_size": 11008.0, "num_hidden_layers": 32.0,
		"num_attention_heads": 32.0, "max_position_embeddings": 2048.0, "vocab_size": 32000.0,
		"tie_word_embeddings": false},
	"mistral": {"hidden_size": 4096.0, "intermediate_size": 14336.0, "num_hidden_layers": 32.0,
		"num_attention_heads": 32.0, "num_key_value_heads": 8.0, "max_position_embeddings": 131072.0,
		"vocab_size": 32000.0, "sliding_window": 4096.0, "tie_word_embeddings": false},
	"qwen2": {"hidden_size": 4096.0, "intermediate_size": 22016.0, "num_hidden_layers": 32.0,
		"num_attention_heads": 32.0, "num_key_value_heads": 32.0, "max_position_embeddings": 32768.0,
		"vocab_size": 151936.0, "tie_word_embeddings": false},
	"gemma": {"hidden_size": 3072.0, "intermediate_size": 24576.0, "num_hidden_layers": 28.0,
		"num_attention_heads": 16.0, "num_key_value_heads": 16.0, "head_dim": 256.0,
		"max_position_embeddings": 8192.0, "vocab_size": 256000.0},
}

// flattenNested lifts DBRX's and MPT's nested attn_config / ffn_config keys to the level
// the parser reads (a key given at the top wins), and maps their names: DBRX kv_n_heads,
// ffn_hidden_size (one expert's inner size), moe_num_experts, moe_top_k; MPT attn_config
// kv_n_heads (GQA variants). Other model types are left alone.
func flattenNested(c *cfg, m *Model) error {
	if !isType(m, "dbrx", "mpt") {
		return nil
	}
	for _, k := range []string{"attn_config", "ffn_config"} {
		v, ok := c.m[k]
		c.mark(k)
		if !ok || v == nil {
			continue
		}
		sub, isObj := v.(map[string]any)
		if !isObj {
			return fmt.Errorf("%s: field %q: want an object, got %s", c.id, k, show(v))
		}
		for sk, sv := range sub {
			if _, dup := c.m[sk]; !dup {
				c.m[sk] = sv
			}
		}
	}
	return nil
}

// harmlessKeys look like sizes but do not change the decoder's shapes (routing groups,
// the multi-token-prediction module that serving does not load, norm epsilons).
var harmlessKeys = map[string]bool{
	"n_group": true, "topk_group": true, "num_nextn_predict_layers": true, "layer_norm_eps": true,
	"layer_norm_epsilon": true, "max_window_layers": true, "num_labels": true, "rope_scaling": true,
	"rope_parameters": true, "quantization_config": true, "text_config": true, "vision_config": true,
	"audio_config": true, "rope_theta": true, "partial_rotary_factor": true, "head_dim_scale": true,
	"initializer_range": true, "output_router_logits": true, "router_aux_loss_coef": true, "routed_scaling_factor": true,
	"num_experts_per_tok": true, "norm_topk_prob": true, "use_cache": true, "pad_token_id": true,
	"bos_token_id": true, "eos_token_id": true, "hidden_act": true, "hidden_activation": true,
	"attention_dropout": true, "hidden_dropout": true, "torch_dtype": true, "dtype": true,
	"transformers_version": true, "architectures": true, "model_type": true, "auto_map": true,
	"pretraining_tp": true, "tokenizer_class": true, "task_specific_params": true,
	"max_length": true, "min_length": true, "num_beams": true, "id2label": true, "label2id": true,
}

// shapeKey matches config keys whose names say they size something: counts (num_…,
// n_…), sizes, dims, heads, layers, experts, ranks, windows, chunks, groups, intervals,
// ratios, channels, and nested *_config objects.
var shapeKey = regexp.MustCompile(`^(num_|n_)|_size$|_sizes$|_dim$|_dims$|heads|layers?$|layers?_|experts?|_rank$|window|chunk|group|interval|_index$|_ratio$|channels|_config$|^moe_|^ffn_|^attn_|_per_layer|share`)

// notUnderstood lists the keys of c's level that look shape-changing and that the parser
// never looked up: for a model_type roofline was not written against, they mean a Llama
// reading could be wrong by a large factor.
func notUnderstood(c *cfg) []string {
	var out []string
	for k, v := range c.m {
		if c.seen[k] || harmlessKeys[k] || !shapeKey.MatchString(k) {
			continue
		}
		switch x := v.(type) {
		case nil:
			continue
		case bool:
			if !x {
				continue // a feature switched off
			}
		case float64:
			if x == 0 {
				continue
			}
		}
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// layerGeometry reads per-layer attention geometry after layer_types: Gemma 4's global
// (full_attention) layers with their own head size (global_head_dim), KV heads
// (num_global_key_value_heads) and shared K/V projection (attention_k_eq_v), and the
// last num_kv_shared_layers layers that reuse an earlier layer's KV cache.
func layerGeometry(c *cfg, m *Model, types []string) error {
	ghd, err := c.intOpt(0, "global_head_dim")
	if err != nil {
		return err
	}
	gkv, err := c.intOpt(0, "num_global_key_value_heads")
	if err != nil {
		return err
	}
	keqv, err := c.boolOpt(false, "attention_k_eq_v")
	if err != nil {
		return err
	}
	shared, err := c.intOpt(0, "num_kv_shared_layers")
	if err != nil {
		return err
	}
	if shared >= m.NumLayers && shared > 0 {
		return fmt.Errorf("%s: field \"num_kv_shared_layers\": %d must be below num_hidden_layers %d", c.id, shared, m.NumLayers)
	}
	if pl, err := c.intOpt(0, "hidden_size_per_layer_input"); err != nil {
		return err
	} else if pl > 0 {
		return fmt.Errorf("%s: unsupported: per-layer input embeddings (hidden_size_per_layer_input %d)", c.id, pl)
	}
	if moe, err := c.boolOpt(false, "enable_moe_block"); err != nil {
		return err
	} else if moe {
		return fmt.Errorf("%s: unsupported: Gemma 4 MoE block (enable_moe_block)", c.id)
	}
	if gkv > 0 && (gkv > m.NumHeads || m.NumHeads%gkv != 0) {
		return fmt.Errorf("%s: field \"num_global_key_value_heads\": %d does not divide num_attention_heads %d", c.id, gkv, m.NumHeads)
	}
	for i, t := range types {
		if t == "full_attention" {
			if ghd > 0 && ghd != m.HeadDim {
				m.Layers[i].HeadDim = ghd
			}
			if gkv > 0 && gkv != m.NumKVHeads {
				m.Layers[i].KVHeads = gkv
			}
			m.Layers[i].KEqV = keqv
		}
		if i >= m.NumLayers-shared {
			m.Layers[i].SharedKV = true
		}
	}
	return nil
}

// visionDefaults are the transformers CLIPVisionConfig / SiglipVisionConfig defaults
// (hidden 768, MLP 3072, 12 layers, 224-pixel images; patch 32 for CLIP, 16 for SigLIP).
var visionDefaults = map[string]map[string]int{
	"clip":   {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "image_size": 224, "patch_size": 32},
	"siglip": {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "image_size": 224, "patch_size": 16},
}

// parseVision counts a multimodal config's vision tower and projector into
// m.VisionParams, as a ViT: per layer q/k/v/o 4·h² + 4·h biases, MLP 2·h·I + I + h,
// two LayerNorms 4·h; patch embedding 3·p²·h; position embedding (image/p)²·h (+ one class
// token and its embedding for CLIP); pre and post LayerNorms 4·h; projector text_hidden·h
// (+ text_hidden² + biases for LLaVA's two-layer MLP, projector_hidden_act). Missing
// vision sizes take the CLIP or SigLIP defaults. A note says the tower is counted.
func parseVision(root *cfg, m *Model) error {
	v, ok := root.m["vision_config"]
	if !ok || v == nil {
		return nil
	}
	vm, isObj := v.(map[string]any)
	if !isObj {
		return fmt.Errorf("%s: field \"vision_config\": want an object, got %s", root.id, show(v))
	}
	vc := &cfg{id: root.id + " vision_config", m: vm}
	vt, err := vc.strOpt("model_type")
	if err != nil {
		return err
	}
	fam := "siglip"
	if strings.Contains(strings.ToLower(vt), "clip") {
		fam = "clip"
	}
	d := visionDefaults[fam]
	// Qwen2-VL names the tower's width embed_dim (its hidden_size is the projector's output),
	// its layers depth, and its MLP mlp_ratio × width.
	get := func(k string, alias ...string) (int64, error) {
		n, err := vc.intOpt(d[k], append(alias, k)...)
		return int64(n), err
	}
	var h, I, L, img, p int64
	for _, f := range []struct {
		k     string
		alias []string
		p     *int64
	}{{"hidden_size", []string{"embed_dim"}, &h}, {"num_hidden_layers", []string{"depth"}, &L}, {"image_size", nil, &img}, {"patch_size", nil, &p}} {
		if *f.p, err = get(f.k, f.alias...); err != nil {
			return err
		}
	}
	if r, err := vc.intOpt(0, "mlp_ratio"); err != nil {
		return err
	} else if r > 0 && !vc.has("intermediate_size") {
		I = int64(r) * h
	} else if I, err = get("intermediate_size"); err != nil {
		return err
	}
	if p == 0 || h == 0 {
		return fmt.Errorf("%s: vision_config: hidden_size and patch_size must be positive", root.id)
	}
	perLayer := 4*h*h + 4*h + 2*h*I + I + h + 4*h
	patches := (img / p) * (img / p)
	n := L*perLayer + 3*p*p*h + patches*h + 4*h
	if fam == "clip" {
		n += 2 * h // class embedding and its position
	}
	th := int64(m.HiddenSize)
	n += h * th
	if root.has("projector_hidden_act") {
		n += th*th + 2*th // LLaVA: Linear(h, text) → GELU → Linear(text, text), with biases
	}
	m.VisionParams = n
	m.Notes = append(m.Notes, fmt.Sprintf("vision tower counted: %.3g B parameters (%d layers × hidden %d, ViT count; projector included) held in 16 bits with the weights; params_total is the text decoder's", float64(n)/1e9, L, h))
	return nil
}
