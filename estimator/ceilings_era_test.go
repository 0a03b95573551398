package estimator

import (
	"math"
	"strings"
	"testing"
)

// TestCeilingsAsOf checks that an engine release is priced with the GEMM ceiling of its
// software date (Profile.CeilingsAsOf): vLLM 0.6.x (profile vllm-v0, ceilings_as_of 2024-09)
// and TGI 2.x (2024-04) on MI300X in BF16 use the ~450 TFLOP/s that ROCm 6.1 reached
// (stas00/ml-engineering MAMF table note; data/hardware/ceilings.csv), for the GEMMs and for
// attention (a fraction of the 16-bit GEMM ceiling), while the newest vLLM uses the 668.4 of
// ROCm 6.3 with TunableOp (January 2025). On H100, whose GEMM rows all date from after
// September 2024, vllm-v0 keeps the best figure (794.5 TFLOP/s, the same MAMF table).
func TestCeilingsAsOf(t *testing.T) {
	for _, tc := range []struct {
		engine, gpu string
		want        float64 // TFLOP/s
		era         bool
	}{
		{"vllm@0.6.2", "MI300X", 450, true},
		{"tgi", "MI300X", 450, true},
		{"vllm", "MI300X", 668.4, false},
		{"vllm@0.6.3", "H100", 794.5, false},
	} {
		p, _, err := Engine(tc.engine)
		if err != nil {
			t.Fatal(err)
		}
		d, err := New(Spec{Model: mustModel(t, "meta-llama/Llama-3.1-8B-Instruct"), GPU: mustGPU(t, tc.gpu), TP: 1, Profile: p})
		if err != nil {
			t.Fatal(err)
		}
		for _, got := range []float64{float64(d.gemmCeil), float64(d.attnCeil)} {
			if math.Abs(got/1e12-tc.want) > 1e-9*tc.want {
				t.Errorf("%s on %s: ceiling %.1f TFLOP/s, want %.1f", tc.engine, tc.gpu, got/1e12, tc.want)
			}
		}
		src := ""
		for _, q := range d.Parameters() {
			if q.Name == "gemm_ceiling_bf16" {
				src = q.Source
			}
		}
		if says := strings.Contains(src, "ceilings_as_of"); says != tc.era {
			t.Errorf("%s on %s: gemm_ceiling_bf16 source %q: names the software date %v, want %v", tc.engine, tc.gpu, src, says, tc.era)
		}
	}
}

// A ceilings_as_of that is not a date is refused, naming the field and the allowed forms.
func TestCeilingsAsOfValidate(t *testing.T) {
	// 2024-02-30 and 2025-04-31 are not on the calendar (Gregorian: February 2024 has 29 days,
	// April 30); they were accepted by the form check alone.
	for _, v := range []string{"2024-13", "Sept 2024", "24-09", "2024-09-31x", "2024-02-30", "2025-04-31"} {
		_, err := ParseProfile("p.toml", []byte(`base = "vllm"`+"\n"+`ceilings_as_of = "`+v+`"`))
		if err == nil || !strings.Contains(err.Error(), "ceilings_as_of") || !strings.Contains(err.Error(), "YYYY-MM") {
			t.Errorf("ceilings_as_of %q: error %v, want one naming the field and the allowed forms", v, err)
		}
	}
	for _, v := range []string{"", "2024", "2024-09", "2024-09-05", "2024-02-29"} {
		if _, err := ParseProfile("p.toml", []byte(`base = "vllm"`+"\n"+`ceilings_as_of = "`+v+`"`)); err != nil {
			t.Errorf("ceilings_as_of %q: %v", v, err)
		}
	}
}

// An unquoted TOML date or number (ceilings_as_of = 2024-09-01, = 2024) is refused with the
// field's allowed forms; it gave the decoder's "incompatible types: TOML value has type
// time.Time; destination has type string".
func TestCeilingsAsOfNotAString(t *testing.T) {
	for _, v := range []string{"2024-09-01", "2024", "2024-09-01T00:00:00Z", "true"} {
		_, err := ParseProfile("p.toml", []byte(`base = "vllm"`+"\n"+`ceilings_as_of = `+v))
		if err == nil || !strings.HasPrefix(err.Error(), "p.toml: ceilings_as_of = ") || !strings.Contains(err.Error(), `quoted date "YYYY", "YYYY-MM" or "YYYY-MM-DD"`) {
			t.Errorf("ceilings_as_of = %s: error %v, want one naming the field and the quoted forms", v, err)
		}
	}
}

// TestCeilingsAsOfWithDatasheetWarns: the date picks among measured GEMM ceilings, which a
// profile with ceilings = "datasheet" does not use, so the pair is accepted (a datasheet copy
// of a dated release profile carries both) but the deployment says the date has no effect, and
// the GEMM ceiling is MI300X's datasheet BF16 peak, 1307.4 TFLOP/s (AMD MI300X data sheet).
func TestCeilingsAsOfWithDatasheetWarns(t *testing.T) {
	p, err := ParseProfile("ds", []byte("base = \"vllm\"\nceilings = \"datasheet\"\nceilings_as_of = \"2024-09\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Spec{Model: mustModel(t, "meta-llama/Llama-3.1-8B-Instruct"), GPU: mustGPU(t, "MI300X"), TP: 1, Profile: p})
	if err != nil {
		t.Fatal(err)
	}
	if got := float64(d.gemmCeil) / 1e12; math.Abs(got-1307.4) > 0.1 {
		t.Errorf("GEMM ceiling %.1f TFLOP/s, want the datasheet 1307.4", got)
	}
	found := false
	for _, w := range d.Warnings() {
		found = found || strings.Contains(w.Error(), "ceilings_as_of 2024-09 has no effect")
	}
	if !found {
		t.Errorf("warnings %v: want one saying ceilings_as_of has no effect with datasheet ceilings", d.Warnings())
	}
}
