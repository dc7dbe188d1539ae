package plugins_test

import (
	"maps"
	"testing"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
	"github.com/shoalmesh/shoal/services/scheduler/plugins"
)

func TestLeastAllocated(t *testing.T) {
	const gi = int64(1) << 30
	tests := []struct {
		name  string
		pod   *shoalv1.Pod
		nodes []*framework.NodeInfo
		want  map[string]int64
	}{
		{
			name: "free share of cpu and memory, averaged",
			pod:  makePod("p", requests(1000, 1*gi)),
			nodes: []*framework.NodeInfo{
				nodeInfo(makeNode("empty", allocatable(4000, 4*gi, 110))),                                    // (75+75)/2
				nodeInfo(makeNode("half", allocatable(4000, 4*gi, 110)), makePod("a", requests(2000, 2*gi))), // (25+25)/2
				nodeInfo(makeNode("big", allocatable(8000, 4*gi, 110))),                                      // (87+75)/2
			},
			want: map[string]int64{"empty": 75, "half": 25, "big": 81},
		},
		{
			name: "over-committed resource scores zero",
			pod:  makePod("p", requests(3000, 1*gi)),
			nodes: []*framework.NodeInfo{
				nodeInfo(makeNode("n", allocatable(2000, 4*gi, 110))), // cpu 0, memory 75
			},
			want: map[string]int64{"n": 37},
		},
		{
			name: "request-less pods count as 100m and 200MiB",
			pod:  makePod("p"),
			nodes: []*framework.NodeInfo{
				nodeInfo(makeNode("n", allocatable(1000, 2000<<20, 110)), makePod("a")), // cpu (1000-200)/1000 = 80, memory (2000-400)/2000 = 80
			},
			want: map[string]int64{"n": 80},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := score(t, &plugins.LeastAllocated{}, tc.pod, tc.nodes...); !maps.Equal(got, tc.want) {
				t.Errorf("scores %v, want %v", got, tc.want)
			}
		})
	}
}
