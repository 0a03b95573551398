package models

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"roofline/units"
)

// ListEntry is one catalogue model as "models list" prints it: parameter counts, attention
// kind, max context (tokens) and weight storage; Unsupported holds why a catalogue entry
// cannot be loaded (nil when it can).
type ListEntry struct {
	ID           string  `json:"id"`
	Architecture string  `json:"architecture,omitempty"`
	ParamsTotal  int64   `json:"params_total,omitempty"`
	ParamsActive int64   `json:"params_active,omitempty"`
	Attention    string  `json:"attention,omitempty"`
	MaxContext   int     `json:"max_context_len,omitempty"`
	Quantization string  `json:"quantization,omitempty"`
	Unsupported  *string `json:"unsupported"`
}

// CatalogueList loads every embedded catalogue model (CatalogueIDs order) and summarises it;
// a model that fails to load is listed with the reason.
func CatalogueList() []ListEntry {
	var rows []ListEntry
	for _, id := range CatalogueIDs() {
		m, err := LoadCatalogue(id)
		if err != nil {
			msg := strings.TrimPrefix(err.Error(), id+": ")
			rows = append(rows, ListEntry{ID: id, Unsupported: &msg})
			continue
		}
		p := m.Params()
		rows = append(rows, ListEntry{ID: id, Architecture: m.Architecture, ParamsTotal: p.Total, ParamsActive: p.Active,
			Attention: m.Attention, MaxContext: m.MaxContextLen, Quantization: QuantName(m)})
	}
	return rows
}

// WriteList prints the rows of CatalogueList as a table (parameters with 3 significant
// figures, max context in tokens); it returns the first write error.
func WriteList(w io.Writer, rows []ListEntry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tPARAMS (total)\tPARAMS (active)\tATTENTION\tMAX CONTEXT\tWEIGHTS")
	for _, r := range rows {
		if r.Unsupported != nil {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t%s\n", r.ID, *r.Unsupported)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d tokens\t%s\n", r.ID, ParamString(r.ParamsTotal), ParamString(r.ParamsActive),
			r.Attention, r.MaxContext, r.Quantization)
	}
	return tw.Flush()
}

// ParamString prints a parameter count with three significant figures: "8.03 B params".
func ParamString(n int64) string {
	v := float64(n)
	switch {
	case v >= 1e12:
		return units.Sig(v/1e12) + " T params"
	case v >= 1e9:
		return units.Sig(v/1e9) + " B params"
	case v >= 1e6:
		return units.Sig(v/1e6) + " M params"
	}
	return fmt.Sprintf("%d params", n)
}

// QuantName describes the checkpoint's weight storage: "bf16", "fp8 (fp8)", "mxfp4 (fp4)".
func QuantName(m *Model) string {
	if m.Quant.Method == "" || m.Quant.Method == m.Quant.Dtype {
		return m.Quant.Dtype
	}
	return m.Quant.Method + " (" + m.Quant.Dtype + ")"
}

// Summary is what "models show" prints (its JSON): base units (bytes, FLOPs), the unit in
// each field name.
type Summary struct {
	ID                   string          `json:"id"`
	Source               string          `json:"source"`
	Architecture         string          `json:"architecture"`
	ModelType            string          `json:"model_type"`
	ParamsTotal          int64           `json:"params_total"`
	ParamsActive         int64           `json:"params_active"`
	Params               ParamsByRole    `json:"params_by_role"`
	NumLayers            int             `json:"num_layers"`
	HiddenSize           int             `json:"hidden_size"`
	NumHeads             int             `json:"num_heads"`
	NumKVHeads           int             `json:"num_kv_heads"`
	HeadDim              int             `json:"head_dim"`
	VHeadDim             int             `json:"v_head_dim"`
	Attention            string          `json:"attention"`
	MLA                  *MLASummary     `json:"mla"`
	IntermediateSize     int             `json:"intermediate_size"`
	VocabSize            int             `json:"vocab_size"`
	TiedEmbeddings       bool            `json:"tied_embeddings"`
	MoE                  *MoESummary     `json:"moe"`
	SlidingWindowLayers  []WindowSummary `json:"sliding_window_layers"`
	KVDtype              string          `json:"kv_dtype"`
	KVCacheBytesPerToken float64         `json:"kv_cache_bytes_per_token"`
	// KVBytesPerTokenByGroup splits it by layer group (full, sliding_W, chunked_C).
	KVBytesPerTokenByGroup map[string]float64 `json:"kv_bytes_per_token_by_group"`
	// VisionParams is the vision tower and projector (0 for a text-only config).
	VisionParams          int64            `json:"vision_params"`
	WeightDtype           string           `json:"weight_dtype"`
	WeightBytes           float64          `json:"weight_bytes"`
	Quantization          QuantSummary     `json:"quantization"`
	MaxContextLen         int              `json:"max_context_len"`
	KVCacheBytesAtMaxCtx  float64          `json:"kv_cache_bytes_at_max_context"`
	FLOPsPerTokenDecode   []OpFLOPsSummary `json:"decode_flops_per_token_at_max_context"`
	Notes                 []string         `json:"notes"`
	GEMMs                 []GEMM           `json:"-"`
	weightBytesUnits      units.Bytes
	geometry              string // per-layer attention geometry that differs from the model-wide one
	kvBytesPerTokenUnits  units.Bytes
	kvBytesAtMaxCtxUnits  units.Bytes
	decodeFLOPsTotalUnits units.FLOPs
}

