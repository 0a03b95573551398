package hardware

import (
	"fmt"

	"roofline/units"
)

// GPU is one accelerator type. Every tensor-core FLOP/s figure is dense (no 2:4 sparsity).
type GPU struct {
	ID           string   // catalogue id, e.g. "h100-sxm5-80gb"
	Name         string   // vendor's name
	Aliases      []string // other names accepted by Lookup (case-insensitive)
	Vendor       string
	Architecture string
	// Chip names the die as the catalogue states it (e.g. "GH100"); parts with the same Chip
	// differ in clocks, power and memory only.
	Chip       string
	FormFactor string // e.g. "SXM5", "PCIe (dual-slot)"; "" when not stated
	MemoryType string // e.g. "HBM3", "GDDR6"; "" when not stated

	// MemoryBytes is the capacity as the vendor states it (decimal GB × 1e9 unless the
	// vendor states GiB).
	MemoryBytes units.Bytes
	// UsableMemoryBytes is what the driver/PyTorch reports as total memory on a real card
	// (the figure vLLM multiplies by gpu_memory_utilization); 0 when unknown.
	UsableMemoryBytes units.Bytes
	// UsableMemorySource says where UsableMemoryBytes was read; "" when it is unknown.
	UsableMemorySource string
	MemoryBandwidth    units.BytesPerSecond // HBM/GDDR peak, bytes/s
	// PeakFLOPs holds dense peak FLOP/s (or OP/s for int8) keyed by canonical dtype:
	// fp32 (non-tensor), tf32, bf16, fp16, fp8, int8, fp4. A missing key means unsupported.
	PeakFLOPs map[string]units.FLOPsPerSecond
	L2Bytes   units.Bytes // last-level on-chip cache (binary MB as vendors quote it); 0 when unknown
	// ComputeUnits is the number of streaming multiprocessors (NVIDIA SMs) or compute units
	// (AMD CUs) from the catalogue's sm_count / cu_count; 0 when not stated.
	ComputeUnits int
	// LinkBandwidth is the scale-up interconnect (NVLink, Infinity Fabric…) per GPU per
	// direction, bytes/s; 0 when the card has none (PCIe only).
	LinkBandwidth units.BytesPerSecond
	// Interconnect names the scale-up link, e.g. "NVLink 4 (18 links)"; "" when none.
	Interconnect string
	// MeshLinks is the number of point-to-point scale-up links per GPU when the fabric is a
	// full mesh (one link per peer: AMD Infinity Fabric on MI300X/MI325X/MI355X boards,
	// 7 links); 0 when a switch (NVSwitch) gives each GPU all of LinkBandwidth.
	MeshLinks int
	// PCIeBandwidth is the host link per direction, bytes/s; 0 when not stated.
	PCIeBandwidth units.BytesPerSecond
	TDPWatts      float64 // board power, W; 0 when not stated
	// Achievable holds what real software reaches (measured microbenchmarks from
	// data/hardware/ceilings.csv, or a rule where this GPU was not measured). Filled when
	// the GPU joins a Catalogue.
	Achievable Achievable

	PriceUSDPerHour float64 // on-demand price per GPU-hour; 0 when unknown
	PriceProvider   string  // who charges PriceUSDPerHour, e.g. "Lambda (1x H100 SXM on-demand)"
	PriceSource     string  // where the price was read
	PriceAsOf       string  // date of the price, YYYY-MM-DD

	Source       string   // datasheet URL
	CrossChecked []string // other material the figures were checked against
	Confidence   string   // high, medium, low
	Notes        string
	// PCIeGen is the host link's PCIe generation (0 when not stated).
	PCIeGen int
	// CPUGPUBandwidth is a coherent CPU–GPU link per direction (NVLink-C2C on GH200/GB200),
	// bytes/s; 0 when the host is reached over PCIe only.
	CPUGPUBandwidth units.BytesPerSecond
	// ScaleUpDomain is how many GPUs share the scale-up link (8 on an HGX/DGX board or an
	// MI300X platform, 72 in a GB200 NVL72 rack); 0 when not stated.
	ScaleUpDomain int
	// ScaleOut is the network between scale-up domains, per GPU; zero when not stated.
	ScaleOut Network
	// Origin names the catalogue file that defined (or last overrode) this entry, e.g.
	// "data/gpus.toml (embedded)" or a user file's path.
	Origin string
}

