package models

import (
	"fmt"
	"strings"
)

// Module groups that a quantization config may keep in 16 bits (Quantization.Excluded).
const (
	ModAttention = "attention"      // q/k/v/o and MLA projections
	ModMLP       = "mlp"            // dense MLP layers
	ModExperts   = "experts"        // routed experts
	ModShared    = "shared_experts" // shared experts
	ModRouter    = "router"         // router / gate
	ModEmbedding = "embedding"      // input embedding table
	ModLMHead    = "lm_head"        // output projection
)

// parseQuant reads quantization_config (at the top level of the config) into m.Quant.
// Without one, the checkpoint is unquantized in torch_dtype.
//
// Bytes per quantized weight, scales included:
//   - fp8 (DeepSeek-style): 1 byte; with weight_block_size [a, b] one fp32 scale per a×b
//     block: 1 + 4/(a·b) (1.000244 for 128×128).
//   - mxfp4 (gpt-oss): 4-bit values plus one 8-bit (E8M0) scale per 32 elements: 0.5 + 1/32.
//   - awq / gptq: bits/8 plus, per group of group_size, one fp16 scale and one zero point
//     packed in bits: bits/8 + (2 + bits/8)/group_size; group_size -1 (per channel): bits/8.
//   - compressed-tensors: num_bits/8 plus, for strategy "group", one 16-bit scale per
//     group_size elements (and a packed zero point when asymmetric); "block": one 16-bit
//     scale per block; "channel"/"tensor": no per-element overhead.
//
// Modules the config keeps unquantized (modules_to_not_convert, ignore) are mapped to
// the groups above; vision-tower entries are dropped (the tower is not counted).
func parseQuant(root *cfg, m *Model) error {
	m.Quant = Quantization{Dtype: m.TorchDtype, BytesPerWeight: bytesOf(m.TorchDtype)}
	v, ok := root.m["quantization_config"]
	if !ok || v == nil {
		if tc, ok := root.m["text_config"].(map[string]any); ok {
			v = tc["quantization_config"]
		}
		if v == nil {
			return nil
		}
	}
	qm, isObj := v.(map[string]any)
	if !isObj {
		return fmt.Errorf("%s: field \"quantization_config\": want an object, got %s", root.id, show(v))
	}
	q := &cfg{id: root.id + " quantization_config", m: qm}
	method, err := q.strOpt("quant_method")
	if err != nil {
		return err
	}
	method = strings.ToLower(method)
	excl := map[string]bool{ModLMHead: true, ModRouter: true, ModEmbedding: true}
	var modules []string
	switch method {
	case "fp8":
		m.Quant.Dtype, m.Quant.BytesPerWeight = "fp8", 1
		bs, err := q.intList("weight_block_size")
		if err != nil {
			return err
		}
		if len(bs) == 2 && bs[0] > 0 && bs[1] > 0 {
			m.Quant.GroupSize = bs[0] * bs[1]
			m.Quant.BytesPerWeight = 1 + 4/float64(bs[0]*bs[1])
		}
		if modules, err = q.strList("modules_to_not_convert"); err != nil {
			return err
		}
		if ig, err := q.strList("ignored_layers"); err != nil {
			return err
		} else {
			modules = append(modules, ig...)
		}
	case "mxfp4":
		m.Quant.Dtype, m.Quant.GroupSize = "fp4", 32
		m.Quant.BytesPerWeight = 0.5 + 1.0/32
		if modules, err = q.strList("modules_to_not_convert"); err != nil {
			return err
		}
	case "awq", "gptq":
		bits, err := q.intOpt(4, "bits", "w_bit")
		if err != nil {
			return err
		}
		if bits != 2 && bits != 3 && bits != 4 && bits != 8 {
			return fmt.Errorf("%s: field \"bits\": %d (allowed: 2, 3, 4, 8)", q.id, bits)
		}
		gs, err := groupSize(q, 128, "group_size", "q_group_size")
		if err != nil {
			return err
		}
		m.Quant.Dtype = "int4"
		if bits == 8 {
			m.Quant.Dtype = "int8"
		}
		m.Quant.GroupSize = gs
		m.Quant.BytesPerWeight = float64(bits) / 8
		if gs > 0 {
			m.Quant.BytesPerWeight += (2 + float64(bits)/8) / float64(gs)
		}
		if modules, err = q.strList("modules_to_not_convert"); err != nil {
			return err
		}
	case "compressed-tensors", "compressed_tensors":
		if err := compressedTensors(q, m); err != nil {
			return err
		}
		if modules, err = q.strList("ignore"); err != nil {
			return err
		}
	case "bitsandbytes":
		return fmt.Errorf("%s: unsupported: quantization method %q", root.id, method)
	default:
		return fmt.Errorf("%s: unsupported: quantization method %q (known: fp8, mxfp4, awq, gptq, compressed-tensors)", root.id, method)
	}
	m.Quant.Method = method
	for _, mod := range modules {
		if g := moduleGroup(mod); g != "" {
			excl[g] = true
		}
	}
	m.Quant.Excluded = sortedKeys(excl)
	return nil
}

