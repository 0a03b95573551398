package hardware

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"roofline/units"
)

func load(t testing.TB) *Catalogue {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func near(got, want float64) bool {
	return math.Abs(got-want) <= 1e-9*math.Abs(want)
}

func TestLoadEmbedded(t *testing.T) {
	c := load(t)
	// The reference catalogue has 34 accelerators; A10G is left out (no datasheet, no
	// bf16/fp16 peak), see the comment in data/gpus.toml.
	if c.Len() != 33 {
		t.Errorf("Len() = %d, want 33", c.Len())
	}
	for _, g := range c.List() {
		if g.MemoryBytes <= 0 || g.MemoryBandwidth <= 0 {
			t.Errorf("%s: memory %v, bandwidth %v: both must be positive", g.ID, g.MemoryBytes, g.MemoryBandwidth)
		}
		if g.PeakFLOPs["bf16"] <= 0 && g.PeakFLOPs["fp16"] <= 0 {
			t.Errorf("%s has neither a bf16 nor an fp16 peak", g.ID)
		}
		if g.Source == "" || g.Confidence == "" {
			t.Errorf("%s: source %q, confidence %q: every entry must carry both", g.ID, g.Source, g.Confidence)
		}
		if g.Origin != EmbeddedName {
			t.Errorf("%s: Origin %q, want %q", g.ID, g.Origin, EmbeddedName)
		}
		if g.UsableMemoryBytes > 0 && g.UsableMemorySource == "" {
			t.Errorf("%s: usable memory without a source", g.ID)
		}
		if (g.PriceUSDPerHour > 0) != (g.PriceSource != "" && g.PriceAsOf != "") {
			t.Errorf("%s: price %v with source %q as of %q: a price needs both", g.ID, g.PriceUSDPerHour, g.PriceSource, g.PriceAsOf)
		}
		for d := range g.PeakFLOPs {
			if c, err := units.CanonicalDtype(d); err != nil || c != d {
				t.Errorf("%s: peak key %q is not a canonical dtype", g.ID, d)
			}
		}
		if got, err := c.Lookup(g.ID); err != nil || got != g {
			t.Errorf("Lookup(%q) = %v, %v: every id must resolve to itself", g.ID, got, err)
		}
	}
}

// TestDatasheet spot-checks the conversion from datasheet units to base units.
func TestDatasheet(t *testing.T) {
	c := load(t)
	tests := []struct {
		gpu, what string
		got       func(*GPU) float64
		want      float64
		source    string
	}{
		{"H100 SXM", "bf16", peak("bf16"), 989.5e12, "NVIDIA H100 datasheet: BF16 1,979 TFLOPS with sparsity, halved"},
		{"H100 SXM", "fp8", peak("fp8"), 1979e12, "NVIDIA H100 datasheet: FP8 3,958 TFLOPS with sparsity, halved"},
		{"H100 SXM", "fp32", peak("fp32"), 67e12, "NVIDIA H100 datasheet: FP32 67 TFLOPS (non-tensor)"},
		{"H100 SXM", "bandwidth", bw, 3.35e12, "NVIDIA H100 datasheet: 3.35 TB/s"},
		{"H100 SXM", "memory", mem, 80e9, "NVIDIA H100 datasheet: 80 GB"},
		{"H100 SXM", "usable", usable, 85_017_493_504, "PyTorch total_memory read on an H100 SXM (driver 580, CUDA 13)"},
		{"H100 SXM", "link", link, 450e9, "NVIDIA H100 datasheet: NVLink 900 GB/s bidirectional, per direction 450 GB/s"},
		{"H100 SXM", "pcie", pcie, 64e9, "PCIe Gen5 x16: 128 GB/s bidirectional, 64 GB/s per direction"},
		{"H100 SXM", "L2", l2, 50 * 1 << 20, "NVIDIA H100 whitepaper: 50 MB L2 (cudaDeviceProp.l2CacheSize 52,428,800 bytes)"},
		{"H100 SXM", "TDP", tdp, 700, "NVIDIA H100 datasheet: up to 700 W"},
		{"H200", "bandwidth", bw, 4.8e12, "NVIDIA H200 datasheet: 4.8 TB/s"},
		{"H200", "memory", mem, 141e9, "NVIDIA H200 datasheet: 141 GB"},
		{"H200", "usable", usable, 150_109_880_320, "PyTorch total_memory read on an H200 SXM (driver 580, CUDA 13)"},
		{"H200", "bf16", peak("bf16"), 989.5e12, "NVIDIA H200 datasheet: BF16 1,979 TFLOPS with sparsity, halved"},
		{"A100 80GB", "bandwidth", bw, 2.039e12, "NVIDIA A100 datasheet: SXM 80GB 2,039 GB/s"},
		{"A100 80GB", "bf16", peak("bf16"), 312e12, "NVIDIA A100 datasheet: BF16 312 TFLOPS dense"},
		{"A100 80GB", "tf32", peak("tf32"), 156e12, "NVIDIA A100 datasheet: TF32 156 TFLOPS dense"},
		{"A100-PCIE-40GB", "bandwidth", bw, 1.555e12, "NVIDIA A100 datasheet: 40GB PCIe 1,555 GB/s"},
		{"L40S", "bf16", peak("bf16"), 362.05e12, "NVIDIA L40S datasheet: BF16 733 TFLOPS with sparsity, halved"},
		{"L40S", "link", link, 0, "L40S has no NVLink"},
		{"B200", "fp4", peak("fp4"), 9e15, "NVIDIA HGX B200: FP4 144 PFLOPS sparse for 8 GPUs = 9 PFLOPS dense per GPU"},
		{"B200", "memory", mem, 180e9, "NVIDIA HGX B200: 1.44 TB for 8 GPUs"},
		{"MI300X", "bf16", peak("bf16"), 1307.4e12, "AMD MI300X datasheet: BF16 1,307.4 TFLOPS dense"},
		{"MI300X", "memory", mem, 192e9, "AMD MI300X datasheet: 192 GB HBM3"},
		{"MI300X", "bandwidth", bw, 5.3e12, "AMD MI300X datasheet: 5.3 TB/s"},
		{"Gaudi 3", "bf16", peak("bf16"), 1835e12, "Intel Gaudi 3 (Hot Chips 2024): BF16 matrix 1,835 TFLOPS"},
		{"TPU v5e", "int8", peak("int8"), 393e12, "Google Cloud TPU v5e docs: 393 TOPS int8"},
		{"TPU v5e", "bandwidth", bw, 819e9, "Google Cloud TPU v5e docs: 819 GBps"},
		{"T4", "fp16", peak("fp16"), 65e12, "NVIDIA T4 datasheet: FP16 65 TFLOPS mixed precision"},
	}
	for _, tt := range tests {
		g, err := c.Lookup(tt.gpu)
		if err != nil {
			t.Errorf("%s: %v", tt.gpu, err)
			continue
		}
		if got := tt.got(g); !near(got, tt.want) {
			t.Errorf("%s %s = %g, want %g (%s)", tt.gpu, tt.what, got, tt.want, tt.source)
		}
	}
}

func peak(d string) func(*GPU) float64 {
	return func(g *GPU) float64 { return float64(g.PeakFLOPs[d]) }
}
func bw(g *GPU) float64     { return float64(g.MemoryBandwidth) }
func mem(g *GPU) float64    { return float64(g.MemoryBytes) }
func usable(g *GPU) float64 { return float64(g.UsableMemoryBytes) }
func link(g *GPU) float64   { return float64(g.LinkBandwidth) }
func pcie(g *GPU) float64   { return float64(g.PCIeBandwidth) }
func l2(g *GPU) float64     { return float64(g.L2Bytes) }
func tdp(g *GPU) float64    { return g.TDPWatts }

func TestUnsupportedDtype(t *testing.T) {
	g, err := load(t).Lookup("A100")
	if err != nil {
		t.Fatal(err)
	}
	// NVIDIA A100 datasheet: no FP8 tensor cores.
	_, err = g.Peak("fp8")
	if err == nil || !strings.Contains(err.Error(), "has no fp8 peak (has: bf16, fp16, fp32, int8, tf32)") {
		t.Errorf("Peak(fp8) on A100 = %v, want an error listing the dtypes it has", err)
	}
}

func TestUsable(t *testing.T) {
	c := load(t)
	for _, tt := range []struct {
		gpu  string
		want units.Bytes
	}{
		{"H100", 85_017_493_504}, // PyTorch total_memory reading (data/gpus.toml)
		{"L4", 24e9},             // no reading: the datasheet's 24 GB
	} {
		g, err := c.Lookup(tt.gpu)
		if err != nil {
			t.Fatal(err)
		}
		if got := g.Usable(); got != tt.want {
			t.Errorf("%s Usable() = %.0f, want %.0f", tt.gpu, got, tt.want)
		}
	}
}

// TestLookupAliases checks that the GPU spellings of the published measurements
// (measurements/published.csv, column gpu) and of the vLLM sim-to-real data
// (serving/vllm_sim2real_train.csv) of the reference data resolve, plus common variants.
func TestLookupAliases(t *testing.T) {
	c := load(t)
	tests := map[string]string{
		// published.csv
		"H100-SXM-80GB":                      "h100-sxm5-80gb",
		"H200-SXM-141GB":                     "h200-sxm-141gb",
		"A100-80GB (form factor not stated)": "a100-sxm4-80gb",
		"A100-80GB (variant not stated)":     "a100-sxm4-80gb",
		"A100 (variant not stated)":          "a100-sxm4-80gb",
		"H100 (variant not stated)":          "h100-sxm5-80gb",
		"H100-80GB (variant not stated)":     "h100-sxm5-80gb",
		"MI300X":                             "mi300x",
		"MI325X":                             "mi325x",
		"A100-SXM4-80GB":                     "a100-sxm4-80gb",
		"B200-SXM-180GB":                     "b200-sxm",
		"GB200-192GB":                        "gb200-per-gpu",
		"L40S-48GB":                          "l40s",
		"RTX-PRO-6000-Blackwell-Server":      "rtx-pro-6000-blackwell",
		"GH200-96GB(HBM3)":                   "gh200",
		// vllm_sim2real_train.csv
		"H100 SXM": "h100-sxm5-80gb",
		// other common spellings
		"h100":                  "h100-sxm5-80gb",
		"H100_SXM":              "h100-sxm5-80gb",
		"h100-sxm":              "h100-sxm5-80gb",
		"NVIDIA H100 80GB HBM3": "h100-sxm5-80gb", // torch.cuda.get_device_name on an H100 SXM
		"NVIDIA H200":           "h200-sxm-141gb",
		"H200 SXM":              "h200-sxm-141gb",
		"A100-SXM-80GB":         "a100-sxm4-80gb",
		"A100 80GB":             "a100-sxm4-80gb",
		"a100 80gb pcie":        "a100-pcie-80gb",
		"H100 PCIe":             "h100-pcie-80gb",
		"NVIDIA GH200 480GB":    "gh200",
		"GeForce RTX 4090":      "rtx-4090",
		"AMD Instinct MI300X":   "mi300x",
		"B200":                  "b200-sxm",
		"Gaudi3":                "gaudi3",
		"NVIDIA H100 SXM5 80GB": "h100-sxm5-80gb", // the entry's name
	}
	for name, want := range tests {
		g, err := c.Lookup(name)
		if err != nil {
			t.Errorf("Lookup(%q): %v", name, err)
			continue
		}
		if g.ID != want {
			t.Errorf("Lookup(%q) = %s, want %s", name, g.ID, want)
		}
	}
}

func TestLookupUnknown(t *testing.T) {
	c := load(t)
	tests := []struct{ name, want string }{
		{"H10", `unknown GPU "H10"; did you mean H100, H100 NVL, H100 PCIe?`},
		{"H1OO", `unknown GPU "H1OO"; did you mean H100?`},
		{"MI30", `unknown GPU "MI30"; did you mean MI300X?`},
		{"gaudi", `unknown GPU "gaudi"; did you mean Gaudi 2, Gaudi 3?`},
		{"zzzz", `unknown GPU "zzzz" (no similar id, name or alias in the catalogue)`},
		{"  ", `empty GPU name`},
	}
	for _, tt := range tests {
		_, err := c.Lookup(tt.name)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Lookup(%q) error = %v, want %s", tt.name, err, tt.want)
		}
	}
	var u *UnknownGPUError
	if _, err := c.Lookup("H10"); !errors.As(err, &u) || len(u.Suggestions) != 3 {
		t.Errorf("Lookup(H10) error %v: want an *UnknownGPUError with 3 suggestions", err)
	}
}

