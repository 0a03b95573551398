package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
)

// importInferencePerf reads inference-perf's summary_lifecycle_metrics.json or one of
// its stage_N_lifecycle_metrics.json files (same shape, one load stage).
func importInferencePerf(doc map[string]any) ([]Summary, error) {
	succ := obj(doc, "successes")
	if succ == nil {
		return nil, fmt.Errorf(`inference-perf: "successes" missing`)
	}
	im := newImporter("inference-perf")
	s := &im.s
	s.Percentiles = "as computed by inference-perf"
	im.integer(&s.Completed, FieldCompleted, succ, "count", "successes.count")
	if n, ok := count(obj(doc, "failures"), "count"); ok {
		s.Failed = n
	} else {
		im.unknown(FieldFailed)
		im.missing = append(im.missing, "failures.count")
	}
	lat := obj(succ, "latency")
	keys := [6]string{"mean", "median", "p90", "p95", "p99", "std"}
	s.TTFT = im.dist(obj(lat, "time_to_first_token"), "latency.time_to_first_token", 1e3, keys)
	s.ITL = im.dist(obj(lat, "inter_token_latency"), "latency.inter_token_latency", 1e3, keys)
	s.TPOT = im.dist(obj(lat, "time_per_output_token"), "latency.time_per_output_token", 1e3, keys)
	s.E2E = im.dist(obj(lat, "request_latency"), "latency.request_latency", 1e3, keys)
	if !math.IsNaN(s.ITL.Mean) || !math.IsNaN(s.ITL.Median) {
		im.define("itl_ms", "inference-perf times gaps per token of the client's re-tokenisation of the streamed text, not per content chunk")
	}
	tp := obj(succ, "throughput")
	im.num(&s.RequestPerS, tp, "requests_per_sec", "throughput.requests_per_sec")
	im.num(&s.OutputTokS, tp, "output_tokens_per_sec", "throughput.output_tokens_per_sec")
	im.num(&s.TotalTokS, tp, "total_tokens_per_sec", "throughput.total_tokens_per_sec")
	ls := obj(doc, "load_summary")
	if d := number(ls, "send_duration"); d > 0 {
		s.DurationS = d
		im.notes = append(im.notes, "duration_s is load_summary.send_duration")
	} else if s.RequestPerS > 0 && s.Completed > 0 {
		s.DurationS = float64(s.Completed) / s.RequestPerS
		im.notes = append(im.notes, "duration_s is successes.count / requests_per_sec")
	}
	out, in := number(obj(succ, "output_len"), "mean"), number(obj(succ, "prompt_len"), "mean")
	if !math.IsNaN(out) && s.Known(FieldCompleted) {
		s.TotalOutputTokens = int(math.Round(out * float64(s.Completed)))
		s.Run.OutputLen = &out
	} else {
		im.unknown(FieldTotalOutputTokens)
	}
	if !math.IsNaN(in) && s.Known(FieldCompleted) {
		s.TotalInputTokens = int(math.Round(in * float64(s.Completed)))
		s.Run.InputLen = &in
	} else {
		im.unknown(FieldTotalInputTokens)
	}
	if s.Run.InputLen != nil || s.Run.OutputLen != nil {
		s.Run.LenSource = "mean prompt_len and output_len of successes (client re-tokenisation)"
		im.notes = append(im.notes, "token totals are mean lengths × successes.count, counted by the client's tokenizer")
	}
	if v := rate(ls, "requested_rate"); !math.IsNaN(v) {
		s.Run.RequestRate = &v
	}
	if n, ok := count(ls, "count"); ok {
		s.Run.NumRequests = &n
	}
	if s.Completed == 0 && s.Known(FieldCompleted) {
		im.noLatency("no request completed: every latency is unknown", true)
	}
	return []Summary{im.finish()}, nil
}

// importRoofline reads a Summary as roofline bench --output json (or import --output
// json) writes it.
func importRoofline(doc map[string]any) ([]Summary, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var s Summary
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("roofline: %v", err)
	}
	return []Summary{s}, nil
}
