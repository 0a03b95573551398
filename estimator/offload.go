package estimator

import (
	"fmt"
	"math"
	"strings"

	"roofline/units"
)

// Offload tiers below HBM.
const (
	TierCPU  = "cpu"  // host DRAM over PCIe or NVLink-C2C
	TierDisk = "disk" // local NVMe SSD
)

// Tier defaults. Host link: vLLM's OffloadingConnector reaches about 50 GB/s in one
// direction on an H100 (PCIe Gen5 x16, 64 GB/s per direction): η = 0.78 (vLLM blog; in-sample
// for that row). Disk: one PCIe Gen4 NVMe drive per node reads about 7 GB/s sequentially
// (Samsung PM1733 datasheet: 7,000 MB/s); per-transfer latencies are a DMA setup (50 µs) and
// an NVMe read (100 µs, datasheet random-read latency order).
const (
	hostLinkEfficiency = 0.78
	hostLatency        = 50e-6
	diskBandwidth      = 7e9
	diskLatency        = 100e-6
)

// Largest offload tiers a server holds, bytes per GPU of the replica: a two-socket node of
// 8 GPUs holds at most 12 TB of DDR5 (AMD EPYC 9004: 6 TB per socket, AMD datasheet), 1.5 TB
// per GPU; 24 U.2 NVMe drives of 30.72 TB (the largest Samsung PM1733 of the datasheet
// above) hold 737.28 TB per node, 92.16 TB per GPU. Larger tiers describe no real server.
const (
	MaxHostTierBytesPerGPU = 1.5e12
	MaxDiskTierBytesPerGPU = 24 * 30.72e12 / 8
)

// OffloadTier is one tier that holds KV evicted from HBM.
type OffloadTier struct {
	Name      string      // cpu or disk
	Capacity  units.Bytes // per replica (model copy), bytes
	Bandwidth float64     // load bandwidth into one GPU, bytes/s (after efficiency)
	Latency   float64     // fixed cost of one load, s
	Source    string
}

// Offload describes KV-cache offloading and the prefix reuse it serves. The zero value with
// Prefixes ≤ 1 is today's model: the shared prefix (Workload.PrefixLen) always hits HBM.
type Offload struct {
	// Tiers below HBM, fastest first (empty = HBM only: the baseline).
	Tiers []OffloadTier
	// Prefixes is the number of distinct reusable prefixes of Workload.PrefixLen tokens that
	// requests pick uniformly (a multi-turn conversation's history is one); 0 or 1 = one.
	Prefixes int
}

// ParseOffload reads "cpu:SIZE[,disk:SIZE]" (SIZE with a unit: 200GB, 1.5TiB).
func ParseOffload(text string) ([]OffloadTier, error) {
	var out []OffloadTier
	for _, part := range strings.Split(text, ",") {
		name, size, ok := strings.Cut(strings.TrimSpace(part), ":")
		name = strings.ToLower(name)
		if !ok || (name != TierCPU && name != TierDisk) {
			return nil, fmt.Errorf("--kv-offload %q: want cpu:SIZE[,disk:SIZE], e.g. cpu:200GB,disk:2TB", text)
		}
		var b units.Bytes
		// A bare number would be read as bytes ("cpu:500": a 500-byte tier), not the GB meant.
		unitless := strings.TrimRight(strings.TrimSpace(size), "0123456789.eE+-") == ""
		if err := b.UnmarshalText([]byte(size)); err != nil || b <= 0 || unitless {
			return nil, fmt.Errorf("--kv-offload %q: %s size %q: want a positive size with a unit (GB, GiB, TB)", text, name, size)
		}
		for _, t := range out {
			if t.Name == name {
				return nil, fmt.Errorf("--kv-offload %q: tier %s given twice", text, name)
			}
		}
		out = append(out, OffloadTier{Name: name, Capacity: b})
	}
	return out, nil
}

// ResolveTiers fills each tier's bandwidth and latency from the catalogue: the CPU tier
// loads over the GPU's host link (NVLink-C2C where the catalogue gives it, else PCIe), each
// GPU of a replica its own KV shard in parallel; the disk tier reads one NVMe drive per node
// shared by the GPUs of the replica. A tier larger than a server holds for the replica's
// tp·pp GPUs (MaxHostTierBytesPerGPU, MaxDiskTierBytesPerGPU) is an error naming the flag.
func (d *Deployment) ResolveTiers(tiers []OffloadTier) ([]OffloadTier, error) {
	out := append([]OffloadTier(nil), tiers...)
	for i := range out {
		t := &out[i]
		gpus := d.TP * d.PP
		limit := MaxHostTierBytesPerGPU
		if t.Name == TierDisk {
			limit = MaxDiskTierBytesPerGPU
		}
		if float64(t.Capacity) > limit*float64(gpus) {
			return nil, fmt.Errorf("--kv-offload %s:%.3gTB: allowed values are up to %.3gTB per replica of %d GPU(s) (%.3gTB per GPU; larger describes no real server)",
				t.Name, float64(t.Capacity)/1e12, limit*float64(gpus)/1e12, gpus, limit/1e12)
		}
		switch t.Name {
		case TierCPU:
			bw, name := d.GPU.HostLink()
			if bw == 0 {
				return nil, fmt.Errorf("--kv-offload cpu: the catalogue gives no PCIe or NVLink-C2C bandwidth for %s", d.GPU.ID)
			}
			t.Bandwidth = float64(bw) * hostLinkEfficiency
			t.Latency = hostLatency
			t.Source = fmt.Sprintf("%s %s per direction (catalogue) × η %.2g (vLLM OffloadingConnector on H100)", name, bw, hostLinkEfficiency)
		case TierDisk:
			t.Bandwidth = diskBandwidth / float64(d.TP*d.PP)
			t.Latency = diskLatency
			t.Source = "one PCIe Gen4 NVMe drive per node, 7 GB/s (Samsung PM1733 datasheet), shared by the replica's GPUs"
		default:
			return nil, fmt.Errorf("offload tier %q: allowed values are cpu, disk", t.Name)
		}
	}
	return out, nil
}

