package bench

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
)

// genaiKeys are GenAI-Perf's and AIPerf's statistic names.
var genaiKeys = [6]string{"avg", "p50", "p90", "p95", "p99", "std"}

// importGenAIPerf reads GenAI-Perf's profile_export_genai_perf.json (aiperf false) or
// AIPerf's profile_export_aiperf.json (aiperf true): one object per metric tag, each
// {unit, avg, min, max, p1…p99, std}.
func importGenAIPerf(doc map[string]any, aiperf bool) ([]Summary, error) {
	tool := "GenAI-Perf"
	if aiperf {
		tool = "AIPerf"
	}
	// Some AIPerf exports nest the metric objects under "records" (or "metrics").
	for _, k := range []string{"records", "metrics"} {
		if m := obj(doc, k); m != nil && obj(doc, "time_to_first_token") == nil && obj(doc, "request_latency") == nil {
			merged := map[string]any{}
			for kk, v := range doc {
				merged[kk] = v
			}
			for kk, v := range m {
				merged[kk] = v
			}
			doc = merged
		}
	}
	im := newImporter(tool)
	s := &im.s
	s.Percentiles = "as computed by " + tool + " (numpy percentiles)"
	if v := str(doc, "aiperf_version"); v != "" {
		s.ToolVersion = v
	} else if v := str(doc, "genai_perf_version"); v != "" {
		s.ToolVersion = v
	}
	if !aiperf && obj(doc, "time_to_first_token") == nil && obj(doc, "request_latency") == nil {
		return nil, fmt.Errorf(`%s: neither "time_to_first_token" nor "request_latency" in the file`, tool)
	}
	stat := func(key, name string) Dist {
		m := obj(doc, key)
		scale := 1.0
		if m != nil {
			u, _ := m["unit"].(string)
			var ok bool
			if scale, ok = unitScale(u); !ok {
				im.missing = append(im.missing, fmt.Sprintf("%s (unknown unit %q)", key, u))
				d := unknownDist()
				d.Count = CountUnknown
				return d
			}
		}
		return im.dist(m, key+" → "+name, scale, genaiKeys)
	}
	s.TTFT = stat("time_to_first_token", "TTFT")
	s.TPOT = stat("inter_token_latency", "TPOT")
	s.E2E = stat("request_latency", "E2E")
	if aiperf {
		s.ITL = stat("inter_chunk_latency", "ITL")
	}
	im.num(&s.OutputTokS, obj(doc, "output_token_throughput"), "avg", "output_token_throughput")
	im.num(&s.RequestPerS, obj(doc, "request_throughput"), "avg", "request_throughput")
	if m := obj(doc, "output_token_throughput_per_user"); m != nil {
		s.OutputTokSPerUser = im.dist(m, "output_token_throughput_per_user", 1, genaiKeys)
	}
	im.notes = append(im.notes, tool+"'s inter_token_latency is per token, (request latency − TTFT)/(output tokens − 1): it is shown as TPOT")
	if !aiperf {
		im.notes = append(im.notes, "per-chunk ITL is not in a GenAI-Perf file")
	}

	n, okN := count(obj(doc, "request_count"), "avg")
	if okN {
		s.Completed = n
	} else {
		im.unknown(FieldCompleted)
		im.missing = append(im.missing, "request_count")
	}
	es := errorSummary(doc)
	s.Errors = es
	if e, ok := count(obj(doc, "error_request_count"), "avg"); ok {
		s.Failed = e
	} else if len(es) > 0 {
		for _, c := range es {
			s.Failed += c
		}
	} else {
		im.unknown(FieldFailed)
		if aiperf {
			im.missing = append(im.missing, "error_request_count")
		} else {
			im.missing = append(im.missing, "failed request count")
		}
	}
	s.DurationS = number(obj(doc, "benchmark_duration"), "avg")
	if u := str(obj(doc, "benchmark_duration"), "unit"); !math.IsNaN(s.DurationS) && u != "" {
		if sc, ok := unitScale(u); ok {
			s.DurationS *= sc / 1e3
		}
	}
	if math.IsNaN(s.DurationS) && okN && s.RequestPerS > 0 {
		s.DurationS = float64(n) / s.RequestPerS
		im.notes = append(im.notes, "duration_s is request_count / request_throughput")
	}
	isl, osl := number(obj(doc, "total_isl"), "avg"), number(obj(doc, "total_osl"), "avg")
	if math.IsNaN(isl) && okN {
		isl = number(obj(doc, "input_sequence_length"), "avg") * float64(n)
	}
	if math.IsNaN(osl) && okN {
		osl = number(obj(doc, "output_sequence_length"), "avg") * float64(n)
	}
	if !math.IsNaN(isl) {
		s.TotalInputTokens = int(math.Round(isl))
	} else {
		im.unknown(FieldTotalInputTokens)
	}
	if !math.IsNaN(osl) {
		s.TotalOutputTokens = int(math.Round(osl))
	} else {
		im.unknown(FieldTotalOutputTokens)
	}
	if obj(doc, "total_isl") == nil && (s.Known(FieldTotalInputTokens) || s.Known(FieldTotalOutputTokens)) {
		im.notes = append(im.notes, "token totals are mean sequence lengths × request count")
	}
	s.TotalTokS = number(obj(doc, "total_token_throughput"), "avg")
	if math.IsNaN(s.TotalTokS) && s.DurationS > 0 && s.Known(FieldTotalInputTokens) && s.Known(FieldTotalOutputTokens) {
		s.TotalTokS = float64(s.TotalInputTokens+s.TotalOutputTokens) / s.DurationS
		im.notes = append(im.notes, "total_tok_s is (input + output tokens) / duration")
	}

	// What was run.
	r := &s.Run
	cfg := obj(doc, "input_config")
	ep := obj(cfg, "endpoint")
	if ep == nil {
		ep = cfg
	}
	for _, k := range []string{"model_names", "model"} {
		switch v := ep[k].(type) {
		case []any:
			if len(v) > 0 {
				r.Model, _ = v[0].(string)
			}
		case string:
			r.Model = v
		}
		if r.Model != "" {
			break
		}
	}
	r.URL = str(ep, "url")
	r.Endpoint = str(ep, "type")
	if r.Endpoint == "" {
		r.Endpoint = str(ep, "endpoint_type")
	}
	if b, ok := ep["streaming"].(bool); ok {
		r.Streaming = &b
	}
	lg := obj(cfg, "loadgen")
	if lg == nil {
		lg = cfg
	}
	if c, ok := count(lg, "concurrency"); ok && c > 0 {
		r.Concurrency = &c
	}
	if v := rate(lg, "request_rate"); !math.IsNaN(v) {
		r.RequestRate = &v
	}
	if okN {
		r.NumRequests = new(int)
		*r.NumRequests = n + s.Failed
	}
	im.setLens("total (or mean) sequence lengths in the file")

	switch {
	case r.Streaming != nil && !*r.Streaming:
		im.noLatency("not streamed: the file's TTFT is the whole reply, so TTFT, ITL and TPOT are unknown", true)
	case !math.IsNaN(s.TTFT.Mean) && s.TTFT.Mean == s.E2E.Mean && s.TTFT.Median == s.E2E.Median:
		im.noLatency("TTFT equals E2E: a non-streaming run, so TTFT, ITL and TPOT are unknown", true)
	case okN && n == 0:
		im.noLatency("no request completed: every latency is unknown", true)
	}
	return []Summary{im.finish()}, nil
}