// Provenance is the one line estimate, memory, step and compare print for where the GPU's
// figures come from: "NVIDIA H100 SXM5 80GB (datasheet, confidence high)" for the embedded
// catalogue; for an entry a --gpu-file defined or overrode, that file (and "no source
// given" when it names none), and "confidence not stated" when it states none. A user's
// file was reported as "(datasheet, confidence )".
func (g *GPU) Provenance() string {
	from := "datasheet"
	if g.userFile() {
		from = "--gpu-file " + g.Origin
		if g.Source == "" {
			from += ", no source given"
		}
	}
	return fmt.Sprintf("%s (%s, confidence %s)", g.Name, from, g.confidence())
}

// FiguresSource is the source of the GPU's datasheet figures (peaks, bandwidth, links) as
// the parameter list of an estimate cites it: "datasheet: URL (confidence high)", or for a
// --gpu-file entry "--gpu-file F: URL (confidence …)" with "no source given" and "not
// stated" for what the file leaves out (it printed "datasheet:  (confidence )").
func (g *GPU) FiguresSource() string {
	src := g.Source
	if src == "" {
		src = "no source given"
	}
	if g.userFile() {
		return fmt.Sprintf("--gpu-file %s: %s (confidence %s)", g.Origin, src, g.confidence())
	}
	return fmt.Sprintf("datasheet: %s (confidence %s)", src, g.confidence())
}

// userFile reports whether a --gpu-file defined or last overrode the entry.
func (g *GPU) userFile() bool { return g.Origin != "" && g.Origin != EmbeddedName }

func (g *GPU) confidence() string {
	if g.Confidence == "" {
		return "not stated"
	}
	return g.Confidence
}

// Usable returns the memory an engine can allocate from: UsableMemoryBytes when known,
// else MemoryBytes.
func (g *GPU) Usable() units.Bytes {
	if g.UsableMemoryBytes > 0 {
		return g.UsableMemoryBytes
	}
	return g.MemoryBytes
}

// Peak returns the dense peak for a canonical dtype, or an error naming the GPU and the
// dtypes it supports.
func (g *GPU) Peak(dtype string) (units.FLOPsPerSecond, error) {
	if p, ok := g.PeakFLOPs[dtype]; ok && p > 0 {
		return p, nil
	}
	have := ""
	for _, d := range units.Dtypes() {
		if _, ok := g.PeakFLOPs[d]; ok {
			if have != "" {
				have += ", "
			}
			have += d
		}
	}
	return 0, fmt.Errorf("GPU %s has no %s peak (has: %s)", g.ID, dtype, have)
}

// Network is a scale-out network as one GPU sees it: its own NIC's line rate per direction
// and the latency of one message between nodes.
type Network struct {
	Name      string               // e.g. "InfiniBand NDR (1x ConnectX-7 400 Gb/s per GPU)"
	Bandwidth units.BytesPerSecond // per GPU per direction, bytes/s (line rate)
	Latency   units.Seconds        // one message between nodes, s
	Source    string               // where the figures were read
}

// HostLink returns the GPU's link to host (CPU) memory per direction, bytes/s, and its name:
// NVLink-C2C where the catalogue gives it, else PCIe; 0 and "" when neither is known.
func (g *GPU) HostLink() (units.BytesPerSecond, string) {
	if g.CPUGPUBandwidth > 0 {
		return g.CPUGPUBandwidth, "NVLink-C2C"
	}
	if g.PCIeBandwidth > 0 {
		if g.PCIeGen > 0 {
			return g.PCIeBandwidth, fmt.Sprintf("PCIe Gen%d x16", g.PCIeGen)
		}
		return g.PCIeBandwidth, "PCIe"
	}
	return 0, ""
}

// GroupLinkBandwidth is the scale-up bandwidth per direction one GPU can use in a collective
// over n GPUs of its scale-up domain, bytes/s. Behind a switch it is LinkBandwidth whatever
// n; in a full mesh of MeshLinks links (one per peer) the group reaches its n−1 peers over
// n−1 links, LinkBandwidth·(n−1)/MeshLinks: on MI300X (7 × 64 GB/s per direction) a pair
// has one 64 GB/s link, where rccl-tests measure 47.7 GB/s all-reduce bus bandwidth for 2
// GPUs against 319 GB/s for 8 (data/hardware/ceilings.csv). n ≤ 1 returns LinkBandwidth.
func (g *GPU) GroupLinkBandwidth(n int) units.BytesPerSecond {
	if g.MeshLinks <= 0 || n <= 1 || n-1 >= g.MeshLinks {
		return g.LinkBandwidth
	}
	return g.LinkBandwidth * units.BytesPerSecond(n-1) / units.BytesPerSecond(g.MeshLinks)
}
