package report

import (
	"bytes"
	"testing"
)

// FuzzRender: no document makes Detect or Render panic; what Detect accepts either renders
// or fails with an error.
func FuzzRender(f *testing.F) {
	for _, s := range []string{
		`{"metrics": [], "verdict": "x", "measured": {}, "benchmark": "b"}`,
		`[{"metrics": [{"metric": "ttft_ms_mean", "predicted": 1, "measured": 0}], "verdict": "", "measured": {}}]`,
		`{"percentile_method": "", "ttft_ms": {"count": null, "mean": null}}`,
		`[{"percentile_method": "", "ttft_ms": {}, "output_tok_s": 1}, {"percentile_method": "", "ttft_ms": {}}]`,
		`{"cheapest": null, "per_gpu": [{"gpu": "x", "cheapest_fleet": {"cost_usd_per_hour": 1, "launch": {"notes": ["a"]}}}]}`,
		"{\"server_args\": {\"a\": 1}, \"client_args\": null, \"status\": \"ok\", \"measured\": {\"output_tok_s\": 3}}\n{\"server_args\": {}, \"status\": \"x\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if _, err := Detect(doc); err != nil {
			return
		}
		var b bytes.Buffer
		Render(&b, doc)
	})
}
