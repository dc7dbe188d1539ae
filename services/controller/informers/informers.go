// Package informers is the controller manager's one set of shared
// informers: a single list+watch cache per kind, with the indexes the
// controllers look objects up by. Every controller reads from the same
// caches and registers its own handlers, so a pod change costs one watch
// event however many controllers care about it.
package informers

import (
	"context"
	"log/slog"
	"sync"

	"google.golang.org/grpc"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/informer"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/services/controller/ownerref"
)

// Index names.
const (
	// OwnerUID indexes objects by the uid of each of their owners.
	OwnerUID = "owner-uid"
	// ControllerUID indexes objects by the uid of their controller.
	ControllerUID = "controller-uid"
	// Orphans indexes objects without a controller by namespace.
	Orphans = "orphans"
	// NodeName indexes pods by spec.node_name ("" for unbound pods).
	NodeName = "node-name"
)

// Set holds one informer per kind the controllers watch.
type Set struct {
	Pods           *informer.Informer[*shoalv1.Pod]
	Nodes          *informer.Informer[*shoalv1.Node]
	Namespaces     *informer.Informer[*shoalv1.Namespace]
	Services       *informer.Informer[*shoalv1.Service]
	Endpoints      *informer.Informer[*shoalv1.Endpoints]
	ReplicaSets    *informer.Informer[*shoalv1.ReplicaSet]
	Deployments    *informer.Informer[*shoalv1.Deployment]
	Leases         *informer.Informer[*shoalv1.Lease]
	ResourceQuotas *informer.Informer[*shoalv1.ResourceQuota]
}

// New builds the informers over conn; Run starts them.
func New(conn grpc.ClientConnInterface, log *slog.Logger) *Set {
	return &Set{
		Pods: newInformer[*shoalv1.Pod](conn, log,
			informer.WithIndex(NodeName, func(p *shoalv1.Pod) []string { return []string{p.GetSpec().GetNodeName()} })),
		Nodes:          newInformer[*shoalv1.Node](conn, log),
		Namespaces:     newInformer[*shoalv1.Namespace](conn, log),
		Services:       newInformer[*shoalv1.Service](conn, log),
		Endpoints:      newInformer[*shoalv1.Endpoints](conn, log),
		ReplicaSets:    newInformer[*shoalv1.ReplicaSet](conn, log),
		Deployments:    newInformer[*shoalv1.Deployment](conn, log),
		Leases:         newInformer[*shoalv1.Lease](conn, log),
		ResourceQuotas: newInformer[*shoalv1.ResourceQuota](conn, log),
	}
}

// newInformer adds the owner indexes every kind gets (the garbage collector
// and the claiming controllers use them).
func newInformer[T kinds.Object](conn grpc.ClientConnInterface, log *slog.Logger, extra ...informer.Option) *informer.Informer[T] {
	opts := []informer.Option{
		informer.WithLogger(log),
		informer.WithIndex(OwnerUID, func(o T) []string { return ownerref.UIDs(o) }),
		informer.WithIndex(ControllerUID, func(o T) []string { return ownerref.ControllerUID(o) }),
		informer.WithIndex(Orphans, func(o T) []string { return ownerref.OrphanNamespace(o) }),
	}
	return informer.New(client.For[T](conn), append(opts, extra...)...)
}

type runner interface {
	Run(ctx context.Context) error
	WaitForSync(ctx context.Context) bool
}

func (s *Set) all() []runner {
	return []runner{s.Pods, s.Nodes, s.Namespaces, s.Services, s.Endpoints, s.ReplicaSets, s.Deployments, s.Leases, s.ResourceQuotas}
}

// Run runs every informer until ctx is done and waits for them to stop.
func (s *Set) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, inf := range s.all() {
		wg.Go(func() { _ = inf.Run(ctx) })
	}
	wg.Wait()
}

// WaitForSync blocks until every informer has listed once (true) or ctx is
// done (false).
func (s *Set) WaitForSync(ctx context.Context) bool {
	for _, inf := range s.all() {
		if !inf.WaitForSync(ctx) {
			return false
		}
	}
	return true
}
