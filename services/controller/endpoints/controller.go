// Package endpoints is the Endpoints controller: for every Service with a
// selector it keeps an Endpoints object of the same name listing the
// matching pods (IP, node, zone, ready or not) and the service's target
// ports resolved by number or by container port name. It writes only when
// the result differs from what is stored, and removes the Endpoints it
// manages when their Service goes. Each sync is an "endpoints.Sync" span in
// the trace of the pod change it publishes (see syncParent), and its write
// carries that trace on to the Endpoints for xds.
package endpoints

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/labels"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/informer"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/sdk/go/workqueue"
	"github.com/shoalmesh/shoal/services/controller/control"
	"github.com/shoalmesh/shoal/services/controller/podstate"
)

// Name is the controller's name.
const Name = "endpoints"

// ManagedByLabel marks the Endpoints this controller owns; Endpoints
// without it (kept by hand for selector-less Services) are never touched.
const (
	ManagedByLabel = "endpoints.shoal.io/managed-by"
	ManagedByValue = "shoal-controller"
)

// Event reasons.
const (
	ReasonFailedToUpdate = "FailedToUpdateEndpoint"
	ReasonPortMismatch   = "TargetPortMismatch"
)

// Controller is the Endpoints controller.
type Controller struct {
	svcs   *informer.Informer[*shoalv1.Service]
	pods   *informer.Informer[*shoalv1.Pod]
	eps    *informer.Informer[*shoalv1.Endpoints]
	nodes  *informer.Informer[*shoalv1.Node]
	cli    *client.Resource[*shoalv1.Endpoints]
	queue  control.Queue
	rec    control.Recorder
	log    *slog.Logger
	tracer trace.Tracer
}

var _ control.Controller = (*Controller)(nil)

// New builds the controller and registers its informer handlers.
func New(cc *control.Context) *Controller {
	c := &Controller{
		svcs:   cc.Informers.Services,
		pods:   cc.Informers.Pods,
		eps:    cc.Informers.Endpoints,
		nodes:  cc.Informers.Nodes,
		cli:    client.For[*shoalv1.Endpoints](cc.Conn),
		queue:  cc.NewQueue(Name),
		rec:    cc.Recorder,
		log:    cc.Logger(Name),
		tracer: cc.TracerOrNoop(),
	}
	enqueueKey := func(o kinds.Object) { c.queue.Add(kinds.Key(o)) }
	c.svcs.AddEventHandler(informer.HandlerFuncs[*shoalv1.Service]{
		AddFunc:    func(s *shoalv1.Service) { enqueueKey(s) },
		UpdateFunc: func(_, s *shoalv1.Service) { enqueueKey(s) },
		DeleteFunc: func(s *shoalv1.Service) { enqueueKey(s) },
	})
	c.eps.AddEventHandler(informer.HandlerFuncs[*shoalv1.Endpoints]{
		// Someone else's edit, or a delete: put it back.
		UpdateFunc: func(old, cur *shoalv1.Endpoints) {
			if !proto.Equal(old.GetSpec(), cur.GetSpec()) {
				enqueueKey(cur)
			}
		},
		DeleteFunc: func(e *shoalv1.Endpoints) { enqueueKey(e) },
	})
	c.pods.AddEventHandler(informer.HandlerFuncs[*shoalv1.Pod]{
		AddFunc: func(p *shoalv1.Pod) { c.enqueueServicesOf(p) },
		UpdateFunc: func(old, cur *shoalv1.Pod) {
			if !endpointsChanged(old, cur) {
				return
			}
			c.enqueueServicesOf(cur)
			if !maps.Equal(old.GetMetadata().GetLabels(), cur.GetMetadata().GetLabels()) {
				c.enqueueServicesOf(old)
			}
		},
		DeleteFunc: func(p *shoalv1.Pod) { c.enqueueServicesOf(p) },
	})
	c.nodes.AddEventHandler(informer.HandlerFuncs[*shoalv1.Node]{
		UpdateFunc: func(old, cur *shoalv1.Node) {
			if old.GetMetadata().GetLabels()[ZoneLabel] != cur.GetMetadata().GetLabels()[ZoneLabel] {
				for _, s := range c.svcs.List() {
					enqueueKey(s)
				}
			}
		},
	})
	return c
}

// Name implements control.Controller.
func (c *Controller) Name() string { return Name }

// Run implements control.Controller.
func (c *Controller) Run(ctx context.Context, workers int) {
	workqueue.Run(ctx, c.queue, workers, c.sync, c.log)
}

// endpointsChanged reports a pod change that can change an address.
func endpointsChanged(old, cur *shoalv1.Pod) bool {
	if old.GetMetadata().GetResourceVersion() == cur.GetMetadata().GetResourceVersion() {
		return false
	}
	return podstate.IsReady(old) != podstate.IsReady(cur) ||
		old.GetStatus().GetPodIp() != cur.GetStatus().GetPodIp() ||
		old.GetStatus().GetPhase() != cur.GetStatus().GetPhase() ||
		old.GetSpec().GetNodeName() != cur.GetSpec().GetNodeName() ||
		(old.GetMetadata().GetDeletionTimestamp() == nil) != (cur.GetMetadata().GetDeletionTimestamp() == nil) ||
		!maps.Equal(old.GetMetadata().GetLabels(), cur.GetMetadata().GetLabels())
}

