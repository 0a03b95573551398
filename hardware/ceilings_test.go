package hardware

import (
	"math"
	"strings"
	"testing"
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
