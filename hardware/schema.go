package hardware

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"time"

	"roofline/units"
)

// entry is one [[gpu]] table of a catalogue file, in the file's own units. Every key a
// file may use is a field here; any other key is an error.
type entry struct {
	ID           string   `toml:"id"`
	Name         string   `toml:"name"`
	Aliases      []string `toml:"aliases"`
	Vendor       string   `toml:"vendor"`
	Architecture string   `toml:"architecture"`
	Chip         string   `toml:"chip"`
	FormFactor   string   `toml:"form_factor"`
	MemoryType   string   `toml:"memory_type"`

	MemoryGB                    float64   `toml:"memory_gb"`  // 1e9 bytes
	MemoryGiB                   float64   `toml:"memory_gib"` // 2^30 bytes
	MemoryGBVariants            []float64 `toml:"memory_gb_variants"`
	UsableMemoryBytes           float64   `toml:"usable_memory_bytes"`
	UsableMemorySource          string    `toml:"usable_memory_source"`
	MemoryBandwidthTBps         float64   `toml:"memory_bandwidth_tbps"` // 1e12 bytes/s
	MemoryBandwidthTBpsVariants []float64 `toml:"memory_bandwidth_tbps_variants"`

	FP64TFLOPs           float64 `toml:"fp64_tflops"`
	FP64TensorTFLOPs     float64 `toml:"fp64_tensor_tflops"`
	FP32TFLOPs           float64 `toml:"fp32_tflops"` // non-tensor
	FP32MatrixTFLOPs     float64 `toml:"fp32_matrix_tflops"`
	TF32TFLOPs           float64 `toml:"tf32_tflops_dense"`
	BF16TFLOPs           float64 `toml:"bf16_tflops_dense"`
	BF16VectorTFLOPs     float64 `toml:"bf16_vector_tflops"`
	FP16TFLOPs           float64 `toml:"fp16_tflops_dense"`
	FP16FP16AccTFLOPs    float64 `toml:"fp16_fp16acc_tflops_dense"`
	FP8TFLOPs            float64 `toml:"fp8_tflops_dense"`
	FP8FP16AccTFLOPs     float64 `toml:"fp8_fp16acc_tflops_dense"`
	INT8TOPs             float64 `toml:"int8_tops_dense"`
	INT4TOPs             float64 `toml:"int4_tops_dense"`
	FP6TFLOPs            float64 `toml:"fp6_tflops_dense"`
	FP4TFLOPs            float64 `toml:"fp4_tflops_dense"`
	DatasheetListsSparse bool    `toml:"datasheet_lists_sparse"`

	L2CacheMB       float64 `toml:"l2_cache_mb"` // binary MB (MiB)
	InfinityCacheMB float64 `toml:"infinity_cache_mb"`
	SRAMMB          float64 `toml:"sram_mb"`
	SMCount         int     `toml:"sm_count"`
	CUCount         int     `toml:"cu_count"`
	BoostClockMHz   float64 `toml:"boost_clock_mhz"`

	ScaleupInterconnect string  `toml:"scaleup_interconnect"`
	ScaleupBWGBsBidir   float64 `toml:"scaleup_bw_gb_s_bidir"` // 1e9 bytes/s, both directions
	// ScaleupMeshLinks > 0: the scale-up fabric is a full mesh of this many point-to-point
	// links per GPU, one per peer (AMD Infinity Fabric on MI300-series boards), sharing
	// scaleup_bw_gb_s_bidir equally; 0: a switch gives every GPU its whole link bandwidth.
	ScaleupMeshLinks int     `toml:"scaleup_mesh_links"`
	CPUGPUBWGBsBidir float64 `toml:"cpu_gpu_bw_gb_s_bidir"`
	PCIeGen          int     `toml:"pcie_gen"`
	PCIeBWGBsBidir   float64 `toml:"pcie_bw_gb_s_bidir"`
	TDPW             float64 `toml:"tdp_w"`
	TDPNote          string  `toml:"tdp_note"`
	ReleaseYear      int     `toml:"release_year"`

	SourceURL         string   `toml:"source_url"`
	CrossCheckedWith  []string `toml:"cross_checked_with"`
	Confidence        string   `toml:"confidence"`
	Notes             string   `toml:"notes"`
	PriceUSDPerHour   float64  `toml:"price_usd_per_hour"`
	PriceProvider     string   `toml:"price_provider"`
	PriceSource       string   `toml:"price_source"`
	PriceAsOf         string   `toml:"price_as_of"`
	PriceAlternatives []string `toml:"price_alternatives"`

	// Topology (optional): the scale-up domain a GPU sits in and its scale-out network.
	ScaleupDomainGPUs   int     `toml:"scaleup_domain_gpus"`      // GPUs sharing the scale-up link (8 HGX, 72 NVL72)
	ScaleoutNetwork     string  `toml:"scaleout_network"`         // e.g. "InfiniBand NDR, 1x ConnectX-7 400 Gb/s per GPU"
	ScaleoutBWGBsPerGPU float64 `toml:"scaleout_bw_gb_s_per_gpu"` // 1e9 bytes/s per direction per GPU (line rate)
	ScaleoutLatencyUs   float64 `toml:"scaleout_latency_us"`      // one inter-node message, µs
	ScaleoutSource      string  `toml:"scaleout_source"`
}

