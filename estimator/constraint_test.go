package estimator

import (
	"math"
	"strings"
	"testing"
)

func TestParseConstraint(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Constraint
	}{
		{"ttft:p95<500ms", Constraint{Metric: "ttft", Stat: "p95", Op: "<", Value: 500}},
		{"itl:p99<40ms", Constraint{Metric: "itl", Stat: "p99", Op: "<", Value: 40}},
		{"e2e:median<5s", Constraint{Metric: "e2e", Stat: "median", Op: "<", Value: 5000}}, // 5 s = 5000 ms
		{"tpot:mean<=50ms", Constraint{Metric: "tpot", Stat: "mean", Op: "<=", Value: 50}},
		{"TTFT:P50 < 0.2s", Constraint{Metric: "ttft", Stat: "median", Op: "<", Value: 200}},
		{"itl:p90<800us", Constraint{Metric: "itl", Stat: "p90", Op: "<", Value: 0.8}}, // 800 µs = 0.8 ms
		{"ttft:p99<250", Constraint{Metric: "ttft", Stat: "p99", Op: "<", Value: 250}}, // bare = ms
		{"output_tok_s_per_user>30", Constraint{Metric: "output_tok_s_per_user", Op: ">", Value: 30}},
		{"output_tok_s_per_gpu>=1000tok/s", Constraint{Metric: "output_tok_s_per_gpu", Op: ">=", Value: 1000}},
		{"cost_usd_per_1m_output_tokens<$2.5", Constraint{Metric: "cost_usd_per_1m_output_tokens", Op: "<", Value: 2.5}},
	} {
		got, err := ParseConstraint(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		got.Text = ""
		if math.Abs(got.Value-tc.want.Value) > 1e-12 {
			t.Errorf("%q: value %g, want %g", tc.in, got.Value, tc.want.Value)
		}
		got.Value = tc.want.Value
		if got != tc.want {
			t.Errorf("%q = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"ttft500ms", "need an operator"},
		{"ttft<500ms", "needs a statistic"},
		{"ttft:p42<500ms", `statistic "p42": allowed values are mean, median`},
		{"latency:p95<1s", `metric "latency": allowed values are ttft, itl`},
		{"ttft:p95<5h", "need a finite duration"},
		{"ttft:p95<-1ms", "need a finite duration"},
		{"itl:p99<0ms", "need a finite duration > 0"}, // no fleet can meet it; plan said only "no fleet meets"
		{"ttft:p95<<1ms", "one comparison only"},
		{"output_tok_s_per_user:p95>3", "takes no statistic"},
		{"output_tok_s_per_user>fast", "need a finite number"},
		{"output_tok_s_per_user>NaN", "need a finite number"},
	} {
		_, err := ParseConstraint(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.in) {
			t.Errorf("%q: error %v, want one naming the constraint and containing %q", tc.in, err, tc.want)
		}
	}
}

func FuzzParseConstraint(f *testing.F) {
	for _, s := range []string{"ttft:p95<500ms", "itl:p99<=40ms", "e2e:median<5s", "output_tok_s_per_user>30", "x", "<", "ttft:p95<"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseConstraint(s)
		if err != nil {
			return
		}
		if math.IsNaN(c.Value) || math.IsInf(c.Value, 0) || c.Value < 0 {
			t.Fatalf("%q: value %g", s, c.Value)
		}
		if c2, err := ParseConstraint(c.Text); err != nil || c2 != c {
			t.Fatalf("%q does not round-trip through %q: %+v %v", s, c.Text, c2, err)
		}
	})
}

// TestConstraintMet: a point with hand-set metrics against each operator, including the
// infinite latencies of an overloaded queue.
func TestConstraintMet(t *testing.T) {
	var p SweepPoint
	p.TTFT = Dist{Mean: 300, Median: 250, P90: 400, P95: 500, P99: 900}
	p.OutputTokSPerUser = 30
	for _, tc := range []struct {
		c    string
		want bool
	}{
		{"ttft:p95<500ms", false}, // 500 is not < 500
		{"ttft:p95<=500ms", true},
		{"ttft:p99<1s", true},
		{"ttft:mean>0.3s", false},
		{"output_tok_s_per_user>30", false},
		{"output_tok_s_per_user>=30", true},
		{"cost_usd_per_1m_output_tokens<100", false}, // no price: unknown never passes
	} {
		c, err := ParseConstraint(tc.c)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Met(&p); got != tc.want {
			t.Errorf("%s on %+v: %v, want %v", tc.c, p.TTFT, got, tc.want)
		}
	}
	p.TTFT = Dist{Mean: math.Inf(1), Median: math.Inf(1), P90: math.Inf(1), P95: math.Inf(1), P99: math.Inf(1)}
	c, _ := ParseConstraint("ttft:p95<10s")
	if c.Met(&p) {
		t.Error("an unbounded TTFT met ttft:p95<10s")
	}
}

// TestAttainment: the piecewise-linear CDF through (0,0), (0.5, median), (0.9, p90),
// (0.95, p95), (0.99, p99). With median 200, p90 400, p95 500, p99 900 ms:
// 100 ms → 0.25; 300 ms → 0.5 + 0.4·(100/200) = 0.7; 700 ms → 0.95 + 0.04·(200/400) = 0.97;
// 1000 ms → 1.
func TestAttainment(t *testing.T) {
	d := Dist{Mean: 300, Median: 200, P90: 400, P95: 500, P99: 900}
	for _, tc := range []struct{ x, want float64 }{{100, 0.25}, {300, 0.7}, {700, 0.97}, {1000, 1}, {0, 0}} {
		if got := cdfFromQuantiles(d, tc.x); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("F(%g) = %g, want %g", tc.x, got, tc.want)
		}
	}
}
