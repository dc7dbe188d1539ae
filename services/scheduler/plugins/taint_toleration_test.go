package plugins_test

import (
	"maps"
	"testing"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
	"github.com/shoalmesh/shoal/services/scheduler/plugins"
)

const (
	noSchedule       = shoalv1.TaintEffect_TAINT_EFFECT_NO_SCHEDULE
	noExecute        = shoalv1.TaintEffect_TAINT_EFFECT_NO_EXECUTE
	preferNoSchedule = shoalv1.TaintEffect_TAINT_EFFECT_PREFER_NO_SCHEDULE
	opEqual          = shoalv1.TolerationOperator_TOLERATION_OPERATOR_EQUAL
	opExists         = shoalv1.TolerationOperator_TOLERATION_OPERATOR_EXISTS
)

func TestTaintTolerationFilter(t *testing.T) {
	gpu := taints(taint("dedicated", "gpu", noSchedule))
	runFilter(t, &plugins.TaintToleration{}, []filterCase{
		{name: "no taints", pod: makePod("p"), node: nodeInfo(makeNode("n"))},
		{name: "NoSchedule not tolerated", pod: makePod("p"), node: nodeInfo(makeNode("n", gpu)),
			wantCode: framework.Unschedulable, wantReasons: []string{"taint dedicated=gpu"}},
		{name: "NoExecute not tolerated", pod: makePod("p"), node: nodeInfo(makeNode("n", taints(taint("maint", "", noExecute)))),
			wantCode: framework.Unschedulable, wantReasons: []string{"taint maint"}},
		{name: "PreferNoSchedule does not filter", pod: makePod("p"), node: nodeInfo(makeNode("n", taints(taint("spot", "true", preferNoSchedule))))},
		{name: "Equal toleration", node: nodeInfo(makeNode("n", gpu)),
			pod: makePod("p", tolerations(&shoalv1.Toleration{Key: "dedicated", Operator: opEqual, Value: "gpu", Effect: noSchedule}))},
		{name: "unspecified operator means Equal", node: nodeInfo(makeNode("n", gpu)),
			pod: makePod("p", tolerations(&shoalv1.Toleration{Key: "dedicated", Value: "gpu"}))},
		{name: "Equal toleration, other value", node: nodeInfo(makeNode("n", gpu)),
			pod:      makePod("p", tolerations(&shoalv1.Toleration{Key: "dedicated", Operator: opEqual, Value: "tpu"})),
			wantCode: framework.Unschedulable, wantReasons: []string{"taint dedicated=gpu"}},
		{name: "Exists toleration of the key", node: nodeInfo(makeNode("n", gpu)),
			pod: makePod("p", tolerations(&shoalv1.Toleration{Key: "dedicated", Operator: opExists}))},
		{name: "empty key with Exists tolerates everything", node: nodeInfo(makeNode("n", gpu, taints(taint("dedicated", "gpu", noSchedule), taint("maint", "", noExecute)))),
			pod: makePod("p", tolerations(&shoalv1.Toleration{Operator: opExists}))},
		{name: "toleration of another effect", node: nodeInfo(makeNode("n", gpu)),
			pod:      makePod("p", tolerations(&shoalv1.Toleration{Key: "dedicated", Operator: opExists, Effect: noExecute})),
			wantCode: framework.Unschedulable, wantReasons: []string{"taint dedicated=gpu"}},
		{name: "second taint not tolerated", node: nodeInfo(makeNode("n", taints(taint("dedicated", "gpu", noSchedule), taint("maint", "", noExecute)))),
			pod:      makePod("p", tolerations(&shoalv1.Toleration{Key: "dedicated", Operator: opExists})),
			wantCode: framework.Unschedulable, wantReasons: []string{"taint maint"}},
	})
}

func TestTaintTolerationScore(t *testing.T) {
	tests := []struct {
		name string
		pod  *shoalv1.Pod
		want map[string]int64
	}{
		{
			name: "fewer untolerated PreferNoSchedule taints score higher",
			pod:  makePod("p"),
			want: map[string]int64{"clean": 100, "one": 50, "two": 0},
		},
		{
			name: "tolerated taints do not count",
			pod:  makePod("p", tolerations(&shoalv1.Toleration{Key: "spot", Operator: opExists})),
			want: map[string]int64{"clean": 100, "one": 100, "two": 0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := score(t, &plugins.TaintToleration{}, tc.pod,
				nodeInfo(makeNode("clean")),
				nodeInfo(makeNode("one", taints(taint("spot", "true", preferNoSchedule)))),
				nodeInfo(makeNode("two", taints(taint("spot", "true", preferNoSchedule), taint("old", "", preferNoSchedule)))),
			)
			if !maps.Equal(got, tc.want) {
				t.Errorf("scores %v, want %v", got, tc.want)
			}
		})
	}
}
