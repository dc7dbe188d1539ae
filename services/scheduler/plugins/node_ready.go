package plugins

import (
	"context"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
)

// NodeReady rejects nodes whose Ready condition is not True, unless the pod
// tolerates the node.kubernetes.io/not-ready:NoSchedule taint.
type NodeReady struct{}

var (
	_ framework.FilterPlugin      = (*NodeReady)(nil)
	_ framework.EnqueueExtensions = (*NodeReady)(nil)
)

// ReasonNodeNotReady is NodeReady's rejection reason.
const ReasonNodeNotReady = "node not ready"

var (
	statusNotReady = framework.NewStatus(framework.Unschedulable, ReasonNodeNotReady).WithPlugin(NodeReadyName)
	notReadyTaint  = &shoalv1.Taint{Key: framework.TaintNodeNotReady, Effect: shoalv1.TaintEffect_TAINT_EFFECT_NO_SCHEDULE}
)

// Name is NodeReadyName.
func (*NodeReady) Name() string { return NodeReadyName }

// Filter passes Ready nodes.
func (*NodeReady) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	if node.Ready || framework.ToleratesTaint(pod.Tolerations, notReadyTaint) {
		return nil
	}
	return statusNotReady
}

// EventsToRegister: a node that appears or becomes Ready.
func (*NodeReady) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{{Resource: framework.NodeEvent, Action: framework.Add | framework.UpdateNodeCondition}}
}
