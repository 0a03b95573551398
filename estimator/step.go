package estimator

import (
	"fmt"
	"math"
	"strings"

	"roofline/units"
)

// Chunk is a prefill chunk of one sequence: New prompt tokens computed this step after
// Past tokens already in the KV cache.
type Chunk struct{ New, Past int }

// Batch is the work of one engine step: prefill chunks and decoding sequences. Decode[i]
// is the number of tokens sequence i already holds in the KV cache; it produces one token.
type Batch struct {
	Prefill []Chunk
	Decode  []int
	// Uniform adds N more decoding sequences that each hold Ctx cached tokens: the same as
	// N entries of Decode, in O(1) (used by the closed form).
	Uniform struct{ N, Ctx int }
	// Verify is the number of positions each decoding sequence computes this step: K+1 when
	// the target verifies K drafted tokens (speculative decoding); 0 or 1 = one token.
	Verify int
	// noDispatch leaves out the exposed eager prefill dispatch (Profile.EagerPrefillLayerUs):
	// the closed form prices it per step apart from the prompts' shared work. The eager
	// decode dispatch of a step above the CUDA-graph cap (Profile.CUDAGraphMaxBatch) stays:
	// the decode-only step it is compared with pays it too.
	noDispatch bool
}

// Bounds an operator or a step can be limited by.
const (
	BoundCompute  = "compute"
	BoundMemory   = "memory"
	BoundComm     = "communication"
	BoundOverhead = "overhead"
)

// OpTime is one operator's cost in a step on one GPU, summed over the layers of a stage.
type OpTime struct {
	Name     string        `json:"name"`
	FLOPs    units.FLOPs   `json:"flops"`
	Bytes    units.Bytes   `json:"bytes"`
	Compute  units.Seconds `json:"compute_s"`  // FLOPs / (peak · η)
	Memory   units.Seconds `json:"memory_s"`   // bytes / (bandwidth · η)
	Overhead units.Seconds `json:"overhead_s"` // fixed costs
	Time     units.Seconds `json:"time_s"`     // combined (roofline + overhead)
	Bound    string        `json:"bound"`
	// Ceiling names the compute and memory ceilings this operator is measured against
	// (filled with --explain; their values and sources are in Deployment.Parameters).
	Ceiling string `json:"ceiling,omitempty"`
}

// Step is the predicted time of one engine step on the deployment.
type Step struct {
	Time   units.Seconds `json:"time_s"`
	Bound  string        `json:"bound"` // what dominates: compute, memory, communication or overhead
	Tokens int           `json:"tokens"`
	FLOPs  units.FLOPs   `json:"flops"` // per GPU
	Bytes  units.Bytes   `json:"bytes"` // per GPU, HBM traffic
	// ByBound is the step time attributed to each bound.
	ByBound map[string]units.Seconds `json:"by_bound"`
	Ops     []OpTime                 `json:"ops,omitempty"`
}

