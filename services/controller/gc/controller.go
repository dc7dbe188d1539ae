// Package gc is the garbage collector. An object whose owners are all gone
// is deleted (background cascade: its own dependents follow the same way).
// An owner deleted with FOREGROUND propagation keeps the foregroundDeletion
// finalizer until its blocking dependents are gone, the collector deleting
// them (in foreground too when they have dependents of their own); one
// deleted with ORPHAN keeps the orphan finalizer until the collector has
// removed the owner references to it from its dependents. Owners missing
// from the caches are confirmed with a read from the API before anything
// is deleted, so a lagging cache never costs a live object.
package gc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/informer"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/sdk/go/workqueue"
	"github.com/shoalmesh/shoal/services/controller/control"
)

// Name is the controller's name.
const Name = "garbagecollector"

// Finalizers the gateway adds for the propagation policies (Kubernetes'
// names).
const (
	FinalizerForeground = "foregroundDeletion"
	FinalizerOrphan     = "orphan"
)

// Event reasons.
const (
	ReasonCollected = "GarbageCollected"
	ReasonOrphaned  = "OrphanedDependents"
)

// Controller is the garbage collector.
type Controller struct {
	sources []source
	byKind  map[string]source
	queue   control.Queue
	rec     control.Recorder
	log     *slog.Logger

	mu     sync.Mutex
	absent map[string]struct{} // uids confirmed gone (uids are never reused)
}

var _ control.Controller = (*Controller)(nil)

// New builds the collector and registers its handlers on every kind it
// covers.
func New(cc *control.Context) *Controller {
	c := &Controller{
		sources: sources(cc.Informers, cc.Conn),
		byKind:  map[string]source{},
		queue:   cc.NewQueue(Name),
		rec:     cc.Recorder,
		log:     cc.Logger(Name),
		absent:  map[string]struct{}{},
	}
	for _, s := range c.sources {
		c.byKind[s.kind().Name] = s
		s.watch(informer.HandlerFuncs[kinds.Object]{
			AddFunc:    c.onAdd,
			UpdateFunc: c.onUpdate,
			DeleteFunc: c.onDelete,
		})
	}
	return c
}

// Name implements control.Controller.
func (c *Controller) Name() string { return Name }

// Run implements control.Controller.
func (c *Controller) Run(ctx context.Context, workers int) {
	workqueue.Run(ctx, c.queue, workers, c.sync, c.log)
}

// item is the queue key of an object: "Kind|namespace/name".
func item(obj kinds.Object) string {
	k, _ := kinds.Of(obj)
	return k.Name + "|" + kinds.Key(obj)
}

// refItem is the queue key of an owner reference's target, for a
// dependent in namespace ns.
func refItem(ns string, ref *shoalv1.OwnerReference) (string, bool) {
	k, ok := kinds.ByName(ref.GetKind())
	if !ok {
		return "", false
	}
	if k.Namespaced {
		return k.Name + "|" + ns + "/" + ref.GetName(), true
	}
	return k.Name + "|" + ref.GetName(), true
}

func hasFinalizer(obj kinds.Object, f string) bool {
	return slices.Contains(obj.GetMetadata().GetFinalizers(), f)
}

// interesting: the collector has something to do with obj.
func interesting(obj kinds.Object) bool {
	m := obj.GetMetadata()
	return len(m.GetOwnerReferences()) > 0 ||
		(m.GetDeletionTimestamp() != nil && (hasFinalizer(obj, FinalizerForeground) || hasFinalizer(obj, FinalizerOrphan)))
}

func (c *Controller) onAdd(obj kinds.Object) {
	if interesting(obj) {
		c.queue.Add(item(obj))
	}
}

func (c *Controller) onUpdate(old, cur kinds.Object) {
	om, cm := old.GetMetadata(), cur.GetMetadata()
	if om.GetResourceVersion() == cm.GetResourceVersion() {
		return
	}
	refsChanged := !slices.EqualFunc(om.GetOwnerReferences(), cm.GetOwnerReferences(), func(a, b *shoalv1.OwnerReference) bool { return proto.Equal(a, b) })
	deleting := (om.GetDeletionTimestamp() == nil) != (cm.GetDeletionTimestamp() == nil) ||
		!slices.Equal(om.GetFinalizers(), cm.GetFinalizers())
	if (refsChanged || deleting) && interesting(cur) {
		c.queue.Add(item(cur))
	}
	if refsChanged {
		// An owner waiting in foreground may have lost a blocking dependent.
		c.enqueueOwners(old)
	}
}

func (c *Controller) onDelete(obj kinds.Object) {
	// Its dependents may now be garbage; its owners may be waiting for it.
	uid := obj.GetMetadata().GetUid()
	for _, s := range c.sources {
		for _, dep := range s.dependents(uid) {
			c.queue.Add(item(dep))
		}
	}
	c.enqueueOwners(obj)
}

