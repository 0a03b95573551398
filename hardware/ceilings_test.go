package hardware

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"roofline/units"
)

// TestAchievableCeilings checks the ceilings picked from data/hardware/ceilings.csv against
// the published figures themselves: stas00/ml-engineering's MAMF table (H100 bf16 794.5,
// H100 fp8 1402.6, MI300X bf16 668.4 TFLOP/s) and the Azure AI-benchmarking-guide HBM runs
// (H100 BabelStream Dot 3.18 TB/s, MI300X copy 4.15 TB/s). GPUs without a measurement get a
// rule-filled, lower-confidence figure that names the rule.
func TestAchievableCeilings(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		gpu, dtype string
		want       float64 // FLOP/s, or bytes/s for dtype "memory"
		measured   bool
	}{
		{"h100-sxm5-80gb", "bf16", 794.5e12, true},
		{"h100-sxm5-80gb", "fp8", 1402.6e12, true}, // DeepGEMM's 1550 is a single-kernel best case, not taken
		{"mi300x", "bf16", 668.4e12, true},
		{"h100-sxm5-80gb", "memory", 3.18e12, true},
		{"mi300x", "memory", 4.15e12, true},
		{"l40s", "bf16", 0, false}, // no L40S measurement anywhere: a rule fills it
	} {
		g, err := c.Lookup(tc.gpu)
		if err != nil {
			t.Fatal(err)
		}
		ce := g.Achievable.MemoryBandwidth
		if tc.dtype != "memory" {
			ce = g.Achievable.GEMM[tc.dtype]
		}
		if ce.Measured != tc.measured {
			t.Errorf("%s %s: measured %v, want %v (%s)", tc.gpu, tc.dtype, ce.Measured, tc.measured, ce.Source)
		}
		if tc.want > 0 && math.Abs(ce.Value/tc.want-1) > 1e-9 {
			t.Errorf("%s %s: %g, want %g", tc.gpu, tc.dtype, ce.Value, tc.want)
		}
		if !tc.measured && (ce.Confidence != "low" || !strings.HasPrefix(ce.Source, "rule:")) {
			t.Errorf("%s %s: rule-filled ceiling must say so: confidence %q, source %q", tc.gpu, tc.dtype, ce.Confidence, ce.Source)
		}
		if ce.Fraction <= 0 || ce.Fraction > 1 {
			t.Errorf("%s %s: fraction %g outside (0, 1]", tc.gpu, tc.dtype, ce.Fraction)
		}
	}
}

// TestAchievableNeverAbovePeak: a ceiling is at most the datasheet peak for every GPU and dtype
// (the H200 NVL's measured 852 TFLOP/s bf16 above its 835.5 datasheet figure is capped).
func TestAchievableNeverAbovePeak(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range c.List() {
		for dt, ce := range g.Achievable.GEMM {
			if ce.Value > float64(g.PeakFLOPs[dt])*(1+1e-12) {
				t.Errorf("%s %s: ceiling %g above peak %g", g.ID, dt, ce.Value, float64(g.PeakFLOPs[dt]))
			}
		}
		if g.Achievable.MemoryBandwidth.Value > float64(g.MemoryBandwidth)*(1+1e-12) || g.Achievable.MemoryBandwidth.Value <= 0 {
			t.Errorf("%s: memory ceiling %g vs peak %g", g.ID, g.Achievable.MemoryBandwidth.Value, float64(g.MemoryBandwidth))
		}
	}
}

