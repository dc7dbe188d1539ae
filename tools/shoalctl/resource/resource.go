// Package resource maps kubectl's resource names (pods, po, deploy, rc...)
// to Shoal kinds, and gives shoalctl one untyped client for every kind on
// top of the SDK's typed one.
package resource

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"google.golang.org/grpc"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// Type is one kind as the command line names it.
type Type struct {
	Kind kinds.Kind
	// Singular is the lower-case name used in output: "deployment/web".
	Singular string
	// Aliases are every other accepted name (plural, short names).
	Aliases []string
	open    func(grpc.ClientConnInterface) Client
}

func typed[T kinds.Object](singular string, aliases ...string) Type {
	var zero T
	k, err := kinds.Of(zero.ProtoReflect().Interface())
	if err != nil {
		panic(err)
	}
	return Type{Kind: k, Singular: singular, Aliases: append([]string{k.Resource}, aliases...),
		open: func(c grpc.ClientConnInterface) Client { return adapter[T]{r: client.For[T](c)} }}
}

// types is every kind with kubectl's names for it; rc is a ReplicaSet, as
// ReplicationControllers become ReplicaSets on apply.
var types = []Type{
	typed[*shoalv1.Pod]("pod", "po"),
	typed[*shoalv1.Deployment]("deployment", "deploy", "deployments.apps", "deployment.apps"),
	typed[*shoalv1.ReplicaSet]("replicaset", "rs", "replicationcontroller", "replicationcontrollers", "rc", "replicasets.apps", "replicaset.apps"),
	typed[*shoalv1.Service]("service", "svc"),
	typed[*shoalv1.Endpoints]("endpoints", "ep"),
	typed[*shoalv1.Node]("node", "no"),
	typed[*shoalv1.Namespace]("namespace", "ns"),
	typed[*shoalv1.Event]("event", "ev"),
	typed[*shoalv1.Lease]("lease", "leases.coordination.k8s.io"),
	typed[*shoalv1.ResourceQuota]("resourcequota", "quota"),
}

// Types lists every type, in the order `shoalctl get` documents them.
func Types() []Type { return types }

// Lookup finds a type by any of its names, case-insensitively.
func Lookup(name string) (Type, error) {
	n := strings.ToLower(name)
	for _, t := range types {
		if n == t.Singular || n == strings.ToLower(t.Kind.Name) {
			return t, nil
		}
		for _, a := range t.Aliases {
			if n == a {
				return t, nil
			}
		}
	}
	return Type{}, fmt.Errorf("the server doesn't have a resource type %q", name)
}

// ForKind finds the type of a kind ("Pod").
func ForKind(kind string) (Type, error) {
	for _, t := range types {
		if t.Kind.Name == kind {
			return t, nil
		}
	}
	return Type{}, fmt.Errorf("resource: unknown kind %q", kind)
}

// Names lists every accepted name, sorted, for shell completion.
func Names() []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range types {
		for _, n := range append([]string{t.Singular}, t.Aliases...) {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Ref is "kind/name" as the user wrote it or as output prints it.
func (t Type) Ref(name string) string { return t.Singular + "/" + name }

// Client opens the type's client.
func (t Type) Client(conn grpc.ClientConnInterface) Client { return t.open(conn) }

// Client is the typed client of one kind with objects as kinds.Object.
type Client interface {
	Create(ctx context.Context, obj kinds.Object) (kinds.Object, error)
	Get(ctx context.Context, namespace, name string) (kinds.Object, error)
	List(ctx context.Context, o client.ListOptions) ([]kinds.Object, string, error)
	Update(ctx context.Context, obj kinds.Object) (kinds.Object, error)
	Delete(ctx context.Context, namespace, name string, o client.DeleteOptions) (kinds.Object, error)
	Watch(ctx context.Context, o client.WatchOptions) (Watch, error)
}

// Watch is an open watch of one kind.
type Watch interface {
	Recv() (shoalv1.WatchEventType, kinds.Object, error)
	Close()
}

type adapter[T kinds.Object] struct{ r *client.Resource[T] }

var _ Client = adapter[*shoalv1.Pod]{}

func (a adapter[T]) Create(ctx context.Context, obj kinds.Object) (kinds.Object, error) {
	return a.r.Create(ctx, obj.(T))
}

func (a adapter[T]) Get(ctx context.Context, namespace, name string) (kinds.Object, error) {
	return a.r.Get(ctx, namespace, name)
}

func (a adapter[T]) List(ctx context.Context, o client.ListOptions) ([]kinds.Object, string, error) {
	res, err := a.r.ListAll(ctx, o)
	if err != nil {
		return nil, "", err
	}
	out := make([]kinds.Object, len(res.Items))
	for i, it := range res.Items {
		out[i] = it
	}
	return out, res.ResourceVersion, nil
}

func (a adapter[T]) Update(ctx context.Context, obj kinds.Object) (kinds.Object, error) {
	return a.r.Update(ctx, obj.(T))
}

func (a adapter[T]) Delete(ctx context.Context, namespace, name string, o client.DeleteOptions) (kinds.Object, error) {
	return a.r.Delete(ctx, namespace, name, o)
}

func (a adapter[T]) Watch(ctx context.Context, o client.WatchOptions) (Watch, error) {
	w, err := a.r.Watch(ctx, o)
	if err != nil {
		return nil, err
	}
	return watchAdapter[T]{w: w}, nil
}

type watchAdapter[T kinds.Object] struct{ w client.Watch[T] }

func (w watchAdapter[T]) Recv() (shoalv1.WatchEventType, kinds.Object, error) {
	ev, err := w.w.Recv()
	if err != nil {
		return 0, nil, err
	}
	return ev.Type, ev.Object, nil
}

func (w watchAdapter[T]) Close() { w.w.Close() }
