package bench

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"roofline/units"
)

// num prints v with 3 significant figures, "-" when unknown.
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return units.Sig(v)
}

// count prints a count field of s, "-" when the file did not give it.
func (s Summary) count(field string, v int) string {
	if !s.Known(field) {
		return "-"
	}
	return strconv.Itoa(v)
}

// Describe says in one line what was run: URL, model, endpoint, load and lengths, as
// far as they are known ("" when nothing is).
func (r RunInfo) Describe() string {
	var parts []string
	add := func(format string, a ...any) { parts = append(parts, fmt.Sprintf(format, a...)) }
	if r.URL != "" {
		add("%s", r.URL)
	}
	if r.Model != "" {
		add("model %s", r.Model)
	}
	if r.Endpoint != "" {
		add("endpoint %s", r.Endpoint)
	}
	if r.Streaming != nil && !*r.Streaming {
		add("not streamed")
	}
	switch {
	case r.RequestRate != nil && math.IsInf(*r.RequestRate, 1):
		add("all requests at once")
	case r.RequestRate != nil:
		load := fmt.Sprintf("open loop %s req/s", units.Sig(*r.RequestRate))
		if r.Burstiness != nil && *r.Burstiness != 1 {
			load += fmt.Sprintf(" (burstiness %s)", units.Sig(*r.Burstiness))
		}
		add("%s", load)
	}
	if r.Concurrency != nil {
		if r.RequestRate != nil {
			add("at most %d in flight", *r.Concurrency)
		} else {
			add("concurrency %d", *r.Concurrency)
		}
	}
	if r.NumRequests != nil {
		add("%d requests", *r.NumRequests)
	}
	if r.InputLen != nil || r.OutputLen != nil {
		add("input %s / output %s tokens", length(r.InputLen), length(r.OutputLen))
	}
	return strings.Join(parts, ", ")
}

// length prints a token length: whole numbers as they are, others with 3 figures.
func length(p *float64) string {
	v := val(p)
	if v == math.Trunc(v) && math.Abs(v) < 1e9 {
		return strconv.Itoa(int(v))
	}
	return num(v)
}

// WriteTable prints s as a text table: what was run, counts, throughput, then one row
// per latency distribution, then the percentile method, definition differences and
// every warning.
func (s Summary) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	title := s.Source
	if s.ToolVersion != "" {
		title += " " + s.ToolVersion
	}
	if s.Name != "" {
		title += ": " + s.Name
	}
	fmt.Fprintf(tw, "%s\n", title)
	if d := s.Run.Describe(); d != "" {
		fmt.Fprintf(tw, "run\t%s\n", d)
	}
	fmt.Fprintf(tw, "requests\t%s completed, %s failed, %s without content\n", s.count(FieldCompleted, s.Completed), s.count(FieldFailed, s.Failed), s.count(FieldNoContent, s.NoContent))
	fmt.Fprintf(tw, "duration\t%s s\n", num(s.DurationS))
	tokNote := ""
	if s.Approximate {
		tokNote = " (approximate: some counted from chunks)"
	}
	fmt.Fprintf(tw, "tokens\t%s input, %s output%s\n", s.count(FieldTotalInputTokens, s.TotalInputTokens), s.count(FieldTotalOutputTokens, s.TotalOutputTokens), tokNote)
	fmt.Fprintf(tw, "throughput\t%s req/s, %s output tok/s, %s total tok/s\n", num(s.RequestPerS), num(s.OutputTokS), num(s.TotalTokS))
	if s.GoodputReqS != nil {
		fmt.Fprintf(tw, "goodput\t%s req/s meeting every SLO\n", num(*s.GoodputReqS))
	}
	fmt.Fprintf(tw, "chunks per token\t%s\n", num(s.ChunksPerToken))
	fmt.Fprintf(tw, "\nmetric\tmean\tmedian\tp90\tp95\tp99\tstd\tn\n")
	for _, r := range []struct {
		name, key string
		d         Dist
	}{{"TTFT (ms)", "ttft_ms", s.TTFT}, {"ITL (ms)", "itl_ms", s.ITL}, {"TPOT (ms)", "tpot_ms", s.TPOT}, {"E2E (ms)", "e2e_ms", s.E2E}, {"per-user (tok/s)", "output_tok_s_per_user", s.OutputTokSPerUser}} {
		n := "-"
		if r.d.Count > 0 {
			n = strconv.Itoa(r.d.Count)
		}
		name := r.name
		if _, ok := s.Definitions[r.key]; ok {
			name += " *"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, num(r.d.Mean), num(r.d.Median), num(r.d.P90), num(r.d.P95), num(r.d.P99), num(r.d.Std), n)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "percentiles: %s\n", s.Percentiles)
	switch s.TimingOrigin {
	case OriginSent:
		fmt.Fprintf(w, "TTFT and E2E from: the actual send (as vllm bench serve)\n")
	case OriginScheduled:
		fmt.Fprintf(w, "TTFT and E2E from: the scheduled send (waiting for a free slot counts)\n")
	}
	keys := make([]string, 0, len(s.Definitions))
	for k := range s.Definitions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "* %s has another definition: %s\n", k, s.Definitions[k])
	}
	for _, x := range s.Warnings {
		fmt.Fprintf(w, "warning: %s\n", x)
	}
	return nil
}

// WriteJSON writes s as indented JSON (base units or units in field names; unknown
// numbers as null).
func (s Summary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// CSVHeader lists the columns WriteCSV writes; latency columns are named like the
// validation metrics (ttft_ms_mean, itl_ms_p99, …).
func CSVHeader() []string {
	h := []string{"source", "name", "completed", "failed", "no_content", "total_input_tokens", "total_output_tokens",
		"duration_s", "request_per_s", "output_tok_s", "total_tok_s"}
	for _, m := range []string{"ttft_ms", "itl_ms", "tpot_ms", "e2e_ms", "output_tok_s_per_user"} {
		for _, st := range []string{"mean", "median", "p90", "p95", "p99", "std"} {
			h = append(h, m+"_"+st)
		}
	}
	return append(h, "chunks_per_token", "approximate")
}

// WriteCSV writes a header (CSVHeader) and one row per summary, numbers at full
// precision, unknown ones empty.
func WriteCSV(w io.Writer, ss ...Summary) error {
	cw := csv.NewWriter(w)
	cw.Write(CSVHeader())
	f := func(v float64) string {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return ""
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	for _, s := range ss {
		c := func(field string, v int) string {
			if !s.Known(field) {
				return ""
			}
			return strconv.Itoa(v)
		}
		row := []string{s.Source, s.Name, c(FieldCompleted, s.Completed), c(FieldFailed, s.Failed), c(FieldNoContent, s.NoContent),
			c(FieldTotalInputTokens, s.TotalInputTokens), c(FieldTotalOutputTokens, s.TotalOutputTokens),
			f(s.DurationS), f(s.RequestPerS), f(s.OutputTokS), f(s.TotalTokS)}
		for _, d := range []Dist{s.TTFT, s.ITL, s.TPOT, s.E2E, s.OutputTokSPerUser} {
			row = append(row, f(d.Mean), f(d.Median), f(d.P90), f(d.P95), f(d.P99), f(d.Std))
		}
		row = append(row, f(s.ChunksPerToken), strconv.FormatBool(s.Approximate))
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}
