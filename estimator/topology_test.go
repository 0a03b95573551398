package estimator

import (
	"math"
	"strings"
	"testing"
)

// TestAllReduceTP16TwoNodesHandCalc: an all-reduce of 1 MiB (a decode batch of 32 tokens of
// Llama-3.1-405B, 32·16384·2 B) on H100 SXM: NVLink 450 GB/s per direction, one ConnectX-7
// 400 Gb/s = 50 GB/s NIC per GPU; η = 1, latencies 10 µs (NVLink collective) and 5 µs (network).
func TestAllReduceTP16TwoNodesHandCalc(t *testing.T) {
	f := Fabric{GPUsPerNode: 8, ScaleUp: 450e9, ScaleUpLatency: 10e-6, ScaleOut: 50e9, ScaleOutLatency: 5e-6, Efficiency: 1}
	S := 1048576.0
	// TP8 in one node, ring: 10 µs + 2·7/8·1,048,576 B / 450e9 B/s = 10 + 4.0777 = 14.0777 µs.
	tp8 := 10e-6 + 2*7.0/8*S/450e9
	// TP16 on two nodes, hierarchical: reduce-scatter + all-gather in the node 2·10 µs +
	// 2·7/8·S/450e9 = 24.0777 µs; ring over 2 nodes of each GPU's S/8 = 131,072 B shard:
	// 2·(2−1)·5 µs + 2·(1/2)·131,072/50e9 = 10 + 2.6214 µs → 36.699 µs in all.
	tp16 := 20e-6 + 2*7.0/8*S/450e9 + 10e-6 + 131072/50e9
	if got := f.AllReduce(S, 8); math.Abs(got-tp8) > 1e-12 || math.Abs(got-14.0777e-6) > 1e-10 {
		t.Errorf("TP8: got %.6g s, want %.6g s", got, tp8)
	}
	if got := f.AllReduce(S, 16); math.Abs(got-tp16) > 1e-12 || math.Abs(got-36.699e-6) > 1e-9 {
		t.Errorf("TP16 over 2 nodes: got %.6g s, want %.6g s", got, tp16)
	}
	// All-to-all of EP16 over 2 nodes: 7/16 of V over NVLink, 8/16 over the NIC, in parallel.
	V := 16e6
	want := 10e-6 + 5e-6 + math.Max(V*7/16/450e9, V*8/16/50e9) // 15 µs + 160 µs
	if got := f.AllToAll(V, 16); math.Abs(got-want) > 1e-12 {
		t.Errorf("EP16 all-to-all: got %.6g, want %.6g", got, want)
	}
}