// StepTime predicts one engine step. With explain, the per-operator breakdown is filled in.
//
// Each operator costs combine(FLOPs/(peak·η_compute), bytes/(bandwidth·η_mem)) + overhead,
// where combine is max() or, with the profile's overlap exponent p, (c^p + m^p)^(1/p).
// GEMMs use the weight dtype's peak (W8A8/W4A4) or the 16-bit peak; attention uses the
// 16-bit peak. Tensor parallelism adds two ring all-reduces per layer, each
// latency + 2(n−1)/n·bytes/(link_n·η_link), link_n the GPU's GroupLinkBandwidth(n) (a
// full-mesh fabric gives n GPUs n−1 of its links); expert parallelism adds an all-to-all per MoE layer;
// pipeline parallelism runs PP stages one after another plus a send between stages.
// Per step the profile adds step_overhead + seq_overhead·sequences (+ per-layer prefill dispatch).
// An eager step (prompt tokens under eager_prefill_layer_us; more decoding sequences than
// cuda_graph_max_batch under eager_decode_layer_us) lasts at least layers × the per-layer host
// dispatch: the exposed part max(0, dispatch − GPU work) is added before the serial host costs.
func (d *Deployment) StepTime(b Batch, explain bool) Step {
	var acc stepAcc
	acc.explain = explain
	d.step(&b, &acc)
	st := acc.result()
	if explain {
		shard := map[string]*gemmShard{}
		for i := range d.gemms {
			shard[d.gemms[i].name] = &d.gemms[i]
		}
		mem := fmt.Sprintf("HBM %s", units.BytesPerSecond(d.memBW))
		for i := range st.Ops {
			o := &st.Ops[i]
			switch s, isGEMM := shard[o.Name]; {
			case isGEMM:
				o.Ceiling = fmt.Sprintf("%s GEMM %s; %s", d.shardDtype(s), s.peak, mem)
			case strings.HasPrefix(o.Name, "attention"):
				o.Ceiling = fmt.Sprintf("%s GEMM %s; %s", d.gemmDtype16, d.attnCeil, mem)
			case o.Name == "elementwise" || o.Name == "activation_quant":
				o.Ceiling = mem
			case o.Bound == BoundComm && d.GPU.MeshLinks > 0 && o.Name == "tp_all_reduce" && d.TP <= d.GPU.MeshLinks:
				o.Ceiling = fmt.Sprintf("link (datasheet: %d of %d mesh links × link_efficiency)", d.TP-1, d.GPU.MeshLinks)
			case o.Bound == BoundComm:
				o.Ceiling = "link (datasheet × link_efficiency)"
			default:
				o.Ceiling = "fixed costs"
			}
		}
	}
	return st
}

// StepSeconds is StepTime without the breakdown: the fast path for the simulators.
func (d *Deployment) StepSeconds(b *Batch) float64 {
	var acc stepAcc
	d.step(b, &acc)
	return acc.total
}

// stepTotals returns a step's time (s), FLOPs and HBM bytes per GPU without allocating,
// reusing the GEMM terms of earlier steps of the same shape from c (nil: none).
func (d *Deployment) stepTotals(b *Batch, c *gemmCache) (t, flops, bytes float64) {
	acc := stepAcc{cache: c}
	d.step(b, &acc)
	return acc.total, acc.flops, acc.bytes
}

// gemmCache keeps the GEMM terms of a step (gemmTerms) by the batch shape they depend on:
// tokens, sequences, decoding sequences and positions each. They are a step's first terms,
// added from zero, so a cached sum is bit for bit the sum gemmTerms would add; the rest of
// the step (attention over each sequence's context, communication, fixed costs) is computed
// every time. One cache serves one deployment: Reset before using it for another.
type gemmCache struct {
	gen     uint32
	entries [gemmCacheSize]gemmEntry
}

const gemmCacheSize = 512 // direct-mapped; a simulation's batch shapes repeat within a few hundred

type gemmEntry struct {
	gen                              uint32
	tokens, seqs, decode, q          int32
	total, flops, bytes, c, m, o, qb float64
	qk                               float64
}

// Reset empties the cache.
func (c *gemmCache) Reset() {
	c.gen++
	if c.gen == 0 { // wrapped: entries of generation 0 would look valid
		clear(c.entries[:])
		c.gen = 1
	}
}

