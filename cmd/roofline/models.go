package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"roofline/models"
	"roofline/units"
)

// runModels is "roofline models list|show".
func runModels(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageErr("models: give a subcommand: list or show (roofline models --help)")
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(e.stdout, "Usage: roofline models list [--output table|json]\n       roofline models show MODEL [--output table|json] [--weight-dtype D] [--kv-dtype D]")
		return nil
	}
	switch args[0] {
	case "list":
		return modelsList(e, args[1:])
	case "show":
		return modelsShow(ctx, e, args[1:])
	}
	return usageErr("models: unknown subcommand %q (allowed: list, show)", args[0])
}

// loadModel resolves a model name (path, catalogue id, HF cache, Hub) for any command.
// HF_HOME and HF_TOKEN come from the environment; HF_ENDPOINT overrides the Hub URL;
// HF_HUB_OFFLINE=1 forbids Hub requests; downloads are cached under the user cache
// folder ($XDG_CACHE_HOME or ~/.cache)/roofline/models. Errors are usage errors (exit 2).
func loadModel(ctx context.Context, e *env, name string) (*models.Model, error) {
	r := &models.Resolver{
		HFHome: e.getenv("HF_HOME"),
		HubURL: e.getenv("HF_ENDPOINT"),
		Token:  e.getenv("HF_TOKEN"),
	}
	off := strings.ToLower(e.getenv("HF_HUB_OFFLINE"))
	r.Offline = off == "1" || off == "true" || off == "yes"
	cache := e.getenv("XDG_CACHE_HOME")
	if home := e.getenv("HOME"); cache == "" && home != "" {
		cache = filepath.Join(home, ".cache")
	}
	if r.HFHome == "" && cache != "" {
		r.HFHome = filepath.Join(cache, "huggingface")
	}
	if r.HFHome == "" {
		r.HFHome = filepath.Join(string(filepath.Separator), "nonexistent-hf-home") // no HOME: no local cache
	}
	if cache != "" {
		r.CacheDir = filepath.Join(cache, "roofline", "models")
	}
	m, err := r.Load(ctx, name)
	if err != nil {
		return nil, asUsage(fmt.Errorf("model: %w", err))
	}
	return m, nil
}

