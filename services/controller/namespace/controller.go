// Package namespace is the namespace controller: when a namespace is
// deleted (the gateway marks it Terminating and holds it with the
// shoal.io/namespace finalizer) it deletes every object in it, waits until
// they are all gone (pods wait for their node agent to confirm), and then
// clears the finalizer so that the gateway removes the namespace itself.
package namespace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/informer"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/sdk/go/workqueue"
	"github.com/shoalmesh/shoal/services/controller/control"
)

// Name is the controller's name.
const Name = "namespace"

// Finalizer is the gateway's namespace finalizer that this controller
// clears.
const Finalizer = "shoal.io/namespace"

// Event reasons.
const (
	ReasonDeletingContent = "DeletingContent"
	ReasonContentRemoved  = "NamespaceContentRemoved"
	ReasonDeletionFailed  = "NamespaceDeletionContentFailure"
)

// RecheckInterval is how soon a namespace whose objects are still going is
// looked at again.
const RecheckInterval = time.Second

// Controller is the namespace controller.
type Controller struct {
	nss     *informer.Informer[*shoalv1.Namespace]
	nsCli   *client.Resource[*shoalv1.Namespace]
	kinds   []emptier
	queue   control.Queue
	rec     control.Recorder
	log     *slog.Logger
	recheck time.Duration
}

var _ control.Controller = (*Controller)(nil)

// emptier deletes every object of one kind in a namespace.
type emptier struct {
	kind string
	// empty deletes what is not yet being deleted and returns how many
	// objects are left.
	empty func(ctx context.Context, ns string) (remaining int, err error)
}

func emptierFor[T kinds.Object](conn grpc.ClientConnInterface) emptier {
	cli := client.For[T](conn)
	return emptier{kind: cli.Kind().Name, empty: func(ctx context.Context, ns string) (int, error) {
		res, err := cli.ListAll(ctx, client.ListOptions{Namespace: ns})
		if err != nil {
			return 0, fmt.Errorf("listing %s: %w", cli.Kind().Resource, err)
		}
		var errs []error
		for _, obj := range res.Items {
			m := obj.GetMetadata()
			if m.GetDeletionTimestamp() != nil {
				continue
			}
			_, err := cli.Delete(ctx, ns, m.GetName(), client.DeleteOptions{Preconditions: &shoalv1.Preconditions{Uid: m.GetUid()}})
			if err != nil && !client.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("deleting %s %s: %w", cli.Kind().Name, m.GetName(), err))
			}
		}
		return len(res.Items), errors.Join(errs...)
	}}
}

// New builds the controller.
func New(cc *control.Context) *Controller {
	c := &Controller{
		nss:   cc.Informers.Namespaces,
		nsCli: client.For[*shoalv1.Namespace](cc.Conn),
		// Workloads first so that their controllers stop replacing pods.
		kinds: []emptier{
			emptierFor[*shoalv1.Deployment](cc.Conn),
			emptierFor[*shoalv1.ReplicaSet](cc.Conn),
			emptierFor[*shoalv1.Pod](cc.Conn),
			emptierFor[*shoalv1.Service](cc.Conn),
			emptierFor[*shoalv1.Endpoints](cc.Conn),
			emptierFor[*shoalv1.ResourceQuota](cc.Conn),
			emptierFor[*shoalv1.Lease](cc.Conn),
			emptierFor[*shoalv1.Event](cc.Conn),
		},
		queue:   cc.NewQueue(Name),
		rec:     cc.Recorder,
		log:     cc.Logger(Name),
		recheck: RecheckInterval,
	}
	enqueue := func(ns *shoalv1.Namespace) {
		if ns.GetMetadata().GetDeletionTimestamp() != nil {
			c.queue.Add(ns.GetMetadata().GetName())
		}
	}
	c.nss.AddEventHandler(informer.HandlerFuncs[*shoalv1.Namespace]{
		AddFunc:    enqueue,
		UpdateFunc: func(_, ns *shoalv1.Namespace) { enqueue(ns) },
	})
	return c
}

// Name implements control.Controller.
func (c *Controller) Name() string { return Name }

// Run implements control.Controller.
func (c *Controller) Run(ctx context.Context, workers int) {
	workqueue.Run(ctx, c.queue, workers, c.sync, c.log)
}

func (c *Controller) sync(ctx context.Context, name string) error {
	ns, ok := c.nss.Get(name)
	if !ok || ns.GetMetadata().GetDeletionTimestamp() == nil || !slices.Contains(ns.GetMetadata().GetFinalizers(), Finalizer) {
		return nil
	}
	remaining := 0
	var errs []error
	for _, k := range c.kinds {
		n, err := k.empty(ctx, name)
		remaining += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		c.rec.Event(ns, control.Warning, ReasonDeletionFailed, fmt.Sprintf("Failed to delete some objects: %v", err))
		return err
	}
	if remaining > 0 {
		c.rec.Event(ns, control.Normal, ReasonDeletingContent, "Deleting the objects of namespace "+name)
		c.log.DebugContext(ctx, "namespace not empty yet", "namespace", name, "remaining", remaining)
		c.queue.AddAfter(name, c.recheck)
		return nil
	}
	next := proto.Clone(ns).(*shoalv1.Namespace)
	next.Metadata.Finalizers = slices.DeleteFunc(next.Metadata.Finalizers, func(f string) bool { return f == Finalizer })
	next.Status = nil
	if _, err := c.nsCli.Update(ctx, next); err != nil && !client.IsNotFound(err) {
		return fmt.Errorf("clearing the namespace finalizer: %w", err)
	}
	c.rec.Event(ns, control.Normal, ReasonContentRemoved, "All objects of namespace "+name+" are deleted")
	c.log.InfoContext(ctx, "namespace emptied", "namespace", name)
	return nil
}