// TestBoostMeasuredSustained: the H200 NVL (GH100 at 600 W) was measured at 1659 TFLOP/s FP8
// and 852 BF16, at or above its datasheet dense peaks of 1670.5 and 835.5 (a boost-clock
// run), so its sustained ceilings come from the same chip at 700 W. Hand calculation from the
// MAMF rows of data/hardware/ceilings.csv: FP8 H100 SXM 1402.6/1979 = 0.70874 and H200 SXM
// 1453.4/1979 = 0.73441, median 0.72157 → 1670.5 × 0.72157 = 1205.4 TFLOP/s; BF16 both
// 794.5/989.5 = 0.80293 → 835.5 × 0.80293 = 670.8 TFLOP/s. The GeForce RTX 5090 (measured
// above its half-rate datasheet figure) keeps its own measurement, and the NVL lends no
// fraction to other GPUs' rules.
func TestBoostMeasuredSustained(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	nvl, err := c.Lookup("H200 NVL")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dtype string
		want  float64
	}{
		{"fp8", 1670.5e12 * (1402.6/1979 + 1453.4/1979) / 2},
		{"bf16", 835.5e12 * 794.5 / 989.5},
	} {
		ce := nvl.Achievable.GEMM[tc.dtype]
		if math.Abs(ce.Value/tc.want-1) > 1e-9 || ce.Measured || !strings.Contains(ce.Source, "same chip (GH100)") {
			t.Errorf("H200 NVL %s: %.1f TFLOP/s measured=%v (%s), want %.1f from the same chip at a higher power", tc.dtype, ce.Value/1e12, ce.Measured, ce.Source, tc.want/1e12)
		}
	}
	g5090, err := c.Lookup("RTX 5090")
	if err != nil {
		t.Fatal(err)
	}
	if ce := g5090.Achievable.GEMM["fp4"]; !ce.Measured || math.Abs(ce.Value/1617.46e12-1) > 1e-9 {
		t.Errorf("RTX 5090 fp4: %.1f TFLOP/s measured=%v, want its own 1617.46", ce.Value/1e12, ce.Measured)
	}
	// GB300 has no FP4 measurement: the Blackwell family rule takes the median of GB200 (its
	// serving-size figure, 5177.3 of 10000) and RTX PRO 6000 (1608.21 of 2000), not the RTX
	// 5090, whose BF16 run (254 of 209.5) shows it clocked above its datasheet:
	// 15000 × (0.51773 + 0.804105)/2.
	gb300, err := c.Lookup("GB300")
	if err != nil {
		t.Fatal(err)
	}
	if ce, want := gb300.Achievable.GEMM["fp4"], 15000e12*(5177.3/10000+1608.21/2000)/2; math.Abs(ce.Value/want-1) > 1e-9 || strings.Contains(ce.Source, "rtx-5090") {
		t.Errorf("GB300 fp4: %.1f TFLOP/s (%s), want %.1f", ce.Value/1e12, ce.Source, want/1e12)
	}
	for _, g := range c.List() {
		for dt, ce := range g.Achievable.GEMM {
			if !ce.Measured && strings.Contains(ce.Source, "h200-nvl-141gb") {
				t.Errorf("%s %s draws on the boost-measured H200 NVL: %s", g.ID, dt, ce.Source)
			}
		}
	}
}

// TestOtherDtypesRule: MI355X has no FP4 or INT8 measurement, nor does any AMD GPU, so the
// rule takes the fractions the CDNA family reaches in the dtypes it was measured in, not
// NVIDIA's FP4 fraction. Hand calculation from data/hardware/ceilings.csv: MI300X bf16
// 668.4/1307.4 = 0.51124 and fp8 1222.9/2614.9 = 0.46767, MI325X bf16 784.9/1307.4 =
// 0.60035, MI355X bf16 1565.0/2516.6 = 0.62187; median (0.51124 + 0.60035)/2 = 0.55580.
// An NVIDIA GPU keeps its vendor's FP4 rule (B200: TestBoostMeasuredSustained).
func TestOtherDtypesRule(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	g, err := c.Lookup("MI355X")
	if err != nil {
		t.Fatal(err)
	}
	want := (668.4/1307.4 + 784.9/1307.4) / 2
	for _, dt := range []string{"fp4", "int8"} {
		ce := g.Achievable.GEMM[dt]
		if math.Abs(ce.Fraction/want-1) > 1e-9 || ce.Measured || ce.Confidence != "low" || !strings.Contains(ce.Source, "other GEMM dtypes of CDNA") {
			t.Errorf("MI355X %s: fraction %.5f (%s), want %.5f from the CDNA family's other dtypes", dt, ce.Fraction, ce.Source, want)
		}
	}
}

