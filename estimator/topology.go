package estimator

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"roofline/hardware"
	"roofline/units"
)

// Topology places a deployment's GPUs on nodes. The zero value means "every GPU in one
// scale-up domain" unless the deployment is larger than the GPU's catalogue scale-up domain
// (scaleup_domain_gpus), in which case New assumes nodes of that size and warns.
type Topology struct {
	// Nodes is the number of nodes (0 = as many as NumGPUs needs).
	Nodes int
	// GPUsPerNode is the size of one scale-up domain (0 = the catalogue's
	// scaleup_domain_gpus: 8 for HGX/DGX and MI300X platforms, 72 for an NVL72 rack).
	GPUsPerNode int
	// Network overrides the catalogue's scale-out network (zero = catalogue).
	Network hardware.Network
}

// Fabric holds the links collectives use, per GPU and per direction.
type Fabric struct {
	// GPUsPerNode is the scale-up domain size; 0 = all GPUs share the scale-up link.
	GPUsPerNode int
	// ScaleUp and ScaleUpLatency: NVLink / Infinity Fabric bandwidth (bytes/s) and the fixed
	// latency of one collective inside a node (s).
	ScaleUp        float64
	ScaleUpLatency float64
	// ScaleOut and ScaleOutLatency: the GPU's NIC (bytes/s) and one inter-node message (s).
	ScaleOut        float64
	ScaleOutLatency float64
	// Efficiency is the fraction of both bandwidths collectives reach (profile link_efficiency).
	Efficiency float64
}

// nodesOf splits a group of n consecutive ranks into g ranks per node on k nodes.
func (f Fabric) nodesOf(n int) (g, k int) {
	if f.GPUsPerNode <= 0 || n <= f.GPUsPerNode {
		return n, 1
	}
	g = f.GPUsPerNode
	return g, (n + g - 1) / g
}

// AllReduce returns the time (s) of an all-reduce of S bytes over n consecutive ranks.
//
// Inside one node it is a ring: lat + 2(n−1)/n·S/(B_up·η). Across k nodes of g GPUs it is
// hierarchical (NCCL's tree/ring over nodes): a reduce-scatter and an all-gather inside each
// node, 2·lat + 2(g−1)/g·S/(B_up·η), and between them a ring all-reduce across the k nodes
// in which each GPU carries its S/g shard over its own NIC: 2(k−1)·lat_net +
// 2(k−1)/k·(S/g)/(B_net·η).
func (f Fabric) AllReduce(S float64, n int) float64 {
	if n <= 1 {
		return 0
	}
	eta := orOne(f.Efficiency)
	g, k := f.nodesOf(n)
	if k == 1 {
		return f.ScaleUpLatency + 2*float64(n-1)/float64(n)*S/(f.ScaleUp*eta)
	}
	fg, fk := float64(g), float64(k)
	intra := 0.0
	if g > 1 {
		intra = 2*f.ScaleUpLatency + 2*(fg-1)/fg*S/(f.ScaleUp*eta)
	}
	inter := 2*(fk-1)*f.ScaleOutLatency + 2*(fk-1)/fk*(S/fg)/(f.ScaleOut*eta)
	return intra + inter
}

// AllToAll returns the time (s) of one all-to-all in which each GPU of n consecutive ranks
// sends V bytes spread evenly over all n ranks (its own share stays local). Inside a node:
// lat + V·(n−1)/n/(B_up·η). Across nodes the share bound to the g−1 node peers goes over the
// scale-up link and the share (n−g)/n bound to other nodes over the NIC, in parallel; the
// slower one sets the time, plus one inter-node latency: lat + lat_net +
// max(V(g−1)/n/(B_up·η), V(n−g)/n/(B_net·η)).
func (f Fabric) AllToAll(V float64, n int) float64 {
	if n <= 1 {
		return 0
	}
	eta := orOne(f.Efficiency)
	g, k := f.nodesOf(n)
	fn := float64(n)
	if k == 1 {
		return f.ScaleUpLatency + V*(fn-1)/fn/(f.ScaleUp*eta)
	}
	local := V * float64(g-1) / fn / (f.ScaleUp * eta)
	remote := V * (fn - float64(g)) / fn / (f.ScaleOut * eta)
	return f.ScaleUpLatency + f.ScaleOutLatency + math.Max(local, remote)
}

// Send returns the time (s) of a point-to-point send of S bytes, over the NIC when it crosses
// a node and over the scale-up link otherwise: lat + S/(B·η).
func (f Fabric) Send(S float64, crosses bool) float64 {
	eta := orOne(f.Efficiency)
	if crosses {
		return f.ScaleOutLatency + S/(f.ScaleOut*eta)
	}
	return f.ScaleUpLatency + S/(f.ScaleUp*eta)
}

