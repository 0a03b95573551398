package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"image/color"
	"io"
	"math"
	"os"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Kinds of documents Render accepts.
const (
	KindEstimate = "estimate"
	KindSweep    = "sweep"
	KindAccuracy = "accuracy"
	KindPlan     = "plan"
	KindCompare  = "compare"  // compare --output json (one report or an array)
	KindValidate = "validate" // validate --output json
	KindBench    = "bench"    // bench or import --output json (one summary or an array)
	KindSweepRun = "sweep-run"
)

// Kinds lists the kinds Render accepts.
func Kinds() []string {
	return []string{KindEstimate, KindSweep, KindAccuracy, KindPlan, KindCompare, KindValidate, KindBench, KindSweepRun}
}

// Detect returns the kind of a roofline JSON document (an object, an array of objects,
// or the JSON lines of sweep --run's results.jsonl), or an error naming the accepted
// kinds.
func Detect(doc []byte) (string, error) {
	var vals []map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(doc))
	for dec.More() {
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return "", fmt.Errorf("not JSON: %v", err)
		}
		t := bytes.TrimSpace(v)
		if len(t) > 0 && t[0] == '[' {
			var list []map[string]json.RawMessage
			if err := json.Unmarshal(t, &list); err != nil || len(list) == 0 {
				return "", fmt.Errorf("not a JSON object or a non-empty array of objects")
			}
			vals = append(vals, list[0])
			continue
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(t, &m); err != nil {
			return "", fmt.Errorf("not a JSON object: %v", err)
		}
		vals = append(vals, m)
	}
	if len(vals) == 0 {
		return "", errors.New("empty document: want the --output json of " + strings.Join(Kinds(), ", "))
	}
	top := vals[0]
	has := func(k ...string) bool {
		for _, s := range k {
			if _, ok := top[s]; !ok {
				return false
			}
		}
		return true
	}
	switch {
	case has("server_args", "status"):
		return KindSweepRun, nil
	case has("evaluated", "configs"):
		return KindSweep, nil
	case has("model_info", "server_config"):
		return KindEstimate, nil
	case has("rows", "summary"):
		return KindAccuracy, nil
	case has("cheapest", "per_gpu"):
		return KindPlan, nil
	case has("metrics", "verdict", "measured") && has("benchmark"):
		return KindCompare, nil
	case has("metrics", "verdict", "measured"):
		return KindValidate, nil
	case has("percentile_method", "ttft_ms"):
		return KindBench, nil
	}
	return "", errors.New("unrecognised JSON: want the --output json of roofline " + strings.Join(Kinds(), ", ") + " (sweep-run: its results.jsonl)")
}

// Render writes the HTML page for a JSON document and returns its kind.
func Render(w io.Writer, doc []byte) (string, error) {
	kind, err := Detect(doc)
	if err != nil {
		return "", err
	}
	var pg page
	switch kind {
	case KindSweep:
		err = sweepPage(&pg, doc)
	case KindEstimate:
		err = estimatePage(&pg, doc)
	case KindPlan:
		err = planPage(&pg, doc)
	case KindCompare, KindValidate:
		err = comparePage(&pg, doc, kind)
	case KindBench:
		err = benchPage(&pg, doc)
	case KindSweepRun:
		err = sweepRunPage(&pg, doc)
	default:
		err = accuracyPage(&pg, doc)
	}
	if err != nil {
		return kind, fmt.Errorf("%s JSON: %v", kind, err)
	}
	return kind, pageTmpl.Execute(w, pg)
}

// page is what the template shows: a title, key facts, plots and tables.
type page struct {
	Title    string
	Subtitle string
	Facts    [][2]string
	Plots    []figure
	Tables   []table
	Notes    []string
}

type figure struct {
	Title   string
	Caption string
	SVG     template.HTML
}

