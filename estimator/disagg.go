package estimator

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// KV transports between a prefill and a decode instance.
const (
	TransportNVLink = "nvlink" // both instances in one scale-up domain
	TransportRDMA   = "rdma"   // GPUDirect RDMA over InfiniBand / RoCE / EFA
	TransportTCP    = "tcp"    // staged through host memory over TCP
)

// KVLink is the path prompt KV takes from a prefill instance to a decode instance.
type KVLink struct {
	Transport string  // nvlink, rdma or tcp
	Bandwidth float64 // line rate of all the links one transfer uses in parallel, bytes/s
	Latency   float64 // fixed cost of one transfer (handshake, registration, completion), s
	// Efficiency is the fraction of the line rate a large transfer reaches.
	Efficiency float64
	Source     string // where the figures come from
}

// KV link defaults. Mooncake's SGLang 1P1D table (Qwen3-235B, 94 layers, TP8 → TP8 over RoCE with
// 4×400GbE per node, 200 GB/s) give 2.07 ms for 49 MB and 76.8 ms for 12.62 GB: solving
// t = L + B/R for both gives R = 168 GB/s (84% of the line rate) and L = 1.75 ms. The engines
// post one RDMA write per layer's KV buffer, so L is taken per layer: 1.75 ms / 94 = 18.6 µs
// (in-sample: MOONCAKE-002, -026; OPTIMIZATIONS.md quotes a fixed overhead of 0.5–2 ms).
// TCP: a 100 GbE host NIC shared by the node, staged through host memory (assumed 50% of
// line rate, 5 ms per transfer).
const (
	kvRDMAEfficiency   = 0.84
	kvRDMALayerLatency = 1.75e-3 / 94
	kvTCPBandwidth     = 12.5e9
	kvTCPEfficiency    = 0.5
	kvTCPLatency       = 5e-3
)

// kvConnector is an engine's KV connector over RDMA: the fraction of the NICs' line rate a
// large transfer reaches and its fixed cost, per transfer plus per layer. Engines not listed
// use the constants above (SGLang's Mooncake backend).
type kvConnector struct {
	eff, perTransfer, perLayer float64 // fraction; s; s
	source                     string
}

// kvConnectors by engine family. vLLM v1's Mooncake connector moves a request's blocks in one
// batched transfer: Mooncake's vLLM 1P1D table (Qwen3-8B, TP8 → TP8, H800 nodes with 8×CX7
// RoCE, 200 GB/s) gives 0.61 ms for 256 tokens (37.7 MB) and 31.65 ms for 32,768 tokens
// (4.83 GB); solving t = L + B/R gives R = 154.4 GB/s (77.2% of the line rate) and
// L = 0.366 ms per transfer (in-sample: MOONCAKE-032, -053; OPTIMIZATIONS.md: 71% at 32K,
// 0.5–2 ms fixed).
var kvConnectors = map[string]kvConnector{
	"vllm": {0.772, 0.366e-3, 0, "η 0.772 and 0.366 ms per transfer, vLLM Mooncake connector, from Mooncake's vLLM 1P1D RoCE table (in-sample)"},
}

// TransferTime is the time (s) to move `bytes` of KV: L + bytes/(R·η).
func (l KVLink) TransferTime(bytes float64) float64 {
	if bytes <= 0 {
		return 0
	}
	return l.Latency + bytes/(l.Bandwidth*orOne(l.Efficiency))
}

// ModelKVBytesPerToken is the KV cache one prompt token occupies on all GPUs of one instance
// (TP·PP GPUs), bytes: what a prefill instance sends per prompt token, each GPU its own
// shard. When TP exceeds the KV heads each head is replicated on TP/heads GPUs and every
// copy is sent (Mooncake's Qwen3-235B table: 4 KV heads at TP8 move 0.385 MB per token,
// twice the model's 0.19 MB); MLA's latent is replicated on every TP rank likewise.
func (d *Deployment) ModelKVBytesPerToken() float64 {
	return (float64(d.KVBytesPerToken()) - d.specKVBytes) * float64(d.PP) * float64(d.TP)
}

