package validation

import (
	"fmt"
	"math"
	"strconv"

	"roofline/bench"
)

// RunHints are the model and workload a prediction is made for: lengths in tokens, load as
// concurrency or req/s with the gamma shape of the arrivals, and the request count.
type RunHints struct {
	Model                   string
	InputLen, OutputLen     int
	Concurrency             int
	RequestRate, Burstiness float64
	NumRequests             int
}

// Fill sets the values whose flag the user did not give (changed reports whether a flag,
// named without dashes, was given; modelFlag names the model flag) from what the result
// file says was run, and returns what it took ("input-len" → "1024 (mean of the file's
// token totals)"; nil when nothing). A value it needs and cannot find is an error naming
// the flag.
func (hv *RunHints) Fill(s bench.Summary, changed func(string) bool, modelFlag string) (map[string]string, error) {
	h := map[string]string{}
	r := s.Run
	if !changed(modelFlag) && hv.Model == "" {
		if r.Model == "" {
			return nil, fmt.Errorf("--%s: the file does not name the model; give --%s", modelFlag, modelFlag)
		}
		hv.Model = r.Model
		h[modelFlag] = r.Model
	}
	lenFrom := "from the file"
	if r.LenSource != "" {
		lenFrom = r.LenSource
	}
	for _, l := range []struct {
		flag string
		dst  *int
		v    *float64
	}{{"input-len", &hv.InputLen, r.InputLen}, {"output-len", &hv.OutputLen, r.OutputLen}} {
		if changed(l.flag) {
			continue
		}
		if l.v == nil || !(*l.v >= 1) {
			return nil, fmt.Errorf("--%s: not in the file (nor its token totals); give --%s", l.flag, l.flag)
		}
		*l.dst = int(math.Round(*l.v))
		h[l.flag] = fmt.Sprintf("%d (%s)", *l.dst, lenFrom)
	}
	loadGiven := changed("concurrency") || changed("request-rate") || changed("batch-size")
	if !loadGiven {
		switch {
		case r.RequestRate != nil && math.IsInf(*r.RequestRate, 1) && r.Concurrency != nil:
			hv.Concurrency = *r.Concurrency
			h["concurrency"] = fmt.Sprintf("%d (all requests at once, at most %d in flight)", *r.Concurrency, *r.Concurrency)
		case r.RequestRate != nil && math.IsInf(*r.RequestRate, 1):
			if r.NumRequests == nil {
				return nil, fmt.Errorf("--concurrency: the file sent every request at once but does not say how many; give --concurrency or --num-requests")
			}
			hv.Concurrency = *r.NumRequests
			h["concurrency"] = fmt.Sprintf("%d (all requests at once)", *r.NumRequests)
		case r.RequestRate != nil:
			hv.RequestRate = *r.RequestRate
			h["request-rate"] = strconv.FormatFloat(*r.RequestRate, 'g', -1, 64) + " req/s"
			if r.Burstiness != nil && !changed("burstiness") {
				hv.Burstiness = *r.Burstiness
				h["burstiness"] = strconv.FormatFloat(*r.Burstiness, 'g', -1, 64)
			}
			if r.Concurrency != nil {
				h["note"] = fmt.Sprintf("the run also capped requests in flight at %d; the prediction is open loop without a cap", *r.Concurrency)
			}
		case r.Concurrency != nil:
			hv.Concurrency = *r.Concurrency
			h["concurrency"] = strconv.Itoa(*r.Concurrency)
		default:
			return nil, fmt.Errorf("--concurrency or --request-rate: the file does not say what load was run; give one")
		}
	}
	if !changed("num-requests") && hv.NumRequests == 0 {
		switch {
		case r.NumRequests != nil:
			hv.NumRequests = *r.NumRequests
			h["num-requests"] = strconv.Itoa(*r.NumRequests)
		case s.Known(bench.FieldCompleted) && s.Completed > 0:
			hv.NumRequests = s.Completed
			how := " (completed; the file gives no failure count)"
			if s.Known(bench.FieldFailed) {
				hv.NumRequests += s.Failed
				how = " (completed + failed)"
			}
			h["num-requests"] = strconv.Itoa(hv.NumRequests) + how
		}
	}
	if len(h) == 0 {
		return nil, nil
	}
	return h, nil
}
