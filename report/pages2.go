package report

import (
	"encoding/json"
	"fmt"
	"image/color"
	"math"
	"roofline/sweeprun"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// colorT is the colour type of the palette.
type colorT = color.RGBA

// fl is a JSON number that may be null (NaN).
type fl float64

func (f *fl) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = fl(math.NaN())
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = fl(v)
	return nil
}

func (f fl) v() float64 { return float64(f) }

// nanFl is NaN as an fl, for fields a document leaves out.
var nanFl = fl(math.NaN())

// bdist is a bench distribution: count (null when unknown) and statistics in ms.
type bdist struct {
	Count                            *int
	Mean, Median, P90, P95, P99, Std fl
}

func (d *bdist) UnmarshalJSON(b []byte) error {
	var m struct {
		Count                            *int
		Mean, Median, P90, P95, P99, Std *fl
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	get := func(p *fl) fl {
		if p == nil {
			return nanFl
		}
		return *p
	}
	*d = bdist{m.Count, get(m.Mean), get(m.Median), get(m.P90), get(m.P95), get(m.P99), get(m.Std)}
	return nil
}

// benchDoc is what the report reads of a bench summary (roofline bench or import --output json).
type benchDoc struct {
	Source      string `json:"source"`
	ToolVersion string `json:"tool_version"`
	Name        string `json:"name"`
	Run         struct {
		URL         string `json:"url"`
		Model       string `json:"model"`
		Endpoint    string `json:"endpoint"`
		RequestRate *fl    `json:"request_rate"`
		RateInf     bool   `json:"request_rate_inf"`
		Concurrency *int   `json:"concurrency"`
		NumRequests *int   `json:"num_requests"`
		InputLen    *fl    `json:"input_len"`
		OutputLen   *fl    `json:"output_len"`
	} `json:"run"`
	Completed    *int              `json:"completed"`
	Failed       *int              `json:"failed"`
	Duration     fl                `json:"duration_s"`
	RequestPerS  fl                `json:"request_per_s"`
	OutputTokS   fl                `json:"output_tok_s"`
	TotalTokS    fl                `json:"total_tok_s"`
	Goodput      *fl               `json:"goodput_req_s"`
	TTFT         bdist             `json:"ttft_ms"`
	ITL          bdist             `json:"itl_ms"`
	TPOT         bdist             `json:"tpot_ms"`
	E2E          bdist             `json:"e2e_ms"`
	PerUser      bdist             `json:"output_tok_s_per_user"`
	Percentiles  string            `json:"percentile_method"`
	TimingOrigin string            `json:"timing_origin"`
	Definitions  map[string]string `json:"definition_differences"`
	Warnings     []string          `json:"warnings"`
}

func (b *benchDoc) label() string {
	s := b.Source
	if b.ToolVersion != "" {
		s += " " + b.ToolVersion
	}
	if b.Name != "" {
		s += ": " + b.Name
	}
	return s
}

func (b *benchDoc) load() string {
	r := b.Run
	var parts []string
	switch {
	case r.RateInf:
		parts = append(parts, "all requests at once")
	case r.RequestRate != nil:
		parts = append(parts, sig(r.RequestRate.v())+" req/s")
	}
	if r.Concurrency != nil {
		parts = append(parts, fmt.Sprintf("concurrency %d", *r.Concurrency))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func count(p *int) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

func flp(p *fl) string {
	if p == nil {
		return "-"
	}
	return sig(p.v())
}

// decodeList reads a JSON object or an array of objects into []T.
func decodeList[T any](doc []byte) ([]T, error) {
	var list []T
	if t := strings.TrimSpace(string(doc)); strings.HasPrefix(t, "[") {
		if err := json.Unmarshal(doc, &list); err != nil {
			return nil, err
		}
		return list, nil
	}
	var one T
	if err := json.Unmarshal(doc, &one); err != nil {
		return nil, err
	}
	return []T{one}, nil
}

func benchPage(pg *page, doc []byte) error {
	list, err := decodeList[benchDoc](doc)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return fmt.Errorf("no benchmark in the file")
	}
	b0 := &list[0]
	pg.Title = "Benchmark: " + b0.Source
	if b0.ToolVersion != "" {
		pg.Title += " " + b0.ToolVersion
	}
	pg.Subtitle = fmt.Sprintf("%d benchmark(s). Latencies in ms; percentiles %s.", len(list), b0.Percentiles)
	if len(list) == 1 {
		r := b0.Run
		pg.Facts = [][2]string{
			{"server", orDash(r.URL)}, {"model", orDash(r.Model)}, {"endpoint", orDash(r.Endpoint)}, {"load", b0.load()},
			{"lengths (input / output tokens)", flp(r.InputLen) + " / " + flp(r.OutputLen)},
			{"requests completed / failed", count(b0.Completed) + " / " + count(b0.Failed)},
			{"duration", sig(b0.Duration.v()) + " s"},
			{"throughput", fmt.Sprintf("%s req/s, %s output tok/s, %s total tok/s", sig(b0.RequestPerS.v()), sig(b0.OutputTokS.v()), sig(b0.TotalTokS.v()))},
		}
		if b0.TimingOrigin != "" {
			pg.Facts = append(pg.Facts, [2]string{"TTFT and E2E timed from", b0.TimingOrigin + " send"})
		}
		if b0.Goodput != nil {
			pg.Facts = append(pg.Facts, [2]string{"goodput", sig(b0.Goodput.v()) + " req/s meeting every SLO"})
		}
		// Percentile curves: every point labelled by the plot's legend and axis.
		for _, c := range []struct {
			title string
			ds    []bdist
			names []string
		}{
			{"TTFT, ITL and TPOT percentiles", []bdist{b0.TTFT, b0.ITL, b0.TPOT}, []string{"TTFT", "ITL", "TPOT"}},
			{"End-to-end latency percentiles", []bdist{b0.E2E}, []string{"E2E"}},
		} {
			p := newPlot(c.title, "percentile", "latency (ms)")
			n := 0
			for i, d := range c.ds {
				xy := finite(plotter.XYs{{X: 50, Y: d.Median.v()}, {X: 90, Y: d.P90.v()}, {X: 95, Y: d.P95.v()}, {X: 99, Y: d.P99.v()}})
				n += len(xy)
				if err := scatter(p, c.names[i]+" (ms)", xy, palette[i], draw.CircleGlyph{}, vg.Points(3), true); err != nil {
					return err
				}
			}
			if n == 0 {
				continue
			}
			if err := addPlot(pg, p, c.title, "Median (50), p90, p95 and p99 of each metric, as the file gives them; a missing statistic is left out, never drawn as 0."); err != nil {
				return err
			}
		}
	} else {
		// Several benchmarks: throughput against latency, each point numbered as in the table.
		p := newPlot("Latency vs throughput", "output throughput (tok/s)", "mean latency (ms)")
		for i, m := range []struct {
			name string
			get  func(*benchDoc) float64
		}{{"TTFT mean (ms)", func(b *benchDoc) float64 { return b.TTFT.Mean.v() }}, {"TPOT mean (ms)", func(b *benchDoc) float64 { return b.TPOT.Mean.v() }}} {
			var xy plotter.XYs
			var names []string
			for j := range list {
				xy = append(xy, plotter.XY{X: list[j].OutputTokS.v(), Y: m.get(&list[j])})
				names = append(names, fmt.Sprint(j+1))
			}
			if err := labelled(p, m.name, xy, names, palette[i], i == 0); err != nil {
				return err
			}
		}
		if err := addPlot(pg, p, "Latency vs throughput across the benchmarks", "Each number is a benchmark of the table below."); err != nil {
			return err
		}
		t := table{Title: "Benchmarks", Head: []string{"#", "benchmark", "load", "completed", "failed", "req/s", "output tok/s", "TTFT mean", "TTFT p99", "TPOT mean", "ITL mean", "E2E mean"}}
		for i := range list {
			b := &list[i]
			t.Rows = append(t.Rows, []string{fmt.Sprint(i + 1), b.label(), b.load(), count(b.Completed), count(b.Failed), sig(b.RequestPerS.v()), sig(b.OutputTokS.v()),
				sig(b.TTFT.Mean.v()), sig(b.TTFT.P99.v()), sig(b.TPOT.Mean.v()), sig(b.ITL.Mean.v()), sig(b.E2E.Mean.v())})
		}
		pg.Tables = append(pg.Tables, t)
	}
	for i := range list {
		b := &list[i]
		t := table{Title: "Latency (ms): " + b.label(), Head: []string{"metric", "mean", "median", "p90", "p95", "p99", "std", "n"}}
		for _, r := range []struct {
			name, key string
			d         bdist
		}{{"TTFT (ms)", "ttft_ms", b.TTFT}, {"ITL (ms)", "itl_ms", b.ITL}, {"TPOT (ms)", "tpot_ms", b.TPOT}, {"E2E (ms)", "e2e_ms", b.E2E}, {"per-user (tok/s)", "output_tok_s_per_user", b.PerUser}} {
			name := r.name
			if why, ok := b.Definitions[r.key]; ok {
				name += " *"
				pg.Notes = append(pg.Notes, fmt.Sprintf("%s: %s has another definition: %s", b.label(), r.key, why))
			}
			t.Rows = append(t.Rows, []string{name, sig(r.d.Mean.v()), sig(r.d.Median.v()), sig(r.d.P90.v()), sig(r.d.P95.v()), sig(r.d.P99.v()), sig(r.d.Std.v()), count(r.d.Count)})
		}
		pg.Tables = append(pg.Tables, t)
		for _, w := range b.Warnings {
			pg.Notes = append(pg.Notes, b.label()+": "+w)
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// labelled adds points with a text label next to each (names[i] for xy[i]); points
// with a non-finite coordinate are left out. legend adds a legend entry.
func labelled(p *plot.Plot, name string, xy plotter.XYs, names []string, c colorT, legend bool) error {
	var pts plotter.XYs
	var labels []string
	for i, v := range xy {
		if !math.IsNaN(v.X) && !math.IsInf(v.X, 0) && !math.IsNaN(v.Y) && !math.IsInf(v.Y, 0) {
			pts = append(pts, v)
			labels = append(labels, names[i])
		}
	}
	if len(pts) == 0 {
		return nil
	}
	nm := name
	if !legend {
		nm = name
	}
	if err := scatter(p, nm, pts, c, draw.CircleGlyph{}, vg.Points(3.5), false); err != nil {
		return err
	}
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: pts, Labels: labels})
	if err != nil {
		return err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].Font.Size = fontTick
		l.TextStyle[i].Color = c
		l.TextStyle[i].XAlign = draw.XLeft
	}
	l.Offset = vg.Point{X: vg.Points(5), Y: vg.Points(2)}
	p.Add(l)
	return nil
}

// compareDoc is what the report reads of compare or validate --output json.
type compareDoc struct {
	Benchmark string            `json:"benchmark"`
	Hints     map[string]string `json:"from_result_file"`
	Model     string            `json:"model"`
	GPU       string            `json:"gpu"`
	Method    string            `json:"prediction_method"`
	Verdict   string            `json:"verdict"`
	Metrics   []struct {
		Metric    string `json:"metric"`
		Predicted *fl    `json:"predicted"`
		Measured  *fl    `json:"measured"`
		ErrPct    *fl    `json:"error_pct"`
		Key       bool   `json:"key"`
	} `json:"metrics"`
	Measured struct {
		Source string `json:"source"`
	} `json:"measured"`
	Warnings []string `json:"warnings"`
}

// metricLabel names a comparison metric for people: "ttft_ms_mean" → "TTFT mean".
func metricLabel(m string) string {
	r := strings.NewReplacer("ttft_ms_", "TTFT ", "itl_ms_", "ITL ", "tpot_ms_", "TPOT ", "e2e_ms_", "E2E ", "output_tok_s", "output tok/s", "request_per_s", "req/s")
	return r.Replace(m)
}

func comparePage(pg *page, doc []byte, kind string) error {
	list, err := decodeList[compareDoc](doc)
	if err != nil {
		return err
	}
	if len(list) == 0 || len(list[0].Metrics) == 0 {
		return fmt.Errorf(`no "metrics" in the file`)
	}
	c0 := &list[0]
	pg.Title = fmt.Sprintf("Predicted vs measured: %s on %s", c0.Model, c0.GPU)
	pg.Subtitle = fmt.Sprintf("roofline %s; prediction by %s; measured by %s. Error = (predicted − measured) / measured.", kind, c0.Method, c0.Measured.Source)
	for i := range list {
		c := &list[i]
		label := c.Benchmark
		if label == "" {
			label = c.Measured.Source
		}
		if len(list) > 1 {
			label = fmt.Sprintf("%d. %s", i+1, label)
		}
		pg.Facts = append(pg.Facts, [2]string{"verdict: " + label, c.Verdict})
	}
	// Predicted against measured, latencies (ms) and throughput, each point named.
	for _, grp := range []struct {
		title, unit string
		is          func(string) bool
	}{
		{"Latency: predicted vs measured", "ms", func(m string) bool {
			return m == "ttft_ms_mean" || m == "tpot_ms_mean" || m == "e2e_ms_mean"
		}},
		{"Throughput: predicted vs measured", "per second", func(m string) bool { return !strings.Contains(m, "_ms_") }},
	} {
		p := newPlot(grp.title, "measured ("+grp.unit+")", "predicted ("+grp.unit+")")
		p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
		p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
		lo, hi := math.Inf(1), math.Inf(-1)
		n := 0
		for i := range list {
			var xy plotter.XYs
			var names []string
			for _, m := range list[i].Metrics {
				if !grp.is(m.Metric) || m.Predicted == nil || m.Measured == nil || !(m.Predicted.v() > 0) || !(m.Measured.v() > 0) {
					continue
				}
				xy = append(xy, plotter.XY{X: m.Measured.v(), Y: m.Predicted.v()})
				name := metricLabel(m.Metric)
				if len(list) > 1 {
					name = fmt.Sprintf("%d: %s", i+1, name)
				}
				names = append(names, name)
				lo, hi = math.Min(lo, math.Min(m.Measured.v(), m.Predicted.v())), math.Max(hi, math.Max(m.Measured.v(), m.Predicted.v()))
			}
			n += len(xy)
			legend := "benchmark"
			if len(list) > 1 {
				legend = fmt.Sprintf("benchmark %d", i+1)
			}
			if err := labelled(p, legend, xy, names, palette[i%len(palette)], true); err != nil {
				return err
			}
		}
		if n == 0 {
			continue
		}
		diag, err := plotter.NewLine(plotter.XYs{{X: lo / 1.5, Y: lo / 1.5}, {X: hi * 1.5, Y: hi * 1.5}})
		if err != nil {
			return err
		}
		diag.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		diag.Color = shade(7, 255)
		p.Add(diag)
		p.Legend.Add("predicted = measured", diag)
		if err := addPlot(pg, p, grp.title, "Log–log; each point is named by its metric (latency: the key means; every metric is in the tables); points on the dashed line are exact."); err != nil {
			return err
		}
	}
	for i := range list {
		c := &list[i]
		title := "Metrics"
		if c.Benchmark != "" {
			title += ": " + c.Benchmark
		}
		t := table{Title: title, Head: []string{"metric", "predicted", "measured", "error %", "key"}}
		for _, m := range c.Metrics {
			e := "-"
			if m.ErrPct != nil {
				e = fmt.Sprintf("%+.1f", m.ErrPct.v())
			}
			t.Rows = append(t.Rows, []string{metricLabel(m.Metric), flp(m.Predicted), flp(m.Measured), e, map[bool]string{true: "key", false: ""}[m.Key]})
		}
		pg.Tables = append(pg.Tables, t)
		keys := make([]string, 0, len(c.Hints))
		for k := range c.Hints {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			pg.Notes = append(pg.Notes, fmt.Sprintf("from the result file: --%s %s", k, c.Hints[k]))
		}
		pg.Notes = append(pg.Notes, c.Warnings...)
	}
	return nil
}

// planDoc is what the report reads of plan --output json.
type planDoc struct {
	Model    string `json:"model"`
	Workload struct {
		Kind      string `json:"workload"`
		InputLen  int    `json:"input_len"`
		OutputLen int    `json:"output_len"`
	} `json:"workload"`
	TargetRate  fl        `json:"target_request_rate"`
	TargetUsers int       `json:"target_users"`
	Constraints []string  `json:"constraints"`
	Engine      string    `json:"engine_release"`
	EngineSrc   string    `json:"engine_source"`
	Cheapest    *fleetDoc `json:"cheapest"`
	PerGPU      []struct {
		GPU      string    `json:"gpu"`
		Cheapest *fleetDoc `json:"cheapest_fleet"`
		Reason   string    `json:"reason"`
		Note     string    `json:"note"`
	} `json:"per_gpu"`
	Notes  []string `json:"notes"`
	Method string   `json:"method"`
}

type fleetDoc struct {
	GPU         string                     `json:"gpu"`
	PerReplica  int                        `json:"gpus_per_replica"`
	TP          int                        `json:"tp"`
	PP          int                        `json:"pp"`
	Replicas    int                        `json:"replicas"`
	Total       int                        `json:"total_gpus"`
	WeightDtype string                     `json:"weight_dtype"`
	KVDtype     string                     `json:"kv_dtype"`
	MaxNumSeqs  int                        `json:"max_num_seqs"`
	CostHour    *fl                        `json:"cost_usd_per_hour"`
	CostOut     *fl                        `json:"cost_usd_per_1m_output_tokens"`
	PriceSource string                     `json:"price_source"`
	OutputTokS  fl                         `json:"output_tok_s"`
	TTFT        bdist                      `json:"ttft_ms"`
	ITL         bdist                      `json:"itl_ms"`
	E2E         bdist                      `json:"e2e_ms"`
	PerUser     fl                         `json:"output_tok_s_per_user"`
	Launch      map[string]json.RawMessage `json:"launch"` // engine → command (string); "notes" → []string
}

func (f *fleetDoc) describe() string {
	return fmt.Sprintf("%d × (%d× %s, tp%d pp%d) %s/%s, max-num-seqs %d", f.Replicas, f.PerReplica, f.GPU, f.TP, f.PP, f.WeightDtype, f.KVDtype, f.MaxNumSeqs)
}

func planPage(pg *page, doc []byte) error {
	var d planDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return err
	}
	pg.Title = "roofline plan: " + d.Model
	load := fmt.Sprintf("%s req/s", sig(d.TargetRate.v()))
	if d.TargetUsers > 0 {
		load = fmt.Sprintf("%d users", d.TargetUsers)
	}
	pg.Subtitle = fmt.Sprintf("Cheapest fleet serving %s, input %d / output %d tokens; %s.", load, d.Workload.InputLen, d.Workload.OutputLen, d.Method)
	cons := "none"
	if len(d.Constraints) > 0 {
		cons = strings.Join(d.Constraints, ", ")
	}
	pg.Facts = [][2]string{{"constraints", cons}}
	if d.Engine != "" { // plan JSON before it named the engine has none
		eng := d.Engine
		if d.EngineSrc != "" {
			eng += " — " + d.EngineSrc
		}
		pg.Facts = append(pg.Facts, [2]string{"engine profile", eng})
	}
	if c := d.Cheapest; c != nil {
		pg.Facts = append(pg.Facts, [2]string{"cheapest fleet", c.describe()},
			[2]string{"cost", fmt.Sprintf("%s USD/h, %s USD per 1M output tokens", flp(c.CostHour), flp(c.CostOut))},
			[2]string{"price source", orDash(c.PriceSource)})
	} else {
		pg.Facts = append(pg.Facts, [2]string{"cheapest fleet", "none meets the load and constraints"})
	}
	// Cost per hour of each GPU's cheapest fleet: bars named by GPU and size.
	var vals plotter.Values
	var names []string
	for _, g := range d.PerGPU {
		if g.Cheapest == nil || g.Cheapest.CostHour == nil || math.IsNaN(g.Cheapest.CostHour.v()) {
			continue
		}
		vals = append(vals, g.Cheapest.CostHour.v())
		names = append(names, fmt.Sprintf("%s ×%d", g.GPU, g.Cheapest.Total))
	}
	if len(vals) > 0 {
		p := newPlot("Cheapest fleet per GPU", "", "cost (USD per hour)")
		bars, err := plotter.NewBarChart(vals, vg.Points(28))
		if err != nil {
			return err
		}
		bars.Color = palette[0]
		bars.LineStyle.Width = 0
		p.Add(bars)
		p.NominalX(names...)
		p.X.Tick.Label.Rotation = math.Pi / 6
		p.X.Tick.Label.XAlign = draw.XRight
		if err := addPlot(pg, p, "Cost of the cheapest fleet per GPU", "Each bar is the cheapest fleet of that GPU meeting the load and every constraint (total GPUs after ×)."); err != nil {
			return err
		}
	}
	t := table{Title: "Per GPU", Head: []string{"GPU", "fleet", "USD/h", "USD/1M out", "TTFT p95 ms", "ITL p99 ms", "tok/s/user", "note"}}
	for _, g := range d.PerGPU {
		if f := g.Cheapest; f != nil {
			t.Rows = append(t.Rows, []string{g.GPU, f.describe(), flp(f.CostHour), flp(f.CostOut), sig(f.TTFT.P95.v()), sig(f.ITL.P99.v()), sig(f.PerUser.v()), g.Note})
		} else {
			t.Rows = append(t.Rows, []string{g.GPU, "-", "-", "-", "-", "-", "-", orDash(g.Reason)})
		}
	}
	pg.Tables = append(pg.Tables, t)
	if c := d.Cheapest; c != nil && len(c.Launch) > 0 {
		l := table{Title: "Launch commands of the cheapest fleet (per replica)", Head: []string{"engine", "command"}}
		keys := make([]string, 0, len(c.Launch))
		for k := range c.Launch {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			var cmd string
			if json.Unmarshal(c.Launch[k], &cmd) == nil {
				l.Rows = append(l.Rows, []string{k, cmd})
				continue
			}
			var notes []string
			if json.Unmarshal(c.Launch[k], &notes) == nil {
				pg.Notes = append(pg.Notes, notes...)
			}
		}
		pg.Tables = append(pg.Tables, l)
	}
	pg.Notes = d.Notes
	return nil
}

// runDoc is one line of sweep --run's results.jsonl.
type runDoc struct {
	ServerArgs sweeprun.Params `json:"server_args"`
	ClientArgs sweeprun.Params `json:"client_args"`
	Status     string          `json:"status"`
	Measured   *benchDoc       `json:"measured"`
	Predicted  *struct {
		TTFT       bdist `json:"ttft_ms"`
		TPOT       bdist `json:"tpot_ms"`
		OutputTokS fl    `json:"output_tok_s"`
		PerUser    fl    `json:"output_tok_s_per_user"`
	} `json:"predicted"`
	PredictedReason string             `json:"predicted_reason"`
	ErrorPct        map[string]float64 `json:"error_pct"`
	Error           string             `json:"error"`
	GPUs            int                `json:"gpus"`
	MeetsSLO        *bool              `json:"meets_slo"`
	Pareto          bool               `json:"pareto"`
}

// args shows a run's arguments in their order as "name=value" words.
func args(p sweeprun.Params) string {
	out := make([]string, len(p))
	for i, kv := range p {
		out[i] = kv.Name + "=" + kv.Value
	}
	return strings.Join(out, " ")
}

func sweepRunPage(pg *page, doc []byte) error {
	var runs []runDoc
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	for dec.More() {
		var r runDoc
		if err := dec.Decode(&r); err != nil {
			return fmt.Errorf("results line %d: %v", len(runs)+1, err)
		}
		runs = append(runs, r)
	}
	if len(runs) == 0 {
		return fmt.Errorf("no run in the file")
	}
	ok := 0
	for _, r := range runs {
		if r.Status == "ok" {
			ok++
		}
	}
	pg.Title = "roofline sweep --run: measured configurations"
	pg.Subtitle = fmt.Sprintf("%d runs, %d completed; measured by roofline bench, predicted by the simulator for the same deployment and load.", len(runs), ok)
	pg.Facts = [][2]string{{"runs", fmt.Sprint(len(runs))}, {"completed", fmt.Sprint(ok)}, {"failed or not ready", fmt.Sprint(len(runs) - ok)}}
	p := newPlot("Measured throughput per GPU vs interactivity", "output tokens/s per user (tok/s)", "output tokens/s per GPU (tok/s)")
	var mxy, pxy plotter.XYs
	var mn, pn []string
	for i, r := range runs {
		g := float64(max(r.GPUs, 1))
		if r.Measured != nil {
			mxy = append(mxy, plotter.XY{X: r.Measured.PerUser.Mean.v(), Y: r.Measured.OutputTokS.v() / g})
			name := fmt.Sprint(i + 1)
			if r.Pareto {
				name += "*"
			}
			mn = append(mn, name)
		}
		if r.Predicted != nil {
			pxy = append(pxy, plotter.XY{X: r.Predicted.PerUser.v(), Y: r.Predicted.OutputTokS.v() / g})
			pn = append(pn, fmt.Sprint(i+1))
		}
	}
	if err := labelled(p, "measured (* on the measured Pareto front)", mxy, mn, palette[0], true); err != nil {
		return err
	}
	if err := labelled(p, "predicted", pxy, pn, palette[1], true); err != nil {
		return err
	}
	if len(mxy)+len(pxy) > 0 {
		if err := addPlot(pg, p, "Throughput per GPU vs tokens/s per user", "Each number is a run of the table below; * marks the measured Pareto front."); err != nil {
			return err
		}
	}
	t := table{Title: "Runs", Head: []string{"#", "server", "client", "status", "GPUs", "TTFT mean ms", "TPOT mean ms", "output tok/s", "pred. TTFT ms", "TTFT error %", "output tok/s error %", "SLO", "Pareto"}}
	for i, r := range runs {
		m := []string{"-", "-", "-"}
		if r.Measured != nil {
			m = []string{sig(r.Measured.TTFT.Mean.v()), sig(r.Measured.TPOT.Mean.v()), sig(r.Measured.OutputTokS.v())}
		}
		pt := "-"
		if r.Predicted != nil {
			pt = sig(r.Predicted.TTFT.Mean.v())
		} else if r.PredictedReason != "" {
			pt = "- (" + r.PredictedReason + ")"
		}
		e := func(k string) string {
			if v, ok := r.ErrorPct[k]; ok {
				return fmt.Sprintf("%+.1f", v)
			}
			return "-"
		}
		slo := "-"
		if r.MeetsSLO != nil {
			slo = map[bool]string{true: "met", false: "missed"}[*r.MeetsSLO]
		}
		t.Rows = append(t.Rows, []string{fmt.Sprint(i + 1), args(r.ServerArgs), args(r.ClientArgs), r.Status, fmt.Sprint(r.GPUs), m[0], m[1], m[2], pt,
			e("ttft_ms_mean"), e("output_tok_s"), slo, map[bool]string{true: "yes", false: ""}[r.Pareto]})
		if r.Error != "" {
			pg.Notes = append(pg.Notes, fmt.Sprintf("run %d: %s", i+1, firstLine(r.Error)))
		}
	}
	pg.Tables = append(pg.Tables, t)
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
