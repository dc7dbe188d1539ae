package plugins

import (
	"context"

	"github.com/shoalmesh/shoal/services/scheduler/framework"
)

// NodeResourcesFit rejects nodes whose allocatable cpu, memory or pod count
// cannot take the pod's summed container requests on top of what the pods
// already there (bound or assumed) request.
type NodeResourcesFit struct{}

var (
	_ framework.FilterPlugin      = (*NodeResourcesFit)(nil)
	_ framework.EnqueueExtensions = (*NodeResourcesFit)(nil)
)

// NodeResourcesFit's rejection reasons; a node short of several resources
// gives one reason for each.
const (
	ReasonInsufficientCPU    = "insufficient cpu"
	ReasonInsufficientMemory = "insufficient memory"
	ReasonTooManyPods        = "too many pods"
)

// Name is NodeResourcesFitName.
func (*NodeResourcesFit) Name() string { return NodeResourcesFitName }

// Filter checks each resource. A zero request always fits that resource,
// as in Kubernetes, so request-less pods are bounded by the pod count only.
func (*NodeResourcesFit) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	var reasons []string
	if node.Requested.Pods+1 > node.Allocatable.Pods {
		reasons = append(reasons, ReasonTooManyPods)
	}
	if r := pod.Requests.MilliCPU; r > 0 && node.Requested.MilliCPU+r > node.Allocatable.MilliCPU {
		reasons = append(reasons, ReasonInsufficientCPU)
	}
	if r := pod.Requests.Memory; r > 0 && node.Requested.Memory+r > node.Allocatable.Memory {
		reasons = append(reasons, ReasonInsufficientMemory)
	}
	if len(reasons) == 0 {
		return nil
	}
	return framework.NewStatus(framework.Unschedulable, reasons...).WithPlugin(NodeResourcesFitName)
}

// EventsToRegister: a node that appears or grows, or a bound pod that goes
// away (it frees what it requested).
func (*NodeResourcesFit) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{
		{Resource: framework.NodeEvent, Action: framework.Add | framework.UpdateNodeAllocatable},
		{Resource: framework.AssignedPodEvent, Action: framework.Delete},
	}
}