func modelsList(e *env, args []string) error {
	fs := newFlags(e, "models list", "models list [--output table|json]")
	output := fs.StringP("output", "o", "table", "output format: table or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkOutput(*output, "table", "json"); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("models list: unexpected argument %q", fs.Arg(0))
	}
	type row struct {
		ID           string  `json:"id"`
		Architecture string  `json:"architecture,omitempty"`
		ParamsTotal  int64   `json:"params_total,omitempty"`
		ParamsActive int64   `json:"params_active,omitempty"`
		Attention    string  `json:"attention,omitempty"`
		MaxContext   int     `json:"max_context_len,omitempty"`
		Quantization string  `json:"quantization,omitempty"`
		Unsupported  *string `json:"unsupported"`
	}
	var rows []row
	for _, id := range models.CatalogueIDs() {
		m, err := models.LoadCatalogue(id)
		if err != nil {
			msg := strings.TrimPrefix(err.Error(), id+": ")
			rows = append(rows, row{ID: id, Unsupported: &msg})
			continue
		}
		p := m.Params()
		rows = append(rows, row{ID: id, Architecture: m.Architecture, ParamsTotal: p.Total, ParamsActive: p.Active,
			Attention: m.Attention, MaxContext: m.MaxContextLen, Quantization: quantName(m)})
	}
	if *output == "json" {
		return writeModelsJSON(e.stdout, rows)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tPARAMS (total)\tPARAMS (active)\tATTENTION\tMAX CONTEXT\tWEIGHTS")
	for _, r := range rows {
		if r.Unsupported != nil {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t%s\n", r.ID, *r.Unsupported)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d tokens\t%s\n", r.ID, paramStr(r.ParamsTotal), paramStr(r.ParamsActive),
			r.Attention, r.MaxContext, r.Quantization)
	}
	return tw.Flush()
}

// paramStr prints a parameter count with three significant figures: "8.03 B params".
func paramStr(n int64) string {
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

// quantName describes the checkpoint's weight storage: "bf16", "fp8 (fp8)", "mxfp4 (fp4)".
func quantName(m *models.Model) string {
	if m.Quant.Method == "" || m.Quant.Method == m.Quant.Dtype {
		return m.Quant.Dtype
	}
	return m.Quant.Method + " (" + m.Quant.Dtype + ")"
}

// modelShow is the JSON of "models show": base units, units in field names.
type modelShow struct {
	ID                   string       `json:"id"`
	Source               string       `json:"source"`
	Architecture         string       `json:"architecture"`
	ModelType            string       `json:"model_type"`
	ParamsTotal          int64        `json:"params_total"`
	ParamsActive         int64        `json:"params_active"`
	Params               paramsJSON   `json:"params_by_role"`
	NumLayers            int          `json:"num_layers"`
	HiddenSize           int          `json:"hidden_size"`
	NumHeads             int          `json:"num_heads"`
	NumKVHeads           int          `json:"num_kv_heads"`
	HeadDim              int          `json:"head_dim"`
	VHeadDim             int          `json:"v_head_dim"`
	Attention            string       `json:"attention"`
	MLA                  *mlaJSON     `json:"mla"`
	IntermediateSize     int          `json:"intermediate_size"`
	VocabSize            int          `json:"vocab_size"`
	TiedEmbeddings       bool         `json:"tied_embeddings"`
	MoE                  *moeJSON     `json:"moe"`
	SlidingWindowLayers  []windowJSON `json:"sliding_window_layers"`
	KVDtype              string       `json:"kv_dtype"`
	KVCacheBytesPerToken float64      `json:"kv_cache_bytes_per_token"`
	// KVBytesPerTokenByGroup splits it by layer group (full, sliding_W, chunked_C).
	KVBytesPerTokenByGroup map[string]float64 `json:"kv_bytes_per_token_by_group"`
	// VisionParams is the vision tower and projector (0 for a text-only config).
	VisionParams          int64         `json:"vision_params"`
	WeightDtype           string        `json:"weight_dtype"`
	WeightBytes           float64       `json:"weight_bytes"`
	Quantization          quantJSON     `json:"quantization"`
	MaxContextLen         int           `json:"max_context_len"`
	KVCacheBytesAtMaxCtx  float64       `json:"kv_cache_bytes_at_max_context"`
	FLOPsPerTokenDecode   []opFLOPsJSON `json:"decode_flops_per_token_at_max_context"`
	Notes                 []string      `json:"notes"`
	GEMMs                 []models.GEMM `json:"-"`
	weightBytesUnits      units.Bytes
	geometry              string // per-layer attention geometry that differs from the model-wide one
	kvBytesPerTokenUnits  units.Bytes
	kvBytesAtMaxCtxUnits  units.Bytes
	decodeFLOPsTotalUnits units.FLOPs
}

type paramsJSON struct {
	Embedding int64 `json:"embedding"`
	LMHead    int64 `json:"lm_head"`
	Attention int64 `json:"attention"`
	Dense     int64 `json:"dense_mlp"`
	Experts   int64 `json:"routed_experts"`
	Shared    int64 `json:"shared_experts"`
	Router    int64 `json:"router"`
	Norms     int64 `json:"norms"`
}

type mlaJSON struct {
	QLoRARank     int `json:"q_lora_rank"`
	KVLoRARank    int `json:"kv_lora_rank"`
	QKNopeHeadDim int `json:"qk_nope_head_dim"`
	QKRopeHeadDim int `json:"qk_rope_head_dim"`
	VHeadDim      int `json:"v_head_dim"`
}

type moeJSON struct {
	Experts            int `json:"experts"`
	ExpertsPerToken    int `json:"experts_per_token"`
	SharedExperts      int `json:"shared_experts"`
	ExpertIntermediate int `json:"expert_intermediate_size"`
	SharedIntermediate int `json:"shared_intermediate_size"`
	MoELayers          int `json:"moe_layers"`
}

type windowJSON struct {
	WindowTokens int `json:"window_tokens"`
	Layers       int `json:"layers"`
}

type quantJSON struct {
	Method         string   `json:"method"`
	Dtype          string   `json:"dtype"`
	GroupSize      int      `json:"group_size"`
	BytesPerWeight float64  `json:"bytes_per_weight"`
	Excluded       []string `json:"excluded"`
}

type opFLOPsJSON struct {
	Name  string  `json:"name"`
	FLOPs float64 `json:"flops"`
}

func modelsShow(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "models show", "models show MODEL [--output table|json] [--weight-dtype D] [--kv-dtype D]")
	output := fs.StringP("output", "o", "table", "output format: table or json")
	wd := fs.String("weight-dtype", "", "weight dtype ("+strings.Join(units.Dtypes(), ", ")+"; default: the checkpoint's own)")
	kd := fs.String("kv-dtype", "", "KV-cache dtype (default: the model's torch_dtype)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkOutput(*output, "table", "json"); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErr("models show: give exactly one MODEL (a catalogue id, a Hugging Face id or a config.json path)")
	}
	wdc, err := units.CanonicalDtype(*wd)
	if err != nil {
		return usageErr("--weight-dtype: %v", err)
	}
	kdc, err := units.CanonicalDtype(*kd)
	if err != nil {
		return usageErr("--kv-dtype: %v", err)
	}
	m, err := loadModel(ctx, e, fs.Arg(0))
	if err != nil {
		return err
	}
	s, err := describe(m, wdc, kdc)
	if err != nil {
		return usageErr("%v", err)
	}
	if *output == "json" {
		return writeModelsJSON(e.stdout, s)
	}
	return showTable(e.stdout, s)
}

// describe computes the show record of m with weight dtype wd and KV dtype kd ("" = own).
func describe(m *models.Model, wd, kd string) (*modelShow, error) {
	p := m.Params()
	s := &modelShow{ID: m.ID, Source: m.Source, Architecture: m.Architecture, ModelType: m.ModelType,
		ParamsTotal: p.Total, ParamsActive: p.Active,
		Params:    paramsJSON{p.Embedding, p.LMHead, p.Attention, p.Dense, p.Experts, p.Shared, p.Router, p.Norms},
		NumLayers: m.NumLayers, HiddenSize: m.HiddenSize, NumHeads: m.NumHeads, NumKVHeads: m.NumKVHeads,
		HeadDim: m.HeadDim, VHeadDim: m.VHeadDim, Attention: m.Attention, IntermediateSize: m.IntermediateSize,
		VocabSize: m.VocabSize, TiedEmbeddings: m.TiedEmbeddings, MaxContextLen: m.MaxContextLen,
		SlidingWindowLayers: []windowJSON{}, Notes: m.Notes,
		Quantization: quantJSON{m.Quant.Method, m.Quant.Dtype, m.Quant.GroupSize, m.Quant.BytesPerWeight, m.Quant.Excluded},
	}
	if s.Notes == nil {
		s.Notes = []string{}
	}
	if s.Quantization.Excluded == nil {
		s.Quantization.Excluded = []string{}
	}
	if ml := m.MLA; ml != nil {
		s.MLA = &mlaJSON{ml.QLoRARank, ml.KVLoRARank, ml.QKNopeHeadDim, ml.QKRopeHeadDim, ml.VHeadDim}
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
		s.SlidingWindowLayers = append(s.SlidingWindowLayers, windowJSON{w, windows[w]})
	}
	if e := m.MoE; e != nil {
		s.MoE = &moeJSON{e.Experts, e.ExpertsPerToken, e.SharedExperts, e.ExpertIntermediate, e.SharedIntermediate, moeLayers}
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
		s.WeightDtype = "checkpoint (" + quantName(m) + ")"
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
			s.FLOPsPerTokenDecode = append(s.FLOPsPerTokenDecode, opFLOPsJSON{o.Name, float64(o.FLOPs)})
			s.decodeFLOPsTotalUnits += o.FLOPs
		}
	}
	return s, nil
}