// gemms adds the GEMM terms of the shape to acc (which holds no term yet), from the cache or
// computed and kept.
func (c *gemmCache) gemms(d *Deployment, acc *stepAcc, prefillTokens, prefills, nDecode, q int) (qBytes, qKernels float64) {
	tokens, seqs := prefillTokens+nDecode*q, prefills+nDecode
	h := uint32(tokens)*0x9e3779b1 ^ uint32(seqs)*0x85ebca6b ^ uint32(nDecode)*0xc2b2ae35 ^ uint32(q)*0x27d4eb2f
	e := &c.entries[(h>>16)%gemmCacheSize]
	if e.gen == c.gen && int(e.tokens) == tokens && int(e.seqs) == seqs && int(e.decode) == nDecode && int(e.q) == q {
		acc.total, acc.flops, acc.bytes = e.total, e.flops, e.bytes
		acc.bound[0], acc.bound[1], acc.bound[3] = e.c, e.m, e.o
		return e.qb, e.qk
	}
	qBytes, qKernels = d.gemmTerms(acc, float64(tokens), float64(seqs), nDecode, q)
	if tokens <= math.MaxInt32 && seqs <= math.MaxInt32 {
		*e = gemmEntry{gen: c.gen, tokens: int32(tokens), seqs: int32(seqs), decode: int32(nDecode), q: int32(q),
			total: acc.total, flops: acc.flops, bytes: acc.bytes, c: acc.bound[0], m: acc.bound[1], o: acc.bound[3], qb: qBytes, qk: qKernels}
	}
	return qBytes, qKernels
}

type stepAcc struct {
	explain bool
	cache   *gemmCache // optional: GEMM terms by batch shape (a simulation's steps)
	tab     *gemmTable // optional: GEMM terms by tokens (the closed form's steps; gemmtable.go)
	last    *gemmLast  // optional: the last step's GEMMs before the head (a start-up burst's; gemmtable.go)
	total   float64
	flops   float64
	bytes   float64
	tokens  int
	bound   [4]float64 // compute, memory, comm, overhead
	ops     []OpTime
}

func (a *stepAcc) add(name string, flops, bytes, c, m, ovh, t float64) {
	a.total += t
	a.flops += flops
	a.bytes += bytes
	roof := t - ovh
	if c >= m {
		a.bound[0] += roof
	} else {
		a.bound[1] += roof
	}
	a.bound[3] += ovh
	if a.explain {
		bd := BoundMemory
		if c >= m {
			bd = BoundCompute
		}
		if ovh > roof {
			bd = BoundOverhead
		}
		a.ops = append(a.ops, OpTime{Name: name, FLOPs: units.FLOPs(flops), Bytes: units.Bytes(bytes), Compute: units.Seconds(c),
			Memory: units.Seconds(m), Overhead: units.Seconds(ovh), Time: units.Seconds(t), Bound: bd})
	}
}

func (a *stepAcc) addComm(name string, bytes, t float64) {
	a.total += t
	a.bound[2] += t
	if a.explain {
		a.ops = append(a.ops, OpTime{Name: name, Bytes: units.Bytes(bytes), Time: units.Seconds(t), Memory: units.Seconds(t), Bound: BoundComm})
	}
}

// boundName is the bound that dominates: the largest of the step time attributed to each,
// the first in the order compute, memory, communication, overhead on a tie.
func (a *stepAcc) boundName() string {
	names := [4]string{BoundCompute, BoundMemory, BoundComm, BoundOverhead}
	best, name := -1.0, ""
	for i, v := range a.bound {
		if v > best {
			best, name = v, names[i]
		}
	}
	return name
}

// stepBrief is StepTime without the maps: a step's FLOPs and bytes per GPU and its bound.
func (d *Deployment) stepBrief(b *Batch) (flops, bytes float64, bound string) {
	var acc stepAcc
	d.step(b, &acc)
	return acc.flops, acc.bytes, acc.boundName()
}

func (a *stepAcc) result() Step {
	names := [4]string{BoundCompute, BoundMemory, BoundComm, BoundOverhead}
	s := Step{Time: units.Seconds(a.total), Tokens: a.tokens, FLOPs: units.FLOPs(a.flops), Bytes: units.Bytes(a.bytes),
		ByBound: map[string]units.Seconds{}, Ops: a.ops}
	for i, v := range a.bound {
		s.ByBound[names[i]] = units.Seconds(v)
	}
	s.Bound = a.boundName()
	return s
}

