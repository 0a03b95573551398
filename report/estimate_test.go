package report_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"roofline/estimator"
	"roofline/hardware"
	"roofline/models"
	"roofline/report"
)

// TestNewEstimateDerived checks the figures NewEstimate derives from the prediction against
// the formulas of the package documentation, computed here by hand from the prediction:
// Llama-3.1-8B on 2× H100 (dp=2) at a made-up 2.00 USD per GPU-hour and 0.10 USD/kWh.
func TestNewEstimateDerived(t *testing.T) {
	m, g := llama8BOnH100(t)
	d, err := estimator.New(estimator.Spec{Model: m, GPU: g, TP: 1, DP: 2, MaxModelLen: 4096})
	if err != nil {
		t.Fatal(err)
	}
	w := estimator.Workload{Kind: estimator.Concurrency, Concurrency: 16, InputLen: 1000, OutputLen: 200}
	r, err := report.NewEstimate(d, estimator.Provenance{}, w, false, 1, report.Price{USDPerGPUHour: 2, Source: "test", USDPerKWh: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9*math.Abs(want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	near("output_tok_s_per_gpu", r.OutputTokSPerGPU, r.OutputTokS/2)
	near("energy J per 1k output tokens", r.EnergyPer1k, g.TDPWatts*2/r.OutputTokS*1000)
	near("cost USD per hour", *r.CostPerHour, 2*2)
	near("cost USD per 1M output tokens", *r.CostOut, 4/(3600*r.OutputTokS)*1e6)
	near("power cost USD per hour", *r.PowerCostPerHour, g.TDPWatts/1000*0.1*2)
	near("kv_cache_tokens", float64(r.KVCacheTokens), float64(2*d.Memory().KVCacheTokens))
	// With a technique the report above its table is the deployment without it: the results
	// header says so.
	var txt bytes.Buffer
	report.WriteEstimateText(&txt, r, false)
	if !strings.Contains(txt.String(), "\nResults\n") {
		t.Errorf("no technique: want a plain Results header")
	}
	r.Technique = &estimator.TechniqueComparison{Technique: "speculative decoding (eagle3, K=3, 2.35 tokens per step)"}
	txt.Reset()
	report.WriteEstimateText(&txt, r, false)
	if !strings.Contains(txt.String(), "Results of the baseline, the same deployment without the technique") {
		t.Errorf("with a technique: want the Results header to name the baseline")
	}
	r.Technique = nil
	var b bytes.Buffer
	if err := report.WriteEstimateCSV(&b, r); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 || len(strings.Split(lines[0], ",")) != len(strings.Split(lines[1], ",")) {
		t.Errorf("CSV: want one header and one row of as many fields, got\n%s", b.String())
	}
}

// TestChoosePrice: a given price wins; a GPU without a catalogue price has no on-demand
// cost (not an error) but asking for its spot price is; an unknown offering names the
// allowed ones.
func TestChoosePrice(t *testing.T) {
	g := &hardware.GPU{ID: "x1"}
	if p, err := report.ChoosePrice(g, 2.5, "on-demand"); err != nil || p.USDPerGPUHour != 2.5 || p.Source != "--price-per-gpu-hour" {
		t.Errorf("given: %+v, %v", p, err)
	}
	if p, err := report.ChoosePrice(g, 0, "on-demand"); err != nil || p.USDPerGPUHour != 0 {
		t.Errorf("no catalogue price: %+v, %v", p, err)
	}
	if _, err := report.ChoosePrice(g, 0, "spot"); err == nil {
		t.Error("spot without a price: no error")
	}
	if _, err := report.ChoosePrice(g, 0, "lease"); err == nil || !strings.Contains(err.Error(), "allowed values are") {
		t.Errorf("unknown offering: %v", err)
	}
}

// llama8BOnH100 loads the catalogue's Llama-3.1-8B and H100 for this package's tests.
func llama8BOnH100(t *testing.T) (*models.Model, *hardware.GPU) {
	t.Helper()
	m, err := models.LoadCatalogue("meta-llama/Llama-3.1-8B-Instruct")
	cat, cerr := hardware.Load()
	if err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
	g, err := cat.Lookup("H100")
	if err != nil {
		t.Fatal(err)
	}
	return m, g
}

// llama8BDeployment is Llama-3.1-8B on one H100 (default engine, max_model_len 4096).
func llama8BDeployment(t *testing.T) *estimator.Deployment {
	t.Helper()
	m, g := llama8BOnH100(t)
	d, err := estimator.New(estimator.Spec{Model: m, GPU: g, MaxModelLen: 4096})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// estimateOf is report.NewEstimate of a workload on d: closed form, seed 1, no price.
func estimateOf(t *testing.T, d *estimator.Deployment, w estimator.Workload) report.Estimate {
	t.Helper()
	r, err := report.NewEstimate(d, estimator.Provenance{}, w, false, 1, report.Price{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestEstimateOneOutputToken: with one output token per request there is no gap after the
// first token. vllm bench serve reports ITL and TPOT as 0 then, roofline bench leaves them
// out (bench/doc.go), and per-user speed output/(E2E − TTFT) divides by 0: the estimate says
// so in a warning (JSON and text) and prints that speed as "-" instead of "0 tok/s". With
// two or more tokens neither appears.
func TestEstimateOneOutputToken(t *testing.T) {
	d := llama8BDeployment(t)
	for _, tc := range []struct {
		out  int
		note bool
	}{{1, true}, {2, false}, {200, false}} {
		w := estimator.Workload{Kind: estimator.Rate, RequestRate: 1, InputLen: 100, OutputLen: tc.out}
		r := estimateOf(t, d, w)
		var txt bytes.Buffer
		report.WriteEstimateText(&txt, r, false)
		hasNote := strings.Contains(strings.Join(r.Warnings, "\n"), report.OneTokenNote)
		dash := strings.Contains(txt.String(), "per-user speed      - (one output token")
		if hasNote != tc.note || dash != tc.note || strings.Contains(txt.String(), "per-user speed      0 tok/s") {
			t.Errorf("output %d tokens: warning %v, per-user speed as '-' %v; want %v\n%s", tc.out, hasNote, dash, tc.note, txt.String())
		}
		// The HTML page of the same JSON says the same.
		if got := strings.Contains(estimatePage(t, r), "- (one output token: no streaming interval)"); got != tc.note {
			t.Errorf("output %d tokens: HTML per-user speed as '-' %v, want %v", tc.out, got, tc.note)
		}
	}
}

// TestEstimateOverloadedPerUser: an open loop above the sustainable rate has unbounded TTFT
// and E2E, so per-user speed output/(E2E − TTFT) is undefined; the table and the HTML page
// printed "0 tok/s" beside a finite TPOT. Llama-3.1-8B on one H100 sustains ~430 req/s at
// 100/10 tokens (estimate), far below 1e9 req/s.
func TestEstimateOverloadedPerUser(t *testing.T) {
	d := llama8BDeployment(t)
	w := estimator.Workload{Kind: estimator.Rate, RequestRate: 1e9, InputLen: 100, OutputLen: 10}
	r := estimateOf(t, d, w)
	if !r.Overloaded {
		t.Fatal("1e9 req/s on one H100: not overloaded")
	}
	var txt bytes.Buffer
	report.WriteEstimateText(&txt, r, false)
	for name, out := range map[string]string{"text": txt.String(), "HTML": estimatePage(t, r)} {
		if !strings.Contains(out, "- (overloaded: no steady state)") || strings.Contains(out, "per-user speed      0 tok/s") {
			t.Errorf("%s: per-user speed of an overloaded estimate not shown as '-'", name)
		}
	}
}

// TestEstimatePurchaseCostLine: an amortised purchase price is not a rental and leaves the
// power out (hardware prices: "list price amortised over 5 years (power not included)");
// the line read "rental $0.68 per hour (purchase); power … (included in rental prices; the
// own cost of purchased GPUs)". 30,000 USD over 5 × 8,760 h = 0.685 USD per hour.
func TestEstimatePurchaseCostLine(t *testing.T) {
	d := llama8BDeployment(t)
	w := estimator.Workload{Kind: estimator.Concurrency, Concurrency: 1, InputLen: 100, OutputLen: 10}
	for _, tc := range []struct {
		offering string
		usd      float64
		want     string
	}{
		{"purchase", 30000.0 / (5 * 8760), "GPU cost            purchase $0.68 per hour, list price amortised, power not in it; power $0.063 per hour at TDP and 0.0900 USD/kWh, paid on top of a purchase"},
		{"on-demand", 3.78, "GPU cost            rental $3.78 per hour (on-demand); power $0.063 per hour at TDP and 0.0900 USD/kWh (included in rental prices)"},
	} {
		r, err := report.NewEstimate(d, estimator.Provenance{}, w, false, 1, report.Price{USDPerGPUHour: tc.usd, Offering: tc.offering, Source: "test", USDPerKWh: 0.09})
		if err != nil {
			t.Fatal(err)
		}
		var txt bytes.Buffer
		report.WriteEstimateText(&txt, r, false)
		if !strings.Contains(txt.String(), tc.want) {
			t.Errorf("%s: want the line %q in\n%s", tc.offering, tc.want, txt.String())
		}
	}
}

// TestEstimateMarkdownCells: every row of the Markdown tables has exactly the cells of its
// header (2 for key–value sections); the intervals' cell keys ("*|throughput|*|*|*") split
// their rows into 6 and more. A "|" escaped as "\|" does not count (GitHub's rule).
func TestEstimateMarkdownCells(t *testing.T) {
	d := llama8BDeployment(t)
	w := estimator.Workload{Kind: estimator.Concurrency, Concurrency: 4, InputLen: 100, OutputLen: 10}
	r := estimateOf(t, d, w)
	if len(r.Intervals) == 0 {
		t.Fatal("no intervals: the test needs their rows")
	}
	var b bytes.Buffer
	report.WriteEstimateText(&b, r, true)
	for _, l := range strings.Split(b.String(), "\n") {
		if !strings.HasPrefix(l, "|") {
			continue
		}
		if cells := strings.Count(strings.ReplaceAll(l, `\|`, ""), "|") - 1; cells != 2 {
			t.Errorf("%d cells: %s", cells, l)
		}
	}
}

// TestNearCapacityWarning: an open loop at 90% of the sustainable rate is warned about with
// the amplification ρ/(1 − ρ) × 10% = 0.9/0.1 × 10% = 90% (hand calculation); the same
// deployment at 20% is not, nor is a closed loop (its batch is its concurrency).
func TestNearCapacityWarning(t *testing.T) {
	d := llama8BDeployment(t)
	base := estimator.Workload{Kind: estimator.Concurrency, Concurrency: 1, InputLen: 1024, OutputLen: 256}
	s, err := d.Serve(base)
	if err != nil {
		t.Fatal(err)
	}
	if got := estimator.LoadFraction(0, s); math.Abs(got-s.RequestPerS/s.MaxRequestRate) > 1e-12 {
		t.Errorf("closed loop LoadFraction = %g, want achieved/sustainable %g", got, s.RequestPerS/s.MaxRequestRate)
	}
	has := func(w estimator.Workload) bool {
		r := estimateOf(t, d, w)
		for _, x := range r.Warnings {
			if strings.HasPrefix(x, "near capacity") {
				return true
			}
		}
		return false
	}
	open := func(f float64) estimator.Workload {
		return estimator.Workload{Kind: estimator.Rate, RequestRate: f * s.MaxRequestRate, InputLen: 1024, OutputLen: 256, NumRequests: 200}
	}
	if !has(open(0.9)) {
		t.Error("no near-capacity warning at 90% of the sustainable rate")
	}
	if has(open(0.2)) || has(base) {
		t.Error("near-capacity warning at 20% or for a closed loop")
	}
	if n := report.NearCapacityNote(0.95); !strings.Contains(n, "by about 190%") {
		t.Errorf("note at ρ = 0.95 does not give 0.95/0.05 × 10%% = 190%%: %s", n)
	}
}

// TestEstimateCSVEnforceEager: the CSV row says whether CUDA graphs were off, as the JSON's
// server_config.enforce_eager and the text's "CUDA graphs off" line do: two rows of one
// deployment with and without --enforce-eager must not be told apart by their numbers only.
// Under the tgi profile a decode step with graphs off lasts at least 32 layers × 900 µs =
// 28.8 ms (Llama-3.1-8B config.json: 32 layers; tgi.toml eager_decode_layer_us), so the
// eager row's ITL is above that and the graphed row's below it.
func TestEstimateCSVEnforceEager(t *testing.T) {
	m, g := llama8BOnH100(t)
	p, _, err := estimator.Engine("tgi")
	if err != nil {
		t.Fatal(err)
	}
	w := estimator.Workload{Kind: estimator.Rate, RequestRate: 1, InputLen: 512, OutputLen: 64}
	for _, eager := range []bool{false, true} {
		d, err := estimator.New(estimator.Spec{Model: m, GPU: g, Profile: p, MaxModelLen: 4096, EnforceEager: eager})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := report.WriteEstimateCSV(&b, estimateOf(t, d, w)); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&b).ReadAll()
		if err != nil || len(rows) != 2 {
			t.Fatalf("eager %v: %d rows, %v", eager, len(rows), err)
		}
		col := map[string]string{}
		for i, h := range rows[0] {
			col[h] = rows[1][i]
		}
		itl, _ := strconv.ParseFloat(col["itl_ms_mean"], 64)
		if col["enforce_eager"] != strconv.FormatBool(eager) || (itl >= 28.8) != eager {
			t.Errorf("eager %v: enforce_eager column %q, itl_ms_mean %g (28.8 ms of dispatch)", eager, col["enforce_eager"], itl)
		}
	}
}

// TestEstimateShowsSchedulerSteps: --num-scheduler-steps moves every decode step's host
// cost (vllm-v0: 10 ms step_overhead_ms paid once per n steps), so the server config says
// it was given, in text and JSON (server_config.num_scheduler_steps); it said nothing, and
// two estimates 4x apart in ITL showed the same configuration. Left out at 1 (every step
// scheduled, vLLM's default).
func TestEstimateShowsSchedulerSteps(t *testing.T) {
	m, g := llama8BOnH100(t)
	p, _, err := estimator.Engine("vllm@0.7.3")
	if err != nil {
		t.Fatal(err)
	}
	w := estimator.Workload{Kind: estimator.Rate, RequestRate: 1, InputLen: 512, OutputLen: 64}
	for _, n := range []int{1, 8} {
		d, err := estimator.New(estimator.Spec{Model: m, GPU: g, Profile: p, MaxModelLen: 4096, SchedulerSteps: n})
		if err != nil {
			t.Fatal(err)
		}
		r := estimateOf(t, d, w)
		var txt, js bytes.Buffer
		report.WriteEstimateText(&txt, r, false)
		if err := json.NewEncoder(&js).Encode(r); err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Server map[string]any `json:"server_config"`
		}
		if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		got, inJSON := doc.Server["num_scheduler_steps"]
		inText := strings.Contains(txt.String(), "num_scheduler_steps 8")
		if n == 8 && (got != float64(8) || !inText) || n == 1 && (inJSON || strings.Contains(txt.String(), "num_scheduler_steps")) {
			t.Errorf("%d scheduler steps: JSON server_config.num_scheduler_steps %v (present %v), in the text %v", n, got, inJSON, inText)
		}
	}
}

// TestEagerIntervalsNote: the note that the 80% intervals come from runs with CUDA graphs on
// belongs to the estimate, which prints intervals; it was part of the deployment's warning,
// so memory and step (no intervals) printed it too.
func TestEagerIntervalsNote(t *testing.T) {
	m, g := llama8BOnH100(t)
	p, _, err := estimator.Engine("tgi")
	if err != nil {
		t.Fatal(err)
	}
	for _, eager := range []bool{false, true} {
		d, err := estimator.New(estimator.Spec{Model: m, GPU: g, Profile: p, MaxModelLen: 4096, EnforceEager: eager})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range estimator.Messages(d.Warnings()) {
			if strings.Contains(w, "interval") {
				t.Errorf("eager %v: the deployment's warning speaks of intervals: %q", eager, w)
			}
		}
		r := estimateOf(t, d, estimator.Workload{Kind: estimator.Rate, RequestRate: 1, InputLen: 512, OutputLen: 64})
		if got := slices.Contains(r.Warnings, report.EagerIntervalsNote); got != (eager && len(r.Intervals) > 0) || eager && len(r.Intervals) == 0 {
			t.Errorf("eager %v: intervals note %v with %d intervals", eager, got, len(r.Intervals))
		}
	}
}

// TestEstimateMarkdownWarnings: in Markdown the warnings (the --enforce-eager dispatch floor
// among them) are a section of their own, a list after a blank line; they were "warning: …"
// lines right under the parameter table, which GitHub Markdown renders as more rows of it
// (a table ends at a blank line, not at a line without pipes).
func TestEstimateMarkdownWarnings(t *testing.T) {
	m, g := llama8BOnH100(t)
	p, _, err := estimator.Engine("tgi")
	if err != nil {
		t.Fatal(err)
	}
	d, err := estimator.New(estimator.Spec{Model: m, GPU: g, Profile: p, MaxModelLen: 4096, EnforceEager: true})
	if err != nil {
		t.Fatal(err)
	}
	r := estimateOf(t, d, estimator.Workload{Kind: estimator.Rate, RequestRate: 1, InputLen: 512, OutputLen: 64})
	if len(r.Warnings) == 0 {
		t.Fatal("an eager estimate without warnings")
	}
	var md bytes.Buffer
	report.WriteEstimateText(&md, r, true)
	_, tail, ok := strings.Cut(md.String(), "\n\n## Warnings\n\n")
	if !ok || strings.Contains(md.String(), "\nwarning: ") || strings.Count(tail, "\n- ") != len(r.Warnings)-1 || !strings.HasPrefix(tail, "- ") {
		t.Errorf("want a Warnings section listing the %d warnings:\n%s", len(r.Warnings), md.String())
	}
}

// estimatePage renders an estimate's JSON as the HTML page report --html writes.
func estimatePage(t *testing.T, r any) string {
	t.Helper()
	doc, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if _, err := report.Render(&page, doc); err != nil {
		t.Fatal(err)
	}
	return page.String()
}
