package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// PlainInterval is how often a progress line is written when stderr is not a terminal.
const PlainInterval = 5 * time.Second

// Bar reports a long command's advance on stderr: on a terminal, a bar with
// done/total, elapsed time, rate and ETA (github.com/schollz/progressbar/v3); otherwise
// (CI logs, pipes) one plain line every PlainInterval; with --quiet, nothing.
type Bar struct {
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

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// New starts reporting on w: a bar when w is a terminal, a plain line every 5 s otherwise;
// quiet turns it off. what names the task ("bench"), unit what it counts ("requests");
// total ≤ 0 means unknown.
func New(w io.Writer, what, unit string, total int, quiet bool) *Bar {
	return Start(w, what, unit, total, quiet, IsTerminal(w), PlainInterval)
}

// Start is New with the terminal test and the plain-line interval given (for tests).
func Start(w io.Writer, what, unit string, total int, quiet, tty bool, every time.Duration) *Bar {
	p := &Bar{w: w, what: what, unit: unit, total: total, start: time.Now(), off: quiet}
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
func (p *Bar) line() string {
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

// Add counts one finished item (failed: it ended in error).
func (p *Bar) Add(failed bool) {
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

// Done ends the report: the bar is finished, the plain ticker stopped.
func (p *Bar) Done() {
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

// Set reports done of total items (for a task that counts its own progress, such as a
// sweep's configurations); a count below one already shown is ignored.
func (p *Bar) Set(done, total int) {
	if p == nil || p.off {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if done <= p.n && total == p.total {
		return
	}
	if total != p.total {
		p.total = total
		if p.bar != nil {
			p.bar.ChangeMax(total)
		}
	}
	if done > p.n {
		p.n = done
		if p.bar != nil {
			p.bar.Set(done)
		}
	}
}

// Log is an io.Writer for event lines that share the terminal with a bar per task: each
// write first finishes the current bar, so bars and lines never mix. Request starts a bar
// (what and unit as New) at a task's first item and counts it.
type Log struct {
	mu    sync.Mutex
	W     io.Writer
	Quiet bool
	What  string // "sweep run"
	Unit  string // "requests"
	cur   *Bar
}

// Write finishes the current bar and writes b.
func (l *Log) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.end()
	return l.W.Write(b)
}

// Item counts one finished item of a task of total items (failed: it ended in error).
func (l *Log) Item(total int, failed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur == nil {
		l.cur = New(l.W, l.What, l.Unit, total, l.Quiet)
	}
	l.cur.Add(failed)
}

// Finish ends the current bar, if any.
func (l *Log) Finish() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.end()
}

func (l *Log) end() {
	if l.cur != nil {
		l.cur.Done()
		l.cur = nil
	}
}
