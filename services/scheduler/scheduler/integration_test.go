package scheduler_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
)

const gib = int64(1) << 30
const mib = int64(1) << 20

// TestFitsExactly: five nodes of different sizes, each limited by a
// different resource, take exactly the pods that fit and no more; the rest
// get PodScheduled=False and a FailedScheduling Event that count the
// reasons per node.
func TestFitsExactly(t *testing.T) {
	env := gatewaytest.Start(t)
	conn := env.Conn
	createNodes(t, conn,
		node("cpu-1", 1000, 8*gib, 110), // 2 pods by cpu
		node("cpu-2", 2000, 8*gib, 110), // 4 pods by cpu
		node("cpu-3", 3000, 8*gib, 110), // 6 pods by cpu
		node("mem-1", 8000, 1*gib, 110), // 4 pods by memory
		node("slots-3", 8000, 8*gib, 3), // 3 pods by pod count
	)
	const fit = 2 + 4 + 6 + 4 + 3
	const total = fit + 6
	bl := watchBinds(t, conn, "default")
	startScheduler(t, testConfig(env))
	var pods []*shoalv1.Pod
	for i := range total {
		pods = append(pods, pod("default", fmt.Sprintf("web-%02d", i), 500, 256*mib))
	}
	createPods(t, conn, pods...)

	waitFor(t, fmt.Sprintf("%d pods bound", fit), func() (bool, string) {
		n := len(bl.bound())
		return n == fit, fmt.Sprintf("%d bound", n)
	})
	// Every pod left over has been tried and found to fit nowhere, so no
	// further bind can come: the count is final.
	wantMsg := "0/5 nodes: 3 insufficient cpu, 1 insufficient memory, 1 too many pods"
	unbound := 0
	for _, p := range pods {
		name := p.GetMetadata().GetName()
		if _, ok := bl.bound()["default/"+name]; ok {
			continue
		}
		unbound++
		if msg := waitUnschedulable(t, conn, "default", name); msg != wantMsg {
			t.Errorf("%s: PodScheduled message %q, want %q", name, msg, wantMsg)
		}
	}
	if unbound != total-fit {
		t.Errorf("%d pods unbound, want %d", unbound, total-fit)
	}
	if msg := failedSchedulingEvent(t, conn, "default", unboundName(t, bl, pods)); msg != wantMsg {
		t.Errorf("event message %q, want %q", msg, wantMsg)
	}

	perNode := map[string]int{}
	for _, n := range bl.bound() {
		perNode[n]++
	}
	want := map[string]int{"cpu-1": 2, "cpu-2": 4, "cpu-3": 6, "mem-1": 4, "slots-3": 3}
	for n, c := range want {
		if perNode[n] != c {
			t.Errorf("node %s runs %d pods, want %d (all: %v)", n, perNode[n], c, perNode)
		}
	}
	if got := len(bl.bound()); got != fit {
		t.Errorf("%d pods bound, want %d", got, fit)
	}
	// Bound pods carry PodScheduled=True from BindPod.
	for key := range bl.bound() {
		ns, name, _ := strings.Cut(key, "/")
		if c := scheduledCondition(getPod(t, conn, ns, name)); c.GetStatus() != shoalv1.ConditionStatus_CONDITION_STATUS_TRUE {
			t.Errorf("%s: PodScheduled %v, want True", key, c)
		}
		break
	}
	bl.check(t)
}

func unboundName(t *testing.T, bl *bindLog, pods []*shoalv1.Pod) string {
	t.Helper()
	b := bl.bound()
	for _, p := range pods {
		if _, ok := b["default/"+p.GetMetadata().GetName()]; !ok {
			return p.GetMetadata().GetName()
		}
	}
	t.Fatal("every pod is bound")
	return ""
}

