package hardware

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"roofline/units"
)

// WriteTable prints one line per GPU: id, vendor, memory (GB as marketed), bandwidth
// (B/s), dense BF16 and FP8 peaks (FLOP/s), scale-up link per direction, TDP (W) and the
// on-demand price (USD per GPU-hour); "-" marks a value the catalogue does not know.
// It returns the first write error.
func WriteTable(w io.Writer, gpus []*GPU) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tVENDOR\tMEMORY\tBANDWIDTH\tBF16 DENSE\tFP8 DENSE\tLINK/DIR\tTDP\tPRICE")
	for _, g := range gpus {
		bf16 := g.PeakFLOPs["bf16"]
		if bf16 == 0 {
			bf16 = g.PeakFLOPs["fp16"] // V100, T4: fp16 tensor cores only
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g.ID, g.Vendor, g.MemoryBytes, g.MemoryBandwidth,
			gpuDash(float64(bf16), bf16.String()), gpuDash(float64(g.PeakFLOPs["fp8"]), g.PeakFLOPs["fp8"].String()),
			gpuDash(float64(g.LinkBandwidth), g.LinkBandwidth.String()), gpuDash(g.TDPWatts, units.Sig(g.TDPWatts)+" W"),
			gpuDash(g.PriceUSDPerHour, units.Sig(g.PriceUSDPerHour)+" USD/h"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d GPUs. FLOP/s are dense peaks (no 2:4 sparsity); BF16 DENSE shows the fp16 peak where a GPU has no bf16.\n"+
		"LINK/DIR is the scale-up link per direction; PRICE is on-demand per GPU-hour (source and date: roofline gpus show ID).\n", len(gpus))
	return err
}

// gpuPeakOrder is the order in which WriteGPU prints peaks.
var gpuPeakOrder = []struct{ dtype, label string }{
	{"fp32", "fp32 (non-tensor)"}, {"tf32", "tf32 dense"}, {"bf16", "bf16 dense"}, {"fp16", "fp16 dense"},
	{"fp8", "fp8 dense"}, {"int8", "int8 dense"}, {"fp4", "fp4 dense"},
}

// WriteGPU prints every field of one GPU with its unit and source: memory (GB and GiB),
// achievable ceilings beside the datasheet peaks, kernel launch (µs), prices per offering
// (USD per GPU-hour, from SelectPrice) and the power cost at TDP (PowerPrice). It returns
// the first write error.
func WriteGPU(w io.Writer, g *GPU) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("id", g.ID)
	row("name", g.Name)
	row("aliases", strings.Join(g.Aliases, ", "))
	row("vendor", gpuJoin(" ", g.Vendor, gpuParen(g.Architecture)))
	row("form factor", g.FormFactor)
	row("memory", gpuJoin(" ", g.MemoryBytes.String(), gpuParen(g.MemoryBytes.GiBString()), g.MemoryType, "as marketed"))
	if g.UsableMemoryBytes > 0 {
		note := ""
		if g.UsableMemoryBytes > g.MemoryBytes {
			// "80 GB" HBM is 80 GiB: the driver reports more bytes than the marketed figure.
			note = fmt.Sprintf("; more than the marketed %s because vendors count HBM in binary units (%s GiB = %s)",
				g.MemoryBytes, units.Sig(float64(g.MemoryBytes)/1e9), units.Bytes(float64(g.MemoryBytes)/1e9*float64(units.GiB)))
		}
		row("usable memory", fmt.Sprintf("%s (%s, %.0f bytes): %s%s", g.UsableMemoryBytes, g.UsableMemoryBytes.GiBString(), float64(g.UsableMemoryBytes), g.UsableMemorySource, note))
	} else {
		row("usable memory", "unknown (engines plan with the stated memory)")
	}
	ach := func(c Ceiling, s string) string {
		if c.Value == 0 {
			return ""
		}
		kind := "measured"
		if !c.Measured {
			kind = "lower confidence"
		}
		return fmt.Sprintf("  | achievable %s (%.0f%%, %s: %s)", s, 100*c.Fraction, kind, c.Source)
	}
	row("memory bandwidth", g.MemoryBandwidth.String()+ach(g.Achievable.MemoryBandwidth, units.BytesPerSecond(g.Achievable.MemoryBandwidth.Value).String()))
	for _, p := range gpuPeakOrder {
		v, ok := g.PeakFLOPs[p.dtype]
		if !ok {
			continue
		}
		c := g.Achievable.GEMM[p.dtype]
		s, a := v.String(), units.FLOPsPerSecond(c.Value).String()
		if p.dtype == "int8" {
			s = strings.TrimSuffix(s, "FLOP/s") + "OP/s"
			a = strings.TrimSuffix(a, "FLOP/s") + "OP/s"
		}
		row("peak "+p.label, s+ach(c, a))
		// Older dated measurements: what an engine profile with ceilings_as_of before the best
		// one is priced with (Achievable.GEMMAsOf), so estimate's era figure can be traced here.
		var dated []Ceiling
		for _, m := range g.Achievable.GEMMMeasured[p.dtype] {
			if m.AsOf != "" && m.Value < c.Value {
				dated = append(dated, m)
			}
		}
		sort.SliceStable(dated, func(i, j int) bool { return dated[i].AsOf < dated[j].AsOf })
		var older []string
		for _, m := range dated {
			older = append(older, fmt.Sprintf("%s as of %s", units.FLOPsPerSecond(m.Value), m.AsOf))
		}
		if len(older) > 0 {
			row("  "+p.dtype+" GEMM by date", strings.Join(older, "; ")+" (a profile whose ceilings_as_of precedes the achievable figure's date is priced with the best of these by then)")
		}
	}
	if c := g.Achievable.KernelLaunch; c.Value > 0 {
		kind := "measured"
		if !c.Measured {
			kind = "lower confidence"
		}
		row("kernel launch", fmt.Sprintf("%.2f µs per back-to-back launch (%s: %s)", c.Value*1e6, kind, c.Source))
	}
	if pts := g.Achievable.AllReduce; len(pts) > 0 {
		var parts []string
		for _, p := range pts {
			parts = append(parts, fmt.Sprintf("%s on %d: %s", sizeLabel(p.Bytes), p.GPUs, units.BytesPerSecond(p.BusBW)))
		}
		line := "bus bandwidth (nccl-tests convention) " + strings.Join(parts, ", ")
		if f := g.Achievable.AllReduceLine; g.Achievable.AllReduceFitted {
			line += fmt.Sprintf("; large messages ≈ %.0f µs + S·2(n−1)/n / %s", f.Latency*1e6, units.BytesPerSecond(f.BusBW))
		}
		row("all-reduce (measured)", line)
	}
	row("L2 cache", gpuDash(float64(g.L2Bytes), units.Sig(float64(g.L2Bytes/units.MiB))+" MiB"))
	row("SMs / CUs", gpuDash(float64(g.ComputeUnits), fmt.Sprint(g.ComputeUnits)))
	if g.LinkBandwidth > 0 {
		link := gpuJoin(" ", g.LinkBandwidth.String()+" per direction", gpuParen(g.Interconnect))
		if g.MeshLinks > 0 {
			link += fmt.Sprintf("; full mesh of %d links, %s each: a group of n GPUs uses n−1 of them", g.MeshLinks, (g.LinkBandwidth / units.BytesPerSecond(g.MeshLinks)).String())
		}
		row("scale-up link", link)
	} else {
		row("scale-up link", "none")
	}
	row("PCIe", gpuDash(float64(g.PCIeBandwidth), g.PCIeBandwidth.String()+" per direction"))
	row("TDP", gpuDash(g.TDPWatts, units.Sig(g.TDPWatts)+" W"))
	if g.PriceUSDPerHour > 0 {
		row("price", fmt.Sprintf("%s USD per GPU-hour (%s, as of %s)", units.Sig(g.PriceUSDPerHour), gpuJoin(", ", g.PriceProvider, g.PriceSource), g.PriceAsOf))
	} else {
		row("price", "unknown (set price_usd_per_hour in a --gpu-file)")
	}
	for _, off := range Offerings {
		if off == "on-demand" && g.PriceUSDPerHour == 0 {
			continue
		}
		p, err := SelectPrice(g, off)
		if err != nil {
			continue
		}
		n, lo, hi := 0, math.Inf(1), 0.0
		for _, o := range g.Offers() {
			if o.Offering == off {
				v := o.USDPerHour
				if off == "purchase" {
					v = o.USDPurchase
				}
				n, lo, hi = n+1, math.Min(lo, v), math.Max(hi, v)
			}
		}
		rng := ""
		if n > 1 {
			rng = fmt.Sprintf(" (%d public offers, %s to %s)", n, units.Sig(lo), units.Sig(hi))
		}
		row("price "+off, fmt.Sprintf("%s USD per GPU-hour%s: %s", units.Sig(p.USDPerHour), rng, p.Source))
	}
	if kwh, src := PowerPrice(); g.TDPWatts > 0 && kwh > 0 {
		row("power cost", fmt.Sprintf("%s USD per GPU-hour at TDP and %s USD/kWh (%s)", units.Sig(g.TDPWatts/1000*kwh), units.Sig(kwh), src))
	}
	row("source", g.Source)
	for _, c := range g.CrossChecked {
		row("cross-checked with", c)
	}
	row("confidence", g.Confidence)
	row("notes", g.Notes)
	row("defined in", g.Origin)
	return tw.Flush()
}

// gpuDash returns s, or "-" when v is 0 (unknown).
func gpuDash(v float64, s string) string {
	if v == 0 {
		return "-"
	}
	return s
}

func gpuParen(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}
