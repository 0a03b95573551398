package hardware

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
)

// AllReducePoint is one measured all-reduce: message size, group size and bus bandwidth in
// the nccl-tests convention (busbw = algbw · 2(n−1)/n, so the time of one all-reduce of S
// bytes over n GPUs is S · 2(n−1)/n / BusBW).
type AllReducePoint struct {
	Bytes  float64 // message size, bytes
	GPUs   int     // group size
	BusBW  float64 // bytes/s
	Source string  // citation, software and date
}

// Seconds is the time of the measured all-reduce.
func (p AllReducePoint) Seconds() float64 {
	n := float64(p.GPUs)
	return p.Bytes * 2 * (n - 1) / n / p.BusBW
}

// AllReduceFit is the latency–bandwidth line through a GPU's measured large-message
// all-reduces (NCCL/RCCL's Simple-protocol regime, ≥ 16 MiB): t(S, n) = Latency +
// S·2(n−1)/n / BusBW. Latency comes from the 16 MiB point, BusBW from the largest message;
// both are the collective library's, not an engine's custom all-reduce, which is faster
// for small messages (its latency is the engine profile's collective_latency_us).
type AllReduceFit struct {
	Latency float64 // s
	BusBW   float64 // bytes/s
	GPUs    int     // group size of the measurements
	Source  string
}

// Seconds is the fitted time of one all-reduce of S bytes over the fit's group size.
func (f AllReduceFit) Seconds(S float64) float64 {
	n := float64(f.GPUs)
	return f.Latency + S*2*(n-1)/n/f.BusBW
}

var (
	sizeRe = regexp.MustCompile(`(\d+(?:\.\d+)?)\s*(KiB|MiB|GiB|KB|MB|GB)\b`)
	gpusRe = regexp.MustCompile(`(\d+)\s*(?:GPUs|devices)\b`)
)

// parseAllReduceShape reads "16 MiB, 8 GPUs"-style shapes: the first size and the group.
func parseAllReduceShape(s string) (bytes float64, gpus int, ok bool) {
	m := sizeRe.FindStringSubmatch(s)
	g := gpusRe.FindStringSubmatch(s)
	if m == nil || g == nil {
		return 0, 0, false
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	mult := map[string]float64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "KB": 1e3, "MB": 1e6, "GB": 1e9}[m[2]]
	n, _ := strconv.Atoi(g[1])
	return v * mult, n, v > 0 && n > 1
}

// measuredAllReduce returns the GPU's measured all-reduce points (allreduce_busbw_gb_s rows
// of data/hardware/ceilings.csv with a size and a group), by group size then message size.
func measuredAllReduce(g *GPU) []AllReducePoint {
	var out []AllReducePoint
	for _, r := range ceilingRows {
		if r.gpu != g.ID || r.quantity != "allreduce_busbw_gb_s" {
			continue
		}
		b, n, ok := parseAllReduceShape(r.shape)
		if !ok {
			continue
		}
		out = append(out, AllReducePoint{Bytes: b, GPUs: n, BusBW: r.value * 1e9, Source: fmt.Sprintf("%s (%s; %s)", r.source, r.shape, r.asOf)})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].GPUs != out[j].GPUs {
			return out[i].GPUs < out[j].GPUs
		}
		return out[i].Bytes < out[j].Bytes
	})
	return out
}

// fitAllReduce fits AllReduceFit to the points of the largest group that has a 16 MiB
// point and a larger one; ok is false otherwise. When several rows share the largest size
// (NVLS and ring runs), the fastest sets BusBW: the collective library picks it.
func fitAllReduce(pts []AllReducePoint) (AllReduceFit, bool) {
	const mid = 16 << 20
	for _, n := range []int{8, 4, 2} {
		var at16 *AllReducePoint
		var big *AllReducePoint
		for i := range pts {
			p := &pts[i]
			if p.GPUs != n {
				continue
			}
			if math.Abs(p.Bytes-mid) < 1 {
				at16 = p
			}
			if p.Bytes > 4*mid && (big == nil || p.Bytes > big.Bytes || (p.Bytes == big.Bytes && p.BusBW > big.BusBW)) {
				big = p
			}
		}
		if at16 == nil || big == nil {
			continue
		}
		f := AllReduceFit{BusBW: big.BusBW, GPUs: n}
		nn := float64(n)
		f.Latency = at16.Seconds() - at16.Bytes*2*(nn-1)/nn/f.BusBW
		if f.Latency < 0 {
			f.Latency = 0
		}
		f.Source = fmt.Sprintf("latency from %s; bus bandwidth from %s", at16.Source, big.Source)
		return f, true
	}
	return AllReduceFit{}, false
}

// sizeLabel prints a message size with a binary prefix ("1 MiB", "8 GiB").
func sizeLabel(b float64) string {
	for _, u := range []struct {
		name string
		v    float64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if b >= u.v {
			return strconv.FormatFloat(b/u.v, 'g', 3, 64) + " " + u.name
		}
	}
	return strconv.FormatFloat(b, 'g', 3, 64) + " B"
}