func (d *Deployment) combine(c, m float64) float64 {
	p := d.Profile.OverlapExponent
	if p <= 0 {
		return max(c, m) // the builtin: math.Max's rules for ±0 and NaN, inlined
	}
	if c == 0 || m == 0 {
		return c + m
	}
	hi := math.Max(c, m)
	return hi * math.Pow(math.Pow(c/hi, p)+math.Pow(m/hi, p), 1/p)
}

// gemmEff is the GEMM compute efficiency at m rows: η·m/(m+half), with η the profile's
// efficiency for the GEMM's compute dtype.
func (d *Deployment) gemmEff(eta, m float64) float64 {
	e := eta
	if h := d.Profile.GEMMHalfM; h > 0 {
		e *= m / (m + h)
	}
	return e
}

// groupLink is the scale-up bandwidth one GPU uses in a collective over n GPUs: the GPU's
// GroupLinkBandwidth (a full-mesh fabric such as MI300X's Infinity Fabric gives a group of n
// only n−1 of its links), or link itself when the GPU has no scale-up link (PCIe).
func (d *Deployment) groupLink(link float64, n int) float64 {
	if d.GPU.LinkBandwidth == 0 {
		return link
	}
	return float64(d.GPU.GroupLinkBandwidth(n))
}

// GEMMTime is the time of one dense GEMM of m rows, n output and k input features under
// profile p, as the step model times it (seconds): kernel_overhead_us + gemm_fixed_us +
// combine(2mnk / (ceiling · η(m)), (nk·wBytes + m(n+k)·actBytes) / (bw · memory_efficiency)),
// with η(m) = η_dtype · m/(m + gemm_half_m) and combine the profile's ridge (max, or the
// p-norm with overlap_exponent). ceiling is the GEMM ceiling of the compute dtype (FLOP/s),
// bw the HBM ceiling (bytes/s), wBytes and actBytes bytes per weight and activation
// element; dtype picks gemm_efficiency_by_dtype (empty: gemm_efficiency). It is the
// per-GEMM term of StepTime for one layer, exposed so the shape terms can be checked
// against a GEMM-by-M microbenchmark.
func GEMMTime(p *Profile, dtype string, m, n, k int, wBytes, actBytes, ceiling, bw float64) float64 {
	var d Deployment
	d.Profile = p
	eta := orOne(p.GEMMEfficiency)
	if v := p.GEMMEfficiencyByDtype[dtype]; v > 0 {
		eta = v
	}
	fm, fn, fk := float64(m), float64(n), float64(k)
	c := 2 * fm * fn * fk / (ceiling * d.gemmEff(eta, fm))
	mem := (fn*fk*wBytes + fm*(fn+fk)*actBytes) / (bw * orOne(p.MemoryEfficiency))
	return d.combine(c, mem) + (p.KernelOverheadUs+p.GEMMFixedUs)*1e-6
}

// keys returns Σ_{i=1..n} min(p+i, w): the keys n causal queries after p cached tokens attend to
// (w = 0: no window).
func keys(n, p, w int) float64 {
	fn, fp := float64(n), float64(p)
	if w <= 0 || p+n <= w {
		return fn*fp + fn*(fn+1)/2
	}
	a := w - p // queries still inside the window
	if a < 0 {
		a = 0
	}
	fa := float64(a)
	return fa*fp + fa*(fa+1)/2 + (fn-fa)*float64(w)
}

