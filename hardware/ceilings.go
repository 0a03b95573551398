package hardware

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"roofline/data"
	"roofline/units"
)

// Ceiling is one achievable figure: what real software reaches on a GPU, next to the
// datasheet peak it is a fraction of.
type Ceiling struct {
	// Value is the achievable rate in base units (FLOP/s, bytes/s) or, for a kernel
	// launch, seconds.
	Value float64
	// Fraction is Value / datasheet peak (0 for a launch cost).
	Fraction float64
	// Source cites the measurement (repository path or URL and its date), or, for a
	// rule-filled figure, says which rule and which measured GPUs filled it.
	Source string
	// AsOf is the measurement's date (YYYY, YYYY-MM or YYYY-MM-DD); "" for a rule.
	AsOf string
	// Measured is true when this GPU itself was measured; false when a rule filled it
	// (lower confidence).
	Measured bool
	// Confidence is "high" or "medium" for measured figures, "low" for rule-filled ones.
	Confidence string
}

// Achievable holds a GPU's achievable ceilings: the best large-shape dense GEMM rate per
// dtype, the best HBM streaming rate, and the per-kernel launch cost. The step model
// measures engine efficiencies against these, not against the datasheet.
type Achievable struct {
	// GEMM is keyed by the canonical dtypes of GPU.PeakFLOPs (bf16, fp16, fp8, int8, fp4, tf32).
	GEMM map[string]Ceiling
	// GEMMMeasured lists, per dtype, every large-shape GEMM measurement of this GPU itself
	// (the rows GEMM's best was chosen from, each with its AsOf date), for GEMMAsOf. Empty
	// for a dtype that a rule filled.
	GEMMMeasured map[string][]Ceiling
	// MemoryBandwidth is the achievable HBM/GDDR streaming rate, bytes/s.
	MemoryBandwidth Ceiling
	// KernelLaunch is the time of one back-to-back launch of a tiny kernel, s.
	KernelLaunch Ceiling
	// AllReduce lists the GPU's measured all-reduces by group size and message size (empty
	// when none was measured); AllReduceLine is the latency–bandwidth line through the
	// large-message ones (ok false when fewer than a 16 MiB and a ≥ 64 MiB point exist).
	AllReduce       []AllReducePoint
	AllReduceLine   AllReduceFit
	AllReduceFitted bool
}

// GEMMFLOPs returns the achievable GEMM rate for a dtype (FLOP/s), or 0 when the GPU has
// no such peak.
func (g *GPU) GEMMFLOPs(dtype string) units.FLOPsPerSecond {
	if c, ok := g.Achievable.GEMM[dtype]; ok {
		return units.FLOPsPerSecond(c.Value)
	}
	return 0
}

// GEMMAsOf returns the GEMM ceiling for dtype as software of date asOf reached it: the best
// of this GPU's own large-shape measurements dated no later than asOf (era true), or, when
// asOf is empty, GEMM's figure was not measured on this GPU, or no measurement is that old,
// GEMM's figure (era false). A software stack cannot run kernels that were written after it,
// so an engine release is priced with the GEMM rate of its time where the table has one
// (MI300X BF16: ~450 TFLOP/s with ROCm 6.1 in 2024, 668 with ROCm 6.3 and TunableOp in
// 2025). Dates compare as the earliest day they can denote: "2024-04" is before
// "2024-04-12", and "2024-04-12" is not before "2024-04".
func (a Achievable) GEMMAsOf(dtype, asOf string) (Ceiling, bool) {
	best, ok := a.GEMM[dtype]
	if asOf == "" || !ok || !best.Measured {
		return best, false
	}
	var era Ceiling
	found := false
	for _, c := range a.GEMMMeasured[dtype] {
		if c.AsOf != "" && c.AsOf <= asOf && (!found || c.Value > era.Value) {
			era, found = c, true
		}
	}
	if !found || era.Value >= best.Value {
		return best, false
	}
	return era, true
}

// ceilingRow is one row of data/hardware/ceilings.csv.
type ceilingRow struct {
	gpu, quantity, shape, software, source, asOf, note string
	value                                              float64 // in the CSV's unit (TFLOP/s, TB/s, µs)
	peakRef                                            float64 // the peak_ref column (same unit; 0: not given)
}

// ceilingsFile is the embedded copy of the public microbenchmark table.
const ceilingsFile = "hardware/ceilings.csv"

