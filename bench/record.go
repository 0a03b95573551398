package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// Usage sources of a Record.
const (
	UsageFromServer = "usage"   // the last usage object of the stream
	UsageCounted    = "counted" // no usable usage: content chunks counted, prompt tokens targeted
)

// Record is the outcome of one request. Times are seconds since the start of the run
// (after warm-up); a time that did not happen is 0 and omitted from JSON.
type Record struct {
	Index            int       `json:"index"`                     // position in the schedule, from 0
	ScheduledS       float64   `json:"scheduled_s"`               // when the request was due to be sent
	SentS            float64   `json:"sent_s"`                    // when it was actually sent
	FirstChunkS      float64   `json:"first_chunk_s,omitempty"`   // first SSE event of any kind
	FirstContentS    float64   `json:"first_content_s,omitempty"` // first event carrying content
	LastContentS     float64   `json:"last_content_s,omitempty"`  // last event carrying content
	EndS             float64   `json:"end_s"`                     // end of stream, or when the request failed
	ChunkS           []float64 `json:"content_chunk_s,omitempty"` // arrival of every content event
	ContentChunks    int       `json:"content_chunks"`            // number of content events
	PromptTokens     int       `json:"prompt_tokens"`             // from usage, or the synthetic target
	CompletionTokens int       `json:"completion_tokens"`         // from usage, or ContentChunks
	UsageSource      string    `json:"usage_source"`              // UsageFromServer or UsageCounted
	HTTPStatus       int       `json:"http_status,omitempty"`     // 0 when no response arrived
	Error            string    `json:"error,omitempty"`           // "" for a successful request
	Note             string    `json:"note,omitempty"`            // caveat that does not fail the request
	// RetryAfterS is the server's Retry-After on an HTTP 429 or 503 reply, s (0: none given).
	// The client does not retry; the summary reports it.
	RetryAfterS float64 `json:"retry_after_s,omitempty"`
}

// OK reports whether the request succeeded (HTTP 200, complete stream, no error).
func (r Record) OK() bool { return r.Error == "" }

// HasContent reports whether at least one content chunk arrived.
func (r Record) HasContent() bool { return r.ContentChunks > 0 && r.FirstContentS > 0 }

// ErrorKind is the error's leading word group, before the first colon ("HTTP 500",
// "timeout", "transport", …); "" for a successful request.
func (r Record) ErrorKind() string {
	if r.Error == "" {
		return ""
	}
	k, _, _ := strings.Cut(r.Error, ":")
	return k
}

// WriteRecord writes r as one JSON line.
func WriteRecord(w io.Writer, r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ReadRecords reads JSON lines written by WriteRecord. Blank lines are skipped; an
// unknown field or a line that is not a record is an error naming the line.
func ReadRecords(r io.Reader) ([]Record, error) {
	br := bufio.NewReader(r)
	var recs []Record
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if s := strings.TrimSpace(string(b)); s != "" {
			dec := json.NewDecoder(strings.NewReader(s))
			dec.DisallowUnknownFields()
			var rec Record
			if derr := dec.Decode(&rec); derr != nil {
				return recs, fmt.Errorf("records line %d: %v", line, derr)
			}
			if dec.More() {
				return recs, fmt.Errorf("records line %d: more than one JSON value", line)
			}
			if rec.UsageSource != UsageFromServer && rec.UsageSource != UsageCounted {
				return recs, fmt.Errorf("records line %d: usage_source %q: allowed values are %s, %s", line, rec.UsageSource, UsageFromServer, UsageCounted)
			}
			recs = append(recs, rec)
		}
		if err == io.EOF {
			return recs, nil
		}
		if err != nil {
			return recs, err
		}
	}
}

// ReadRecordsFile reads a --record file (ReadRecords); errors name the file. A file with
// no record (empty, or blank lines only) is an error: its summary would print 0 req/s and
// 0 tok/s as if measured.
func ReadRecordsFile(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := ReadRecords(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: no records (want one JSON line per request, as bench --record writes)", path)
	}
	return recs, nil
}
