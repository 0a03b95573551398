package estimator

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// ParetoFront marks the points that no other point dominates. Point i is (x[i], y[i]);
// maxX and maxY say whether larger is better on each axis. A point dominates another when
// it is at least as good on both axes and strictly better on one, so equal points are all
// on the front. Points with a NaN coordinate are never on the front and dominate nothing.
// It runs in O(n log n): sort by x (best first, ties by y best first) and sweep, keeping the
// best y seen. Mismatched lengths are a programmer error and panic.
func ParetoFront(x, y []float64, maxX, maxY bool) []bool {
	if len(x) != len(y) {
		panic("estimator.ParetoFront: x and y differ in length")
	}
	on := make([]bool, len(x))
	// Work in "larger is better" coordinates (a sign flip is exact).
	sx, sy := 1.0, 1.0
	if !maxX {
		sx = -1
	}
	if !maxY {
		sy = -1
	}
	type pt struct {
		x, y float64
		i    int
	}
	pts := make([]pt, 0, len(x))
	for i := range x {
		if !math.IsNaN(x[i]) && !math.IsNaN(y[i]) {
			pts = append(pts, pt{sx * x[i], sy * y[i], i})
		}
	}
	// Which points are on the front does not depend on the order of equal points.
	slices.SortFunc(pts, func(a, b pt) int {
		switch {
		case a.x != b.x:
			return cmp.Compare(b.x, a.x)
		default:
			return cmp.Compare(b.y, a.y)
		}
	})
	best := math.Inf(-1) // best y among points with strictly better x
	for k := 0; k < len(pts); {
		// A group of equal x: its best y is the first; members equal to it are on the front
		// when that y beats every point with better x.
		gx, gy := pts[k].x, pts[k].y
		k2 := k
		for k2 < len(pts) && pts[k2].x == gx {
			if pts[k2].y == gy && gy > best {
				on[pts[k2].i] = true
			}
			k2++
		}
		if gy > best {
			best = gy
		}
		k = k2
	}
	return on
}

// Objectives a sweep ranks by.
const (
	ObjectiveCost       = "cost"               // lowest blended $ per 1M output tokens first
	ObjectiveThroughput = "throughput-per-gpu" // highest output tokens/s per GPU first
	ObjectiveLatency    = "latency"            // lowest median end-to-end latency first
	ObjectiveGoodput    = "goodput"            // highest SLO-meeting requests/s per GPU first
)

// Objectives lists the accepted objective names.
func Objectives() []string {
	return []string{ObjectiveCost, ObjectiveThroughput, ObjectiveLatency, ObjectiveGoodput}
}

// CheckObjective returns an error naming the allowed values for an unknown objective.
func CheckObjective(o string) error {
	if contains(Objectives(), o) {
		return nil
	}
	return fmt.Errorf("--objective %q: allowed values are %s", o, strings.Join(Objectives(), ", "))
}

// Front names, as they appear in SweepPoint.ParetoFronts.
const (
	FrontThroughputInteractivity = "throughput_vs_interactivity" // max output tok/s per GPU, max output tok/s per user
	FrontCostLatency             = "cost_vs_latency"             // min $ per 1M output tokens, min median E2E ms
)

