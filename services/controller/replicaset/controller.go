// Package replicaset is the ReplicaSet controller: it keeps exactly
// spec.replicas active pods matching each ReplicaSet's selector, creating
// them from the template with a controller reference, adopting matching
// orphans, releasing pods whose labels stopped matching, and deleting the
// surplus unscheduled, not-ready and youngest first. Expectations keep it
// from creating or deleting twice while its pod cache lags its own writes.
package replicaset

import (
	"context"
	"log/slog"
	"maps"
	"time"

	"go.opentelemetry.io/otel/trace"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/informer"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/sdk/go/workqueue"
	"github.com/shoalmesh/shoal/services/controller/control"
	"github.com/shoalmesh/shoal/services/controller/expectations"
	"github.com/shoalmesh/shoal/services/controller/ownerref"
	"github.com/shoalmesh/shoal/services/controller/podstate"
)

// Name is the controller's name.
const Name = "replicaset"

// BurstReplicas caps the pods one sync creates or deletes (Kubernetes'
// burstReplicas); the next sync does the rest.
const BurstReplicas = 500

// Controller is the ReplicaSet controller.
type Controller struct {
	tracer trace.Tracer
	pods   *informer.Informer[*shoalv1.Pod]
	rss    *informer.Informer[*shoalv1.ReplicaSet]
	owners ownerref.Owners[*shoalv1.ReplicaSet]
	podCli *client.Resource[*shoalv1.Pod]
	rsCli  *client.Resource[*shoalv1.ReplicaSet]
	queue  control.Queue
	exp    *expectations.Expectations
	rec    control.Recorder
	log    *slog.Logger
	now    func() time.Time
}

var _ control.Controller = (*Controller)(nil)

// New builds the controller and registers its informer handlers.
func New(cc *control.Context) *Controller {
	c := &Controller{
		pods:   cc.Informers.Pods,
		rss:    cc.Informers.ReplicaSets,
		owners: ownerref.NewOwners("ReplicaSet", cc.Informers.ReplicaSets, func(rs *shoalv1.ReplicaSet) *shoalv1.LabelSelector { return rs.GetSpec().GetSelector() }),
		podCli: client.For[*shoalv1.Pod](cc.Conn),
		rsCli:  client.For[*shoalv1.ReplicaSet](cc.Conn),
		queue:  cc.NewQueue(Name),
		exp:    expectations.New(0),
		rec:    cc.Recorder,
		log:    cc.Logger(Name),
		now:    cc.Clock(),
		tracer: cc.TracerOrNoop(),
	}
	c.rss.AddEventHandler(informer.HandlerFuncs[*shoalv1.ReplicaSet]{
		AddFunc:    func(rs *shoalv1.ReplicaSet) { c.enqueue(rs) },
		UpdateFunc: func(_, rs *shoalv1.ReplicaSet) { c.enqueue(rs) },
		DeleteFunc: func(rs *shoalv1.ReplicaSet) {
			c.exp.Forget(kinds.Key(rs))
			c.enqueue(rs)
		},
	})
	c.pods.AddEventHandler(informer.HandlerFuncs[*shoalv1.Pod]{
		AddFunc:    c.addPod,
		UpdateFunc: c.updatePod,
		DeleteFunc: c.deletePod,
	})
	return c
}

// Name implements control.Controller.
func (c *Controller) Name() string { return Name }

// Run implements control.Controller.
func (c *Controller) Run(ctx context.Context, workers int) {
	workqueue.Run(ctx, c.queue, workers, c.sync, c.log)
}

func (c *Controller) enqueue(rs *shoalv1.ReplicaSet) { c.queue.Add(kinds.Key(rs)) }

func (c *Controller) addPod(p *shoalv1.Pod) {
	if p.GetMetadata().GetDeletionTimestamp() != nil {
		// Seen for the first time already deleting (a relist): count it as
		// a deletion so expectations are not held up.
		c.deletePod(p)
		return
	}
	c.owners.Added(p, func(rs *shoalv1.ReplicaSet) {
		c.exp.CreationObserved(kinds.Key(rs))
		c.enqueue(rs)
	}, c.enqueue)
}

func (c *Controller) updatePod(old, cur *shoalv1.Pod) {
	if old.GetMetadata().GetResourceVersion() == cur.GetMetadata().GetResourceVersion() {
		return // a resync: nothing changed
	}
	if cur.GetMetadata().GetDeletionTimestamp() != nil {
		// A graceful delete: the pod lingers until its node confirms, but it
		// no longer counts, so the ReplicaSet may replace it now.
		c.deletePod(cur)
		if !maps.Equal(old.GetMetadata().GetLabels(), cur.GetMetadata().GetLabels()) {
			c.deletePod(old)
		}
		return
	}
	c.owners.Updated(old, cur, func(rs *shoalv1.ReplicaSet) {
		c.enqueue(rs)
		// A pod that just became ready counts as available only after
		// min_ready_seconds: look again then.
		if minReady := rs.GetSpec().GetMinReadySeconds(); minReady > 0 && !podstate.IsReady(old) && podstate.IsReady(cur) {
			c.queue.AddAfter(kinds.Key(rs), time.Duration(minReady)*time.Second+time.Second)
		}
	}, c.enqueue)
}

func (c *Controller) deletePod(p *shoalv1.Pod) {
	rs, ok := c.owners.Of(p)
	if !ok {
		return
	}
	key := kinds.Key(rs)
	c.exp.DeletionObserved(key, kinds.Key(p))
	c.queue.Add(key)
}
