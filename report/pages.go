package report

import (
	"encoding/json"
	"fmt"
	"image/color"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// dist mirrors the latency summaries of the JSON results (ms; null = unbounded).
type dist struct {
	Mean, Median, P90, P95, P99 *float64
}

func (d dist) get(f *float64) float64 {
	if f == nil {
		return math.Inf(1)
	}
	return *f
}

func (d *dist) UnmarshalJSON(b []byte) error {
	var m map[string]*float64
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	d.Mean, d.Median, d.P90, d.P95, d.P99 = m["mean"], m["median"], m["p90"], m["p95"], m["p99"]
	return nil
}

// sweepDoc is what the report reads of a sweep result.
type sweepDoc struct {
	Model    string `json:"model"`
	Workload struct {
		Kind      string `json:"workload"`
		InputLen  int    `json:"input_len"`
		OutputLen int    `json:"output_len"`
	} `json:"workload"`
	Objective   string   `json:"objective"`
	Constraints []string `json:"constraints"`
	Evaluated   int64    `json:"evaluated"`
	Fits        int64    `json:"fits"`
	Met         int64    `json:"meet_constraints"`
	Fronts      []struct {
		Name string `json:"name"`
		X, Y string
		Size int `json:"size"`
	} `json:"pareto_fronts"`
	Configs []sweepPt `json:"configs"`
	Front   []sweepPt `json:"front"`
	Notes   []string  `json:"notes"`
}

type sweepPt struct {
	Rank         int      `json:"rank"`
	GPU          string   `json:"gpu"`
	NumGPUs      int      `json:"num_gpus"`
	TP           int      `json:"tp"`
	PP           int      `json:"pp"`
	DP           int      `json:"dp"`
	EP           int      `json:"ep"`
	Engine       string   `json:"engine"`
	WeightDtype  string   `json:"weight_dtype"`
	KVDtype      string   `json:"kv_dtype"`
	MaxNumSeqs   int      `json:"max_num_seqs"`
	MaxBatched   int      `json:"max_num_batched_tokens"`
	Concurrency  int      `json:"concurrency"`
	RequestRate  float64  `json:"request_rate"`
	TTFT         dist     `json:"ttft_ms"`
	ITL          dist     `json:"itl_ms"`
	E2E          dist     `json:"e2e_ms"`
	TputGPU      float64  `json:"output_tok_s_per_gpu"`
	PerUser      float64  `json:"output_tok_s_per_user"`
	Cost         *float64 `json:"cost_usd_per_1m_output_tokens"`
	ParetoFronts []string `json:"pareto_fronts"`
	Launch       *struct {
		VLLM string `json:"vllm"`
	} `json:"launch"`
}

func (p *sweepPt) deployment() string {
	return fmt.Sprintf("%d× %s tp%d pp%d dp%d%s %s/%s seqs %d", p.NumGPUs, p.GPU, p.TP, p.PP, p.DP, map[bool]string{true: fmt.Sprintf(" ep%d", p.EP), false: ""}[p.EP > 1],
		p.WeightDtype, p.KVDtype, p.MaxNumSeqs)
}

func (p *sweepPt) load() float64 {
	if p.RequestRate > 0 {
		return p.RequestRate
	}
	return float64(p.Concurrency)
}

func (p *sweepPt) on(front string) bool {
	for _, f := range p.ParetoFronts {
		if f == front {
			return true
		}
	}
	return false
}

func sweepPage(pg *page, doc []byte) error {
	var d sweepDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return err
	}
	pg.Title = "roofline sweep: " + d.Model
	pg.Subtitle = fmt.Sprintf("%s workload, input %d / output %d tokens; ranked by %s; closed-form predictions", d.Workload.Kind, d.Workload.InputLen, d.Workload.OutputLen, d.Objective)
	cons := "none"
	if len(d.Constraints) > 0 {
		cons = strings.Join(d.Constraints, ", ")
	}
	pg.Facts = [][2]string{
		{"configurations evaluated", fmt.Sprint(d.Evaluated)},
		{"fit in memory", fmt.Sprint(d.Fits)},
		{"meet every constraint", fmt.Sprint(d.Met)},
		{"constraints", cons},
	}
	for _, f := range d.Fronts {
		pg.Facts = append(pg.Facts, [2]string{"Pareto front " + f.Name, fmt.Sprintf("%d points", f.Size)})
	}
	pg.Notes = d.Notes
	// Every point known: the ranked configurations and the fronts.
	all := map[string]*sweepPt{}
	key := func(p *sweepPt) string {
		return fmt.Sprintf("%s|%g", p.deployment()+fmt.Sprint(p.MaxBatched), p.load())
	}
	var pts []*sweepPt
	for _, list := range [][]sweepPt{d.Configs, d.Front} {
		for i := range list {
			p := &list[i]
			if _, ok := all[key(p)]; !ok {
				all[key(p)] = p
				pts = append(pts, p)
			}
		}
	}
	sort.SliceStable(pts, func(a, b int) bool { return pts[a].Rank < pts[b].Rank })

	// 1. Throughput per GPU against tokens/s per user.
	p := newPlot("Throughput per GPU vs interactivity", "output tokens/s per user (tok/s)", "output tokens/s per GPU (tok/s)")
	var other, front, top plotter.XYs
	for i, q := range pts {
		xy := plotter.XY{X: q.PerUser, Y: q.TputGPU}
		switch {
		case q.on("throughput_vs_interactivity"):
			front = append(front, xy)
		default:
			other = append(other, xy)
		}
		if i < 5 {
			top = append(top, xy)
		}
	}
	sortX(front)
	if err := scatter(p, "other configurations", finite(other), shade(7, 90), draw.CircleGlyph{}, vg.Points(2), false); err != nil {
		return err
	}
	if err := scatter(p, "Pareto front", finite(front), palette[0], draw.CircleGlyph{}, vg.Points(3.5), true); err != nil {
		return err
	}
	if err := scatter(p, "top 5 by objective", finite(top), palette[5], draw.RingGlyph{}, vg.Points(6), false); err != nil {
		return err
	}
	// Name the front's points (F1, F2, … by tokens/s per user) in the plot and a table.
	var fpts []*sweepPt
	for _, q := range pts {
		if q.on("throughput_vs_interactivity") && !math.IsNaN(q.PerUser) && !math.IsNaN(q.TputGPU) {
			fpts = append(fpts, q)
		}
	}
	sort.SliceStable(fpts, func(a, b int) bool { return fpts[a].PerUser < fpts[b].PerUser })
	if len(fpts) > 0 {
		step := max(1, (len(fpts)+11)/12) // at most about 12 labels, evenly spread, to stay legible
		var lxy plotter.XYs
		var names []string
		ft := table{Title: "Pareto front: throughput per GPU vs tokens/s per user", Head: []string{"point", "deployment", "load", "tok/s/GPU", "tok/s/user", "TTFT p95 ms", "ITL p99 ms"}}
		for i, q := range fpts {
			id := fmt.Sprintf("F%d", i+1)
			if i%step == 0 || i == len(fpts)-1 {
				lxy = append(lxy, plotter.XY{X: q.PerUser, Y: q.TputGPU})
				names = append(names, id)
			}
			ft.Rows = append(ft.Rows, []string{id, q.deployment() + fmt.Sprintf(" tokens %d", q.MaxBatched), sig(q.load()), sig(q.TputGPU), sig(q.PerUser),
				sig(q.TTFT.get(q.TTFT.P95)), sig(q.ITL.get(q.ITL.P99))})
		}
		if err := labelled(p, "", lxy, names, palette[0], false); err != nil {
			return err
		}
		pg.Tables = append(pg.Tables, ft)
	}
	if err := addPlot(pg, p, "Pareto front: throughput per GPU vs tokens/s per user",
		"Each point is a configuration meeting every constraint; the line joins the front (no other point is better on both axes). Front points are named F1, F2, … as in the table \"Pareto front\" below."); err != nil {
		return err
	}

	// 2. Cost against latency.
	p = newPlot("Cost vs latency", "median end-to-end latency (s)", "USD per 1M output tokens")
	other, front = nil, nil
	for _, q := range pts {
		if q.Cost == nil {
			continue
		}
		xy := plotter.XY{X: q.E2E.get(q.E2E.Median) / 1e3, Y: *q.Cost}
		if q.on("cost_vs_latency") {
			front = append(front, xy)
		} else {
			other = append(other, xy)
		}
	}
	sortX(front)
	if len(front)+len(other) > 0 {
		if err := scatter(p, "other configurations", finite(other), shade(7, 90), draw.CircleGlyph{}, vg.Points(2), false); err != nil {
			return err
		}
		if err := scatter(p, "Pareto front", finite(front), palette[2], draw.CircleGlyph{}, vg.Points(3.5), true); err != nil {
			return err
		}
		if err := addPlot(pg, p, "Pareto front: cost vs latency", "Configurations with a known GPU price; all GPU time is charged to output tokens."); err != nil {
			return err
		}
	}

	// 3–5. Throughput and latency against load for the best deployments with several loads.
	groups := map[string][]*sweepPt{}
	var order []string
	for _, q := range pts {
		k := q.deployment() + fmt.Sprintf(" tokens %d", q.MaxBatched)
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], q)
	}
	var shown []string
	for _, k := range order {
		if len(groups[k]) >= 2 && len(shown) < 4 {
			shown = append(shown, k)
		}
	}
	if len(shown) > 0 {
		xl := "concurrency (requests in flight)"
		if d.Workload.Kind == "rate" {
			xl = "request rate (req/s)"
		}
		for _, c := range []struct {
			title, y string
			val      func(*sweepPt) float64
		}{
			{"Throughput vs load", "output tokens/s per GPU (tok/s)", func(q *sweepPt) float64 { return q.TputGPU }},
			{"TTFT p95 vs load", "TTFT p95 (ms)", func(q *sweepPt) float64 { return q.TTFT.get(q.TTFT.P95) }},
			{"ITL p99 vs load", "ITL p99 (ms)", func(q *sweepPt) float64 { return q.ITL.get(q.ITL.P99) }},
		} {
			p := newPlot(c.title, xl, c.y)
			p.Legend.Top = false // curves rise to the right: the lower right is free
			p.X.Scale = plot.LogScale{}
			p.X.Tick.Marker = plot.LogTicks{Prec: -1}
			for i, k := range shown {
				var xy plotter.XYs
				for _, q := range groups[k] {
					xy = append(xy, plotter.XY{X: q.load(), Y: c.val(q)})
				}
				sortX(xy)
				if err := scatter(p, k, finite(xy), palette[i%len(palette)], draw.CircleGlyph{}, vg.Points(3), true); err != nil {
					return err
				}
			}
			if err := addPlot(pg, p, c.title+" (best deployments)", "Deployments of the ranked list with several loads among the returned configurations (use --top 0 for every load)."); err != nil {
				return err
			}
		}
	}

	t := table{Title: "Ranked configurations", Head: []string{"rank", "deployment", "load", "tok/s/GPU", "tok/s/user", "TTFT p95 ms", "ITL p99 ms", "E2E median s", "$/1M out", "fronts"}}
	for _, q := range d.Configs {
		cost := "-"
		if q.Cost != nil {
			cost = sig(*q.Cost)
		}
		t.Rows = append(t.Rows, []string{fmt.Sprint(q.Rank), q.deployment() + fmt.Sprintf(" tokens %d", q.MaxBatched), sig(q.load()), sig(q.TputGPU), sig(q.PerUser),
			sig(q.TTFT.get(q.TTFT.P95)), sig(q.ITL.get(q.ITL.P99)), sig(q.E2E.get(q.E2E.Median) / 1e3), cost, strings.Join(q.ParetoFronts, " ")})
	}
	pg.Tables = append(pg.Tables, t)
	if len(d.Configs) > 0 {
		l := table{Title: "Launch commands (vLLM) of the top configurations", Head: []string{"rank", "command"}}
		for i, q := range d.Configs {
			if i >= 5 || q.Launch == nil {
				break
			}
			l.Rows = append(l.Rows, []string{fmt.Sprint(q.Rank), q.Launch.VLLM})
		}
		pg.Tables = append(pg.Tables, l)
	}
	return nil
}

