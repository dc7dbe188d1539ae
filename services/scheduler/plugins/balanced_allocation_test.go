package plugins_test

import (
	"maps"
	"testing"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
	"github.com/shoalmesh/shoal/services/scheduler/plugins"
)

func TestBalancedAllocation(t *testing.T) {
	const gi = int64(1) << 30
	tests := []struct {
		name  string
		pod   *shoalv1.Pod
		nodes []*framework.NodeInfo
		want  map[string]int64
	}{
		{
			name: "equal shares score best",
			pod:  makePod("p", requests(1000, 1*gi)),
			nodes: []*framework.NodeInfo{
				nodeInfo(makeNode("even", allocatable(4000, 4*gi, 110))),                                       // 25% and 25%
				nodeInfo(makeNode("cpu-heavy", allocatable(4000, 4*gi, 110)), makePod("a", requests(2000, 0))), // 75% and 30%
				nodeInfo(makeNode("skewed", allocatable(1000, 16*gi, 110))),                                    // 100% and 6.25%
			},
			// 1 - |0.75-0.3|/2 = 0.775 (the request-less memory counts 200MiB);
			// 1 - |1-0.0625|/2 = 0.53125.
			want: map[string]int64{"even": 100, "cpu-heavy": 77, "skewed": 53},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := score(t, &plugins.BalancedAllocation{}, tc.pod, tc.nodes...); !maps.Equal(got, tc.want) {
				t.Errorf("scores %v, want %v", got, tc.want)
			}
		})
	}
}