// ParamsByRole splits the parameter count by the role of each weight (Model.Params).
type ParamsByRole struct {
	Embedding int64 `json:"embedding"`
	LMHead    int64 `json:"lm_head"`
	Attention int64 `json:"attention"`
	Dense     int64 `json:"dense_mlp"`
	Experts   int64 `json:"routed_experts"`
	Shared    int64 `json:"shared_experts"`
	Router    int64 `json:"router"`
	Norms     int64 `json:"norms"`
}

// MLASummary is the multi-head latent attention geometry (DeepSeek-V2/V3 config.json).
type MLASummary struct {
	QLoRARank     int `json:"q_lora_rank"`
	KVLoRARank    int `json:"kv_lora_rank"`
	QKNopeHeadDim int `json:"qk_nope_head_dim"`
	QKRopeHeadDim int `json:"qk_rope_head_dim"`
	VHeadDim      int `json:"v_head_dim"`
}

// MoESummary is the mixture-of-experts shape: routed and shared experts, their inner
// sizes and the number of MoE layers.
type MoESummary struct {
	Experts            int `json:"experts"`
	ExpertsPerToken    int `json:"experts_per_token"`
	SharedExperts      int `json:"shared_experts"`
	ExpertIntermediate int `json:"expert_intermediate_size"`
	SharedIntermediate int `json:"shared_intermediate_size"`
	MoELayers          int `json:"moe_layers"`
}

// WindowSummary counts the layers with one sliding-window size (tokens).
type WindowSummary struct {
	WindowTokens int `json:"window_tokens"`
	Layers       int `json:"layers"`
}

// QuantSummary is the checkpoint's quantization: method, storage dtype, group size,
// bytes per weight including scales, and the modules kept in 16 bits.
type QuantSummary struct {
	Method         string   `json:"method"`
	Dtype          string   `json:"dtype"`
	GroupSize      int      `json:"group_size"`
	BytesPerWeight float64  `json:"bytes_per_weight"`
	Excluded       []string `json:"excluded"`
}

// OpFLOPsSummary is the FLOPs of one operator for one token.
type OpFLOPsSummary struct {
	Name  string  `json:"name"`
	FLOPs float64 `json:"flops"`
}