var (
	ceilingRows []ceilingRow
	ceilingErr  error
)

func init() { ceilingRows, ceilingErr = parseCeilings(mustRead(ceilingsFile)) }

func mustRead(name string) []byte {
	b, err := data.FS.ReadFile(name)
	if err != nil {
		panic("hardware: embedded " + name + ": " + err.Error())
	}
	return b
}

// parseCeilings reads the ceilings CSV (columns gpu, quantity, value, unit, shape_or_size,
// software, source_url_or_repo_path, as_of, peak_ref, fraction_of_peak, note).
func parseCeilings(b []byte) ([]ceilingRow, error) {
	r := csv.NewReader(bytes.NewReader(b))
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ceilingsFile, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, k := range []string{"gpu", "quantity", "value", "shape_or_size", "source_url_or_repo_path", "as_of", "note"} {
		if _, ok := col[k]; !ok {
			return nil, fmt.Errorf("%s: missing column %s", ceilingsFile, k)
		}
	}
	var out []ceilingRow
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ceilingsFile, err)
		}
		v, err := strconv.ParseFloat(rec[col["value"]], 64)
		if err != nil || !(v > 0) {
			return nil, fmt.Errorf("%s line %d: value %q: want a positive number", ceilingsFile, line, rec[col["value"]])
		}
		var software string
		if i, ok := col["software"]; ok {
			software = rec[i]
		}
		var peakRef float64
		if i, ok := col["peak_ref"]; ok && rec[i] != "" {
			if peakRef, err = strconv.ParseFloat(rec[i], 64); err != nil || !(peakRef > 0) {
				return nil, fmt.Errorf("%s line %d: peak_ref %q: want a positive number or nothing", ceilingsFile, line, rec[i])
			}
		}
		if strings.HasPrefix(software, "inferred") && peakRef == 0 {
			return nil, fmt.Errorf("%s line %d: an inferred row needs its peak_ref (the datasheet peak its figure is a fraction of)", ceilingsFile, line)
		}
		out = append(out, ceilingRow{gpu: rec[col["gpu"]], quantity: rec[col["quantity"]], value: v, software: software, peakRef: peakRef,
			shape: rec[col["shape_or_size"]], source: rec[col["source_url_or_repo_path"]], asOf: rec[col["as_of"]], note: rec[col["note"]]})
	}
	return out, nil
}

// smallShape matches square GEMM shapes of at most 2048 and tall-skinny shapes: they
// measure the shape term, not the ceiling.
var smallShape = regexp.MustCompile(`M=N=K=(1024|2048)\b|skinny`)

// special matches the READMEs of single-purpose kernels (DeepGEMM's block-scaled FP8
// GEMM, FlashMLA's attention): best cases of one kernel, not a general GEMM or stream ceiling.
var special = regexp.MustCompile(`DeepGEMM|FlashMLA`)

// gemmDtype maps a ceilings quantity to the dtypes it measures. bf16 and fp16 run on the
// same tensor cores at the same dense rate on every catalogued GPU, so one measures both.
func gemmDtype(q string) []string {
	switch q {
	case "gemm_tflops_bf16", "gemm_tflops_fp16":
		return []string{"bf16", "fp16"}
	case "gemm_tflops_fp8":
		return []string{"fp8"}
	case "gemm_tops_int8":
		return []string{"int8"}
	case "gemm_tflops_fp4":
		return []string{"fp4"}
	case "gemm_tflops_tf32":
		return []string{"tf32"}
	}
	return nil
}

// memoryQuantity reports whether a ceilings quantity is an HBM streaming rate.
func memoryQuantity(q string) bool {
	return q == "hbm_copy_tb_s" || q == "hbm_read_tb_s" || q == "hbm_triad_tb_s" || q == "hbm_write_tb_s"
}

// measuredCeilings returns the GPU's own best measured figures (fractions of its
// datasheet peaks), keyed "gemm:<dtype>", "memory" and "launch".
func measuredCeilings(g *GPU) map[string]Ceiling {
	out, _ := measuredGEMMs(g)
	return out
}

