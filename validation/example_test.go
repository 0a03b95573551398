package validation_test

import (
	"fmt"
	"math"
	"strings"

	"roofline/bench"
	"roofline/estimator"
	"roofline/validation"
)

// A validation CSV holds one measured number per row; columns may come in any order.
func ExampleReadRows() {
	csv := "id,model,gpu,tp,workload,concurrency,input_len,output_len,metric,value\n" +
		"run1-s1-ttft_ms_mean,meta-llama/Llama-3.1-8B-Instruct,H100,1,concurrency,16,1000,200,ttft_ms_mean,42.5\n"
	rows, err := validation.ReadRows(strings.NewReader(csv), "example.csv")
	if err != nil {
		fmt.Println(err)
		return
	}
	r := rows[0]
	fmt.Printf("%s line %d: %s on %s, %s %d, %d/%d tokens: %s = %g\n", r.File, r.Line, r.Model, r.GPU, r.Workload, r.Concurrency, r.InputLen, r.OutputLen, r.Metric, r.Value)
	// Output:
	// example.csv line 2: meta-llama/Llama-3.1-8B-Instruct on H100, concurrency 16, 1000/200 tokens: ttft_ms_mean = 42.5
}

// The verdict counts mean TTFT, TPOT and E2E (and closed-loop throughput): here the
// prediction's TTFT is 10% above the measured 50 ms (hand calculation: (55 − 50)/50).
func ExampleCompareMetrics() {
	pred := estimator.Serving{TTFT: estimator.Dist{Mean: 55}, TPOT: estimator.Dist{Mean: 10}, E2E: estimator.Dist{Mean: 2045}}
	meas := bench.Summary{Completed: 100, TTFT: bench.Dist{Mean: 50}, TPOT: bench.Dist{Mean: 10}, E2E: bench.Dist{Mean: 2040}}
	rows, verdict := validation.CompareMetrics(pred, meas, 5, true)
	fmt.Printf("%s error %+.1f%%; worst key metric %.1f%%; %s\n", rows[0].Metric, *rows[0].ErrPct, *verdict.MaxKeyErrPct, verdict.Text)
	// Output:
	// ttft_ms_mean error +10.0%; worst key metric 10.0%; differs: a key metric is 10% off (bound 5%)
}

// RunHints.Fill takes the load a result file describes for the flags not given: vllm bench
// serve with --request-rate inf --max-concurrency 8 is a closed loop of 8.
func ExampleRunHints_Fill() {
	in, out, eight := 1000.0, 200.0, 8
	inf := math.Inf(1)
	s := bench.Summary{Run: bench.RunInfo{Model: "meta-llama/Llama-3.1-8B-Instruct", InputLen: &in, OutputLen: &out, RequestRate: &inf, Concurrency: &eight}}
	var h validation.RunHints
	from, err := h.Fill(s, func(string) bool { return false }, "model")
	if err != nil {
		panic(err)
	}
	fmt.Println(h.Model, h.InputLen, h.OutputLen, h.Concurrency)
	fmt.Println(from["concurrency"])
	// Output:
	// meta-llama/Llama-3.1-8B-Instruct 1000 200 8
	// 8 (all requests at once, at most 8 in flight)
}
