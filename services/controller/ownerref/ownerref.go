// Package ownerref reads owner references, maps the events of a
// controller's children to their owners (Owners), and claims objects for a
// controller: adopting the orphans its selector matches and releasing the
// objects whose labels stopped matching (Kubernetes' ControllerRefManager).
package ownerref

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/labels"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/sdk/go/selector"
)

// ControllerOf returns the owner reference that is the object's managing
// controller, or nil.
func ControllerOf(obj kinds.Object) *shoalv1.OwnerReference {
	for _, r := range obj.GetMetadata().GetOwnerReferences() {
		if r.GetController() {
			return r
		}
	}
	return nil
}

// IsControlledBy reports whether owner is obj's controller.
func IsControlledBy(obj, owner kinds.Object) bool {
	r := ControllerOf(obj)
	return r != nil && r.GetUid() == owner.GetMetadata().GetUid()
}

// NewControllerRef is a controlling, deletion-blocking reference to owner.
func NewControllerRef(owner kinds.Object) *shoalv1.OwnerReference {
	k, _ := kinds.Of(owner)
	m := owner.GetMetadata()
	return &shoalv1.OwnerReference{Kind: k.Name, Name: m.GetName(), Uid: m.GetUid(), Controller: true, BlockOwnerDeletion: true}
}

// UIDs returns the uids of every owner of obj (an informer index).
func UIDs(obj kinds.Object) []string {
	refs := obj.GetMetadata().GetOwnerReferences()
	if len(refs) == 0 {
		return nil
	}
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, r.GetUid())
	}
	return out
}

// ControllerUID returns the uid of obj's controller as a one-element slice,
// or nil (an informer index).
func ControllerUID(obj kinds.Object) []string {
	if r := ControllerOf(obj); r != nil {
		return []string{r.GetUid()}
	}
	return nil
}

// OrphanNamespace returns obj's namespace when obj has no controller, else
// nil (an informer index of the objects up for adoption).
func OrphanNamespace(obj kinds.Object) []string {
	if ControllerOf(obj) == nil {
		return []string{obj.GetMetadata().GetNamespace()}
	}
	return nil
}

// ErrOwnerChanged is returned by a Claimer's adoption check when the owner
// is gone or is being deleted: it must not adopt anything.
var ErrOwnerChanged = errors.New("ownerref: owner was deleted or replaced")

// Claimer claims objects of type T for one owner.
type Claimer[T kinds.Object] struct {
	// Owner is the controller object, as cached (never modified).
	Owner kinds.Object
	// Selector says which objects the owner wants.
	Selector labels.Selector
	// Client writes the adopted and released objects.
	Client *client.Resource[T]
	// CanAdopt reads the owner afresh before the first adoption and fails
	// (ErrOwnerChanged) when it is gone, replaced or being deleted, so a
	// stale cache never adopts for a dead owner.
	CanAdopt func(ctx context.Context) error

	adoptChecked bool
	adoptErr     error
}

// Claim returns the candidates the owner controls after adopting matching
// orphans and releasing owned objects that no longer match. Candidates are
// cached objects and are not modified; adopted ones are replaced by the
// stored result. Objects controlled by someone else are skipped.
func (c *Claimer[T]) Claim(ctx context.Context, candidates []T) ([]T, error) {
	var (
		out  []T
		errs []error
	)
	ownerUID := c.Owner.GetMetadata().GetUid()
	ownerDeleting := c.Owner.GetMetadata().GetDeletionTimestamp() != nil
	for _, obj := range candidates {
		matches := c.Selector.Matches(labels.Set(obj.GetMetadata().GetLabels()))
		ref := ControllerOf(obj)
		switch {
		case ref != nil && ref.GetUid() != ownerUID:
			continue // someone else's
		case ref != nil && matches:
			out = append(out, obj)
		case ref != nil:
			if ownerDeleting {
				continue // the garbage collector takes it from here
			}
			if err := c.release(ctx, obj); err != nil {
				errs = append(errs, err)
			}
		case !matches || ownerDeleting || obj.GetMetadata().GetDeletionTimestamp() != nil:
			continue
		default:
			adopted, err := c.adopt(ctx, obj)
			switch {
			case errors.Is(err, ErrOwnerChanged):
				return out, err
			case client.IsNotFound(err):
			case err != nil:
				errs = append(errs, err)
			default:
				out = append(out, adopted)
			}
		}
	}
	return out, errors.Join(errs...)
}

func (c *Claimer[T]) adopt(ctx context.Context, obj T) (T, error) {
	var zero T
	if !c.adoptChecked {
		c.adoptChecked = true
		if c.CanAdopt != nil {
			c.adoptErr = c.CanAdopt(ctx)
		}
	}
	if c.adoptErr != nil {
		return zero, c.adoptErr
	}
	next := proto.Clone(obj).(T)
	m := next.GetMetadata()
	m.OwnerReferences = append(m.OwnerReferences, NewControllerRef(c.Owner))
	out, err := c.Client.Update(ctx, next)
	if err != nil {
		return zero, fmt.Errorf("adopting %s: %w", kinds.Key(obj), err)
	}
	return out, nil
}