// Describe summarises m with weight dtype wd and KV dtype kd ("" = the checkpoint's own):
// parameter counts by role, attention geometry, weight bytes, KV bytes per token (in all and
// per layer group) and at max context, and decode FLOPs per token at max context
// (Model.FLOPsPerToken). It fails when a dtype does not apply to the model; the error
// names the flag (--weight-dtype or --kv-dtype).
func Describe(m *Model, wd, kd string) (*Summary, error) {
	p := m.Params()
	s := &Summary{ID: m.ID, Source: m.Source, Architecture: m.Architecture, ModelType: m.ModelType,
		ParamsTotal: p.Total, ParamsActive: p.Active,
		Params:    ParamsByRole{p.Embedding, p.LMHead, p.Attention, p.Dense, p.Experts, p.Shared, p.Router, p.Norms},
		NumLayers: m.NumLayers, HiddenSize: m.HiddenSize, NumHeads: m.NumHeads, NumKVHeads: m.NumKVHeads,
		HeadDim: m.HeadDim, VHeadDim: m.VHeadDim, Attention: m.Attention, IntermediateSize: m.IntermediateSize,
		VocabSize: m.VocabSize, TiedEmbeddings: m.TiedEmbeddings, MaxContextLen: m.MaxContextLen,
		SlidingWindowLayers: []WindowSummary{}, Notes: m.Notes,
		Quantization: QuantSummary{m.Quant.Method, m.Quant.Dtype, m.Quant.GroupSize, m.Quant.BytesPerWeight, m.Quant.Excluded},
	}
	if s.Notes == nil {
		s.Notes = []string{}
	}
	if s.Quantization.Excluded == nil {
		s.Quantization.Excluded = []string{}
	}
	if ml := m.MLA; ml != nil {
		s.MLA = &MLASummary{ml.QLoRARank, ml.KVLoRARank, ml.QKNopeHeadDim, ml.QKRopeHeadDim, ml.VHeadDim}
	}
	windows := map[int]int{}
	var order []int
	moeLayers := 0
	for _, l := range m.Layers {
		if l.MoE {
			moeLayers++
		}
		if l.SlidingWindow > 0 {
			if windows[l.SlidingWindow] == 0 {
				order = append(order, l.SlidingWindow)
			}
			windows[l.SlidingWindow]++
		}
	}
	for _, w := range order {
		s.SlidingWindowLayers = append(s.SlidingWindowLayers, WindowSummary{w, windows[w]})
	}
	if e := m.MoE; e != nil {
		s.MoE = &MoESummary{e.Experts, e.ExpertsPerToken, e.SharedExperts, e.ExpertIntermediate, e.SharedIntermediate, moeLayers}
	}
	s.KVDtype = kd
	if kd == "" {
		s.KVDtype = m.TorchDtype
	}
	kv, err := m.KVBytesPerToken(kd)
	if err != nil {
		return nil, fmt.Errorf("--kv-dtype: %w", err)
	}
	s.KVCacheBytesPerToken, s.kvBytesPerTokenUnits = float64(kv), kv
	byGroup, err := m.KVBytesPerTokenByGroup(kd)
	if err != nil {
		return nil, fmt.Errorf("--kv-dtype: %w", err)
	}
	s.KVBytesPerTokenByGroup = map[string]float64{}
	for k, v := range byGroup {
		s.KVBytesPerTokenByGroup[k] = float64(v)
	}
	s.VisionParams = m.VisionParams
	for _, l := range m.Layers {
		if l.HeadDim > 0 || l.KVHeads > 0 {
			kind := "global"
			if l.SlidingWindow > 0 {
				kind = "local"
			}
			s.geometry = fmt.Sprintf("%s layers: %d KV heads, head_dim %d", kind, m.LayerKVHeads(l), m.LayerHeadDim(l))
			if l.KEqV {
				s.geometry += ", K and V from one projection"
			}
			break
		}
	}
	s.WeightDtype = wd
	if wd == "" {
		s.WeightDtype = "checkpoint (" + QuantName(m) + ")"
	}
	w, err := m.WeightBytes(wd)
	if err != nil {
		return nil, fmt.Errorf("--weight-dtype: %w", err)
	}
	s.WeightBytes, s.weightBytesUnits = float64(w), w
	if m.MaxContextLen > 0 {
		kvc, err := m.KVCacheBytes(kd, m.MaxContextLen, 1)
		if err != nil {
			return nil, err
		}
		s.KVCacheBytesAtMaxCtx, s.kvBytesAtMaxCtxUnits = float64(kvc), kvc
		ops, err := m.FLOPsPerToken("decode", m.MaxContextLen-1)
		if err != nil {
			return nil, err
		}
		for _, o := range ops {
			s.FLOPsPerTokenDecode = append(s.FLOPsPerTokenDecode, OpFLOPsSummary{o.Name, float64(o.FLOPs)})
			s.decodeFLOPsTotalUnits += o.FLOPs
		}
	}
	return s, nil
}