// groupSize reads a group size: -1 or 0 mean per channel (returned as 0).
func groupSize(q *cfg, def int, keys ...string) (int, error) {
	_, v, ok := q.raw(keys...)
	if !ok {
		return def, nil
	}
	f, isNum := v.(float64)
	if !isNum || f != float64(int(f)) || f < -1 {
		return 0, fmt.Errorf("%s: field %q: want an integer (-1 for per channel), got %s", q.id, keys[0], show(v))
	}
	if f <= 0 {
		return 0, nil
	}
	return int(f), nil
}

// compressedTensors reads the first weight scheme of config_groups.
func compressedTensors(q *cfg, m *Model) error {
	groups, ok := q.m["config_groups"].(map[string]any)
	if !ok || len(groups) == 0 {
		return fmt.Errorf("%s: missing required field \"config_groups\"", q.id)
	}
	names := map[string]bool{}
	for k := range groups {
		names[k] = true
	}
	first := sortedKeys(names)[0]
	g, ok := groups[first].(map[string]any)
	if !ok {
		return fmt.Errorf("%s: config_groups.%s: want an object", q.id, first)
	}
	w, ok := g["weights"].(map[string]any)
	if !ok {
		return fmt.Errorf("%s: config_groups.%s: missing required field \"weights\"", q.id, first)
	}
	wc := &cfg{id: q.id + " config_groups." + first + ".weights", m: w}
	bits, err := wc.intReq("num_bits")
	if err != nil {
		return err
	}
	typ, err := wc.strOpt("type")
	if err != nil {
		return err
	}
	strategy, err := wc.strOpt("strategy")
	if err != nil {
		return err
	}
	sym, err := wc.boolOpt(true, "symmetric")
	if err != nil {
		return err
	}
	switch {
	case bits == 8 && typ == "float":
		m.Quant.Dtype = "fp8"
	case bits == 8:
		m.Quant.Dtype = "int8"
	case bits == 4 && typ == "float":
		m.Quant.Dtype = "fp4"
	case bits == 4:
		m.Quant.Dtype = "int4"
	default:
		return fmt.Errorf("%s: unsupported: %d-bit %s weights", wc.id, bits, typ)
	}
	b := float64(bits) / 8
	per := 0
	switch strategy {
	case "group", "tensor_group":
		gs, err := wc.intReq("group_size")
		if err != nil {
			return err
		}
		per = gs
	case "block":
		bs, err := wc.intList("block_structure")
		if err != nil {
			return err
		}
		if len(bs) == 2 && bs[0] > 0 && bs[1] > 0 {
			per = bs[0] * bs[1]
		}
	case "channel", "tensor", "":
	default:
		return fmt.Errorf("%s: field \"strategy\": %q (allowed: tensor, channel, group, block)", wc.id, strategy)
	}
	if per > 0 {
		over := 2.0 // one 16-bit scale
		if !sym {
			over += b // plus a zero point of the same width
		}
		b += over / float64(per)
	}
	m.Quant.GroupSize, m.Quant.BytesPerWeight = per, b
	return nil
}

// moduleGroup maps a module name or pattern of a quantization config to a module group
// ("" when it names something not counted, e.g. the vision tower, or nothing known).
func moduleGroup(mod string) string {
	s := strings.ToLower(mod)
	switch {
	case strings.Contains(s, "vision") || strings.Contains(s, "multi_modal") || strings.Contains(s, "visual") || strings.Contains(s, "mm_projector"):
		return ""
	case strings.Contains(s, "lm_head"):
		return ModLMHead
	case strings.Contains(s, "embed"):
		return ModEmbedding
	case strings.Contains(s, "router") || strings.HasSuffix(s, "mlp.gate") || strings.Contains(s, "mlp.gate$") || strings.HasSuffix(s, ".gate"):
		return ModRouter
	case strings.Contains(s, "shared_expert"):
		return ModShared
	case strings.Contains(s, "experts"):
		return ModExperts
	case strings.Contains(s, "attn") || strings.Contains(s, "attention") || strings.Contains(s, "q_proj") ||
		strings.Contains(s, "k_proj") || strings.Contains(s, "v_proj") || strings.Contains(s, "o_proj") || strings.Contains(s, "qkv"):
		return ModAttention
	case strings.Contains(s, "mlp") || strings.Contains(s, "gate_proj") || strings.Contains(s, "up_proj") || strings.Contains(s, "down_proj"):
		return ModMLP
	}
	return ""
}

// bytesOf returns the bytes of a canonical dtype (2 for unknown: never reached for a parsed model).
func bytesOf(d string) float64 {
	switch d {
	case "fp32", "tf32":
		return 4
	case "fp8", "int8":
		return 1
	case "int4", "fp4":
		return 0.5
	}
	return 2
}