// gemmTerms adds the GEMMs of a step of M tokens over seqs sequences (nDecode of them
// decoding q positions each) to acc and returns the bytes and kernels of their activation
// quantisation passes.
func (d *Deployment) gemmTerms(acc *stepAcc, M, seqs float64, nDecode, q int) (qBytes, qKernels float64) {
	prof := d.Profile
	bw := d.memBW
	memEff := orOne(prof.MemoryEfficiency)
	kernel := prof.KernelOverheadUs * 1e-6
	etaQ, eta16 := orOne(prof.GEMMEfficiency), orOne(prof.GEMMEfficiency)
	if len(prof.GEMMEfficiencyByDtype) > 0 {
		if v := prof.GEMMEfficiencyByDtype[d.gemmDtypeQ]; v > 0 {
			etaQ = v
		}
		if v := prof.GEMMEfficiencyByDtype[d.gemmDtype16]; v > 0 {
			eta16 = v
		}
	}
	for i := range d.gemms {
		s := &d.gemms[i]
		rows := M
		if s.isHead {
			rows = seqs + float64(nDecode*(q-1)) // logits for each sequence's last position (all verified positions)
		}
		var flops, wbytes, mEff, abytes float64
		// The GEMM reads its input in the dtype it computes in: a W8A8/W4A4 GEMM reads the
		// FP8/FP4 activations the quantisation pass below wrote (qb bytes each), not the
		// 16-bit ones that pass read; it writes a 16-bit output.
		qb := d.actQuantBytes
		if s.dt != "" {
			qb = s.qb
		}
		inB := d.actBytes
		if s.quant {
			inB = qb
		}
		skew := 1.0
		if s.experts > 0 { // routed experts: see moe.go
			var routedLocal float64
			flops, wbytes, mEff, routedLocal = d.expertWork(s, rows)
			abytes = routedLocal * (s.k*inB + s.n*d.actBytes)
			skew = d.moeSkew(rows, s.perTok)
		} else {
			flops = 2 * rows * s.k * s.n
			wbytes = s.k * s.n * s.bpe
			mEff = rows
			abytes = rows * (s.k*inB + s.n*d.actBytes)
		}
		flops *= s.layers
		bytes := (wbytes + abytes) * s.layers
		moe, moeC := 1.0, 1.0
		if s.experts > 0 {
			moeC, moe = d.moeEff(s, mEff)
		}
		if s.quant {
			// Quantise the GEMM's input: read it in 16 bits, write it in the compute dtype.
			qBytes += rows * s.k * (d.actBytes + qb) * s.layers
			qKernels += s.layers
		}
		eta := eta16
		switch {
		case s.dt != "":
			// Read from the profile at step time, as eta16 and etaQ are (calibrate fits
			// gemm_efficiency in place on the deployments it built).
			eta = orOne(prof.GEMMEfficiency)
			if v := prof.GEMMEfficiencyByDtype[s.dt]; v > 0 {
				eta = v
			}
		case s.quantDt:
			eta = etaQ
		}
		c := skew * flops / (float64(s.peak) * d.gemmEff(eta, mEff) * moeC)
		m := bytes / (bw * memEff * moe)
		ovh := (kernel + prof.GEMMFixedUs*1e-6) * s.layers
		acc.add(s.name, flops, bytes, c, m, ovh, d.combine(c, m)+ovh)
	}

	return qBytes, qKernels
}

