// Package nodelifecycle is the node lifecycle controller. Node agents renew
// a Lease named after their node in namespace shoal-node-lease; a node whose
// lease has not been renewed for the grace period becomes Ready=Unknown,
// its pods are marked not ready (so endpoints drop them) and it gets the
// unreachable NoSchedule and NoExecute taints (a node reporting Ready=False
// gets the not-ready ones). Pods on a node with a NoExecute taint are
// evicted once their toleration runs out (by default --pod-eviction-timeout
// after the taint was added), with grace period 0: the node's agent cannot
// confirm a graceful stop, so the pod is deleted at once and its controller
// replaces it elsewhere. When many nodes fail at once, NoExecute taints
// (hence evictions) are rate limited per zone, slower or not at all when a
// large share of a zone is down, and stop entirely when every node is down
// (more likely a partition of the control plane than a dead fleet).
package nodelifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/informer"
	"github.com/shoalmesh/shoal/sdk/go/workqueue"
	"github.com/shoalmesh/shoal/services/controller/control"
	"github.com/shoalmesh/shoal/services/controller/informers"
)

// Name is the controller's name.
const Name = "nodelifecycle"

// LeaseNamespace holds one Lease per node, named after it.
const LeaseNamespace = "shoal-node-lease"

// ZoneLabel is the node label that groups nodes into zones for rate limits.
const ZoneLabel = "topology.kubernetes.io/zone"

// Ready condition reasons this controller writes.
const (
	ReasonNodeStatusUnknown = "NodeStatusUnknown"
	ReasonLeaseRenewed      = "NodeLeaseRenewed"
)

// Event reasons.
const (
	ReasonNodeNotReady    = "NodeNotReady"
	ReasonNodeReady       = "NodeReady"
	ReasonTainted         = "TaintedForEviction"
	ReasonEviction        = "TaintManagerEviction"
	ReasonMarkedNotReady  = "NodeNotReady"
	ReasonFullDisruption  = "FullDisruption"
	conditionReady        = "Ready"
	reasonPodNodeNotReady = "NodeNotReady"
)

// Config tunes the controller.
type Config struct {
	// GracePeriod: a lease older than this makes the node Ready=Unknown.
	GracePeriod time.Duration
	// MonitorPeriod is how often nodes are checked.
	MonitorPeriod time.Duration
	// PodEvictionTimeout is how long pods without a toleration of their
	// own stay on an unreachable or not-ready node.
	PodEvictionTimeout time.Duration
	// EvictionRate is how many nodes per second (per zone) get their
	// NoExecute taint; SecondaryEvictionRate applies to a large zone in
	// partial disruption (a small one stops).
	EvictionRate          float64
	SecondaryEvictionRate float64
	// UnhealthyZoneThreshold is the share of not-ready nodes (with more
	// than two) that puts a zone in partial disruption.
	UnhealthyZoneThreshold float64
	// LargeClusterThreshold is the zone size above which partial
	// disruption slows evictions instead of stopping them.
	LargeClusterThreshold int
}

// NewConfig returns Kubernetes' defaults, with a 60 s eviction timeout.
func NewConfig() Config {
	return Config{
		GracePeriod:            40 * time.Second,
		MonitorPeriod:          5 * time.Second,
		PodEvictionTimeout:     60 * time.Second,
		EvictionRate:           0.1,
		SecondaryEvictionRate:  0.01,
		UnhealthyZoneThreshold: 0.55,
		LargeClusterThreshold:  50,
	}
}

// Validate checks c without side effects.
func (c Config) Validate() error {
	var errs []error
	if c.GracePeriod <= 0 {
		errs = append(errs, errors.New("node monitor grace period must be positive"))
	}
	if c.MonitorPeriod <= 0 {
		errs = append(errs, errors.New("node monitor period must be positive"))
	}
	if c.PodEvictionTimeout < 0 {
		errs = append(errs, errors.New("pod eviction timeout must not be negative"))
	}
	if c.EvictionRate < 0 || c.SecondaryEvictionRate < 0 {
		errs = append(errs, errors.New("eviction rates must not be negative"))
	}
	if c.UnhealthyZoneThreshold <= 0 || c.UnhealthyZoneThreshold > 1 {
		errs = append(errs, errors.New("unhealthy zone threshold must be in (0, 1]"))
	}
	return errors.Join(errs...)
}

// Controller is the node lifecycle controller.
type Controller struct {
	cfg     Config
	nodes   *informer.Informer[*shoalv1.Node]
	leases  *informer.Informer[*shoalv1.Lease]
	pods    *informer.Informer[*shoalv1.Pod]
	nodeCli *client.Resource[*shoalv1.Node]
	podCli  *client.Resource[*shoalv1.Pod]
	queue   control.Queue // node names whose pods to check for eviction
	rec     control.Recorder
	log     *slog.Logger
	now     func() time.Time

	// Owned by the monitor goroutine.
	health   map[string]*nodeHealth
	limiters map[string]*rate.Limiter
	zones    map[string]zoneState
	fullDisr bool

	evictedMu sync.Mutex
	evicted   int64
}

// nodeHealth is what the controller observed of a node's heartbeats.
type nodeHealth struct {
	renew time.Time // the lease's renew_time last seen
	probe time.Time // when, on our clock, a heartbeat was last seen
}

var _ control.Controller = (*Controller)(nil)

