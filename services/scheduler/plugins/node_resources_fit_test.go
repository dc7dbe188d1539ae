package plugins_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"

	"github.com/shoalmesh/shoal/services/scheduler/framework"
	"github.com/shoalmesh/shoal/services/scheduler/plugins"
)

func TestNodeResourcesFit(t *testing.T) {
	const gi = int64(1) << 30
	small := makeNode("n", allocatable(1000, 2*gi, 3))
	u := framework.Unschedulable
	runFilter(t, &plugins.NodeResourcesFit{}, []filterCase{
		{name: "empty node", pod: makePod("p", requests(500, gi)), node: nodeInfo(small)},
		{name: "exactly fills the node", pod: makePod("p", requests(1000, 2*gi)), node: nodeInfo(small)},
		{name: "fills what is left", pod: makePod("p", requests(400, gi)), node: nodeInfo(small, makePod("a", requests(600, gi)))},
		{name: "one milli too many", pod: makePod("p", requests(401, gi)), node: nodeInfo(small, makePod("a", requests(600, gi))),
			wantCode: u, wantReasons: []string{plugins.ReasonInsufficientCPU}},
		{name: "memory", pod: makePod("p", requests(100, gi+1)), node: nodeInfo(small, makePod("a", requests(100, gi))),
			wantCode: u, wantReasons: []string{plugins.ReasonInsufficientMemory}},
		{name: "cpu and memory both counted", pod: makePod("p", requests(2000, 4*gi)), node: nodeInfo(small),
			wantCode: u, wantReasons: []string{plugins.ReasonInsufficientCPU, plugins.ReasonInsufficientMemory}},
		{name: "pod count", pod: makePod("p"), node: nodeInfo(small, makePod("a"), makePod("b"), makePod("c")),
			wantCode: u, wantReasons: []string{plugins.ReasonTooManyPods}},
		{name: "zero requests fit a full node", pod: makePod("p"), node: nodeInfo(small, makePod("a", requests(1000, 2*gi)))},
		{name: "node without allocatable", pod: makePod("p", requests(1, 1)), node: nodeInfo(makeNode("n", allocatable(0, 0, 0))),
			wantCode: u, wantReasons: []string{plugins.ReasonTooManyPods, plugins.ReasonInsufficientCPU, plugins.ReasonInsufficientMemory}},
		{name: "requests of every container add up", node: nodeInfo(small), wantCode: u, wantReasons: []string{plugins.ReasonInsufficientCPU},
			pod: func() *shoalv1.Pod {
				p := makePod("p", requests(600, gi))
				c := proto.Clone(p.Spec.Containers[0]).(*shoalv1.Container)
				c.Name = "sidecar"
				p.Spec.Containers = append(p.Spec.Containers, c)
				return p
			}()},
	})
}