func (d *Deployment) step(b *Batch, acc *stepAcc) {
	prof := d.Profile
	g := d.GPU
	bw := d.memBW
	memEff := orOne(prof.MemoryEfficiency)
	kernel := prof.KernelOverheadUs * 1e-6

	prefillTokens := 0
	for _, c := range b.Prefill {
		prefillTokens += c.New
	}
	nDecode := len(b.Decode) + b.Uniform.N
	q := max(b.Verify, 1) // positions per decoding sequence
	M := float64(prefillTokens + nDecode*q)
	seqs := float64(len(b.Prefill) + nDecode)
	acc.tokens = int(M)
	if M == 0 {
		return
	}

	// GEMMs: the step's first terms, so that a cached sum (gemmCache) is the same sum.
	var qBytes, qKernels float64 // activation quantisation passes of W8A8/W4A4 GEMMs
	if acc.cache != nil && !acc.explain {
		qBytes, qKernels = acc.cache.gemms(d, acc, prefillTokens, len(b.Prefill), nDecode, q)
	} else if acc.tab != nil && !acc.explain {
		qBytes, qKernels = acc.tab.gemms(d, acc, prefillTokens+nDecode*q, seqs, nDecode, q)
	} else if acc.last != nil && !acc.explain {
		qBytes, qKernels = acc.last.gemms(acc, prefillTokens+nDecode*q, seqs, nDecode, q)
	} else {
		qBytes, qKernels = d.gemmTerms(acc, M, seqs, nDecode, q)
	}

	if qKernels > 0 {
		m := qBytes / (bw * memEff)
		ovh := 0.0
		if !prof.ActQuantFused {
			ovh = kernel * qKernels
		}
		acc.add("activation_quant", 0, qBytes, 0, m, ovh, m+ovh)
	}

	// Attention, prefill and decode parts as separate kernels.
	heads := float64(d.heads)
	attnEff := orOne(prof.AttentionEfficiency)
	kvEff := orOne(prof.AttentionMemoryEfficiency)
	if d.KVDtypeResolved == "fp8" {
		kvEff *= orOne(prof.FP8KVReadEfficiency) // dequantise on read
	}
	var pf, pb, df, db float64
	var layersAll float64
	for _, gr := range d.attnGroups {
		layersAll += gr.layers
		var k, kvTok float64
		for _, c := range b.Prefill {
			k += keys(c.New, c.Past, gr.window)
			ctx := c.Past + c.New
			if gr.window > 0 && ctx > gr.window {
				ctx = gr.window
			}
			kvTok += float64(ctx + c.New) // read the cached context, write the new tokens
		}
		pf += 2 * heads * float64(gr.qkDim+gr.vDim) * k * gr.layers
		pb += (kvTok*gr.kvBytes + float64(prefillTokens)*heads*float64(gr.qkDim+gr.vDim)*d.actBytes) * gr.layers
		// Keys summed as integers: exact, and the same as a float64 sum of the terms (every
		// partial sum is an integer far below 2⁵³).
		var dkn int
		if gr.window > 0 {
			for _, ctx := range b.Decode {
				dkn += min(ctx+1, gr.window)
			}
		} else {
			for _, ctx := range b.Decode {
				dkn += ctx
			}
			dkn += len(b.Decode)
		}
		dk := float64(dkn)
		if b.Uniform.N > 0 {
			n := b.Uniform.Ctx + 1
			if gr.window > 0 && n > gr.window {
				n = gr.window
			}
			dk += float64(n) * float64(b.Uniform.N)
		}
		dq := dk // query·key pairs: one query per sequence …
		if q > 1 {
			// … or q verified positions attending causally after ctx cached tokens; the
			// cache is read once per sequence (ctx + q keys).
			dq, dk = 0, 0
			for _, ctx := range b.Decode {
				dq += keys(q, ctx, gr.window)
				k := ctx + q
				if gr.window > 0 && k > gr.window {
					k = gr.window
				}
				dk += float64(k)
			}
			if n := b.Uniform.N; n > 0 {
				dq += keys(q, b.Uniform.Ctx, gr.window) * float64(n)
				k := b.Uniform.Ctx + q
				if gr.window > 0 && k > gr.window {
					k = gr.window
				}
				dk += float64(k) * float64(n)
			}
		}
		df += 2 * heads * float64(gr.qkDimDec+gr.vDimDec) * dq * gr.layers
		db += dk * gr.kvBytes * gr.layers
	}
	if prefillTokens > 0 {
		c := pf / (float64(d.attnCeil) * attnEff)
		m := pb / (bw * memEff)
		ovh := kernel * layersAll
		acc.add("attention_prefill", pf, pb, c, m, ovh, d.combine(c, m)+ovh)
	}
	if nDecode > 0 {
		c := df / (float64(d.attnCeil) * d.mlaDecodeEff()) // absorbed MLA: mla.go
		m := db / (bw * kvEff * d.lowOccupancy(nDecode))
		ovh := kernel * layersAll
		acc.add("attention_decode", df, db, c, m, ovh, d.combine(c, m)+ovh)
	}

	// Norms, residual adds, activation functions, rotary: memory-bound elementwise work,
	// about 12 reads/writes of the hidden state per token per layer, in the profile's
	// number of kernels per layer.
	L := float64(d.layers)
	eb := 12 * M * float64(d.hidden) * d.actBytes * L
	em := eb / (bw * memEff)
	eo := kernel * L * prof.ElementwiseKernelsPerLayer
	acc.add("elementwise", 0, eb, 0, em, eo, em+eo)

	// Communication.
	link := float64(g.LinkBandwidth)
	if link == 0 {
		link = float64(g.PCIeBandwidth)
	}
	linkEff := orOne(prof.LinkEfficiency)
	lat := prof.CollectiveLatencyUs * 1e-6
	msg := M * float64(d.hidden) * d.actBytes
	multiNode := d.fabric.GPUsPerNode > 0 // topology.go: groups may cross nodes
	if d.TP > 1 && link > 0 {
		n := float64(d.TP)
		per := lat + 2*(n-1)/n*msg/(d.groupLink(link, d.TP)*linkEff)
		if lim := prof.CustomAllReduceMaxMiB; lim > 0 && msg > lim*(1<<20) && g.Achievable.AllReduceFitted {
			// Above the engine's custom all-reduce: NCCL/RCCL's measured line, its bus
			// bandwidth scaled to this group's links on a full-mesh fabric.
			f := g.Achievable.AllReduceLine
			bw := f.BusBW * float64(g.GroupLinkBandwidth(d.TP)) / float64(g.GroupLinkBandwidth(f.GPUs))
			per = f.Latency + 2*(n-1)/n*msg/bw
		}
		if multiNode {
			per = d.fabric.AllReduce(msg, d.TP)
		}
		acc.addComm("tp_all_reduce", 2*msg*L, 2*L*per)
	}
	if d.EP > 1 && d.moeLayers > 0 && link > 0 {
		n := float64(d.EP)
		vol := 2 * msg * float64(d.expertsPerTok) * (n - 1) / n // dispatch + combine
		t := float64(d.moeLayers) * (2*lat + vol/(d.groupLink(link, d.EP)*linkEff))
		if multiNode {
			t = float64(d.moeLayers) * 2 * d.fabric.AllToAll(msg*float64(d.expertsPerTok), d.EP)
		}
		acc.addComm("ep_all_to_all", vol*float64(d.moeLayers), t)
	}

	// Pipeline: the stages run one after another for one step, plus a send between stages.
	// FLOPs and bytes stay per GPU; op times in the breakdown are per stage.
	if d.PP > 1 {
		acc.total *= float64(d.PP)
		for i := range acc.bound {
			acc.bound[i] *= float64(d.PP)
		}
		if link > 0 {
			send := float64(d.PP-1) * (lat + msg/(d.groupLink(link, 2)*linkEff))
			if multiNode {
				send = float64(d.crossPP)*d.fabric.Send(msg, true) + float64(d.PP-1-d.crossPP)*d.fabric.Send(msg, false)
			}
			acc.addComm("pp_send", msg*float64(d.PP-1), send)
		}
	}

	// Fixed per-step costs (CPU side, once per step).
	ovh := prof.StepOverheadMs*1e-3 + prof.SeqOverheadUs*1e-6*seqs
	if n := d.SchedulerSteps; n > 1 && prefillTokens == 0 {
		ovh /= float64(n) // multi-step scheduling (Spec.SchedulerSteps): host work once per n decode steps
	}
	if d.Model.MLA != nil && d.moeLayers > 0 && d.moeGather() > 1 {
		// MLA model, attention DP + EP (profile.go): per sequence of this rank, and per MoE layer of the stage
		ovh += prof.MLAEPSeqOverheadUs*1e-6*seqs + d.mlaEPLayerUs()*1e-6*float64(d.moeLayers)
	} else if d.Model.MLA != nil && d.moeLayers > 0 {
		ovh += prof.MLATPLayerOverheadUs * 1e-6 * float64(d.moeLayers) // MLA model, attention TP (profile.go)
	}
	if prefillTokens > 0 {
		ovh += (prof.PrefillLayerOverheadUs + prof.PrefillSeqLayerOverheadUs*float64(len(b.Prefill))) * 1e-6 * L * float64(d.PP)
	}
	// Eager steps: the host enqueues the layers while the GPU runs them, so only the part of
	// the dispatch longer than the GPU's work is exposed. A step with prompt tokens pays the
	// eager prefill dispatch (an engine that runs prefill eagerly), one with more decoding
	// sequences than the engine captures CUDA graphs for the eager decode dispatch; a step
	// that is both is one eager pass and pays the larger of the two per layer.
	// Under Spec.EnforceEager every decode step is eager, whatever its batch.
	var us float64
	name := "prefill_dispatch"
	if prefillTokens > 0 && !b.noDispatch {
		us = d.eagerPrefillLayerUs()
	}
	if dec := d.eagerDecodeLayerUs(); nDecode > 0 && d.eagerDecode(nDecode) && dec > us {
		us, name = dec, "decode_dispatch"
	}
	if us > 0 {
		if ex := us*1e-6*L*float64(d.PP) - acc.total; ex > 0 {
			acc.add(name, 0, 0, 0, 0, ex, ex)
		}
	}
	if ovh > 0 {
		acc.add("step_overhead", 0, 0, 0, 0, ovh, ovh)
	}
}