func TestListOrder(t *testing.T) {
	c := load(t)
	list := c.List()
	if len(list) != c.Len() {
		t.Fatalf("List has %d GPUs, Len %d", len(list), c.Len())
	}
	for i := 1; i < len(list); i++ {
		if strings.ToLower(list[i-1].Vendor) > strings.ToLower(list[i].Vendor) {
			t.Errorf("List not sorted by vendor: %s (%s) before %s (%s)", list[i-1].ID, list[i-1].Vendor, list[i].ID, list[i].Vendor)
		}
	}
	// Within NVIDIA the catalogue order holds: H100 SXM is the first NVIDIA entry.
	for _, g := range list {
		if g.Vendor == "NVIDIA" {
			if g.ID != "h100-sxm5-80gb" {
				t.Errorf("first NVIDIA GPU is %s, want h100-sxm5-80gb", g.ID)
			}
			break
		}
	}
	list[0] = nil // List returns a copy
	if c.List()[0] == nil {
		t.Error("List shares its slice with the catalogue")
	}
}

func TestOverride(t *testing.T) {
	c := load(t)
	before, _ := c.Lookup("H100")
	err := c.AddTOML("prices.toml", []byte(`
[[gpu]]
id = "H100-SXM5-80GB"   # ids compare like names
price_usd_per_hour = 2.49
price_source = "invoice"
price_as_of = "2026-06-01"
aliases = ["my-h100"]
`))
	if err != nil {
		t.Fatal(err)
	}
	g, err := c.Lookup("my h100")
	if err != nil {
		t.Fatal(err)
	}
	if g.ID != "h100-sxm5-80gb" || g.PriceUSDPerHour != 2.49 || g.PriceSource != "invoice" || g.Origin != "prices.toml" {
		t.Errorf("override gave id %q, price %v from %q, origin %q", g.ID, g.PriceUSDPerHour, g.PriceSource, g.Origin)
	}
	if g.PriceProvider != "" {
		t.Errorf("price provider %q kept from the old price: a new price replaces the whole price group", g.PriceProvider)
	}
	if g.MemoryBandwidth != 3.35e12 || g.PeakFLOPs["bf16"] != 989.5e12 {
		t.Errorf("keys not in the override changed: bandwidth %v, bf16 %v", g.MemoryBandwidth, g.PeakFLOPs["bf16"])
	}
	if _, err := c.Lookup("H100 SXM"); err == nil {
		t.Error("old alias H100 SXM still resolves after the aliases were replaced")
	}
	if before.PriceUSDPerHour != 3.78 {
		t.Errorf("override changed a GPU returned earlier: price %v", before.PriceUSDPerHour)
	}
	if c.Len() != 33 {
		t.Errorf("override changed the count to %d", c.Len())
	}

	// memory_gib replaces memory_gb; a disabled peak (0) disappears.
	err = c.AddTOML("gib.toml", []byte("[[gpu]]\nid = \"l4\"\nmemory_gib = 22.5\nfp8_tflops_dense = 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	g, _ = c.Lookup("L4")
	if g.MemoryBytes != 22.5*units.GiB {
		t.Errorf("L4 memory %v, want 22.5 GiB", g.MemoryBytes)
	}
	if _, ok := g.PeakFLOPs["fp8"]; ok {
		t.Error("fp8 peak set to 0 still listed")
	}
}

func TestAddNew(t *testing.T) {
	c := load(t)
	err := c.AddTOML("new.toml", []byte(`
[[gpu]]
id = "x1"
name = "Example X1"
aliases = ["X1 96GB"]
vendor = "Example"
memory_gib = 96
memory_bandwidth_tbps = 2.5
bf16_tflops_dense = 400
fp8_tflops_dense = 800
`))
	if err != nil {
		t.Fatal(err)
	}
	g, err := c.Lookup("x1-96gb")
	if err != nil {
		t.Fatal(err)
	}
	// 96 GiB = 96 × 2^30 = 103,079,215,104 bytes; 2.5 TB/s = 2.5e12 B/s; 400 TFLOP/s = 4e14.
	if g.MemoryBytes != 103_079_215_104 || g.MemoryBandwidth != 2.5e12 || g.PeakFLOPs["bf16"] != 4e14 || g.PeakFLOPs["fp8"] != 8e14 {
		t.Errorf("X1: memory %.0f, bandwidth %v, peaks %v", g.MemoryBytes, g.MemoryBandwidth, g.PeakFLOPs)
	}
	if c.Len() != 34 {
		t.Errorf("Len() = %d after adding one GPU, want 34", c.Len())
	}
	list := c.List()
	for i, g := range list {
		// "Example" sorts after "AMD" and before "Google".
		if g.ID == "x1" && (list[i-1].Vendor != "AMD" || list[i+1].Vendor != "Google") {
			t.Errorf("x1 of vendor Example sorts between %s and %s", list[i-1].Vendor, list[i+1].Vendor)
		}
	}
	var zero Catalogue // the zero value is an empty catalogue
	if err := zero.AddTOML("z.toml", []byte("[[gpu]]\nid='a'\nmemory_gb=1\nmemory_bandwidth_tbps=1\nfp16_tflops_dense=1\n")); err != nil || zero.Len() != 1 {
		t.Errorf("zero Catalogue AddTOML: %v, Len %d", err, zero.Len())
	}
}

func TestAddTOMLErrors(t *testing.T) {
	valid := "id = \"x1\"\nmemory_gb = 96\nmemory_bandwidth_tbps = 2.5\nbf16_tflops_dense = 400\n"
	tests := []struct{ name, doc, want string }{
		{"unknown key", "[[gpu]]\n" + valid + "memory_gbs = 3\n", `f.toml: gpu "x1" (entry 1): memory_gbs: unknown key (did you mean memory_gb, memory_gib`},
		{"unknown top key", "gpus = 1\n[[gpu]]\n" + valid, `f.toml: unknown key "gpus"`},
		{"wrong type", "[[gpu]]\n" + strings.Replace(valid, "96", `"96 GB"`, 1), `f.toml: gpu "x1" (entry 1): memory_gb: want a number, got the string "96 GB"`},
		{"wrong item type", "[[gpu]]\n" + valid + "aliases = [\"a\", 3]\n", `aliases: item 2: want a string, got the number 3`},
		{"no id", "[[gpu]]\nmemory_gb = 1\n", `f.toml: [[gpu]] entry 1: id: is required`},
		{"id not string", "[[gpu]]\nid = 7\n", `f.toml: [[gpu]] entry 1: id: want a string, got the number 7`},
		{"empty id", "[[gpu]]\nid = \" \"\n", `f.toml: gpu " " (entry 1): id: must not be empty`},
		{"no memory", "[[gpu]]\nid = \"x\"\nmemory_bandwidth_tbps = 1\nbf16_tflops_dense = 1\n", `gpu "x" (entry 1): memory_gb: is required and must be positive`},
		{"no bandwidth", "[[gpu]]\nid = \"x\"\nmemory_gb = 1\nbf16_tflops_dense = 1\n", `memory_bandwidth_tbps: is required`},
		{"no peak", "[[gpu]]\nid = \"x\"\nmemory_gb = 1\nmemory_bandwidth_tbps = 1\nfp8_tflops_dense = 1\n", `bf16_tflops_dense: a bf16 or fp16 dense peak is required`},
		{"negative", "[[gpu]]\n" + valid + "tdp_w = -5\n", `tdp_w: must not be negative`},
		{"nan", "[[gpu]]\n" + valid + "tdp_w = nan\n", `tdp_w: want a finite number`},
		{"both memories", "[[gpu]]\n" + valid + "memory_gib = 3\n", `memory_gib: set memory_gb (1e9 bytes) or memory_gib (2^30 bytes), not both`},
		{"usable in GiB", "[[gpu]]\n" + valid + "usable_memory_bytes = 79.2\n", `usable_memory_bytes: 79 bytes does not fit a card of 96 GB`},
		{"usable too big", "[[gpu]]\n" + valid + "usable_memory_bytes = 200e9\n", `usable_memory_bytes: 200000000000 bytes does not fit`},
		{"confidence", "[[gpu]]\n" + valid + "confidence = \"sure\"\n", `confidence: "sure" is not one of high, medium, low`},
		{"price date", "[[gpu]]\n" + valid + "price_as_of = \"May 2026\"\n", `price_as_of: "May 2026" is not a date YYYY-MM-DD`},
		{"toml date", "[[gpu]]\n" + valid + "price_as_of = 2026-05-07\n", `price_as_of: want a string, got a date or time (quote it)`},
		{"alias taken", "[[gpu]]\n" + valid + "aliases = [\"H100\"]\n", `f.toml: gpu "x1": alias "H100" already names gpu "h100-sxm5-80gb"`},
		{"id is an alias", "[[gpu]]\n" + strings.Replace(valid, `"x1"`, `"h100"`, 1), `f.toml: gpu "h100" (entry 1): id "h100" is a name of gpu "h100-sxm5-80gb": to override that GPU use id = "h100-sxm5-80gb"`},
		// A partial override by alias said "memory_gb: is required" (the entry was taken for
		// a new GPU): the alias is what is wrong.
		{"override by alias", "[[gpu]]\nid = \"B200\"\nfp4_tflops_dense = 4000\n", `f.toml: gpu "B200" (entry 1): id "B200" is a name of gpu "b200-sxm": to override that GPU use id = "b200-sxm"`},
		{"empty alias", "[[gpu]]\n" + valid + "aliases = [\"-\"]\n", `aliases: item 1 is empty`},
		// Figures in the wrong unit were taken as given (a 1e30 TFLOP/s B200 printed a
		// 28-digit PFLOP/s ceiling): bounds far above any accelerator catch them.
		{"peak in FLOP/s", "[[gpu]]\nid = \"b200-sxm\"\nfp4_tflops_dense = 9e15\n", `gpu "b200-sxm" (entry 1): fp4_tflops_dense: 9e+15 is above 1e+07 TFLOP/s (1e12 FLOP/s), beyond any accelerator: a figure in FLOP/s?`},
		{"memory in bytes", "[[gpu]]\n" + strings.Replace(valid, "96", "96e9", 1), `memory_gb: 9.6e+10 is above 1e+06 GB (1e9 bytes), beyond any accelerator: a figure in bytes?`},
		{"bandwidth in bytes/s", "[[gpu]]\n" + strings.Replace(valid, "2.5", "2.5e12", 1), `memory_bandwidth_tbps: 2.5e+12 is above 100000 TB/s (1e12 bytes/s)`},
		{"duplicate id", "[[gpu]]\n" + valid + "[[gpu]]\n" + valid, `f.toml: gpu "x1" (entry 2): id: "x1" already given by entry 1 of this file`},
		{"schema", "schema_version = 2\n[[gpu]]\n" + valid, `f.toml: schema_version 2 is not supported (want 1)`},
		{"empty", "", `f.toml: no [[gpu]] entries`},
		{"syntax", "[[gpu]\n", `f.toml: toml: line 2`},
		{"broken override", "[[gpu]]\nid = \"h100-sxm5-80gb\"\nmemory_bandwidth_tbps = 0\n", `gpu "h100-sxm5-80gb" (entry 1): memory_bandwidth_tbps: is required`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := load(t)
			err := c.AddTOML("f.toml", []byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %s", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
			// A failing document leaves the catalogue as it was.
			if c.Len() != 33 {
				t.Errorf("Len() = %d after a failed AddTOML, want 33", c.Len())
			}
			if g, err := c.Lookup("H100"); err != nil || g.MemoryBandwidth != 3.35e12 {
				t.Errorf("H100 changed after a failed AddTOML: %v, %v", g, err)
			}
		})
	}
}

func TestAddTOMLAtomic(t *testing.T) {
	c := load(t)
	doc := "[[gpu]]\nid = \"new1\"\nmemory_gb = 1\nmemory_bandwidth_tbps = 1\nbf16_tflops_dense = 1\n" +
		"[[gpu]]\nid = \"h100-sxm5-80gb\"\nprice_usd_per_hour = 1\n" +
		"[[gpu]]\nid = \"new2\"\nmemory_gb = -1\n"
	if err := c.AddTOML("f.toml", []byte(doc)); err == nil {
		t.Fatal("want an error for entry 3")
	}
	if _, err := c.Lookup("new1"); err == nil {
		t.Error("entry 1 of a failed document was added")
	}
	if g, _ := c.Lookup("H100"); g.PriceUSDPerHour != 3.78 {
		t.Errorf("entry 2 of a failed document changed the H100 price to %v", g.PriceUSDPerHour)
	}
}

func TestAddFile(t *testing.T) {
	c := load(t)
	err := c.AddFile("testdata/no-such-file.toml")
	if err == nil || !strings.Contains(err.Error(), "testdata/no-such-file.toml") {
		t.Errorf("AddFile of a missing file: %v, want an error naming it", err)
	}
	if err := c.AddFile("testdata/example.toml"); err != nil {
		t.Fatal(err)
	}
	g, err := c.Lookup("Example X1")
	if err != nil || g.Origin != "testdata/example.toml" {
		t.Errorf("Lookup(Example X1) = %v, %v; want the entry of testdata/example.toml", g, err)
	}
}

func TestMarshalJSON(t *testing.T) {
	c := load(t)
	for _, tt := range []struct {
		gpu   string
		check map[string]any
	}{
		// H100 SXM: datasheet figures (see TestDatasheet); usable memory from PyTorch.
		{"H100", map[string]any{"memory_bytes": 80e9, "usable_memory_bytes": 85017493504.0, "memory_bandwidth_bytes_per_s": 3.35e12,
			"link_bandwidth_bytes_per_s": 450e9, "tdp_watts": 700.0, "price_usd_per_hour": 3.78, "l2_bytes": 52428800.0}},
		// B200 has no PCIe figure; H200-style null for unknown. Its price is the median of the
		// ten on-demand offers in data/hardware/prices.csv (RunPod 6.79 USD per GPU-hour).
		{"B200", map[string]any{"usable_memory_bytes": nil, "price_usd_per_hour": 6.79, "pcie_bandwidth_bytes_per_s": nil, "l2_bytes": nil}},
		// MI355X has no public rental price at all (GPU_DATA.md, "Prices missing").
		{"MI355X", map[string]any{"price_usd_per_hour": nil}},
		// GH200 publishes no per-GPU TDP.
		{"GH200", map[string]any{"tdp_watts": nil}},
	} {
		g, _ := c.Lookup(tt.gpu)
		b, err := json.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for k, want := range tt.check {
			if got, ok := m[k]; !ok || !reflect.DeepEqual(got, want) {
				t.Errorf("%s JSON %s = %v (present %v), want %v", tt.gpu, k, got, ok, want)
			}
		}
		// A value marshals like a pointer.
		bv, _ := json.Marshal(*g)
		if string(bv) != string(b) {
			t.Errorf("%s: json of the value differs from json of the pointer", tt.gpu)
		}
	}
}

// TestProvenance: the embedded entry cites the datasheet with its confidence; an entry of a
// user file names that file and says what it does not state (it printed "(datasheet,
// confidence )" for a file with neither). An override of an embedded entry names the file too.
func TestProvenance(t *testing.T) {
	c := load(t)
	h, err := c.Lookup("H100")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Provenance(), "NVIDIA H100 SXM5 80GB (datasheet, confidence high)"; got != want {
		t.Errorf("embedded: %q, want %q", got, want)
	}
	if err := c.AddTOML("mine.toml", []byte("[[gpu]]\nid = \"x1\"\nname = \"X1\"\nmemory_gb = 80\nmemory_bandwidth_tbps = 3\nbf16_tflops_dense = 500\n")); err != nil {
		t.Fatal(err)
	}
	if err := c.AddTOML("over.toml", []byte("[[gpu]]\nid = \"h100-sxm5-80gb\"\nmemory_bandwidth_tbps = 4\n")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ id, want string }{
		{"x1", "X1 (--gpu-file mine.toml, no source given, confidence not stated)"},
		{"H100", "NVIDIA H100 SXM5 80GB (--gpu-file over.toml, confidence high)"},
	} {
		g, err := c.Lookup(tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if got := g.Provenance(); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.id, got, tc.want)
		}
	}
	// The parameter list's source of the datasheet figures.
	for _, tc := range []struct{ id, want string }{
		{"x1", "--gpu-file mine.toml: no source given (confidence not stated)"},
		{"H200", "datasheet: " + mustLookup(t, c, "H200").Source + " (confidence high)"},
	} {
		if got := mustLookup(t, c, tc.id).FiguresSource(); got != tc.want {
			t.Errorf("%s: figures source %q, want %q", tc.id, got, tc.want)
		}
	}
}

func mustLookup(t *testing.T, c *Catalogue, id string) *GPU {
	t.Helper()
	g, err := c.Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	return g
}
