package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
)

// PercentileMethod says how every percentile of this package is computed.
const PercentileMethod = "linear interpolation between closest ranks (numpy default)"

// Dist summarises a sample. A statistic that is not known (empty sample, or not in an
// imported file) is NaN, written as null in JSON and "-" in tables.
type Dist struct {
	Count                            int // sample size; CountUnknown when a file does not say
	Mean, Median, P90, P95, P99, Std float64
}

// CountUnknown is Dist.Count when the sample size is not known (an imported file that
// does not give it); it is written as null in JSON and "-" in tables.
const CountUnknown = -1

// unknownDist is a Dist with every statistic unknown (sample size 0).
func unknownDist() Dist {
	n := math.NaN()
	return Dist{Mean: n, Median: n, P90: n, P95: n, P99: n, Std: n}
}

// NewDist summarises xs: arithmetic mean, population standard deviation (ddof 0, as
// numpy.std), and percentiles by linear interpolation (see Percentile). xs is not
// modified. An empty xs gives Count 0 and NaN statistics.
func NewDist(xs []float64) Dist {
	if len(xs) == 0 {
		return unknownDist()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	var sum float64
	for _, x := range s {
		sum += x
	}
	mean := sum / float64(len(s))
	var ss float64
	for _, x := range s {
		ss += (x - mean) * (x - mean)
	}
	return Dist{
		Count: len(s), Mean: mean, Std: math.Sqrt(ss / float64(len(s))),
		Median: Percentile(s, 50), P90: Percentile(s, 90), P95: Percentile(s, 95), P99: Percentile(s, 99),
	}
}

// Percentile returns the p-th percentile (0 ≤ p ≤ 100) of the ascending slice sorted,
// numpy's default "linear" method: with h = (n−1)·p/100, the value is
// sorted[⌊h⌋] + (h − ⌊h⌋)·(sorted[⌊h⌋+1] − sorted[⌊h⌋]). Empty input gives NaN.
func Percentile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	h := float64(n-1) * p / 100
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return sorted[n-1]
	}
	if lo < 0 {
		return sorted[0]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

type distJSON struct {
	Count  *int     `json:"count"`
	Mean   *float64 `json:"mean"`
	Median *float64 `json:"median"`
	P90    *float64 `json:"p90"`
	P95    *float64 `json:"p95"`
	P99    *float64 `json:"p99"`
	Std    *float64 `json:"std"`
}

func ptr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func val(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// MarshalJSON writes {"count", "mean", "median", "p90", "p95", "p99", "std"}, unknown
// statistics and an unknown count as null.
func (d Dist) MarshalJSON() ([]byte, error) {
	var n *int
	if d.Count >= 0 {
		n = &d.Count
	}
	return json.Marshal(distJSON{n, ptr(d.Mean), ptr(d.Median), ptr(d.P90), ptr(d.P95), ptr(d.P99), ptr(d.Std)})
}

// UnmarshalJSON reads what MarshalJSON writes; null or absent statistics become NaN.
func (d *Dist) UnmarshalJSON(b []byte) error {
	var j distJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	n := CountUnknown
	if j.Count != nil {
		n = *j.Count
	}
	*d = Dist{n, val(j.Mean), val(j.Median), val(j.P90), val(j.P95), val(j.P99), val(j.Std)}
	return nil
}

// SLO holds per-request service-level objectives for goodput; a zero field is no limit.
type SLO struct {
	TTFTMs         float64 // TTFT ≤ this, ms
	TPOTMs         float64 // TPOT ≤ this, ms
	E2EMs          float64 // E2E latency ≤ this, ms
	MinTokSPerUser float64 // per-user output tokens/s ≥ this
}

func (s SLO) set() bool { return s.TTFTMs > 0 || s.TPOTMs > 0 || s.E2EMs > 0 || s.MinTokSPerUser > 0 }

// Timing origins of TTFT and E2E (Options.TimingOrigin).
const (
	// OriginSent times from the moment each request was actually sent, as vllm bench
	// serve does. Under a concurrency cap, or with a client that falls behind, time
	// spent waiting for a free slot is not counted.
	OriginSent = "sent"
	// OriginScheduled times from the moment each request was due by the arrival
	// schedule, so waiting behind a concurrency cap or a slow client counts as latency
	// (what a user arriving at that moment would see).
	OriginScheduled = "scheduled"
)

// Options tune Summarize; the zero value times from the actual send and computes no
// goodput.
type Options struct {
	// TimingOrigin is OriginSent (also for "") or OriginScheduled.
	TimingOrigin string
	SLO          SLO // goodput is computed when any objective is set
}

// RunInfo says what was run, as far as the result file tells: the hints compare uses
// instead of asking the user to retype them. An unknown field is zero ("" or nil).
type RunInfo struct {
	URL         string   `json:"url,omitempty"`          // server address
	Model       string   `json:"model,omitempty"`        // model name sent in requests
	Endpoint    string   `json:"endpoint,omitempty"`     // chat, completions, or the tool's backend name
	Streaming   *bool    `json:"streaming,omitempty"`    // false: no TTFT, ITL or TPOT can be measured
	NumRequests *int     `json:"num_requests,omitempty"` // requests sent (prompts)
	RequestRate *float64 `json:"request_rate,omitempty"` // open loop, requests/s (+Inf written as null: all at once)
	RateInf     bool     `json:"request_rate_inf,omitempty"`
	Burstiness  *float64 `json:"burstiness,omitempty"`  // gamma shape of arrival gaps (1 = Poisson)
	Concurrency *int     `json:"concurrency,omitempty"` // requests in flight (closed loop, or cap)
	InputLen    *float64 `json:"input_len,omitempty"`   // mean prompt tokens per completed request
	OutputLen   *float64 `json:"output_len,omitempty"`  // mean output tokens per completed request
	LenSource   string   `json:"len_source,omitempty"`  // how InputLen/OutputLen were obtained
}

// Summary fields that an imported file may lack; Summary.Missing names them and JSON
// writes them as null.
const (
	FieldCompleted         = "completed"
	FieldFailed            = "failed"
	FieldNoContent         = "no_content"
	FieldTotalInputTokens  = "total_input_tokens"
	FieldTotalOutputTokens = "total_output_tokens"
)

// Summary is the result of a run, or of an imported result file, in this package's
// metric names (see the package doc for the definitions). Latencies are in ms.
type Summary struct {
	Source            string            `json:"source"`                  // tool: "roofline bench", "vllm bench serve", "SGLang bench_serving", …
	ToolVersion       string            `json:"tool_version,omitempty"`  // the tool's version or schema generation, as the file says
	Name              string            `json:"name,omitempty"`          // which benchmark of a file holding several
	Run               RunInfo           `json:"run"`                     // what was run (URL, model, load, lengths)
	Completed         int               `json:"completed"`               // successful requests
	Failed            int               `json:"failed"`                  // requests with an error
	NoContent         int               `json:"no_content"`              // successful requests without a content chunk
	TotalInputTokens  int               `json:"total_input_tokens"`      // prompt tokens of completed requests
	TotalOutputTokens int               `json:"total_output_tokens"`     // completion tokens of completed requests
	DurationS         float64           `json:"duration_s"`              // first send → last end of stream, s
	RequestPerS       float64           `json:"request_per_s"`           // Completed / DurationS
	OutputTokS        float64           `json:"output_tok_s"`            // TotalOutputTokens / DurationS
	TotalTokS         float64           `json:"total_tok_s"`             // (input + output tokens) / DurationS
	GoodputReqS       *float64          `json:"goodput_req_s,omitempty"` // requests/s meeting every SLO (nil: no SLO)
	TTFT              Dist              `json:"ttft_ms"`
	ITL               Dist              `json:"itl_ms"`
	TPOT              Dist              `json:"tpot_ms"`
	E2E               Dist              `json:"e2e_ms"`
	OutputTokSPerUser Dist              `json:"output_tok_s_per_user"`
	ChunksPerToken    float64           `json:"chunks_per_token"`                 // content chunks / completion tokens (NaN: unknown)
	Approximate       bool              `json:"approximate"`                      // some token counts are counted chunks, not usage
	Percentiles       string            `json:"percentile_method"`                // PercentileMethod, or the importer's
	TimingOrigin      string            `json:"timing_origin,omitempty"`          // OriginSent or OriginScheduled ("" : the file does not say)
	Missing           []string          `json:"missing,omitempty"`                // Field* names not known (written as null)
	Definitions       map[string]string `json:"definition_differences,omitempty"` // metric JSON name (itl_ms, …) → how the file's definition differs
	Errors            map[string]int    `json:"errors,omitempty"`                 // failed requests by Record.ErrorKind
	Warnings          []string          `json:"warnings,omitempty"`               // caveats every renderer prints

	samples *samples // raw per-request latencies of a Summarize result (nil when imported)
}

// samples are the latency samples behind a Summary's distributions, in ms.
type samples struct{ ttft, itl, tpot, e2e []float64 }

// Known reports whether the count field (a Field* name) is known.
func (s Summary) Known(field string) bool {
	for _, m := range s.Missing {
		if m == field {
			return false
		}
	}
	return true
}

// summaryJSON is Summary's wire form: the same fields in the same order, with unknown
// (NaN or missing) top-level numbers as null.
type summaryJSON struct {
	Source            string            `json:"source"`
	ToolVersion       string            `json:"tool_version,omitempty"`
	Name              string            `json:"name,omitempty"`
	Run               RunInfo           `json:"run"`
	Completed         *int              `json:"completed"`
	Failed            *int              `json:"failed"`
	NoContent         *int              `json:"no_content"`
	TotalInputTokens  *int              `json:"total_input_tokens"`
	TotalOutputTokens *int              `json:"total_output_tokens"`
	DurationS         *float64          `json:"duration_s"`
	RequestPerS       *float64          `json:"request_per_s"`
	OutputTokS        *float64          `json:"output_tok_s"`
	TotalTokS         *float64          `json:"total_tok_s"`
	GoodputReqS       *float64          `json:"goodput_req_s,omitempty"`
	TTFT              Dist              `json:"ttft_ms"`
	ITL               Dist              `json:"itl_ms"`
	TPOT              Dist              `json:"tpot_ms"`
	E2E               Dist              `json:"e2e_ms"`
	OutputTokSPerUser Dist              `json:"output_tok_s_per_user"`
	ChunksPerToken    *float64          `json:"chunks_per_token"`
	Approximate       bool              `json:"approximate"`
	Percentiles       string            `json:"percentile_method"`
	TimingOrigin      string            `json:"timing_origin,omitempty"`
	Missing           []string          `json:"missing,omitempty"`
	Definitions       map[string]string `json:"definition_differences,omitempty"`
	Errors            map[string]int    `json:"errors,omitempty"`
	Warnings          []string          `json:"warnings,omitempty"`
}

// MarshalJSON writes s with unknown (NaN) numbers and Missing counts as null.
func (s Summary) MarshalJSON() ([]byte, error) {
	c := func(field string, v int) *int {
		if !s.Known(field) {
			return nil
		}
		return &v
	}
	if math.IsInf(val(s.Run.RequestRate), 1) {
		s.Run.RequestRate, s.Run.RateInf = nil, true
	}
	return json.Marshal(summaryJSON{s.Source, s.ToolVersion, s.Name, s.Run,
		c(FieldCompleted, s.Completed), c(FieldFailed, s.Failed), c(FieldNoContent, s.NoContent),
		c(FieldTotalInputTokens, s.TotalInputTokens), c(FieldTotalOutputTokens, s.TotalOutputTokens),
		ptr(s.DurationS), ptr(s.RequestPerS), ptr(s.OutputTokS), ptr(s.TotalTokS), s.GoodputReqS,
		s.TTFT, s.ITL, s.TPOT, s.E2E, s.OutputTokSPerUser, ptr(s.ChunksPerToken), s.Approximate, s.Percentiles, s.TimingOrigin,
		s.Missing, s.Definitions, s.Errors, s.Warnings})
}

// UnmarshalJSON reads what MarshalJSON writes (null numbers become NaN, null counts 0
// and listed in Missing); unknown fields are an error.
func (s *Summary) UnmarshalJSON(b []byte) error {
	var v summaryJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	missing := append([]string(nil), v.Missing...)
	c := func(field string, p *int) int {
		if p == nil {
			if !slices.Contains(missing, field) {
				missing = append(missing, field)
			}
			return 0
		}
		return *p
	}
	if v.Run.RateInf {
		inf := math.Inf(1)
		v.Run.RequestRate, v.Run.RateInf = &inf, false
	}
	*s = Summary{v.Source, v.ToolVersion, v.Name, v.Run,
		c(FieldCompleted, v.Completed), c(FieldFailed, v.Failed), c(FieldNoContent, v.NoContent),
		c(FieldTotalInputTokens, v.TotalInputTokens), c(FieldTotalOutputTokens, v.TotalOutputTokens),
		val(v.DurationS), val(v.RequestPerS), val(v.OutputTokS), val(v.TotalTokS), v.GoodputReqS,
		v.TTFT, v.ITL, v.TPOT, v.E2E, v.OutputTokSPerUser, val(v.ChunksPerToken), v.Approximate, v.Percentiles, v.TimingOrigin,
		missing, v.Definitions, v.Errors, v.Warnings, nil}
	if len(s.Missing) == 0 {
		s.Missing = nil
	}
	return nil
}

// Summarize computes the metrics of records (any order) as the package doc defines
// them. Failed requests count in Failed and Errors and in the duration, nowhere else;
// successful ones without content count in NoContent and in the token totals but in no
// latency. Empty input gives a zero Summary with NaN statistics.
func Summarize(records []Record, opt Options) Summary {
	origin := OriginSent
	if opt.TimingOrigin == OriginScheduled {
		origin = OriginScheduled
	}
	s := Summary{Source: "roofline bench", Percentiles: PercentileMethod, ChunksPerToken: math.NaN(), TimingOrigin: origin}
	var ttft, itl, tpot, e2e, perUser []float64
	first, last := math.Inf(1), math.Inf(-1)
	chunks, counted, tpotSkipped, userSkipped, good := 0, 0, 0, 0, 0
	notes := map[string]int{}
	var noteOrder []string
	firstErr := "" // the first failed request's error, verbatim
	for _, r := range records {
		first = math.Min(first, r.SentS)
		last = math.Max(last, math.Max(r.EndS, r.LastContentS))
		if r.Note != "" {
			if notes[r.Note] == 0 {
				noteOrder = append(noteOrder, r.Note)
			}
			notes[r.Note]++
		}
		if !r.OK() {
			s.Failed++
			if s.Errors == nil {
				s.Errors = map[string]int{}
			}
			s.Errors[r.ErrorKind()]++
			if firstErr == "" {
				firstErr = r.Error
			}
			continue
		}
		s.Completed++
		s.TotalInputTokens += r.PromptTokens
		s.TotalOutputTokens += r.CompletionTokens
		chunks += r.ContentChunks
		if r.UsageSource != UsageFromServer {
			counted++
		}
		if !r.HasContent() {
			s.NoContent++
			continue
		}
		start := r.SentS
		if origin == OriginScheduled {
			start = r.ScheduledS
		}
		t := (r.FirstContentS - start) * 1e3
		e := (r.LastContentS - start) * 1e3
		ttft = append(ttft, t)
		e2e = append(e2e, e)
		for i := 1; i < len(r.ChunkS); i++ {
			itl = append(itl, (r.ChunkS[i]-r.ChunkS[i-1])*1e3)
		}
		var tp float64
		if r.CompletionTokens > 1 {
			tp = (r.LastContentS - r.FirstContentS) * 1e3 / float64(r.CompletionTokens-1)
			tpot = append(tpot, tp)
		} else {
			tpotSkipped++
		}
		var pu float64
		if span := r.LastContentS - r.FirstContentS; span > 0 {
			pu = float64(r.CompletionTokens) / span
			perUser = append(perUser, pu)
		} else {
			userSkipped++
		}
		sl := opt.SLO
		if (sl.TTFTMs == 0 || t <= sl.TTFTMs) && (sl.E2EMs == 0 || e <= sl.E2EMs) &&
			(sl.TPOTMs == 0 || tp <= sl.TPOTMs) && (sl.MinTokSPerUser == 0 || (pu > 0 && pu >= sl.MinTokSPerUser)) {
			good++
		}
	}
	s.TTFT, s.ITL, s.TPOT, s.E2E, s.OutputTokSPerUser = NewDist(ttft), NewDist(itl), NewDist(tpot), NewDist(e2e), NewDist(perUser)
	s.samples = &samples{ttft, itl, tpot, e2e}
	if len(records) > 0 && last > first {
		s.DurationS = last - first
		s.RequestPerS = float64(s.Completed) / s.DurationS
		s.OutputTokS = float64(s.TotalOutputTokens) / s.DurationS
		s.TotalTokS = float64(s.TotalInputTokens+s.TotalOutputTokens) / s.DurationS
		if opt.SLO.set() {
			g := float64(good) / s.DurationS
			s.GoodputReqS = &g
		}
	}
	if s.TotalOutputTokens > 0 {
		s.ChunksPerToken = float64(chunks) / float64(s.TotalOutputTokens)
	}
	s.Approximate = counted > 0
	w := func(format string, a ...any) { s.Warnings = append(s.Warnings, fmt.Sprintf(format, a...)) }
	if s.Failed > 0 {
		w("%d of %d requests failed (%s); they are left out of every metric but the duration", s.Failed, len(records), errorList(s.Errors))
		// The kinds alone ("transport ×3") do not say why: a refused connection, a
		// wrong path, a DNS failure. The first failure's own text does.
		if r := []rune(firstErr); len(r) > 300 {
			firstErr = string(r[:300]) + "…"
		}
		w("first failure: %s", firstErr)
	}
	if counted > 0 {
		w("%d of %d completed requests had no usage in their stream: their output tokens are counted content chunks and their prompt tokens the client's estimate (approximate)", counted, s.Completed)
	}
	if s.NoContent > 0 {
		w("%d completed requests returned no content chunk: no TTFT, left out of every latency", s.NoContent)
	}
	if tpotSkipped > 0 {
		w("%d requests with ≤ 1 output token are left out of TPOT", tpotSkipped)
	}
	if userSkipped > 0 {
		w("%d requests with a single content chunk are left out of per-user tok/s", userSkipped)
	}
	if c := s.ChunksPerToken; !math.IsNaN(c) && math.Abs(c-1) > 0.05 {
		w("the server sent %.3g content chunks per output token: ITL is a per-chunk statistic, TPOT a per-token one", c)
	}
	for _, n := range noteOrder {
		w("%d requests: %s", notes[n], n)
	}
	limited, maxRetry := 0, 0.0
	for _, r := range records {
		if r.RetryAfterS > 0 {
			limited++
			maxRetry = math.Max(maxRetry, r.RetryAfterS)
		}
	}
	if limited > 0 {
		w("%d requests were refused with HTTP 429/503 and Retry-After (up to %g s): the server is shedding load; the client does not retry them", limited, maxRetry)
	}
	return s
}

// errorList formats error counts as "HTTP 500 ×3, timeout ×1", sorted by kind.
func errorList(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b []byte
	for i, k := range keys {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, k...)
		b = append(b, " ×"...)
		b = strconv.AppendInt(b, int64(m[k]), 10)
	}
	return string(b)
}