// WriteText prints the summary as "models show" does: one line per property with its unit,
// then a note on layer groups and start-up memory. It returns the first write error.
func (s *Summary) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, a...)...) }
	row("Model", "%s (%s)", s.ID, s.Source)
	row("Architecture", "%s (model_type %s)", s.Architecture, s.ModelType)
	row("Parameters", "%s total, %s active per token", ParamString(s.ParamsTotal), ParamString(s.ParamsActive))
	row("Layers", "%d", s.NumLayers)
	row("Hidden size", "%d", s.HiddenSize)
	att := fmt.Sprintf("%s: %d query heads, %d KV heads, head_dim %d", strings.ToUpper(s.Attention), s.NumHeads, s.NumKVHeads, s.HeadDim)
	if ml := s.MLA; ml != nil {
		att = fmt.Sprintf("MLA: %d heads, q_lora_rank %d, kv_lora_rank %d, qk_nope/rope %d/%d, v_head_dim %d",
			s.NumHeads, ml.QLoRARank, ml.KVLoRARank, ml.QKNopeHeadDim, ml.QKRopeHeadDim, ml.VHeadDim)
	}
	row("Attention", "%s", att)
	if s.geometry != "" {
		row("", "%s", s.geometry)
	}
	for _, sw := range s.SlidingWindowLayers {
		row("Sliding window", "%d tokens on %d of %d layers", sw.WindowTokens, sw.Layers, s.NumLayers)
	}
	if e := s.MoE; e != nil {
		row("MoE", "%d experts, top-%d, %d shared; expert inner size %d; %d MoE layers", e.Experts, e.ExpertsPerToken, e.SharedExperts, e.ExpertIntermediate, e.MoELayers)
	}
	if s.IntermediateSize > 0 && (s.MoE == nil || s.MoE.MoELayers < s.NumLayers) {
		row("Dense MLP", "inner size %d", s.IntermediateSize)
	}
	row("Vocabulary", "%d tokens (embedding %s)", s.VocabSize, map[bool]string{true: "tied to lm_head", false: "separate from lm_head"}[s.TiedEmbeddings])
	row("Max context", "%d tokens", s.MaxContextLen)
	row("Weights", "%s (%s) as %s", s.weightBytesUnits, s.weightBytesUnits.GiBString(), s.WeightDtype)
	q := s.Quantization
	if q.Method != "" {
		row("Quantization", "%s, %s, %.6g bytes/weight with scales; kept 16-bit: %s", q.Method, q.Dtype, q.BytesPerWeight, strings.Join(q.Excluded, ", "))
	}
	row("KV cache", "%s/token (%s, all layers, full attention)", s.kvBytesPerTokenUnits, s.KVDtype)
	if len(s.KVBytesPerTokenByGroup) > 1 {
		names := slices.Sorted(maps.Keys(s.KVBytesPerTokenByGroup))
		for _, n := range names {
			row("  "+n+" layers", "%s/token", units.Bytes(s.KVBytesPerTokenByGroup[n]))
		}
	}
	if s.VisionParams > 0 {
		row("Vision tower", "%s (with projector), loaded in 16 bits with the weights", ParamString(s.VisionParams))
	}
	if s.MaxContextLen > 0 {
		row("KV at max context", "%s (%s) for one sequence of %d tokens, windows capped", s.kvBytesAtMaxCtxUnits, s.kvBytesAtMaxCtxUnits.GiBString(), s.MaxContextLen)
		row("Decode FLOPs", "%s/token at max context", s.decodeFLOPsTotalUnits)
	}
	for _, n := range s.Notes {
		row("Note", "%s", n)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	groups := layerGroupsAllFull
	if len(s.KVBytesPerTokenByGroup) > 1 {
		groups = layerGroupsWindowed
	}
	_, err := fmt.Fprint(w, groups+memoryExplainer)
	return err
}

// layerGroupsWindowed and layerGroupsAllFull are what models show says about layer groups:
// the first for a model with sliding-window or chunked layers, the second for one whose
// every layer keeps every token (it said "far below max context × KV/token" for those too,
// where the two are equal).
const (
	layerGroupsWindowed = `
Layer groups: the KV cache is sized per group of layers. Full-attention (and MLA) layers keep
every token of a sequence; a sliding-window layer keeps only its window (vLLM's hybrid KV-cache
manager: window − 1 + the tokens scheduled this step), a chunked layer its chunk. Past the window
only the full-attention groups grow, so "KV at max context" is far below max context × KV/token.
`
	layerGroupsAllFull = `
Layer groups: every layer of this model keeps every token of a sequence (full attention or MLA,
no sliding window), so "KV at max context" is max context × KV/token.
`
)

// memoryExplainer is what models show says about start-up memory.
const memoryExplainer = `
Start-up memory: before sizing the KV cache the engine loads the weights as it lays them out
(padding, replicated KV heads, vision tower) and runs a profiling pass; vLLM's peak is its dummy
sampler over max_num_seqs × vocabulary at ~39 B per element. ` + "`roofline memory`" + ` prints each part.
`
