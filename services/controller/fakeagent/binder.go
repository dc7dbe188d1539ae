package fakeagent

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	kworkqueue "k8s.io/client-go/util/workqueue"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/informer"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/sdk/go/workqueue"
)

// Binder is a stand-in for the scheduler: it binds every pending pod to a
// node that is Ready, schedulable, free of NoSchedule and NoExecute taints
// and below its pod capacity, round robin. It knows nothing of resources,
// selectors or affinity.
type Binder struct {
	bind  shoalv1.PodServiceClient
	pods  *informer.Informer[*shoalv1.Pod]
	nodes *informer.Informer[*shoalv1.Node]
	queue kworkqueue.TypedRateLimitingInterface[string]
	log   *slog.Logger

	mu   sync.Mutex
	next int
}

const byNode = "node"

// NewBinder returns a binder over conn; Run starts it.
func NewBinder(conn grpc.ClientConnInterface, log *slog.Logger) *Binder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Binder{
		bind: shoalv1.NewPodServiceClient(conn),
		pods: informer.New(client.For[*shoalv1.Pod](conn), informer.WithLogger(log),
			informer.WithIndex(byNode, func(p *shoalv1.Pod) []string { return []string{p.GetSpec().GetNodeName()} })),
		nodes: informer.New(client.For[*shoalv1.Node](conn), informer.WithLogger(log)),
		queue: workqueue.New[string]("fakebinder"),
		log:   log,
	}
	enqueue := func(p *shoalv1.Pod) {
		if p.GetSpec().GetNodeName() == "" && p.GetMetadata().GetDeletionTimestamp() == nil {
			b.queue.Add(kinds.Key(p))
		}
	}
	b.pods.AddEventHandler(informer.HandlerFuncs[*shoalv1.Pod]{
		AddFunc:    enqueue,
		UpdateFunc: func(_, p *shoalv1.Pod) { enqueue(p) },
	})
	return b
}

// Run binds pods until ctx is done.
func (b *Binder) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { _ = b.pods.Run(ctx) })
	wg.Go(func() { _ = b.nodes.Run(ctx) })
	if !b.pods.WaitForSync(ctx) || !b.nodes.WaitForSync(ctx) {
		return ctx.Err()
	}
	workqueue.Run(ctx, b.queue, 8, b.sync, b.log)
	return nil
}

// feasible: Ready, schedulable, no NoSchedule/NoExecute taint, room left.
func (b *Binder) feasible(n *shoalv1.Node) bool {
	if n.GetSpec().GetUnschedulable() || n.GetMetadata().GetDeletionTimestamp() != nil {
		return false
	}
	ready := false
	for _, c := range n.GetStatus().GetConditions() {
		if c.GetType() == "Ready" && c.GetStatus() == shoalv1.ConditionStatus_CONDITION_STATUS_TRUE {
			ready = true
		}
	}
	if !ready {
		return false
	}
	for _, t := range n.GetSpec().GetTaints() {
		if t.GetEffect() == shoalv1.TaintEffect_TAINT_EFFECT_NO_SCHEDULE || t.GetEffect() == shoalv1.TaintEffect_TAINT_EFFECT_NO_EXECUTE {
			return false
		}
	}
	capacity := n.GetStatus().GetAllocatable().GetPods()
	return capacity == 0 || int64(len(b.pods.ByIndex(byNode, n.GetMetadata().GetName()))) < capacity
}

func (b *Binder) sync(ctx context.Context, key string) error {
	p, ok := b.pods.Get(key)
	if !ok || p.GetSpec().GetNodeName() != "" || p.GetMetadata().GetDeletionTimestamp() != nil {
		return nil
	}
	var names []string
	for _, n := range b.nodes.List() {
		if b.feasible(n) {
			names = append(names, n.GetMetadata().GetName())
		}
	}
	if len(names) == 0 {
		b.queue.AddAfter(key, 200*time.Millisecond)
		return nil
	}
	slices.Sort(names)
	b.mu.Lock()
	node := names[b.next%len(names)]
	b.next++
	b.mu.Unlock()
	m := p.GetMetadata()
	_, err := b.bind.BindPod(ctx, &shoalv1.BindPodRequest{Namespace: m.GetNamespace(), Name: m.GetName(), NodeName: node, Uid: m.GetUid()})
	switch {
	case err == nil, client.IsNotFound(err):
		return nil
	case client.Code(err) == codes.FailedPrecondition:
		return nil // bound or deleted meanwhile
	}
	return fmt.Errorf("binding %s to %s: %w", key, node, err)
}
