// Package deployment is the Deployment controller: it manages ReplicaSets
// named after a hash of the pod template, rolls a new template out with the
// RollingUpdate (max_surge, max_unavailable as counts or percentages) or
// Recreate strategy, honours min_ready_seconds and pause, scales all
// ReplicaSets proportionally when replicas change mid-rollout, keeps
// revision_history_limit old ReplicaSets for rollback (sdk/go/rollout
// copies one's template back), and reports progress against
// progress_deadline_seconds in its status conditions. It is Kubernetes'
// Deployment controller, ported.
//
// Two deliberate differences make the rolling update bounds hold at every
// instant rather than on the ReplicaSets' specs only: surge counts every
// pod a ReplicaSet has or may have (spec, reported replicas, cached pods),
// and availability counts no more than a ReplicaSet's spec. And the
// controller waits for its cache to show each ReplicaSet it wrote before
// deciding again (expectations.Versions).
package deployment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/labels"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/informer"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/sdk/go/selector"
	"github.com/shoalmesh/shoal/sdk/go/workqueue"
	"github.com/shoalmesh/shoal/services/controller/control"
	"github.com/shoalmesh/shoal/services/controller/expectations"
	"github.com/shoalmesh/shoal/services/controller/informers"
	"github.com/shoalmesh/shoal/services/controller/ownerref"
	"github.com/shoalmesh/shoal/services/controller/podstate"
)

// Name is the controller's name.
const Name = "deployment"

// Event reasons.
const (
	ReasonScalingReplicaSet = "ScalingReplicaSet"
	ReasonSelectorInvalid   = "SelectorInvalid"
	ReasonHashCollision     = "HashCollision"
	ReasonFailedCreate      = "FailedCreate"
	ReasonDeadlineExceeded  = "ProgressDeadlineExceeded"
)

// writeExpectationTTL bounds how long the controller waits for its cache
// to show one of its own writes before deciding anyway.
const writeExpectationTTL = 30 * time.Second

// Controller is the Deployment controller.
type Controller struct {
	tracer trace.Tracer
	deps   *informer.Informer[*shoalv1.Deployment]
	rss    *informer.Informer[*shoalv1.ReplicaSet]
	pods   *informer.Informer[*shoalv1.Pod]
	owners ownerref.Owners[*shoalv1.Deployment]
	dCli   *client.Resource[*shoalv1.Deployment]
	rsCli  *client.Resource[*shoalv1.ReplicaSet]
	queue  control.Queue
	writes *expectations.Versions
	rec    control.Recorder
	log    *slog.Logger
	now    func() time.Time
}

var _ control.Controller = (*Controller)(nil)

// New builds the controller and registers its informer handlers.
func New(cc *control.Context) *Controller {
	c := &Controller{
		deps:   cc.Informers.Deployments,
		rss:    cc.Informers.ReplicaSets,
		pods:   cc.Informers.Pods,
		owners: ownerref.NewOwners("Deployment", cc.Informers.Deployments, func(d *shoalv1.Deployment) *shoalv1.LabelSelector { return d.GetSpec().GetSelector() }),
		dCli:   client.For[*shoalv1.Deployment](cc.Conn),
		rsCli:  client.For[*shoalv1.ReplicaSet](cc.Conn),
		queue:  cc.NewQueue(Name),
		writes: expectations.NewVersions(writeExpectationTTL),
		rec:    cc.Recorder,
		log:    cc.Logger(Name),
		now:    cc.Clock(),
		tracer: cc.TracerOrNoop(),
	}
	c.deps.AddEventHandler(informer.HandlerFuncs[*shoalv1.Deployment]{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, d *shoalv1.Deployment) { c.enqueue(d) },
		DeleteFunc: c.enqueue,
	})
	c.rss.AddEventHandler(informer.HandlerFuncs[*shoalv1.ReplicaSet]{
		AddFunc:    c.addRS,
		UpdateFunc: c.updateRS,
		DeleteFunc: c.deleteRS,
	})
	c.pods.AddEventHandler(informer.HandlerFuncs[*shoalv1.Pod]{DeleteFunc: c.deletePod})
	return c
}