// measuredGEMMs is measuredCeilings and, per dtype, every large-shape GEMM measurement of
// the GPU (Achievable.GEMMMeasured).
func measuredGEMMs(g *GPU) (map[string]Ceiling, map[string][]Ceiling) {
	out := map[string]Ceiling{}
	all := map[string][]Ceiling{}
	serving := map[string]bool{} // keys whose figure is a serving-size one
	keep := func(key string, c Ceiling) {
		if old, ok := out[key]; !ok || c.Value > old.Value {
			out[key] = c
		}
	}
	for _, r := range ceilingRows {
		if r.gpu != g.ID || special.MatchString(r.source) || r.inferred() {
			continue
		}
		src := fmt.Sprintf("%s (%s; %s)", r.source, r.shape, r.asOf)
		switch {
		case gemmDtype(r.quantity) != nil:
			if smallShape.MatchString(r.shape) {
				continue
			}
			for _, dt := range gemmDtype(r.quantity) {
				peak := float64(g.PeakFLOPs[dt])
				if peak == 0 {
					continue
				}
				v := math.Min(r.value*1e12, peak) // a card clocked above its datasheet counts as its peak
				c := Ceiling{Value: v, Fraction: v / peak, Source: src, AsOf: r.asOf, Measured: true, Confidence: "high"}
				key := "gemm:" + dt
				switch sv := servingSize(r.shape); {
				case sv && !serving[key]: // the serving-size figure replaces best shapes
					out[key], serving[key] = c, true
				case sv == serving[key]:
					keep(key, c)
				}
				all[dt] = append(all[dt], c)
			}
		case memoryQuantity(r.quantity):
			peak := float64(g.MemoryBandwidth)
			v := math.Min(r.value*1e12, peak)
			keep("memory", Ceiling{Value: v, Fraction: v / peak, Source: src, AsOf: r.asOf, Measured: true, Confidence: "high"})
		case r.quantity == "kernel_launch_us":
			c := Ceiling{Value: r.value * 1e-6, Source: src, AsOf: r.asOf, Measured: true, Confidence: "high"}
			if old, ok := out["launch"]; !ok || c.Value < old.Value {
				out["launch"] = c
			}
		}
	}
	return out, all
}

// servingSize reports whether a GEMM row's shape is marked "(serving size)": a point of a
// measured size series that the table names as the rate a serving step's GEMMs reach. Such a
// row is the GPU's ceiling for its dtype even when a larger shape of the same series ran
// faster. GB200 NVFP4 is the one case: cuBLASLt gives 0.76 of the dense peak at
// M=N=K=16384 and 8192 but 0.52 at 4096 (Azure ND GB200 v6), and the TensorRT-LLM runs on
// Blackwell (MLPerf v5.1, perf-overview) come out 25-45% too fast with the large-shape
// figure (data/hardware/SOURCES.md).
func servingSize(shape string) bool { return strings.Contains(shape, "(serving size)") }

// inferred reports whether a ceilings row is a figure inferred from end-to-end runs (its
// software column starts with "inferred") rather than a benchmark of the quantity itself.
func (r ceilingRow) inferred() bool { return strings.HasPrefix(r.software, "inferred") }

// inferredGEMM returns a GPU's GEMM ceiling for dtype dt from an inferred row (ok false when
// there is none). An inferred figure stands in for a missing measurement of this GPU only: it
// is lower confidence, is not Measured (so no software era picks among such rows), and lends
// no fraction to the rules that fill other GPUs (measuredGEMMs skips it).
//
// Such a row is a fraction of a datasheet peak (its peak_ref), not a rate anyone measured:
// when a --gpu-file gives the GPU another peak for dt, the ceiling is the same fraction of
// that peak, value × peak / peak_ref (B200 FP4: 4660 of 9000, so 0.518 × a peak of 4000 =
// 2071 TFLOP/s), and the source says so. Taking 4660 as it stands gave 100% of a 4000 peak
// while citing "0.518 x 9000".
func inferredGEMM(g *GPU, dt string) (Ceiling, bool) {
	for _, r := range ceilingRows {
		if r.gpu != g.ID || !r.inferred() || !slices.Contains(gemmDtype(r.quantity), dt) {
			continue
		}
		peak := float64(g.PeakFLOPs[dt])
		if peak == 0 {
			return Ceiling{}, false
		}
		ref := r.peakRef * 1e12
		src := fmt.Sprintf("%s, not a GEMM measurement: %s (%s)", r.software, r.source, r.asOf)
		v := r.value * 1e12
		if math.Abs(peak/ref-1) > 1e-9 {
			v *= peak / ref
			src = fmt.Sprintf("%.3g of the %s peak (the inferred row's %s of its %s peak): %s", r.value/r.peakRef, units.FLOPsPerSecond(peak), units.FLOPsPerSecond(r.value*1e12), units.FLOPsPerSecond(ref), src)
		}
		v = math.Min(v, peak)
		return Ceiling{Value: v, Fraction: v / peak, Confidence: "low", Source: src}, true
	}
	return Ceiling{}, false
}