// DefaultKVLink returns the link between a prefill and a decode instance of this GPU: NVLink
// when both fit one scale-up domain (every GPU of the smaller instance sends its shard over
// its own link), else RDMA over the GPUs' NICs in parallel, or TCP when asked.
func DefaultKVLink(transport string, p, dec *Deployment) (KVLink, error) {
	g := p.GPU
	streams := float64(min(p.TP*p.PP, dec.TP*dec.PP))
	switch transport {
	case TransportNVLink:
		if g.LinkBandwidth == 0 {
			return KVLink{}, fmt.Errorf("--kv-transfer nvlink: %s has no scale-up link", g.ID)
		}
		return KVLink{Transport: transport, Bandwidth: float64(g.LinkBandwidth) * streams, Latency: p.Profile.CollectiveLatencyUs * 1e-6,
			Efficiency: orOne(p.Profile.LinkEfficiency), Source: "catalogue scale-up link × GPUs sending in parallel; profile link_efficiency"}, nil
	case TransportRDMA, "":
		net := p.network
		if net.Bandwidth == 0 {
			net = g.ScaleOut
		}
		bw := float64(net.Bandwidth)
		if bw == 0 {
			return KVLink{}, fmt.Errorf("--kv-transfer rdma: the catalogue gives no scale-out network for %s (scaleout_bw_gb_s_per_gpu)", g.ID)
		}
		layers := float64(p.Model.NumLayers)
		fam := p.Profile.EngineFamily
		if fam == "" {
			fam = p.Profile.Name
		}
		if c, ok := kvConnectors[fam]; ok {
			return KVLink{Transport: TransportRDMA, Bandwidth: bw * streams, Latency: c.perTransfer + c.perLayer*layers, Efficiency: c.eff,
				Source: fmt.Sprintf("%s × %g GPUs in parallel; %s", net.Name, streams, c.source)}, nil
		}
		return KVLink{Transport: TransportRDMA, Bandwidth: bw * streams, Latency: kvRDMALayerLatency * layers, Efficiency: kvRDMAEfficiency,
			Source: fmt.Sprintf("%s × %g GPUs in parallel; η 0.84 and 18.6 µs per layer from Mooncake's SGLang 1P1D RoCE table (in-sample)", net.Name, streams)}, nil
	case TransportTCP:
		return KVLink{Transport: transport, Bandwidth: kvTCPBandwidth, Latency: kvTCPLatency, Efficiency: kvTCPEfficiency, Source: "assumed 100 GbE host NIC, staged through host memory"}, nil
	}
	return KVLink{}, fmt.Errorf("--kv-transfer %q: allowed values are nvlink, rdma, tcp", transport)
}

// PoolShape is one pool of a disaggregated deployment: Replicas instances of TP·EP/DP GPUs.
type PoolShape struct{ Replicas, TP, EP, DP int }

// DisaggShape is a parsed xPyD specification.
type DisaggShape struct{ Prefill, Decode PoolShape }

// ParseDisagg reads "xPyD" with optional pool shapes: "2P1D", "1P3D:tp=8,tp=8",
// "1P1D:tp=4:tp=8,ep=8" (the prefill pool's settings, then the decode pool's). Unset TP
// takes `defTP`, EP 1, DP 1.
func ParseDisagg(text string, defTP int) (DisaggShape, error) {
	bad := func(why string) (DisaggShape, error) {
		return DisaggShape{}, fmt.Errorf("--disagg %q: %s (want xPyD[:prefill settings[:decode settings]], e.g. 2P1D or 1P2D:tp=8:tp=4,dp=2)", text, why)
	}
	parts := strings.Split(strings.ToLower(strings.TrimSpace(text)), ":")
	ratio := parts[0]
	pi := strings.Index(ratio, "p")
	if pi < 1 || !strings.HasSuffix(ratio, "d") {
		return bad("no xPyD ratio")
	}
	x, err1 := strconv.Atoi(ratio[:pi])
	y, err2 := strconv.Atoi(ratio[pi+1 : len(ratio)-1])
	if err1 != nil || err2 != nil || x < 1 || y < 1 {
		return bad("x and y must be whole numbers ≥ 1")
	}
	s := DisaggShape{Prefill: PoolShape{x, defTP, 1, 1}, Decode: PoolShape{y, defTP, 1, 1}}
	if len(parts) > 3 {
		return bad("at most two pool settings")
	}
	for i, p := range parts[1:] {
		pool := &s.Prefill
		if i == 1 {
			pool = &s.Decode
		}
		for _, kv := range strings.Split(p, ",") {
			if kv == "" {
				continue
			}
			k, v, ok := strings.Cut(kv, "=")
			n, err := strconv.Atoi(v)
			if !ok || err != nil || n < 1 {
				return bad(fmt.Sprintf("setting %q: want tp=N, ep=N or dp=N with N ≥ 1", kv))
			}
			switch k {
			case "tp":
				pool.TP = n
			case "ep":
				pool.EP = n
			case "dp":
				pool.DP = n
			default:
				return bad(fmt.Sprintf("setting %q: allowed keys are tp, ep, dp", k))
			}
		}
	}
	return s, nil
}

