package replicaset

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/sdk/go/selector"
	"github.com/shoalmesh/shoal/services/controller/control"
	"github.com/shoalmesh/shoal/services/controller/expectations"
	"github.com/shoalmesh/shoal/services/controller/informers"
	"github.com/shoalmesh/shoal/services/controller/ownerref"
	"github.com/shoalmesh/shoal/services/controller/podstate"
)

// Event reasons.
const (
	ReasonSuccessfulCreate = "SuccessfulCreate"
	ReasonFailedCreate     = "FailedCreate"
	ReasonSuccessfulDelete = "SuccessfulDelete"
	ReasonFailedDelete     = "FailedDelete"
	ReasonSelectorInvalid  = "SelectorInvalid"
)

// ConditionReplicaFailure is set when pods could not be created or deleted.
const ConditionReplicaFailure = "ReplicaFailure"

// sync reconciles one ReplicaSet: claim its pods, create or delete the
// difference (unless earlier writes are still unobserved), write status.
func (c *Controller) sync(ctx context.Context, key string) (err error) {
	cached, ok := c.rss.Get(key)
	if !ok {
		c.exp.Forget(key)
		return nil
	}
	// The pods this sync creates join the trace of the request that last
	// changed the ReplicaSet (and, through it, its Deployment).
	ctx, end := control.StartSync(ctx, c.tracer, "replicaset.Sync", cached)
	defer func() { end(err) }()
	log := c.log.With("replicaset", key)
	sel, err := selector.FromLabelSelector(cached.GetSpec().GetSelector())
	if err != nil || sel.Empty() {
		// The gateway validates selectors; an empty or broken one would
		// select every pod in the namespace, so do nothing with it.
		c.rec.Event(cached, control.Warning, ReasonSelectorInvalid, fmt.Sprintf("invalid selector: %v", err))
		return nil
	}
	needsSync := c.exp.Satisfied(key) && cached.GetMetadata().GetDeletionTimestamp() == nil

	ns := cached.GetMetadata().GetNamespace()
	candidates := append(c.pods.ByIndex(informers.ControllerUID, cached.GetMetadata().GetUid()), c.pods.ByIndex(informers.Orphans, ns)...)
	active := candidates[:0:0]
	for _, p := range candidates {
		if podstate.IsActive(p) {
			active = append(active, p)
		}
	}
	claimer := &ownerref.Claimer[*shoalv1.Pod]{
		Owner: cached, Selector: sel, Client: c.podCli,
		CanAdopt: ownerref.FreshOwnerCheck(cached, func(ctx context.Context, ns, name string) (*shoalv1.ReplicaSet, error) {
			return c.rsCli.Get(ctx, ns, name)
		}),
	}
	pods, err := claimer.Claim(ctx, active)
	if errors.Is(err, ownerref.ErrOwnerChanged) {
		return nil // deleted meanwhile; its delete event brings us back
	}
	if err != nil {
		return fmt.Errorf("claiming pods: %w", err)
	}

	var manageErr error
	if needsSync {
		manageErr = c.manageReplicas(ctx, pods, cached)
	} else if cached.GetMetadata().GetDeletionTimestamp() == nil {
		adds, dels := c.exp.Pending(key)
		log.DebugContext(ctx, "waiting for earlier writes to be observed", "creates", adds, "deletes", dels)
		// Informer events normally end the wait; this covers a lost one.
		c.queue.AddAfter(key, expectations.DefaultTTL+time.Second)
	}

	now := c.now()
	st := calculateStatus(cached, pods, manageErr, now)
	if !proto.Equal(st, cached.GetStatus()) {
		next := &shoalv1.ReplicaSet{Metadata: &shoalv1.ObjectMeta{Namespace: ns, Name: cached.GetMetadata().GetName()}, Status: st}
		if _, err := c.rsCli.UpdateStatus(ctx, next); err != nil && !client.IsNotFound(err) {
			return errors.Join(manageErr, fmt.Errorf("updating status: %w", err))
		}
	}
	replicas := cached.GetSpec().GetReplicas()
	if minReady := cached.GetSpec().GetMinReadySeconds(); manageErr == nil && minReady > 0 &&
		st.GetReadyReplicas() == replicas && st.GetAvailableReplicas() != replicas {
		c.queue.AddAfter(key, time.Duration(minReady)*time.Second)
	}
	return manageErr
}