// boostFraction is the fraction of a datasheet dense GEMM peak at or above which a
// measurement is taken to have run above the clock the datasheet rates the part at: a
// short benchmark at boost clock, not what the card sustains at its power rating under a
// serving load (H200 NVL: 852 TFLOP/s BF16 against a 835.5 datasheet peak, 1659 of 1670.5
// FP8; data/hardware/ceilings.csv, reference GPU_DATA.md "measure at or above the catalogue
// peak"). Sustained large GEMMs on datacenter parts reach 0.65–0.80 of the datasheet.
const boostFraction = 0.99

// boostMeasured reports whether any of a datacenter GPU's measured GEMM ceilings reaches
// boostFraction of its datasheet peak. GeForce cards are left out: they run above their
// rated boost clock as a matter of course (GPU Boost, high board power), and their datasheet
// GEMM peaks are the half-rate FP32-accumulate figures, so a measurement above them is what
// the card sustains (RTX 5090: 254 TFLOP/s BF16 against 209.5; the KV-offload rows of
// data/validation/techniques/ on it are 7-8 points further off without it).
func boostMeasured(g *GPU, m map[string]Ceiling) bool {
	if strings.Contains(g.Name, "GeForce") {
		return false
	}
	return maxGEMMFraction(m) >= boostFraction
}

// maxGEMMFraction is the largest fraction of its datasheet peak among a GPU's measured GEMM
// ceilings (0 when none; measuredCeilings caps each at 1).
func maxGEMMFraction(m map[string]Ceiling) float64 {
	f := 0.0
	for k, c := range m {
		if strings.HasPrefix(k, "gemm:") {
			f = max(f, c.Fraction)
		}
	}
	return f
}

// aboveDatasheet reports whether any of a GPU's GEMM measurements reaches its datasheet
// peak (measuredCeilings caps them there): the card ran above the clock its datasheet
// assumes (GeForce boards, the H200 NVL), so none of its GEMM fractions says anything
// about its family's (the RTX 5090's FP4 0.965 next to its BF16 1.21).
func aboveDatasheet(m map[string]Ceiling) bool { return maxGEMMFraction(m) >= 0.999 }

// sustainedGEMM returns the GEMM ceiling of a boost-measured GPU for dtype dt: the median
// measured fraction of the GPUs with the same chip and a higher power rating (which run the
// same die at or above this part's clocks) times this GPU's datasheet peak; ok false when no
// such GPU was measured in dt.
func sustainedGEMM(g *GPU, dt string, others []*GPU, measured map[*GPU]map[string]Ceiling) (Ceiling, bool) {
	var fs []float64
	var ids []string
	for _, o := range others {
		if o.ID == g.ID || o.Chip == "" || o.Chip != g.Chip || o.TDPWatts <= g.TDPWatts || boostMeasured(o, measured[o]) {
			continue
		}
		if c, ok := measured[o]["gemm:"+dt]; ok {
			fs = append(fs, c.Fraction)
			ids = append(ids, fmt.Sprintf("%s %.3f", o.ID, c.Fraction))
		}
	}
	if len(fs) == 0 {
		return Ceiling{}, false
	}
	f := median(fs)
	own := measured[g]["gemm:"+dt]
	return Ceiling{Value: float64(g.PeakFLOPs[dt]) * f, Fraction: f, Confidence: "medium",
		Source: fmt.Sprintf("rule: this GPU's own runs reach %.0f%%+ of its datasheet peak (%s), above the clock it is rated for at %.0f W: a boost-clock benchmark, not a sustained serving load; sustained = median measured fraction %.3f of the same chip (%s) at a higher power rating (%s)",
			100*boostFraction, own.Source, g.TDPWatts, f, g.Chip, strings.Join(ids, ", "))}, true
}

// median of a non-empty slice (sorted in place).
func median(fs []float64) float64 {
	sort.Float64s(fs)
	if n := len(fs); n%2 == 0 {
		return (fs[n/2-1] + fs[n/2]) / 2
	}
	return fs[len(fs)/2]
}