// String writes the shape back as xPyD:prefill:decode.
func (s DisaggShape) String() string {
	f := func(p PoolShape) string { return fmt.Sprintf("tp=%d,ep=%d,dp=%d", p.TP, p.EP, p.DP) }
	return fmt.Sprintf("%dP%dD:%s:%s", s.Prefill.Replicas, s.Decode.Replicas, f(s.Prefill), f(s.Decode))
}

// Disagg is a prefill/decode-disaggregated deployment: PrefillReplicas instances of Prefill
// and DecodeReplicas instances of Decode, joined by Link.
type Disagg struct {
	Prefill, Decode                 *Deployment
	PrefillReplicas, DecodeReplicas int
	Link                            KVLink
}

// GPUs is the whole fleet.
func (x *Disagg) GPUs() int {
	return x.PrefillReplicas*x.Prefill.NumGPUs + x.DecodeReplicas*x.Decode.NumGPUs
}

// DisaggServing is the prediction for a disaggregated fleet; Serving holds the fleet's
// metrics (rates for the whole fleet, latencies per request).
type DisaggServing struct {
	Serving
	PrefillQueueMs  float64 `json:"prefill_queue_ms"`
	PrefillMs       float64 `json:"prefill_ms"`
	KVTransferMs    float64 `json:"kv_transfer_ms"`
	KVTransferBytes float64 `json:"kv_transfer_bytes"`
	Transport       string  `json:"kv_transport"`
	PrefillUtil     float64 `json:"prefill_utilisation"` // ρ of the prefill pool
	DecodeBatch     float64 `json:"decode_batch"`        // running sequences per decode instance
	GPUs            int     `json:"num_gpus"`
}

// disaggModel holds what Serve needs at every load.
type disaggModel struct {
	x          *Disagg
	w          *Workload
	in, out    float64
	tp1        float64 // prefill latency of one prompt, s
	svc        float64 // prefill service time per request at full batching, s
	lanesP     float64
	xfer       float64 // KV transfer, s
	xferBytes  float64
	bmax       float64 // decode batch cap per decode lane
	lanesD     float64
	dec        *cf
	decodeStep func(b float64) float64 // s per decode step at batch b (speculation included)
	// clients is the closed loop's concurrency C (0: open loop); an arriving request then
	// sees the prefill pool loaded by the other C−1 clients only.
	clients float64
}

func (x *Disagg) model(w *Workload) (*disaggModel, error) {
	if x.PrefillReplicas < 1 || x.DecodeReplicas < 1 {
		return nil, errors.New("--disagg: x and y must be ≥ 1")
	}
	p, d := x.Prefill, x.Decode
	if p.Model != d.Model {
		return nil, errors.New("disaggregated pools must serve the same model")
	}
	for _, dep := range []*Deployment{p, d} {
		if err := dep.CheckWorkload(w); err != nil {
			return nil, err
		}
	}
	mp, md := p.Memory(), d.Memory()
	if !mp.Fits {
		return nil, p.notFit(mp, *w)
	}
	if !md.Fits {
		return nil, d.notFit(md, *w)
	}
	m := &disaggModel{x: x, w: w, in: w.meanInput(), out: w.meanOutput()}
	block := max(p.Profile.KVBlockTokens, 1)
	prefix := float64(w.PrefixLen / block * block)
	newTok := int(math.Max(1, m.in-prefix))
	budget := p.MaxNumBatchedTokens
	if budget <= 0 {
		budget = math.MaxInt32
	}
	// One prompt, in chunks of the token budget.
	var b Batch
	for left, past := newTok, int(prefix); left > 0; {
		c := min(left, budget)
		b.Prefill = append(b.Prefill[:0], Chunk{New: c, Past: past})
		m.tp1 += p.StepSeconds(&b)
		left -= c
		past += c
	}
	// Batched prompts fill the budget: k prompts per step.
	m.svc = m.tp1
	if k := budget / newTok; k > 1 {
		k = min(k, max(p.MaxNumSeqs, 1))
		b.Prefill = b.Prefill[:0]
		for i := 0; i < k; i++ {
			b.Prefill = append(b.Prefill, Chunk{New: newTok, Past: int(prefix)})
		}
		m.svc = p.StepSeconds(&b) / float64(k)
	}
	// The request passes through both instances' API servers (tokenisation, scheduling, HTTP):
	// vLLM's disaggregation proxy sends it to the decode instance once the prefill instance
	// has returned its one token, so both profiles' request_overhead_ms add to TTFT.
	m.tp1 += (p.Profile.RequestOverheadMs + d.Profile.RequestOverheadMs) * 1e-3
	m.lanesP = float64(x.PrefillReplicas * p.Lanes())
	m.xferBytes = m.in * p.ModelKVBytesPerToken()
	m.xfer = x.Link.TransferTime(m.xferBytes)
	m.lanesD = float64(x.DecodeReplicas * d.Lanes())
	m.dec = newCF(d, w, md)
	m.bmax = m.dec.kvTokens / (m.in + m.out/2)
	if ms := float64(d.MaxNumSeqs); ms > 0 && m.bmax > ms {
		m.bmax = ms
	}
	m.bmax = math.Min(m.bmax, 4096)
	if m.bmax < 1 {
		return nil, d.notFit(md, *w)
	}
	m.decodeStep = m.dec.decode
	return m, nil
}

