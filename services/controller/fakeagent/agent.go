// Package fakeagent plays the node side of a cluster in tests and
// benchmarks, without containers: an Agent registers fake Nodes, renews
// their Leases, marks the pods bound to them Running and Ready (with a pod
// IP) and confirms their deletion, as a real node agent would; a node can
// be stopped to simulate a dead machine (no lease renewals, pods left as
// they are). A Binder stands in for the scheduler: it binds pending pods to
// ready, untainted nodes with room, round robin.
//
//	agent := fakeagent.New(conn, fakeagent.Config{})
//	go agent.Run(ctx)
//	agent.AddNode(ctx, "node-a", nil)
//	binder := fakeagent.NewBinder(conn)
//	go binder.Run(ctx)
//	...
//	agent.StopNode("node-a") // its lease goes stale; the controller evicts its pods
package fakeagent

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	kworkqueue "k8s.io/client-go/util/workqueue"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/informer"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/sdk/go/workqueue"
)

// LeaseNamespace holds the node leases.
const LeaseNamespace = "shoal-node-lease"

// Config tunes an Agent.
type Config struct {
	// RenewInterval is how often leases are renewed (default 1s).
	RenewInterval time.Duration
	// LeaseDuration is written into the leases (default 40s).
	LeaseDuration time.Duration
	// ReadyDelay is how long a pod takes from bound to Ready (default 0).
	ReadyDelay time.Duration
	// Workers update pod status in parallel (default 8).
	Workers int
	// PodsPerNode is each node's pod capacity (default 110).
	PodsPerNode int64
	// HoldLabel, when set, names a pod label that keeps a pod from ever
	// becoming ready (it stays Pending on its node): a rollout that cannot
	// progress.
	HoldLabel string
	Logger    *slog.Logger
}