// Name implements control.Controller.
func (c *Controller) Name() string { return Name }

// Run implements control.Controller.
func (c *Controller) Run(ctx context.Context, workers int) {
	workqueue.Run(ctx, c.queue, workers, c.sync, c.log)
}

func (c *Controller) enqueue(d *shoalv1.Deployment) { c.queue.Add(kinds.Key(d)) }

func (c *Controller) addRS(rs *shoalv1.ReplicaSet) {
	if rs.GetMetadata().GetDeletionTimestamp() != nil {
		c.deleteRS(rs)
		return
	}
	c.owners.Added(rs, c.enqueue, c.enqueue)
}

func (c *Controller) updateRS(old, cur *shoalv1.ReplicaSet) {
	if old.GetMetadata().GetResourceVersion() == cur.GetMetadata().GetResourceVersion() {
		return
	}
	c.owners.Updated(old, cur, c.enqueue, c.enqueue)
}

func (c *Controller) deleteRS(rs *shoalv1.ReplicaSet) {
	if d, ok := c.owners.Of(rs); ok {
		c.enqueue(d)
	}
}

// deletePod wakes a Recreate Deployment up when an old pod is gone: it
// waits for all of them before scaling the new ReplicaSet up.
func (c *Controller) deletePod(p *shoalv1.Pod) {
	rs, ok := ownerref.Resolve(c.rss.Get, "ReplicaSet", p.GetMetadata().GetNamespace(), ownerref.ControllerOf(p))
	if !ok {
		return
	}
	if d, ok := c.owners.Of(rs); ok && !isRollingUpdate(d) {
		c.enqueue(d)
	}
}

// Keys of the write expectations: the kind keeps ReplicaSets and
// Deployments apart.
func rsWriteKey(rs kinds.Object) string { return "ReplicaSet/" + kinds.Key(rs) }
func dWriteKey(d kinds.Object) string   { return "Deployment/" + kinds.Key(d) }

// cached reads a write-expectation key's object from the caches.
func (c *Controller) cached(objKey string) (string, bool) {
	kind, key, _ := strings.Cut(objKey, "/")
	switch kind {
	case "ReplicaSet":
		if rs, ok := c.rss.Get(key); ok {
			return rs.GetMetadata().GetResourceVersion(), true
		}
	case "Deployment":
		if d, ok := c.deps.Get(key); ok {
			return d.GetMetadata().GetResourceVersion(), true
		}
	}
	return "", false
}

// sync reconciles one Deployment.
func (c *Controller) sync(ctx context.Context, key string) (err error) {
	cached, ok := c.deps.Get(key)
	if !ok {
		c.writes.Forget(key)
		return nil
	}
	// The ReplicaSets this sync writes join the trace of the request that
	// last changed the Deployment (the gateway records it on each object).
	ctx, end := control.StartSync(ctx, c.tracer, "deployment.Sync", cached)
	defer func() { end(err) }()
	if !c.writes.Satisfied(key, c.cached) {
		// Our last writes are not in the cache yet; their events will
		// enqueue this Deployment again. The delayed add is a safety net
		// for a write whose object vanished before the cache saw it.
		c.queue.AddAfter(key, writeExpectationTTL/6)
		return nil
	}
	d := proto.Clone(cached).(*shoalv1.Deployment)
	sel, err := selector.FromLabelSelector(d.GetSpec().GetSelector())
	if err != nil || sel.Empty() {
		c.rec.Event(d, control.Warning, ReasonSelectorInvalid, "This deployment's selector is empty or invalid: it would select every pod")
		return nil
	}
	rsList, err := c.claimReplicaSets(ctx, d, sel)
	if err != nil {
		return err
	}
	s := &syncState{d: d, rsList: rsList, pods: c.podsByRS(rsList)}
	switch {
	case d.GetMetadata().GetDeletionTimestamp() != nil:
		return c.syncStatusOnly(ctx, s)
	}
	if err := c.checkPausedConditions(ctx, d); err != nil {
		return err
	}
	if d.GetSpec().GetPaused() {
		return c.syncScale(ctx, s)
	}
	scaling, err := c.isScalingEvent(ctx, s)
	if err != nil {
		return err
	}
	if scaling {
		return c.syncScale(ctx, s)
	}
	if isRollingUpdate(d) {
		return c.rolloutRolling(ctx, s)
	}
	return c.rolloutRecreate(ctx, s)
}

