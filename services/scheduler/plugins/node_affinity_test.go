package plugins_test

import (
	"maps"
	"strings"
	"testing"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
	"github.com/shoalmesh/shoal/services/scheduler/plugins"
)

func nodeSelector(kv ...string) podOpt {
	return func(p *shoalv1.Pod) {
		p.Spec.NodeSelector = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			p.Spec.NodeSelector[kv[i]] = kv[i+1]
		}
	}
}

func req(key string, op shoalv1.NodeSelectorOperator, values ...string) *shoalv1.NodeSelectorRequirement {
	return &shoalv1.NodeSelectorRequirement{Key: key, Operator: op, Values: values}
}

func requiredAffinity(terms ...*shoalv1.NodeSelectorTerm) podOpt {
	return func(p *shoalv1.Pod) {
		if p.Spec.Affinity == nil {
			p.Spec.Affinity = &shoalv1.Affinity{}
		}
		if p.Spec.Affinity.NodeAffinity == nil {
			p.Spec.Affinity.NodeAffinity = &shoalv1.NodeAffinity{}
		}
		p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = &shoalv1.NodeSelector{NodeSelectorTerms: terms}
	}
}

func preferredAffinity(terms ...*shoalv1.PreferredSchedulingTerm) podOpt {
	return func(p *shoalv1.Pod) {
		if p.Spec.Affinity == nil {
			p.Spec.Affinity = &shoalv1.Affinity{}
		}
		if p.Spec.Affinity.NodeAffinity == nil {
			p.Spec.Affinity.NodeAffinity = &shoalv1.NodeAffinity{}
		}
		p.Spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution = terms
	}
}

func exprs(rs ...*shoalv1.NodeSelectorRequirement) *shoalv1.NodeSelectorTerm {
	return &shoalv1.NodeSelectorTerm{MatchExpressions: rs}
}

const (
	opIn           = shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_IN
	opNotIn        = shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_NOT_IN
	opNodeExists   = shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_EXISTS
	opDoesNotExist = shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_DOES_NOT_EXIST
	opGt           = shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_GT
	opLt           = shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_LT
)