// TestMultiNodeDeployment: Llama-3.1-70B at TP16 on two H100 nodes pays the network; the
// same 16 GPUs as TP8×PP2 keep the all-reduce inside a node and cross only at the stage send.
func TestMultiNodeDeployment(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-70B-Instruct")
	g := mustGPU(t, "H100 SXM")
	tp16 := mustDeploy(t, Spec{Model: m, GPU: g, TP: 16, Topology: Topology{Nodes: 2}})
	if tp16.Nodes() != 2 || len(tp16.Crossings()) != 1 || !strings.Contains(tp16.Crossings()[0], "TP 16 spans 2 nodes") {
		t.Fatalf("crossings %q", tp16.Crossings())
	}
	one := mustDeploy(t, Spec{Model: m, GPU: g, TP: 16, Topology: Topology{Nodes: 1, GPUsPerNode: 16}})
	b := Batch{}
	b.Uniform.N, b.Uniform.Ctx = 64, 2000
	if a, c := tp16.StepSeconds(&b), one.StepSeconds(&b); !(a > c) {
		t.Errorf("TP16 over two nodes %.4g s not slower than in one 16-GPU domain %.4g s", a, c)
	}
	// Unset topology: 16 GPUs exceed the 8-GPU domain, so two nodes are assumed with a warning.
	def := mustDeploy(t, Spec{Model: m, GPU: g, TP: 16})
	if def.Nodes() != 2 {
		t.Errorf("default nodes %d, want 2", def.Nodes())
	}
	pp := mustDeploy(t, Spec{Model: m, GPU: g, TP: 8, PP: 2})
	if c := pp.Crossings(); len(c) != 1 || !strings.HasPrefix(c[0], "PP") {
		t.Errorf("TP8×PP2 crossings %q", c)
	}
	if _, err := New(Spec{Model: m, GPU: g, TP: 16, Topology: Topology{Nodes: 1}}); err == nil {
		t.Error("16 GPUs on 1 node of 8: want an error")
	}
	// --nodes that the GPU count and the node size contradict was ignored: 8 GPUs at the
	// H100's 8 per node fill one node, so TP8 "over 2 nodes" was priced inside one.
	for _, c := range []struct {
		name string
		top  Topology
		gpus int
		want string
	}{
		{"8 GPUs on 2 nodes of 8", Topology{Nodes: 2}, 8, "--nodes 2: 8 GPUs at 8 per node fill 1 node(s)"},
		{"4 GPUs on 8 nodes", Topology{Nodes: 8, GPUsPerNode: 8}, 4, "--nodes 8: more nodes than the 4 GPUs"},
		// 16 GPUs over 3 nodes: 16 mod 3 ≠ 0, so no --gpus-per-node fills 3 whole nodes (5 per
		// node holds 15, 6 per node leaves 6+6+4); the message offered "--gpus-per-node (e.g.
		// 5)", which is then refused. The divisors of 16 are 1, 2, 4, 8, 16.
		{"16 GPUs on 3 nodes", Topology{Nodes: 3}, 16, "--nodes 3: 16 GPUs do not spread evenly over 3 nodes; allowed values divide --num-gpus 16 (1, 2, 4, 8, 16), with --gpus-per-node 16 ÷ nodes"},
		// 16 GPUs over 4 nodes of the H100's 8: 16/4 = 4 per node fills them.
		{"16 GPUs on 4 nodes of 8", Topology{Nodes: 4}, 16, "to spread them over 4 nodes give --gpus-per-node (e.g. 4)"},
	} {
		_, err := New(Spec{Model: m, GPU: g, TP: c.gpus, Topology: c.top})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	if d := mustDeploy(t, Spec{Model: m, GPU: g, TP: 8, Topology: Topology{Nodes: 2, GPUsPerNode: 4}}); d.Nodes() != 2 {
		t.Errorf("8 GPUs on 2 nodes of 4: %d nodes, want 2", d.Nodes())
	}
}

// TestUnrealInputsRefused: values that describe no real deployment are refused with the
// flag and the allowed values; the boundaries follow from the documented rules by hand.
//   - --gpus-per-node g with N > g GPUs: N must fill whole nodes (N mod g = 0); g ≥ N is one node.
//   - --dp: at most MaxDP = 4096 replicas.
//   - --kv-offload: cpu ≤ 1.5 TB and disk ≤ 24·30.72/8 = 92.16 TB per GPU of the replica
//     (tp·pp GPUs), so TP4 takes cpu up to 6 TB and disk up to 368.64 TB.
func TestUnrealInputsRefused(t *testing.T) {
	m := mustModel(t, "meta-llama/Llama-3.1-8B-Instruct")
	g := mustGPU(t, "H100 SXM")
	for _, c := range []struct {
		name string
		spec Spec
		want string // "" = accepted
	}{
		{"8 GPUs at 3 per node", Spec{TP: 8, Topology: Topology{GPUsPerNode: 3}}, "--gpus-per-node 3: 8 GPUs do not fill whole nodes of 3; allowed values divide --num-gpus 8 or are at least 8"},
		{"8 GPUs at 4 per node", Spec{TP: 8, Topology: Topology{GPUsPerNode: 4}}, ""},
		{"2 GPUs at 3 per node (one node)", Spec{TP: 2, Topology: Topology{GPUsPerNode: 3}}, ""},
		{"12 GPUs at 8 per node, given", Spec{TP: 4, DP: 3, Topology: Topology{GPUsPerNode: 8}}, "--gpus-per-node 8: 12 GPUs do not fill whole nodes"},
		{"dp 4096", Spec{DP: 4096}, ""},
		{"dp 4097", Spec{DP: 4097}, "--dp 4097: allowed values are 1 to 4096 replicas"},
		{"dp 100000", Spec{DP: 100000}, "--dp 100000: allowed values are 1 to 4096"},
		{"num-gpus 100000 at tp 1", Spec{TP: 1, NumGPUs: 100000}, "--dp 100000: allowed values are 1 to 4096"},
		{"memory fraction NaN", Spec{MemoryFraction: math.NaN()}, "--gpu-memory-utilization NaN: must be in (0, 1]"},
		{"memory fraction 1.01", Spec{MemoryFraction: 1.01}, "--gpu-memory-utilization 1.01: must be in (0, 1]"},
	} {
		s := c.spec
		s.Model, s.GPU = m, g
		_, err := New(s)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	for _, c := range []struct {
		tp      int
		offload string
		want    string
	}{
		{1, "cpu:1.5TB", ""},
		{1, "cpu:1.6TB", "--kv-offload cpu:1.6TB: allowed values are up to 1.5TB per replica of 1 GPU(s)"},
		{1, "cpu:1e30GB", "--kv-offload cpu:1e+27TB: allowed values are up to 1.5TB"},
		{4, "cpu:6TB", ""},
		{4, "disk:368TB", ""},
		{4, "disk:369TB", "--kv-offload disk:369TB: allowed values are up to 369TB per replica of 4 GPU(s) (92.2TB per GPU"},
	} {
		d := mustDeploy(t, Spec{Model: m, GPU: g, TP: c.tp})
		tiers, err := ParseOffload(c.offload)
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.ResolveTiers(tiers)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("TP%d %s: error %v, want %q", c.tp, c.offload, err, c.want)
		}
	}
}
