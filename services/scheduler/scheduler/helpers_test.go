package scheduler_test

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
	"github.com/shoalmesh/shoal/services/scheduler/scheduler"
)

// waitTimeout is generous: tests wait on conditions, never on clocks.
const waitTimeout = 45 * time.Second

// testConfig is a scheduler for env's gateway: no election, fast back-off,
// health on a free port.
func testConfig(env *gatewaytest.Env) scheduler.Config {
	cfg := scheduler.NewConfig()
	cfg.GatewayAddr = env.Gateway.Addr()
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.LeaderElection.Enabled = false
	cfg.Scheduling.PodInitialBackoff = 50 * time.Millisecond
	cfg.Scheduling.PodMaxBackoff = 500 * time.Millisecond
	return cfg
}

// startScheduler runs a scheduler until the test ends.
func startScheduler(t *testing.T, cfg scheduler.Config, opts ...scheduler.Option) *scheduler.Scheduler {
	t.Helper()
	ctx := context.Background()
	obs, err := observability.Setup(ctx, observability.NewConfig("scheduler-test"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	s, err := scheduler.Start(ctx, cfg, obs, opts...)
	if err != nil {
		t.Fatalf("starting scheduler: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("closing scheduler: %v", err)
		}
		_ = obs.Shutdown(context.Background())
	})
	return s
}

// node is a Ready node of the given size.
func node(name string, cpuMillis, memory, pods int64, mutate ...func(*shoalv1.Node)) *shoalv1.Node {
	n := gatewaytest.Node(name)
	res := &shoalv1.NodeResources{CpuMillis: cpuMillis, MemoryBytes: memory, Pods: pods}
	n.Status.Capacity, n.Status.Allocatable = res, proto.Clone(res).(*shoalv1.NodeResources)
	for _, m := range mutate {
		m(n)
	}
	return n
}

// pod is a one-container pod requesting cpu and memory.
func pod(ns, name string, cpuMillis, memory int64, mutate ...func(*shoalv1.Pod)) *shoalv1.Pod {
	p := gatewaytest.Pod(ns, name, map[string]string{"app": name})
	p.Spec.Containers[0].Resources.Requests = &shoalv1.ResourceList{CpuMillis: cpuMillis, MemoryBytes: memory}
	for _, m := range mutate {
		m(p)
	}
	return p
}

func ownedBy(uid string) func(*shoalv1.Pod) {
	return func(p *shoalv1.Pod) {
		p.Metadata.OwnerReferences = []*shoalv1.OwnerReference{{Kind: "ReplicaSet", Name: uid, Uid: uid, Controller: true}}
	}
}

func labeled(kv ...string) func(*shoalv1.Pod) {
	return func(p *shoalv1.Pod) {
		p.Metadata.Labels = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			p.Metadata.Labels[kv[i]] = kv[i+1]
		}
	}
}

func createNodes(t *testing.T, conn grpc.ClientConnInterface, nodes ...*shoalv1.Node) {
	t.Helper()
	for _, n := range nodes {
		if _, err := client.For[*shoalv1.Node](conn).Create(context.Background(), n); err != nil {
			t.Fatalf("creating node %s: %v", n.GetMetadata().GetName(), err)
		}
	}
}

func createPods(t *testing.T, conn grpc.ClientConnInterface, pods ...*shoalv1.Pod) {
	t.Helper()
	for _, p := range pods {
		if _, err := client.For[*shoalv1.Pod](conn).Create(context.Background(), p); err != nil {
			t.Fatalf("creating pod %s: %v", p.GetMetadata().GetName(), err)
		}
	}
}

// waitFor polls cond until it holds, failing the test with cond's last
// explanation after waitTimeout.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %s", what, why)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// bindLog watches every pod from the start and records each change of
// spec.node_name: a pod must go from "" to a node once and never change
// again.
type bindLog struct {
	mu        sync.Mutex
	node      map[string]string // pod key -> node
	binds     map[string]int    // pod key -> number of "" -> node transitions
	rebinds   []string          // violations: node changed after binding
	seenPods  map[string]bool
	watchDone chan struct{}
}

