package plugins_test

import (
	"context"
	"slices"
	"testing"

	"google.golang.org/protobuf/types/known/timestamppb"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/scheduler/cache"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
)

var ctx = context.Background()

// nodeOpt edits a test node.
type nodeOpt func(*shoalv1.Node)

func makeNode(name string, opts ...nodeOpt) *shoalv1.Node {
	n := &shoalv1.Node{
		Metadata: &shoalv1.ObjectMeta{Name: name, Labels: map[string]string{framework.LabelHostname: name}},
		Spec:     &shoalv1.NodeSpec{},
		Status: &shoalv1.NodeStatus{
			Allocatable: &shoalv1.NodeResources{CpuMillis: 4000, MemoryBytes: 8 << 30, Pods: 110},
			Conditions:  []*shoalv1.Condition{{Type: "Ready", Status: shoalv1.ConditionStatus_CONDITION_STATUS_TRUE}},
		},
	}
	for _, o := range opts {
		o(n)
	}
	return n
}

func allocatable(cpu, mem, pods int64) nodeOpt {
	return func(n *shoalv1.Node) {
		n.Status.Allocatable = &shoalv1.NodeResources{CpuMillis: cpu, MemoryBytes: mem, Pods: pods}
	}
}

func nodeLabels(kv ...string) nodeOpt {
	return func(n *shoalv1.Node) {
		for i := 0; i+1 < len(kv); i += 2 {
			n.Metadata.Labels[kv[i]] = kv[i+1]
		}
	}
}

func taints(ts ...*shoalv1.Taint) nodeOpt {
	return func(n *shoalv1.Node) { n.Spec.Taints = ts }
}

func taint(key, value string, effect shoalv1.TaintEffect) *shoalv1.Taint {
	return &shoalv1.Taint{Key: key, Value: value, Effect: effect}
}

// podOpt edits a test pod.
type podOpt func(*shoalv1.Pod)

func makePod(name string, opts ...podOpt) *shoalv1.Pod {
	p := &shoalv1.Pod{
		Metadata: &shoalv1.ObjectMeta{Namespace: "default", Name: name, Uid: "uid-" + name, Labels: map[string]string{},
			CreationTimestamp: timestamppb.Now()},
		Spec: &shoalv1.PodSpec{Containers: []*shoalv1.Container{{Name: "app", Image: "img"}}},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func requests(cpu, mem int64) podOpt {
	return func(p *shoalv1.Pod) {
		p.Spec.Containers[0].Resources = &shoalv1.ResourceRequirements{Requests: &shoalv1.ResourceList{CpuMillis: cpu, MemoryBytes: mem}}
	}
}

func podLabels(kv ...string) podOpt {
	return func(p *shoalv1.Pod) {
		for i := 0; i+1 < len(kv); i += 2 {
			p.Metadata.Labels[kv[i]] = kv[i+1]
		}
	}
}

func tolerations(ts ...*shoalv1.Toleration) podOpt {
	return func(p *shoalv1.Pod) { p.Spec.Tolerations = ts }
}

func owner(uid string) podOpt {
	return func(p *shoalv1.Pod) {
		p.Metadata.OwnerReferences = []*shoalv1.OwnerReference{{Kind: "ReplicaSet", Name: uid, Uid: uid, Controller: true}}
	}
}

// nodeInfo is the NodeInfo of node with pods placed on it.
func nodeInfo(n *shoalv1.Node, pods ...*shoalv1.Pod) *framework.NodeInfo {
	ni := framework.NewNodeInfo(n.GetMetadata().GetName(), n)
	for _, p := range pods {
		ni = ni.WithPod(framework.NewPodInfo(p))
	}
	return ni
}

// filterCase is one row of a Filter table.
type filterCase struct {
	name        string
	pod         *shoalv1.Pod
	node        *framework.NodeInfo
	wantCode    framework.Code
	wantReasons []string
}

// runFilter runs PreFilter (if any; Skip means the Filter is not called)
// and Filter for every case.
func runFilter(t *testing.T, plugin framework.Plugin, cases []filterCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pi := framework.NewPodInfo(tc.pod)
			state := framework.NewCycleState()
			var st *framework.Status
			skipped := false
			if pf, ok := plugin.(framework.PreFilterPlugin); ok {
				st = pf.PreFilter(ctx, state, pi, cache.NewSnapshotOf(tc.node))
				skipped = st.IsSkip()
				if skipped {
					st = nil
				}
			}
			if st.IsSuccess() && !skipped {
				st = plugin.(framework.FilterPlugin).Filter(ctx, state, pi, tc.node)
			}
			if st.Code() != tc.wantCode {
				t.Fatalf("code %v (%v), want %v", st.Code(), st, tc.wantCode)
			}
			if !slices.Equal(st.Reasons(), tc.wantReasons) {
				t.Errorf("reasons %q, want %q", st.Reasons(), tc.wantReasons)
			}
			if !st.IsSuccess() && st.Plugin() != "" && st.Plugin() != plugin.Name() {
				t.Errorf("status names plugin %q, want %q", st.Plugin(), plugin.Name())
			}
		})
	}
}

// score runs PreScore (if any), Score and NormalizeScore over nodes, as the
// framework does, and returns the scores by node name.
func score(t *testing.T, plugin framework.ScorePlugin, pod *shoalv1.Pod, nodes ...*framework.NodeInfo) map[string]int64 {
	t.Helper()
	pi := framework.NewPodInfo(pod)
	state := framework.NewCycleState()
	if ps, ok := plugin.(framework.PreScorePlugin); ok {
		if st := ps.PreScore(ctx, state, pi, nodes); st.IsSkip() {
			return nil
		} else if !st.IsSuccess() {
			t.Fatalf("PreScore: %v", st)
		}
	}
	scores := make([]framework.NodeScore, len(nodes))
	for i, n := range nodes {
		s, st := plugin.Score(ctx, state, pi, n)
		if !st.IsSuccess() {
			t.Fatalf("Score(%s): %v", n.Name, st)
		}
		scores[i] = framework.NodeScore{Name: n.Name, Score: s}
	}
	if ext := plugin.ScoreExtensions(); ext != nil {
		if st := ext.NormalizeScore(ctx, state, pi, scores); !st.IsSuccess() {
			t.Fatalf("NormalizeScore: %v", st)
		}
	}
	out := map[string]int64{}
	for _, s := range scores {
		out[s.Name] = s.Score
	}
	return out
}