func (c *Config) defaults() {
	if c.RenewInterval <= 0 {
		c.RenewInterval = time.Second
	}
	if c.LeaseDuration <= 0 {
		c.LeaseDuration = 40 * time.Second
	}
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.PodsPerNode <= 0 {
		c.PodsPerNode = 110
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Agent is the fake node agent of any number of fake nodes.
type Agent struct {
	cfg    Config
	pods   *client.Resource[*shoalv1.Pod]
	nodes  *client.Resource[*shoalv1.Node]
	leases *client.Resource[*shoalv1.Lease]
	inf    *informer.Informer[*shoalv1.Pod]
	queue  kworkqueue.TypedRateLimitingInterface[string]

	mu    sync.Mutex
	fakes map[string]*fakeNode
	ips   map[string]string // pod uid -> IP given
}

type fakeNode struct {
	index   int
	alive   bool
	nextIP  int
	renewed time.Time
}

// New returns an agent; Run starts it, AddNode adds nodes (before or after).
func New(conn grpc.ClientConnInterface, cfg Config) *Agent {
	cfg.defaults()
	a := &Agent{
		cfg:    cfg,
		pods:   client.For[*shoalv1.Pod](conn),
		nodes:  client.For[*shoalv1.Node](conn),
		leases: client.For[*shoalv1.Lease](conn),
		inf:    informer.New(client.For[*shoalv1.Pod](conn), informer.WithLogger(cfg.Logger)),
		queue:  workqueue.New[string]("fakeagent"),
		fakes:  map[string]*fakeNode{},
		ips:    map[string]string{},
	}
	enqueue := func(p *shoalv1.Pod) {
		if a.handles(p.GetSpec().GetNodeName()) {
			a.queue.Add(kinds.Key(p))
		}
	}
	a.inf.AddEventHandler(informer.HandlerFuncs[*shoalv1.Pod]{
		AddFunc:    enqueue,
		UpdateFunc: func(_, p *shoalv1.Pod) { enqueue(p) },
	})
	return a
}

// Node returns a Ready node object with the agent's capacity.
func (a *Agent) Node(name string, labels map[string]string) *shoalv1.Node {
	res := &shoalv1.NodeResources{CpuMillis: 64000, MemoryBytes: 256 << 30, Pods: a.cfg.PodsPerNode}
	l := maps.Clone(labels)
	if l == nil {
		l = map[string]string{}
	}
	l["kubernetes.io/hostname"] = name
	now := timestamppb.Now()
	return &shoalv1.Node{
		Metadata: &shoalv1.ObjectMeta{Name: name, Labels: l},
		Spec:     &shoalv1.NodeSpec{},
		Status: &shoalv1.NodeStatus{
			Capacity: res, Allocatable: proto.Clone(res).(*shoalv1.NodeResources),
			Conditions: []*shoalv1.Condition{{Type: "Ready", Status: shoalv1.ConditionStatus_CONDITION_STATUS_TRUE,
				Reason: "FakeAgentReady", LastTransitionTime: now, LastProbeTime: now}},
			NodeInfo: &shoalv1.NodeSystemInfo{AgentVersion: "fakeagent"},
		},
	}
}

// AddNode registers a Ready node and its lease and starts serving it.
func (a *Agent) AddNode(ctx context.Context, name string, labels map[string]string) error {
	a.mu.Lock()
	if _, ok := a.fakes[name]; !ok {
		a.fakes[name] = &fakeNode{index: len(a.fakes), alive: true}
	}
	a.mu.Unlock()
	if _, err := a.nodes.Create(ctx, a.Node(name, labels)); err != nil && !client.IsAlreadyExists(err) {
		return fmt.Errorf("fakeagent: creating node %s: %w", name, err)
	}
	if err := a.renew(ctx, name); err != nil {
		return err
	}
	// Pods bound before the node was added.
	for _, p := range a.inf.List() {
		if p.GetSpec().GetNodeName() == name {
			a.queue.Add(kinds.Key(p))
		}
	}
	return nil
}

// StopNode makes a node dead: its lease is no longer renewed and its pods
// are left alone (not readied, deletions not confirmed).
func (a *Agent) StopNode(name string) { a.setAlive(name, false) }

// StartNode brings a stopped node back: lease renewals and pod handling
// resume, and its Ready condition is reported True again.
func (a *Agent) StartNode(ctx context.Context, name string) error {
	a.setAlive(name, true)
	if err := a.renew(ctx, name); err != nil {
		return err
	}
	n, err := a.nodes.Get(ctx, "", name)
	if err != nil {
		return err
	}
	fresh := a.Node(name, n.GetMetadata().GetLabels())
	n.Status = fresh.Status
	n.Metadata.ResourceVersion = ""
	if _, err := a.nodes.UpdateStatus(ctx, n); err != nil {
		return fmt.Errorf("fakeagent: reporting node %s ready: %w", name, err)
	}
	for _, p := range a.inf.List() {
		if p.GetSpec().GetNodeName() == name {
			a.queue.Add(kinds.Key(p))
		}
	}
	return nil
}

func (a *Agent) setAlive(name string, alive bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if n, ok := a.fakes[name]; ok {
		n.alive = alive
	}
}

// handles reports whether the agent serves pods on node (a live node).
func (a *Agent) handles(node string) bool {
	if node == "" {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	n, ok := a.fakes[node]
	return ok && n.alive
}

// Run serves the nodes until ctx is done.
func (a *Agent) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { _ = a.inf.Run(ctx) })
	wg.Go(func() { a.renewLoop(ctx) })
	if !a.inf.WaitForSync(ctx) {
		return ctx.Err()
	}
	workqueue.Run(ctx, a.queue, a.cfg.Workers, a.sync, a.cfg.Logger)
	return nil
}

func (a *Agent) renewLoop(ctx context.Context) {
	t := time.NewTicker(a.cfg.RenewInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a.mu.Lock()
		var live []string
		for name, n := range a.fakes {
			if n.alive {
				live = append(live, name)
			}
		}
		a.mu.Unlock()
		for _, name := range live {
			if err := a.renew(ctx, name); err != nil && ctx.Err() == nil {
				a.cfg.Logger.Warn("fakeagent: renewing lease", "node", name, "err", err)
			}
		}
	}
}

// renew creates or renews a node's lease.
func (a *Agent) renew(ctx context.Context, name string) error {
	now := timestamppb.Now()
	l := &shoalv1.Lease{
		Metadata: &shoalv1.ObjectMeta{Namespace: LeaseNamespace, Name: name},
		Spec: &shoalv1.LeaseSpec{
			HolderIdentity: name, LeaseDurationSeconds: int32(a.cfg.LeaseDuration / time.Second), RenewTime: now,
		},
	}
	_, err := a.leases.Update(ctx, l)
	if client.IsNotFound(err) {
		l.Spec.AcquireTime = now
		_, err = a.leases.Create(ctx, l)
		if client.IsAlreadyExists(err) { // the renew loop got there first
			l.Spec.AcquireTime = nil
			_, err = a.leases.Update(ctx, l)
		}
	}
	if err != nil {
		return fmt.Errorf("fakeagent: lease of %s: %w", name, err)
	}
	return nil
}

// sync acts for one pod: confirm a deletion, or make the pod ready.
func (a *Agent) sync(ctx context.Context, key string) error {
	p, ok := a.inf.Get(key)
	if !ok || !a.handles(p.GetSpec().GetNodeName()) {
		return nil
	}
	m := p.GetMetadata()
	if m.GetDeletionTimestamp() != nil {
		grace := int64(0)
		_, err := a.pods.Delete(ctx, m.GetNamespace(), m.GetName(), client.DeleteOptions{
			GracePeriodSeconds: &grace, Preconditions: &shoalv1.Preconditions{Uid: m.GetUid()},
		})
		if err != nil && !client.IsNotFound(err) {
			return fmt.Errorf("confirming deletion of %s: %w", key, err)
		}
		return nil
	}
	if running(p) {
		return nil
	}
	if h := a.cfg.HoldLabel; h != "" {
		if _, held := m.GetLabels()[h]; held {
			return nil
		}
	}
	if d := a.cfg.ReadyDelay; d > 0 {
		if age := time.Since(scheduledAt(p)); age < d {
			a.queue.AddAfter(key, d-age)
			return nil
		}
	}
	next := proto.Clone(p).(*shoalv1.Pod)
	a.makeRunning(next)
	if _, err := a.pods.UpdateStatus(ctx, next); err != nil && !client.IsNotFound(err) {
		return fmt.Errorf("updating status of %s: %w", key, err)
	}
	return nil
}

// running: Running with Ready and ContainersReady True.
func running(p *shoalv1.Pod) bool {
	if p.GetStatus().GetPhase() != shoalv1.PodPhase_POD_PHASE_RUNNING {
		return false
	}
	ready := 0
	for _, c := range p.GetStatus().GetConditions() {
		if (c.GetType() == "Ready" || c.GetType() == "ContainersReady") && c.GetStatus() == shoalv1.ConditionStatus_CONDITION_STATUS_TRUE {
			ready++
		}
	}
	return ready == 2
}

func scheduledAt(p *shoalv1.Pod) time.Time {
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == "PodScheduled" && c.GetLastTransitionTime() != nil {
			return c.GetLastTransitionTime().AsTime()
		}
	}
	return p.GetMetadata().GetCreationTimestamp().AsTime()
}

