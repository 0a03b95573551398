package progress_test

import (
	"bytes"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"roofline/internal/progress"
)

// TestProgressPlainLines: when stderr is not a terminal (a CI log), one plain line per
// interval with done/total, failures, elapsed, rate and ETA.
func TestProgressPlainLines(t *testing.T) {
	var buf syncBuffer
	p := progress.Start(&buf, "bench", "requests", 10, false, false, 30*time.Millisecond)
	for i := 0; i < 4; i++ {
		p.Add(i == 2)
		time.Sleep(40 * time.Millisecond)
	}
	p.Done()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	re := regexp.MustCompile(`^bench: \d+/10 requests(, 1 failed)?, \d+s elapsed, [0-9.e+]+ requests/s(, ETA \d+(ms|s))?$`)
	if len(lines) < 2 {
		t.Fatalf("%d lines: %q", len(lines), buf.String())
	}
	for _, l := range lines {
		if !re.MatchString(l) {
			t.Errorf("line %q", l)
		}
	}
	if strings.Contains(buf.String(), "\r") {
		t.Error("carriage return in a log")
	}
	// Nothing after done, nothing with quiet.
	n := buf.Len()
	time.Sleep(50 * time.Millisecond)
	q := progress.Start(&buf, "bench", "requests", 10, true, false, time.Millisecond)
	q.Add(false)
	time.Sleep(5 * time.Millisecond)
	q.Done()
	if buf.Len() != n {
		t.Errorf("wrote after done or with quiet: %q", buf.String()[n:])
	}
}

// TestSetPlainLines: a task that counts its own progress (a sweep) reports done/total and
// never goes back to a smaller count.
func TestSetPlainLines(t *testing.T) {
	var buf syncBuffer
	p := progress.Start(&buf, "sweep", "configurations", 0, false, false, 20*time.Millisecond)
	p.Set(50, 200)
	p.Set(40, 200) // out of order: ignored
	time.Sleep(30 * time.Millisecond)
	p.Done()
	if !strings.Contains(buf.String(), "sweep: 50/200 configurations") {
		t.Errorf("want a line with 50/200 configurations, got %q", buf.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
func (s *syncBuffer) Len() int       { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Len() }
