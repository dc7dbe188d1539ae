// Package quota is the ResourceQuota controller: it keeps each quota's
// status.used current with what its namespace holds (non-finished pods and
// their CPU and memory requests, services). The gateway enforces the caps
// at admission; this controller only measures.
package quota

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/informer"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/sdk/go/workqueue"
	"github.com/shoalmesh/shoal/services/controller/control"
)

// Name is the controller's name.
const Name = "resourcequota"

// DefaultResync is how often every quota is recomputed regardless of
// events (Kubernetes' 5 minutes).
const DefaultResync = 5 * time.Minute

// ReasonFailedUpdate is recorded when status cannot be written.
const ReasonFailedUpdate = "FailedUpdateUsage"

// Controller is the ResourceQuota controller.
type Controller struct {
	quotas *informer.Informer[*shoalv1.ResourceQuota]
	pods   *informer.Informer[*shoalv1.Pod]
	svcs   *informer.Informer[*shoalv1.Service]
	cli    *client.Resource[*shoalv1.ResourceQuota]
	queue  control.Queue
	rec    control.Recorder
	log    *slog.Logger
	now    func() time.Time
	resync time.Duration
}

var _ control.Controller = (*Controller)(nil)

// New builds the controller; resync 0 means DefaultResync.
func New(cc *control.Context, resync time.Duration) *Controller {
	if resync <= 0 {
		resync = DefaultResync
	}
	c := &Controller{
		quotas: cc.Informers.ResourceQuotas,
		pods:   cc.Informers.Pods,
		svcs:   cc.Informers.Services,
		cli:    client.For[*shoalv1.ResourceQuota](cc.Conn),
		queue:  cc.NewQueue(Name),
		rec:    cc.Recorder,
		log:    cc.Logger(Name),
		now:    cc.Clock(),
		resync: resync,
	}
	c.quotas.AddEventHandler(informer.HandlerFuncs[*shoalv1.ResourceQuota]{
		AddFunc: func(q *shoalv1.ResourceQuota) { c.queue.Add(kinds.Key(q)) },
		UpdateFunc: func(old, cur *shoalv1.ResourceQuota) {
			if !proto.Equal(old.GetSpec(), cur.GetSpec()) || !proto.Equal(old.GetStatus(), cur.GetStatus()) {
				c.queue.Add(kinds.Key(cur))
			}
		},
	})
	c.pods.AddEventHandler(informer.HandlerFuncs[*shoalv1.Pod]{
		AddFunc: func(p *shoalv1.Pod) { c.enqueueNamespace(p.GetMetadata().GetNamespace()) },
		UpdateFunc: func(old, cur *shoalv1.Pod) {
			// Usage changes when a pod finishes or starts terminating.
			if old.GetStatus().GetPhase() != cur.GetStatus().GetPhase() ||
				!proto.Equal(old.GetMetadata().GetDeletionTimestamp(), cur.GetMetadata().GetDeletionTimestamp()) {
				c.enqueueNamespace(cur.GetMetadata().GetNamespace())
			}
		},
		DeleteFunc: func(p *shoalv1.Pod) { c.enqueueNamespace(p.GetMetadata().GetNamespace()) },
	})
	c.svcs.AddEventHandler(informer.HandlerFuncs[*shoalv1.Service]{
		AddFunc:    func(s *shoalv1.Service) { c.enqueueNamespace(s.GetMetadata().GetNamespace()) },
		DeleteFunc: func(s *shoalv1.Service) { c.enqueueNamespace(s.GetMetadata().GetNamespace()) },
	})
	return c
}

// Name implements control.Controller.
func (c *Controller) Name() string { return Name }

// Run implements control.Controller, plus the periodic full recount.
func (c *Controller) Run(ctx context.Context, workers int) {
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(c.resync)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				for _, q := range c.quotas.List() {
					c.queue.Add(kinds.Key(q))
				}
			}
		}
	})
	workqueue.Run(ctx, c.queue, workers, c.sync, c.log)
	wg.Wait()
}

func (c *Controller) enqueueNamespace(ns string) {
	for _, q := range c.quotas.ListNamespace(ns) {
		c.queue.Add(kinds.Key(q))
	}
}

func (c *Controller) sync(ctx context.Context, key string) error {
	q, ok := c.quotas.Get(key)
	if !ok || q.GetMetadata().GetDeletionTimestamp() != nil {
		return nil
	}
	ns := q.GetMetadata().GetNamespace()
	now := c.now()
	u := Measure(c.pods.ListNamespace(ns), c.svcs.ListNamespace(ns), now)
	if !u.NextChange.IsZero() {
		c.queue.AddAfter(key, u.NextChange.Sub(now)+100*time.Millisecond)
	}
	st := Status(q, u)
	if proto.Equal(st, q.GetStatus()) {
		return nil
	}
	next := &shoalv1.ResourceQuota{Metadata: &shoalv1.ObjectMeta{Namespace: ns, Name: q.GetMetadata().GetName()}, Status: st}
	if _, err := c.cli.UpdateStatus(ctx, next); err != nil {
		if client.IsNotFound(err) {
			return nil
		}
		c.rec.Event(q, control.Warning, ReasonFailedUpdate, fmt.Sprintf("Failed to update used resources: %v", err))
		return fmt.Errorf("updating quota status: %w", err)
	}
	return nil
}
