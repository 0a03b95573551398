// Package units defines the typed physical quantities shared by every roofline package:
// Bytes, FLOPs, BytesPerSecond, FLOPsPerSecond and Seconds.
//
// Every quantity is a float64 in base units (bytes, floating-point operations, seconds).
// Text is parsed once at the edge: each type implements encoding.TextUnmarshaler, so a
// flag, a TOML file and a JSON document all accept "80 GB", "80GiB", "3.35 TB/s" or
// "989.5 TFLOP/s". Decimal (k, M, G, T, P = 1e3…) and binary (Ki, Mi, Gi, Ti = 1024…)
// prefixes are never mixed silently: "GB" is 1e9 bytes and "GiB" is 2^30 bytes.
package units

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Bytes is an amount of memory or data in bytes.
type Bytes float64

// FLOPs is a count of floating-point operations (one multiply-add is 2 FLOPs).
type FLOPs float64

// BytesPerSecond is a bandwidth in bytes per second.
type BytesPerSecond float64

// FLOPsPerSecond is a compute rate in FLOP/s (dense unless stated otherwise).
type FLOPsPerSecond float64

// Seconds is a duration in seconds.
type Seconds float64

// Common constants in base units.
const (
	KB  Bytes = 1e3
	MB  Bytes = 1e6
	GB  Bytes = 1e9
	TB  Bytes = 1e12
	KiB Bytes = 1 << 10
	MiB Bytes = 1 << 20
	GiB Bytes = 1 << 30
	TiB Bytes = 1 << 40

	Millisecond Seconds = 1e-3
	Microsecond Seconds = 1e-6
)

// Ms returns the duration in milliseconds.
func (s Seconds) Ms() float64 { return float64(s) * 1e3 }

// Time returns how long moving b bytes takes at bandwidth bw. Zero bandwidth gives +Inf.
func (b Bytes) Time(bw BytesPerSecond) Seconds {
	if b == 0 {
		return 0
	}
	return Seconds(float64(b) / float64(bw))
}

// Time returns how long f FLOPs take at rate r. Zero rate gives +Inf.
func (f FLOPs) Time(r FLOPsPerSecond) Seconds {
	if f == 0 {
		return 0
	}
	return Seconds(float64(f) / float64(r))
}

var decimal = map[string]float64{"": 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}
var binary = map[string]float64{"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50}

// splitNumber splits "3.35 TB/s" into 3.35 and "TB/s".
func splitNumber(s string) (float64, string, error) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) {
		c := rune(s[i])
		if unicode.IsDigit(c) || c == '.' || c == '-' || c == '+' || ((c == 'e' || c == 'E') && i > 0 && i+1 < len(s) && (unicode.IsDigit(rune(s[i+1])) || s[i+1] == '-' || s[i+1] == '+')) {
			i++
			continue
		}
		break
	}
	if i == 0 {
		return 0, "", fmt.Errorf("%q: no number", s)
	}
	v, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0, "", fmt.Errorf("%q: bad number", s)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, "", fmt.Errorf("%q: not a finite number", s)
	}
	return v, strings.TrimSpace(s[i:]), nil
}

// prefixed parses unit text of the form <prefix><base>, returning the multiplier.
// bases lists the accepted spellings of the base unit (case-sensitive).
func prefixed(unit string, bases ...string) (float64, bool) {
	for _, b := range bases {
		if !strings.HasSuffix(unit, b) {
			continue
		}
		p := strings.TrimSuffix(unit, b)
		if m, ok := binary[p]; ok {
			return m, true
		}
		if m, ok := decimal[p]; ok {
			return m, true
		}
	}
	return 0, false
}

func parse(kind, text string, bases ...string) (float64, error) {
	v, u, err := splitNumber(text)
	if err != nil {
		return 0, fmt.Errorf("%s %w", kind, err)
	}
	if u == "" {
		return v, nil
	}
	m, ok := prefixed(u, bases...)
	if !ok {
		return 0, fmt.Errorf("%s %q: unknown unit %q (want e.g. %s)", kind, text, u, examples[kind])
	}
	if math.IsInf(v*m, 0) {
		return 0, fmt.Errorf("%s %q: out of range", kind, text)
	}
	return v * m, nil
}

var examples = map[string]string{
	"bytes":      `"80 GB", "80 GiB", "512 MiB"`,
	"bandwidth":  `"3.35 TB/s", "900 GB/s"`,
	"flops":      `"989.5 TFLOP/s", "1.98 PFLOPS"`,
	"duration":   `"5 ms", "2 s", "40 us"`,
	"flop count": `"16 GFLOP"`,
}

// ParseBytes parses "80 GB", "80GiB", "1.5e9" (bare numbers are bytes).
func ParseBytes(s string) (Bytes, error) {
	v, err := parse("bytes", s, "B", "bytes", "byte")
	return Bytes(v), err
}

// ParseBytesPerSecond parses "3.35 TB/s", "900GB/s"; bare numbers are bytes/s.
func ParseBytesPerSecond(s string) (BytesPerSecond, error) {
	v, err := parse("bandwidth", s, "B/s", "Bps", "bytes/s")
	return BytesPerSecond(v), err
}

// ParseFLOPsPerSecond parses "989.5 TFLOP/s", "989.5 TFLOPS", "2 PFLOP/s"; bare numbers are FLOP/s.
func ParseFLOPsPerSecond(s string) (FLOPsPerSecond, error) {
	v, err := parse("flops", s, "FLOP/s", "FLOPS", "FLOPs/s", "flop/s", "flops")
	return FLOPsPerSecond(v), err
}