// TierHits is where the prefix of a request is found, as fractions of requests.
type TierHits struct {
	HBM, CPU, Disk, Miss float64
	// LoadS is the mean time to load a request's prefix from the tier that holds it, s.
	LoadS float64
	// WorkingSetBytes is the KV of all distinct prefixes (per GPU).
	WorkingSetBytes float64
}

// PrefixHits places the working set of P distinct prefixes of L tokens (per-GPU KV bytes B per
// token: W = P·L·B) in the tiers by recency: with uniform picks an LRU cache of capacity C holds
// a fraction min(1, C/W) of the prefixes, so tier i serves min(1, ΣC_{≤i}/W) − min(1, ΣC_{<i}/W)
// of requests and the rest miss (recomputed). A hit in a lower tier loads L·B bytes at the
// tier's bandwidth plus its latency. hbmFree is the HBM left for idle prefixes, bytes per GPU.
func PrefixHits(prefixes, prefixLen int, bytesPerToken, hbmFree float64, tiers []OffloadTier, gpus int) TierHits {
	var h TierHits
	if prefixLen <= 0 {
		return h
	}
	per := float64(prefixLen) * bytesPerToken
	W := float64(max(prefixes, 1)) * per
	h.WorkingSetBytes = W
	cum := math.Max(hbmFree, 0)
	if prefixes <= 1 {
		cum = math.Max(cum, per) // one shared prefix always stays resident
	}
	frac := func(c float64) float64 { return math.Min(1, c/W) }
	h.HBM = frac(cum)
	for _, t := range tiers {
		prev := frac(cum)
		cum += float64(t.Capacity) / float64(max(gpus, 1))
		f := frac(cum) - prev
		switch t.Name {
		case TierCPU:
			h.CPU += f
		case TierDisk:
			h.Disk += f
		}
		if f > 0 {
			h.LoadS += f * (t.Latency + per/t.Bandwidth)
		}
	}
	h.Miss = math.Max(0, 1-frac(cum))
	return h
}

// offloadHits evaluates PrefixHits for the deployment's Offload at a running batch of b
// sequences per lane: the HBM left for idle prefixes is the KV cache less the running
// sequences' KV.
func (d *Deployment) offloadHits(w *Workload, mem Memory, b float64) TierHits {
	o := d.Offload
	kvPerTok := float64(d.KVBytesPerToken())
	running := b * float64(d.PP) * (w.meanInput() + w.meanOutput()/2) * kvPerTok
	free := float64(mem.KVCacheBytes) - running
	return PrefixHits(o.Prefixes, w.PrefixLen, kvPerTok, free, o.Tiers, d.TP*d.PP)
}

// OffloadHits reports, for a workload, where the prefixes are found at the operating point of
// the closed form, or false without an Offload.
func (d *Deployment) OffloadHits(w Workload, s Serving) (TierHits, bool) {
	if d.Offload == nil {
		return TierHits{}, false
	}
	if err := w.Validate(); err != nil {
		return TierHits{}, false
	}
	return d.offloadHits(&w, d.Memory(), s.Batch), true
}

// applyOffload sets the closed form's prompt tokens to compute and prefix load time from the
// tier hits at the workload's nominal running batch (its concurrency per lane, else the cap).
func (d *Deployment) applyOffload(c *cf, w *Workload, mem Memory, lanes float64) {
	b := c.bmax
	if w.Kind == Concurrency {
		b = math.Min(b, float64(w.Concurrency)/lanes)
	}
	h := d.offloadHits(w, mem, b)
	c.in = math.Max(1, c.inTotal-float64(w.PrefixLen)*(1-h.Miss))
	c.loadS = h.LoadS
	if len(d.Offload.Tiers) > 0 {
		// Every newly computed KV block is also written to the first tier (vLLM's KV
		// connector saves each layer after the forward pass; LMCache with vLLM 0.10 does
		// it synchronously): c.in tokens × KV bytes per token per GPU over the host link.
		c.storeS = c.in * float64(d.KVBytesPerToken()) / d.Offload.Tiers[0].Bandwidth
	}
}

// WithPrefixes is d serving requests that pick uniformly among n reusable prefixes of
// Workload.PrefixLen tokens (multi-turn histories) with no offload tier: the baseline a
// technique is compared with. n ≤ 1 is d itself.
func (d *Deployment) WithPrefixes(n int) (*Deployment, error) {
	if n <= 1 {
		return d, nil
	}
	s := d.Spec
	s.Offload = &Offload{Prefixes: n}
	return New(s)
}
