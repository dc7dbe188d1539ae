package plugins_test

import (
	"testing"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
	"github.com/shoalmesh/shoal/services/scheduler/plugins"
)

func TestNodeUnschedulable(t *testing.T) {
	cordoned := func(n *shoalv1.Node) { n.Spec.Unschedulable = true }
	tolerate := tolerations(&shoalv1.Toleration{Key: framework.TaintNodeUnschedulable, Operator: shoalv1.TolerationOperator_TOLERATION_OPERATOR_EXISTS, Effect: shoalv1.TaintEffect_TAINT_EFFECT_NO_SCHEDULE})
	tolerateOtherEffect := tolerations(&shoalv1.Toleration{Key: framework.TaintNodeUnschedulable, Operator: shoalv1.TolerationOperator_TOLERATION_OPERATOR_EXISTS, Effect: shoalv1.TaintEffect_TAINT_EFFECT_NO_EXECUTE})
	runFilter(t, &plugins.NodeUnschedulable{}, []filterCase{
		{name: "schedulable", pod: makePod("p"), node: nodeInfo(makeNode("n"))},
		{name: "cordoned", pod: makePod("p"), node: nodeInfo(makeNode("n", cordoned)),
			wantCode: framework.Unschedulable, wantReasons: []string{plugins.ReasonNodeUnschedulable}},
		{name: "cordoned but tolerated", pod: makePod("p", tolerate), node: nodeInfo(makeNode("n", cordoned))},
		{name: "toleration of another effect", pod: makePod("p", tolerateOtherEffect), node: nodeInfo(makeNode("n", cordoned)),
			wantCode: framework.Unschedulable, wantReasons: []string{plugins.ReasonNodeUnschedulable}},
	})
}
