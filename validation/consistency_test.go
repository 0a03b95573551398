package validation

import (
	"math"
	"strings"
	"testing"
)

// TestCheckMeans: the identity E2E = TTFT + TPOT·(output_len − 1) on two stages of
// data/validation/vllm_sim2real_train.csv, by hand:
//
//	Llama-2-7B codegen, 5 req/s (S2R-20260217-155451-llama-2-7b-tp1-codegen-s0):
//	  25.0366 + 9.2638 × 246 = 25.0366 + 2278.8948 = 2303.9314 ms against 1810.3224 measured
//	  (2303.9314 − 1810.3224)/1810.3224 = 493.6090/1810.3224 = +27.27% > 5%: flagged;
//	  implied output 1 + (1810.3224 − 25.0366)/9.2638 = 1 + 1785.2858/9.2638 = 193.72 tokens,
//	  implied TPOT 1785.2858/246 = 7.2573 ms.
//	Mistral-Nemo codegen, 5 req/s (S2R-63-mistral-nemo-12b-tp1-codegen-1-1-s0):
//	  31.9 + 9.8644 × 246 = 31.9 + 2426.6424 = 2458.5424 ms against 2449.7809
//	  (+8.7615/2449.7809 = +0.36%): consistent.
//
// The flagged stage's TPOT and ITL rows are withheld; its E2E, TTFT and p90 rows are not.
func TestCheckMeans(t *testing.T) {
	stage := func(id string, out int, e2e, ttft, tpot float64) []Row {
		base := Row{Model: "m", GPU: "H100 SXM", TP: 1, Engine: "vllm", InputLen: 566, OutputLen: out, PrefixLen: 100, Workload: "rate", RequestRate: 5, NumRequests: 3000}
		var rs []Row
		for _, mv := range []struct {
			m string
			v float64
		}{{"e2e_ms_mean", e2e}, {"e2e_ms_p90", 1.1 * e2e}, {"ttft_ms_mean", ttft}, {"tpot_ms_mean", tpot}, {"itl_ms_median", tpot}} {
			r := base
			r.ID, r.Metric, r.Value = id+"-"+mv.m, mv.m, mv.v
			if strings.Contains(id, "nemo") {
				r.Model = "n" // another configuration
			}
			rs = append(rs, r)
		}
		return rs
	}
	rows := append(stage("S2R-20260217-155451-llama-2-7b-tp1-codegen-s0", 247, 1810.3224, 25.0366, 9.2638),
		stage("S2R-63-mistral-nemo-12b-tp1-codegen-1-1-s0", 247, 2449.7809, 31.9, 9.8644)...)
	got := CheckMeans(rows)
	if len(got) != 1 {
		t.Fatalf("flagged %d configurations, want 1 (the Llama-2-7B stage): %+v", len(got), got)
	}
	c := got[0]
	near := func(name string, v, want, tol float64) {
		if math.Abs(v-want) > tol {
			t.Errorf("%s = %.4f, want %.4f (hand arithmetic in the comment)", name, v, want)
		}
	}
	near("ImpliedE2E", c.ImpliedE2E, 2303.9314, 1e-3)
	near("DevPct", c.DevPct, 27.27, 0.01)
	near("ImpliedOutput", c.ImpliedOutput, 193.72, 0.01)
	near("E2ETPOT", c.E2ETPOT, 7.2573, 1e-3)
	if c.ID != "S2R-20260217-155451-llama-2-7b-tp1-codegen-s0" {
		t.Errorf("ID %q", c.ID)
	}
	var withheld []string
	for _, i := range c.Withheld {
		withheld = append(withheld, rows[i].Metric)
	}
	if strings.Join(withheld, ",") != "tpot_ms_mean,itl_ms_median" {
		t.Errorf("withheld %v, want the stage's tpot_ms_mean and itl_ms_median only", withheld)
	}
	if r := c.Reason(); !strings.HasPrefix(r, WithheldPrefix) || !strings.Contains(r, "193.7 output tokens, not 247") {
		t.Errorf("reason %q", r)
	}

	// Within the tolerance: a stage 4.9% off is kept, 5.1% off is flagged.
	for _, tc := range []struct {
		dev  float64
		flag bool
	}{{4.9, false}, {5.1, true}, {-5.1, true}} {
		e2e := 1000.0
		tpot := (e2e*(1+tc.dev/100) - 20) / 99
		if n := len(CheckMeans(stage("x-s0", 100, e2e, 20, tpot))); (n == 1) != tc.flag {
			t.Errorf("deviation %+.1f%%: flagged %d, want %v", tc.dev, n, tc.flag)
		}
	}
	// Without all three means, or with one output token, nothing can be checked.
	if n := len(CheckMeans(stage("y-s0", 1, 1000, 20, 5))); n != 0 {
		t.Errorf("output_len 1: flagged %d", n)
	}
	if n := len(CheckMeans(stage("z-s0", 100, 1000, 20, 5)[:3])); n != 0 {
		t.Errorf("no tpot_ms_mean: flagged %d", n)
	}
}

