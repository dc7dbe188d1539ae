package plugins

import (
	"context"

	"github.com/shoalmesh/shoal/services/scheduler/framework"
)

// NodePorts rejects nodes where a host port the pod asks for is taken.
type NodePorts struct{}

var (
	_ framework.PreFilterPlugin   = (*NodePorts)(nil)
	_ framework.FilterPlugin      = (*NodePorts)(nil)
	_ framework.EnqueueExtensions = (*NodePorts)(nil)
)

// Name is NodePortsName.
func (*NodePorts) Name() string { return NodePortsName }

// PreFilter skips pods without host ports.
func (*NodePorts) PreFilter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, _ framework.NodeLister) *framework.Status {
	if len(pod.HostPorts) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	return nil
}

// Filter rejects the node for the first conflicting port, with the reason
// "host port 8080/TCP in use".
func (*NodePorts) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	for _, want := range pod.HostPorts {
		for _, used := range node.UsedPorts {
			if want.Conflicts(used) {
				return framework.NewStatus(framework.Unschedulable, "host port "+want.String()+" in use").WithPlugin(NodePortsName)
			}
		}
	}
	return nil
}

// EventsToRegister: a node that appears, or a bound pod that goes away.
func (*NodePorts) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{
		{Resource: framework.NodeEvent, Action: framework.Add},
		{Resource: framework.AssignedPodEvent, Action: framework.Delete},
	}
}
