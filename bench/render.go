package bench

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
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

// WriteTable prints s as a text table: counts, throughput, then one row per latency
// distribution, then the percentile method and every warning.
func (s Summary) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	title := s.Source
	if s.Name != "" {
		title += ": " + s.Name
	}
	fmt.Fprintf(tw, "%s\n", title)
	fmt.Fprintf(tw, "requests\t%d completed, %d failed, %d without content\n", s.Completed, s.Failed, s.NoContent)
	fmt.Fprintf(tw, "duration\t%s s\n", num(s.DurationS))
	tokNote := ""
	if s.Approximate {
		tokNote = " (approximate: some counted from chunks)"
	}
	fmt.Fprintf(tw, "tokens\t%d input, %d output%s\n", s.TotalInputTokens, s.TotalOutputTokens, tokNote)
	fmt.Fprintf(tw, "throughput\t%s req/s, %s output tok/s, %s total tok/s\n", num(s.RequestPerS), num(s.OutputTokS), num(s.TotalTokS))
	if s.GoodputReqS != nil {
		fmt.Fprintf(tw, "goodput\t%s req/s meeting every SLO\n", num(*s.GoodputReqS))
	}
	fmt.Fprintf(tw, "chunks per token\t%s\n", num(s.ChunksPerToken))
	fmt.Fprintf(tw, "\nmetric\tmean\tmedian\tp90\tp95\tp99\tstd\tn\n")
	for _, r := range []struct {
		name string
		d    Dist
	}{{"TTFT (ms)", s.TTFT}, {"ITL (ms)", s.ITL}, {"TPOT (ms)", s.TPOT}, {"E2E (ms)", s.E2E}, {"per-user (tok/s)", s.OutputTokSPerUser}} {
		n := "-"
		if r.d.Count > 0 {
			n = strconv.Itoa(r.d.Count)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.name, num(r.d.Mean), num(r.d.Median), num(r.d.P90), num(r.d.P95), num(r.d.P99), num(r.d.Std), n)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "percentiles: %s\n", s.Percentiles)
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
		row := []string{s.Source, s.Name, strconv.Itoa(s.Completed), strconv.Itoa(s.Failed), strconv.Itoa(s.NoContent),
			strconv.Itoa(s.TotalInputTokens), strconv.Itoa(s.TotalOutputTokens),
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