// syncState is what one sync works on: the Deployment (a private copy that
// writes update), the ReplicaSets it controls and their cached pods.
type syncState struct {
	d      *shoalv1.Deployment
	rsList []*shoalv1.ReplicaSet
	pods   map[string][]*shoalv1.Pod // by ReplicaSet uid
}

// replace puts a ReplicaSet this sync wrote in place of its cached
// version (or adds it, when it was just created).
func (s *syncState) replace(rs *shoalv1.ReplicaSet) {
	uid := rs.GetMetadata().GetUid()
	for i, have := range s.rsList {
		if have.GetMetadata().GetUid() == uid {
			s.rsList[i] = rs
			return
		}
	}
	s.rsList = append(s.rsList, rs)
}

// counts is the active pods per ReplicaSet uid.
func (s *syncState) counts() podCounts {
	out := podCounts{}
	for uid, pods := range s.pods {
		for _, p := range pods {
			if podstate.IsActive(p) {
				out[uid]++
			}
		}
	}
	return out
}

func (c *Controller) claimReplicaSets(ctx context.Context, d *shoalv1.Deployment, sel labels.Selector) ([]*shoalv1.ReplicaSet, error) {
	ns := d.GetMetadata().GetNamespace()
	candidates := append(c.rss.ByIndex(informers.ControllerUID, d.GetMetadata().GetUid()), c.rss.ByIndex(informers.Orphans, ns)...)
	claimer := &ownerref.Claimer[*shoalv1.ReplicaSet]{
		Owner: d, Selector: sel, Client: c.rsCli,
		CanAdopt: ownerref.FreshOwnerCheck(d, func(ctx context.Context, ns, name string) (*shoalv1.Deployment, error) {
			return c.dCli.Get(ctx, ns, name)
		}),
	}
	out, err := claimer.Claim(ctx, candidates)
	if errors.Is(err, ownerref.ErrOwnerChanged) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("claiming replica sets: %w", err)
	}
	return out, nil
}

func (c *Controller) podsByRS(rsList []*shoalv1.ReplicaSet) map[string][]*shoalv1.Pod {
	out := make(map[string][]*shoalv1.Pod, len(rsList))
	for _, rs := range rsList {
		uid := rs.GetMetadata().GetUid()
		out[uid] = c.pods.ByIndex(informers.ControllerUID, uid)
	}
	return out
}

// updateStatus writes d's status when it differs from the cached one and
// keeps d's version current.
func (c *Controller) updateStatus(ctx context.Context, d *shoalv1.Deployment, st *shoalv1.DeploymentStatus) error {
	if proto.Equal(st, d.GetStatus()) {
		return nil
	}
	next := &shoalv1.Deployment{Metadata: &shoalv1.ObjectMeta{
		Namespace: d.GetMetadata().GetNamespace(), Name: d.GetMetadata().GetName(),
		ResourceVersion: d.GetMetadata().GetResourceVersion(),
	}, Status: st}
	out, err := c.dCli.UpdateStatus(ctx, next)
	if client.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("updating status: %w", err)
	}
	d.Status = out.GetStatus()
	d.Metadata.ResourceVersion = out.GetMetadata().GetResourceVersion()
	c.writes.ExpectVersion(kinds.Key(d), dWriteKey(d), out.GetMetadata().GetResourceVersion())
	return nil
}
