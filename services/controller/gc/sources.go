package gc

import (
	"context"
	"slices"

	"google.golang.org/grpc"

	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/informer"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/services/controller/informers"
	"github.com/shoalmesh/shoal/services/controller/ownerref"
)

// source is one kind the collector sees: its cache and its API, behind
// kind-independent methods.
type source interface {
	kind() kinds.Kind
	// get returns the cached object with key ("namespace/name" or "name").
	get(key string) (kinds.Object, bool)
	// dependents returns the cached objects that have an owner reference
	// with this uid.
	dependents(uid string) []kinds.Object
	// listDependents lists, from the API (not the cache), the objects of
	// namespace ("" for all) with an owner reference with this uid.
	listDependents(ctx context.Context, namespace, uid string) ([]kinds.Object, error)
	// read gets the object from the API (NotFound when absent).
	read(ctx context.Context, namespace, name string) (kinds.Object, error)
	delete(ctx context.Context, namespace, name string, o client.DeleteOptions) error
	// update writes the object's metadata (owner references, finalizers).
	update(ctx context.Context, obj kinds.Object) error
	// watch registers the collector's handlers.
	watch(h informer.Handler[kinds.Object])
}

type typedSource[T kinds.Object] struct {
	inf *informer.Informer[T]
	cli *client.Resource[T]
}

func newSource[T kinds.Object](inf *informer.Informer[T], conn grpc.ClientConnInterface) source {
	return &typedSource[T]{inf: inf, cli: client.For[T](conn)}
}

func (s *typedSource[T]) kind() kinds.Kind { return s.cli.Kind() }

func (s *typedSource[T]) get(key string) (kinds.Object, bool) {
	obj, ok := s.inf.Get(key)
	if !ok {
		return nil, false
	}
	return obj, true
}

func (s *typedSource[T]) dependents(uid string) []kinds.Object {
	objs := s.inf.ByIndex(informers.OwnerUID, uid)
	out := make([]kinds.Object, len(objs))
	for i, o := range objs {
		out[i] = o
	}
	return out
}

func (s *typedSource[T]) listDependents(ctx context.Context, namespace, uid string) ([]kinds.Object, error) {
	if !s.cli.Kind().Namespaced {
		namespace = ""
	}
	res, err := s.cli.List(ctx, client.ListOptions{Namespace: namespace})
	if err != nil {
		return nil, err
	}
	var out []kinds.Object
	for _, o := range res.Items {
		if slices.Contains(ownerref.UIDs(o), uid) {
			out = append(out, o)
		}
	}
	return out, nil
}

func (s *typedSource[T]) read(ctx context.Context, namespace, name string) (kinds.Object, error) {
	obj, err := s.cli.Get(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	return obj, nil
}

func (s *typedSource[T]) delete(ctx context.Context, namespace, name string, o client.DeleteOptions) error {
	_, err := s.cli.Delete(ctx, namespace, name, o)
	return err
}

func (s *typedSource[T]) update(ctx context.Context, obj kinds.Object) error {
	_, err := s.cli.Update(ctx, obj.(T))
	return err
}

func (s *typedSource[T]) watch(h informer.Handler[kinds.Object]) {
	s.inf.AddEventHandler(informer.HandlerFuncs[T]{
		AddFunc:    func(o T) { h.OnAdd(o) },
		UpdateFunc: func(old, cur T) { h.OnUpdate(old, cur) },
		DeleteFunc: func(o T) { h.OnDelete(o) },
	})
}

// sources are every kind the collector covers, owners and dependents alike.
func sources(set *informers.Set, conn grpc.ClientConnInterface) []source {
	return []source{
		newSource(set.Namespaces, conn),
		newSource(set.Nodes, conn),
		newSource(set.Deployments, conn),
		newSource(set.ReplicaSets, conn),
		newSource(set.Pods, conn),
		newSource(set.Services, conn),
		newSource(set.Endpoints, conn),
		newSource(set.ResourceQuotas, conn),
		newSource(set.Leases, conn),
	}
}
