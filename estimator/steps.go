package estimator

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// StepRow is one row of a steps.csv file (measured engine steps, for calibration).
type StepRow struct {
	Fields      []string // the row as read, every column
	Header      []string // the file's header
	Model       string
	GPU         string
	TP          int // 1 when empty
	WeightDtype string
	Phase       string  // prefill or decode
	Batch       int     // sequences, ≥ 1
	Tokens      int     // prompt tokens (prefill) or cached tokens per sequence (decode), ≥ 1
	Ms          float64 // measured step time in ms; 0 when empty
	// EnforceEager is the optional enforce_eager column (true, false or empty = false): the
	// step ran without CUDA graphs (Spec.EnforceEager), as the validation CSVs' column.
	EnforceEager bool
}

// ReadSteps parses a steps.csv (header model,gpu,tp,weight_dtype,phase,batch,tokens,ms
// required in any order, tp, weight_dtype, ms and enforce_eager optional; extra columns are
// kept). Errors
// name the file (name), the line and the field; a file without rows is an error.
func ReadSteps(r io.Reader, name string) ([]StepRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: empty file (want header model,gpu,tp,weight_dtype,phase,batch,tokens,ms)", name)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[strings.TrimSpace(h)] = i
	}
	for _, h := range []string{"model", "gpu", "phase", "batch", "tokens"} {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("%s: missing column %q (want header model,gpu,tp,weight_dtype,phase,batch,tokens,ms)", name, h)
		}
	}
	get := func(rec []string, k string) string {
		if i, ok := col[k]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var rows []StepRow
	for n, rec := range recs[1:] {
		line := n + 2
		r := StepRow{Fields: rec, Header: recs[0], Model: get(rec, "model"), GPU: get(rec, "gpu"), WeightDtype: get(rec, "weight_dtype"), Phase: get(rec, "phase")}
		var err error
		atoi := func(k string, def int) int {
			s := get(rec, k)
			if s == "" {
				return def
			}
			v, e := strconv.Atoi(s)
			if e != nil && err == nil {
				err = fmt.Errorf("%s:%d: %s %q is not an integer", name, line, k, s)
			}
			return v
		}
		r.TP, r.Batch, r.Tokens = atoi("tp", 1), atoi("batch", 0), atoi("tokens", 0)
		if s := get(rec, "ms"); s != "" {
			v, e := strconv.ParseFloat(s, 64)
			if e != nil || !(v >= 0) || math.IsInf(v, 1) { // NaN was accepted and printed as a measurement
				return nil, fmt.Errorf("%s:%d: ms %q is not a non-negative number", name, line, s)
			}
			r.Ms = v
		}
		if err != nil {
			return nil, err
		}
		switch e := strings.ToLower(get(rec, "enforce_eager")); e {
		case "", "false":
		case "true":
			r.EnforceEager = true
		default:
			return nil, fmt.Errorf("%s:%d: enforce_eager %q: allowed values are true, false (empty: false)", name, line, get(rec, "enforce_eager"))
		}
		if r.Phase != "prefill" && r.Phase != "decode" {
			return nil, fmt.Errorf("%s:%d: phase %q: allowed values are prefill, decode", name, line, r.Phase)
		}
		if r.Batch < 1 || r.Tokens < 1 {
			return nil, fmt.Errorf("%s:%d: batch and tokens must be ≥ 1", name, line)
		}
		if r.Batch > MaxSimRequests || r.Tokens > MaxTokens {
			// tokens 9223372036854775807 was priced at -8.1e12 ms and calibrated
			// memory_efficiency to 5.8e-13.
			return nil, fmt.Errorf("%s:%d: batch %d, tokens %d: at most %d sequences of %d tokens", name, line, r.Batch, r.Tokens, MaxSimRequests, MaxTokens)
		}
		if r.TP < 1 {
			// tp 0 was predicted as tp=1 and printed as 0.
			return nil, fmt.Errorf("%s:%d: tp %d: must be ≥ 1 (empty: 1)", name, line, r.TP)
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no step rows after the header (one row per measured step: model,gpu,tp,weight_dtype,phase,batch,tokens,ms)", name)
	}
	return rows, nil
}

// ColIndex returns the index of column name in header (−1 when absent).
func ColIndex(header []string, name string) int {
	for i, h := range header {
		if strings.TrimSpace(h) == name {
			return i
		}
	}
	return -1
}

// StepGroups names the group of each row for a leave-one-group-out check
// (CrossValidate): by "gpu", "dtype" or "model"; a row without the column takes its
// sample's GPU id, or "(checkpoint dtype)" by dtype.
func StepGroups(rows []StepRow, samples []StepSample, by string) []string {
	groups := make([]string, len(rows))
	for i, r := range rows {
		groups[i] = map[string]string{"gpu": r.GPU, "dtype": r.WeightDtype, "model": r.Model}[by]
		if groups[i] == "" {
			groups[i] = samples[i].Spec.GPU.ID
			if by == "dtype" {
				groups[i] = "(checkpoint dtype)"
			}
		}
	}
	return groups
}