func (c *Controller) enqueueOwners(obj kinds.Object) {
	for _, ref := range obj.GetMetadata().GetOwnerReferences() {
		if key, ok := refItem(obj.GetMetadata().GetNamespace(), ref); ok {
			c.queue.Add(key)
		}
	}
}

func (c *Controller) dependents(uid string) []kinds.Object {
	var out []kinds.Object
	for _, s := range c.sources {
		out = append(out, s.dependents(uid)...)
	}
	return out
}

// sync handles one object: as an owner being deleted with a finalizer, and
// as a dependent whose owners may be gone.
func (c *Controller) sync(ctx context.Context, key string) error {
	kind, objKey, _ := strings.Cut(key, "|")
	src := c.byKind[kind]
	if src == nil {
		return nil
	}
	obj, ok := src.get(objKey)
	if !ok {
		return nil
	}
	m := obj.GetMetadata()
	if m.GetDeletionTimestamp() != nil {
		switch {
		case hasFinalizer(obj, FinalizerOrphan):
			return c.orphanDependents(ctx, src, obj)
		case hasFinalizer(obj, FinalizerForeground):
			return c.deleteDependents(ctx, src, obj)
		}
		return nil
	}
	if len(m.GetOwnerReferences()) == 0 {
		return nil
	}
	return c.collect(ctx, src, obj)
}

type ownerState int

const (
	ownerPresent ownerState = iota
	ownerAbsent
	// ownerWaiting: the owner is being deleted in foreground and waits for
	// its dependents.
	ownerWaiting
)

// collect deletes obj when none of its owners exists any more.
func (c *Controller) collect(ctx context.Context, src source, obj kinds.Object) error {
	m := obj.GetMetadata()
	var solid, dangling, waiting []*shoalv1.OwnerReference
	for _, ref := range m.GetOwnerReferences() {
		st, err := c.ownerState(ctx, m.GetNamespace(), ref)
		if err != nil {
			return err
		}
		switch st {
		case ownerPresent:
			solid = append(solid, ref)
		case ownerAbsent:
			dangling = append(dangling, ref)
		case ownerWaiting:
			waiting = append(waiting, ref)
		}
	}
	switch {
	case len(solid) > 0 && len(dangling) == 0 && len(waiting) == 0:
		return nil
	case len(solid) > 0:
		// Keep it for its live owners; drop references to dead ones and
		// stop blocking owners deleted in foreground.
		next := proto.Clone(obj).(kinds.Object)
		nm := next.GetMetadata()
		nm.OwnerReferences = slices.DeleteFunc(nm.OwnerReferences, func(r *shoalv1.OwnerReference) bool {
			return slices.ContainsFunc(dangling, func(d *shoalv1.OwnerReference) bool { return d.GetUid() == r.GetUid() })
		})
		for _, r := range nm.OwnerReferences {
			if slices.ContainsFunc(waiting, func(w *shoalv1.OwnerReference) bool { return w.GetUid() == r.GetUid() }) {
				r.BlockOwnerDeletion = false
			}
		}
		if err := src.update(ctx, next); err != nil && !client.IsNotFound(err) {
			return fmt.Errorf("removing dangling owner references of %s: %w", item(obj), err)
		}
		return nil
	}
	policy := shoalv1.PropagationPolicy_PROPAGATION_POLICY_BACKGROUND
	if len(waiting) > 0 && len(c.dependents(m.GetUid())) > 0 {
		policy = shoalv1.PropagationPolicy_PROPAGATION_POLICY_FOREGROUND
	}
	why := "its owners are gone"
	if len(waiting) > 0 {
		why = "its owner is being deleted in foreground"
	}
	// Deleted only as judged: from the cache's copy, whose owner
	// references may be stale (removed meanwhile by an orphaning owner).
	err := src.delete(ctx, m.GetNamespace(), m.GetName(), client.DeleteOptions{
		Preconditions:     &shoalv1.Preconditions{Uid: m.GetUid(), ResourceVersion: m.GetResourceVersion()},
		PropagationPolicy: policy,
	})
	if client.IsNotFound(err) {
		return nil
	}
	if client.IsConflict(err) {
		// The error requeues it, judged again on a newer copy.
		return fmt.Errorf("%s changed since it was judged garbage: %w", item(obj), err)
	}
	if err != nil {
		return fmt.Errorf("deleting %s: %w", item(obj), err)
	}
	c.rec.Event(obj, control.Normal, ReasonCollected, "Deleted: "+why)
	c.log.DebugContext(ctx, "collected", "object", item(obj), "why", why)
	return nil
}

