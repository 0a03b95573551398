package bench

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestWaitUntil: never returns before the deadline; returns at once for a past one;
// returns the context's error, long before the deadline, when the context ends.
func TestWaitUntil(t *testing.T) {
	for _, d := range []time.Duration{0, 100 * time.Microsecond, 1500 * time.Microsecond, 5 * time.Millisecond} {
		for range 5 {
			at := time.Now().Add(d)
			if err := WaitUntil(context.Background(), at); err != nil {
				t.Fatalf("wait %v: %v", d, err)
			}
			if now := time.Now(); now.Before(at) {
				t.Fatalf("wait %v returned %v early", d, at.Sub(now))
			}
		}
	}
	start := time.Now()
	if err := WaitUntil(context.Background(), start.Add(-time.Hour)); err != nil || time.Since(start) > 100*time.Millisecond {
		t.Errorf("past deadline: %v after %v, want nil at once", err, time.Since(start))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := WaitUntil(ctx, start.Add(time.Hour)); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
		t.Errorf("cancelled: %v after %v, want the context's error well before the deadline", err, time.Since(start))
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := WaitUntil(ctx2, time.Now().Add(time.Millisecond)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled during the poll: %v, want context.Canceled", err)
	}
}
