package plugins

import (
	"context"
	"math"

	"github.com/shoalmesh/shoal/services/scheduler/framework"
)

// BalancedAllocation favours nodes whose cpu and memory would be used in
// equal shares after the pod is placed, so neither runs out while the
// other idles: score = (1 - |cpu share - memory share| / 2) * MaxNodeScore
// (one minus the standard deviation of the two shares).
type BalancedAllocation struct{}

var _ framework.ScorePlugin = (*BalancedAllocation)(nil)

// Name is BalancedAllocationName.
func (*BalancedAllocation) Name() string { return BalancedAllocationName }

// Score is 0..MaxNodeScore.
func (*BalancedAllocation) Score(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	cpu := share(node.NonZeroRequested.MilliCPU+pod.NonZeroRequests.MilliCPU, node.Allocatable.MilliCPU)
	mem := share(node.NonZeroRequested.Memory+pod.NonZeroRequests.Memory, node.Allocatable.Memory)
	std := math.Abs(cpu-mem) / 2
	return int64((1 - std) * float64(framework.MaxNodeScore)), nil
}

// ScoreExtensions: none, scores are already 0..MaxNodeScore.
func (*BalancedAllocation) ScoreExtensions() framework.ScoreExtensions { return nil }

// share is requested/allocatable capped at 1; a node without the resource
// counts as full.
func share(requested, allocatable int64) float64 {
	if allocatable <= 0 {
		return 1
	}
	return min(float64(requested)/float64(allocatable), 1)
}
