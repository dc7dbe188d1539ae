package plugins_test

import (
	"testing"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/scheduler/cache"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
	"github.com/shoalmesh/shoal/services/scheduler/plugins"
)

func antiAffinity(topologyKey string, namespaces []string, kv ...string) podOpt {
	return func(p *shoalv1.Pod) {
		sel := &shoalv1.LabelSelector{MatchLabels: map[string]string{}}
		for i := 0; i+1 < len(kv); i += 2 {
			sel.MatchLabels[kv[i]] = kv[i+1]
		}
		p.Spec.Affinity = &shoalv1.Affinity{PodAntiAffinity: &shoalv1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []*shoalv1.PodAffinityTerm{{LabelSelector: sel, TopologyKey: topologyKey, Namespaces: namespaces}},
		}}
	}
}

func inNamespace(ns string) podOpt {
	return func(p *shoalv1.Pod) { p.Metadata.Namespace = ns }
}

func TestInterPodAntiAffinity(t *testing.T) {
	host := framework.LabelHostname
	db := podLabels("app", "db")
	avoidDB := antiAffinity(host, nil, "app", "db")
	// Two nodes in zone a, one in zone b; "other" runs the existing pods.
	nodeA1 := makeNode("a1", nodeLabels("zone", "a"))
	nodeA2 := makeNode("a2", nodeLabels("zone", "a"))
	nodeB1 := makeNode("b1", nodeLabels("zone", "b"))
	tests := []struct {
		name     string
		pod      *shoalv1.Pod
		placed   map[*shoalv1.Node][]*shoalv1.Pod // existing pods per node
		check    *shoalv1.Node
		wantCode framework.Code
		wantWhy  string
	}{
		{name: "no terms anywhere (skipped)", pod: makePod("p", db), check: nodeA1,
			placed: map[*shoalv1.Node][]*shoalv1.Pod{nodeA1: {makePod("x", db)}}},
		{name: "own term: matching pod on the node", pod: makePod("p", db, avoidDB), check: nodeA1,
			placed:   map[*shoalv1.Node][]*shoalv1.Pod{nodeA1: {makePod("x", db)}},
			wantCode: framework.Unschedulable, wantWhy: plugins.ReasonPodAntiAffinity},
		{name: "own term: matching pod on another node", pod: makePod("p", db, avoidDB), check: nodeA2,
			placed: map[*shoalv1.Node][]*shoalv1.Pod{nodeA1: {makePod("x", db)}}},
		{name: "own term: pod with other labels", pod: makePod("p", db, avoidDB), check: nodeA1,
			placed: map[*shoalv1.Node][]*shoalv1.Pod{nodeA1: {makePod("x", podLabels("app", "web"))}}},
		{name: "own term: matching pod in another namespace", pod: makePod("p", db, avoidDB), check: nodeA1,
			placed: map[*shoalv1.Node][]*shoalv1.Pod{nodeA1: {makePod("x", db, inNamespace("prod"))}}},
		{name: "own term naming that namespace", pod: makePod("p", db, antiAffinity(host, []string{"prod"}, "app", "db")), check: nodeA1,
			placed:   map[*shoalv1.Node][]*shoalv1.Pod{nodeA1: {makePod("x", db, inNamespace("prod"))}},
			wantCode: framework.Unschedulable, wantWhy: plugins.ReasonPodAntiAffinity},
		{name: "own term by zone keeps the whole zone out", pod: makePod("p", db, antiAffinity("zone", nil, "app", "db")), check: nodeA2,
			placed:   map[*shoalv1.Node][]*shoalv1.Pod{nodeA1: {makePod("x", db)}},
			wantCode: framework.Unschedulable, wantWhy: plugins.ReasonPodAntiAffinity},
		{name: "own term by zone, other zone", pod: makePod("p", db, antiAffinity("zone", nil, "app", "db")), check: nodeB1,
			placed: map[*shoalv1.Node][]*shoalv1.Pod{nodeA1: {makePod("x", db)}}},
		{name: "existing pod's term selects the pod", pod: makePod("p", db), check: nodeA1,
			placed:   map[*shoalv1.Node][]*shoalv1.Pod{nodeA1: {makePod("x", podLabels("app", "cache"), avoidDB)}},
			wantCode: framework.Unschedulable, wantWhy: plugins.ReasonExistingPodAntiAffinity},
		{name: "existing pod's term does not select the pod", pod: makePod("p", podLabels("app", "web")), check: nodeA1,
			placed: map[*shoalv1.Node][]*shoalv1.Pod{nodeA1: {makePod("x", podLabels("app", "cache"), avoidDB)}}},
		{name: "existing pod's term, other node", pod: makePod("p", db), check: nodeA2,
			placed: map[*shoalv1.Node][]*shoalv1.Pod{nodeA1: {makePod("x", podLabels("app", "cache"), avoidDB)}}},
		{name: "a term without a selector selects nothing", pod: makePod("p", db, func(p *shoalv1.Pod) {
			p.Spec.Affinity = &shoalv1.Affinity{PodAntiAffinity: &shoalv1.PodAntiAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: []*shoalv1.PodAffinityTerm{{TopologyKey: host}}}}
		}), check: nodeA1, placed: map[*shoalv1.Node][]*shoalv1.Pod{nodeA1: {makePod("x", db)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var infos []*framework.NodeInfo
			var checked *framework.NodeInfo
			for _, n := range []*shoalv1.Node{nodeA1, nodeA2, nodeB1} {
				ni := nodeInfo(n, tc.placed[n]...)
				infos = append(infos, ni)
				if n == tc.check {
					checked = ni
				}
			}
			pl := &plugins.InterPodAntiAffinity{}
			pi := framework.NewPodInfo(tc.pod)
			state := framework.NewCycleState()
			st := pl.PreFilter(ctx, state, pi, cache.NewSnapshotOf(infos...))
			if st.IsSkip() {
				if tc.wantCode != framework.Success {
					t.Fatalf("PreFilter skipped, want %v", tc.wantCode)
				}
				return
			}
			if !st.IsSuccess() {
				t.Fatalf("PreFilter: %v", st)
			}
			st = pl.Filter(ctx, state, pi, checked)
			if st.Code() != tc.wantCode || st.Message() != tc.wantWhy {
				t.Errorf("Filter = %v, want %v %q", st, tc.wantCode, tc.wantWhy)
			}
		})
	}
}
