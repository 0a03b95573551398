package hardware_test

import (
	"fmt"

	"roofline/hardware"
)

func ExampleCatalogue_Lookup() {
	cat, err := hardware.Load()
	if err != nil {
		panic(err)
	}
	g, err := cat.Lookup("h100 sxm") // case, spaces and dashes do not matter
	if err != nil {
		panic(err)
	}
	bf16, _ := g.Peak("bf16")
	fmt.Println(g.ID)
	fmt.Println(g.MemoryBytes, g.MemoryBandwidth, bf16, "dense")
	fmt.Println(g.LinkBandwidth, "per direction")

	_, err = cat.Lookup("H10")
	fmt.Println(err)
	// Output:
	// h100-sxm5-80gb
	// 80.0 GB 3.35 TB/s 990 TFLOP/s dense
	// 450 GB/s per direction
	// unknown GPU "H10"; did you mean H100, H100 NVL, H100 PCIe?
}

func ExampleCatalogue_AddTOML() {
	cat, err := hardware.Load()
	if err != nil {
		panic(err)
	}
	// Override one key of an embedded entry, and add a GPU.
	err = cat.AddTOML("my-gpus.toml", []byte(`
[[gpu]]
id = "h200-sxm-141gb"
price_usd_per_hour = 3.5
price_source = "quote from my provider"
price_as_of = "2026-06-01"

[[gpu]]
id = "x1"
vendor = "Example"
memory_gib = 96
memory_bandwidth_tbps = 2.5
bf16_tflops_dense = 400
`))
	if err != nil {
		panic(err)
	}
	h200, _ := cat.Lookup("H200")
	x1, _ := cat.Lookup("X1")
	fmt.Println(h200.PriceUSDPerHour, "USD/h from", h200.Origin, "; bandwidth still", h200.MemoryBandwidth)
	fmt.Println(x1.MemoryBytes.GiBString(), "=", x1.MemoryBytes)

	err = cat.AddTOML("bad.toml", []byte("[[gpu]]\nid = \"x2\"\nmemory_gbs = 80\n"))
	fmt.Println(err)
	// Output:
	// 3.5 USD/h from my-gpus.toml ; bandwidth still 4.80 TB/s
	// 96.0 GiB = 103 GB
	// bad.toml: gpu "x2" (entry 1): memory_gbs: unknown key (did you mean memory_gb, memory_gib?)
}
