package plugins

import (
	"context"

	"github.com/shoalmesh/shoal/services/scheduler/framework"
)

// OwnerSpread spreads the replicas of one controller (pods with the same
// controller owner reference) over nodes: the fewer of them a node already
// runs (bound or assumed), the higher its score (kube-scheduler's
// SelectorSpread, by owner and per node).
type OwnerSpread struct{}

var (
	_ framework.PreScorePlugin  = (*OwnerSpread)(nil)
	_ framework.ScorePlugin     = (*OwnerSpread)(nil)
	_ framework.ScoreExtensions = (*OwnerSpread)(nil)
)

// Name is OwnerSpreadName.
func (*OwnerSpread) Name() string { return OwnerSpreadName }

// PreScore skips pods without a controller owner.
func (*OwnerSpread) PreScore(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, _ []*framework.NodeInfo) *framework.Status {
	if pod.OwnerUID == "" {
		return framework.NewStatus(framework.Skip)
	}
	return nil
}

// Score is the number of the owner's pods on the node.
func (*OwnerSpread) Score(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	return int64(node.OwnerCountOf(pod)), nil
}

// ScoreExtensions is the plugin itself.
func (s *OwnerSpread) ScoreExtensions() framework.ScoreExtensions { return s }

// NormalizeScore gives MaxNodeScore to nodes without the owner's pods and
// proportionally less to nodes with more.
func (*OwnerSpread) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, scores []framework.NodeScore) *framework.Status {
	reverseNormalize(scores)
	return nil
}