// fillAchievable sets g.Achievable from the GPU's own measurements and, where it has
// none, from a rule: the median measured fraction of the same architecture, else of the
// same vendor, else of every measured GPU (the rule and the GPUs are named in Source). A GPU
// measured at or above its datasheet GEMM peak (boostMeasured) takes its GEMM ceilings from
// the same chip at a higher power rating where one was measured (sustainedGEMM), and lends
// no fraction to the rules of other GPUs. measured holds measuredCeilings of every GPU the
// rule may draw on.
func fillAchievable(g *GPU, others []*GPU, measured map[*GPU]map[string]Ceiling) {
	own := measured[g]
	boosted := boostMeasured(g, own)
	a := Achievable{GEMM: map[string]Ceiling{}, GEMMMeasured: map[string][]Ceiling{}}
	_, hist := measuredGEMMs(g)
	// sameDtype is the median fraction that the other GPUs match selects reach in key. A card
	// clocked above its datasheet (consumer boards, H200 NVL) says nothing about its family.
	sameDtype := func(key string, match func(o *GPU) bool) (float64, []string) {
		var fs []float64
		var ids []string
		for _, o := range others {
			if o.ID == g.ID || !match(o) {
				continue
			}
			if c, ok := measured[o][key]; ok && c.Fraction < 0.999 && (!strings.HasPrefix(key, "gemm:") || !aboveDatasheet(measured[o])) {
				fs = append(fs, c.Fraction)
				ids = append(ids, o.ID)
			}
		}
		if len(fs) == 0 {
			return 0, nil
		}
		return median(fs), ids
	}
	frac := func(key string) (float64, string) {
		for _, level := range []struct {
			name  string
			match func(o *GPU) bool
		}{
			{"architecture " + g.Architecture, func(o *GPU) bool { return g.Architecture != "" && o.Architecture == g.Architecture }},
			{"architecture family " + family(g.Architecture), func(o *GPU) bool {
				return family(g.Architecture) != "" && family(o.Architecture) == family(g.Architecture)
			}},
			{"vendor " + g.Vendor, func(o *GPU) bool { return o.Vendor == g.Vendor }},
		} {
			if m, ids := sameDtype(key, level.match); len(ids) > 0 {
				return m, fmt.Sprintf("rule: median measured fraction %.3f of %s (%s); no measurement of this GPU", m, level.name, strings.Join(ids, ", "))
			}
		}
		if m, ids := otherDtypes(g, key, others, measured); len(ids) > 0 {
			return m, fmt.Sprintf("rule: median measured fraction %.3f of the other GEMM dtypes of %s (%s); no measurement of this dtype on this GPU, its family or its vendor", m, family(g.Architecture), strings.Join(ids, ", "))
		}
		if m, ids := sameDtype(key, func(*GPU) bool { return true }); len(ids) > 0 {
			return m, fmt.Sprintf("rule: median measured fraction %.3f of all measured GPUs (%s); no measurement of this GPU", m, strings.Join(ids, ", "))
		}
		return 0, ""
	}
	for dt, peak := range g.PeakFLOPs {
		if dt == "fp32" {
			continue
		}
		if c, ok := own["gemm:"+dt]; ok && !boosted {
			a.GEMM[dt] = c
			if len(hist[dt]) > 1 {
				a.GEMMMeasured[dt] = hist[dt]
			}
			continue
		}
		if c, ok := sustainedGEMM(g, dt, others, measured); boosted && ok {
			a.GEMM[dt] = c
			continue
		}
		if c, ok := inferredGEMM(g, dt); ok && !boosted {
			a.GEMM[dt] = c
			continue
		}
		f, src := frac("gemm:" + dt)
		if f == 0 && (dt == "fp8" || dt == "int8" || dt == "fp4") {
			f, src = frac("gemm:bf16") // no measured GPU of this dtype at all: the 16-bit fraction
		}
		if f == 0 {
			f, src = 1, "no measurement and no rule: datasheet peak"
		}
		if c, ok := own["gemm:"+dt]; ok { // boosted: its own figure is not a sustained one
			src = fmt.Sprintf("this GPU's own runs reach %.0f%%+ of its datasheet peak (%s), above its rated clock; %s", 100*boostFraction, c.Source, src)
		}
		a.GEMM[dt] = Ceiling{Value: float64(peak) * f, Fraction: f, Source: src, Confidence: "low"}
	}
	if c, ok := own["memory"]; ok {
		a.MemoryBandwidth = c
	} else if f, src := frac("memory"); f > 0 {
		a.MemoryBandwidth = Ceiling{Value: float64(g.MemoryBandwidth) * f, Fraction: f, Source: src, Confidence: "low"}
	} else {
		a.MemoryBandwidth = Ceiling{Value: float64(g.MemoryBandwidth), Fraction: 1, Source: "no measurement and no rule: datasheet peak", Confidence: "low"}
	}
	if c, ok := own["launch"]; ok {
		a.KernelLaunch = c
	} else {
		var vs []float64
		var ids []string
		for _, o := range others {
			if c, ok := measured[o]["launch"]; ok && o.ID != g.ID {
				vs = append(vs, c.Value)
				ids = append(ids, o.ID)
			}
		}
		if len(vs) > 0 {
			a.KernelLaunch = Ceiling{Value: median(vs), Confidence: "low",
				Source: fmt.Sprintf("rule: median of the measured GPUs (%s); no measurement of this GPU", strings.Join(ids, ", "))}
		}
	}
	a.AllReduce = measuredAllReduce(g)
	a.AllReduceLine, a.AllReduceFitted = fitAllReduce(a.AllReduce)
	g.Achievable = a
}

