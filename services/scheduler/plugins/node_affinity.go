package plugins

import (
	"context"

	"github.com/shoalmesh/shoal/services/scheduler/framework"
)

// NodeAffinity filters nodes by the pod's node_selector and required node
// affinity, and scores them by the weights of the preferred node affinity
// terms they match.
type NodeAffinity struct{}

var (
	_ framework.PreFilterPlugin   = (*NodeAffinity)(nil)
	_ framework.FilterPlugin      = (*NodeAffinity)(nil)
	_ framework.PreScorePlugin    = (*NodeAffinity)(nil)
	_ framework.ScorePlugin       = (*NodeAffinity)(nil)
	_ framework.ScoreExtensions   = (*NodeAffinity)(nil)
	_ framework.EnqueueExtensions = (*NodeAffinity)(nil)
)

// NodeAffinity's rejection reasons.
const (
	ReasonNodeSelectorMismatch = "node selector mismatch"
	ReasonNodeAffinityMismatch = "node affinity mismatch"
)

var (
	statusSelectorMismatch = framework.NewStatus(framework.Unschedulable, ReasonNodeSelectorMismatch).WithPlugin(NodeAffinityName)
	statusAffinityMismatch = framework.NewStatus(framework.Unschedulable, ReasonNodeAffinityMismatch).WithPlugin(NodeAffinityName)
)

// Name is NodeAffinityName.
func (*NodeAffinity) Name() string { return NodeAffinityName }

// PreFilter rejects a pod whose affinity does not compile and skips pods
// without a node selector or required node affinity.
func (*NodeAffinity) PreFilter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, _ framework.NodeLister) *framework.Status {
	if pod.ParseErr != nil {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, "invalid affinity: "+pod.ParseErr.Error())
	}
	if len(pod.NodeSelector) == 0 && pod.RequiredNodeAffinity == nil {
		return framework.NewStatus(framework.Skip)
	}
	return nil
}

// Filter passes nodes that carry every node_selector label and match the
// required affinity.
func (*NodeAffinity) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	for k, v := range pod.NodeSelector {
		if have, ok := node.Labels[k]; !ok || have != v {
			return statusSelectorMismatch
		}
	}
	if pod.RequiredNodeAffinity != nil && !pod.RequiredNodeAffinity.Matches(node.Labels, node.Name) {
		return statusAffinityMismatch
	}
	return nil
}

// PreScore skips pods without preferred terms.
func (*NodeAffinity) PreScore(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, _ []*framework.NodeInfo) *framework.Status {
	if len(pod.PreferredNodeAffinity) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	return nil
}

// Score sums the weights of the preferred terms the node matches.
func (*NodeAffinity) Score(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	var s int64
	for i := range pod.PreferredNodeAffinity {
		if pod.PreferredNodeAffinity[i].Term.Matches(node.Labels, node.Name) {
			s += pod.PreferredNodeAffinity[i].Weight
		}
	}
	return s, nil
}

// ScoreExtensions is the plugin itself.
func (a *NodeAffinity) ScoreExtensions() framework.ScoreExtensions { return a }

// NormalizeScore scales sums to 0..MaxNodeScore relative to the best node.
func (*NodeAffinity) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, scores []framework.NodeScore) *framework.Status {
	normalize(scores)
	return nil
}

// EventsToRegister: a node that appears or changes labels.
func (*NodeAffinity) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{{Resource: framework.NodeEvent, Action: framework.Add | framework.UpdateNodeLabel}}
}