// ParseFLOPs parses "16 GFLOP"; bare numbers are FLOPs.
func ParseFLOPs(s string) (FLOPs, error) {
	v, err := parse("flop count", s, "FLOP", "FLOPs", "flop")
	return FLOPs(v), err
}

// ParseSeconds parses "5 ms", "2s", "40 us", "1.5 min", "1h"; bare numbers are seconds.
func ParseSeconds(s string) (Seconds, error) {
	v, u, err := splitNumber(s)
	if err != nil {
		return 0, fmt.Errorf("duration %w", err)
	}
	m, ok := map[string]float64{"": 1, "s": 1, "sec": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9, "min": 60, "m": 60, "h": 3600}[u]
	if !ok {
		return 0, fmt.Errorf("duration %q: unknown unit %q (want e.g. %s)", s, u, examples["duration"])
	}
	if math.IsInf(v*m, 0) {
		return 0, fmt.Errorf("duration %q: out of range", s)
	}
	return Seconds(v * m), nil
}

// ParseMs parses a latency and returns it in ms: "500ms", "0.5 s", "800us"; a bare
// number is ms, the convention of latency objectives (vllm bench serve's --goodput,
// roofline's --constraint). Units: us, µs, ms, s.
func ParseMs(s string) (float64, error) {
	v, u, err := splitNumber(s)
	if err != nil {
		return 0, fmt.Errorf("duration %w", err)
	}
	m, ok := map[string]float64{"": 1, "ms": 1, "s": 1e3, "us": 1e-3, "µs": 1e-3}[u]
	if !ok {
		return 0, fmt.Errorf("duration %q: unknown unit %q (want us, ms or s; none = ms)", s, u)
	}
	return v * m, nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (b *Bytes) UnmarshalText(t []byte) (err error) { *b, err = ParseBytes(string(t)); return }

// UnmarshalText implements encoding.TextUnmarshaler.
func (b *BytesPerSecond) UnmarshalText(t []byte) (err error) {
	*b, err = ParseBytesPerSecond(string(t))
	return
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (f *FLOPsPerSecond) UnmarshalText(t []byte) (err error) {
	*f, err = ParseFLOPsPerSecond(string(t))
	return
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (f *FLOPs) UnmarshalText(t []byte) (err error) { *f, err = ParseFLOPs(string(t)); return }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Seconds) UnmarshalText(t []byte) (err error) { *s, err = ParseSeconds(string(t)); return }

// sig3 formats v with three significant figures and a decimal prefix.
func sig3(v float64, unit string) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', 3, 64) + " " + unit
	}
	prefixes := []struct {
		p string
		m float64
	}{{"P", 1e15}, {"T", 1e12}, {"G", 1e9}, {"M", 1e6}, {"k", 1e3}, {"", 1}}
	a := math.Abs(v)
	for _, p := range prefixes {
		if a >= p.m*0.9995 || p.m == 1 {
			return Sig(v/p.m) + " " + p.p + unit
		}
	}
	return Sig(v) + " " + unit
}

// Sig formats v with three significant figures, without exponent for ordinary magnitudes.
func Sig(v float64) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	a := math.Abs(v)
	if a >= 1000 {
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	d := 2 - int(math.Floor(math.Log10(a)))
	if d < 0 {
		d = 0
	}
	// Rounding can carry into a new leading digit (9.9996 → "10.00"): keep three figures.
	if r, _ := strconv.ParseFloat(strconv.FormatFloat(a, 'f', d, 64), 64); d > 0 && r >= math.Pow10(3-d) {
		d--
	}
	return strconv.FormatFloat(v, 'f', d, 64)
}

// String prints decimal units ("80.0 GB"); use GiBString for binary.
func (b Bytes) String() string { return sig3(float64(b), "B") }

// GiBString prints the size in GiB (2^30 bytes).
func (b Bytes) GiBString() string { return Sig(float64(b)/float64(GiB)) + " GiB" }

func (b BytesPerSecond) String() string { return sig3(float64(b), "B/s") }
func (f FLOPsPerSecond) String() string { return sig3(float64(f), "FLOP/s") }
func (f FLOPs) String() string          { return sig3(float64(f), "FLOP") }

func (s Seconds) String() string {
	a := math.Abs(float64(s))
	switch {
	case a == 0:
		return "0 s"
	case a < 0.9995e-3: // values that round to 1000 µs print as 1.00 ms
		return Sig(float64(s)*1e6) + " µs"
	case a < 0.9995:
		return Sig(float64(s)*1e3) + " ms"
	default:
		return Sig(float64(s)) + " s"
	}
}

// Prefixed formats v with three significant figures and a decimal SI prefix before unit
// ("989 TFLOP/s", "3.35 TB/s", "85.0 GB").
func Prefixed(v float64, unit string) string { return sig3(v, unit) }

// ParseDuration accepts Go durations ("30s", "1m30s") and quantities ("30 s", "500 ms",
// ParseSeconds); the duration must be > 0.
func ParseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		v, uerr := ParseSeconds(s)
		if uerr != nil {
			return 0, fmt.Errorf("%q: want a duration such as 30s, 5m or 500ms", s)
		}
		d = time.Duration(float64(v) * float64(time.Second))
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q: must be > 0", s)
	}
	return d, nil
}
