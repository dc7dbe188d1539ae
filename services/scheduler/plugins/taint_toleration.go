package plugins

import (
	"context"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
)

// TaintToleration rejects nodes with a NoSchedule or NoExecute taint the
// pod does not tolerate, and scores nodes lower the more PreferNoSchedule
// taints the pod does not tolerate.
type TaintToleration struct{}

var (
	_ framework.FilterPlugin      = (*TaintToleration)(nil)
	_ framework.ScorePlugin       = (*TaintToleration)(nil)
	_ framework.ScoreExtensions   = (*TaintToleration)(nil)
	_ framework.EnqueueExtensions = (*TaintToleration)(nil)
)

// Name is TaintTolerationName.
func (*TaintToleration) Name() string { return TaintTolerationName }

// Filter rejects the node for its first untolerated NoSchedule or
// NoExecute taint, with the reason "taint key=value".
func (*TaintToleration) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	for _, taint := range node.Taints {
		switch taint.GetEffect() {
		case shoalv1.TaintEffect_TAINT_EFFECT_NO_SCHEDULE, shoalv1.TaintEffect_TAINT_EFFECT_NO_EXECUTE:
		default:
			continue
		}
		if !framework.ToleratesTaint(pod.Tolerations, taint) {
			return framework.NewStatus(framework.Unschedulable, "taint "+framework.TaintString(taint)).WithPlugin(TaintTolerationName)
		}
	}
	return nil
}

// Score counts the node's PreferNoSchedule taints that the pod does not
// tolerate; NormalizeScore turns fewer into higher.
func (*TaintToleration) Score(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	var n int64
	for _, taint := range node.Taints {
		if taint.GetEffect() == shoalv1.TaintEffect_TAINT_EFFECT_PREFER_NO_SCHEDULE && !framework.ToleratesTaint(pod.Tolerations, taint) {
			n++
		}
	}
	return n, nil
}

// ScoreExtensions is the plugin itself.
func (t *TaintToleration) ScoreExtensions() framework.ScoreExtensions { return t }

// NormalizeScore maps counts to MaxNodeScore (no untolerated taint) down to
// MinNodeScore (the most).
func (*TaintToleration) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, scores []framework.NodeScore) *framework.Status {
	reverseNormalize(scores)
	return nil
}

// EventsToRegister: a node that appears or loses a taint.
func (*TaintToleration) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{{Resource: framework.NodeEvent, Action: framework.Add | framework.UpdateNodeTaint}}
}

// normalize scales scores to 0..MaxNodeScore relative to the highest;
// all zero stays all zero.
func normalize(scores []framework.NodeScore) {
	var top int64
	for _, s := range scores {
		top = max(top, s.Score)
	}
	if top == 0 {
		return
	}
	for i := range scores {
		scores[i].Score = scores[i].Score * framework.MaxNodeScore / top
	}
}

// reverseNormalize scales scores so that the lowest raw score gets
// MaxNodeScore and the highest MinNodeScore (relative to 0).
func reverseNormalize(scores []framework.NodeScore) {
	var top int64
	for _, s := range scores {
		top = max(top, s.Score)
	}
	for i := range scores {
		if top == 0 {
			scores[i].Score = framework.MaxNodeScore
			continue
		}
		scores[i].Score = framework.MaxNodeScore - scores[i].Score*framework.MaxNodeScore/top
	}
}
