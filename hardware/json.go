package hardware

import "encoding/json"

// gpuJSON is the JSON form of a GPU: base units with the unit in each field name;
// null where a figure is unknown.
type gpuJSON struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name"`
	Aliases            []string `json:"aliases"`
	Vendor             string   `json:"vendor"`
	Architecture       string   `json:"architecture"`
	FormFactor         string   `json:"form_factor"`
	MemoryType         string   `json:"memory_type"`
	MemoryBytes        float64  `json:"memory_bytes"`
	UsableMemoryBytes  *float64 `json:"usable_memory_bytes"`
	UsableMemorySource string   `json:"usable_memory_source"`
	MemoryBandwidth    float64  `json:"memory_bandwidth_bytes_per_s"`
	// PeakFLOPs is dense FLOP/s (OP/s for int8) by dtype.
	PeakFLOPs map[string]float64 `json:"peak_flops"`
	L2Bytes   *float64           `json:"l2_bytes"`
	// ComputeUnits is the SM (NVIDIA) or CU (AMD) count; null when not stated.
	ComputeUnits  *float64 `json:"compute_units"`
	LinkBandwidth float64  `json:"link_bandwidth_bytes_per_s"`
	Interconnect  string   `json:"interconnect"`
	// MeshLinks is the number of point-to-point scale-up links of a full-mesh fabric
	// (omitted behind a switch).
	MeshLinks       int      `json:"scaleup_mesh_links,omitempty"`
	PCIeBandwidth   *float64 `json:"pcie_bandwidth_bytes_per_s"`
	TDPWatts        *float64 `json:"tdp_watts"`
	PriceUSDPerHour *float64 `json:"price_usd_per_hour"`
	PriceProvider   string   `json:"price_provider"`
	PriceSource     string   `json:"price_source"`
	PriceAsOf       string   `json:"price_as_of"`
	Source          string   `json:"source"`
	CrossChecked    []string `json:"cross_checked_with"`
	Confidence      string   `json:"confidence"`
	Notes           string   `json:"notes"`
	Origin          string   `json:"origin"`
	// Achievable has the keys of the peaks: gemm_flops by dtype, memory_bandwidth_bytes_per_s.
	Achievable achievableJSON `json:"achievable"`
}

// achievableJSON is the JSON form of Achievable: values with their sources.
type achievableJSON struct {
	GEMMFLOPs       map[string]float64 `json:"gemm_flops"`
	MemoryBandwidth float64            `json:"memory_bandwidth_bytes_per_s"`
	KernelLaunchS   *float64           `json:"kernel_launch_s"`
	// AllReduce lists measured all-reduces (message bytes, GPUs, bus bandwidth bytes/s, source).
	AllReduce []allReduceJSON          `json:"allreduce,omitempty"`
	Sources   map[string]ceilingSource `json:"sources"`
}

type allReduceJSON struct {
	Bytes  float64 `json:"message_bytes"`
	GPUs   int     `json:"gpus"`
	BusBW  float64 `json:"bus_bandwidth_bytes_per_s"`
	Source string  `json:"source"`
}

type ceilingSource struct {
	Fraction   float64 `json:"fraction_of_datasheet"`
	Measured   bool    `json:"measured"`
	Confidence string  `json:"confidence"`
	Source     string  `json:"source"`
	AsOf       string  `json:"as_of"`
}

// MarshalJSON writes the GPU in base units with units in the field names:
// memory_bytes, usable_memory_bytes, memory_bandwidth_bytes_per_s, peak_flops (dense
// FLOP/s by dtype), l2_bytes, link_bandwidth_bytes_per_s and pcie_bandwidth_bytes_per_s
// (per direction), tdp_watts, price_usd_per_hour. Figures the catalogue does not know
// (usable memory, L2, PCIe, TDP, price) are null; a link bandwidth of 0 means no
// scale-up link.
func (g GPU) MarshalJSON() ([]byte, error) {
	j := gpuJSON{
		ID: g.ID, Name: g.Name, Aliases: g.Aliases, Vendor: g.Vendor, Architecture: g.Architecture,
		FormFactor: g.FormFactor, MemoryType: g.MemoryType,
		MemoryBytes:        float64(g.MemoryBytes),
		UsableMemoryBytes:  orNull(float64(g.UsableMemoryBytes)),
		UsableMemorySource: g.UsableMemorySource,
		MemoryBandwidth:    float64(g.MemoryBandwidth),
		PeakFLOPs:          make(map[string]float64, len(g.PeakFLOPs)),
		L2Bytes:            orNull(float64(g.L2Bytes)),
		ComputeUnits:       orNull(float64(g.ComputeUnits)),
		LinkBandwidth:      float64(g.LinkBandwidth),
		Interconnect:       g.Interconnect,
		MeshLinks:          g.MeshLinks,
		PCIeBandwidth:      orNull(float64(g.PCIeBandwidth)),
		TDPWatts:           orNull(g.TDPWatts),
		PriceUSDPerHour:    orNull(g.PriceUSDPerHour),
		PriceProvider:      g.PriceProvider,
		PriceSource:        g.PriceSource,
		PriceAsOf:          g.PriceAsOf,
		Source:             g.Source,
		CrossChecked:       g.CrossChecked,
		Confidence:         g.Confidence,
		Notes:              g.Notes,
		Origin:             g.Origin,
	}
	if j.Aliases == nil {
		j.Aliases = []string{}
	}
	if j.CrossChecked == nil {
		j.CrossChecked = []string{}
	}
	for d, p := range g.PeakFLOPs {
		j.PeakFLOPs[d] = float64(p)
	}
	a := g.Achievable
	j.Achievable = achievableJSON{GEMMFLOPs: map[string]float64{}, MemoryBandwidth: a.MemoryBandwidth.Value,
		KernelLaunchS: orNull(a.KernelLaunch.Value), Sources: map[string]ceilingSource{}}
	src := func(c Ceiling) ceilingSource {
		return ceilingSource{Fraction: c.Fraction, Measured: c.Measured, Confidence: c.Confidence, Source: c.Source, AsOf: c.AsOf}
	}
	for d, c := range a.GEMM {
		j.Achievable.GEMMFLOPs[d] = c.Value
		j.Achievable.Sources["gemm_flops."+d] = src(c)
	}
	if a.MemoryBandwidth.Value > 0 {
		j.Achievable.Sources["memory_bandwidth_bytes_per_s"] = src(a.MemoryBandwidth)
	}
	if a.KernelLaunch.Value > 0 {
		j.Achievable.Sources["kernel_launch_s"] = src(a.KernelLaunch)
	}
	for _, p := range a.AllReduce {
		j.Achievable.AllReduce = append(j.Achievable.AllReduce, allReduceJSON{p.Bytes, p.GPUs, p.BusBW, p.Source})
	}
	return json.Marshal(j)
}

// orNull returns nil for 0 (unknown), else a pointer to v.
func orNull(v float64) *float64 {
	if v == 0 {
		return nil
	}
	return &v
}