type table struct {
	Title string
	Head  []string
	Rows  [][]string
}

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font-family:"Liberation Sans",Arial,Helvetica,sans-serif;margin:24px auto;padding:0 16px;color:#222;max-width:1150px;font-size:15px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 6px}
.sub{color:#555;margin-bottom:14px;overflow-wrap:anywhere}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:6px 18px;margin:10px 0}
.facts div{border-left:3px solid #3b75af;padding:2px 8px;overflow-wrap:anywhere}.facts b{display:block;font-size:12px;color:#555;font-weight:normal}
figure{margin:10px 0 18px;border:1px solid #ddd;padding:8px;background:#fff;max-width:840px}
figcaption{font-size:13px;color:#444;margin-top:4px}
figure svg{display:block;width:100%;height:auto}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:right;white-space:nowrap}th{background:#eef2f7}
td:first-child,th:first-child{text-align:left}
.note{font-size:13px;color:#7a4b00;overflow-wrap:anywhere}
@media (max-width:600px){body{margin:12px auto;padding:0 10px}figure{padding:4px;margin:8px 0 14px}}
</style></head><body>
<h1>{{.Title}}</h1><div class="sub">{{.Subtitle}}</div>
<div class="facts">{{range .Facts}}<div><b>{{index . 0}}</b>{{index . 1}}</div>{{end}}</div>
{{range .Plots}}<h2>{{.Title}}</h2><figure>{{.SVG}}<figcaption>{{.Caption}}</figcaption></figure>{{end}}
{{range .Tables}}<h2>{{.Title}}</h2><div class="scroll"><table><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{end}}</table></div>{{end}}
{{range .Notes}}<p class="note">note: {{.}}</p>{{end}}
<p class="sub">Generated by roofline report. Plots: gonum/plot (SVG).</p>
</body></html>
`))

// palette is a colour-blind-safe set (Okabe–Ito).
var palette = []color.RGBA{
	{0, 114, 178, 255}, {230, 159, 0, 255}, {0, 158, 115, 255}, {204, 121, 167, 255},
	{86, 180, 233, 255}, {213, 94, 0, 255}, {240, 228, 66, 255}, {0, 0, 0, 255},
}

// Plot size and fonts: a figure is drawn at plotW × plotH inches (1 in = 96 CSS px at
// natural size) and scaled to the page width; at a 390-px phone (about 350 px for the
// figure) the scale is ≈ 0.57, so the smallest text (tick labels, 14 pt = 18.7 px) stays
// above 10 px.
const (
	plotW, plotH = 6.4, 4.2
	fontTitle    = 16
	fontLabel    = 15
	fontTick     = 14
	fontLegend   = 14
)

// styleFonts sets the plot's text sizes (points).
func styleFonts(p *plot.Plot) {
	p.Title.TextStyle.Font.Size = fontTitle
	p.X.Label.TextStyle.Font.Size = fontLabel
	p.Y.Label.TextStyle.Font.Size = fontLabel
	p.X.Tick.Label.Font.Size = fontTick
	p.Y.Tick.Label.Font.Size = fontTick
	p.Legend.TextStyle.Font.Size = fontLegend
}

// svg renders a plot as an inline <svg> element (the XML prolog dropped). A legend is
// drawn in its own strip above the plot, so it never covers data.
func svg(p *plot.Plot, wIn, hIn float64) (template.HTML, error) {
	styleFonts(p)
	lg := p.Legend
	p.Legend = plot.NewLegend()
	w, h := vg.Length(wIn)*vg.Inch, vg.Length(hIn)*vg.Inch
	probe := draw.New(vgsvg.New(w, h))
	r := lg.Rectangle(probe)
	lh := r.Max.Y - r.Min.Y
	if lh > 0 {
		lh += vg.Points(6)
	}
	c := vgsvg.New(w, h+lh)
	dc := draw.New(c)
	if lh > 0 {
		lg.Top, lg.Left = true, false
		lg.XOffs, lg.YOffs = 0, 0
		lg.Draw(draw.Crop(dc, 0, 0, h, 0))
	}
	p.Draw(draw.Crop(dc, 0, 0, 0, -lh))
	p.Legend = lg
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return "", err
	}
	s := b.String()
	if i := strings.Index(s, "<svg"); i >= 0 {
		s = s[i:]
	}
	return template.HTML(s), nil
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	return p
}

// scatter adds a series of points with a legend entry (no-op when empty).
func scatter(p *plot.Plot, name string, xy plotter.XYs, c color.RGBA, shape draw.GlyphDrawer, radius vg.Length, line bool) error {
	if len(xy) == 0 {
		return nil
	}
	if line {
		l, err := plotter.NewLine(xy)
		if err != nil {
			return err
		}
		l.Color = c
		l.Width = vg.Points(1.5)
		p.Add(l)
	}
	s, err := plotter.NewScatter(xy)
	if err != nil {
		return err
	}
	s.GlyphStyle.Color = c
	s.GlyphStyle.Shape = shape
	s.GlyphStyle.Radius = radius
	p.Add(s)
	if name != "" {
		p.Legend.Add(name, s)
	}
	return nil
}

// finite keeps the points whose coordinates are finite numbers.
func finite(xy plotter.XYs) plotter.XYs {
	out := xy[:0:0]
	for _, v := range xy {
		if !math.IsNaN(v.X) && !math.IsInf(v.X, 0) && !math.IsNaN(v.Y) && !math.IsInf(v.Y, 0) {
			out = append(out, v)
		}
	}
	return out
}

func sortX(xy plotter.XYs) {
	sort.Slice(xy, func(a, b int) bool { return xy[a].X < xy[b].X })
}

// sig formats a number with three significant figures.
func sig(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	if math.IsInf(v, 1) {
		return "unbounded"
	}
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 1000:
		return fmt.Sprintf("%.0f", v)
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

// RenderFile renders doc (Render) into the file path; a page that cannot be rendered
// leaves no file. It returns the kind of the document.
func RenderFile(path string, doc []byte) (string, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	kind, err := Render(f, doc)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", err
	}
	return kind, nil
}
