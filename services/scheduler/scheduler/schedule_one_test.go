package scheduler

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/scheduler/cache"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
	"github.com/shoalmesh/shoal/services/scheduler/plugins"
)

func TestNumFeasibleNodesToFind(t *testing.T) {
	tests := []struct {
		percentage, nodes, want int
	}{
		{0, 10, 10},       // small clusters: every node
		{0, 99, 99},       // still below the floor of 100
		{0, 100, 100},     // 50% of 100 is 50, raised to the floor
		{0, 1000, 420},    // adaptive: 50 - 1000/125 = 42%
		{0, 5000, 500},    // adaptive: 50 - 40 = 10%
		{0, 6000, 300},    // adaptive: 50 - 48 = 2%, raised to 5%
		{0, 100000, 5000}, // 5%
		{20, 1000, 200},
		{1, 1000, 100}, // never fewer than 100
		{100, 5000, 5000},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d%%_of_%d", tc.percentage, tc.nodes), func(t *testing.T) {
			if got := numFeasibleNodesToFind(tc.percentage, tc.nodes); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

// testTerm is a term over hand-made nodes, without a gateway.
func testTerm(t *testing.T, percentage int, nodes ...*shoalv1.Node) *term {
	t.Helper()
	fw, err := framework.New(plugins.NewInTreeRegistry(), plugins.DefaultProfile())
	if err != nil {
		t.Fatal(err)
	}
	s := &Scheduler{cfg: NewConfig(), log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	s.cfg.Scheduling.PercentageOfNodesToScore = percentage
	tm := &term{
		s: s, fw: fw, cache: cache.New(), snap: cache.NewSnapshot(),
		par: framework.Parallelizer{Workers: 4}, rng: rand.New(rand.NewPCG(1, 2)),
	}
	for _, n := range nodes {
		tm.cache.AddNode(n)
	}
	tm.cache.UpdateSnapshot(tm.snap)
	return tm
}

func testNode(name string, cpu int64) *shoalv1.Node {
	return &shoalv1.Node{
		Metadata: &shoalv1.ObjectMeta{Name: name},
		Status: &shoalv1.NodeStatus{
			Allocatable: &shoalv1.NodeResources{CpuMillis: cpu, MemoryBytes: 1 << 30, Pods: 110},
			Conditions:  []*shoalv1.Condition{{Type: "Ready", Status: shoalv1.ConditionStatus_CONDITION_STATUS_TRUE}},
		},
	}
}

func testPodInfo(cpu int64) *framework.PodInfo {
	return framework.NewPodInfo(&shoalv1.Pod{
		Metadata: &shoalv1.ObjectMeta{Namespace: "ns", Name: "p", Uid: "u"},
		Spec: &shoalv1.PodSpec{Containers: []*shoalv1.Container{{
			Resources: &shoalv1.ResourceRequirements{Requests: &shoalv1.ResourceList{CpuMillis: cpu, MemoryBytes: 1}},
		}}},
	})
}

// TestFindNodesThatFitStopsEarlyAndRotates: a cycle checks only as many
// feasible nodes as the percentage asks for, and the next cycle starts
// where it stopped, so every node gets its turn.
func TestFindNodesThatFitStopsEarlyAndRotates(t *testing.T) {
	var nodes []*shoalv1.Node
	for i := range 1000 {
		nodes = append(nodes, testNode(fmt.Sprintf("n%04d", i), 4000))
	}
	tm := testTerm(t, 20, nodes...)
	pi := testPodInfo(100)
	seen := map[string]bool{}
	for cycle := range 5 {
		state := framework.NewCycleState()
		if st := tm.fw.RunPreFilterPlugins(context.Background(), state, pi, tm.snap); !st.IsSuccess() {
			t.Fatal(st)
		}
		feasible, _, evaluated, err := tm.findNodesThatFit(context.Background(), state, pi, tm.snap.List())
		if err != nil {
			t.Fatal(err)
		}
		if len(feasible) != 200 {
			t.Fatalf("cycle %d: %d feasible nodes, want 200 (20%% of 1000)", cycle, len(feasible))
		}
		if evaluated < 200 || evaluated > 200+4 {
			t.Errorf("cycle %d: evaluated %d nodes, want about 200 (one in flight per worker at most)", cycle, evaluated)
		}
		for _, n := range feasible {
			seen[n.Name] = true
		}
	}
	// Workers finish chunks out of order, so a cycle's nodes are not an
	// exact range and neighbouring cycles may share a few (as in
	// kube-scheduler); without rotation five cycles would see about 200.
	if len(seen) < 900 {
		t.Errorf("five cycles of 200 saw %d distinct nodes, want most of the 1000", len(seen))
	}
}

// TestFindNodesThatFitCountsReasons: a pod that fits nowhere looks at
// every node and counts each node's reason.
func TestFindNodesThatFitCountsReasons(t *testing.T) {
	var nodes []*shoalv1.Node
	for i := range 300 {
		n := testNode(fmt.Sprintf("n%03d", i), 1000)
		if i%3 == 0 {
			n.Spec = &shoalv1.NodeSpec{Taints: []*shoalv1.Taint{{Key: "dedicated", Value: "gpu", Effect: shoalv1.TaintEffect_TAINT_EFFECT_NO_SCHEDULE}}}
		}
		nodes = append(nodes, n)
	}
	tm := testTerm(t, 0, nodes...)
	_, err := tm.schedulePod(context.Background(), testPodInfo(2000))
	fe, ok := err.(*framework.FitError)
	if !ok {
		t.Fatalf("err %v, want a FitError", err)
	}
	if got, want := fe.Error(), "0/300 nodes: 200 insufficient cpu, 100 taint dedicated=gpu"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	if !fe.Diagnosis.UnschedulablePlugins[plugins.NodeResourcesFitName] || !fe.Diagnosis.UnschedulablePlugins[plugins.TaintTolerationName] {
		t.Errorf("rejecting plugins %v", fe.Diagnosis.UnschedulablePlugins)
	}
}

// TestSelectHostBreaksTiesAtRandom: every top-scoring node gets picked,
// never a lower one.
func TestSelectHostBreaksTiesAtRandom(t *testing.T) {
	tm := &term{rng: rand.New(rand.NewPCG(3, 4))}
	scores := []framework.NodeScore{{Name: "a", Score: 90}, {Name: "b", Score: 100}, {Name: "c", Score: 100}, {Name: "d", Score: 99}, {Name: "e", Score: 100}}
	picked := map[string]int{}
	for range 3000 {
		picked[tm.selectHost(scores)]++
	}
	if len(picked) != 3 || picked["b"] == 0 || picked["c"] == 0 || picked["e"] == 0 {
		t.Errorf("picked %v, want b, c and e only", picked)
	}
	for name, n := range picked {
		if n < 800 {
			t.Errorf("%s picked %d of 3000 times: ties are not broken evenly (%v)", name, n, picked)
		}
	}
}

// BenchmarkSchedulePod is one cycle (snapshot, filter, score, assume) on
// 5,000 nodes already running two pods each, for pods with an owner.
func BenchmarkSchedulePod(b *testing.B) {
	var nodes []*shoalv1.Node
	for i := range 5000 {
		n := testNode(fmt.Sprintf("n%04d", i), 4000)
		n.Status.Allocatable.MemoryBytes = 32 << 30
		n.Metadata.Labels = map[string]string{framework.LabelHostname: n.Metadata.Name}
		nodes = append(nodes, n)
	}
	fw, err := framework.New(plugins.NewInTreeRegistry(), plugins.DefaultProfile())
	if err != nil {
		b.Fatal(err)
	}
	s := &Scheduler{cfg: NewConfig(), log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	tm := &term{s: s, fw: fw, cache: cache.New(), snap: cache.NewSnapshot(),
		par: framework.Parallelizer{Workers: s.cfg.Scheduling.Parallelism}, rng: rand.New(rand.NewPCG(1, 2))}
	for _, n := range nodes {
		tm.cache.AddNode(n)
	}
	mkPod := func(i int) *framework.PodInfo {
		rs := fmt.Sprintf("rs-%03d", i/100)
		return framework.NewPodInfo(&shoalv1.Pod{
			Metadata: &shoalv1.ObjectMeta{Namespace: "ns", Name: fmt.Sprint("p", i), Uid: fmt.Sprint("u", i),
				OwnerReferences: []*shoalv1.OwnerReference{{Uid: rs, Controller: true}}},
			Spec: &shoalv1.PodSpec{Containers: []*shoalv1.Container{{
				Resources: &shoalv1.ResourceRequirements{Requests: &shoalv1.ResourceList{CpuMillis: 100, MemoryBytes: 500 << 20}},
			}}},
		})
	}
	for i := range 10000 { // two pods per node, as after the benchmark's first phase
		if err := tm.cache.AssumePod(mkPod(i), nodes[i%5000].Metadata.Name); err != nil {
			b.Fatal(err)
		}
	}
	pods := make([]*framework.PodInfo, b.N)
	for i := range pods {
		pods[i] = mkPod(10000 + i)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		tm.cache.UpdateSnapshot(tm.snap)
		res, err := tm.schedulePod(ctx, pods[i])
		if err != nil {
			b.Fatal(err)
		}
		if err := tm.cache.AssumePod(pods[i], res.node); err != nil {
			b.Fatal(err)
		}
	}
}
