package estimator

import (
	"fmt"
	"math"
	"reflect"
	"testing"
)

// TestParetoFrontHandWorked: eight points worked by hand.
//
//	A(10,1) B(8,3) C(8,2) D(5,5) E(5,5) F(4,4) G(NaN,9) H(1,6)
//
// Both maximised: sweeping x from best, the best y so far goes 1 (A on), 3 (B on; C at the
// same x with y 2 is beaten by B), 5 (D and E, equal, both on), F(4,4) is beaten by D, H(1,6)
// beats every y before it (on). G has a NaN and is left out. Front: A B D E H.
//
// Both minimised: from x = 1: H on (best y 6), F on (4 < 6), D and E (5 ≥ 4) off, C on
// (2 < 4; B at the same x is worse), A on (1 < 2). Front: H F C A.
func TestParetoFrontHandWorked(t *testing.T) {
	nan := math.NaN()
	x := []float64{10, 8, 8, 5, 5, 4, nan, 1}
	y := []float64{1, 3, 2, 5, 5, 4, 9, 6}
	names := "ABCDEFGH"
	front := func(on []bool) string {
		s := ""
		for i, o := range on {
			if o {
				s += string(names[i])
			}
		}
		return s
	}
	for _, tc := range []struct {
		maxX, maxY bool
		want       string
	}{
		{true, true, "ABDEH"},
		{false, false, "ACFH"},
		// Max x, min y: A(10,1) dominates every other point with a number.
		{true, false, "A"},
		// Min x, max y: H(1,6) on; F(4,4) 4 < 6 off; D, E (5,5) off; ... nothing beats y 6.
		{false, true, "H"},
	} {
		if got := front(ParetoFront(x, y, tc.maxX, tc.maxY)); got != tc.want {
			t.Errorf("ParetoFront(max x %v, max y %v) = %s, want %s", tc.maxX, tc.maxY, got, tc.want)
		}
	}
	if got := ParetoFront(nil, nil, true, true); len(got) != 0 {
		t.Errorf("empty input gave %v", got)
	}
}

func TestParetoFrontBruteForce(t *testing.T) {
	// Property: the O(n log n) sweep agrees with the O(n²) definition on a grid with ties.
	var x, y []float64
	for i := 0; i < 60; i++ {
		x = append(x, float64((i*37)%11))
		y = append(y, float64((i*53)%13))
	}
	got := ParetoFront(x, y, true, false)
	for i := range x {
		dominated := false
		for j := range x {
			if x[j] >= x[i] && y[j] <= y[i] && (x[j] > x[i] || y[j] < y[i]) {
				dominated = true
			}
		}
		if got[i] == dominated {
			t.Errorf("point %d (%g, %g): on front %v, dominated %v", i, x[i], y[i], got[i], dominated)
		}
	}
}

func ptr(v float64) *float64 { return &v }

// rankFixture: four points with hand-chosen metrics.
//
//	P1 tput/GPU 100, $2.0/1M, E2E median 900 ms, goodput 0.5 req/s/GPU
//	P2 tput/GPU 150, $1.5/1M, E2E median 1200 ms, goodput 0.4   (GPU h100)
//	P3 tput/GPU 150, no price, E2E median 800 ms, goodput 0.6   (GPU a100: ties P2 on tput)
//	P4 tput/GPU 80,  $3.0/1M, E2E median 700 ms, goodput 0.3
func rankFixture() []SweepPoint {
	mk := func(name, gpu string, tput float64, cost *float64, e2e, good float64) SweepPoint {
		p := SweepPoint{SweepConfig: SweepConfig{GPU: gpu, NumGPUs: 1, Engine: name}, OutputTokSPerGPU: tput,
			CostPer1MOutput: cost, GoodputReqSPerGPU: good}
		p.E2E.Median = e2e
		p.OutputTokSPerUser = NullFloat(1000 / e2e)
		return p
	}
	return []SweepPoint{
		mk("P1", "h100", 100, ptr(2.0), 900, 0.5),
		mk("P2", "h100", 150, ptr(1.5), 1200, 0.4),
		mk("P3", "a100", 150, nil, 800, 0.6),
		mk("P4", "h100", 80, ptr(3.0), 700, 0.3),
	}
}