// MarkFronts sets Pareto and ParetoFronts on every point: the throughput-vs-interactivity
// front (output tokens/s per GPU against tokens/s per user, both maximised) and the
// cost-vs-latency front ($ per 1M output tokens against median E2E latency, both minimised;
// points without a price are left out of it). Overloaded points (Serving.Overloaded: the
// request rate exceeds the sustainable rate, queues grow without bound) are on no front:
// their throughput is the deployment's ceiling, not what the load gets, and their latencies
// are unbounded. It returns the size of each front.
func MarkFronts(pts []SweepPoint) map[string]int {
	n := len(pts)
	x, y := make([]float64, n), make([]float64, n)
	for i := range pts {
		x[i], y[i] = pts[i].OutputTokSPerGPU, float64(pts[i].OutputTokSPerUser)
		if pts[i].Overloaded {
			x[i] = math.NaN()
		}
		pts[i].Pareto, pts[i].ParetoFronts = false, nil
	}
	sizes := map[string]int{}
	mark := func(name string, on []bool) {
		sizes[name] = 0
		for i, o := range on {
			if o {
				pts[i].Pareto = true
				pts[i].ParetoFronts = append(pts[i].ParetoFronts, name)
				sizes[name]++
			}
		}
	}
	mark(FrontThroughputInteractivity, ParetoFront(x, y, true, true))
	for i := range pts {
		x[i], y[i] = math.NaN(), pts[i].E2E.Median
		if pts[i].CostPer1MOutput != nil && !pts[i].Overloaded {
			x[i] = *pts[i].CostPer1MOutput
		}
	}
	mark(FrontCostLatency, ParetoFront(x, y, false, false))
	return sizes
}

// rankRec holds what the ranking compares: whether the point is overloaded (every
// sustainable point ranks first), the objective's key (smaller is better; known is false for
// an unknown cost) and output tokens/s per GPU, the first tie-breaker.
type rankRec struct {
	overloaded bool
	known      bool
	key, tput  float64
}

// rankRecOf builds a rankRec; cost is NaN when unknown.
func rankRecOf(objective string, overloaded bool, cost, e2eMedian, goodputPerGPU, tputPerGPU float64) rankRec {
	r := rankRec{overloaded: overloaded, known: true, tput: tputPerGPU}
	switch objective {
	case ObjectiveCost:
		r.key, r.known = cost, !math.IsNaN(cost)
	case ObjectiveLatency:
		r.key, r.known = e2eMedian, !math.IsNaN(e2eMedian)
	case ObjectiveGoodput:
		r.key = -goodputPerGPU
	default:
		r.key = -tputPerGPU
	}
	return r
}

// less compares two records; ok is false when they tie.
func (a rankRec) less(b rankRec) (less, ok bool) {
	if a.overloaded != b.overloaded {
		return b.overloaded, true
	}
	if a.known != b.known {
		return a.known, true
	}
	if a.known && a.key != b.key {
		return a.key < b.key, true
	}
	if a.tput != b.tput {
		return a.tput > b.tput, true
	}
	return false, false
}

// RankPoints sorts points best first by the objective and sets Rank (1 = best). Every
// sustainable point ranks before every overloaded one (Serving.Overloaded: its throughput
// is the deployment's ceiling while queues grow without bound, so it is never "best");
// within each group:
//   - cost: lowest CostPer1MOutput first, points without a price last;
//   - throughput-per-gpu: highest OutputTokSPerGPU first;
//   - latency: lowest median E2E latency first;
//   - goodput: highest GoodputReqSPerGPU first.
//
// Ties are broken by output tokens/s per GPU (higher first), then by SweepConfig.Less, so
// the order is total and does not depend on the input order.
func RankPoints(pts []SweepPoint, objective string) {
	recs := make([]rankRec, len(pts))
	for i := range pts {
		p := &pts[i]
		cost := math.NaN()
		if p.CostPer1MOutput != nil {
			cost = *p.CostPer1MOutput
		}
		recs[i] = rankRecOf(objective, p.Overloaded, cost, p.E2E.Median, p.GoodputReqSPerGPU, p.OutputTokSPerGPU)
	}
	idx := make([]int, len(pts))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool {
		i, j := idx[a], idx[b]
		if l, ok := recs[i].less(recs[j]); ok {
			return l
		}
		return pts[i].SweepConfig.Less(&pts[j].SweepConfig)
	})
	sorted := make([]SweepPoint, len(pts))
	for r, i := range idx {
		sorted[r] = pts[i]
		sorted[r].Rank = r + 1
	}
	copy(pts, sorted)
}