// eagerPrefillLayerUs is the host dispatch per layer of a step with prompt tokens, µs: the
// profile's eager_prefill_layer_us, or under Spec.EnforceEager its eager_decode_layer_us
// where it gives only that (the same Python module chain dispatched per layer). 0: the
// prompt steps are graphed or the profile prices no dispatch.
func (d *Deployment) eagerPrefillLayerUs() float64 {
	p := d.Profile
	if d.EnforceEager && p.EagerPrefillLayerUs <= 0 {
		return p.EagerDecodeLayerUs
	}
	return p.EagerPrefillLayerUs
}

// eagerDecodeLayerUs is the host dispatch per layer of an eager decode step, µs: the
// profile's eager_decode_layer_us, or under Spec.EnforceEager its eager_prefill_layer_us
// where it gives only that.
func (d *Deployment) eagerDecodeLayerUs() float64 {
	p := d.Profile
	if d.EnforceEager && p.EagerDecodeLayerUs <= 0 {
		return p.EagerPrefillLayerUs
	}
	return p.EagerDecodeLayerUs
}

// eagerDecode reports whether a step with n decoding sequences (n ≥ 1) runs without a CUDA
// graph: always under Spec.EnforceEager, else above the profile's cuda_graph_max_batch
// (0: every decode step graphed).
func (d *Deployment) eagerDecode(n int) bool {
	cg := d.Profile.CUDAGraphMaxBatch
	return d.EnforceEager || (cg > 0 && n > cg)
}

// lowOccupancy returns the factor on the decode-attention streaming rate of a step with n
// decode sequences: f + (1 − f)·u/SMs for u = n × (KV heads per GPU) work units below the
// GPU's SM/CU count, 1 from there on, where f is the profile's
// attention_low_occupancy_efficiency (1 when unset, for MLA, or without an SM count).
// Linear in u, so the attention time u·c/(f + (1 − f)·u/SMs) still grows with the batch.
func (d *Deployment) lowOccupancy(n int) float64 {
	f, cu := d.Profile.AttentionLowOccupancyEfficiency, d.GPU.ComputeUnits
	if f <= 0 || f >= 1 || cu <= 0 || d.Model.MLA != nil {
		return 1
	}
	u := float64(n * max(d.Model.NumKVHeads/d.TP, 1))
	if u >= float64(cu) {
		return 1
	}
	return f + (1-f)*u/float64(cu)
}
