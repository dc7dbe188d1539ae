package plugins

import (
	"context"

	"github.com/shoalmesh/shoal/services/scheduler/framework"
)

// LeastAllocated favours nodes with the most cpu and memory left after the
// pod is placed: score = mean over cpu and memory of
// (allocatable - requested) * MaxNodeScore / allocatable, with the pod's
// and the node's non-zero requests. It spreads load over the cluster.
type LeastAllocated struct{}

var _ framework.ScorePlugin = (*LeastAllocated)(nil)

// Name is LeastAllocatedName.
func (*LeastAllocated) Name() string { return LeastAllocatedName }

// Score is the mean free share of cpu and memory, 0..MaxNodeScore.
func (*LeastAllocated) Score(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	cpu := leastAllocated(node.NonZeroRequested.MilliCPU+pod.NonZeroRequests.MilliCPU, node.Allocatable.MilliCPU)
	mem := leastAllocated(node.NonZeroRequested.Memory+pod.NonZeroRequests.Memory, node.Allocatable.Memory)
	return (cpu + mem) / 2, nil
}

// ScoreExtensions: none, scores are already 0..MaxNodeScore.
func (*LeastAllocated) ScoreExtensions() framework.ScoreExtensions { return nil }

func leastAllocated(requested, allocatable int64) int64 {
	if allocatable <= 0 || requested > allocatable {
		return 0
	}
	// Divide first: memory in bytes times 100 stays far from overflow
	// either way, but this keeps it so for any int64 allocatable.
	return (allocatable - requested) * framework.MaxNodeScore / allocatable
}
