package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// VLLMMeta is what a vLLM result file records about the run besides its metrics.
type VLLMMeta struct {
	Date           time.Time // start of the run; written as vLLM's "%Y%m%d-%H%M%S" in UTC
	Backend        string    // vLLM's backend name: "openai-chat" or "openai" (completions)
	ModelID        string    // model name sent in each request
	TokenizerID    string    // "" writes ModelID, as vLLM does when no tokenizer is given
	NumPrompts     int       // requests scheduled
	RequestRate    float64   // requests/s; 0 or +Inf is written "inf" (closed loop or all at once)
	Burstiness     float64   // gamma shape of arrival gaps (0 is written 1.0)
	MaxConcurrency int       // cap on requests in flight; 0 is written null
}

// VLLMPercentiles parses vLLM's --percentiles value ("99", "50,90,99"): numbers in
// (0, 100], returned sorted without duplicates.
func VLLMPercentiles(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		p, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(p > 0 && p <= 100) {
			return nil, fmt.Errorf("%q: want percentiles in (0, 100] separated by commas, such as 50,90,99", s)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	sort.Float64s(out)
	return out, nil
}

// pctKey names a percentile as vLLM does: str(int(p)) when p is whole, else str(p).
func pctKey(p float64) string {
	if p == math.Trunc(p) {
		return strconv.Itoa(int(p))
	}
	return strconv.FormatFloat(p, 'f', -1, 64)
}

// WriteVLLMResult writes s in the schema of vllm bench serve --save-result, so scripts
// written for vLLM read it: date, backend, model_id, tokenizer_id, num_prompts,
// request_rate, burstiness, max_concurrency, duration, completed, failed,
// total_input_tokens, total_output_tokens, request_throughput, request_goodput,
// output_throughput, total_token_throughput, and mean_/median_/std_ plus p<P>_ for
// each of percentiles (vLLM's default is 99) of ttft_ms, tpot_ms, itl_ms and e2el_ms.
// Times are ms, rates per second, as vLLM. An unknown statistic (empty sample) is
// null, where vLLM writes 0. Percentiles other than 90, 95 and 99 need the samples of a
// Summarize result; for an imported Summary they are an error.
func WriteVLLMResult(w io.Writer, s Summary, meta VLLMMeta, percentiles []float64) error {
	var b bytes.Buffer
	first := true
	field := func(k string, v any) {
		if !first {
			b.WriteString(",\n")
		}
		first = false
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(v)
		if err != nil {
			vb = []byte("null")
		}
		b.WriteString("  ")
		b.Write(kb)
		b.WriteString(": ")
		b.Write(vb)
	}
	num := func(v float64) any {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return v
	}
	b.WriteString("{\n")
	field("date", meta.Date.UTC().Format("20060102-150405"))
	field("backend", meta.Backend)
	field("model_id", meta.ModelID)
	tok := meta.TokenizerID
	if tok == "" {
		tok = meta.ModelID
	}
	field("tokenizer_id", tok)
	field("num_prompts", meta.NumPrompts)
	if meta.RequestRate > 0 && !math.IsInf(meta.RequestRate, 1) {
		field("request_rate", meta.RequestRate)
	} else {
		field("request_rate", "inf")
	}
	burst := meta.Burstiness
	if burst == 0 {
		burst = 1
	}
	field("burstiness", burst)
	if meta.MaxConcurrency > 0 {
		field("max_concurrency", meta.MaxConcurrency)
	} else {
		field("max_concurrency", nil)
	}
	field("duration", num(s.DurationS))
	field("completed", s.Completed)
	field("failed", s.Failed)
	field("total_input_tokens", s.TotalInputTokens)
	field("total_output_tokens", s.TotalOutputTokens)
	field("request_throughput", num(s.RequestPerS))
	if s.GoodputReqS != nil {
		field("request_goodput", num(*s.GoodputReqS))
	} else {
		field("request_goodput", nil)
	}
	field("output_throughput", num(s.OutputTokS))
	field("total_token_throughput", num(s.TotalTokS))
	for _, m := range []struct {
		key string
		d   Dist
		xs  func(*samples) []float64
	}{
		{"ttft", s.TTFT, func(x *samples) []float64 { return x.ttft }},
		{"tpot", s.TPOT, func(x *samples) []float64 { return x.tpot }},
		{"itl", s.ITL, func(x *samples) []float64 { return x.itl }},
		{"e2el", s.E2E, func(x *samples) []float64 { return x.e2e }},
	} {
		field("mean_"+m.key+"_ms", num(m.d.Mean))
		field("median_"+m.key+"_ms", num(m.d.Median))
		field("std_"+m.key+"_ms", num(m.d.Std))
		var sorted []float64
		if s.samples != nil {
			sorted = append(sorted, m.xs(s.samples)...)
			sort.Float64s(sorted)
		}
		for _, p := range percentiles {
			var v float64
			switch {
			case s.samples != nil:
				v = Percentile(sorted, p)
			case p == 90:
				v = m.d.P90
			case p == 95:
				v = m.d.P95
			case p == 99:
				v = m.d.P99
			default:
				return fmt.Errorf("percentile %v: only 90, 95 and 99 are known for a summary that was not computed from records", p)
			}
			field("p"+pctKey(p)+"_"+m.key+"_ms", num(v))
		}
	}
	b.WriteString("\n}\n")
	_, err := w.Write(b.Bytes())
	return err
}

// WriteVLLMResultFile writes WriteVLLMResult's document to the file path.
func WriteVLLMResultFile(path string, s Summary, meta VLLMMeta, percentiles []float64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteVLLMResult(f, s, meta, percentiles); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
