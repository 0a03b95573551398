package estimator

import (
	"sync"
	"sync/atomic"
)

// gemmTable keeps, per deployment, the GEMM terms of a step (gemmTerms) other than the
// lm_head's by the step's token count M: every GEMM but the head has M rows, so their terms
// are a function of M alone for a given deployment, whatever the step's mix of prefill
// chunks and decoding sequences. The head (one row per sequence, or per verified position)
// is the last GEMM of d.gemms; its term is kept by its rows and added after the kept sum, as
// gemmTerms adds it: a step priced through the table is bit for bit the step priced without
// it (TestGEMMTableExact).
//
// Serve prices the same token counts again and again from a deployment's second estimate on
// (gemmTable.again): the decode steps of its operating points at every pair of lengths, the
// full-budget steps of a start-up burst, the prefill steps of nearby lengths. The sweep,
// which memoizes its operating points, does not use it. The table assumes, as the
// deployment's other memos do, that its profile does not change after New.
//
// Entries are kept in pages of gemmTabPage token counts, allocated when first used, up to
// gemmTabMaxPages pages (~4 KiB each); steps of more tokens than the table covers, or past
// its pages, are priced directly. A kept entry is never changed: it is read without the lock
// once its ready flag is set.
type gemmTable struct {
	mu    sync.Mutex
	dir   atomic.Pointer[gemmDir]
	pages int // pages allocated (under mu)
	used  atomic.Bool
}

const (
	gemmTabPage     = 64
	gemmTabMaxM     = 1 << 15 // token counts below this are kept
	gemmTabMaxPages = 128     // at most this many pages (8,192 entries, 512 KiB) per deployment
)

type gemmDir struct {
	// body and head are views of the deployment with only the GEMMs before the head and
	// only the head: their gemmTerms add those terms as the deployment's own gemmTerms does.
	body, head Deployment
	// bodyQK and headQK are their activation quantisation kernels (a count of layers that
	// does not depend on the step).
	bodyQK, headQK float64
	pages          [gemmTabMaxM / gemmTabPage]atomic.Pointer[gemmPage] // GEMMs before the head, by tokens
	heads          [gemmTabMaxM / gemmTabPage]atomic.Pointer[gemmPage] // the head's term, by its rows
}

type gemmPage [gemmTabPage]gemmSum

// gemmSum is a stepAcc after the GEMMs before the head, and their quantisation bytes; for
// the head, its one term (total its time, o its overhead, c or m set to 1 by its bound). One
// entry fills 64 bytes, a cache line: ready is set once the others are written.
type gemmSum struct {
	total, flops, bytes, c, m, o, qb float64
	ready                            atomic.Bool
}

// gemms adds the GEMM terms of a step of tokens tokens over seqs sequences (nDecode decoding
// q positions each) to acc, which holds no term yet, as gemmTerms(acc, tokens, seqs, nDecode,
// q) does, and returns the bytes and kernels of their activation quantisation passes.
func (t *gemmTable) gemms(d *Deployment, acc *stepAcc, tokens int, seqs float64, nDecode, q int) (qBytes, qKernels float64) {
	dir := t.dir.Load()
	if dir == nil {
		dir = t.init(d)
	}
	M := float64(tokens)
	rows := seqs + float64(nDecode*(q-1)) // the head's: the sequences and verified positions
	r := int(rows)
	if dir == nil || tokens >= gemmTabMaxM || float64(r) != rows || r >= gemmTabMaxM {
		return d.gemmTerms(acc, M, seqs, nDecode, q)
	}
	if e := dir.pages[tokens/gemmTabPage].Load(); e != nil && e[tokens%gemmTabPage].ready.Load() {
		s := &e[tokens%gemmTabPage]
		acc.total, acc.flops, acc.bytes = s.total, s.flops, s.bytes
		acc.bound[0], acc.bound[1], acc.bound[3] = s.c, s.m, s.o
		qBytes = s.qb
	} else {
		qBytes, _ = dir.body.gemmTerms(acc, M, seqs, nDecode, q) // the body reads M only
		t.keep(&dir.pages, tokens, acc.total, acc.flops, acc.bytes, acc.bound[0], acc.bound[1], acc.bound[3], qBytes)
	}
	qKernels = dir.bodyQK
	if e := dir.heads[r/gemmTabPage].Load(); e != nil && e[r%gemmTabPage].ready.Load() {
		return dir.addHead(acc, &e[r%gemmTabPage], qBytes, qKernels)
	}
	var h stepAcc
	hb, _ := dir.head.gemmTerms(&h, M, seqs, nDecode, q)
	// The head's one term in h: its roof went to compute or memory (a zero roof adds zero
	// to either).
	c, m := 1.0, 0.0
	if h.bound[1] != 0 {
		c, m = 0, 1
	}
	if e := t.keep(&dir.heads, r, h.total, h.flops, h.bytes, c, m, h.bound[3], hb); e != nil {
		return dir.addHead(acc, e, qBytes, qKernels)
	}
	var e gemmSum
	e.total, e.flops, e.bytes, e.c, e.m, e.o, e.qb = h.total, h.flops, h.bytes, c, m, h.bound[3], hb
	return dir.addHead(acc, &e, qBytes, qKernels)
}

