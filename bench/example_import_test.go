package bench_test

import (
	"fmt"
	"strings"

	"roofline/bench"
)

// Import recognises a result file by its content: here one line of SGLang's
// bench_serving output, whose total throughput is input + output throughput and whose
// failure count is not in the file (so it is listed as missing, never 0).
func ExampleImport() {
	line := `{"backend": "sglang-oai", "request_rate": 4.0, "duration": 52.1, "completed": 200,
	"total_input_tokens": 204800, "total_output_tokens": 51200, "request_throughput": 3.84,
	"input_throughput": 3930.9, "output_throughput": 982.7, "mean_ttft_ms": 45.0, "median_ttft_ms": 42.75,
	"mean_e2e_latency_ms": 3105.0, "median_e2e_latency_ms": 3042.9}`
	ss, err := bench.Import(strings.NewReader(line), bench.FormatAuto)
	if err != nil {
		panic(err)
	}
	s := ss[0]
	fmt.Println(s.Source)
	fmt.Printf("TTFT mean %.0f ms, E2E mean %.0f ms, total %.1f tok/s\n", s.TTFT.Mean, s.E2E.Mean, s.TotalTokS)
	fmt.Println("missing:", s.Missing)
	fmt.Println("what was run:", s.Run.Describe())
	// Output:
	// SGLang bench_serving
	// TTFT mean 45 ms, E2E mean 3105 ms, total 4913.6 tok/s
	// missing: [no_content failed]
	// what was run: endpoint sglang-oai, open loop 4.00 req/s, input 1024 / output 256 tokens
}
