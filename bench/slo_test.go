package bench

import (
	"strings"
	"testing"
)

func TestParseSLO(t *testing.T) {
	for _, c := range []struct {
		in   string
		want SLO
	}{
		{"ttft:500", SLO{TTFTMs: 500}},
		{"ttft:0.5s,tpot:50ms", SLO{TTFTMs: 500, TPOTMs: 50}},
		{"ttft:500 tpot:40 e2el:2s", SLO{TTFTMs: 500, TPOTMs: 40, E2EMs: 2000}},
		{"E2E:800us,tok_s_per_user:30", SLO{E2EMs: 0.8, MinTokSPerUser: 30}},
	} {
		got, err := ParseSLO(c.in)
		if err != nil || got != c.want {
			t.Errorf("%q: %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"", "want KEY:VALUE"},
		{"ttft", "want KEY:VALUE"},
		{"itl:50", `goodput key "itl": allowed ttft, tpot, e2el`},
		{"ttft:-1", "positive number"},
		{"ttft:fast", "positive number"},
		{"tok_s_per_user:30ms", "positive number"},
		{"ttft:NaN", "positive number"},
	} {
		_, err := ParseSLO(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %v, want one line containing %q", c.in, err, c.want)
		}
	}
}

func FuzzParseSLO(f *testing.F) {
	for _, s := range []string{"ttft:500", "ttft:0.5s,tpot:50ms", "e2el:2s tok_s_per_user:3", ":", "ttft:1e400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		slo, err := ParseSLO(s)
		if err != nil {
			return
		}
		for _, v := range []float64{slo.TTFTMs, slo.TPOTMs, slo.E2EMs, slo.MinTokSPerUser} {
			if v < 0 || v != v {
				t.Fatalf("%q: %+v has a negative or NaN objective", s, slo)
			}
		}
		if !slo.set() {
			t.Fatalf("%q: accepted without any objective", s)
		}
	})
}