// enqueueServicesOf enqueues the Services whose selector matches the pod.
func (c *Controller) enqueueServicesOf(p *shoalv1.Pod) {
	set := labels.Set(p.GetMetadata().GetLabels())
	for _, s := range c.svcs.ListNamespace(p.GetMetadata().GetNamespace()) {
		sel := s.GetSpec().GetSelector()
		if len(sel) > 0 && labels.SelectorFromSet(sel).Matches(set) {
			c.queue.Add(kinds.Key(s))
		}
	}
}

func (c *Controller) zoneOf(node string) string {
	n, ok := c.nodes.Get(node)
	if !ok {
		return ""
	}
	return n.GetMetadata().GetLabels()[ZoneLabel]
}

// sync makes one Service's Endpoints match its pods.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, _ := strings.Cut(key, "/")
	svc, ok := c.svcs.Get(key)
	if !ok {
		cur, exists := c.eps.Get(key)
		if !exists || cur.GetMetadata().GetLabels()[ManagedByLabel] != ManagedByValue {
			return nil
		}
		_, err := c.cli.Delete(ctx, ns, name, client.DeleteOptions{Preconditions: &shoalv1.Preconditions{Uid: cur.GetMetadata().GetUid()}})
		if err != nil && !client.IsNotFound(err) {
			return fmt.Errorf("deleting endpoints of a deleted service: %w", err)
		}
		return nil
	}
	if len(svc.GetSpec().GetSelector()) == 0 || svc.GetMetadata().GetDeletionTimestamp() != nil {
		return nil // endpoints kept by hand, or the service is going
	}
	sel := labels.SelectorFromSet(svc.GetSpec().GetSelector())
	var pods []*shoalv1.Pod
	for _, p := range c.pods.ListNamespace(ns) {
		if sel.Matches(labels.Set(p.GetMetadata().GetLabels())) {
			pods = append(pods, p)
		}
	}
	built := Build(svc, pods, c.zoneOf)
	if len(built.Mismatched) > 0 {
		c.rec.Event(svc, control.Warning, ReasonPortMismatch,
			fmt.Sprintf("%d pods resolve named target ports to other numbers than the rest and are left out of the endpoints", len(built.Mismatched)))
	}
	wantLabels := maps.Clone(svc.GetMetadata().GetLabels())
	if wantLabels == nil {
		wantLabels = map[string]string{}
	}
	wantLabels[ManagedByLabel] = ManagedByValue

	cur, exists := c.eps.Get(key)
	// The span starts here, once it is known which pod changes this sync
	// publishes: it continues their trace, and the write below carries it
	// on to the Endpoints (the gateway records it there for xds).
	writes := !exists || !proto.Equal(cur.GetSpec(), built.Spec) || !maps.Equal(cur.GetMetadata().GetLabels(), wantLabels)
	parent, links := syncParent(ctx, svc, changedPods(cur.GetSpec(), built.Spec, pods), writes)
	ready, notReady := readiness(built.Spec)
	ctx, span := c.tracer.Start(parent, "endpoints.Sync", trace.WithLinks(links...), trace.WithAttributes(
		attribute.String("shoal.service", key),
		attribute.Int("shoal.endpoints.ready", ready),
		attribute.Int("shoal.endpoints.not_ready", notReady),
	))
	defer span.End()
	written, err := c.write(ctx, key, svc, cur, exists, built.Spec, wantLabels)
	span.SetAttributes(attribute.Bool("shoal.endpoints.written", written))
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	return err
}

// write creates or updates the Endpoints of svc when they differ from
// spec and labels, and reports whether it wrote.
func (c *Controller) write(ctx context.Context, key string, svc *shoalv1.Service, cur *shoalv1.Endpoints, exists bool, spec *shoalv1.EndpointsSpec, wantLabels map[string]string) (bool, error) {
	ns, name, _ := strings.Cut(key, "/")
	if !exists {
		ep := &shoalv1.Endpoints{Metadata: &shoalv1.ObjectMeta{Namespace: ns, Name: name, Labels: wantLabels}, Spec: spec}
		if _, err := c.cli.Create(ctx, ep); err != nil {
			if client.IsAlreadyExists(err) {
				return false, fmt.Errorf("endpoints exist but are not cached yet: %w", err)
			}
			c.rec.Event(svc, control.Warning, ReasonFailedToUpdate, fmt.Sprintf("Failed to create endpoint for service %s: %v", key, err))
			return false, fmt.Errorf("creating endpoints: %w", err)
		}
		return true, nil
	}
	if proto.Equal(cur.GetSpec(), spec) && maps.Equal(cur.GetMetadata().GetLabels(), wantLabels) {
		return false, nil
	}
	next := proto.Clone(cur).(*shoalv1.Endpoints)
	next.Spec = spec
	next.Metadata.Labels = wantLabels
	if _, err := c.cli.Update(ctx, next); err != nil {
		if client.IsConflict(err) || client.IsNotFound(err) {
			return false, fmt.Errorf("endpoints changed meanwhile: %w", err)
		}
		c.rec.Event(svc, control.Warning, ReasonFailedToUpdate, fmt.Sprintf("Failed to update endpoint %s: %v", key, err))
		return false, fmt.Errorf("updating endpoints: %w", err)
	}
	return true, nil
}
