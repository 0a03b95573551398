package validation_test

import (
	"math"
	"strings"
	"testing"

	"roofline/bench"
	"roofline/validation"
)

// TestRunHintsFill: the load a result file describes becomes the prediction's load; a
// value given on the command line wins; a value the file lacks is an error naming the flag.
// The files are written by hand: vllm bench serve with --request-rate inf and
// --max-concurrency 8 sends every request at once with at most 8 in flight (a closed loop
// of 8), a plain --request-rate 4 run is an open loop of 4 req/s.
func TestRunHintsFill(t *testing.T) {
	in, out, eight, four, hundred := 1000.0, 200.0, 8, 4.0, 100
	inf := math.Inf(1)
	cases := []struct {
		name    string
		run     bench.RunInfo
		given   []string
		want    validation.RunHints
		wantErr string
	}{
		{"inf rate capped", bench.RunInfo{Model: "m", InputLen: &in, OutputLen: &out, RequestRate: &inf, Concurrency: &eight, NumRequests: &hundred}, nil,
			validation.RunHints{Model: "m", InputLen: 1000, OutputLen: 200, Concurrency: 8, NumRequests: 100}, ""},
		{"open loop", bench.RunInfo{Model: "m", InputLen: &in, OutputLen: &out, RequestRate: &four}, nil,
			validation.RunHints{Model: "m", InputLen: 1000, OutputLen: 200, RequestRate: 4}, ""},
		{"flag wins", bench.RunInfo{Model: "m", InputLen: &in, OutputLen: &out, Concurrency: &eight}, []string{"input-len"},
			validation.RunHints{Model: "m", InputLen: 50, OutputLen: 200, Concurrency: 8}, ""},
		{"no lengths", bench.RunInfo{Model: "m", Concurrency: &eight}, nil, validation.RunHints{}, "--input-len: not in the file"},
		{"no model", bench.RunInfo{InputLen: &in}, nil, validation.RunHints{}, "--model: the file does not name the model"},
	}
	for _, c := range cases {
		h := validation.RunHints{InputLen: 50}
		given := func(f string) bool {
			for _, g := range c.given {
				if g == f {
					return true
				}
			}
			return false
		}
		_, err := h.Fill(bench.Summary{Run: c.run}, given, "model")
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: error %v, want %q", c.name, err, c.wantErr)
			}
			continue
		}
		if err != nil || h != c.want {
			t.Errorf("%s: %+v, %v; want %+v", c.name, h, err, c.want)
		}
	}
}