// entryFields maps each allowed key to its field index in entry.
var entryFields = func() map[string]int {
	t := reflect.TypeFor[entry]()
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		m[t.Field(i).Tag.Get("toml")] = i
	}
	return m
}()

// entryKeys lists the allowed keys, sorted.
func entryKeys() []string {
	keys := make([]string, 0, len(entryFields))
	for k := range entryFields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// fieldError is a problem with one key of one entry.
type fieldError struct {
	key string
	msg string
}

func (e *fieldError) Error() string { return e.key + ": " + e.msg }

// decodeEntry fills an entry from the keys of a decoded [[gpu]] table. Unknown keys and
// values of the wrong type are errors naming the key; keys are checked in sorted order so
// the first error reported is stable.
func decodeEntry(raw map[string]any) (*entry, error) {
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var e entry
	v := reflect.ValueOf(&e).Elem()
	for _, k := range keys {
		i, ok := entryFields[k]
		if !ok {
			msg := "unknown key"
			if s := closest(k, entryKeys(), 3); len(s) > 0 {
				msg += " (did you mean " + strings.Join(s, ", ") + "?)"
			}
			return nil, &fieldError{k, msg}
		}
		if err := setField(v.Field(i), raw[k]); err != nil {
			return nil, &fieldError{k, err.Error()}
		}
	}
	return &e, nil
}

// setField stores a decoded TOML value in a string, bool, int, float64, []string or
// []float64 field.
func setField(f reflect.Value, val any) error {
	switch f.Kind() {
	case reflect.String:
		s, ok := val.(string)
		if !ok {
			return fmt.Errorf("want a string, got %s", tomlType(val))
		}
		f.SetString(s)
	case reflect.Bool:
		b, ok := val.(bool)
		if !ok {
			return fmt.Errorf("want true or false, got %s", tomlType(val))
		}
		f.SetBool(b)
	case reflect.Int:
		n, ok := val.(int64)
		if !ok {
			return fmt.Errorf("want an integer, got %s", tomlType(val))
		}
		f.SetInt(n)
	case reflect.Float64:
		x, err := number(val)
		if err != nil {
			return err
		}
		f.SetFloat(x)
	case reflect.Slice:
		list, ok := val.([]any)
		if !ok {
			return fmt.Errorf("want an array, got %s", tomlType(val))
		}
		out := reflect.MakeSlice(f.Type(), len(list), len(list))
		for i, item := range list {
			if err := setField(out.Index(i), item); err != nil {
				return fmt.Errorf("item %d: %w", i+1, err)
			}
		}
		f.Set(out)
	default:
		panic("hardware: unsupported field kind " + f.Kind().String())
	}
	return nil
}

// number accepts a TOML integer or float that is finite.
func number(val any) (float64, error) {
	var x float64
	switch n := val.(type) {
	case int64:
		x = float64(n)
	case float64:
		x = n
	default:
		return 0, fmt.Errorf("want a number, got %s", tomlType(val))
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, fmt.Errorf("want a finite number, got %v", x)
	}
	return x, nil
}

// tomlType describes a decoded value for an error message.
func tomlType(val any) string {
	switch v := val.(type) {
	case string:
		return fmt.Sprintf("the string %q", v)
	case int64, float64:
		return fmt.Sprintf("the number %v", v)
	case bool:
		return fmt.Sprintf("%v", v)
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	case time.Time: // every TOML date and time decodes to a time.Time
		return "a date or time (quote it)"
	default:
		return fmt.Sprintf("a %T", v)
	}
}

var confidences = []string{"high", "medium", "low"}

// gpu validates the entry and converts it to base units: TFLOP/s × 1e12, GB × 1e9,
// GiB × 2^30, TB/s × 1e12, MB of cache × 2^20, link and PCIe "GB/s bidirectional" halved
// to bytes/s per direction.
func (e *entry) gpu() (*GPU, error) {
	if err := e.check(); err != nil {
		return nil, err
	}
	mem := units.Bytes(e.MemoryGB) * units.GB
	if e.MemoryGiB > 0 {
		mem = units.Bytes(e.MemoryGiB) * units.GiB
	}
	g := &GPU{
		ID: e.ID, Name: e.Name, Aliases: append([]string(nil), e.Aliases...),
		Vendor: e.Vendor, Architecture: e.Architecture, Chip: e.Chip, FormFactor: e.FormFactor, MemoryType: e.MemoryType,
		MemoryBytes:        mem,
		UsableMemoryBytes:  units.Bytes(e.UsableMemoryBytes),
		UsableMemorySource: e.UsableMemorySource,
		MemoryBandwidth:    units.BytesPerSecond(e.MemoryBandwidthTBps * 1e12),
		PeakFLOPs:          map[string]units.FLOPsPerSecond{},
		L2Bytes:            units.Bytes(e.L2CacheMB) * units.MiB,
		ComputeUnits:       max(e.SMCount, e.CUCount),
		LinkBandwidth:      units.BytesPerSecond(e.ScaleupBWGBsBidir / 2 * 1e9),
		Interconnect:       e.ScaleupInterconnect,
		MeshLinks:          e.ScaleupMeshLinks,
		PCIeBandwidth:      units.BytesPerSecond(e.PCIeBWGBsBidir / 2 * 1e9),
		TDPWatts:           e.TDPW,
		PriceUSDPerHour:    e.PriceUSDPerHour,
		PriceProvider:      e.PriceProvider,
		PriceSource:        e.PriceSource,
		PriceAsOf:          e.PriceAsOf,
		Source:             e.SourceURL,
		CrossChecked:       append([]string(nil), e.CrossCheckedWith...),
		Confidence:         e.Confidence,
		Notes:              e.Notes,
		PCIeGen:            e.PCIeGen,
		CPUGPUBandwidth:    units.BytesPerSecond(e.CPUGPUBWGBsBidir / 2 * 1e9),
		ScaleUpDomain:      e.ScaleupDomainGPUs,
		ScaleOut: Network{Name: e.ScaleoutNetwork, Bandwidth: units.BytesPerSecond(e.ScaleoutBWGBsPerGPU * 1e9),
			Latency: units.Seconds(e.ScaleoutLatencyUs * 1e-6), Source: e.ScaleoutSource},
	}
	if g.Name == "" {
		g.Name = g.ID
	}
	for dtype, tflops := range map[string]float64{
		"fp32": e.FP32TFLOPs, "tf32": e.TF32TFLOPs, "bf16": e.BF16TFLOPs, "fp16": e.FP16TFLOPs,
		"fp8": e.FP8TFLOPs, "int8": e.INT8TOPs, "fp4": e.FP4TFLOPs,
	} {
		if tflops > 0 {
			g.PeakFLOPs[dtype] = units.FLOPsPerSecond(tflops * 1e12)
		}
	}
	return g, nil
}

// Bounds of check: 10 EFLOP/s dense per device, 1 PB of memory, 100 PB/s of bandwidth.
const (
	maxTFLOPs        = 1e7
	maxMemoryGB      = 1e6
	maxBandwidthTBps = 1e5
)

// check validates an entry; errors name the key.
func (e *entry) check() error {
	if strings.TrimSpace(e.ID) == "" {
		return &fieldError{"id", "must not be empty"}
	}
	// Every number of the schema is a size, rate, count or price: none may be negative.
	v := reflect.ValueOf(e).Elem()
	t := v.Type()
	for i := range t.NumField() {
		key := t.Field(i).Tag.Get("toml")
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Float64, reflect.Int:
			var x float64
			if f.Kind() == reflect.Int {
				x = float64(f.Int())
			} else {
				x = f.Float()
			}
			if x < 0 {
				return &fieldError{key, fmt.Sprintf("must not be negative, got %v", x)}
			}
		case reflect.Slice:
			if f.Type().Elem().Kind() == reflect.Float64 {
				for j := range f.Len() {
					if f.Index(j).Float() < 0 {
						return &fieldError{key, fmt.Sprintf("item %d must not be negative", j+1)}
					}
				}
			}
		}
	}
	switch {
	case e.MemoryGB > 0 && e.MemoryGiB > 0:
		return &fieldError{"memory_gib", "set memory_gb (1e9 bytes) or memory_gib (2^30 bytes), not both (set the other to 0)"}
	case e.MemoryGB == 0 && e.MemoryGiB == 0:
		return &fieldError{"memory_gb", "is required and must be positive (GB = 1e9 bytes; or give memory_gib)"}
	}
	if e.MemoryBandwidthTBps == 0 {
		return &fieldError{"memory_bandwidth_tbps", "is required and must be positive (TB/s = 1e12 bytes/s)"}
	}
	if e.BF16TFLOPs == 0 && e.FP16TFLOPs == 0 {
		return &fieldError{"bf16_tflops_dense", "a bf16 or fp16 dense peak is required (set bf16_tflops_dense or fp16_tflops_dense, TFLOP/s)"}
	}
	// Upper bounds that catch a figure in the wrong unit (FLOP/s for TFLOP/s, bytes for GB,
	// bytes/s for TB/s), far above any accelerator: the largest catalogued dense peak is
	// GB300's 15,000 TFLOP/s FP4, the largest memory 288 GB, the fastest HBM 8 TB/s; a
	// wafer-scale part (Cerebras WSE-3: 125 PFLOP/s, 21 PB/s on-chip) stays inside them.
	for _, b := range []struct {
		key       string
		v, max    float64
		unit, was string
	}{
		{"fp32_tflops", e.FP32TFLOPs, maxTFLOPs, "TFLOP/s (1e12 FLOP/s)", "FLOP/s"},
		{"tf32_tflops_dense", e.TF32TFLOPs, maxTFLOPs, "TFLOP/s (1e12 FLOP/s)", "FLOP/s"},
		{"bf16_tflops_dense", e.BF16TFLOPs, maxTFLOPs, "TFLOP/s (1e12 FLOP/s)", "FLOP/s"},
		{"fp16_tflops_dense", e.FP16TFLOPs, maxTFLOPs, "TFLOP/s (1e12 FLOP/s)", "FLOP/s"},
		{"fp8_tflops_dense", e.FP8TFLOPs, maxTFLOPs, "TFLOP/s (1e12 FLOP/s)", "FLOP/s"},
		{"int8_tops_dense", e.INT8TOPs, maxTFLOPs, "TOP/s (1e12 op/s)", "op/s"},
		{"fp4_tflops_dense", e.FP4TFLOPs, maxTFLOPs, "TFLOP/s (1e12 FLOP/s)", "FLOP/s"},
		{"memory_gb", e.MemoryGB, maxMemoryGB, "GB (1e9 bytes)", "bytes"},
		{"memory_gib", e.MemoryGiB, maxMemoryGB, "GiB (2^30 bytes)", "bytes"},
		{"memory_bandwidth_tbps", e.MemoryBandwidthTBps, maxBandwidthTBps, "TB/s (1e12 bytes/s)", "bytes/s or GB/s"},
	} {
		if b.v > b.max {
			return &fieldError{b.key, fmt.Sprintf("%g is above %g %s, beyond any accelerator: a figure in %s?", b.v, b.max, b.unit, b.was)}
		}
	}
	if u := e.UsableMemoryBytes; u > 0 {
		// The driver reports a little less than the vendor's figure read as GiB (H100
		// "80 GB": 85,017,493,504 bytes < 80 × 2^30). Outside [0.5, 1] × that, the value
		// was most likely given in GB or GiB instead of bytes.
		vendor := (e.MemoryGB + e.MemoryGiB) * float64(units.GiB) // only one of the two is set
		if u < 0.5*vendor || u > vendor {
			return &fieldError{"usable_memory_bytes", fmt.Sprintf("%.0f bytes does not fit a card of %v GB: give the reading in bytes, e.g. 85_017_493_504", u, e.MemoryGB+e.MemoryGiB)}
		}
	}
	if e.Confidence != "" && !contains(confidences, e.Confidence) {
		return &fieldError{"confidence", fmt.Sprintf("%q is not one of %s", e.Confidence, strings.Join(confidences, ", "))}
	}
	if e.PriceAsOf != "" {
		if _, err := time.Parse(time.DateOnly, e.PriceAsOf); err != nil {
			return &fieldError{"price_as_of", fmt.Sprintf("%q is not a date YYYY-MM-DD", e.PriceAsOf)}
		}
	}
	for i, a := range e.Aliases {
		if norm(a) == "" {
			return &fieldError{"aliases", fmt.Sprintf("item %d is empty", i+1)}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