// errorSummary reads AIPerf's error_summary [{error_details: {code, type}, count}] into
// counts by "HTTP code type".
func errorSummary(doc map[string]any) map[string]int {
	list, _ := doc["error_summary"].([]any)
	out := map[string]int{}
	for _, e := range list {
		m, _ := e.(map[string]any)
		c, ok := count(m, "count")
		if !ok {
			continue
		}
		d := obj(m, "error_details")
		kind := str(d, "type")
		if code, ok := count(d, "code"); ok {
			kind = strings.TrimSpace(fmt.Sprintf("HTTP %d %s", code, kind))
		}
		if kind == "" {
			kind = "error"
		}
		out[kind] += c
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

var csvUnit = regexp.MustCompile(`\s*\(([^)]*)\)\s*$`)

// importPerfCSV reads GenAI-Perf's or AIPerf's CSV export: a table "Metric,avg,min,…"
// of distributions, then "Metric,Value" rows. Rows become the JSON export's metric
// objects ("Time To First Token (ms)" → time_to_first_token with unit ms).
func importPerfCSV(b []byte, format string) ([]Summary, error) {
	doc := map[string]any{}
	var header []string
	for _, block := range bytes.Split(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n\n")) {
		cr := csv.NewReader(bytes.NewReader(bytes.TrimSpace(block)))
		cr.FieldsPerRecord = -1
		rows, err := cr.ReadAll()
		if err != nil {
			return nil, fmt.Errorf("CSV: %v", err)
		}
		for _, row := range rows {
			if len(row) == 0 || strings.TrimSpace(row[0]) == "" {
				continue
			}
			if strings.EqualFold(strings.TrimSpace(row[0]), "Metric") { // a table's header (AIPerf may omit the blank line)
				header = row
				continue
			}
			name := strings.TrimSpace(row[0])
			unit := ""
			if m := csvUnit.FindStringSubmatch(name); m != nil {
				unit = m[1]
				name = strings.TrimSpace(name[:len(name)-len(m[0])])
			}
			key := strings.ToLower(strings.ReplaceAll(name, " ", "_"))
			m := map[string]any{"unit": unit}
			for j := 1; j < len(row) && j < len(header); j++ {
				v := strings.ReplaceAll(strings.TrimSpace(row[j]), ",", "")
				if v == "" || v == "N/A" {
					continue
				}
				stat := strings.ToLower(strings.TrimSpace(header[j]))
				if stat == "value" {
					stat = "avg"
				}
				m[stat] = json.Number(v)
			}
			doc[key] = m
		}
	}
	if len(doc) == 0 {
		return nil, fmt.Errorf("CSV: no metric rows")
	}
	aiperf := format == FormatAIPerf
	if format == FormatAuto {
		_, a := doc["inter_chunk_latency"]
		_, b := doc["benchmark_duration"]
		_, c := doc["error_request_count"]
		aiperf = a || b || c
	} else if format != FormatGenAIPerf && format != FormatAIPerf {
		return nil, fmt.Errorf("a CSV file is a GenAI-Perf or AIPerf export, not %s", format)
	}
	// CSV numbers must be finite numbers; json.Number checks happen in number().
	for k, v := range doc {
		m := v.(map[string]any)
		for st, x := range m {
			if n, ok := x.(json.Number); ok {
				if _, err := n.Float64(); err != nil {
					return nil, fmt.Errorf("CSV: %s %s: %q is not a number", k, st, string(n))
				}
			}
		}
	}
	return importGenAIPerf(doc, aiperf)
}