// manageReplicas creates or deletes pods until len(pods) == replicas.
func (c *Controller) manageReplicas(ctx context.Context, pods []*shoalv1.Pod, rs *shoalv1.ReplicaSet) error {
	key := kinds.Key(rs)
	diff := len(pods) - int(rs.GetSpec().GetReplicas())
	switch {
	case diff < 0:
		n := min(-diff, BurstReplicas)
		c.exp.Expect(key, n, nil)
		done, err := slowStartBatch(n, 1, func() error { return c.createPod(ctx, rs) })
		for range n - done {
			c.exp.CreationObserved(key) // failed or skipped: will never be seen
		}
		return err
	case diff > 0:
		n := min(diff, BurstReplicas)
		victims := podsToDelete(pods, n)
		keys := make([]string, len(victims))
		for i, p := range victims {
			keys[i] = kinds.Key(p)
		}
		c.exp.Expect(key, 0, keys)
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []error
		)
		for _, p := range victims {
			wg.Go(func() {
				if err := c.deletePodOf(ctx, rs, p); err != nil {
					c.exp.DeletionObserved(key, kinds.Key(p))
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	return nil
}

func (c *Controller) createPod(ctx context.Context, rs *shoalv1.ReplicaSet) error {
	p := podFromTemplate(rs)
	out, err := c.podCli.Create(ctx, p)
	if err != nil {
		if client.Code(err) == codes.FailedPrecondition {
			// The namespace is terminating: nothing to retry, and no pod
			// will ever be observed.
			c.exp.CreationObserved(kinds.Key(rs))
			return nil
		}
		c.rec.Event(rs, control.Warning, ReasonFailedCreate, fmt.Sprintf("Error creating: %v", err))
		return fmt.Errorf("creating pod: %w", err)
	}
	c.rec.Event(rs, control.Normal, ReasonSuccessfulCreate, "Created pod: "+out.GetMetadata().GetName())
	return nil
}

func (c *Controller) deletePodOf(ctx context.Context, rs, p kinds.Object) error {
	m := p.GetMetadata()
	_, err := c.podCli.Delete(ctx, m.GetNamespace(), m.GetName(), client.DeleteOptions{
		Preconditions: &shoalv1.Preconditions{Uid: m.GetUid()},
	})
	if client.IsNotFound(err) {
		return nil // gone already; DeletionObserved comes with the event
	}
	if err != nil {
		c.rec.Event(rs, control.Warning, ReasonFailedDelete, fmt.Sprintf("Error deleting pod %s: %v", m.GetName(), err))
		return fmt.Errorf("deleting pod %s: %w", m.GetName(), err)
	}
	c.rec.Event(rs, control.Normal, ReasonSuccessfulDelete, "Deleted pod: "+m.GetName())
	return nil
}

// podFromTemplate is a new pod of rs: the template's labels, annotations and
// spec, a generated name and rs as its controller.
func podFromTemplate(rs *shoalv1.ReplicaSet) *shoalv1.Pod {
	t := rs.GetSpec().GetTemplate()
	p := &shoalv1.Pod{
		Metadata: &shoalv1.ObjectMeta{
			Namespace:       rs.GetMetadata().GetNamespace(),
			GenerateName:    rs.GetMetadata().GetName() + "-",
			Labels:          maps.Clone(t.GetMetadata().GetLabels()),
			Annotations:     maps.Clone(t.GetMetadata().GetAnnotations()),
			OwnerReferences: []*shoalv1.OwnerReference{ownerref.NewControllerRef(rs)},
		},
	}
	if t.GetSpec() != nil {
		p.Spec = proto.Clone(t.GetSpec()).(*shoalv1.PodSpec)
	}
	return p
}

// slowStartBatch calls fn count times, in batches that double from
// initial, stopping at the first batch with a failure (Kubernetes'
// slowStartBatch: a quota or validation error costs one call, not
// hundreds). It returns how many calls succeeded and the first error.
func slowStartBatch(count, initial int, fn func() error) (int, error) {
	remaining, successes := count, 0
	for batch := min(remaining, initial); batch > 0; batch = min(2*batch, remaining) {
		errCh := make(chan error, batch)
		var wg sync.WaitGroup
		for range batch {
			wg.Go(func() {
				if err := fn(); err != nil {
					errCh <- err
				}
			})
		}
		wg.Wait()
		successes += batch - len(errCh)
		if len(errCh) > 0 {
			return successes, <-errCh
		}
		remaining -= batch
	}
	return successes, nil
}
