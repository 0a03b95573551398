package estimator

import (
	"sync"
	"sync/atomic"
)

// gemmTable keeps, per deployment, the GEMM terms of a step (gemmTerms) other than the
// lm_head's by the step's token count M: every GEMM but the head has M rows, so their terms
// are a function of M alone for a given deployment, whatever the step's mix of prefill
// chunks and decoding sequences. The head (one row per sequence, or per verified position)
// is the last GEMM of d.gemms and is added after the kept sum, as gemmTerms adds it: a step
// priced through the table is bit for bit the step priced without it (gemmRange).
//
// The closed form prices the same token counts again and again: the decode steps of its
// operating points at every pair of lengths, the full-budget steps of a start-up burst, the
// prefill steps of nearby lengths. A deployment's copies (the sweep's max_num_seqs and token
// budgets) share the table: neither changes a step's time.
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
	gemmTabMaxPages = 128     // at most this many pages (8,192 token counts) per deployment
)

type gemmDir struct {
	// body and head are views of the deployment with only the GEMMs before the head and
	// only the head: their gemmTerms add those terms as the deployment's own gemmTerms does.
	body, head Deployment
	pages      [gemmTabMaxM / gemmTabPage]atomic.Pointer[gemmPage] // GEMMs before the head, by tokens
	heads      [gemmTabMaxM / gemmTabPage]atomic.Pointer[gemmPage] // the head's term, by its rows
}

type gemmPage struct {
	ready [gemmTabPage]atomic.Bool
	sums  [gemmTabPage]gemmSum
}

// gemmSum is a stepAcc after the GEMMs before the head, and their quantisation passes; for
// the head, its one term (total its time, o its overhead, c or m set to 1 by its bound).
type gemmSum struct {
	total, flops, bytes, c, m, o, qb, qk float64
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
	if dir == nil || tokens >= gemmTabMaxM {
		return d.gemmTerms(acc, M, seqs, nDecode, q)
	}
	i, j := tokens/gemmTabPage, tokens%gemmTabPage
	if pg := dir.pages[i].Load(); pg != nil && pg.ready[j].Load() {
		s := &pg.sums[j]
		acc.total, acc.flops, acc.bytes = s.total, s.flops, s.bytes
		acc.bound[0], acc.bound[1], acc.bound[3] = s.c, s.m, s.o
		qBytes, qKernels = s.qb, s.qk
	} else {
		qBytes, qKernels = dir.body.gemmTerms(acc, M, seqs, nDecode, q) // the body reads M only
		t.keepIn(&dir.pages, i, j, gemmSum{total: acc.total, flops: acc.flops, bytes: acc.bytes,
			c: acc.bound[0], m: acc.bound[1], o: acc.bound[3], qb: qBytes, qk: qKernels})
	}
	// The head: its rows are the sequences and verified positions of the step.
	rows := seqs + float64(nDecode*(q-1))
	r := int(rows)
	if float64(r) != rows || r >= gemmTabMaxM {
		var h stepAcc
		hb, hk := dir.head.gemmTerms(&h, M, seqs, nDecode, q)
		return addHead(acc, &dir.head.gemms[0], headTerm(&h, hb, hk), qBytes, qKernels)
	}
	i, j = r/gemmTabPage, r%gemmTabPage
	pg := dir.heads[i].Load()
	if pg == nil || !pg.ready[j].Load() {
		var h stepAcc
		hb, hk := dir.head.gemmTerms(&h, M, seqs, nDecode, q)
		e := headTerm(&h, hb, hk)
		if pg = t.keepIn(&dir.heads, i, j, e); pg == nil {
			return addHead(acc, &dir.head.gemms[0], e, qBytes, qKernels)
		}
	}
	return addHead(acc, &dir.head.gemms[0], pg.sums[j], qBytes, qKernels)
}

// headTerm is the head's one term, priced alone into h (hb, hk its quantisation bytes and
// kernels): its total, FLOPs and bytes are the term's, o its overhead, and c or m is 1 by
// the roof stepAcc.add charged (a zero roof adds zero to either).
func headTerm(h *stepAcc, hb, hk float64) gemmSum {
	e := gemmSum{total: h.total, flops: h.flops, bytes: h.bytes, o: h.bound[3], c: 1, qb: hb, qk: hk}
	if h.bound[1] != 0 {
		e.c, e.m = 0, 1
	}
	return e
}

// addHead adds the head's term e to acc after the GEMMs before it, as gemmTerms adds it, and
// returns the quantisation bytes and kernels with the head's.
func addHead(acc *stepAcc, s *gemmShard, e gemmSum, qBytes, qKernels float64) (float64, float64) {
	acc.add(s.name, e.flops, e.bytes, e.c, e.m, e.o, e.total)
	if s.quant {
		qBytes += e.qb
		qKernels += e.qk
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
	t.dir.Store(dir)
	return dir
}

// keepIn stores s as the entry j of page i of pages, allocating the page if the table has
// room, and returns the page (nil: no room).
func (t *gemmTable) keepIn(pages *[gemmTabMaxM / gemmTabPage]atomic.Pointer[gemmPage], i, j int, s gemmSum) *gemmPage {
	t.mu.Lock()
	defer t.mu.Unlock()
	pg := pages[i].Load()
	if pg == nil {
		if t.pages >= gemmTabMaxPages {
			return nil
		}
		pg = new(gemmPage)
		t.pages++
		pages[i].Store(pg)
	}
	if !pg.ready[j].Load() {
		pg.sums[j] = s
		pg.ready[j].Store(true)
	}
	return pg
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