func (a *Agent) makeRunning(p *shoalv1.Pod) {
	now := timestamppb.Now()
	if p.Status == nil {
		p.Status = &shoalv1.PodStatus{}
	}
	st := p.Status
	st.Phase = shoalv1.PodPhase_POD_PHASE_RUNNING
	st.PodIp = a.ipFor(p)
	st.HostIp = a.hostIP(p.GetSpec().GetNodeName())
	if st.StartTime == nil {
		st.StartTime = now
	}
	for _, typ := range []string{"ContainersReady", "Ready"} {
		set := false
		for _, c := range st.Conditions {
			if c.GetType() == typ {
				if c.GetStatus() != shoalv1.ConditionStatus_CONDITION_STATUS_TRUE {
					c.Status, c.LastTransitionTime = shoalv1.ConditionStatus_CONDITION_STATUS_TRUE, now
				}
				c.Reason, c.Message = "", ""
				set = true
			}
		}
		if !set {
			st.Conditions = append(st.Conditions, &shoalv1.Condition{Type: typ, Status: shoalv1.ConditionStatus_CONDITION_STATUS_TRUE, LastTransitionTime: now})
		}
	}
	st.ContainerStatuses = nil
	for _, c := range p.GetSpec().GetContainers() {
		st.ContainerStatuses = append(st.ContainerStatuses, &shoalv1.ContainerStatus{
			Name: c.GetName(), Image: c.GetImage(), Ready: true, Started: true,
			State: &shoalv1.ContainerState{State: &shoalv1.ContainerState_Running{Running: &shoalv1.ContainerStateRunning{StartedAt: now}}},
		})
	}
}

// ipFor gives each pod a stable address in its node's range.
func (a *Agent) ipFor(p *shoalv1.Pod) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	uid := p.GetMetadata().GetUid()
	if ip, ok := a.ips[uid]; ok {
		return ip
	}
	n := a.fakes[p.GetSpec().GetNodeName()]
	k := n.nextIP
	n.nextIP++
	ip := fmt.Sprintf("10.%d.%d.%d", 100+n.index%150, (k/250)%256, k%250+1)
	a.ips[uid] = ip
	return ip
}

func (a *Agent) hostIP(node string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return fmt.Sprintf("192.168.%d.%d", a.fakes[node].index/250, a.fakes[node].index%250+1)
}