// TestSummariseWithheld: Summarise lists each withheld configuration's reason once and the
// run of a withheld stage has no TPOT error (unpredicted), while its E2E is aggregated.
func TestSummariseWithheld(t *testing.T) {
	why := WithheldPrefix + "S2R-a-s0: …"
	p := 1000.0
	e, a := 0.0, 0.0
	rows := []Result{
		{ID: "S2R-a-s0-tpot_ms_mean", Metric: "tpot_ms_mean", Measured: 9, Reason: why, run: "S2R-a|tpot_ms_mean", weight: 1},
		{ID: "S2R-a-s0-itl_ms_mean", Metric: "itl_ms_mean", Measured: 9, Reason: why, run: "S2R-a|itl_ms_mean", weight: 1},
		{ID: "S2R-a-s0-e2e_ms_mean", Metric: "e2e_ms_mean", Measured: 1000, Predicted: &p, ErrPct: &e, APEPct: &a, run: "S2R-a|e2e_ms_mean", weight: 1},
	}
	s := Summarise(rows)
	if len(s.InconsistentMeans) != 1 || s.InconsistentMeans[0] != "S2R-a-s0: …" {
		t.Errorf("InconsistentMeans %q, want the one reason without its prefix", s.InconsistentMeans)
	}
	for _, g := range s.ByRunMetric {
		want := 0
		if g.Key == "e2e_ms_mean" {
			want = 1
		}
		if g.Predicted != want {
			t.Errorf("run metric %s: %d predicted, want %d", g.Key, g.Predicted, want)
		}
	}
}

// TestSummariseByModel: rows are grouped by model id; medians by hand: model A has APEs
// 10 and 30 (median 20), model B one unpredicted row (no median).
func TestSummariseByModel(t *testing.T) {
	res := func(model string, ape float64) Result {
		a, e := ape, -ape
		return Result{ID: model, Model: model, Metric: "output_tok_s", Measured: 1, APEPct: &a, ErrPct: &e}
	}
	rows := []Result{res("org/A", 10), res("org/A", 30), {ID: "b", Model: "org/B", Metric: "output_tok_s", Measured: 1}}
	s := Summarise(rows)
	if len(s.ByModel) != 2 || s.ByModel[0].Key != "org/A" || s.ByModel[0].MedianAPE == nil || *s.ByModel[0].MedianAPE != 20 {
		t.Fatalf("ByModel %+v, want org/A median 20 and org/B", s.ByModel)
	}
	if g := s.ByModel[1]; g.Key != "org/B" || g.Rows != 1 || g.Predicted != 0 || g.MedianAPE != nil {
		t.Errorf("org/B: %+v, want 1 row, none predicted, no median", g)
	}
}