// TestGEMMAsOf checks the software-era rule against the dates and values of the rows of
// data/hardware/ceilings.csv themselves: MI300X BF16 reached ~450 TFLOP/s with ROCm 6.1 (the
// note of stas00/ml-engineering's MAMF table; as_of April 2024, ROCm 6.1's release) and
// 668.4 with ROCm 6.3 and TunableOp (the same table, 2025-01-06); SemiAnalysis measured ~620
// on a custom AMD image (2024-12-22). A GPU measured only after the date keeps its best
// figure (H100 BF16: 720 on 2024-12-22, 794.5 on 2025-01-05), and an empty date is the
// best figure of any date.
func TestGEMMAsOf(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		gpu, dtype, asOf string
		want             float64 // TFLOP/s
		era              bool
	}{
		{"mi300x", "bf16", "", 668.4, false},
		{"mi300x", "bf16", "2024-09", 450, true},    // vLLM 0.6 (September 2024)
		{"mi300x", "fp16", "2024-04", 450, true},    // bf16 and fp16: one measurement; "2024-04" is not after "2024-04"
		{"mi300x", "bf16", "2024-12-22", 620, true}, // the SemiAnalysis row's own day counts
		{"mi300x", "bf16", "2025-03", 668.4, false},
		{"mi300x", "bf16", "2024-03", 668.4, false}, // nothing that old: the best figure
		{"h100-sxm5-80gb", "bf16", "2024-09", 794.5, false},
		{"h100-sxm5-80gb", "bf16", "2024-12-31", 720, true},
		{"l40s", "bf16", "2024-09", 0, false}, // rule-filled: no dates to choose among
	} {
		g, err := c.Lookup(tc.gpu)
		if err != nil {
			t.Fatal(err)
		}
		got, era := g.Achievable.GEMMAsOf(tc.dtype, tc.asOf)
		if era != tc.era {
			t.Errorf("%s %s as of %q: era %v, want %v (%s)", tc.gpu, tc.dtype, tc.asOf, era, tc.era, got.Source)
		}
		if tc.want == 0 {
			if got != g.Achievable.GEMM[tc.dtype] {
				t.Errorf("%s %s as of %q: %v, want the catalogue's ceiling", tc.gpu, tc.dtype, tc.asOf, got)
			}
			continue
		}
		if math.Abs(got.Value/1e12-tc.want) > 1e-9*tc.want {
			t.Errorf("%s %s as of %q: %.1f TFLOP/s, want %.1f (%s)", tc.gpu, tc.dtype, tc.asOf, got.Value/1e12, tc.want, got.Source)
		}
	}
}

// TestInferredGEMMCeiling: B200 has no FP4 GEMM benchmark; its FP4 ceiling is the inferred
// row of data/hardware/ceilings.csv, GB200's serving-size fraction (cuBLASLt NVFP4 at
// M=N=K=4096 in the Azure ND GB200 v6 results: 5177.3 / 10000 = 0.518) of B200's 9000
// TFLOP/s dense datasheet peak, i.e. 4660 TFLOP/s. It must say it was inferred, stay lower
// confidence, not count as a measurement (no software era chooses among such rows), and lend
// nothing to the rule of other GPUs: GB300's FP4 stays the median of the measured Blackwell
// FP4 fractions, GB200 0.51773 and RTX PRO 6000 1608.21 / 2000 = 0.80411.
func TestInferredGEMMCeiling(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	b200, err := c.Lookup("B200")
	if err != nil {
		t.Fatal(err)
	}
	ce := b200.Achievable.GEMM["fp4"]
	if math.Abs(ce.Value/4660e12-1) > 1e-9 || ce.Measured || ce.Confidence != "low" || !strings.HasPrefix(ce.Source, "inferred from") {
		t.Errorf("B200 fp4: %.1f TFLOP/s measured %v confidence %q (%s), want 4660 inferred, lower confidence", ce.Value/1e12, ce.Measured, ce.Confidence, ce.Source)
	}
	if got, era := b200.Achievable.GEMMAsOf("fp4", "2025-03"); era || got != ce {
		t.Errorf("B200 fp4 as of 2025-03: %v (era %v), want the inferred figure", got, era)
	}
	if got := b200.Achievable.GEMM["fp8"]; !got.Measured || math.Abs(got.Value/3432.5e12-1) > 1e-9 {
		t.Errorf("B200 fp8: %.1f TFLOP/s (%s), want the measured 3432.5", got.Value/1e12, got.Source)
	}
	gb300, err := c.Lookup("GB300")
	if err != nil {
		t.Fatal(err)
	}
	want := (5177.3/10000 + 1608.21/2000) / 2
	if f := gb300.Achievable.GEMM["fp4"].Fraction; math.Abs(f/want-1) > 1e-9 {
		t.Errorf("GB300 fp4 fraction %.5f (%s), want %.5f: an inferred row must not enter the family rule", f, gb300.Achievable.GEMM["fp4"].Source, want)
	}
}