// otherDtypes is the rule for a GEMM dtype that no GPU of g's vendor was measured in: the
// median fraction of datasheet peak that g itself and the GPUs of its architecture family
// reach in the GEMM dtypes they were measured in (ids name them as "gpu dtype"). A chip and
// its vendor's GEMM library set the fraction more than the dtype does: in
// data/hardware/ceilings.csv one GPU's fractions across bf16/fp8/fp4 stay within ~0.1 of
// each other (GB200 0.729/0.723/0.763, B200 0.776/0.763, H100 0.803/0.783, MI300X
// 0.511/0.468, RTX PRO 6000 0.915/0.905/0.804) while one dtype spans 0.47-0.99 across
// vendors, so another vendor's measurement of the dtype is the weaker guess. Boost-measured
// GPUs (aboveDatasheet) lend nothing, as in the other rules.
func otherDtypes(g *GPU, key string, others []*GPU, measured map[*GPU]map[string]Ceiling) (float64, []string) {
	if !strings.HasPrefix(key, "gemm:") || family(g.Architecture) == "" {
		return 0, nil
	}
	var fs []float64
	var ids []string
	for _, o := range others {
		if family(o.Architecture) != family(g.Architecture) || aboveDatasheet(measured[o]) {
			continue
		}
		for _, k := range sortedKeys(measured[o]) {
			c := measured[o][k]
			// bf16 and fp16 come from one measurement (gemmDtype): counted once; tf32 is not
			// a serving dtype.
			if _, bf := measured[o]["gemm:bf16"]; k == "gemm:tf32" || (k == "gemm:fp16" && bf) {
				continue
			}
			if strings.HasPrefix(k, "gemm:") && k != key && c.Fraction < 0.999 {
				fs = append(fs, c.Fraction)
				ids = append(ids, o.ID+" "+strings.TrimPrefix(k, "gemm:"))
			}
		}
	}
	if len(fs) == 0 {
		return 0, nil
	}
	return median(fs), ids
}

// sortedKeys returns m's keys in order (a stable Source text).
func sortedKeys(m map[string]Ceiling) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// fillAll sets the Achievable ceilings of every GPU of a catalogue.
func fillAll(gpus []*GPU) {
	measured := make(map[*GPU]map[string]Ceiling, len(gpus))
	for _, g := range gpus {
		measured[g] = measuredCeilings(g)
	}
	for _, g := range gpus {
		fillAchievable(g, gpus, measured)
		if g.PriceUSDPerHour == 0 { // no catalogue price: the median public on-demand offer
			if o, n := medianOffer(g, "on-demand"); n > 0 {
				g.PriceUSDPerHour, g.PriceAsOf = o.USDPerHour, o.AsOf
				g.PriceProvider = o.Provider + " on-demand"
				g.PriceSource = fmt.Sprintf("%s (median of %d public on-demand offers, data/hardware/prices.csv)", o.URL, n)
			}
		}
	}
}

// family is the first word of an architecture ("Blackwell Ultra" → "Blackwell", "CDNA 3" → "CDNA").
func family(arch string) string {
	if f := strings.Fields(arch); len(f) > 0 {
		return f[0]
	}
	return ""
}

// CeilingsError reports a broken embedded ceilings table (nil normally).
func CeilingsError() error { return ceilingErr }
