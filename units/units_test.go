package units

import (
	"encoding"
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   string
		want Bytes
	}{
		{"80 GB", 8e10},                 // decimal: 80 × 1e9
		{"80GB", 8e10},                  // no space
		{"80 GiB", 80 * (1 << 30)},      // binary: 80 × 2^30 = 85,899,345,920
		{"512 MiB", 512 * (1 << 20)},    // 536,870,912
		{"141 GB", 141e9},               // H200 datasheet capacity
		{"1.5e9", 1.5e9},                // bare numbers are bytes
		{"4 KiB", 4096},                 // 4 × 1024
		{"2 kB", 2000},                  // lower-case k is kilo
		{"2 KB", 2000},                  // upper-case K is kilo too (decimal)
		{"1 TB", 1e12},                  //
		{"1 TiB", 1 << 40},              //
		{"10 bytes", 10},                //
		{" 3 B ", 3},                    // surrounding space
		{".5 GB", 5e8},                  // leading dot
		{"85017493504", 85_017_493_504}, // H100 PyTorch total_memory, bytes
		{"1e3 MB", 1e9},                 // exponent and prefix
		{"0", 0},                        //
		{"-5 GB", -5e9},                 // sign is kept; callers check ranges
		{"1.2e-3 GB", 1.2e6},            // negative exponent
		{"1 PiB", 1 << 50},              //
		{"3 EB", 3e18},                  //
		{"1E3 B", 1000},                 // upper-case exponent
	}
	for _, tt := range tests {
		got, err := ParseBytes(tt.in)
		if err != nil || math.Abs(float64(got-tt.want)) > 1e-9*math.Abs(float64(tt.want)) {
			t.Errorf("ParseBytes(%q) = %v, %v; want %v", tt.in, float64(got), err, float64(tt.want))
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		parse func(string) error
		in    string
		want  string
	}{
		{bytesErr, "80 XB", `bytes "80 XB": unknown unit "XB" (want e.g. "80 GB", "80 GiB", "512 MiB")`},
		{bytesErr, "", `bytes "": no number`},
		{bytesErr, "GB", `bytes "GB": no number`},
		{bytesErr, "80 GB/s", `unknown unit "GB/s"`},
		{bytesErr, "80 mB", `unknown unit "mB"`}, // no milli-bytes
		{bytesErr, "80 kiB", `unknown unit "kiB"`},
		{bytesErr, "1.2.3 GB", `bytes "1.2.3 GB": bad number`},
		{bytesErr, "1e999 B", `bad number`},
		{bytesErr, "1e300 PiB", `bytes "1e300 PiB": out of range`},
		{bytesErr, "NaN", `no number`},
		{bytesErr, "1e", `unknown unit "e"`},
		{bwErr, "3.35 TB", `bandwidth "3.35 TB": unknown unit "TB" (want e.g. "3.35 TB/s", "900 GB/s")`},
		{flopsErr, "989.5 TB/s", `flops "989.5 TB/s": unknown unit "TB/s"`},
		{flopsErr, "1 tflops", `unknown unit "tflops"`},
		{secErr, "5 mss", `duration "5 mss": unknown unit "mss" (want e.g. "5 ms", "2 s", "40 us")`},
		{secErr, "fast", `duration "fast": no number`},
		{secErr, "1e308 h", `duration "1e308 h": out of range`},
		{countErr, "16 GFLOP/s", `flop count "16 GFLOP/s": unknown unit "GFLOP/s"`},
	}
	for _, tt := range tests {
		err := tt.parse(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parse(%q) error = %v, want it to contain %s", tt.in, err, tt.want)
		}
	}
}

func bytesErr(s string) error { _, err := ParseBytes(s); return err }
func bwErr(s string) error    { _, err := ParseBytesPerSecond(s); return err }
func flopsErr(s string) error { _, err := ParseFLOPsPerSecond(s); return err }
func secErr(s string) error   { _, err := ParseSeconds(s); return err }
func countErr(s string) error { _, err := ParseFLOPs(s); return err }

