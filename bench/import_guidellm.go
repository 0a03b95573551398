package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"go.yaml.in/yaml/v3"
)

// importYAML reads a YAML result file (guidellm benchmarks.yaml) by turning it into the
// same tree as its JSON twin.
func importYAML(b []byte, format string) ([]Summary, error) {
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("neither JSON, CSV nor YAML: %v", firstLine(err.Error()))
	}
	doc, ok := jsonTree(v).(map[string]any)
	if !ok && format == FormatAuto {
		// Text that is no JSON, no result CSV and no YAML mapping (a CSV of another
		// tool, a log): say what each format would have looked like.
		return nil, fmt.Errorf("format not recognised: not JSON, not a GenAI-Perf/AIPerf CSV (first line \"Metric,…\") and not a guidellm YAML mapping; give --format or a result file of %s", strings.Join(Formats()[1:], ", "))
	}
	if !ok {
		return nil, fmt.Errorf("YAML: not a mapping at the top")
	}
	if format == FormatAuto && detect(doc) != FormatGuideLLM {
		return nil, fmt.Errorf("format not recognised: a YAML result file is guidellm's (with \"benchmarks\")")
	}
	return importGuideLLM(doc)
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}

// jsonTree converts a decoded YAML value into encoding/json's shapes: string-keyed
// maps, []any and json.Number for numbers.
func jsonTree(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonTree(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = jsonTree(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = jsonTree(e)
		}
		return x
	case int:
		return json.Number(fmt.Sprint(x))
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return fmt.Sprint(x)
		}
		return json.Number(fmt.Sprint(x))
	}
	return v
}

// guideDist reads a guidellm DistributionSummary (mean, median, std_dev, count,
// percentiles.pNN) scaled by scale.
func guideDist(im *importer, m map[string]any, name string, scale float64) Dist {
	d := im.dist(m, name, scale, [6]string{"mean", "median", "", "", "", "std_dev"})
	if p := obj(m, "percentiles"); p != nil {
		d.P90, d.P95, d.P99 = number(p, "p90")*scale, number(p, "p95")*scale, number(p, "p99")*scale
	}
	if n, ok := count(m, "count"); ok {
		d.Count = n
		if n == 0 { // guidellm writes 0 for every statistic of an empty sample
			d = unknownDist()
		}
	}
	return d
}

// importGuideLLM reads every benchmark of a guidellm report: before 0.4 request_totals
// sits in the benchmark and the strategy under args; from 0.4 on request_totals is
// under metrics and the strategy under config.
func importGuideLLM(doc map[string]any) ([]Summary, error) {
	list, ok := doc["benchmarks"].([]any)
	if !ok || len(list) == 0 {
		return nil, fmt.Errorf(`guidellm: "benchmarks" missing or empty`)
	}
	version := str(obj(doc, "metadata"), "guidellm_version")
	var out []Summary
	for i, item := range list {
		b, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("guidellm: benchmarks[%d] is not an object", i)
		}
		im := newImporter("guidellm")
		s := &im.s
		s.Percentiles = "as computed by guidellm"
		m := obj(b, "metrics")
		if m == nil {
			return nil, fmt.Errorf(`guidellm: benchmarks[%d]: "metrics" missing`, i)
		}
		totals := obj(m, "request_totals")
		schema := "≥ 0.4 (metrics.request_totals)"
		if totals == nil {
			totals = obj(b, "request_totals")
			schema = "< 0.4 (request_totals in the benchmark)"
		}
		s.ToolVersion = version
		if version == "" {
			s.ToolVersion = schema
		}
		strategy := obj(b, "config", "strategy")
		if strategy == nil {
			strategy = obj(b, "args", "strategy")
		}
		if strategy == nil {
			strategy = obj(b, "args", "profile")
		}
		kind := str(strategy, "type_")
		s.Name = fmt.Sprintf("benchmark %d", i+1)
		if kind != "" {
			s.Name += " (" + kind + ")"
		}
		succ := func(k string) map[string]any { return obj(m, k, "successful") }
		s.TTFT = guideDist(im, succ("time_to_first_token_ms"), "time_to_first_token_ms", 1)
		s.TPOT = guideDist(im, succ("inter_token_latency_ms"), "inter_token_latency_ms", 1)
		s.E2E = guideDist(im, succ("request_latency"), "request_latency", 1e3)
		im.num(&s.RequestPerS, succ("requests_per_second"), "mean", "requests_per_second")
		im.num(&s.OutputTokS, succ("output_tokens_per_second"), "mean", "output_tokens_per_second")
		im.num(&s.TotalTokS, succ("tokens_per_second"), "mean", "tokens_per_second")
		if totals != nil {
			im.integer(&s.Completed, FieldCompleted, totals, "successful", "request_totals.successful")
			e, okE := count(totals, "errored")
			inc, okI := count(totals, "incomplete")
			s.Failed = e + inc
			if !okE && !okI {
				im.unknown(FieldFailed)
				im.missing = append(im.missing, "request_totals.errored")
			}
		} else {
			im.unknown(FieldCompleted)
			im.unknown(FieldFailed)
			im.missing = append(im.missing, "request_totals")
		}
		if d := number(b, "duration"); d > 0 {
			s.DurationS = d
		} else if st, en := number(b, "start_time"), number(b, "end_time"); en > st {
			s.DurationS = en - st
		} else {
			im.missing = append(im.missing, "duration (or start_time/end_time)")
		}
		if v := number(succ("output_token_count"), "total_sum"); !math.IsNaN(v) {
			s.TotalOutputTokens = int(math.Round(v))
		} else {
			im.unknown(FieldTotalOutputTokens)
		}
		if v := number(succ("prompt_token_count"), "total_sum"); !math.IsNaN(v) {
			s.TotalInputTokens = int(math.Round(v))
		} else {
			im.unknown(FieldTotalInputTokens)
		}
		im.notes = append(im.notes, "guidellm's inter_token_latency is per token, (request latency − TTFT)/(output tokens − 1): it is shown as TPOT; per-chunk ITL is not in the file")

		r := &s.Run
		args := obj(doc, "args")
		r.URL = str(args, "target")
		r.Model = str(args, "model")
		if r.Model == "" {
			r.Model = str(obj(b, "worker"), "backend_model")
		}
		switch kind {
		case "synchronous":
			one := 1
			r.Concurrency = &one
		case "concurrent":
			if c, ok := count(strategy, "streams"); ok && c > 0 {
				r.Concurrency = &c
			}
		case "constant", "poisson", "async":
			if v := rate(strategy, "rate"); !math.IsNaN(v) {
				r.RequestRate = &v
			}
			if c, ok := count(strategy, "max_concurrency"); ok && c > 0 {
				r.Concurrency = &c
			}
		}
		if kind == "poisson" {
			one := 1.0
			r.Burstiness = &one
		}
		if v := number(succ("prompt_token_count"), "mean"); v > 0 {
			r.InputLen = &v
		}
		if v := number(succ("output_token_count"), "mean"); v > 0 {
			r.OutputLen = &v
		}
		if r.InputLen != nil || r.OutputLen != nil {
			r.LenSource = "mean token counts of successful requests in the file"
		}
		if s.Completed == 0 && s.Known(FieldCompleted) {
			im.noLatency("no request completed: every latency is unknown", true)
		}
		out = append(out, im.finish())
	}
	return out, nil
}
