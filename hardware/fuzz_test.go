package hardware

import (
	"strings"
	"testing"
)

// FuzzAddTOML feeds arbitrary documents to AddTOML: it must never panic, and whatever it
// accepts must leave a valid catalogue in which every id resolves.
func FuzzAddTOML(f *testing.F) {
	seeds := []string{
		// a valid new entry
		"[[gpu]]\nid = \"x1\"\nname = \"X1\"\naliases = [\"x-one\"]\nmemory_gb = 96\nmemory_bandwidth_tbps = 2.5\nbf16_tflops_dense = 400\nl2_cache_mb = 40\nscaleup_bw_gb_s_bidir = 900\n",
		// a valid override
		"[[gpu]]\nid = \"h100-sxm5-80gb\"\nprice_usd_per_hour = 2.0\nprice_as_of = \"2026-01-01\"\n",
		// broken ones
		"",
		"[[gpu]",
		"[[gpu]]\n",
		"[[gpu]]\nid = 3\n",
		"[[gpu]]\nid = \"a\"\nmemory_gb = \"80 GB\"\n",
		"[[gpu]]\nid = \"a\"\nmemory_gb = nan\nmemory_bandwidth_tbps = inf\nbf16_tflops_dense = -1\n",
		"[[gpu]]\nid = \"a\"\naliases = [[1, 2], {x = 1}]\n",
		"[[gpu]]\nid = \"a\"\nmemory_gb = 1\nmemory_bandwidth_tbps = 1\nfp16_tflops_dense = 1\naliases = [\"H100\"]\n",
		"[[gpu]]\nid = \"a\"\nmemory_gb = 1e308\nmemory_bandwidth_tbps = 1e308\nbf16_tflops_dense = 1e308\nusable_memory_bytes = 1e308\n",
		"[gpu]\nid = \"a\"\n",
		"gpu = [1, 2]\n",
		"schema_version = \"1\"\n[[gpu]]\nid = \"a\"\n",
		"[[gpu]]\nid = \"a\"\nprice_as_of = 2026-05-07T10:00:00Z\n",
		"[[gpu]]\nid = \"a\"\n[gpu.nested]\nx = 1\n",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	base, err := Load()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		c := *base // AddTOML replaces c's fields without touching base's
		err := c.AddTOML("fuzz.toml", []byte(doc))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.toml: ") {
				t.Errorf("error does not name the file: %v", err)
			}
			if c.Len() != base.Len() {
				t.Errorf("failed AddTOML changed Len from %d to %d", base.Len(), c.Len())
			}
			return
		}
		for _, g := range c.List() {
			if !(g.MemoryBytes > 0) || !(g.MemoryBandwidth > 0) || !(g.PeakFLOPs["bf16"] > 0 || g.PeakFLOPs["fp16"] > 0) {
				t.Errorf("accepted invalid GPU %q: memory %v, bandwidth %v, peaks %v", g.ID, g.MemoryBytes, g.MemoryBandwidth, g.PeakFLOPs)
			}
			if got, err := c.Lookup(g.ID); err != nil || got != g {
				t.Errorf("Lookup(%q) = %v, %v", g.ID, got, err)
			}
		}
	})
}