// TestTaintsAndSelectors: NoSchedule and NoExecute taints keep pods out
// unless tolerated; node_selector and required node affinity pick nodes.
func TestTaintsAndSelectors(t *testing.T) {
	env := gatewaytest.Start(t)
	conn := env.Conn
	gpuTaint := func(n *shoalv1.Node) {
		n.Metadata.Labels["accel"] = "gpu"
		n.Spec.Taints = []*shoalv1.Taint{{Key: "dedicated", Value: "gpu", Effect: shoalv1.TaintEffect_TAINT_EFFECT_NO_SCHEDULE}}
	}
	createNodes(t, conn,
		node("gpu-1", 8000, 8*gib, 110, gpuTaint),
		node("gpu-2", 8000, 8*gib, 110, gpuTaint),
		node("plain-1", 8000, 8*gib, 110),
		node("plain-2", 8000, 8*gib, 110, func(n *shoalv1.Node) { n.Metadata.Labels["disk"] = "ssd" }),
		node("maint-1", 8000, 8*gib, 110, func(n *shoalv1.Node) {
			n.Spec.Taints = []*shoalv1.Taint{{Key: "maint", Value: "true", Effect: shoalv1.TaintEffect_TAINT_EFFECT_NO_EXECUTE}}
		}),
	)
	bl := watchBinds(t, conn, "default")
	startScheduler(t, testConfig(env))

	tolerateGPU := func(p *shoalv1.Pod) {
		p.Spec.Tolerations = []*shoalv1.Toleration{{Key: "dedicated", Operator: shoalv1.TolerationOperator_TOLERATION_OPERATOR_EQUAL, Value: "gpu", Effect: shoalv1.TaintEffect_TAINT_EFFECT_NO_SCHEDULE}}
		p.Spec.NodeSelector = map[string]string{"accel": "gpu"}
	}
	var pods []*shoalv1.Pod
	want := map[string][]string{} // pod -> allowed nodes
	for i := range 6 {
		name := fmt.Sprintf("plain-%d", i)
		pods = append(pods, pod("default", name, 100, 64*mib))
		want[name] = []string{"plain-1", "plain-2"}
	}
	for i := range 4 {
		name := fmt.Sprintf("gpu-%d", i)
		pods = append(pods, pod("default", name, 100, 64*mib, tolerateGPU))
		want[name] = []string{"gpu-1", "gpu-2"}
	}
	pods = append(pods,
		pod("default", "ssd", 100, 64*mib, func(p *shoalv1.Pod) { p.Spec.NodeSelector = map[string]string{"disk": "ssd"} }),
		pod("default", "pinned", 100, 64*mib, func(p *shoalv1.Pod) {
			p.Spec.Affinity = &shoalv1.Affinity{NodeAffinity: &shoalv1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &shoalv1.NodeSelector{NodeSelectorTerms: []*shoalv1.NodeSelectorTerm{{
					MatchExpressions: []*shoalv1.NodeSelectorRequirement{{Key: framework.LabelHostname, Operator: shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_IN, Values: []string{"plain-1"}}},
				}}},
			}}
		}),
		pod("default", "tolerates-all", 100, 64*mib, func(p *shoalv1.Pod) {
			p.Spec.Tolerations = []*shoalv1.Toleration{{Operator: shoalv1.TolerationOperator_TOLERATION_OPERATOR_EXISTS}}
			p.Spec.NodeSelector = map[string]string{framework.LabelHostname: "maint-1"}
		}),
		pod("default", "nowhere", 100, 64*mib, func(p *shoalv1.Pod) { p.Spec.NodeSelector = map[string]string{"zone": "mars"} }),
	)
	want["ssd"] = []string{"plain-2"}
	want["pinned"] = []string{"plain-1"}
	want["tolerates-all"] = []string{"maint-1"}
	createPods(t, conn, pods...)

	waitFor(t, "every placeable pod bound", func() (bool, string) {
		n := len(bl.bound())
		return n == len(want), fmt.Sprintf("%d of %d bound", n, len(want))
	})
	msg := waitUnschedulable(t, conn, "default", "nowhere")
	if wantMsg := "0/5 nodes: 2 node selector mismatch, 2 taint dedicated=gpu, 1 taint maint=true"; msg != wantMsg {
		t.Errorf("nowhere: message %q, want %q", msg, wantMsg)
	}
	for key, n := range bl.bound() {
		name := strings.TrimPrefix(key, "default/")
		allowed := want[name]
		ok := false
		for _, a := range allowed {
			ok = ok || a == n
		}
		if !ok {
			t.Errorf("pod %s on %s, want one of %v", name, n, allowed)
		}
	}
	bl.check(t)
}

