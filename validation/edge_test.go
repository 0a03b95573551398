package validation_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"roofline/validation"
)

// TestMLPerfEdge: an MLPerf Server row (its tpot_limit_ms and ttft_limit_ms set) has its
// latencies predicted at the deployment's own edge — the highest rate whose p99 TPOT and p99
// TTFT meet the bounds — while its throughput stays the row's own offered rate. The row is
// MLP51-0023..0030 (DeepSeek-R1 FP4 on 8×B200, attention DP + EP8, 804 in / 3681 out, 3.8
// req/s; DeepSeek-R1 Server bounds 80 ms p99 TPOT, 2000 ms p99 TTFT). Expected, independent of
// the model's numbers: at the edge one bound holds with equality (to the bisection's tolerance)
// and neither is exceeded; the request rate equals the offered 3.8 req/s (an open loop below
// capacity serves what arrives); the same deployment without bounds, at 3.8 req/s, has a p99
// TPOT strictly below the edge's. Bounds no deployment reaches (10⁶ ms) put the latencies at
// the top of the search, 98% of capacity, so they are at least the edge's (latency grows with
// load); bounds no deployment meets (1 ms) leave the row at its own rate: the same latencies
// as the row without bounds whose token budget is the one the harness rule picks for a 1 ms
// bound (256 tokens, budgetForStep's smallest).
func TestMLPerfEdge(t *testing.T) {
	const cfg = "deepseek-ai/DeepSeek-R1,B200,8,1,1,8,8,trtllm,fp4,fp8,804,3681,rate,3.8,"
	csv := "id,model,gpu,num_gpus,tp,pp,dp,ep,engine,weight_dtype,kv_dtype,input_len,output_len,workload,request_rate,max_num_batched_tokens,metric,value,tpot_limit_ms,ttft_limit_ms\n" +
		"edge-tpot," + cfg + ",tpot_ms_p99,64.8673,80,2000\n" +
		"edge-ttft," + cfg + ",ttft_ms_p99,1631.0884,80,2000\n" +
		"edge-rps," + cfg + ",request_per_s,3.78,80,2000\n" +
		"plain-tpot," + cfg + ",tpot_ms_p99,64.8673,,\n" +
		"far-tpot," + cfg + ",tpot_ms_p99,64.8673,1000000,1000000\n" +
		"far-ttft," + cfg + ",ttft_ms_p99,1631.0884,1000000,1000000\n" +
		"never-tpot," + cfg + ",tpot_ms_p99,64.8673,1,1\n" +
		"never-ttft," + cfg + ",ttft_ms_mean,556.5296,1,1\n" +
		"budget-tpot," + cfg[:len(cfg)-1] + ",256,tpot_ms_p99,64.8673,,\n" +
		"budget-ttft," + cfg[:len(cfg)-1] + ",256,ttft_ms_mean,556.5296,,\n"
	rows, err := validation.ReadRows(strings.NewReader(csv), "t.csv")
	if err != nil {
		t.Fatal(err)
	}
	res := validation.Predict(context.Background(), rows, closedFormOptions(t))
	got, edge, method := map[string]float64{}, map[string]float64{}, map[string]string{}
	for _, r := range res {
		if r.Predicted == nil {
			t.Fatalf("%s: not predicted: %s", r.ID, r.Reason)
		}
		got[r.ID], edge[r.ID], method[r.ID] = *r.Predicted, r.EdgeRate, r.Note
	}
	// A row whose bounds the deployment never meets says so in its note, naming the bounds;
	// rows read at the edge, or without bounds, carry no such note.
	for _, id := range []string{"never-tpot", "never-ttft"} {
		if m := method[id]; !strings.Contains(m, "p99 TPOT ≤ 1 ms, p99 TTFT ≤ 1 ms) at no rate up to 98% of its capacity") {
			t.Errorf("%s: note %q, want the note that the bounds are met at no rate", id, m)
		}
	}
	for _, id := range []string{"edge-tpot", "plain-tpot", "far-tpot"} {
		if m := method[id]; strings.Contains(m, "bounds") {
			t.Errorf("%s: note %q, want none", id, m)
		}
	}
	// edge_request_rate: the edge of a deployment that meets the bounds at 3.8 req/s with room
	// to spare (its p99 TPOT there is below the edge's, checked below) lies above 3.8 req/s;
	// throughput rows and rows read at their own rate carry none.
	if e := edge["edge-tpot"]; !(e > 3.8) || edge["edge-ttft"] != e {
		t.Errorf("edge_request_rate %g (TPOT row), %g (TTFT row), want one rate above 3.8 req/s", e, edge["edge-ttft"])
	}
	for _, id := range []string{"edge-rps", "plain-tpot", "never-tpot", "never-ttft"} {
		if edge[id] != 0 {
			t.Errorf("%s: edge_request_rate %g, want none", id, edge[id])
		}
	}
	tpot, ttft := got["edge-tpot"], got["edge-ttft"]
	if tpot > 80*1.001 || ttft > 2000*1.001 {
		t.Errorf("edge p99 TPOT %.2f ms, p99 TTFT %.1f ms: a bound (80, 2000 ms) is exceeded", tpot, ttft)
	}
	if math.Abs(tpot-80) > 0.8 && math.Abs(ttft-2000) > 20 {
		t.Errorf("edge p99 TPOT %.2f ms, p99 TTFT %.1f ms: neither bound binds (within 1%%)", tpot, ttft)
	}
	if rps := got["edge-rps"]; math.Abs(rps-3.8) > 3.8e-3 {
		t.Errorf("request_per_s %.4f, want the offered 3.8 req/s", rps)
	}
	if plain := got["plain-tpot"]; !(plain < tpot) {
		t.Errorf("p99 TPOT at the row's own rate without bounds %.2f ms, want below the edge's %.2f ms", plain, tpot)
	}
	if far, farTTFT := got["far-tpot"], got["far-ttft"]; far < tpot || farTTFT < ttft {
		t.Errorf("unreachable bounds: p99 TPOT %.2f ms, p99 TTFT %.1f ms; want at least the edge's %.2f, %.1f", far, farTTFT, tpot, ttft)
	}
	for _, m := range []string{"tpot", "ttft"} {
		if never, b := got["never-"+m], got["budget-"+m]; never != b {
			t.Errorf("%s with bounds never met %.4g, want the row's own rate's %.4g", m, never, b)
		}
	}
}