// resolveTopology fills d.fabric from the Spec's Topology, the GPU catalogue and the
// profile, and records which parallel groups cross a node.
func (d *Deployment) resolveTopology() error {
	g, p := d.GPU, d.Profile
	link := float64(g.LinkBandwidth)
	if link == 0 {
		link = float64(g.PCIeBandwidth)
	}
	d.fabric = Fabric{ScaleUp: link, ScaleUpLatency: p.CollectiveLatencyUs * 1e-6, Efficiency: orOne(p.LinkEfficiency)}
	t := d.Topology
	if t.Network.Bandwidth > 0 {
		d.network = t.Network // also used by KV transfers between instances (DefaultKVLink)
	}
	if t.Nodes < 0 || t.GPUsPerNode < 0 {
		return fmt.Errorf("--nodes and --gpus-per-node must be ≥ 1")
	}
	explicit := t.Nodes > 0 || t.GPUsPerNode > 0
	gpn := t.GPUsPerNode
	if gpn == 0 {
		gpn = g.ScaleUpDomain
	}
	if gpn == 0 {
		if !explicit {
			return nil // unknown domain, no topology asked for: one scale-up domain, as before
		}
		if t.Nodes > 0 && d.NumGPUs%t.Nodes == 0 {
			gpn = d.NumGPUs / t.Nodes
		} else {
			return fmt.Errorf("--gpus-per-node: the catalogue gives no scale-up domain size for %s; give --gpus-per-node", g.ID)
		}
	}
	if !explicit && d.NumGPUs <= gpn {
		return nil // fits one scale-up domain: unchanged
	}
	if t.GPUsPerNode > 0 && d.NumGPUs > gpn && d.NumGPUs%gpn != 0 {
		// 8 GPUs at 3 per node (3 + 3 + 2) were priced with collectives that assume equal
		// nodes; engines lay ranks out over whole nodes.
		return fmt.Errorf("--gpus-per-node %d: %d GPUs do not fill whole nodes of %d; allowed values divide --num-gpus %d or are at least %d", gpn, d.NumGPUs, gpn, d.NumGPUs, d.NumGPUs)
	}
	if t.Nodes > 0 && d.NumGPUs > t.Nodes*gpn {
		return fmt.Errorf("--num-gpus %d exceeds --nodes %d × --gpus-per-node %d", d.NumGPUs, t.Nodes, gpn)
	}
	d.nodes = (d.NumGPUs + gpn - 1) / gpn
	if t.Nodes > d.NumGPUs {
		return fmt.Errorf("--nodes %d: more nodes than the %d GPUs (each node holds at least one)", t.Nodes, d.NumGPUs)
	}
	if t.Nodes > 0 && t.Nodes != d.nodes {
		if d.NumGPUs%t.Nodes != 0 {
			// 16 GPUs over 3 nodes: no --gpus-per-node fills whole nodes (the one offered,
			// 16/3 = 5, was then refused), so name the node counts that do.
			return fmt.Errorf("--nodes %d: %d GPUs do not spread evenly over %d nodes; allowed values divide --num-gpus %d (%s), with --gpus-per-node %d ÷ nodes",
				t.Nodes, d.NumGPUs, t.Nodes, d.NumGPUs, divisorList(d.NumGPUs), d.NumGPUs)
		}
		// --num-gpus 8 --tp 8 --nodes 2 was priced as one node of 8: --nodes was ignored.
		return fmt.Errorf("--nodes %d: %d GPUs at %d per node fill %d node(s); to spread them over %d nodes give --gpus-per-node (e.g. %d)",
			t.Nodes, d.NumGPUs, gpn, d.nodes, t.Nodes, d.NumGPUs/t.Nodes)
	}
	d.fabric.GPUsPerNode = gpn
	net := t.Network
	if net.Bandwidth == 0 {
		net = g.ScaleOut
	}
	if !explicit {
		d.warnings = append(d.warnings, fmt.Errorf("%d GPUs exceed the %d-GPU scale-up domain of %s: assumed %d nodes of %d GPUs (give --nodes/--gpus-per-node)", d.NumGPUs, gpn, g.ID, d.nodes, gpn))
	}
	d.fabric.ScaleOut, d.fabric.ScaleOutLatency = float64(net.Bandwidth), float64(net.Latency)
	d.network = net
	d.crossTP = d.TP > gpn
	d.crossEP = d.EP > gpn
	switch {
	case d.PP <= 1 || d.nodes <= 1:
	case d.TP*d.DP >= gpn:
		d.crossPP = d.PP - 1
	default:
		d.crossPP = min(d.PP-1, d.nodes-1)
	}
	if (d.crossTP || d.crossEP || d.crossPP > 0) && d.fabric.ScaleOut == 0 {
		return fmt.Errorf("%s: the catalogue gives no scale-out network (scaleout_bw_gb_s_per_gpu) and a parallel group crosses nodes; add it with --gpu-file", g.ID)
	}
	return nil
}

// Nodes is the number of nodes the deployment spans (1 when it fits one scale-up domain).
func (d *Deployment) Nodes() int { return max(d.nodes, 1) }

// Fabric returns the links collectives use.
func (d *Deployment) Fabric() Fabric { return d.fabric }

// Crossings says, one line per group, which parallel groups cross a node boundary and pay
// scale-out costs; empty when none does.
func (d *Deployment) Crossings() []string {
	var out []string
	gpn := d.fabric.GPUsPerNode
	net := d.network.Name
	if net == "" {
		net = "the scale-out network"
	}
	bw := units.BytesPerSecond(d.fabric.ScaleOut)
	if d.crossTP {
		out = append(out, fmt.Sprintf("TP %d spans %d nodes of %d GPUs: hierarchical all-reduce over %s (%s per GPU)", d.TP, (d.TP+gpn-1)/gpn, gpn, net, bw))
	}
	if d.crossEP {
		out = append(out, fmt.Sprintf("EP %d spans %d nodes of %d GPUs: all-to-all over %s (%s per GPU)", d.EP, (d.EP+gpn-1)/gpn, gpn, net, bw))
	}
	if d.crossPP > 0 {
		out = append(out, fmt.Sprintf("PP: %d of %d stage boundaries cross nodes: sends over %s", d.crossPP, d.PP-1, net))
	}
	return out
}

// divisorList lists the divisors of n, "1, 2, 4, 8, 16"; past 12 of them, the first 12 and "…".
func divisorList(n int) string {
	var ds []string
	for i := 1; i <= n; i++ {
		if n%i == 0 {
			if len(ds) == 12 {
				return strings.Join(ds, ", ") + ", …"
			}
			ds = append(ds, strconv.Itoa(i))
		}
	}
	return strings.Join(ds, ", ")
}
