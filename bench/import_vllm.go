package bench

import (
	"fmt"
	"math"
)

// importVLLM reads one result object of vllm bench serve (sglang false) or SGLang's
// bench_serving (sglang true); both derive from the same script and share most keys.
func importVLLM(doc map[string]any, sglang bool) ([]Summary, error) {
	tool, e2eKey := "vllm bench serve", "e2el"
	if sglang {
		tool, e2eKey = "SGLang bench_serving", "e2e_latency"
	}
	im := newImporter(tool)
	s := &im.s
	s.Percentiles = "linear interpolation (numpy, as " + tool + ")"
	if v := str(doc, "vllm_version"); v != "" && !sglang {
		s.ToolVersion = v
	}
	if !im.integer(&s.Completed, FieldCompleted, doc, "completed", "completed") {
		return nil, fmt.Errorf(`%s: "completed" missing or not a count`, tool)
	}
	if f, ok := count(doc, "failed"); ok {
		s.Failed = f
	} else if n, ok := count(doc, "num_prompts"); ok && n >= s.Completed {
		s.Failed = n - s.Completed
	} else {
		im.unknown(FieldFailed)
		im.missing = append(im.missing, "failed (and num_prompts)")
	}
	im.integer(&s.TotalInputTokens, FieldTotalInputTokens, doc, "total_input_tokens", "total_input_tokens")
	im.integer(&s.TotalOutputTokens, FieldTotalOutputTokens, doc, "total_output_tokens", "total_output_tokens")
	im.num(&s.DurationS, doc, "duration", "duration")
	im.num(&s.RequestPerS, doc, "request_throughput", "request_throughput")
	im.num(&s.OutputTokS, doc, "output_throughput", "output_throughput")
	if sglang {
		s.TotalTokS = number(doc, "total_throughput")
		if math.IsNaN(s.TotalTokS) {
			in := number(doc, "input_throughput")
			s.TotalTokS = in + s.OutputTokS
			if math.IsNaN(s.TotalTokS) {
				im.missing = append(im.missing, "input_throughput")
			}
		}
	} else {
		im.num(&s.TotalTokS, doc, "total_token_throughput", "total_token_throughput")
	}
	if g := number(doc, "request_goodput"); !math.IsNaN(g) {
		s.GoodputReqS = &g
	}
	for _, m := range []struct {
		d    *Dist
		name string
	}{{&s.TTFT, "ttft"}, {&s.ITL, "itl"}, {&s.TPOT, "tpot"}, {&s.E2E, e2eKey}} {
		k := func(stat string) string { return stat + "_" + m.name + "_ms" }
		*m.d = im.dist(doc, k("mean")+"/"+k("median"), 1, [6]string{k("mean"), k("median"), k("p90"), k("p95"), k("p99"), k("std")})
		if math.IsNaN(m.d.Median) {
			m.d.Median = number(doc, k("p50"))
		}
	}
	if sglang {
		im.notes = append(im.notes, "SGLang's ITL is per chunk (as here); its output tokens are the server's usage, re-tokenised totals are in total_output_tokens_retokenized")
	}

	// What was run.
	r := &s.Run
	if m := str(doc, "model_id"); m != "" {
		r.Model = m
	} else if m := str(doc, "model"); m != "" {
		r.Model = m
	}
	r.Endpoint = str(doc, "backend")
	if u := str(doc, "base_url"); u != "" {
		r.URL = u
	}
	if n, ok := count(doc, "num_prompts"); ok {
		r.NumRequests = &n
	}
	if v := rate(doc, "request_rate"); !math.IsNaN(v) {
		r.RequestRate = &v
	}
	if v := number(doc, "burstiness"); v > 0 {
		r.Burstiness = &v
	}
	if n, ok := count(doc, "max_concurrency"); ok && n > 0 {
		r.Concurrency = &n
	}
	im.setLens("total tokens / completed in the file")

	if s.Completed == 0 {
		im.noLatency("no request completed: every latency is unknown (the file writes 0)", true)
	} else if s.Known(FieldTotalOutputTokens) && s.TotalOutputTokens <= s.Completed {
		im.noLatency("at most one output token per request: ITL and TPOT are unknown (the file writes 0)", false)
	}
	return []Summary{im.finish()}, nil
}
