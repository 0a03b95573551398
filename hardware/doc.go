// Package hardware describes accelerators (peak FLOP/s per dtype, memory capacity and
// bandwidth, interconnect, power, price) and loads the GPU catalogue: the embedded
// data/gpus.toml, optionally extended or overridden by user TOML files of the same schema.
//
// A complete program:
//
//	cat, err := hardware.Load() // the embedded catalogue
//	if err != nil {
//		log.Fatal(err)
//	}
//	if err := cat.AddFile("my-gpus.toml"); err != nil { // optional: add or override entries
//		log.Fatal(err)
//	}
//	g, err := cat.Lookup("H100 SXM") // id, name or alias; case, spaces and dashes ignored
//	if err != nil {
//		log.Fatal(err) // unknown GPU "H10"; did you mean H100, H100 NVL, H100 PCIe?
//	}
//	bf16, _ := g.Peak("bf16")
//	fmt.Println(g.MemoryBytes, g.MemoryBandwidth, bf16) // 80.0 GB 3.35 TB/s 990 TFLOP/s
//
// # Units
//
// Catalogue files use the units of vendor datasheets; Load converts them once to base
// units (bytes, bytes/s, FLOP/s):
//
//   - memory_gb × 1e9 bytes (memory_gib × 2^30 when a vendor states GiB);
//     usable_memory_bytes is already in bytes (the total PyTorch reports on a real card);
//   - memory_bandwidth_tbps × 1e12 bytes/s;
//   - *_tflops_dense and int8_tops_dense × 1e12 FLOP/s (OP/s), dense: datasheet figures
//     "with sparsity" were halved when the catalogue was compiled;
//   - l2_cache_mb × 2^20 bytes (cache sizes are binary megabytes);
//   - scaleup_bw_gb_s_bidir and pcie_bw_gb_s_bidir are both directions added, × 1e9
//     bytes/s; GPU.LinkBandwidth and GPU.PCIeBandwidth are half of that, per direction;
//   - scaleup_mesh_links (optional) marks a full-mesh scale-up fabric of that many
//     point-to-point links (one per peer): a collective over n GPUs uses n−1 of them,
//     GroupLinkBandwidth(n) = LinkBandwidth·(n−1)/links (a switch: LinkBandwidth).
//
// A figure the catalogue does not know is 0 in a GPU (and null in its JSON form); a
// dtype missing from GPU.PeakFLOPs is unsupported or unpublished.
//
// # Files
//
// Decoding is strict: an unknown key is an error naming the file, the entry and the key.
// Each entry must give memory, memory bandwidth and a bf16 or fp16 peak. An entry whose
// id is already in the catalogue overrides it key by key, so a file holding
//
//	[[gpu]]
//	id = "h100-sxm5-80gb"
//	price_usd_per_hour = 2.49
//	price_source = "my provider's invoice"
//	price_as_of = "2026-06-01"
//
// changes only the H100's price.
//
// # Achievable ceilings and prices
//
// Beside each datasheet peak, GPU.Achievable holds what real software reaches, from the
// public microbenchmarks in data/hardware/ceilings.csv (see data/hardware/SOURCES.md): the
// best large-shape dense GEMM rate per dtype (FLOP/s), the best HBM streaming rate (bytes/s)
// and the kernel launch cost (s). A GPU without a measurement gets fraction × its own peak,
// the fraction being the median measured fraction of its architecture, family or vendor;
// such figures have Measured = false and confidence "low". A ceiling never exceeds the peak.
// Two kinds of row depart from "best large shape": a row whose shape says "(serving size)" is
// the GPU's ceiling for its dtype even where a larger shape of the same series ran faster
// (GB200 NVFP4: 5177 TFLOP/s at M=N=K=4096, not 7628 at 16384), and a row whose software
// column starts with "inferred" stands in for a missing measurement of its own GPU only
// (B200 NVFP4: GB200's serving-size fraction 0.518 × 9000 TFLOP/s), lower confidence, never
// lent to the rules that fill other GPUs; it is a fraction of its peak_ref, so a --gpu-file
// that gives the GPU another peak gets that fraction of the new peak.
// Achievable.GEMMAsOf picks, for software of a given date, the best of the GPU's own GEMM
// measurements dated no later than it (MI300X BF16: ~450 TFLOP/s with ROCm 6.1 in 2024,
// 668.4 with ROCm 6.3 and TunableOp in January 2025), or the best figure when none is that old.
//
// GPU.Offers lists the public prices of data/hardware/prices.csv; SelectPrice picks the
// median offer of an offering (on-demand, spot, reserved, purchase). A purchase price
// becomes USD per GPU-hour as price / (AmortisationYears × 8760 h). PowerPrice is the
// default electricity price (USD per kWh) for the power cost at TDP: W / 1000 × USD/kWh.
package hardware
