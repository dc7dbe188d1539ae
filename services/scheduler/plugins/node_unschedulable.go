package plugins

import (
	"context"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
)

// NodeUnschedulable rejects cordoned nodes (spec.unschedulable), unless the
// pod tolerates the node.kubernetes.io/unschedulable:NoSchedule taint.
type NodeUnschedulable struct{}

var (
	_ framework.FilterPlugin      = (*NodeUnschedulable)(nil)
	_ framework.EnqueueExtensions = (*NodeUnschedulable)(nil)
)

// ReasonNodeUnschedulable is NodeUnschedulable's rejection reason.
const ReasonNodeUnschedulable = "node unschedulable"

var (
	statusUnschedulable = framework.NewStatus(framework.Unschedulable, ReasonNodeUnschedulable).WithPlugin(NodeUnschedulableName)
	unschedulableTaint  = &shoalv1.Taint{Key: framework.TaintNodeUnschedulable, Effect: shoalv1.TaintEffect_TAINT_EFFECT_NO_SCHEDULE}
)

// Name is NodeUnschedulableName.
func (*NodeUnschedulable) Name() string { return NodeUnschedulableName }

// Filter passes nodes that are not cordoned.
func (*NodeUnschedulable) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	if !node.Unschedulable || framework.ToleratesTaint(pod.Tolerations, unschedulableTaint) {
		return nil
	}
	return statusUnschedulable
}

// EventsToRegister: a node that appears or is uncordoned.
func (*NodeUnschedulable) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{{Resource: framework.NodeEvent, Action: framework.Add | framework.UpdateNodeUnschedulable}}
}
