package cache_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/scheduler/cache"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
)

func testNode(name string) *shoalv1.Node {
	return &shoalv1.Node{
		Metadata: &shoalv1.ObjectMeta{Name: name},
		Status:   &shoalv1.NodeStatus{Allocatable: &shoalv1.NodeResources{CpuMillis: 1000, MemoryBytes: 1 << 30, Pods: 10}},
	}
}

func testPod(name, node string, cpu int64) *shoalv1.Pod {
	return &shoalv1.Pod{
		Metadata: &shoalv1.ObjectMeta{Namespace: "ns", Name: name, Uid: "uid-" + name, Generation: 1, Labels: map[string]string{"app": name}},
		Spec: &shoalv1.PodSpec{NodeName: node, Containers: []*shoalv1.Container{{
			Resources: &shoalv1.ResourceRequirements{Requests: &shoalv1.ResourceList{CpuMillis: cpu}},
		}}},
	}
}

func requestedCPU(t *testing.T, c *cache.Cache, node string) int64 {
	t.Helper()
	ni := c.NodeInfo(node)
	if ni == nil {
		return -1
	}
	return ni.Requested.MilliCPU
}

// TestAssumeConfirmForget walks a pod through its states.
func TestAssumeConfirmForget(t *testing.T) {
	tests := []struct {
		name    string
		steps   func(t *testing.T, c *cache.Cache)
		wantCPU map[string]int64
		wantSt  cache.Stats
	}{
		{
			name: "assumed pods count at once",
			steps: func(t *testing.T, c *cache.Cache) {
				mustAssume(t, c, testPod("a", "", 300), "n1")
			},
			wantCPU: map[string]int64{"n1": 300, "n2": 0},
			wantSt:  cache.Stats{Nodes: 2, Pods: 1, AssumedPods: 1},
		},
		{
			name: "forget after a failed bind",
			steps: func(t *testing.T, c *cache.Cache) {
				mustAssume(t, c, testPod("a", "", 300), "n1")
				if err := c.ForgetPod("uid-a"); err != nil {
					t.Fatal(err)
				}
			},
			wantCPU: map[string]int64{"n1": 0},
			wantSt:  cache.Stats{Nodes: 2},
		},
		{
			name: "the informer confirms the assumption",
			steps: func(t *testing.T, c *cache.Cache) {
				mustAssume(t, c, testPod("a", "", 300), "n1")
				c.FinishBinding("uid-a")
				c.AddPod(testPod("a", "n1", 300))
				if !errors.Is(c.ForgetPod("uid-a"), cache.ErrNotAssumed) {
					t.Error("a confirmed pod was forgotten")
				}
			},
			wantCPU: map[string]int64{"n1": 300},
			wantSt:  cache.Stats{Nodes: 2, Pods: 1},
		},
		{
			name: "confirmed by an update, as the bind arrives",
			steps: func(t *testing.T, c *cache.Cache) {
				mustAssume(t, c, testPod("a", "", 300), "n1")
				c.UpdatePod(testPod("a", "", 300), testPod("a", "n1", 300))
			},
			wantCPU: map[string]int64{"n1": 300},
			wantSt:  cache.Stats{Nodes: 2, Pods: 1},
		},
		{
			name: "bound elsewhere by someone else: moved",
			steps: func(t *testing.T, c *cache.Cache) {
				mustAssume(t, c, testPod("a", "", 300), "n1")
				c.AddPod(testPod("a", "n2", 300))
			},
			wantCPU: map[string]int64{"n1": 0, "n2": 300},
			wantSt:  cache.Stats{Nodes: 2, Pods: 1},
		},
		{
			name: "assuming twice fails",
			steps: func(t *testing.T, c *cache.Cache) {
				mustAssume(t, c, testPod("a", "", 300), "n1")
				if err := c.AssumePod(framework.NewPodInfo(testPod("a", "", 300)), "n2"); !errors.Is(err, cache.ErrAlreadyKnown) {
					t.Errorf("second assume: %v", err)
				}
			},
			wantCPU: map[string]int64{"n1": 300, "n2": 0},
			wantSt:  cache.Stats{Nodes: 2, Pods: 1, AssumedPods: 1},
		},
		{
			name: "deleted while assumed",
			steps: func(t *testing.T, c *cache.Cache) {
				mustAssume(t, c, testPod("a", "", 300), "n1")
				if !c.RemovePod(testPod("a", "", 300)) {
					t.Error("RemovePod did not find the assumed pod")
				}
			},
			wantCPU: map[string]int64{"n1": 0},
			wantSt:  cache.Stats{Nodes: 2},
		},
		{
			name: "bound pods from the informer; update with new requests",
			steps: func(t *testing.T, c *cache.Cache) {
				c.AddPod(testPod("a", "n1", 300))
				c.AddPod(testPod("b", "n1", 200))
				old, upd := testPod("b", "n1", 200), testPod("b", "n1", 500)
				upd.Metadata.Generation = 2
				c.UpdatePod(old, upd)
				c.RemovePod(testPod("a", "n1", 300))
			},
			wantCPU: map[string]int64{"n1": 500},
			wantSt:  cache.Stats{Nodes: 2, Pods: 1},
		},
		{
			name: "pending pods are not counted",
			steps: func(t *testing.T, c *cache.Cache) {
				c.AddPod(testPod("a", "", 300))
			},
			wantCPU: map[string]int64{"n1": 0, "n2": 0},
			wantSt:  cache.Stats{Nodes: 2},
		},
		{
			name: "a pod on an unknown node is kept until the node shows up",
			steps: func(t *testing.T, c *cache.Cache) {
				c.AddPod(testPod("a", "n3", 300))
				c.AddNode(testNode("n3"))
			},
			wantCPU: map[string]int64{"n3": 300},
			wantSt:  cache.Stats{Nodes: 3, Pods: 1},
		},
		{
			name: "a removed node with pods stays off the list",
			steps: func(t *testing.T, c *cache.Cache) {
				c.AddPod(testPod("a", "n1", 300))
				c.RemoveNode("n1")
			},
			wantCPU: map[string]int64{"n1": 300},
			wantSt:  cache.Stats{Nodes: 1, Pods: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := cache.New()
			c.AddNode(testNode("n1"))
			c.AddNode(testNode("n2"))
			tc.steps(t, c)
			for n, want := range tc.wantCPU {
				if got := requestedCPU(t, c, n); got != want {
					t.Errorf("node %s requests %d cpu, want %d", n, got, want)
				}
			}
			if got := c.Stats(); got != tc.wantSt {
				t.Errorf("stats %+v, want %+v", got, tc.wantSt)
			}
		})
	}
}