func shade(i int, alpha uint8) color.RGBA {
	c := palette[i]
	c.A = alpha
	c.R, c.G, c.B = uint8(uint16(c.R)*uint16(alpha)/255), uint8(uint16(c.G)*uint16(alpha)/255), uint8(uint16(c.B)*uint16(alpha)/255)
	if i == 7 {
		c = color.RGBA{150, 150, 150, 255}
	}
	return c
}

func addPlot(pg *page, p *plot.Plot, title, caption string) error {
	s, err := svg(p, plotW, plotH)
	if err != nil {
		return err
	}
	pg.Plots = append(pg.Plots, figure{Title: title, Caption: caption, SVG: s})
	return nil
}

// estimateDoc is what the report reads of an estimate result.
type estimateDoc struct {
	Model struct {
		ID string `json:"id"`
	} `json:"model_info"`
	Hardware struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		NumGPUs int    `json:"num_gpus"`
	} `json:"hardware"`
	Server struct {
		Engine       string `json:"engine"`
		TP, PP, DP   int
		WeightDtype  string `json:"weight_dtype"`
		KVDtype      string `json:"kv_dtype"`
		MaxNumSeqs   int    `json:"max_num_seqs"`
		EnforceEager bool   `json:"enforce_eager"`
	} `json:"server_config"`
	Client struct {
		Workload    string  `json:"workload"`
		InputLen    int     `json:"input_len"`
		OutputLen   int     `json:"output_len"`
		Concurrency int     `json:"concurrency"`
		RequestRate float64 `json:"request_rate"`
		BatchSize   int     `json:"batch_size"`
	} `json:"client_config"`
	Method      string   `json:"method"`
	TTFT        dist     `json:"ttft_ms"`
	ITL         dist     `json:"itl_ms"`
	TPOT        dist     `json:"tpot_ms"`
	E2E         dist     `json:"e2e_ms"`
	OutputTokS  float64  `json:"output_tok_s"`
	TputGPU     float64  `json:"output_tok_s_per_gpu"`
	PerUser     float64  `json:"output_tok_s_per_user"`
	Overloaded  bool     `json:"overloaded"`
	RequestPerS float64  `json:"request_per_s"`
	MaxRate     float64  `json:"max_request_rate"`
	KVTokens    int      `json:"kv_cache_tokens"`
	CostOut     *float64 `json:"cost_usd_per_1m_output_tokens"`
	Memory      struct {
		Total      float64 `json:"total_bytes"`
		Fraction   float64 `json:"memory_fraction"`
		Weights    float64 `json:"weights_bytes_per_gpu"`
		Activation float64 `json:"activation_bytes"`
		NonTorch   float64 `json:"non_torch_bytes"`
		Reserve    float64 `json:"reserve_bytes"`
		KV         float64 `json:"kv_cache_bytes_per_gpu"`
	} `json:"memory"`
	Warnings []string `json:"warnings"`
}