func TestParseRates(t *testing.T) {
	tests := []struct {
		in   string
		got  func(string) (float64, error)
		want float64
	}{
		{"3.35 TB/s", bw, 3.35e12},      // H100 SXM datasheet bandwidth
		{"900GB/s", bw, 9e11},           // NVLink 4 bidirectional
		{"4.8 TB/s", bw, 4.8e12},        // H200
		{"1 GiB/s", bw, 1 << 30},        //
		{"100 bytes/s", bw, 100},        //
		{"2 GBps", bw, 2e9},             //
		{"5e9", bw, 5e9},                // bare: bytes/s
		{"989.5 TFLOP/s", fl, 9.895e14}, // H100 SXM bf16 dense
		{"989.5 TFLOPS", fl, 9.895e14},
		{"1.98 PFLOPS", fl, 1.98e15},
		{"2 PFLOP/s", fl, 2e15},
		{"197 TFLOPs/s", fl, 1.97e14},
		{"1e12", fl, 1e12},
		{"16 GFLOP", cnt, 1.6e10},
		{"2 FLOPs", cnt, 2},
		{"5 ms", sec, 5e-3},
		{"2s", sec, 2},
		{"40 us", sec, 40e-6},
		{"40 µs", sec, 40e-6},
		{"7 ns", sec, 7e-9},
		{"1.5 min", sec, 90},
		{"1h", sec, 3600},
		{"0.25", sec, 0.25},
	}
	for _, tt := range tests {
		got, err := tt.got(tt.in)
		if err != nil || math.Abs(got-tt.want) > 1e-9*math.Abs(tt.want) {
			t.Errorf("parse(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func bw(s string) (float64, error)  { v, err := ParseBytesPerSecond(s); return float64(v), err }
func fl(s string) (float64, error)  { v, err := ParseFLOPsPerSecond(s); return float64(v), err }
func cnt(s string) (float64, error) { v, err := ParseFLOPs(s); return float64(v), err }
func sec(s string) (float64, error) { v, err := ParseSeconds(s); return float64(v), err }

// TestUnmarshalText checks that every quantity parses through encoding.TextUnmarshaler,
// the path flags, TOML and JSON take.
func TestUnmarshalText(t *testing.T) {
	var (
		b  Bytes
		bw BytesPerSecond
		f  FLOPsPerSecond
		n  FLOPs
		s  Seconds
	)
	tests := []struct {
		u    encoding.TextUnmarshaler
		in   string
		got  func() float64
		want float64
	}{
		{&b, "80 GiB", func() float64 { return float64(b) }, 80 << 30},
		{&bw, "3.35 TB/s", func() float64 { return float64(bw) }, 3.35e12},
		{&f, "989.5 TFLOP/s", func() float64 { return float64(f) }, 989.5e12},
		{&n, "16 GFLOP", func() float64 { return float64(n) }, 16e9},
		{&s, "5 ms", func() float64 { return float64(s) }, 5e-3},
	}
	for _, tt := range tests {
		if err := tt.u.UnmarshalText([]byte(tt.in)); err != nil || math.Abs(tt.got()-tt.want) > 1e-9*tt.want {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", tt.in, tt.got(), err, tt.want)
		}
	}
	if err := b.UnmarshalText([]byte("80 XB")); err == nil {
		t.Error(`Bytes.UnmarshalText("80 XB") accepted an unknown unit`)
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		got  string
		want string
	}{
		{Bytes(80e9).String(), "80.0 GB"},
		{Bytes(141e9).String(), "141 GB"},
		{Bytes(85_017_493_504).String(), "85.0 GB"},
		{Bytes(85_017_493_504).GiBString(), "79.2 GiB"}, // 85,017,493,504 / 2^30 = 79.18
		{Bytes(999.96e9).String(), "1.00 TB"},           // rounds up into the next prefix
		{Bytes(512).String(), "512 B"},
		{Bytes(0).String(), "0 B"},
		{BytesPerSecond(3.35e12).String(), "3.35 TB/s"},
		{BytesPerSecond(450e9).String(), "450 GB/s"},
		{FLOPsPerSecond(989.5e12).String(), "990 TFLOP/s"}, // 3 significant figures
		{FLOPsPerSecond(1979e12).String(), "1.98 PFLOP/s"},
		{FLOPsPerSecond(67e12).String(), "67.0 TFLOP/s"},
		{FLOPs(16e9).String(), "16.0 GFLOP"},
		{Seconds(5e-3).String(), "5.00 ms"},
		{Seconds(40e-6).String(), "40.0 µs"},
		{Seconds(2).String(), "2.00 s"},
		{Seconds(0).String(), "0 s"},
		{Seconds(0.9996e-3).String(), "1.00 ms"}, // not "1000 µs"
		{Seconds(0.9996).String(), "1.00 s"},
		{Seconds(3600).String(), "3600 s"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestSig(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{989.5, "990"}, // 3 significant figures (round half to even on an exact .5 is also 990)
		{1979, "1979"}, // ≥ 1000: whole number, no exponent
		{3.35, "3.35"},
		{0.0012345, "0.00123"},
		{-0.5, "-0.500"},
		{9.9996, "10.0"}, // rounding carries into a new digit: still 3 figures
		{99.996, "100"},
		{0.99996, "1.00"},
		{-9.9996, "-10.0"},
		{0, "0"},
		{math.Inf(1), "+Inf"},
	}
	for _, tt := range tests {
		if got := Sig(tt.v); got != tt.want {
			t.Errorf("Sig(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestTime(t *testing.T) {
	// Hand calculation: 16.06e9 bytes (Llama-3.1-8B bf16 weights) at 3.35e12 B/s = 4.794 ms.
	if got := Bytes(16.06e9).Time(3.35e12); math.Abs(float64(got)-16.06e9/3.35e12) > 1e-15 {
		t.Errorf("Bytes.Time = %v", got)
	}
	// 2·8e9 FLOPs at 989.5e12 FLOP/s = 16.17 µs.
	if got := FLOPs(16e9).Time(989.5e12); math.Abs(float64(got)-16e9/989.5e12) > 1e-15 {
		t.Errorf("FLOPs.Time = %v", got)
	}
	if Bytes(0).Time(0) != 0 || FLOPs(0).Time(0) != 0 {
		t.Error("zero work takes zero time, even at zero rate")
	}
	if !math.IsInf(float64(Bytes(1).Time(0)), 1) || !math.IsInf(float64(FLOPs(1).Time(0)), 1) {
		t.Error("work at zero rate must take +Inf")
	}
	if Seconds(0.005).Ms() != 5 {
		t.Error("Ms")
	}
}

// FuzzParseBytes: ParseBytes never panics, returns finite values, and what it accepts
// parses again to the same value once printed in full.
func FuzzParseBytes(f *testing.F) {
	for _, s := range []string{"80 GB", "80GiB", "1.5e9", "", "GB", "-1 KiB", "1e308 PiB", "1e", ".", "+", "5 XB", "NaN", "0x10 B", "1_000 B", "٣ GB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseBytes(s)
		if err != nil {
			if b != 0 {
				t.Errorf("ParseBytes(%q) returned %v with error %v", s, float64(b), err)
			}
			return
		}
		if math.IsNaN(float64(b)) || math.IsInf(float64(b), 0) {
			t.Errorf("ParseBytes(%q) = %v: not finite", s, float64(b))
		}
		_ = b.String()
		_ = b.GiBString()
	})
}

// TestParseMs: a bare number is ms; a unit converts (1 s = 1000 ms, 1 us = 0.001 ms).
func TestParseMs(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
	}{{"500", 500}, {"500ms", 500}, {"0.5s", 500}, {"0.5 s", 500}, {"800us", 0.8}, {"800µs", 0.8}, {"-3", -3}} {
		got, err := ParseMs(c.in)
		if err != nil || math.Abs(got-c.want) > 1e-9*math.Abs(c.want) {
			t.Errorf("ParseMs(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", "fast", "NaN", "5 parsecs", "1e400", "5h", "2 min"} {
		if _, err := ParseMs(in); err == nil {
			t.Errorf("ParseMs(%q): no error", in)
		}
	}
}

// TestParseDuration: Go durations and quantities with units mean the same time; zero and
// negative durations are refused.
func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"30s": 30 * time.Second, "1m30s": 90 * time.Second, "500 ms": 500 * time.Millisecond, "1.5 min": 90 * time.Second} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"0s", "-1s", "soon"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q): no error", bad)
		}
	}
}
