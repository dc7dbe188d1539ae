package plugins_test

import (
	"testing"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
	"github.com/shoalmesh/shoal/services/scheduler/plugins"
)

func TestNodeReady(t *testing.T) {
	notReady := func(n *shoalv1.Node) {
		n.Status.Conditions = []*shoalv1.Condition{{Type: "Ready", Status: shoalv1.ConditionStatus_CONDITION_STATUS_FALSE}}
	}
	unknown := func(n *shoalv1.Node) {
		n.Status.Conditions = []*shoalv1.Condition{{Type: "Ready", Status: shoalv1.ConditionStatus_CONDITION_STATUS_UNKNOWN}}
	}
	noConditions := func(n *shoalv1.Node) { n.Status.Conditions = nil }
	tolerateNotReady := tolerations(&shoalv1.Toleration{Key: framework.TaintNodeNotReady, Operator: shoalv1.TolerationOperator_TOLERATION_OPERATOR_EXISTS})
	runFilter(t, &plugins.NodeReady{}, []filterCase{
		{name: "ready", pod: makePod("p"), node: nodeInfo(makeNode("n"))},
		{name: "not ready", pod: makePod("p"), node: nodeInfo(makeNode("n", notReady)),
			wantCode: framework.Unschedulable, wantReasons: []string{plugins.ReasonNodeNotReady}},
		{name: "unknown", pod: makePod("p"), node: nodeInfo(makeNode("n", unknown)),
			wantCode: framework.Unschedulable, wantReasons: []string{plugins.ReasonNodeNotReady}},
		{name: "no Ready condition", pod: makePod("p"), node: nodeInfo(makeNode("n", noConditions)),
			wantCode: framework.Unschedulable, wantReasons: []string{plugins.ReasonNodeNotReady}},
		{name: "not ready but tolerated", pod: makePod("p", tolerateNotReady), node: nodeInfo(makeNode("n", notReady))},
	})
}
