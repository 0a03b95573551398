package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// TestPercentile: numpy.percentile([15, 20, 35, 40, 50], q) with the default linear
// method gives 15, 16, 23, 29, 35, 50 for q = 0, 5, 30, 40, 50, 100 (hand check for 40:
// h = 4·0.4 = 1.6, 20 + 0.6·(35 − 20) = 29).
func TestPercentile(t *testing.T) {
	xs := []float64{15, 20, 35, 40, 50}
	for _, c := range []struct{ p, want float64 }{{0, 15}, {5, 16}, {30, 23}, {40, 29}, {50, 35}, {100, 50}} {
		if got := Percentile(xs, c.p); !near(got, c.want) {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if !math.IsNaN(Percentile(nil, 50)) || Percentile([]float64{3}, 99) != 3 {
		t.Error("empty input must give NaN, one value itself")
	}
}

// handRecords is a record set whose metrics are worked out by hand in TestSummarizeByHand.
func handRecords() []Record {
	return []Record{
		{Index: 0, ScheduledS: 0, SentS: 0, FirstChunkS: 0.05, FirstContentS: 0.1, LastContentS: 0.16, EndS: 0.17,
			ChunkS: []float64{0.1, 0.12, 0.16}, ContentChunks: 3, PromptTokens: 10, CompletionTokens: 3, UsageSource: UsageFromServer, HTTPStatus: 200},
		{Index: 1, ScheduledS: 0.5, SentS: 0.5, FirstChunkS: 0.7, FirstContentS: 0.7, LastContentS: 0.9, EndS: 1.0,
			ChunkS: []float64{0.7, 0.75, 0.8, 0.85, 0.9}, ContentChunks: 5, PromptTokens: 20, CompletionTokens: 5, UsageSource: UsageFromServer, HTTPStatus: 200},
		{Index: 2, ScheduledS: 0.2, SentS: 0.2, EndS: 0.25, UsageSource: UsageCounted, HTTPStatus: 500, Error: "HTTP 500: boom"},
		{Index: 3, ScheduledS: 0.3, SentS: 0.3, FirstChunkS: 0.35, EndS: 0.4, PromptTokens: 5, UsageSource: UsageFromServer, HTTPStatus: 200},
		{Index: 4, ScheduledS: 0.6, SentS: 0.6, FirstChunkS: 0.65, FirstContentS: 0.65, LastContentS: 0.65, EndS: 1.2,
			ChunkS: []float64{0.65}, ContentChunks: 1, PromptTokens: 4, CompletionTokens: 1, UsageSource: UsageFromServer, HTTPStatus: 200},
	}
}

// TestSummarizeByHand checks every metric against a hand calculation.
//
//	record 0: TTFT 100 ms, E2E 160 ms, gaps 20, 40 ms, TPOT (160−100)/(3−1) = 30 ms, per-user 3/0.06 s = 50 tok/s
//	record 1: TTFT 200 ms, E2E 400 ms, gaps 4×50 ms, TPOT 200/4 = 50 ms, per-user 5/0.2 s = 25 tok/s
//	record 2: HTTP 500 → failed, only in the duration
//	record 3: no content → completed, no_content, tokens 5 in / 0 out, no latency
//	record 4: one token → TTFT 50 ms, E2E 50 ms, no gap, left out of TPOT and per-user
//	completed 4, input 10+20+5+4 = 39, output 3+5+0+1 = 9, duration 0 → 1.2 s
//	req/s 4/1.2 = 3.333, output tok/s 9/1.2 = 7.5, total tok/s 48/1.2 = 40
//	TTFT {100, 200, 50}: mean 116.667, median 100, p90 (h = 1.8) 100 + 0.8·100 = 180,
//	     std √((16.667² + 83.333² + 66.667²)/3) = √3888.89 = 62.361
//	ITL {20, 40, 50, 50, 50, 50}: mean 43.333, median (h = 2.5) 50, p90 50
//	TPOT {30, 50}: mean 40, median 40, p90 (h = 0.9) 48; E2E {160, 400, 50}: mean 203.333
//	per-user {50, 25}: mean 37.5; chunks/token 9/9 = 1
//	goodput at TTFT ≤ 150 ms: records 0 and 4 → 2/1.2 = 1.6667 req/s
func TestSummarizeByHand(t *testing.T) {
	s := Summarize(handRecords(), Options{SLO: SLO{TTFTMs: 150}})
	ints := []struct {
		name      string
		got, want int
	}{{"completed", s.Completed, 4}, {"failed", s.Failed, 1}, {"no_content", s.NoContent, 1},
		{"input tokens", s.TotalInputTokens, 39}, {"output tokens", s.TotalOutputTokens, 9},
		{"TTFT n", s.TTFT.Count, 3}, {"ITL n", s.ITL.Count, 6}, {"TPOT n", s.TPOT.Count, 2}, {"per-user n", s.OutputTokSPerUser.Count, 2},
		{"HTTP 500 errors", s.Errors["HTTP 500"], 1}, {"warnings", len(s.Warnings), 5}} // failed, the first failure's text, no content, TPOT and per-user exclusions
	for _, c := range ints {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	// The failed record's error, verbatim (handRecords: "HTTP 500: boom"): "HTTP 500 ×1"
	// alone does not say why a request failed.
	if !slices.Contains(s.Warnings, "first failure: HTTP 500: boom") {
		t.Errorf("warnings %q: want the first failure's text", s.Warnings)
	}
	floats := []struct {
		name      string
		got, want float64
	}{{"duration_s", s.DurationS, 1.2}, {"request_per_s", s.RequestPerS, 4 / 1.2}, {"output_tok_s", s.OutputTokS, 7.5}, {"total_tok_s", s.TotalTokS, 40},
		{"ttft mean", s.TTFT.Mean, 350.0 / 3}, {"ttft median", s.TTFT.Median, 100}, {"ttft p90", s.TTFT.P90, 180}, {"ttft std", s.TTFT.Std, math.Sqrt(35000.0 / 9)},
		{"itl mean", s.ITL.Mean, 260.0 / 6}, {"itl median", s.ITL.Median, 50}, {"itl p90", s.ITL.P90, 50},
		{"tpot mean", s.TPOT.Mean, 40}, {"tpot median", s.TPOT.Median, 40}, {"tpot p90", s.TPOT.P90, 48},
		{"e2e mean", s.E2E.Mean, 610.0 / 3}, {"e2e median", s.E2E.Median, 160},
		{"per-user mean", s.OutputTokSPerUser.Mean, 37.5}, {"chunks/token", s.ChunksPerToken, 1}, {"goodput", *s.GoodputReqS, 2 / 1.2}}
	for _, c := range floats {
		if !(math.Abs(c.got-c.want) <= 1e-6*math.Abs(c.want)) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if s.Approximate {
		t.Error("approximate: every completed record has usage")
	}
}

func TestSummarizeEmpty(t *testing.T) {
	s := Summarize(nil, Options{})
	var b bytes.Buffer
	if err := s.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if s.Completed != 0 || !math.IsNaN(s.TTFT.Mean) || !strings.Contains(b.String(), `"mean": null`) {
		t.Errorf("empty summary: %+v\n%s", s, b.String())
	}
}

// TestSummaryJSONRoundTrip: a Summary survives JSON, unknown numbers included; the
// fixed top-level names of the contract are present.
func TestSummaryJSONRoundTrip(t *testing.T) {
	s := Summarize(handRecords(), Options{})
	s.TPOT.P95 = math.NaN()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]any
	json.Unmarshal(b, &top)
	for _, k := range []string{"completed", "failed", "total_output_tokens", "ttft_ms", "itl_ms", "tpot_ms", "e2e_ms", "output_tok_s", "request_per_s", "duration_s"} {
		if _, ok := top[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	var back Summary
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(back)
	if string(b) != string(b2) {
		t.Errorf("round trip differs:\n%s\n%s", b, b2)
	}
}

// TestRecordsRoundTrip: records written as JSON lines read back identical, and
// Summarize gives the same result (re-summarisable runs).
func TestRecordsRoundTrip(t *testing.T) {
	var b bytes.Buffer
	for _, r := range handRecords() {
		if err := WriteRecord(&b, r); err != nil {
			t.Fatal(err)
		}
	}
	back, err := ReadRecords(strings.NewReader(b.String() + "\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	x, _ := json.Marshal(Summarize(handRecords(), Options{}))
	y, _ := json.Marshal(Summarize(back, Options{}))
	if string(x) != string(y) {
		t.Errorf("summaries differ after a round trip:\n%s\n%s", x, y)
	}
	for _, bad := range []string{`{"index": 1, "usage_source": "usage", "colour": 1}`, `{"index": "one"}`, `{"index": 1}`, `[1]`, `{"index":1,"usage_source":"usage"} {}`} {
		if _, err := ReadRecords(strings.NewReader("\n" + bad + "\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%s: error %v, want one naming line 2", bad, err)
		}
	}
}

func TestWriteTableGolden(t *testing.T) {
	var b bytes.Buffer
	Summarize(handRecords(), Options{SLO: SLO{TTFTMs: 150}}).WriteTable(&b)
	want, err := os.ReadFile("testdata/summary_table.golden")
	if err != nil || string(want) != b.String() {
		os.MkdirAll("testdata", 0o755)
		if os.Getenv("BENCH_UPDATE") != "" {
			os.WriteFile("testdata/summary_table.golden", b.Bytes(), 0o644)
			return
		}
		t.Errorf("table differs from testdata/summary_table.golden (BENCH_UPDATE=1 go test to rewrite after checking):\n%s", b.String())
	}
}

// ExampleSummarize summarises two hand-made requests: TTFT 100 and 200 ms (mean 150),
// the first with 3 tokens over 60 ms (TPOT 30 ms), the second with 5 over 200 ms
// (TPOT 50 ms).
func ExampleSummarize() {
	recs := handRecords()[:2]
	s := Summarize(recs, Options{})
	fmt.Printf("completed %d, output tokens %d\n", s.Completed, s.TotalOutputTokens)
	fmt.Printf("TTFT mean %.0f ms, TPOT mean %.0f ms, ITL median %.0f ms\n", s.TTFT.Mean, s.TPOT.Mean, s.ITL.Median)
	// Output:
	// completed 2, output tokens 8
	// TTFT mean 150 ms, TPOT mean 40 ms, ITL median 50 ms
}
