package plugins_test

import (
	"maps"
	"testing"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
	"github.com/shoalmesh/shoal/services/scheduler/plugins"
)

func TestOwnerSpread(t *testing.T) {
	rs := owner("rs-1")
	nodes := []*framework.NodeInfo{
		nodeInfo(makeNode("none")),
		nodeInfo(makeNode("one"), makePod("a", rs)),
		nodeInfo(makeNode("two"), makePod("b", rs), makePod("c", rs), makePod("x", owner("rs-other"))),
		nodeInfo(makeNode("others"), makePod("y", owner("rs-other")), makePod("z")),
	}
	tests := []struct {
		name string
		pod  *shoalv1.Pod
		want map[string]int64 // nil: skipped
	}{
		{name: "no owner (skipped)", pod: makePod("p")},
		{name: "fewer of the owner's pods score higher", pod: makePod("p", rs),
			want: map[string]int64{"none": 100, "one": 50, "two": 0, "others": 100}},
		{name: "an owner with no pods yet ties everywhere", pod: makePod("p", owner("rs-new")),
			want: map[string]int64{"none": 100, "one": 100, "two": 100, "others": 100}},
		{name: "only a controller reference counts", pod: makePod("p", func(p *shoalv1.Pod) {
			p.Metadata.OwnerReferences = []*shoalv1.OwnerReference{{Kind: "ReplicaSet", Name: "rs-1", Uid: "rs-1"}}
		})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := score(t, &plugins.OwnerSpread{}, tc.pod, nodes...); !maps.Equal(got, tc.want) {
				t.Errorf("scores %v, want %v", got, tc.want)
			}
		})
	}
}