// TestSpreadAndAntiAffinity: replicas of one owner spread evenly over equal
// nodes; required anti-affinity on the hostname puts at most one matching
// pod per node and leaves the extra one pending.
func TestSpreadAndAntiAffinity(t *testing.T) {
	env := gatewaytest.Start(t)
	conn := env.Conn
	for i := range 4 {
		createNodes(t, conn, node(fmt.Sprintf("node-%d", i), 16000, 32*gib, 110))
	}
	bl := watchBinds(t, conn, "default")
	startScheduler(t, testConfig(env))

	var pods []*shoalv1.Pod
	for i := range 8 {
		pods = append(pods, pod("default", fmt.Sprintf("web-%d", i), 100, 64*mib, ownedBy("rs-web"), labeled("app", "web")))
	}
	for i := range 4 {
		pods = append(pods, pod("default", fmt.Sprintf("api-%d", i), 100, 64*mib, ownedBy("rs-api"), labeled("app", "api")))
	}
	antiDB := func(p *shoalv1.Pod) {
		p.Spec.Affinity = &shoalv1.Affinity{PodAntiAffinity: &shoalv1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []*shoalv1.PodAffinityTerm{{
				LabelSelector: &shoalv1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
				TopologyKey:   framework.LabelHostname,
			}},
		}}
	}
	for i := range 5 {
		pods = append(pods, pod("default", fmt.Sprintf("db-%d", i), 100, 64*mib, labeled("app", "db"), antiDB))
	}
	createPods(t, conn, pods...)

	waitFor(t, "16 pods bound", func() (bool, string) {
		n := len(bl.bound())
		return n == 16, fmt.Sprintf("%d bound", n)
	})
	var dbPending string
	for i := range 5 {
		name := fmt.Sprintf("db-%d", i)
		if _, ok := bl.bound()["default/"+name]; !ok {
			dbPending = name
		}
	}
	if dbPending == "" {
		t.Fatal("all five anti-affine db pods are bound on four nodes")
	}
	if msg, want := waitUnschedulable(t, conn, "default", dbPending), "0/4 nodes: 4 pod anti-affinity"; msg != want {
		t.Errorf("%s: message %q, want %q", dbPending, msg, want)
	}
	count := map[string]map[string]int{} // prefix -> node -> pods
	for key, n := range bl.bound() {
		prefix, _, _ := strings.Cut(strings.TrimPrefix(key, "default/"), "-")
		if count[prefix] == nil {
			count[prefix] = map[string]int{}
		}
		count[prefix][n]++
	}
	for prefix, per := range map[string]int{"web": 2, "api": 1, "db": 1} {
		for i := range 4 {
			n := fmt.Sprintf("node-%d", i)
			if count[prefix][n] != per {
				t.Errorf("%s pods on %s: %d, want %d (all: %v)", prefix, n, count[prefix][n], per, count[prefix])
			}
		}
	}
	bl.check(t)
}

// TestRetriedWhenClusterChanges: a pod that fits nowhere is bound once a
// node joins; a pod blocked by a full node is bound once a pod there is
// deleted.
func TestRetriedWhenClusterChanges(t *testing.T) {
	env := gatewaytest.Start(t)
	conn := env.Conn
	bl := watchBinds(t, conn, "default")
	cfg := testConfig(env)
	// No periodic retry during the test: only the node joining and the pod
	// going away can move these pods out of the unschedulable pool.
	cfg.Scheduling.PodInitialBackoff = 100 * time.Millisecond
	cfg.Scheduling.PodMaxBackoff = 100 * time.Millisecond
	cfg.Scheduling.PodMaxUnschedulableDuration = 10 * time.Minute
	startScheduler(t, cfg)

	createPods(t, conn, pod("default", "early", 1000, 256*mib))
	if msg, want := waitUnschedulable(t, conn, "default", "early"), "0/0 nodes: no nodes available"; msg != want {
		t.Errorf("message %q, want %q", msg, want)
	}
	createNodes(t, conn, node("late", 1500, 8*gib, 110))
	waitFor(t, "early bound to late", func() (bool, string) {
		n := bl.bound()["default/early"]
		return n == "late", "on " + n
	})

	createPods(t, conn, pod("default", "blocked", 1000, 256*mib))
	if msg, want := waitUnschedulable(t, conn, "default", "blocked"), "0/1 nodes: 1 insufficient cpu"; msg != want {
		t.Errorf("message %q, want %q", msg, want)
	}
	zero := int64(0)
	if _, err := client.For[*shoalv1.Pod](conn).Delete(context.Background(), "default", "early", client.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "blocked bound once early is gone", func() (bool, string) {
		n := bl.bound()["default/blocked"]
		return n == "late", "on " + n
	})
	bl.check(t)
}