// ownerState finds out whether an owner exists: from the cache, and when
// the cache lacks it, from the API.
func (c *Controller) ownerState(ctx context.Context, ns string, ref *shoalv1.OwnerReference) (ownerState, error) {
	uid := ref.GetUid()
	c.mu.Lock()
	_, gone := c.absent[uid]
	c.mu.Unlock()
	if gone {
		return ownerAbsent, nil
	}
	k, ok := kinds.ByName(ref.GetKind())
	src := c.byKind[ref.GetKind()]
	if !ok || src == nil {
		return ownerPresent, nil // a kind we cannot check: keep the dependent
	}
	if !k.Namespaced {
		ns = ""
	}
	key := ref.GetName()
	if ns != "" {
		key = ns + "/" + key
	}
	owner, ok := src.get(key)
	if !ok || owner.GetMetadata().GetUid() != uid {
		live, err := src.read(ctx, ns, ref.GetName())
		switch {
		case client.IsNotFound(err):
			c.markAbsent(uid)
			return ownerAbsent, nil
		case err != nil:
			return ownerPresent, fmt.Errorf("reading owner %s %s: %w", ref.GetKind(), key, err)
		case live.GetMetadata().GetUid() != uid:
			c.markAbsent(uid)
			return ownerAbsent, nil
		}
		owner = live
	}
	if owner.GetMetadata().GetDeletionTimestamp() != nil && hasFinalizer(owner, FinalizerForeground) {
		return ownerWaiting, nil
	}
	return ownerPresent, nil
}

func (c *Controller) markAbsent(uid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.absent) > 10000 {
		c.absent = map[string]struct{}{}
	}
	c.absent[uid] = struct{}{}
}

// orphanDependents removes the owner references to obj from its dependents,
// then its orphan finalizer.
//
// The dependents are listed from the API, not the caches: a dependent the
// caches have not seen yet (created just before the owner's deletion, on a
// busy machine) would keep its reference, and once the owner is gone it
// would be collected as a dependent of a dead owner instead of orphaned.
func (c *Controller) orphanDependents(ctx context.Context, src source, obj kinds.Object) error {
	uid := obj.GetMetadata().GetUid()
	ns := obj.GetMetadata().GetNamespace() // "" for a cluster-scoped owner: every namespace
	var deps []kinds.Object
	for _, s := range c.sources {
		if ns != "" && !s.kind().Namespaced {
			continue // a namespaced owner has no cluster-scoped dependents
		}
		d, err := s.listDependents(ctx, ns, uid)
		if err != nil {
			return fmt.Errorf("listing the dependents of %s: %w", item(obj), err)
		}
		deps = append(deps, d...)
	}
	var errs []error
	for _, dep := range deps {
		next := proto.Clone(dep).(kinds.Object)
		nm := next.GetMetadata()
		nm.OwnerReferences = slices.DeleteFunc(nm.OwnerReferences, func(r *shoalv1.OwnerReference) bool { return r.GetUid() == uid })
		ds := c.byKind[mustKind(dep)]
		if err := ds.update(ctx, next); err != nil && !client.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("orphaning %s: %w", item(dep), err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if len(deps) > 0 {
		c.rec.Event(obj, control.Normal, ReasonOrphaned, fmt.Sprintf("Removed the owner references to it from %d dependents", len(deps)))
	}
	return c.removeFinalizer(ctx, src, obj, FinalizerOrphan)
}

// deleteDependents has every dependent of a foreground-deleted owner
// collected, and lets the owner go when none blocks it any more.
func (c *Controller) deleteDependents(ctx context.Context, src source, obj kinds.Object) error {
	uid := obj.GetMetadata().GetUid()
	blocking := 0
	for _, dep := range c.dependents(uid) {
		if dep.GetMetadata().GetDeletionTimestamp() == nil {
			c.queue.Add(item(dep)) // collect() sees the waiting owner and deletes it
		}
		for _, r := range dep.GetMetadata().GetOwnerReferences() {
			if r.GetUid() == uid && r.GetBlockOwnerDeletion() {
				blocking++
				break
			}
		}
	}
	if blocking > 0 {
		return nil // their delete events bring the owner back here
	}
	return c.removeFinalizer(ctx, src, obj, FinalizerForeground)
}

func (c *Controller) removeFinalizer(ctx context.Context, src source, obj kinds.Object, f string) error {
	next := proto.Clone(obj).(kinds.Object)
	nm := next.GetMetadata()
	nm.Finalizers = slices.DeleteFunc(nm.Finalizers, func(have string) bool { return have == f })
	kinds.ClearStatus(next)
	if err := src.update(ctx, next); err != nil && !client.IsNotFound(err) {
		return fmt.Errorf("removing finalizer %s from %s: %w", f, item(obj), err)
	}
	return nil
}

func mustKind(obj kinds.Object) string {
	k, _ := kinds.Of(obj)
	return k.Name
}