// maxRate is the highest sustainable request rate of the fleet: the smaller of the prefill
// pool's lanes/svc and the decode pool's lanes·bmax/(O·τ(bmax)).
func (m *disaggModel) maxRate() float64 {
	pre := m.lanesP / m.svc
	dec := m.lanesD * m.bmax / (m.out * m.decodeStep(m.bmax))
	return math.Min(pre, dec)
}

// at evaluates the fleet at an arrival rate lam (req/s).
func (m *disaggModel) at(lam float64) DisaggServing {
	x := m.x
	var s DisaggServing
	s.Method = "closed-form (disaggregated)"
	s.GPUs = x.GPUs()
	s.Transport = x.Link.Transport
	s.KVTransferMs, s.KVTransferBytes = m.xfer*1e3, m.xferBytes
	s.PrefillMs = m.tp1 * 1e3
	s.MaxRequestRate = m.maxRate()
	rho := lam * m.svc / m.lanesP
	s.PrefillUtil = rho
	// Decode: per lane, b = λ_d·O·τ(b) (Little's law on running sequences).
	lamD := lam / m.lanesD
	decCap := m.bmax / (m.out * m.decodeStep(m.bmax))
	if rho >= 1 || lamD >= decCap {
		s.Overloaded = true
		s.OutputTokSPerUser = NullFloat(math.NaN()) // output/(E2E − TTFT) of two unbounded times
		s.TTFT, s.E2E = infDist(), infDist()
		tau := m.decodeStep(m.bmax)
		s.TPOT, s.ITL = constDist(tau*1e3), constDist(tau*1e3)
		s.RequestPerS = s.MaxRequestRate
		s.OutputTokS, s.TotalTokS = s.RequestPerS*m.out, s.RequestPerS*(m.in+m.out)
		s.Warnings = append(s.Warnings, fmt.Sprintf("overloaded: %.3g req/s exceeds the sustainable %.3g req/s", lam, s.MaxRequestRate))
		return s
	}
	lo, hi := 0.0, m.bmax
	for i := 0; i < 50; i++ {
		mid := (lo + hi) / 2
		if lamD*m.out*m.decodeStep(math.Max(mid, 1e-3)) > mid {
			lo = mid
		} else {
			hi = mid
		}
	}
	b := math.Max(hi, 1e-3)
	tau := m.decodeStep(b)
	s.DecodeBatch, s.Batch = b, b
	// Prefill queue: Kingman with c_a² = 1/k (gamma arrivals), c_s² = 0. In a closed loop of C
	// clients an arriving request finds the pool as loaded by the other C−1 (the arrival
	// theorem of mean-value analysis, Reiser & Lavenberg 1980): utilisation ρ·(C−1)/C, so a
	// single client never queues behind itself.
	rhoSeen, ca2 := rho, 1/m.w.Burstiness
	if m.clients > 0 {
		rhoSeen, ca2 = rho*(m.clients-1)/m.clients, 1
	}
	wait := rhoSeen / (1 - rhoSeen) * ca2 / 2 * m.svc
	s.PrefillQueueMs = wait * 1e3
	// TTFT = queue + prefill + KV transfer + the first decode step (a new sequence joins the
	// running batch at the next step boundary: half a step on average, then one step).
	ttft := wait + m.tp1 + m.xfer + 1.5*tau
	s.TTFT = ttftDist(ttft, tau, wait)
	s.TPOT, s.ITL = constDist(tau*1e3), constDist(tau*1e3)
	s.E2E = shift(s.TTFT, (m.out-1)*tau*1e3)
	s.RequestPerS = lam
	s.OutputTokS, s.TotalTokS = lam*m.out, lam*(m.in+m.out)
	s.OutputTokSPerUser = NullFloat(1 / tau)
	s.DecodeStepMs, s.MeanStepMs = tau*1e3, tau*1e3
	prefGPU := float64(x.PrefillReplicas * x.Prefill.NumGPUs)
	s.PrefillShare = prefGPU / float64(s.GPUs)
	s.Bound = "prefill"
	if rho < lamD/decCap {
		s.Bound = "decode"
	}
	return s
}