func mustAssume(t *testing.T, c *cache.Cache, p *shoalv1.Pod, node string) {
	t.Helper()
	if err := c.AssumePod(framework.NewPodInfo(p), node); err != nil {
		t.Fatal(err)
	}
}

// TestSnapshot: a snapshot is a stable view; updating it picks up changes
// and node removals.
func TestSnapshot(t *testing.T) {
	c := cache.New()
	for _, n := range []string{"a", "b", "c"} {
		c.AddNode(testNode(n))
	}
	s := cache.NewSnapshot()
	c.UpdateSnapshot(s)
	if s.Len() != 3 {
		t.Fatalf("snapshot has %d nodes, want 3", s.Len())
	}
	held := s.List()[0]
	mustAssume(t, c, testPod("p", "", 100), held.Name)
	if held.Requested.MilliCPU != 0 {
		t.Error("a NodeInfo held by a snapshot changed")
	}
	c.UpdateSnapshot(s)
	found := false
	for _, n := range s.List() {
		if n.Name == held.Name {
			found = n.Requested.MilliCPU == 100
		}
	}
	if !found {
		t.Error("the updated snapshot misses the assumed pod")
	}
	c.RemoveNode("b")
	c.UpdateSnapshot(s)
	if s.Len() != 2 {
		t.Errorf("after removing a node the snapshot has %d nodes", s.Len())
	}
	for _, n := range s.List() {
		if n.Name == "b" {
			t.Error("removed node still listed")
		}
	}

	anti := testPod("anti", "a", 0)
	anti.Spec.Affinity = &shoalv1.Affinity{PodAntiAffinity: &shoalv1.PodAntiAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []*shoalv1.PodAffinityTerm{{
			LabelSelector: &shoalv1.LabelSelector{MatchLabels: map[string]string{"app": "x"}}, TopologyKey: framework.LabelHostname,
		}},
	}}
	c.AddPod(anti)
	c.UpdateSnapshot(s)
	if got := s.HavePodsWithRequiredAntiAffinity(); len(got) != 1 || got[0].Name != "a" {
		t.Errorf("nodes with anti-affinity pods: %v", got)
	}
}

// TestIncrementalSnapshot: after any sequence of changes, the loop's
// incrementally updated snapshot holds exactly what a fresh one does.
func TestIncrementalSnapshot(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	c := cache.New()
	inc := cache.NewSnapshot()
	for step := range 3000 {
		node := fmt.Sprintf("n%d", rng.IntN(20))
		pod := fmt.Sprintf("p%d", rng.IntN(60))
		switch rng.IntN(6) {
		case 0:
			c.AddNode(testNode(node))
		case 1:
			c.RemoveNode(node)
		case 2:
			_ = c.AssumePod(framework.NewPodInfo(testPod(pod, "", 10)), node)
		case 3:
			_ = c.ForgetPod("uid-" + pod)
		case 4:
			c.AddPod(testPod(pod, node, 10))
		case 5:
			c.RemovePod(testPod(pod, node, 10))
		}
		if rng.IntN(3) == 0 {
			c.UpdateSnapshot(inc)
			fresh := cache.NewSnapshot()
			c.UpdateSnapshot(fresh)
			c.UpdateSnapshot(inc) // fresh took a full copy; inc must still be right
			if got, want := describe(inc), describe(fresh); got != want {
				t.Fatalf("step %d: incremental snapshot\n%s\nwant\n%s", step, got, want)
			}
		}
	}
}

func describe(s *cache.Snapshot) string {
	var lines []string
	for _, n := range s.List() {
		lines = append(lines, fmt.Sprintf("%s cpu=%d pods=%d", n.Name, n.Requested.MilliCPU, len(n.Pods)))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
