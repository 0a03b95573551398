package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// plainInterval is how often a progress line is written when stderr is not a terminal.
const plainInterval = 5 * time.Second

// progress reports a long command's advance on stderr: on a terminal, a bar with
// done/total, elapsed time, rate and ETA (github.com/schollz/progressbar/v3); otherwise
// (CI logs, pipes) one plain line every plainInterval; with --quiet, nothing.
type progress struct {
	mu        sync.Mutex
	w         io.Writer
	what      string // "bench", "accuracy", …
	unit      string // "requests", "rows", …
	total     int    // 0: unknown
	n, failed int
	start     time.Time
	bar       *progressbar.ProgressBar
	stop      chan struct{}
	stopped   sync.WaitGroup
	off       bool
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newProgress starts reporting; quiet turns it off. total ≤ 0 means unknown.
func newProgress(w io.Writer, what, unit string, total int, quiet bool) *progress {
	return startProgress(w, what, unit, total, quiet, isTerminal(w), plainInterval)
}

func startProgress(w io.Writer, what, unit string, total int, quiet, tty bool, every time.Duration) *progress {
	p := &progress{w: w, what: what, unit: unit, total: total, start: time.Now(), off: quiet}
	if quiet {
		return p
	}
	if tty {
		max := int64(total)
		if total <= 0 {
			max = -1
		}
		p.bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(what),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString(unit),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetWidth(30),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		)
		return p
	}
	p.stop = make(chan struct{})
	p.stopped.Add(1)
	go func() {
		defer p.stopped.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.mu.Lock()
				fmt.Fprintln(p.w, p.line())
				p.mu.Unlock()
			}
		}
	}()
	return p
}

// line is the plain progress line: done/total, failures, elapsed, rate and ETA.
func (p *progress) line() string {
	el := time.Since(p.start)
	rate := float64(p.n) / el.Seconds()
	s := fmt.Sprintf("%s: %d", p.what, p.n)
	if p.total > 0 {
		s += fmt.Sprintf("/%d", p.total)
	}
	s += " " + p.unit
	if p.failed > 0 {
		s += fmt.Sprintf(", %d failed", p.failed)
	}
	s += fmt.Sprintf(", %s elapsed, %.3g %s/s", el.Round(time.Second), rate, p.unit)
	if p.total > 0 && rate > 0 && p.n < p.total {
		eta := time.Duration(float64(p.total-p.n) / rate * float64(time.Second))
		s += fmt.Sprintf(", ETA %s", eta.Round(time.Second))
	}
	return s
}

// add counts one finished item (failed: it ended in error).
func (p *progress) add(failed bool) {
	if p == nil || p.off {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if failed {
		p.failed++
	}
	if p.bar != nil {
		if p.failed > 0 {
			p.bar.Describe(fmt.Sprintf("%s (%d failed)", p.what, p.failed))
		}
		p.bar.Add(1)
	}
}

// done ends the report: the bar is finished, the plain ticker stopped.
func (p *progress) done() {
	if p == nil || p.off {
		return
	}
	if p.stop != nil {
		close(p.stop)
		p.stopped.Wait()
		p.stop = nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil && !p.bar.IsFinished() {
		if p.total > 0 && p.n < p.total {
			fmt.Fprintln(p.w) // stopped early: leave the bar as it is
		} else {
			p.bar.Finish()
		}
		p.bar = nil
	}
}
