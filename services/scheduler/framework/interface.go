package framework

import (
	"context"
)

// MaxNodeScore is the highest score a ScorePlugin gives (after
// normalisation); MinNodeScore the lowest.
const (
	MaxNodeScore int64 = 100
	MinNodeScore int64 = 0
)

// Plugin is what every plugin is: a name, unique in the registry.
type Plugin interface {
	Name() string
}

// PreFilterPlugin runs once per scheduling cycle before any Filter. It
// computes what its Filter needs for this pod (written to state) and may
// reject the pod outright. Returning Skip means the plugin has nothing to
// check for this pod: its Filter is not called in this cycle.
//
// nodes is the cycle's snapshot; PreFilter must not modify it.
type PreFilterPlugin interface {
	Plugin
	PreFilter(ctx context.Context, state *CycleState, pod *PodInfo, nodes NodeLister) *Status
}

// FilterPlugin decides whether pod may run on one node. Filter is called
// for many nodes at once from several goroutines: it must only read state
// (written by its PreFilter), pod and node, which are all immutable during
// the cycle. It must read the node from the NodeInfo given, never from
// elsewhere, and should be cheap: the scheduler calls it for hundreds of
// nodes per pod. A rejection is Unschedulable (or
// UnschedulableAndUnresolvable) with a short lower-case reason.
type FilterPlugin interface {
	Plugin
	Filter(ctx context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) *Status
}

// PreScorePlugin runs once per cycle over the feasible nodes before Score.
// Skip means the plugin has nothing to score for this pod (its Score is not
// called and it adds nothing to any node's total).
type PreScorePlugin interface {
	Plugin
	PreScore(ctx context.Context, state *CycleState, pod *PodInfo, nodes []*NodeInfo) *Status
}

// ScorePlugin ranks a feasible node for pod. Like Filter, Score runs
// concurrently for many nodes and must only read its inputs. Scores are
// between MinNodeScore and MaxNodeScore, after NormalizeScore if the plugin
// has ScoreExtensions.
type ScorePlugin interface {
	Plugin
	Score(ctx context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) (int64, *Status)
	// ScoreExtensions returns nil when the scores need no normalisation.
	ScoreExtensions() ScoreExtensions
}

// ScoreExtensions rescales one plugin's scores across the feasible nodes,
// e.g. to MinNodeScore..MaxNodeScore relative to the best node.
type ScoreExtensions interface {
	NormalizeScore(ctx context.Context, state *CycleState, pod *PodInfo, scores []NodeScore) *Status
}

// NodeScore is one node's score from one plugin, or its weighted total.
type NodeScore struct {
	Name  string
	Score int64
}

// EnqueueExtensions says which cluster events may make a pod that the
// plugin rejected schedulable; the queue retries such a pod at once (after
// its back-off) when one happens. A filter plugin without it is assumed to
// care about every event.
type EnqueueExtensions interface {
	Plugin
	EventsToRegister() []ClusterEvent
}