// addHead adds the head's term e to acc after the GEMMs before it, as gemmTerms adds it, and
// returns the quantisation bytes and kernels with the head's.
func (dir *gemmDir) addHead(acc *stepAcc, e *gemmSum, qBytes, qKernels float64) (float64, float64) {
	s := &dir.head.gemms[0]
	acc.add(s.name, e.flops, e.bytes, e.c, e.m, e.o, e.total)
	if s.quant {
		qBytes += e.qb
		qKernels += dir.headQK
	}
	return qBytes, qKernels
}

// init builds the directory (nil: the deployment's last GEMM is not its head, and the table
// is not used).
func (t *gemmTable) init(d *Deployment) *gemmDir {
	n := len(d.gemms)
	if n == 0 || !d.gemms[n-1].isHead {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if dir := t.dir.Load(); dir != nil {
		return dir
	}
	dir := &gemmDir{body: *d, head: *d}
	dir.body.gemms, dir.head.gemms = d.gemms[:n-1:n-1], d.gemms[n-1:]
	var a stepAcc
	_, dir.bodyQK = dir.body.gemmTerms(&a, 1, 1, 0, 1)
	a = stepAcc{}
	_, dir.headQK = dir.head.gemmTerms(&a, 1, 1, 0, 1)
	t.dir.Store(dir)
	return dir
}

// keep stores an entry for i (tokens or rows) in pages, allocating its page if the table
// has room, and returns it (nil: no room).
func (t *gemmTable) keep(pages *[gemmTabMaxM / gemmTabPage]atomic.Pointer[gemmPage], i int, total, flops, bytes, c, m, o, qb float64) *gemmSum {
	t.mu.Lock()
	defer t.mu.Unlock()
	pg := pages[i/gemmTabPage].Load()
	if pg == nil {
		if t.pages >= gemmTabMaxPages {
			return nil
		}
		pg = new(gemmPage)
		t.pages++
		pages[i/gemmTabPage].Store(pg)
	}
	e := &pg[i%gemmTabPage]
	if !e.ready.Load() {
		e.total, e.flops, e.bytes, e.c, e.m, e.o, e.qb = total, flops, bytes, c, m, o, qb
		e.ready.Store(true)
	}
	return e
}

// again is t from a deployment's second estimate on (nil before, and for a nil t): an
// estimate of a deployment seen once prices its steps directly, as filling the table costs
// more than it saves on one estimate.
func (t *gemmTable) again() *gemmTable {
	if t == nil || !t.used.Load() && !t.used.Swap(true) {
		return nil
	}
	return t
}

// stepSeconds is StepSeconds through c's gemmTable (nil: none).
func (c *cf) stepSeconds(b *Batch) float64 {
	acc := stepAcc{tab: c.tab}
	c.d.step(b, &acc)
	return acc.total
}

// gemmLast keeps the GEMM terms before the head of the last step it priced, by the step's
// tokens, as gemmTable does for every token count: a closed loop's start-up burst on a
// deployment's first estimate (no table yet: gemmTable.again) runs steps of the same tokens
// one after another (every step but the last fills the token budget) whose GEMMs differ
// only in the head's rows. The head is priced every step, added after the kept sum as
// gemmTerms adds it, so a step is bit for bit the step priced without it
// (TestGEMMLastExact). One per burst (newGEMMLast): no lock.
type gemmLast struct {
	// body and head are views of the deployment with only the GEMMs before the head and
	// only the head, as gemmDir's.
	body, head              Deployment
	have                    bool
	tokens                  int
	total, flops, bytes, qb float64
	c, m, o, qk             float64
}

// newGEMMLast returns a gemmLast for d's steps (nil when d's last GEMM is not its head: its
// steps are priced directly).
func newGEMMLast(d *Deployment) *gemmLast {
	n := len(d.gemms)
	if n == 0 || !d.gemms[n-1].isHead {
		return nil
	}
	g := &gemmLast{body: *d, head: *d}
	g.body.gemms, g.head.gemms = d.gemms[:n-1:n-1], d.gemms[n-1:]
	return g
}

// gemms adds the GEMM terms of a step of tokens tokens over seqs sequences (nDecode decoding
// q positions each) to acc, which holds no term yet, as gemmTerms does, and returns the
// bytes and kernels of their activation quantisation passes.
func (g *gemmLast) gemms(acc *stepAcc, tokens int, seqs float64, nDecode, q int) (qBytes, qKernels float64) {
	M := float64(tokens)
	if g.have && g.tokens == tokens {
		acc.total, acc.flops, acc.bytes = g.total, g.flops, g.bytes
		acc.bound[0], acc.bound[1], acc.bound[3] = g.c, g.m, g.o
		qBytes, qKernels = g.qb, g.qk
	} else {
		qBytes, qKernels = g.body.gemmTerms(acc, M, seqs, nDecode, q) // the body reads M only
		g.have, g.tokens = true, tokens
		g.total, g.flops, g.bytes, g.c, g.m, g.o, g.qb, g.qk = acc.total, acc.flops, acc.bytes, acc.bound[0], acc.bound[1], acc.bound[3], qBytes, qKernels
	}
	hb, hk := g.head.gemmTerms(acc, M, seqs, nDecode, q)
	return qBytes + hb, qKernels + hk
}
