package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"roofline/estimator"
)

// TestAMDCeilingsGap measures how much of MI300X's error the achievable ceilings remove. Rows:
// the vLLM rows of DSTK405 (dstack, Llama-3.1-405B on 8×H100 and 8×MI300X, vLLM 0.6.3) and
// VLLMAMD (vLLM blog, 405B on 8×MI300X, vLLM 0.6.2) in data/validation/published.csv, predicted
// with the vllm-v0 profile twice: as embedded (efficiencies are fractions of each GPU's
// achievable ceilings: MI300X bf16 GEMM 51% and HBM 78% of its datasheet, H100 80% and 95%) and
// with ceilings = "datasheet" (the same efficiencies as fractions of the datasheet peaks, i.e. one
// efficiency for every GPU). The speed error is predicted/measured speed − 1 (throughput as is,
// times inverted), so + means predicted too fast whatever the metric. Issue 10's target: MI300X
// median within ±25% using ceilings, not a per-vendor factor. The vllm-v0 host costs were chosen
// on DSTK405 (in-sample), but they are the same for both GPUs, so the gap between them is not.
// The runs with CUDA graphs off (enforce_eager, DSTK405-0035..0110) are left out: their steps
// last the host's per-layer dispatch, which no GPU ceiling sets.
func TestAMDCeilingsGap(t *testing.T) {
	src := filepath.Join("..", "..", "data", "validation", "published.csv")
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(recs[0])
	for _, r := range recs[1:] {
		id := r[col["id"]]
		if (strings.HasPrefix(id, "DSTK405") || strings.HasPrefix(id, "VLLMAMD")) && r[col["engine"]] == "vllm" && r[col["enforce_eager"]] != "true" {
			w.Write(r)
		}
	}
	w.Flush()
	dir := t.TempDir()
	rowsFile := filepath.Join(dir, "amd.csv")
	if err := os.WriteFile(rowsFile, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	p, _, err := estimator.Engine("vllm@0.6.3")
	if err != nil {
		t.Fatal(err)
	}
	ds := *p
	ds.Name, ds.Ceilings, ds.Versions, ds.EngineFamily = "vllm-v0-datasheet", "datasheet", "", ""
	var pb bytes.Buffer
	if err := ds.WriteTOML(&pb); err != nil {
		t.Fatal(err)
	}
	dsFile := filepath.Join(dir, "datasheet.toml")
	if err := os.WriteFile(dsFile, pb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	speed := func(args ...string) map[string]float64 { // GPU → median speed error, in log
		stdout, stderr, code := runCLI(t, append([]string{"accuracy", "--data", rowsFile, "-q", "-o", "json"}, args...)...)
		if code != 0 {
			t.Fatalf("accuracy %v: exit %d: %s", args, code, stderr)
		}
		var res struct {
			Rows []struct {
				GPU       string   `json:"gpu"`
				Metric    string   `json:"metric"`
				Measured  float64  `json:"measured"`
				Predicted *float64 `json:"predicted"`
			} `json:"rows"`
		}
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatal(err)
		}
		by := map[string][]float64{}
		for _, r := range res.Rows {
			if r.Predicted == nil || *r.Predicted <= 0 {
				continue
			}
			l := math.Log(*r.Predicted / r.Measured)
			if strings.Contains(r.Metric, "_ms") || r.Metric == "batch_elapsed_s" {
				l = -l // a time: shorter is faster
			}
			by[r.GPU] = append(by[r.GPU], l)
		}
		out := map[string]float64{}
		for g, v := range by {
			sort.Float64s(v)
			out[g] = v[len(v)/2]
			if len(v)%2 == 0 {
				out[g] = (v[len(v)/2-1] + v[len(v)/2]) / 2
			}
			t.Logf("%v %s: %d rows, median speed error %+.1f%%", args, g, len(v), 100*(math.Exp(out[g])-1))
		}
		return out
	}
	ach := speed()
	sheet := speed("--profile", dsFile)
	gap := func(m map[string]float64) float64 { return m["MI300X"] - m["H100 SXM"] }
	explained := 1 - gap(ach)/gap(sheet)
	t.Logf("MI300X − H100 gap in log speed: %.3f with datasheet-relative efficiencies, %.3f with achievable ceilings: the ceilings explain %.0f%%",
		gap(sheet), gap(ach), 100*explained)
	if e := math.Exp(ach["MI300X"]) - 1; math.Abs(e) > 0.25 {
		t.Errorf("MI300X median speed error %+.1f%% with achievable ceilings, target within ±25%%", 100*e)
	}
	if !(explained > 0.2) {
		t.Errorf("the ceilings explain %.0f%% of the MI300X gap; want a clear share (> 20%%)", 100*explained)
	}
}
