package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxEventBytes bounds one SSE event so a broken server cannot exhaust memory.
const maxEventBytes = 8 << 20

// sseReader returns the data field of each Server-Sent Event of a stream.
//
// It follows the WHATWG event-stream rules that matter here: lines end in LF, CRLF or
// CR-LF; "data:" lines (one optional space after the colon) accumulate, joined by LF; a
// blank line dispatches the event; lines starting with ":" are comments; other fields
// (event, id, retry) and lines without a colon are ignored. Data pending at the end of
// the stream is dispatched too, since some servers omit the last blank line.
type sseReader struct {
	br      *bufio.Reader
	data    []byte
	hasData bool
}

func newSSEReader(r io.Reader) *sseReader { return &sseReader{br: bufio.NewReaderSize(r, 4<<10)} }

// next returns the data of the next event, or io.EOF after the last one.
func (s *sseReader) next() ([]byte, error) {
	for {
		line, err := s.br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A long line: collect it whole (bounded).
			buf := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = s.br.ReadSlice('\n')
				buf = append(buf, line...)
				if len(buf) > maxEventBytes {
					return nil, fmt.Errorf("malformed SSE: line longer than %d bytes", maxEventBytes)
				}
			}
			line = buf
		}
		if len(line) > 0 {
			line = bytes.TrimRight(line, "\r\n")
			if len(line) == 0 {
				if s.hasData {
					return s.take(), nil
				}
			} else if line[0] != ':' {
				field, value, found := bytes.Cut(line, []byte{':'})
				if found && string(field) == "data" {
					value = bytes.TrimPrefix(value, []byte{' '})
					if s.hasData {
						s.data = append(s.data, '\n')
					}
					s.data = append(s.data, value...)
					s.hasData = true
					if len(s.data) > maxEventBytes {
						return nil, fmt.Errorf("malformed SSE: event longer than %d bytes", maxEventBytes)
					}
				}
			}
		}
		if err != nil {
			if s.hasData && err == io.EOF {
				return s.take(), nil
			}
			return nil, err
		}
	}
}

func (s *sseReader) take() []byte {
	d := s.data
	s.data, s.hasData = nil, false
	return d
}

// usage is the OpenAI usage object.
type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// streamChunk is the part of a chat.completion.chunk or text_completion event we read.
type streamChunk struct {
	Choices []struct {
		Text  *string `json:"text"`
		Delta *struct {
			Content          *string `json:"content"`
			ReasoningContent *string `json:"reasoning_content"`
			Reasoning        *string `json:"reasoning"`
		} `json:"delta"`
	} `json:"choices"`
	Usage *usage          `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// event is what one SSE data payload means to the benchmark.
type event struct {
	done    bool   // the "[DONE]" sentinel
	content bool   // carries generated text (content, reasoning or completion text)
	usage   *usage // usage object, if any (may be all zero: Ollama puts one on every chunk)
	errMsg  string // an error object sent inside the stream
}

// parseEvent interprets one SSE data payload. Data that is neither "[DONE]" nor a JSON
// object is an error.
func parseEvent(data []byte) (event, error) {
	d := bytes.TrimSpace(data)
	if string(d) == "[DONE]" {
		return event{done: true}, nil
	}
	var c streamChunk
	if err := json.Unmarshal(d, &c); err != nil {
		return event{}, fmt.Errorf("malformed SSE: data is not JSON (%.40q)", d)
	}
	var ev event
	for _, ch := range c.Choices {
		if ch.Text != nil && *ch.Text != "" {
			ev.content = true
		}
		if dl := ch.Delta; dl != nil {
			for _, p := range []*string{dl.Content, dl.ReasoningContent, dl.Reasoning} {
				if p != nil && *p != "" {
					ev.content = true
				}
			}
		}
	}
	ev.usage = c.Usage
	if len(c.Error) > 0 && string(c.Error) != "null" {
		var e struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(c.Error, &e) == nil && e.Message != "" {
			ev.errMsg = e.Message
		} else {
			ev.errMsg = fmt.Sprintf("%.200s", c.Error)
		}
	}
	return ev, nil
}
