package estimator

import (
	"strings"
	"testing"
)

// FuzzParseProfile: any input either decodes into a valid profile or returns an error; never a panic.
func FuzzParseProfile(f *testing.F) {
	for _, n := range EngineNames() {
		b, _ := profileBytes(n)
		f.Add(b)
	}
	f.Add([]byte("name = \"x\"\ngemm_efficiency = 2.5\n"))
	f.Add([]byte("[sources]\n"))
	f.Add([]byte("memory_model = 3"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseProfile("fuzz.toml", b)
		if err == nil {
			if p == nil {
				t.Fatal("nil profile without error")
			}
			if err := p.Validate(); err != nil {
				t.Fatalf("accepted profile does not validate: %v", err)
			}
		}
	})
}

// FuzzParseDisagg: any text either parses into pools of at least one replica of TP ≥ 1, or is
// an error naming --disagg; never a panic.
func FuzzParseDisagg(f *testing.F) {
	for _, s := range []string{"1P1D", "2P3D:tp=4:tp=8,ep=8", "1P1D:dp=2", "", "P", "0P1D", "1P1D:tp=-1", "9999999999999P1D"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sh, err := ParseDisagg(s, 1)
		if err != nil {
			if !strings.Contains(err.Error(), "--disagg") {
				t.Fatalf("error without the flag name: %v", err)
			}
			return
		}
		for _, p := range []PoolShape{sh.Prefill, sh.Decode} {
			if p.Replicas < 1 || p.TP < 1 || p.EP < 1 || p.DP < 1 {
				t.Fatalf("%q: pool %+v", s, p)
			}
		}
	})
}

// FuzzParseOffload: tiers parse with positive sizes and known names, or the error names --kv-offload.
func FuzzParseOffload(f *testing.F) {
	for _, s := range []string{"cpu:200GB", "cpu:1TiB,disk:2TB", "disk:0", "gpu:1GB", ":", "cpu:NaNGB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tiers, err := ParseOffload(s)
		if err != nil {
			if !strings.Contains(err.Error(), "--kv-offload") {
				t.Fatalf("error without the flag name: %v", err)
			}
			return
		}
		for _, tr := range tiers {
			if !(tr.Capacity > 0) || (tr.Name != TierCPU && tr.Name != TierDisk) {
				t.Fatalf("%q: tier %+v", s, tr)
			}
		}
	})
}
