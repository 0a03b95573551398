package models

import (
	"fmt"
	"regexp"
	"strconv"
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
//   - fbgemm_fp8 (Meta's FP8 checkpoints): FP8 per output channel: 1 byte (the fp32 scale
//     per row adds 4/K, below 0.1%).
//   - mxfp4 (gpt-oss): 4-bit values plus one 8-bit (E8M0) scale per 32 elements: 0.5 + 1/32.
//   - awq / gptq: bits/8 plus, per group of group_size, one fp16 scale and one zero point
//     packed in bits: bits/8 + (2 + bits/8)/group_size; group_size -1 (per channel): bits/8.
//   - compressed-tensors: num_bits/8 plus, for strategy "group"/"tensor_group", one scale
//     per group_size elements (and a packed zero point when asymmetric): 8-bit for float
//     formats (NVFP4: FP8 E4M3 per 16 plus an FP32 global scale per tensor → 0.5 + 1/16;
//     MXFP4/MXFP8: E8M0 per 32 → 0.5 + 1/32, 1 + 1/32), 16-bit for integer formats
//     (scale_dtype overrides); "block": one 16-bit scale per block; "channel"/"tensor":
//     no per-element overhead. Every config_groups entry is priced on the module groups
//     its targets name ("Linear" = every linear layer; a more specific target wins).
//   - modelopt (quant_method "modelopt" with quant_algo, or the legacy
//     {"quantization": {"quant_algo": …}} form): NVFP4 0.5 + 1/16, FP8 1, MXFP8 1 + 1/32,
//     W4A8_AWQ / W4A16_AWQ 0.5 + 2/group_size (group 128 unless given).
//
// Modules the config keeps unquantized (modules_to_not_convert, ignore, exclude_modules)
// are mapped to the groups above; an exclusion naming one layer ("model.layers.0.mlp")
// keeps that share of the group in 16 bits (Kept16); vision-tower entries are dropped.
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
	if legacy, ok := qm["quantization"].(map[string]any); ok && method == "" {
		// ModelOpt's legacy form (hf_quant_config.json): no quant_method, the scheme under "quantization".
		q = &cfg{id: q.id + ".quantization", m: legacy}
		method = "modelopt"
	}
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
	case "fbgemm_fp8":
		m.Quant.Dtype, m.Quant.BytesPerWeight = "fp8", 1
		if modules, err = q.strList("modules_to_not_convert"); err != nil {
			return err
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
	case "modelopt":
		if err := modelOpt(q, m); err != nil {
			return err
		}
		if modules, err = q.strList("exclude_modules"); err != nil {
			return err
		}
		if ig, err := q.strList("ignore"); err != nil {
			return err
		} else {
			modules = append(modules, ig...)
		}
	case "bitsandbytes":
		return fmt.Errorf("%s: unsupported: quantization method %q", root.id, method)
	default:
		return fmt.Errorf("%s: unsupported: quantization method %q (known: fp8, fbgemm_fp8, mxfp4, awq, gptq, compressed-tensors, modelopt)", root.id, method)
	}
	m.Quant.Method = method
	perLayer := map[string]map[int]bool{}
	for _, mod := range modules {
		g := moduleGroup(mod)
		if g == "" {
			continue
		}
		if i, ok := layerIndex(mod); ok && g != ModRouter {
			if perLayer[g] == nil {
				perLayer[g] = map[int]bool{}
			}
			perLayer[g][i] = true
			continue
		}
		excl[g] = true
	}
	for g, f := range m.Quant.Kept16 {
		if f >= 1 {
			excl[g] = true
			delete(m.Quant.Kept16, g)
		}
	}
	for g, idx := range perLayer {
		if excl[g] {
			continue
		}
		n := groupLayers(m, g)
		if n == 0 {
			continue
		}
		if len(idx) >= n {
			excl[g] = true
			continue
		}
		if m.Quant.Kept16 == nil {
			m.Quant.Kept16 = map[string]float64{}
		}
		m.Quant.Kept16[g] = float64(len(idx)) / float64(n)
	}
	m.Quant.Excluded = sortedKeys(excl)
	return nil
}

var layerIndexRE = regexp.MustCompile(`layers\.(\d+)\.`)

// layerIndex returns the layer number a module name points at ("model.layers.12.mlp").
func layerIndex(mod string) (int, bool) {
	s := layerIndexRE.FindStringSubmatch(mod + ".")
	if s == nil {
		return 0, false
	}
	n, err := strconv.Atoi(s[1])
	return n, err == nil
}

