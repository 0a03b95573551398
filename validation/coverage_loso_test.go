package validation

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// TestCoverageLOSOWithoutInterval: a row whose leave-one-source-out table has no cell with
// MinCellRows (20) residuals has no such interval; it was counted as outside, so a user's
// file of two sources, A with 19 rows and B with 20, reported B's leave-one-source-out
// coverage as 0.0% with no interval behind it. Hand count (all 39 rows in one cell, measured
// = predicted, so every interval that exists holds its row): without B only A's 19 residuals
// remain (< 20): B has no LOSO interval, 0 of 20 rows, coverage null ("—"); without A, B's
// 20 remain: A's 19 rows all inside, 100%; overall 19 of 39 rows with one, 100%. Leave one
// out keeps 38 residuals for every row: 39 of 39 inside.
func TestCoverageLOSOWithoutInterval(t *testing.T) {
	var res []Result
	for src, n := range map[string]int{"A": 19, "B": 20} {
		for i := 0; i < n; i++ {
			p := 100.0
			res = append(res, Result{ID: fmt.Sprintf("%s-%d", src, i), Engine: "vllm", Metric: "ttft_ms_mean", Workload: "rate",
				ModelClass: "dense", Vendor: "nvidia", GPUID: "h100-sxm5-80gb", Profile: "vllm", Measured: p, Predicted: &p})
		}
	}
	cov := Intervals(res)
	want := map[string]struct {
		rows, inLOO, rowsLOSO, inLOSO int
		pctLOSO                       float64 // -1: null
	}{
		"A":                   {19, 19, 19, 19, 100},
		"B":                   {20, 20, 0, 0, -1},
		"all (out of sample)": {39, 39, 19, 19, 100},
	}
	for _, c := range cov {
		w, ok := want[c.Key]
		if !ok {
			t.Errorf("unexpected coverage group %q", c.Key)
			continue
		}
		delete(want, c.Key)
		if c.Rows != w.rows || c.InsideLOO != w.inLOO || c.RowsLOSO != w.rowsLOSO || c.InsideLOSO != w.inLOSO {
			t.Errorf("%s: rows %d inside LOO %d, LOSO rows %d inside %d; want %d %d, %d %d", c.Key, c.Rows, c.InsideLOO, c.RowsLOSO, c.InsideLOSO, w.rows, w.inLOO, w.rowsLOSO, w.inLOSO)
		}
		switch {
		case w.pctLOSO < 0 && c.PctLOSO != nil:
			t.Errorf("%s: LOSO coverage %.1f%%, want null (no row has a LOSO interval)", c.Key, *c.PctLOSO)
		case w.pctLOSO >= 0 && (c.PctLOSO == nil || *c.PctLOSO != w.pctLOSO):
			t.Errorf("%s: LOSO coverage %v, want %.1f%%", c.Key, c.PctLOSO, w.pctLOSO)
		}
	}
	for k := range want {
		t.Errorf("no coverage group %q", k)
	}
	var b bytes.Buffer
	WriteCoverage(&b, cov)
	for _, s := range []string{"— (0 of 20 rows)", "100.0 (19 of 39 rows)", "no other such source to pool it with"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("coverage table lacks %q:\n%s", s, b.String())
		}
	}
}

// TestTableCountsUnpredictedRows: the summary table showed rows refused by engine support (or
// unpredictable for any other reason) only as "rows" minus "predicted"; it now says how many
// and where their reasons are. Hand count: 3 rows, 1 predicted, 2 not.
func TestTableCountsUnpredictedRows(t *testing.T) {
	p, zero := 10.0, 0.0
	rows := []Result{
		{ID: "U-1", Engine: "vllm", Metric: "output_tok_s", Workload: "offline", Measured: 10, Predicted: &p, ErrPct: &zero, APEPct: &zero},
		{ID: "U-2", Engine: "trtllm", Metric: "output_tok_s", Workload: "offline", Measured: 10, Reason: "--engine trtllm@1.0 on v100-sxm2: …"},
		{ID: "U-3", Engine: "vllm", Metric: "output_tok_s", Workload: "offline", Measured: 10, Reason: "--dp 4 with --ep 4 …"},
	}
	var b bytes.Buffer
	WriteTable(&b, rows, Summarise(rows), false)
	if want := "note: 2 of 3 rows not predicted, each with its reason"; !strings.Contains(b.String(), want) {
		t.Errorf("table lacks %q:\n%s", want, b.String())
	}
}

// TestTableCountsEdgeNotes: an MLPerf latency row whose bounds the predicted deployment meets
// at no rate is read at its own rate with a note (atEdge); without --rows the summary table
// showed no sign of it. Hand count: 2 predicted rows, 1 with a note.
func TestTableCountsEdgeNotes(t *testing.T) {
	p, zero := 10.0, 0.0
	rows := []Result{
		{ID: "M-1", Engine: "trtllm", Metric: "ttft_ms_mean", Workload: "rate", Measured: 10, Predicted: &p, ErrPct: &zero, APEPct: &zero,
			Note: "the predicted deployment meets the MLPerf bounds (p99 TPOT ≤ 0.001 ms) at no rate up to 98% of its capacity: latencies read at the row's own rate"},
		{ID: "M-2", Engine: "trtllm", Metric: "output_tok_s", Workload: "rate", Measured: 10, Predicted: &p, ErrPct: &zero, APEPct: &zero},
	}
	var b bytes.Buffer
	WriteTable(&b, rows, Summarise(rows), false)
	if want := "note: 1 latency rows of MLPerf Server/Interactive runs were read at their own rate"; !strings.Contains(b.String(), want) {
		t.Errorf("table lacks %q:\n%s", want, b.String())
	}
}