func estimatePage(pg *page, doc []byte) error {
	var d estimateDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return err
	}
	pg.Title = fmt.Sprintf("roofline estimate: %s on %d× %s", d.Model.ID, d.Hardware.NumGPUs, d.Hardware.ID)
	load := fmt.Sprintf("concurrency %d", d.Client.Concurrency)
	switch d.Client.Workload {
	case "rate":
		load = fmt.Sprintf("%s req/s", sig(d.Client.RequestRate))
	case "static":
		load = fmt.Sprintf("static batch %d", d.Client.BatchSize)
	case "offline":
		load = "offline"
	}
	engine := d.Server.Engine
	if d.Server.EnforceEager {
		engine += " (CUDA graphs off, --enforce-eager)"
	}
	pg.Subtitle = fmt.Sprintf("%s, engine %s, tp=%d pp=%d dp=%d, weights %s, KV %s; %s, input %d / output %d tokens; %s",
		d.Hardware.Name, engine, d.Server.TP, d.Server.PP, d.Server.DP, d.Server.WeightDtype, d.Server.KVDtype, load, d.Client.InputLen, d.Client.OutputLen, d.Method)
	cost := "unknown (no price)"
	if d.CostOut != nil {
		cost = "$" + sig(*d.CostOut)
	}
	perUser := sig(d.PerUser) + " tok/s"
	if d.Client.OutputLen == 1 && d.PerUser == 0 {
		perUser = "- (one output token: no streaming interval)" // as the text table
	} else if d.Overloaded && d.PerUser == 0 {
		perUser = "- (overloaded: no steady state)"
	}
	pg.Facts = [][2]string{
		{"output throughput", sig(d.OutputTokS) + " tok/s (" + sig(d.TputGPU) + " tok/s per GPU)"},
		{"requests", sig(d.RequestPerS) + " req/s (max sustainable " + sig(d.MaxRate) + " req/s)"},
		{"TTFT mean / p99", sig(d.TTFT.get(d.TTFT.Mean)) + " / " + sig(d.TTFT.get(d.TTFT.P99)) + " ms"},
		{"ITL mean / p99", sig(d.ITL.get(d.ITL.Mean)) + " / " + sig(d.ITL.get(d.ITL.P99)) + " ms"},
		{"per-user speed", perUser},
		{"KV cache", fmt.Sprintf("%d tokens", d.KVTokens)},
		{"cost per 1M output tokens", cost},
	}
	pg.Notes = d.Warnings

	// Memory breakdown of one GPU, GB.
	m := d.Memory
	free := m.Total - m.Weights - m.Activation - m.NonTorch - m.Reserve - m.KV
	parts := []struct {
		name string
		v    float64
	}{{"weights", m.Weights}, {"activations", m.Activation}, {"runtime (non-torch)", m.NonTorch}, {"reserve", m.Reserve}, {"KV cache", m.KV}, {"not used", math.Max(free, 0)}}
	p := newPlot("Memory of one GPU", "", "GB (10⁹ bytes)")
	var names []string
	for i, part := range parts {
		vals := make(plotter.Values, len(parts))
		vals[i] = part.v / 1e9
		b, err := plotter.NewBarChart(vals, vg.Points(40))
		if err != nil {
			return err
		}
		b.Color = palette[i%len(palette)]
		b.LineStyle.Width = 0
		p.Add(b)
		names = append(names, part.name)
	}
	p.NominalX(names...)
	p.Legend = plot.NewLegend()
	if err := addPlot(pg, p, "Memory breakdown per GPU", fmt.Sprintf("Total %s GB; the engine may use a fraction %.2f of it.", sig(m.Total/1e9), m.Fraction)); err != nil {
		return err
	}

	// Latency percentiles.
	p = newPlot("Latency percentiles", "", "latency (ms)")
	stats := []string{"mean", "median", "p90", "p95", "p99"}
	w := vg.Points(14)
	for i, s := range []struct {
		name string
		d    dist
	}{{"TTFT", d.TTFT}, {"ITL", d.ITL}, {"TPOT", d.TPOT}} {
		v := plotter.Values{s.d.get(s.d.Mean), s.d.get(s.d.Median), s.d.get(s.d.P90), s.d.get(s.d.P95), s.d.get(s.d.P99)}
		for j := range v {
			if math.IsInf(v[j], 0) {
				v[j] = 0
			}
		}
		b, err := plotter.NewBarChart(v, w)
		if err != nil {
			return err
		}
		b.Color = palette[i]
		b.LineStyle.Width = 0
		b.Offset = vg.Length(i-1) * w
		p.Add(b)
		p.Legend.Add(s.name, b)
	}
	p.NominalX(stats...)
	if err := addPlot(pg, p, "TTFT, ITL and TPOT", "Closed-form percentiles unless the estimate was simulated (see the subtitle)."); err != nil {
		return err
	}
	return nil
}