func watchBinds(t *testing.T, conn grpc.ClientConnInterface, namespace string) *bindLog {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := client.For[*shoalv1.Pod](conn).Watch(ctx, client.WatchOptions{Namespace: namespace, ResourceVersion: "0"})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	bl := &bindLog{node: map[string]string{}, binds: map[string]int{}, seenPods: map[string]bool{}, watchDone: make(chan struct{})}
	go func() {
		defer close(bl.watchDone)
		for {
			ev, err := w.Recv()
			if err != nil {
				return
			}
			if ev.Type == shoalv1.WatchEventType_WATCH_EVENT_TYPE_BOOKMARK {
				continue
			}
			p := ev.Object
			key := p.GetMetadata().GetNamespace() + "/" + p.GetMetadata().GetName()
			n := p.GetSpec().GetNodeName()
			bl.mu.Lock()
			bl.seenPods[key] = true
			prev := bl.node[key]
			switch {
			case prev == "" && n != "":
				bl.binds[key]++
			case prev != "" && n != prev && ev.Type != shoalv1.WatchEventType_WATCH_EVENT_TYPE_DELETED:
				bl.rebinds = append(bl.rebinds, fmt.Sprintf("%s: %s -> %q", key, prev, n))
			}
			if ev.Type == shoalv1.WatchEventType_WATCH_EVENT_TYPE_DELETED {
				delete(bl.node, key)
			} else {
				bl.node[key] = n
			}
			bl.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-bl.watchDone
	})
	return bl
}

// bound returns pod key -> node for every bound pod.
func (bl *bindLog) bound() map[string]string {
	bl.mu.Lock()
	defer bl.mu.Unlock()
	out := map[string]string{}
	for k, n := range bl.node {
		if n != "" {
			out[k] = n
		}
	}
	return out
}

// check reports pods bound more than once or moved after binding.
func (bl *bindLog) check(t *testing.T) {
	t.Helper()
	bl.mu.Lock()
	defer bl.mu.Unlock()
	for k, n := range bl.binds {
		if n != 1 {
			t.Errorf("pod %s was bound %d times", k, n)
		}
	}
	for _, r := range bl.rebinds {
		t.Errorf("pod moved after it was bound: %s", r)
	}
}

// getPod reads a pod from the gateway.
func getPod(t *testing.T, conn grpc.ClientConnInterface, ns, name string) *shoalv1.Pod {
	t.Helper()
	p, err := client.For[*shoalv1.Pod](conn).Get(context.Background(), ns, name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// scheduledCondition returns the pod's PodScheduled condition, or nil.
func scheduledCondition(p *shoalv1.Pod) *shoalv1.Condition {
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == scheduler.ConditionPodScheduled {
			return c
		}
	}
	return nil
}

// waitUnschedulable waits until the pod carries PodScheduled=False and
// returns the condition's message.
func waitUnschedulable(t *testing.T, conn grpc.ClientConnInterface, ns, name string) string {
	t.Helper()
	var msg string
	waitFor(t, "PodScheduled=False on "+ns+"/"+name, func() (bool, string) {
		p := getPod(t, conn, ns, name)
		c := scheduledCondition(p)
		if c == nil || c.GetStatus() != shoalv1.ConditionStatus_CONDITION_STATUS_FALSE {
			return false, fmt.Sprintf("condition %v, node %q", c, p.GetSpec().GetNodeName())
		}
		msg = c.GetMessage()
		return true, ""
	})
	return msg
}

// failedSchedulingEvent waits for the FailedScheduling Event of a pod and
// returns its message.
func failedSchedulingEvent(t *testing.T, conn grpc.ClientConnInterface, ns, name string) string {
	t.Helper()
	var msg string
	waitFor(t, "FailedScheduling event of "+ns+"/"+name, func() (bool, string) {
		res, err := client.For[*shoalv1.Event](conn).List(context.Background(), client.ListOptions{Namespace: ns})
		if err != nil {
			return false, err.Error()
		}
		for _, ev := range res.Items {
			if ev.GetSpec().GetInvolvedObject().GetName() == name && ev.GetSpec().GetReason() == scheduler.EventFailedScheduling {
				msg = ev.GetSpec().GetMessage()
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d events, none FailedScheduling for %s", len(res.Items), name)
	})
	return msg
}