func TestNodeAffinityFilter(t *testing.T) {
	ssd := nodeInfo(makeNode("ssd-node", nodeLabels("disk", "ssd", "zone", "a", "cores", "16")))
	hdd := nodeInfo(makeNode("hdd-node", nodeLabels("disk", "hdd", "zone", "b", "cores", "4")))
	mismatchSel := []string{plugins.ReasonNodeSelectorMismatch}
	mismatchAff := []string{plugins.ReasonNodeAffinityMismatch}
	u := framework.Unschedulable
	runFilter(t, &plugins.NodeAffinity{}, []filterCase{
		{name: "no constraints (skipped)", pod: makePod("p"), node: hdd},
		{name: "selector matches", pod: makePod("p", nodeSelector("disk", "ssd")), node: ssd},
		{name: "selector value differs", pod: makePod("p", nodeSelector("disk", "ssd")), node: hdd, wantCode: u, wantReasons: mismatchSel},
		{name: "selector label missing", pod: makePod("p", nodeSelector("gpu", "yes")), node: ssd, wantCode: u, wantReasons: mismatchSel},
		{name: "selector needs every label", pod: makePod("p", nodeSelector("disk", "ssd", "zone", "b")), node: ssd, wantCode: u, wantReasons: mismatchSel},
		{name: "In", pod: makePod("p", requiredAffinity(exprs(req("zone", opIn, "a", "c")))), node: ssd},
		{name: "In misses", pod: makePod("p", requiredAffinity(exprs(req("zone", opIn, "a", "c")))), node: hdd, wantCode: u, wantReasons: mismatchAff},
		{name: "NotIn", pod: makePod("p", requiredAffinity(exprs(req("zone", opNotIn, "a")))), node: hdd},
		{name: "NotIn on a missing label", pod: makePod("p", requiredAffinity(exprs(req("rack", opNotIn, "r1")))), node: hdd},
		{name: "NotIn misses", pod: makePod("p", requiredAffinity(exprs(req("zone", opNotIn, "a")))), node: ssd, wantCode: u, wantReasons: mismatchAff},
		{name: "Exists", pod: makePod("p", requiredAffinity(exprs(req("disk", opNodeExists)))), node: hdd},
		{name: "DoesNotExist misses", pod: makePod("p", requiredAffinity(exprs(req("disk", opDoesNotExist)))), node: hdd, wantCode: u, wantReasons: mismatchAff},
		{name: "Gt", pod: makePod("p", requiredAffinity(exprs(req("cores", opGt, "8")))), node: ssd},
		{name: "Gt misses", pod: makePod("p", requiredAffinity(exprs(req("cores", opGt, "8")))), node: hdd, wantCode: u, wantReasons: mismatchAff},
		{name: "Lt", pod: makePod("p", requiredAffinity(exprs(req("cores", opLt, "8")))), node: hdd},
		{name: "requirements of a term are ANDed", pod: makePod("p", requiredAffinity(exprs(req("disk", opIn, "ssd"), req("zone", opIn, "b")))), node: ssd, wantCode: u, wantReasons: mismatchAff},
		{name: "terms are ORed", pod: makePod("p", requiredAffinity(exprs(req("zone", opIn, "z")), exprs(req("disk", opIn, "hdd")))), node: hdd},
		{name: "match_fields on the name", node: hdd, pod: makePod("p", requiredAffinity(&shoalv1.NodeSelectorTerm{
			MatchFields: []*shoalv1.NodeSelectorRequirement{req("metadata.name", opIn, "hdd-node")}}))},
		{name: "match_fields on the name misses", node: ssd, wantCode: u, wantReasons: mismatchAff, pod: makePod("p", requiredAffinity(&shoalv1.NodeSelectorTerm{
			MatchFields: []*shoalv1.NodeSelectorRequirement{req("metadata.name", opIn, "hdd-node")}}))},
		{name: "empty term matches nothing", pod: makePod("p", requiredAffinity(&shoalv1.NodeSelectorTerm{})), node: ssd, wantCode: u, wantReasons: mismatchAff},
		{name: "selector checked before affinity", pod: makePod("p", nodeSelector("disk", "nvme"), requiredAffinity(exprs(req("zone", opIn, "z")))), node: ssd, wantCode: u, wantReasons: mismatchSel},
	})
}

func TestNodeAffinityInvalid(t *testing.T) {
	p := makePod("p", requiredAffinity(exprs(req("cores", opGt, "many"))))
	pi := framework.NewPodInfo(p)
	st := (&plugins.NodeAffinity{}).PreFilter(ctx, framework.NewCycleState(), pi, nil)
	if st.Code() != framework.UnschedulableAndUnresolvable || !strings.Contains(st.Message(), "not an integer") {
		t.Errorf("PreFilter = %v, want UnschedulableAndUnresolvable naming the bad value", st)
	}
}

func TestNodeAffinityScore(t *testing.T) {
	nodes := []*framework.NodeInfo{
		nodeInfo(makeNode("a", nodeLabels("zone", "a", "disk", "ssd"))),
		nodeInfo(makeNode("b", nodeLabels("zone", "b", "disk", "ssd"))),
		nodeInfo(makeNode("c", nodeLabels("zone", "c"))),
	}
	tests := []struct {
		name string
		pod  *shoalv1.Pod
		want map[string]int64 // nil: skipped
	}{
		{name: "no preferences (skipped)", pod: makePod("p")},
		{
			name: "weights add up and are scaled to the best node",
			pod: makePod("p", preferredAffinity(
				&shoalv1.PreferredSchedulingTerm{Weight: 80, Preference: exprs(req("zone", opIn, "a"))},
				&shoalv1.PreferredSchedulingTerm{Weight: 20, Preference: exprs(req("disk", opIn, "ssd"))},
			)),
			want: map[string]int64{"a": 100, "b": 20, "c": 0},
		},
		{
			name: "no node matches",
			pod:  makePod("p", preferredAffinity(&shoalv1.PreferredSchedulingTerm{Weight: 5, Preference: exprs(req("zone", opIn, "z"))})),
			want: map[string]int64{"a": 0, "b": 0, "c": 0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := score(t, &plugins.NodeAffinity{}, tc.pod, nodes...)
			if !maps.Equal(got, tc.want) {
				t.Errorf("scores %v, want %v", got, tc.want)
			}
		})
	}
}