// Serve predicts the fleet under a workload: open loop at its rate, closed loop at the rate
// that keeps Concurrency requests in flight (λ·E2E(λ) = C, by bisection). Static and offline
// workloads run at the fleet's maximum sustainable rate.
func (x *Disagg) Serve(w Workload) (DisaggServing, error) {
	if err := w.Validate(); err != nil {
		return DisaggServing{}, err
	}
	m, err := x.model(&w)
	if err != nil {
		return DisaggServing{}, err
	}
	max := m.maxRate()
	switch w.Kind {
	case Rate:
		return m.at(w.RequestRate), nil
	case Concurrency:
		C := float64(w.Concurrency)
		m.clients = C
		lo, hi := 0.0, max
		for i := 0; i < 60; i++ {
			mid := (lo + hi) / 2
			s := m.at(mid)
			if !s.Overloaded && mid*s.E2E.Mean*1e-3 < C {
				lo = mid
			} else {
				hi = mid
			}
		}
		s := m.at(lo)
		// Past saturation the extra clients wait in the prefill queue (Little's law).
		if e2e := s.E2E.Mean * 1e-3; lo > 0 && lo*e2e < C*0.999 {
			extra := C/lo - e2e
			s.TTFT = shift(s.TTFT, extra*1e3)
			s.E2E = shift(s.E2E, extra*1e3)
			s.PrefillQueueMs += extra * 1e3
		}
		return s, nil
	default:
		s := m.at(max * 0.999)
		s.Warnings = append(s.Warnings, "static/offline workload on a disaggregated fleet: predicted at its maximum sustainable rate")
		return s, nil
	}
}

// MaxGoodput is the highest request rate (req/s) whose predicted metrics meet every latency
// and rate constraint, with the serving metrics there; 0 when none does.
func (x *Disagg) MaxGoodput(w Workload, cons []Constraint) (float64, DisaggServing, error) {
	w.Kind = Rate
	w.RequestRate = 1
	if err := w.Validate(); err != nil {
		return 0, DisaggServing{}, err
	}
	m, err := x.model(&w)
	if err != nil {
		return 0, DisaggServing{}, err
	}
	ok := func(lam float64) (DisaggServing, bool) {
		s := m.at(lam)
		if s.Overloaded {
			return s, false
		}
		gpus := float64(s.GPUs)
		for _, c := range cons {
			if !c.Holds(c.observe(&s.Serving, s.OutputTokS/gpus, lam, math.NaN())) {
				return s, false
			}
		}
		return s, true
	}
	return bisectRate(m.maxRate(), ok)
}

// MaxGoodputColocated is MaxGoodput for an ordinary (colocated) deployment: the highest open-loop
// rate at which the closed form meets every constraint.
func (d *Deployment) MaxGoodputColocated(w Workload, cons []Constraint) (float64, Serving, error) {
	w.Kind = Rate
	w.RequestRate = 1
	probe, err := d.Serve(w)
	if err != nil {
		return 0, Serving{}, err
	}
	gpus := float64(d.NumGPUs)
	ok := func(lam float64) (Serving, bool) {
		w.RequestRate = lam
		s, err := d.Serve(w)
		if err != nil || s.Overloaded {
			return s, false
		}
		for _, c := range cons {
			if !c.Holds(c.observe(&s, s.OutputTokS/gpus, lam, math.NaN())) {
				return s, false
			}
		}
		return s, true
	}
	return bisectRate(probe.MaxRequestRate, ok)
}

// bisectRate finds the largest rate in (0, hi) for which ok holds, assuming ok is monotone
// (it holds below some rate and fails above).
func bisectRate[S any](hi float64, ok func(float64) (S, bool)) (float64, S, error) {
	var best S
	if !(hi > 0) {
		return 0, best, nil
	}
	lo := 0.0
	found := false
	for i := 0; i < 40; i++ {
		mid := (lo + hi) / 2
		if s, good := ok(mid); good {
			lo, best, found = mid, s, true
		} else {
			hi = mid
		}
	}
	if !found {
		return 0, best, nil
	}
	return lo, best, nil
}