func showTable(w io.Writer, s *modelShow) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, a...)...) }
	row("Model", "%s (%s)", s.ID, s.Source)
	row("Architecture", "%s (model_type %s)", s.Architecture, s.ModelType)
	row("Parameters", "%s total, %s active per token", paramStr(s.ParamsTotal), paramStr(s.ParamsActive))
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
		names := make([]string, 0, len(s.KVBytesPerTokenByGroup))
		for n := range s.KVBytesPerTokenByGroup {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			row("  "+n+" layers", "%s/token", units.Bytes(s.KVBytesPerTokenByGroup[n]))
		}
	}
	if s.VisionParams > 0 {
		row("Vision tower", "%s (with projector), loaded in 16 bits with the weights", paramStr(s.VisionParams))
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
	_, err := fmt.Fprint(w, memoryExplainer)
	return err
}

// memoryExplainer is what models show says about layer groups and start-up memory.
const memoryExplainer = `
Layer groups: the KV cache is sized per group of layers. Full-attention (and MLA) layers keep
every token of a sequence; a sliding-window layer keeps only its window (vLLM's hybrid KV-cache
manager: window − 1 + the tokens scheduled this step), a chunked layer its chunk. Past the window
only the full-attention groups grow, so "KV at max context" is far below max context × KV/token.

Start-up memory: before sizing the KV cache the engine loads the weights as it lays them out
(padding, replicated KV heads, vision tower) and runs a profiling pass; vLLM's peak is its dummy
sampler over max_num_seqs × vocabulary at ~39 B per element. ` + "`roofline memory`" + ` prints each part.
`

// writeModelsJSON prints v as indented JSON.
func writeModelsJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
