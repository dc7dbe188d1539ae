package framework

import (
	"unique"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

// ConditionReady is the node condition the node agent keeps True while it
// renews its lease.
const ConditionReady = "Ready"

// NodeInfo is a node plus the pods the scheduler counts on it (bound ones
// and assumed ones whose bind is still in flight), with the aggregates that
// filters and scores read.
//
// A NodeInfo is immutable once published: the With* methods return a new
// NodeInfo and leave the receiver alone, so a scheduling cycle can read the
// NodeInfos of a snapshot from many goroutines while the cache moves on.
type NodeInfo struct {
	// The fields every filter and score reads come first, so that a cycle
	// touching hundreds of NodeInfos pays for as few cache lines as
	// possible per node (memory latency, not arithmetic, is what a cycle
	// spends its time on).

	Ready         bool
	Unschedulable bool
	// ownerBits is the OR of the OwnerBits of Owners: OwnerCount answers
	// "none here" without touching the Owners array for most owners.
	ownerBits   uint64
	Allocatable Resource
	// Requested sums the requests of Pods; Requested.Pods is len(Pods).
	Requested Resource
	// NonZeroRequested sums the NonZeroRequests of Pods (for scores).
	NonZeroRequested Resource
	Taints           []*shoalv1.Taint
	// Owners counts Pods per controller owner uid (see OwnerCount).
	Owners []OwnerCount

	Name string
	// Node is the informer's object; nil while only pods name the node
	// (such a NodeInfo is never offered to plugins).
	Node *shoalv1.Node
	// Labels are the node's labels (shared with Node: read only).
	Labels map[string]string
	// Hostname is the value of the hostname topology: the node's
	// kubernetes.io/hostname label, or its name.
	Hostname string
	Pods     []*PodInfo
	// PodsWithRequiredAntiAffinity are the Pods that carry required pod
	// anti-affinity terms (their terms also keep other pods away).
	PodsWithRequiredAntiAffinity []*PodInfo
	UsedPorts                    []HostPort

	// Generation is set by the cache when it publishes the NodeInfo; it
	// grows with every change.
	Generation int64
}

// NewNodeInfo returns the NodeInfo of node without pods; node may be nil
// for a node known only from its pods, with name given.
func NewNodeInfo(name string, node *shoalv1.Node) *NodeInfo {
	n := &NodeInfo{Name: name}
	n.setNode(node)
	return n
}

func (n *NodeInfo) setNode(node *shoalv1.Node) {
	n.Node = node
	if node == nil {
		n.Labels, n.Hostname, n.Allocatable, n.Ready, n.Unschedulable, n.Taints = nil, n.Name, Resource{}, false, false, nil
		return
	}
	n.Name = node.GetMetadata().GetName()
	n.Labels = node.GetMetadata().GetLabels()
	n.Hostname = n.Labels[LabelHostname]
	if n.Hostname == "" {
		n.Hostname = n.Name
	}
	a := node.GetStatus().GetAllocatable()
	n.Allocatable = Resource{MilliCPU: a.GetCpuMillis(), Memory: a.GetMemoryBytes(), Pods: a.GetPods()}
	n.Ready = NodeReady(node)
	n.Unschedulable = node.GetSpec().GetUnschedulable()
	n.Taints = node.GetSpec().GetTaints()
}

// NodeReady reports whether node's Ready condition is True.
func NodeReady(node *shoalv1.Node) bool {
	for _, c := range node.GetStatus().GetConditions() {
		if c.GetType() == ConditionReady {
			return c.GetStatus() == shoalv1.ConditionStatus_CONDITION_STATUS_TRUE
		}
	}
	return false
}

// TopologyValue is the node's value of a topology key; ok is false when the
// node has no such label. The hostname key falls back to the node's name.
func (n *NodeInfo) TopologyValue(key string) (string, bool) {
	if key == LabelHostname {
		return n.Hostname, true
	}
	v, ok := n.Labels[key]
	return v, ok
}

// clone is a copy whose slices and map may be changed without touching n.
func (n *NodeInfo) clone() *NodeInfo {
	c := *n
	c.Pods = append([]*PodInfo(nil), n.Pods...)
	c.PodsWithRequiredAntiAffinity = append([]*PodInfo(nil), n.PodsWithRequiredAntiAffinity...)
	c.UsedPorts = append([]HostPort(nil), n.UsedPorts...)
	c.Owners = append([]OwnerCount(nil), n.Owners...)
	return &c
}

// WithNode returns a copy of n describing node (same pods).
func (n *NodeInfo) WithNode(node *shoalv1.Node) *NodeInfo {
	c := *n // the pod slices are shared, never appended to in place
	c.setNode(node)
	return &c
}

// WithPod returns a copy of n with pod added.
func (n *NodeInfo) WithPod(pod *PodInfo) *NodeInfo {
	c := n.clone()
	c.Pods = append(c.Pods, pod)
	c.Requested.Add(pod.Requests)
	c.NonZeroRequested.Add(pod.NonZeroRequests)
	if len(pod.RequiredAntiAffinity) > 0 {
		c.PodsWithRequiredAntiAffinity = append(c.PodsWithRequiredAntiAffinity, pod)
	}
	c.UsedPorts = append(c.UsedPorts, pod.HostPorts...)
	if pod.OwnerUID != "" {
		if i := c.ownerIndex(pod.Owner); i >= 0 {
			c.Owners[i].Pods++
		} else {
			c.Owners = append(c.Owners, OwnerCount{Owner: pod.Owner, Pods: 1, bit: pod.OwnerBit})
			c.ownerBits |= pod.OwnerBit
		}
	}
	return c
}

// WithoutPod returns a copy of n without the pod of this uid; ok is false
// (and the result is n) when the pod is not there.
func (n *NodeInfo) WithoutPod(uid string) (_ *NodeInfo, ok bool) {
	idx := -1
	for i, p := range n.Pods {
		if p.UID == uid {
			idx = i
			break
		}
	}
	if idx < 0 {
		return n, false
	}
	pod := n.Pods[idx]
	c := n.clone()
	c.Pods = append(c.Pods[:idx], c.Pods[idx+1:]...)
	c.Requested.Sub(pod.Requests)
	c.NonZeroRequested.Sub(pod.NonZeroRequests)
	for i, p := range c.PodsWithRequiredAntiAffinity {
		if p.UID == uid {
			c.PodsWithRequiredAntiAffinity = append(c.PodsWithRequiredAntiAffinity[:i], c.PodsWithRequiredAntiAffinity[i+1:]...)
			break
		}
	}
	if len(pod.HostPorts) > 0 {
		c.UsedPorts = c.UsedPorts[:0]
		for _, p := range c.Pods {
			c.UsedPorts = append(c.UsedPorts, p.HostPorts...)
		}
	}
	if i := c.ownerIndex(pod.Owner); pod.OwnerUID != "" && i >= 0 {
		if c.Owners[i].Pods <= 1 {
			c.Owners = append(c.Owners[:i], c.Owners[i+1:]...)
			c.ownerBits = 0
			for _, o := range c.Owners {
				c.ownerBits |= o.bit
			}
		} else {
			c.Owners[i].Pods--
		}
	}
	return c, true
}

// OwnerCount is how many of a node's pods one controller owns.
type OwnerCount struct {
	// Owner is the owner's uid, interned (PodInfo.Owner).
	Owner unique.Handle[string]
	Pods  int
	bit   uint64 // PodInfo.OwnerBit
}

// OwnerCount returns how many of the node's pods have this controller
// owner (PodInfo.Owner). A node holds few distinct owners and handles
// compare as pointers, so a linear scan of a small slice beats a map: this
// runs for every scored node of every cycle.
func (n *NodeInfo) OwnerCount(owner unique.Handle[string]) int {
	return n.ownerCount(owner, ownerBit(owner.Value()))
}

// OwnerCountOf is OwnerCount for a pod's owner, with the pod's
// precomputed OwnerBit: most nodes answer from a bit mask in the NodeInfo
// without touching the Owners array.
func (n *NodeInfo) OwnerCountOf(pod *PodInfo) int {
	return n.ownerCount(pod.Owner, pod.OwnerBit)
}

func (n *NodeInfo) ownerCount(owner unique.Handle[string], bit uint64) int {
	if n.ownerBits&bit == 0 {
		return 0
	}
	if i := n.ownerIndex(owner); i >= 0 {
		return n.Owners[i].Pods
	}
	return 0
}

func (n *NodeInfo) ownerIndex(owner unique.Handle[string]) int {
	for i := range n.Owners {
		if n.Owners[i].Owner == owner {
			return i
		}
	}
	return -1
}

// NodeLister is the read-only view of the cluster that PreFilter plugins
// get: every schedulable-candidate node of the cycle's snapshot.
type NodeLister interface {
	// List returns every node; the slice must not be changed.
	List() []*NodeInfo
	// HavePodsWithRequiredAntiAffinity returns the nodes that run at least
	// one pod with required pod anti-affinity.
	HavePodsWithRequiredAntiAffinity() []*NodeInfo
}