// TestServingSizeGEMMCeiling: a GEMM row marked "(serving size)" is the GPU's ceiling for its
// dtype although a larger shape of the same series ran faster. GB200 NVFP4 in the Azure ND
// GB200 v6 cuBLASLt series: 7627.6 TFLOP/s at M=N=K=16384, 5177.3 at 4096 (the serving-size
// row); the ceiling is 5177.3, measured, and the 16384 figure stays in the dated list. Its FP8
// ceiling, with no serving-size row, stays the best shape (MAMF 3615.6).
func TestServingSizeGEMMCeiling(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	g, err := c.Lookup("GB200")
	if err != nil {
		t.Fatal(err)
	}
	fp4 := g.Achievable.GEMM["fp4"]
	if math.Abs(fp4.Value/5177.3e12-1) > 1e-9 || !fp4.Measured || !strings.Contains(fp4.Source, "(serving size)") {
		t.Errorf("GB200 fp4: %.1f TFLOP/s measured %v (%s), want the serving-size 5177.3", fp4.Value/1e12, fp4.Measured, fp4.Source)
	}
	if fp8 := g.Achievable.GEMM["fp8"]; math.Abs(fp8.Value/3615.6e12-1) > 1e-9 {
		t.Errorf("GB200 fp8: %.1f TFLOP/s, want the best shape 3615.6", fp8.Value/1e12)
	}
	found := false
	for _, m := range g.Achievable.GEMMMeasured["fp4"] {
		found = found || math.Abs(m.Value/7627.6e12-1) < 1e-9
	}
	if !found {
		t.Errorf("GB200 fp4 dated list %v: want the 16384 figure kept", g.Achievable.GEMMMeasured["fp4"])
	}
}

// TestInferredGEMMCeilingFollowsUserPeak: B200's inferred FP4 row is a fraction of the 9000
// TFLOP/s datasheet peak (4660 = 0.518 × 9000), not a rate anyone measured. A --gpu-file that
// gives B200 another FP4 peak gets the same fraction of that peak: by hand 4660 × 4000 / 9000
// = 2071.1 TFLOP/s for 4000 and 4660 × 20000 / 9000 = 10355.6 for 20000. Before, the 4660
// stood as it was: 100% of a 4000 peak (clamped) and 23% of a 20000 one, both citing
// "0.518 x 9000".
func TestInferredGEMMCeilingFollowsUserPeak(t *testing.T) {
	for _, tc := range []struct {
		peak, want float64 // TFLOP/s
	}{{4000, 2071.1}, {20000, 10355.6}} {
		c, err := Load()
		if err != nil {
			t.Fatal(err)
		}
		doc := fmt.Sprintf("[[gpu]]\nid = \"b200-sxm\"\nfp4_tflops_dense = %g\n", tc.peak)
		if err := c.AddTOML("my.toml", []byte(doc)); err != nil {
			t.Fatal(err)
		}
		g, err := c.Lookup("B200")
		if err != nil {
			t.Fatal(err)
		}
		ce := g.Achievable.GEMM["fp4"]
		if math.Abs(ce.Value/1e12-tc.want) > 0.1 || math.Abs(ce.Fraction-4660.0/9000) > 1e-9 || ce.Measured ||
			!strings.Contains(ce.Source, "of the "+units.FLOPsPerSecond(tc.peak*1e12).String()+" peak") {
			t.Errorf("B200 fp4 with a %g TFLOP/s peak: %.1f TFLOP/s (fraction %.4f, %s), want %.1f (0.5178 of the peak, saying so)",
				tc.peak, ce.Value/1e12, ce.Fraction, ce.Source, tc.want)
		}
	}
}
