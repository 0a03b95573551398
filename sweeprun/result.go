package sweeprun

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"roofline/bench"
	"roofline/estimator"
)

// Statuses of a Result.
const (
	StatusOK           = "ok"            // the server became ready and the benchmark completed requests
	StatusServerFailed = "server_failed" // the server exited before it was ready, or could not start
	StatusNotReady     = "not_ready"     // the server did not answer the ready path within the timeout
	StatusBenchFailed  = "bench_failed"  // the server died during the run, or no request succeeded
	StatusInterrupted  = "interrupted"   // Ctrl-C during the run; --continue runs it again
)

// Result is one line of results.jsonl: one server configuration × one client configuration.
type Result struct {
	ServerArgs Params `json:"server_args"` // --server-args and --server-env values of the server
	ClientArgs Params `json:"client_args"` // --client-args values of the run
	Command    string `json:"command"`     // the shell command that started the server, environment first
	Status     string `json:"status"`      // one of the Status constants
	// Measured is the bench summary (nil when nothing ran); Predicted the estimator's
	// simulation of the same deployment and load, or nil with PredictedReason saying why.
	Measured        *bench.Summary     `json:"measured"`
	Predicted       *estimator.Serving `json:"predicted"`
	PredictedReason string             `json:"predicted_reason,omitempty"`
	// ErrorPct is (predicted − measured)/measured × 100 per metric (signed: positive
	// means the prediction is higher), for metrics known on both sides.
	ErrorPct map[string]float64 `json:"error_pct"`
	// Error says what went wrong: the server's exit status and the tail of its log.
	Error string `json:"error,omitempty"`
	// GPUs is the GPU count of the server configuration (tp·pp·dp or num_gpus; 0 unknown).
	GPUs int `json:"gpus"`
	// ServerLog and Records are paths relative to the output directory: the server's
	// stdout and stderr, and one JSON line per request (bench.ReadRecords).
	ServerLog string `json:"server_log,omitempty"`
	Records   string `json:"records,omitempty"`
	// MeetsSLO says whether the measured run meets every --constraint (nil: none given
	// or no measurement); Pareto whether it is on the measured throughput–interactivity front.
	MeetsSLO *bool `json:"meets_slo,omitempty"`
	Pareto   bool  `json:"pareto,omitempty"`
}

// Key identifies the configuration of a result (server and client arguments).
func (r Result) Key() string { return r.ServerArgs.Key() + " | " + r.ClientArgs.Key() }

// ReadResults reads results.jsonl; blank lines are skipped, a line that is not a Result
// is an error naming it.
func ReadResults(rd io.Reader) ([]Result, error) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 1<<16), 64<<20)
	var out []Result
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		var r Result
		if err := json.Unmarshal([]byte(s), &r); err != nil {
			return out, fmt.Errorf("results line %d: %v", line, err)
		}
		switch r.Status {
		case StatusOK, StatusServerFailed, StatusNotReady, StatusBenchFailed, StatusInterrupted:
		default:
			return out, fmt.Errorf("results line %d: status %q: allowed values are ok, server_failed, not_ready, bench_failed, interrupted", line, r.Status)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// WriteResult writes r as one JSON line.
func WriteResult(w io.Writer, r Result) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ErrorPct compares a prediction with a measurement: 100·(p − m)/m for the mean and
// median TTFT, TPOT, ITL and E2E (ms), output tok/s and requests/s, the sign convention
// of validate. Metrics unknown or zero on either side are left out.
func ErrorPct(p estimator.Serving, m bench.Summary) map[string]float64 {
	out := map[string]float64{}
	for _, r := range []struct {
		name string
		p, m float64
	}{
		{"ttft_ms_mean", p.TTFT.Mean, m.TTFT.Mean}, {"ttft_ms_median", p.TTFT.Median, m.TTFT.Median},
		{"tpot_ms_mean", p.TPOT.Mean, m.TPOT.Mean}, {"tpot_ms_median", p.TPOT.Median, m.TPOT.Median},
		{"itl_ms_mean", p.ITL.Mean, m.ITL.Mean}, {"itl_ms_median", p.ITL.Median, m.ITL.Median},
		{"e2e_ms_mean", p.E2E.Mean, m.E2E.Mean}, {"e2e_ms_median", p.E2E.Median, m.E2E.Median},
		{"output_tok_s", p.OutputTokS, m.OutputTokS},
		{"request_per_s", p.RequestPerS, m.RequestPerS},
	} {
		if finite(r.p) && finite(r.m) && r.m != 0 {
			out[r.name] = 100 * (r.p - r.m) / r.m
		}
	}
	return out
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func estDist(d bench.Dist) estimator.Dist {
	return estimator.Dist{Mean: d.Mean, Median: d.Median, P90: d.P90, P95: d.P95, P99: d.P99}
}

// MeasuredPoint puts a measured summary in the shape constraints read: latencies in ms,
// output tok/s per GPU over gpus (1 when 0), per-user tok/s the mean of the per-request
// rates, goodput the measured goodput when the summary has one, else requests/s.
func MeasuredPoint(m bench.Summary, gpus int) estimator.SweepPoint {
	var p estimator.SweepPoint
	p.TTFT, p.ITL, p.TPOT, p.E2E = estDist(m.TTFT), estDist(m.ITL), estDist(m.TPOT), estDist(m.E2E)
	p.OutputTokS, p.RequestPerS, p.TotalTokS = m.OutputTokS, m.RequestPerS, m.TotalTokS
	p.OutputTokSPerUser = estimator.NullFloat(m.OutputTokSPerUser.Mean)
	p.OutputTokSPerGPU = m.OutputTokS / float64(max(gpus, 1))
	p.GoodputReqS = m.RequestPerS
	if m.GoodputReqS != nil {
		p.GoodputReqS = *m.GoodputReqS
	}
	p.GoodputReqSPerGPU = p.GoodputReqS / float64(max(gpus, 1))
	return p
}

// Judge sets MeetsSLO of every measured ok result against cons (left nil without
// constraints), and Pareto on the measured front of output tok/s per GPU against
// output tok/s per user (both maximised) among ok results that meet the constraints.
func Judge(rs []Result, cons []estimator.Constraint) {
	var idx []int
	var x, y []float64
	for i := range rs {
		r := &rs[i]
		r.MeetsSLO, r.Pareto = nil, false
		if r.Status != StatusOK || r.Measured == nil {
			continue
		}
		p := MeasuredPoint(*r.Measured, r.GPUs)
		met := true
		for _, c := range cons {
			if !c.Met(&p) {
				met = false
			}
		}
		if len(cons) > 0 {
			r.MeetsSLO = &met
		}
		if met && finite(p.OutputTokSPerGPU) && p.OutputTokSPerUser.Known() {
			idx = append(idx, i)
			x, y = append(x, p.OutputTokSPerGPU), append(y, float64(p.OutputTokSPerUser))
		}
	}
	on := estimator.ParetoFront(x, y, true, true)
	for k, i := range idx {
		rs[i].Pareto = on[k]
	}
}

// ReadResultsDir reads DIR/results.jsonl (ResultsFile) of a sweep's output directory.
func ReadResultsDir(dir string) ([]Result, error) {
	f, err := os.Open(filepath.Join(dir, ResultsFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadResults(f)
}