// groupLayers is how many layers carry module group g.
func groupLayers(m *Model, g string) int {
	dense, moe := m.layerCounts()
	switch g {
	case ModMLP:
		return dense
	case ModExperts, ModShared:
		return moe
	case ModAttention:
		return m.NumLayers
	}
	return 0
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

// modelOpt reads a ModelOpt quant_algo.
func modelOpt(q *cfg, m *Model) error {
	algo, err := q.strOpt("quant_algo")
	if err != nil {
		return err
	}
	if algo == "" {
		if _, ok := q.m["config_groups"]; ok {
			return compressedTensors(q, m)
		}
		return fmt.Errorf("%s: missing required field \"quant_algo\"", q.id)
	}
	gs, err := groupSize(q, 0, "group_size")
	if err != nil {
		return err
	}
	switch strings.ToUpper(algo) {
	case "NVFP4":
		// NVIDIA NVFP4: E2M1 values, one FP8 E4M3 scale per 16, an FP32 global scale per tensor.
		m.Quant.Dtype, m.Quant.GroupSize, m.Quant.BytesPerWeight = "fp4", 16, 0.5+1.0/16
	case "FP8", "FP8_PER_CHANNEL_PER_TOKEN":
		m.Quant.Dtype, m.Quant.BytesPerWeight = "fp8", 1
	case "FP8_PB_WO", "FP8_BLOCK":
		m.Quant.Dtype, m.Quant.GroupSize, m.Quant.BytesPerWeight = "fp8", 128*128, 1+4.0/(128*128)
	case "MXFP8":
		m.Quant.Dtype, m.Quant.GroupSize, m.Quant.BytesPerWeight = "fp8", 32, 1+1.0/32
	case "MXFP4":
		m.Quant.Dtype, m.Quant.GroupSize, m.Quant.BytesPerWeight = "fp4", 32, 0.5+1.0/32
	case "W4A8_AWQ", "W4A16_AWQ", "INT4_AWQ", "NVFP4_AWQ":
		if gs == 0 {
			gs = 128
		}
		m.Quant.Dtype, m.Quant.GroupSize, m.Quant.BytesPerWeight = "int4", gs, 0.5+2/float64(gs)
		if strings.HasPrefix(strings.ToUpper(algo), "NVFP4") {
			m.Quant.Dtype, m.Quant.GroupSize, m.Quant.BytesPerWeight = "fp4", 16, 0.5+1.0/16
		}
	case "W8A8_SQ_PER_CHANNEL", "INT8_SQ":
		m.Quant.Dtype, m.Quant.BytesPerWeight = "int8", 1
	default:
		return fmt.Errorf("%s: unsupported: ModelOpt quant_algo %q (known: NVFP4, FP8, FP8_PB_WO, MXFP8, MXFP4, W4A8_AWQ, W4A16_AWQ, INT8_SQ)", q.id, algo)
	}
	return nil
}

// schemeBytes prices one compressed-tensors weights scheme: dtype and bytes per weight.
func schemeBytes(wc *cfg) (string, int, float64, error) {
	bits, err := wc.intReq("num_bits")
	if err != nil {
		return "", 0, 0, err
	}
	typ, err := wc.strOpt("type")
	if err != nil {
		return "", 0, 0, err
	}
	strategy, err := wc.strOpt("strategy")
	if err != nil {
		return "", 0, 0, err
	}
	sym, err := wc.boolOpt(true, "symmetric")
	if err != nil {
		return "", 0, 0, err
	}
	var dtype string
	switch {
	case bits == 8 && typ == "float":
		dtype = "fp8"
	case bits == 8:
		dtype = "int8"
	case bits == 4 && typ == "float":
		dtype = "fp4"
	case bits == 4:
		dtype = "int4"
	default:
		return "", 0, 0, fmt.Errorf("%s: unsupported: %d-bit %s weights", wc.id, bits, typ)
	}
	b := float64(bits) / 8
	per := 0
	gs, err := wc.intOpt(0, "group_size")
	if err != nil {
		return "", 0, 0, err
	}
	switch strategy {
	case "group", "tensor_group":
		if gs == 0 {
			return "", 0, 0, fmt.Errorf("%s: missing required field \"group_size\"", wc.id)
		}
		per = gs
	case "block":
		bs, err := wc.intList("block_structure")
		if err != nil {
			return "", 0, 0, err
		}
		if len(bs) == 2 && bs[0] > 0 && bs[1] > 0 {
			per = bs[0] * bs[1]
		}
	case "channel", "tensor":
	case "":
		per = gs // ModelOpt's config_groups name a group_size without a strategy
	default:
		return "", 0, 0, fmt.Errorf("%s: field \"strategy\": %q (allowed: tensor, channel, group, tensor_group, block)", wc.id, strategy)
	}
	if per > 0 {
		scale := 2.0 // a 16-bit scale (integer formats)
		if typ == "float" && strategy != "block" {
			scale = 1 // FP8 E4M3 (NVFP4, per 16) or E8M0 (MX formats, per 32) scales
		}
		sd, err := wc.strOpt("scale_dtype")
		if err != nil {
			return "", 0, 0, err
		}
		switch {
		case sd == "":
		case strings.Contains(sd, "float8") || strings.Contains(sd, "e8m0") || strings.Contains(sd, "uint8"):
			scale = 1
		case strings.Contains(sd, "16"):
			scale = 2
		case strings.Contains(sd, "32"):
			scale = 4
		}
		over := scale
		if !sym {
			over += b // plus a zero point of the same width
		}
		b += over / float64(per)
	}
	return dtype, per, b, nil
}

// compressedTensors prices every config_groups entry on the module groups its targets name.
func compressedTensors(q *cfg, m *Model) error {
	groups, ok := q.m["config_groups"].(map[string]any)
	if !ok || len(groups) == 0 {
		return fmt.Errorf("%s: missing required field \"config_groups\"", q.id)
	}
	names := map[string]bool{}
	for k := range groups {
		names[k] = true
	}
	type priced struct {
		dtype string
		per   int
		b     float64
	}
	generic := (*priced)(nil)
	specific := map[string]priced{}
	for _, name := range sortedKeys(names) {
		g, ok := groups[name].(map[string]any)
		if !ok {
			return fmt.Errorf("%s: config_groups.%s: want an object", q.id, name)
		}
		w, ok := g["weights"].(map[string]any)
		if !ok {
			return fmt.Errorf("%s: config_groups.%s: missing required field \"weights\"", q.id, name)
		}
		gc := &cfg{id: q.id + " config_groups." + name, m: g}
		dtype, per, b, err := schemeBytes(&cfg{id: gc.id + ".weights", m: w})
		if err != nil {
			return err
		}
		targets, err := gc.strList("targets")
		if err != nil {
			return err
		}
		p := priced{dtype, per, b}
		hit := false
		for _, t := range targets {
			if t == "Linear" || t == "re:.*" {
				if generic == nil {
					generic = &p
				}
				hit = true
				continue
			}
			if mg := moduleGroup(strings.TrimPrefix(t, "re:")); mg != "" {
				specific[mg] = p
				hit = true
			}
		}
		if len(targets) == 0 || !hit {
			if generic == nil {
				generic = &p
			}
		}
	}
	main := generic
	if main == nil {
		// No generic group: the largest module group's scheme is the checkpoint's dtype.
		for _, g := range []string{ModExperts, ModMLP, ModShared, ModAttention} {
			if p, ok := specific[g]; ok {
				main = &p
				break
			}
		}
	}
	if main == nil {
		return fmt.Errorf("%s: config_groups: no group targets a linear layer", q.id)
	}
	m.Quant.Dtype, m.Quant.GroupSize, m.Quant.BytesPerWeight = main.dtype, main.per, main.b
	for g, p := range specific {
		if p.b != main.b {
			if m.Quant.ModuleBytes == nil {
				m.Quant.ModuleBytes = map[string]float64{}
			}
			m.Quant.ModuleBytes[g] = p.b
			if p.dtype != main.dtype {
				if m.Quant.ModuleDtype == nil {
					m.Quant.ModuleDtype = map[string]string{}
				}
				m.Quant.ModuleDtype[g] = p.dtype
			}
		}
	}
	if generic == nil {
		// Only the named groups are quantized: the others stay 16-bit.
		for _, g := range []string{ModAttention, ModMLP, ModExperts, ModShared} {
			if _, ok := specific[g]; !ok {
				if m.Quant.Kept16 == nil {
					m.Quant.Kept16 = map[string]float64{}
				}
				m.Quant.Kept16[g] = 1
			}
		}
	}
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