func (c *Claimer[T]) release(ctx context.Context, obj T) error {
	next := proto.Clone(obj).(T)
	m := next.GetMetadata()
	uid := c.Owner.GetMetadata().GetUid()
	m.OwnerReferences = slices.DeleteFunc(m.OwnerReferences, func(r *shoalv1.OwnerReference) bool { return r.GetUid() == uid })
	_, err := c.Client.Update(ctx, next)
	if err != nil && !client.IsNotFound(err) {
		return fmt.Errorf("releasing %s: %w", kinds.Key(obj), err)
	}
	return nil
}

// FreshOwnerCheck returns a CanAdopt that reads the owner through get and
// fails unless it still has the cached owner's uid and is not being
// deleted.
func FreshOwnerCheck[T kinds.Object](owner T, get func(ctx context.Context, namespace, name string) (T, error)) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		m := owner.GetMetadata()
		fresh, err := get(ctx, m.GetNamespace(), m.GetName())
		if client.IsNotFound(err) {
			return ErrOwnerChanged
		}
		if err != nil {
			return fmt.Errorf("reading %s before adopting: %w", kinds.Key(owner), err)
		}
		if fresh.GetMetadata().GetUid() != m.GetUid() || fresh.GetMetadata().GetDeletionTimestamp() != nil {
			return ErrOwnerChanged
		}
		return nil
	}
}

// Resolve returns the owner a controller reference points at when the
// cache (get, keyed "namespace/name") holds it with the same uid; a
// reference to another kind or to a since-recreated owner resolves to
// nothing.
func Resolve[T kinds.Object](get func(key string) (T, bool), kind, namespace string, ref *shoalv1.OwnerReference) (T, bool) {
	var zero T
	if ref == nil || ref.GetKind() != kind {
		return zero, false
	}
	owner, ok := get(namespace + "/" + ref.GetName())
	if !ok || owner.GetMetadata().GetUid() != ref.GetUid() {
		return zero, false
	}
	return owner, true
}

// Selecting returns the owners whose label selector matches set: the
// candidates to adopt an orphan. An owner with an empty or invalid
// selector selects nothing.
func Selecting[T kinds.Object](owners []T, selectorOf func(T) *shoalv1.LabelSelector, set map[string]string) []T {
	var out []T
	for _, o := range owners {
		sel, err := selector.FromLabelSelector(selectorOf(o))
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(set)) {
			out = append(out, o)
		}
	}
	return out
}

// Owners maps the informer events of a controller's children (the pods of
// a ReplicaSet, the ReplicaSets of a Deployment) to the owners that must
// sync because of them, as Kubernetes' ReplicaSet and Deployment
// controllers both do: a child with a controller reference wakes that
// owner; an orphan wakes every owner whose selector matches it, one of
// which may adopt it. Both controllers use it so that the two cannot drift
// apart.
type Owners[O kinds.Object] struct {
	kind       string
	cache      OwnerCache[O]
	selectorOf func(O) *shoalv1.LabelSelector
}

// NewOwners returns the Owners of kind (a reference to another kind
// resolves to nothing) held in cache, selecting children with the
// selector selectorOf returns.
func NewOwners[O kinds.Object](kind string, cache OwnerCache[O], selectorOf func(O) *shoalv1.LabelSelector) Owners[O] {
	return Owners[O]{kind: kind, cache: cache, selectorOf: selectorOf}
}

// OwnerCache is what Owners reads owners from (an informer).
type OwnerCache[O kinds.Object] interface {
	// Get returns the owner keyed "namespace/name".
	Get(key string) (O, bool)
	// ListNamespace returns the owners in one namespace.
	ListNamespace(namespace string) []O
}

// Of returns child's controlling owner when it is cached (see Resolve).
func (w Owners[O]) Of(child kinds.Object) (O, bool) {
	return Resolve(w.cache.Get, w.kind, child.GetMetadata().GetNamespace(), ControllerOf(child))
}

// Added handles a child seen for the first time: owned is called with its
// controlling owner, if cached, else wake with every owner that selects
// it.
func (w Owners[O]) Added(child kinds.Object, owned, wake func(O)) {
	if ControllerOf(child) != nil {
		if o, ok := w.Of(child); ok {
			owned(o)
		}
		return
	}
	for _, o := range w.selecting(child) {
		wake(o)
	}
}

// Updated handles a change of a child (the caller skips resyncs, where
// nothing changed): when its controller reference changed, wake gets the
// former owner; owned is called with its controlling owner, if cached; an
// orphan whose labels or reference changed wakes every owner that now
// selects it.
func (w Owners[O]) Updated(old, cur kinds.Object, owned, wake func(O)) {
	ns := cur.GetMetadata().GetNamespace()
	curRef, oldRef := ControllerOf(cur), ControllerOf(old)
	refChanged := !proto.Equal(curRef, oldRef)
	if refChanged && oldRef != nil {
		if o, ok := Resolve(w.cache.Get, w.kind, ns, oldRef); ok {
			wake(o)
		}
	}
	if curRef != nil {
		if o, ok := Resolve(w.cache.Get, w.kind, ns, curRef); ok {
			owned(o)
		}
		return
	}
	if refChanged || !maps.Equal(old.GetMetadata().GetLabels(), cur.GetMetadata().GetLabels()) {
		for _, o := range w.selecting(cur) {
			wake(o)
		}
	}
}

// selecting returns the owners whose selector matches an orphan's labels.
func (w Owners[O]) selecting(child kinds.Object) []O {
	return Selecting(w.cache.ListNamespace(child.GetMetadata().GetNamespace()), w.selectorOf, child.GetMetadata().GetLabels())
}