// accuracyDoc is what the report reads of an accuracy result.
type accuracyDoc struct {
	Rows []struct {
		ID        string   `json:"id"`
		Source    string   `json:"source"`
		Model     string   `json:"model"`
		GPU       string   `json:"gpu"`
		Metric    string   `json:"metric"`
		Measured  float64  `json:"measured"`
		Predicted *float64 `json:"predicted"`
	} `json:"rows"`
	Summary struct {
		Overall  accGroup   `json:"overall"`
		ByMetric []accGroup `json:"by_metric"`
		BySource []accGroup `json:"by_source"`
	} `json:"summary"`
	Notes []string `json:"notes"`
}

type accGroup struct {
	Key       string   `json:"key"`
	Rows      int      `json:"rows"`
	Predicted int      `json:"predicted"`
	MedianAPE *float64 `json:"median_ape_pct"` // null: no predicted row in the group
	P90APE    *float64 `json:"p90_ape_pct"`
	Bias      *float64 `json:"bias_pct"`
}

// sigp is sig for an optional value: "—" when there is none.
func sigp(p *float64) string {
	if p == nil {
		return "—"
	}
	return sig(*p)
}

func accuracyPage(pg *page, doc []byte) error {
	var d accuracyDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return err
	}
	o := d.Summary.Overall
	pg.Title = "roofline accuracy: predictions vs published measurements"
	pg.Subtitle = fmt.Sprintf("%d rows, %d predicted", o.Rows, o.Predicted)
	pg.Facts = [][2]string{
		{"median absolute error", sigp(o.MedianAPE) + " %"},
		{"p90 absolute error", sigp(o.P90APE) + " %"},
		{"median signed error (bias)", sigp(o.Bias) + " %"},
	}
	pg.Notes = d.Notes
	// Two families with their own units: latencies (ms) and rates (tokens/s, requests/s, s).
	fam := func(metric string) int {
		if strings.Contains(metric, "_ms") {
			return 0
		}
		return 1
	}
	for f, labels := range [][2]string{{"measured latency (ms)", "predicted latency (ms)"}, {"measured value (tok/s, req/s or s, per metric)", "predicted value (same unit)"}} {
		p := newPlot("Predicted vs measured", labels[0], labels[1])
		p.Legend.Top = false // points hug the diagonal: the lower right is mostly free
		p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
		p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
		bySrc := map[string]plotter.XYs{}
		var srcs []string
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, r := range d.Rows {
			if r.Predicted == nil || fam(r.Metric) != f || !(r.Measured > 0) || !(*r.Predicted > 0) {
				continue
			}
			if _, ok := bySrc[r.Source]; !ok {
				srcs = append(srcs, r.Source)
			}
			bySrc[r.Source] = append(bySrc[r.Source], plotter.XY{X: r.Measured, Y: *r.Predicted})
			lo, hi = math.Min(lo, math.Min(r.Measured, *r.Predicted)), math.Max(hi, math.Max(r.Measured, *r.Predicted))
		}
		if len(srcs) == 0 {
			continue
		}
		sort.Strings(srcs)
		diag, err := plotter.NewLine(plotter.XYs{{X: lo, Y: lo}, {X: hi, Y: hi}})
		if err != nil {
			return err
		}
		diag.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		diag.Color = palette[7]
		p.Add(diag)
		p.Legend.Add("predicted = measured", diag)
		for i, s := range srcs {
			name := s
			if len(name) > 40 {
				name = name[:40] + "…"
			}
			if err := scatter(p, name, bySrc[s], palette[i%7], draw.CircleGlyph{}, vg.Points(2.5), false); err != nil {
				return err
			}
		}
		title := []string{"Latency metrics: predicted vs measured", "Throughput metrics: predicted vs measured"}[f]
		if err := addPlot(pg, p, title, "Log–log; points on the dashed line are exact. Colours are data sources."); err != nil {
			return err
		}
	}
	t := table{Title: "Error by metric", Head: []string{"metric", "rows", "predicted", "median APE %", "p90 APE %", "bias %"}}
	for _, g := range d.Summary.ByMetric {
		t.Rows = append(t.Rows, []string{g.Key, fmt.Sprint(g.Rows), fmt.Sprint(g.Predicted), sigp(g.MedianAPE), sigp(g.P90APE), sigp(g.Bias)})
	}
	pg.Tables = append(pg.Tables, t)
	return nil
}
