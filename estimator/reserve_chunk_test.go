package estimator

import (
	"math"
	"testing"
)

// TestReserveKeepsReservationAcrossChunks: under admission "reserve" (TensorRT-LLM's
// GUARANTEED_NO_EVICT) a request holds blocks for its whole sequence from admission to the
// end, also while its prompt is prefilled in chunks. Hand case, 1-token blocks: 100 free,
// a step budget of 30 tokens, two requests of 40 prompt and 20 output tokens.
//   - step 0: A is admitted with 40 + 20 = 60 blocks (free 40) and prefills 30 of its 40
//     prompt tokens; B needs 60 > 40 and waits;
//   - step 1: A prefills its last 10 tokens and keeps its 60 blocks (free 40): handing back
//     the 50 not yet written — the fault this test was written for — let B in, and with both
//     decoding the cache ran out and a request was preempted;
//   - A decodes its 20 tokens and ends (steps 1–20: the token of the step that completes its
//     prompt, then 19 decode steps); B is admitted in the step after A frees its 60 blocks.
//
// No step preempts.
func TestReserveKeepsReservationAcrossChunks(t *testing.T) {
	s := &Scheduler{budget: 30, maxSeqs: math.MaxInt32, block: 1, shift: 0, free: 100, reserve: true}
	reqs := []SchedRequest{{In: 40, Out: 20}, {In: 40, Out: 20}}
	for i := range reqs {
		s.Enqueue(&reqs[i])
	}
	bAdmitted := -1
	for step := 0; step < 200 && !s.Idle(); step++ {
		s.Plan()
		if step <= 1 && (s.Running() != 1 || s.free != 40) {
			t.Fatalf("step %d: %d running, %d free blocks; want A alone holding 60 of 100", step, s.Running(), s.free)
		}
		if bAdmitted < 0 && reqs[1].chunk > 0 {
			bAdmitted = step
		}
		s.Commit(float64(step + 1))
	}
	if s.Preemptions != 0 {
		t.Errorf("%d preemptions, want none under reserve admission", s.Preemptions)
	}
	if bAdmitted != 21 {
		t.Errorf("B admitted in step %d, want 21 (A's 20 tokens end in step 20)", bAdmitted)
	}
	if reqs[0].Generated != 20 || reqs[1].Generated != 20 {
		t.Errorf("generated %d, %d; want 20 each", reqs[0].Generated, reqs[1].Generated)
	}
}