// TestRankPointsHandWorked: the orders below follow from the fixture by hand.
func TestRankPointsHandWorked(t *testing.T) {
	for _, tc := range []struct {
		objective string
		want      []string
	}{
		{ObjectiveCost, []string{"P2", "P1", "P4", "P3"}},       // 1.5 < 2.0 < 3.0, unknown last
		{ObjectiveThroughput, []string{"P3", "P2", "P1", "P4"}}, // 150 = 150 (a100 < h100) > 100 > 80
		{ObjectiveLatency, []string{"P4", "P3", "P1", "P2"}},    // 700 < 800 < 900 < 1200
		{ObjectiveGoodput, []string{"P3", "P1", "P2", "P4"}},    // 0.6 > 0.5 > 0.4 > 0.3
	} {
		pts := rankFixture()
		// Any input order gives the same ranking.
		pts[0], pts[3] = pts[3], pts[0]
		RankPoints(pts, tc.objective)
		var got []string
		for i, p := range pts {
			got = append(got, p.Engine)
			if p.Rank != i+1 {
				t.Errorf("%s: rank %d at position %d", tc.objective, p.Rank, i)
			}
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: order %v, want %v", tc.objective, got, tc.want)
		}
	}
}

// TestMarkFrontsHandWorked: throughput/GPU vs per-user speed (1000/E2E here):
// P1 (100, 1.11), P2 (150, 0.83), P3 (150, 1.25), P4 (80, 1.43). P3 beats P2 (same tput,
// faster per user) and P1 (more of both); P4 is the fastest per user. Front: P3 P4.
// Cost vs latency (P3 has no price): P2 ($1.5, 1200), P1 ($2, 900), P4 ($3, 700): each is
// cheaper or faster than the others, so all three are on it.
func TestMarkFrontsHandWorked(t *testing.T) {
	pts := rankFixture()
	sizes := MarkFronts(pts)
	want := map[string][]string{"P1": {FrontCostLatency}, "P2": {FrontCostLatency}, "P3": {FrontThroughputInteractivity},
		"P4": {FrontThroughputInteractivity, FrontCostLatency}}
	for _, p := range pts {
		if !reflect.DeepEqual(p.ParetoFronts, want[p.Engine]) || !p.Pareto {
			t.Errorf("%s: fronts %v (pareto %v), want %v", p.Engine, p.ParetoFronts, p.Pareto, want[p.Engine])
		}
	}
	if sizes[FrontThroughputInteractivity] != 2 || sizes[FrontCostLatency] != 3 {
		t.Errorf("front sizes %v, want 2 and 3", sizes)
	}
}

// TestOverloadedRanksLastOffFronts: P5 is an overloaded open-loop point (the rate is above
// the sustainable rate) whose throughput is the deployment's ceiling, 200 tok/s per GPU,
// more than any other; made cheap ($1.0/1M) and fast (E2E 600 ms, per user 1.67), it would
// lead every objective and dominate both fronts. The documented rule (RankPoints,
// MarkFronts) ranks it after the four sustainable points and on no front, so the order of
// the sustainable points and the fronts stay as in the two tests above.
func TestOverloadedRanksLastOffFronts(t *testing.T) {
	for _, tc := range []struct {
		objective string
		want      []string
	}{
		{ObjectiveCost, []string{"P2", "P1", "P4", "P3", "P5"}},
		{ObjectiveThroughput, []string{"P3", "P2", "P1", "P4", "P5"}},
		{ObjectiveLatency, []string{"P4", "P3", "P1", "P2", "P5"}},
		{ObjectiveGoodput, []string{"P3", "P1", "P2", "P4", "P5"}},
	} {
		pts := rankFixture()
		p5 := SweepPoint{SweepConfig: SweepConfig{GPU: "a100", NumGPUs: 1, Engine: "P5"}, OutputTokSPerGPU: 200,
			CostPer1MOutput: ptr(1.0), GoodputReqSPerGPU: 0.9}
		p5.E2E.Median, p5.OutputTokSPerUser, p5.Overloaded = 600, 1000.0/600, true
		pts = append([]SweepPoint{p5}, pts...)
		RankPoints(pts, tc.objective)
		var got []string
		for _, p := range pts {
			got = append(got, p.Engine)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: order %v, want %v", tc.objective, got, tc.want)
		}
		sizes := MarkFronts(pts)
		if p := pts[4]; p.Pareto || len(p.ParetoFronts) > 0 {
			t.Errorf("%s: overloaded point on fronts %v", tc.objective, p.ParetoFronts)
		}
		if sizes[FrontThroughputInteractivity] != 2 || sizes[FrontCostLatency] != 3 {
			t.Errorf("%s: front sizes %v, want 2 and 3 (as without the overloaded point)", tc.objective, sizes)
		}
	}
}

func TestCheckObjective(t *testing.T) {
	for _, o := range Objectives() {
		if err := CheckObjective(o); err != nil {
			t.Error(err)
		}
	}
	if err := CheckObjective("fast"); err == nil {
		t.Error("accepted fast")
	}
}

func ExampleParetoFront() {
	// Throughput per GPU (maximise) against tokens/s per user (maximise).
	perGPU := []float64{900, 600, 500, 300}
	perUser := []float64{20, 45, 40, 80}
	fmt.Println(ParetoFront(perGPU, perUser, true, true))
	// Output: [true true false true]
}
