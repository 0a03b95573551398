package estimator

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestKVTransfer8kLlama70BHandCalc: the KV of an 8k-token prompt of Llama-3.1-70B (GQA: 80
// layers, 8 KV heads of 128 dims, bf16) is 80·2·8·128·2 B = 327,680 B per token; 8192 tokens
// = 2,684,354,560 B. Over 400 Gb/s = 50e9 B/s at full line rate that takes 53.687 ms, plus a
// 1.75 ms fixed cost per transfer = 55.437 ms.
func TestKVTransfer8kLlama70BHandCalc(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-70B-Instruct")
	g := mustGPU(t, "H100 SXM")
	for _, tp := range []int{1, 4, 8} {
		d := mustDeploy(t, Spec{Model: m, GPU: g, TP: tp, Profile: MustEngine("ideal"), MaxModelLen: 16384})
		if got := d.ModelKVBytesPerToken(); got != 327680 {
			t.Errorf("TP%d: model KV per token %g B, want 327,680 B", tp, got)
		}
	}
	link := KVLink{Transport: TransportRDMA, Bandwidth: 50e9, Latency: 1.75e-3, Efficiency: 1}
	got := link.TransferTime(8192 * 327680)
	if math.Abs(got-55.437e-3) > 1e-6 {
		t.Errorf("8k-token transfer: %.6g s, want 55.437 ms", got)
	}
}

func TestParseDisagg(t *testing.T) {
	s, err := ParseDisagg("2P1D:tp=4:tp=8,ep=8", 1)
	if err != nil || s.Prefill != (PoolShape{2, 4, 1, 1}) || s.Decode != (PoolShape{1, 8, 8, 1}) {
		t.Errorf("got %+v, %v", s, err)
	}
	for _, bad := range []string{"", "P1D", "2P", "0P1D", "1P1D:tp=0", "1P1D:pp=2", "1P1D:a:b:c"} {
		if _, err := ParseDisagg(bad, 1); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

// TestDisaggLatencyParts: at a low rate TTFT is the prefill plus the KV transfer plus about
// one and a half decode steps, and the decode pool's TPOT is a decode-only step (no prefill
// chunks interleaved), below the colocated TPOT at the same load.
func TestDisaggLatencyParts(t *testing.T) {
	x := llamaDisagg1P1D(t)
	w := Workload{Kind: Rate, RequestRate: 0.5, InputLen: 4000, OutputLen: 200}
	s, err := x.Serve(w)
	if err != nil {
		t.Fatal(err)
	}
	parts := s.PrefillQueueMs + s.PrefillMs + s.KVTransferMs + 1.5*s.TPOT.Mean
	if math.Abs(s.TTFT.Mean-parts) > 1e-9*parts {
		t.Errorf("TTFT %.4g ms != queue+prefill+transfer+1.5 steps %.4g ms", s.TTFT.Mean, parts)
	}
	// vLLM's connector (kvConnectors): 4000 tokens · 131,072 B = 524 MB over one 50 GB/s NIC
	// at η 0.772: 13.583 ms, plus 0.366 ms per transfer → 13.949 ms.
	if want := 0.366 + 4000*131072/(50e9*0.772)*1e3; math.Abs(s.KVTransferMs-want) > 1e-6 || math.Abs(s.KVTransferMs-13.95) > 0.01 {
		t.Errorf("transfer %.4g ms, want %.4g", s.KVTransferMs, want)
	}
	w.RequestRate = 2
	co, err := mustDeploy(t, Spec{Model: x.Prefill.Model, GPU: x.Prefill.GPU, Profile: MustEngine("vllm"), DP: 2}).Serve(w)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := x.Serve(w)
	if !(s2.TPOT.Mean < co.TPOT.Mean) {
		t.Errorf("disaggregated TPOT %.3g ms not below colocated %.3g ms", s2.TPOT.Mean, co.TPOT.Mean)
	}
	if s2.GPUs != 2 {
		t.Errorf("GPUs %d", s2.GPUs)
	}
}

// TestDisaggClosedLoopHandoff: one client in a closed loop never queues behind itself (the
// prefill pool is idle when its request arrives), and its prefill latency carries both
// instances' API-server cost: the vllm profile's request_overhead_ms (6 ms), twice, on top of
// the prefill steps. With 8 clients the arriving request sees the other 7's load.
func TestDisaggClosedLoopHandoff(t *testing.T) {
	x := llamaDisagg1P1D(t)
	w := Workload{Kind: Concurrency, Concurrency: 1, InputLen: 4000, OutputLen: 200}
	s, err := x.Serve(w)
	if err != nil {
		t.Fatal(err)
	}
	if s.PrefillQueueMs != 0 {
		t.Errorf("one client: prefill queue %.4g ms, want 0", s.PrefillQueueMs)
	}
	steps := x.Prefill.StepSeconds(&Batch{Prefill: []Chunk{{New: 4000}}}) * 1e3
	ovh := x.Prefill.Profile.RequestOverheadMs
	if want := steps + 2*ovh; math.Abs(s.PrefillMs-want) > 1e-9 {
		t.Errorf("prefill latency %.6g ms, want one 4000-token step %.6g ms + 2 × %g ms", s.PrefillMs, steps, ovh)
	}
	w.Concurrency = 8
	s8, err := x.Serve(w)
	if err != nil {
		t.Fatal(err)
	}
	if !(s8.PrefillQueueMs > 0) {
		t.Errorf("8 clients: prefill queue %.4g ms, want > 0", s8.PrefillQueueMs)
	}
}

// TestSweepDisaggBeatsColocated: for 8k-token prompts and 200-token answers of Llama-3.1-8B on
// eight H100s under mean TTFT < 2 s and TPOT < 20 ms, prefill instances absorb the long
// prompts while decode instances keep TPOT low, so some xPyD split serves more goodput per
// GPU than every colocated DP×TP split (the README example).
func TestSweepDisaggBeatsColocated(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	g := mustGPU(t, "H100 SXM")
	var cons []Constraint
	for _, s := range []string{"ttft:mean<2000ms", "tpot:mean<20ms"} {
		c, err := ParseConstraint(s)
		if err != nil {
			t.Fatal(err)
		}
		cons = append(cons, c)
	}
	w := Workload{Kind: Rate, RequestRate: 1, InputLen: 8000, OutputLen: 200}
	res, err := SweepDisagg(t.Context(), Spec{Model: m, GPU: g, Profile: MustEngine("vllm")}, []int{8}, 2, w, cons, "rdma")
	if err != nil {
		t.Fatal(err)
	}
	if res.BestColocated == nil || res.BestDisagg == nil {
		t.Fatalf("no candidates: %+v", res)
	}
	if !(res.GainOverColoc > 1.05) {
		t.Errorf("best disaggregated %s %.4g tok/s/GPU vs colocated %s %.4g: gain %.3g", res.BestDisagg.Label, res.BestDisagg.GoodputTokSPerGPU,
			res.BestColocated.Label, res.BestColocated.GoodputTokSPerGPU, res.GainOverColoc)
	}
	for _, c := range res.Candidates {
		if c.GoodputReqS > 0 && !(c.TTFTMs <= 2000 && c.TPOTMs <= 20) {
			t.Errorf("%s at its goodput breaks an SLO: TTFT %.4g ms, TPOT %.4g ms", c.Label, c.TTFTMs, c.TPOTMs)
		}
	}
	if _, err := SweepDisagg(t.Context(), Spec{Model: m, GPU: g}, []int{8}, 2, w, nil, "rdma"); err == nil {
		t.Error("no constraints: want an error")
	}
}

// llamaDisagg1P1D is Llama-3.1-8B disaggregated over one H100 prefill and one H100 decode
// instance (vllm profile) joined by the default RDMA KV link.
func llamaDisagg1P1D(t *testing.T) *Disagg {
	t.Helper()
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	g := mustGPU(t, "H100 SXM")
	p := mustDeploy(t, Spec{Model: m, GPU: g, Profile: MustEngine("vllm")})
	d := mustDeploy(t, Spec{Model: m, GPU: g, Profile: MustEngine("vllm")})
	link, err := DefaultKVLink("rdma", p, d)
	if err != nil {
		t.Fatal(err)
	}
	return &Disagg{Prefill: p, Decode: d, PrefillReplicas: 1, DecodeReplicas: 1, Link: link}
}

// TestDisaggTTFTBreakdownLine: the technique table's TTFT line names four terms (prefill
// queue, prefill, KV transfer, first decode step(s)) and must give a figure for each, adding
// up to the TTFT of the disaggregated column (each term printed to 3 significant figures, so
// within 1%). The line printed no figure for the last term ("+ first decode step(s) (ms)"),
// so its three figures summed to 81.9 ms of DeepSeek-R1's 115 ms TTFT on 1P2D H200.
func TestDisaggTTFTBreakdownLine(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	g := mustGPU(t, "H100 SXM")
	base := mustDeploy(t, Spec{Model: m, GPU: g, Profile: MustEngine("vllm")})
	w := Workload{Kind: Rate, RequestRate: 0.5, InputLen: 4000, OutputLen: 200}
	bs, err := base.Serve(w)
	if err != nil {
		t.Fatal(err)
	}
	r, err := CompareTechnique(base, bs, w, Technique{Disagg: "1P1D"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^TTFT = prefill queue ([0-9.e+-]+) \+ prefill ([0-9.e+-]+) \+ KV transfer ([0-9.e+-]+) \+ first decode step\(s\) ([0-9.e+-]+) \(ms\)$`)
	for _, l := range r.Details {
		if !strings.HasPrefix(l, "TTFT = ") {
			continue
		}
		f := re.FindStringSubmatch(l)
		if f == nil {
			t.Fatalf("TTFT line %q: want a figure for each of its four terms", l)
		}
		sum := 0.0
		for _, s := range f[1:] {
			v, _ := strconv.ParseFloat(s, 64)
			sum += v
		}
		if ttft := float64(r.With.TTFTMs); math.Abs(sum-ttft) > 0.01*ttft {
			t.Errorf("TTFT line %q adds up to %.4g ms, the column's TTFT is %.4g ms", l, sum, ttft)
		}
		return
	}
	t.Fatalf("no TTFT line in %q", r.Details)
}
