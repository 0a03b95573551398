package bench

import (
	"context"
	"runtime"
	"time"
)

// spinWindow is how long before a deadline WaitUntil stops sleeping and starts
// polling the clock. Go timers fire late by the kernel's timer slack and the
// scheduler's wake-up: 0.3–1.2 ms measured on a 2-vCPU Linux VM, for sleeps from
// 0.1 to 150 ms. That is a 2% error on a 50 ms TTFT and, for an open-loop run, a
// shift of every arrival; 2 ms covers it.
const spinWindow = 2 * time.Millisecond

// WaitUntil blocks until the clock reaches t (at once if it has) or ctx ends, and
// returns ctx's error in that case. It sleeps until spinWindow before t and then
// yields the processor in a loop until t, so it returns within microseconds of t on
// an idle machine. The poll costs at most spinWindow of one core per call: a few per
// cent of a core at 10 waits per second.
func WaitUntil(ctx context.Context, t time.Time) error {
	if d := time.Until(t) - spinWindow; d > 0 {
		timer := time.NewTimer(d)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
	for time.Now().Before(t) {
		if err := ctx.Err(); err != nil {
			return err
		}
		runtime.Gosched()
	}
	return ctx.Err()
}