// New builds the controller and registers its informer handlers.
func New(cc *control.Context, cfg Config) *Controller {
	c := &Controller{
		cfg:      cfg,
		nodes:    cc.Informers.Nodes,
		leases:   cc.Informers.Leases,
		pods:     cc.Informers.Pods,
		nodeCli:  client.For[*shoalv1.Node](cc.Conn),
		podCli:   client.For[*shoalv1.Pod](cc.Conn),
		queue:    cc.NewQueue(Name),
		rec:      cc.Recorder,
		log:      cc.Logger(Name),
		now:      cc.Clock(),
		health:   map[string]*nodeHealth{},
		limiters: map[string]*rate.Limiter{},
		zones:    map[string]zoneState{},
	}
	c.nodes.AddEventHandler(informer.HandlerFuncs[*shoalv1.Node]{
		AddFunc:    func(n *shoalv1.Node) { c.enqueueIfTainted(n) },
		UpdateFunc: func(_, n *shoalv1.Node) { c.enqueueIfTainted(n) },
		// A deleted node's pods will never run or stop: evict them.
		DeleteFunc: func(n *shoalv1.Node) { c.queue.Add(n.GetMetadata().GetName()) },
	})
	c.pods.AddEventHandler(informer.HandlerFuncs[*shoalv1.Pod]{
		AddFunc:    c.podChanged,
		UpdateFunc: func(_, p *shoalv1.Pod) { c.podChanged(p) },
	})
	return c
}

// Name implements control.Controller.
func (c *Controller) Name() string { return Name }

// Evicted counts the pods this controller has evicted.
func (c *Controller) Evicted() int64 {
	c.evictedMu.Lock()
	defer c.evictedMu.Unlock()
	return c.evicted
}

// Run implements control.Controller: the monitor loop plus eviction
// workers.
func (c *Controller) Run(ctx context.Context, workers int) {
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(c.cfg.MonitorPeriod)
		defer t.Stop()
		for {
			c.monitor(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	workqueue.Run(ctx, c.queue, workers, c.syncEvictions, c.log)
	wg.Wait()
}

func hasNoExecute(n *shoalv1.Node) bool {
	for _, t := range n.GetSpec().GetTaints() {
		if t.GetEffect() == noExecute {
			return true
		}
	}
	return false
}

func (c *Controller) enqueueIfTainted(n *shoalv1.Node) {
	if hasNoExecute(n) {
		c.queue.Add(n.GetMetadata().GetName())
	}
}

func (c *Controller) podChanged(p *shoalv1.Pod) {
	node := p.GetSpec().GetNodeName()
	if node == "" {
		return
	}
	n, ok := c.nodes.Get(node)
	switch {
	case !ok:
		// Bound to a node we do not know: deleted (its pods are orphans),
		// or not cached yet. Look again after a monitor period; the sync
		// asks the API before evicting anything.
		c.queue.AddAfter(node, c.cfg.MonitorPeriod)
	case hasNoExecute(n):
		c.queue.Add(node)
	}
}

// syncEvictions evicts the pods of one node whose tolerations ran out and
// comes back when the next one will; the pods of a deleted node go at once.
func (c *Controller) syncEvictions(ctx context.Context, name string) error {
	n, ok := c.nodes.Get(name)
	if !ok {
		return c.evictFromDeletedNode(ctx, name)
	}
	if !hasNoExecute(n) {
		return nil
	}
	now := c.now()
	var next time.Time
	var errs []error
	for _, p := range c.pods.ByIndex(informers.NodeName, name) {
		at, ok := evictionTime(p, n.GetSpec().GetTaints(), c.cfg.PodEvictionTimeout, now)
		if !ok {
			continue
		}
		if at.After(now) {
			if next.IsZero() || at.Before(next) {
				next = at
			}
			continue
		}
		if err := c.evict(ctx, p); err != nil {
			errs = append(errs, err)
		}
	}
	if !next.IsZero() {
		c.queue.AddAfter(name, next.Sub(now))
	}
	return errors.Join(errs...)
}

// evictFromDeletedNode deletes the pods bound to a node that no longer
// exists, once the API confirms it is gone (the cache may lag a node that
// re-registered).
func (c *Controller) evictFromDeletedNode(ctx context.Context, name string) error {
	pods := c.pods.ByIndex(informers.NodeName, name)
	if len(pods) == 0 {
		return nil
	}
	if _, err := c.nodeCli.Get(ctx, "", name); !client.IsNotFound(err) {
		return err // exists again (nil), or cannot tell
	}
	var errs []error
	for _, p := range pods {
		if err := c.evict(ctx, p); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// evict deletes a pod with grace period 0: its node cannot confirm a
// graceful stop.
func (c *Controller) evict(ctx context.Context, p *shoalv1.Pod) error {
	m := p.GetMetadata()
	c.rec.Event(p, control.Normal, ReasonEviction, fmt.Sprintf("Marking for deletion Pod %s/%s", m.GetNamespace(), m.GetName()))
	grace := int64(0)
	_, err := c.podCli.Delete(ctx, m.GetNamespace(), m.GetName(), client.DeleteOptions{
		GracePeriodSeconds: &grace,
		Preconditions:      &shoalv1.Preconditions{Uid: m.GetUid()},
	})
	if err != nil && !client.IsNotFound(err) {
		return fmt.Errorf("evicting pod %s/%s: %w", m.GetNamespace(), m.GetName(), err)
	}
	c.evictedMu.Lock()
	c.evicted++
	c.evictedMu.Unlock()
	c.log.InfoContext(ctx, "evicted pod", "pod", m.GetNamespace()+"/"+m.GetName(), "node", p.GetSpec().GetNodeName())
	return nil
}
