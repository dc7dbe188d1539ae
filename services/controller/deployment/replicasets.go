package deployment

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/sdk/go/rollout"
	"github.com/shoalmesh/shoal/services/controller/conditions"
	"github.com/shoalmesh/shoal/services/controller/control"
	"github.com/shoalmesh/shoal/services/controller/ownerref"
)

// errCollision makes the sync retry after a template hash collision; the
// bumped collision count gives the next attempt another name.
var errCollision = errors.New("deployment: replica set name taken by a different template")

// findNewReplicaSet returns the ReplicaSet whose template is the
// Deployment's (the oldest one if, rarely, several are), or nil.
func findNewReplicaSet(d *shoalv1.Deployment, rsList []*shoalv1.ReplicaSet) *shoalv1.ReplicaSet {
	for _, rs := range byCreation(rsList) {
		if equalIgnoreHash(rs.GetSpec().GetTemplate(), d.GetSpec().GetTemplate()) {
			return rs
		}
	}
	return nil
}

// splitReplicaSets separates the new ReplicaSet from the old ones.
func splitReplicaSets(d *shoalv1.Deployment, rsList []*shoalv1.ReplicaSet) (*shoalv1.ReplicaSet, []*shoalv1.ReplicaSet) {
	newRS := findNewReplicaSet(d, rsList)
	var old []*shoalv1.ReplicaSet
	for _, rs := range rsList {
		if rs != newRS {
			old = append(old, rs)
		}
	}
	return newRS, old
}

func maxRevision(rss []*shoalv1.ReplicaSet) int64 {
	var n int64
	for _, rs := range rss {
		n = max(n, rollout.RevisionOf(rs.GetMetadata()))
	}
	return n
}

// allReplicaSets returns the new ReplicaSet (created when create is set and
// there is none) and the old ones, bringing the new one's revision and
// annotations and the Deployment's revision up to date.
func (c *Controller) allReplicaSets(ctx context.Context, s *syncState, create bool) (*shoalv1.ReplicaSet, []*shoalv1.ReplicaSet, error) {
	existing, old := splitReplicaSets(s.d, s.rsList)
	newRS, err := c.newReplicaSet(ctx, s, existing, old, create)
	if err != nil {
		return nil, nil, err
	}
	return newRS, old, nil
}

func (c *Controller) newReplicaSet(ctx context.Context, s *syncState, existing *shoalv1.ReplicaSet, old []*shoalv1.ReplicaSet, create bool) (*shoalv1.ReplicaSet, error) {
	d := s.d
	newRevision := maxRevision(old) + 1
	if existing != nil {
		rs := proto.Clone(existing).(*shoalv1.ReplicaSet)
		changed := setNewReplicaSetAnnotations(d, rs, newRevision, true)
		if rs.GetSpec().GetMinReadySeconds() != d.GetSpec().GetMinReadySeconds() {
			rs.Spec.MinReadySeconds = d.GetSpec().GetMinReadySeconds()
			changed = true
		}
		if changed {
			out, err := c.updateReplicaSet(ctx, d, rs)
			if err != nil {
				return nil, err
			}
			rs = out
			s.replace(rs)
		}
		if err := c.setDeploymentRevision(ctx, d, rollout.RevisionOf(rs.GetMetadata())); err != nil {
			return nil, err
		}
		if hasProgressDeadline(d) && conditions.Get(d.GetStatus().GetConditions(), rollout.ConditionProgressing) == nil {
			st := proto.Clone(statusOrEmpty(d)).(*shoalv1.DeploymentStatus)
			st.Conditions = setCondition(st.Conditions, rollout.ConditionProgressing, conditions.True, rollout.ReasonFoundNewRS,
				fmt.Sprintf("Found new replica set %q", rs.GetMetadata().GetName()), c.now())
			if err := c.updateStatus(ctx, d, st); err != nil {
				return nil, err
			}
		}
		return rs, nil
	}
	if !create {
		return nil, nil
	}

	hash := templateHash(d.GetSpec().GetTemplate(), d.GetStatus().GetCollisionCount())
	tmpl := withHash(d.GetSpec().GetTemplate(), hash)
	rs := &shoalv1.ReplicaSet{
		Metadata: &shoalv1.ObjectMeta{
			Namespace:       d.GetMetadata().GetNamespace(),
			Name:            d.GetMetadata().GetName() + "-" + hash,
			Labels:          maps.Clone(tmpl.GetMetadata().GetLabels()),
			OwnerReferences: []*shoalv1.OwnerReference{ownerref.NewControllerRef(d)},
		},
		Spec: &shoalv1.ReplicaSetSpec{
			Replicas:        proto.Int32(0),
			Selector:        selectorWithHash(d.GetSpec().GetSelector(), hash),
			Template:        tmpl,
			MinReadySeconds: d.GetSpec().GetMinReadySeconds(),
		},
	}
	size := newRSNewReplicas(d, append(slices.Clone(old), rs), rs, s.counts())
	rs.Spec.Replicas = proto.Int32(size)
	setNewReplicaSetAnnotations(d, rs, newRevision, false)

	created, err := c.rsCli.Create(ctx, rs)
	alreadyExists := false
	switch {
	case client.IsAlreadyExists(err):
		// Either our own ReplicaSet that the cache has not shown yet, or a
		// hash collision with a different template.
		have, gerr := c.rsCli.Get(ctx, rs.GetMetadata().GetNamespace(), rs.GetMetadata().GetName())
		if gerr != nil {
			return nil, fmt.Errorf("reading existing replica set: %w", gerr)
		}
		if ownerref.IsControlledBy(have, d) && equalIgnoreHash(have.GetSpec().GetTemplate(), d.GetSpec().GetTemplate()) {
			created, alreadyExists = have, true
			break
		}
		st := proto.Clone(statusOrEmpty(d)).(*shoalv1.DeploymentStatus)
		st.CollisionCount++
		c.rec.Event(d, control.Warning, ReasonHashCollision, fmt.Sprintf("Replica set name %s is taken; retrying with collision count %d", rs.GetMetadata().GetName(), st.CollisionCount))
		if err := c.updateStatus(ctx, d, st); err != nil {
			return nil, err
		}
		return nil, errCollision
	case err != nil:
		c.rec.Event(d, control.Warning, ReasonFailedCreate, fmt.Sprintf("Failed to create new replica set %q: %v", rs.GetMetadata().GetName(), err))
		if hasProgressDeadline(d) {
			st := proto.Clone(statusOrEmpty(d)).(*shoalv1.DeploymentStatus)
			st.Conditions = setCondition(st.Conditions, rollout.ConditionProgressing, conditions.False, rollout.ReasonFailedRSCreate,
				fmt.Sprintf("Failed to create new replica set %q: %v", rs.GetMetadata().GetName(), err), c.now())
			_ = c.updateStatus(ctx, d, st)
		}
		return nil, fmt.Errorf("creating replica set: %w", err)
	}
	c.writes.ExpectVersion(kinds.Key(d), rsWriteKey(created), created.GetMetadata().GetResourceVersion())
	s.replace(created)
	if !alreadyExists && size > 0 {
		c.rec.Event(d, control.Normal, ReasonScalingReplicaSet, fmt.Sprintf("Scaled up replica set %s from 0 to %d", created.GetMetadata().GetName(), size))
	}
	if err := c.setDeploymentRevision(ctx, d, newRevision); err != nil {
		return nil, err
	}
	if !alreadyExists && hasProgressDeadline(d) {
		st := proto.Clone(statusOrEmpty(d)).(*shoalv1.DeploymentStatus)
		st.Conditions = setCondition(st.Conditions, rollout.ConditionProgressing, conditions.True, rollout.ReasonNewRSCreated,
			fmt.Sprintf("Created new replica set %q", created.GetMetadata().GetName()), c.now())
		if err := c.updateStatus(ctx, d, st); err != nil {
			return nil, err
		}
	}
	return created, nil
}

// setNewReplicaSetAnnotations brings the new ReplicaSet's revision,
// change cause and size annotations up to date; it reports a change.
func setNewReplicaSetAnnotations(d *shoalv1.Deployment, rs *shoalv1.ReplicaSet, newRevision int64, exists bool) bool {
	m := rs.GetMetadata()
	m.Annotations = maps.Clone(m.Annotations)
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	changed := false
	if rollout.RevisionOf(m) < newRevision {
		m.Annotations[rollout.RevisionAnnotation] = strconv.FormatInt(newRevision, 10)
		changed = true
	}
	if cause, ok := d.GetMetadata().GetAnnotations()[rollout.ChangeCauseAnnotation]; ok && m.Annotations[rollout.ChangeCauseAnnotation] != cause {
		m.Annotations[rollout.ChangeCauseAnnotation] = cause
		changed = true
	}
	// Only a ReplicaSet about to be created gets its size annotations here;
	// an existing one keeps them until it is scaled, so that a change of
	// replicas is seen as a scaling event.
	if !exists {
		setReplicasAnnotations(rs, replicas(d), replicas(d)+maxSurge(d))
		changed = true
	}
	return changed
}

// setReplicasAnnotations records the Deployment's size on rs; it reports a
// change.
func setReplicasAnnotations(rs *shoalv1.ReplicaSet, desired, maxReplicas int32) bool {
	m := rs.GetMetadata()
	want := map[string]string{
		DesiredReplicasAnnotation: strconv.FormatInt(int64(desired), 10),
		MaxReplicasAnnotation:     strconv.FormatInt(int64(maxReplicas), 10),
	}
	changed := false
	for k, v := range want {
		if m.Annotations[k] != v {
			if m.Annotations == nil {
				m.Annotations = map[string]string{}
			}
			m.Annotations[k] = v
			changed = true
		}
	}
	return changed
}

// setDeploymentRevision records the current revision on the Deployment.
func (c *Controller) setDeploymentRevision(ctx context.Context, d *shoalv1.Deployment, revision int64) error {
	if revision <= 0 || rollout.RevisionOf(d.GetMetadata()) == revision {
		return nil
	}
	next := proto.Clone(d).(*shoalv1.Deployment)
	if next.Metadata.Annotations == nil {
		next.Metadata.Annotations = map[string]string{}
	}
	next.Metadata.Annotations[rollout.RevisionAnnotation] = strconv.FormatInt(revision, 10)
	next.Status = nil
	out, err := c.dCli.Update(ctx, next)
	if err != nil {
		return fmt.Errorf("recording revision %d: %w", revision, err)
	}
	d.Metadata = out.GetMetadata()
	c.writes.ExpectVersion(kinds.Key(d), dWriteKey(d), out.GetMetadata().GetResourceVersion())
	return nil
}

func (c *Controller) updateReplicaSet(ctx context.Context, d *shoalv1.Deployment, rs *shoalv1.ReplicaSet) (*shoalv1.ReplicaSet, error) {
	next := proto.Clone(rs).(*shoalv1.ReplicaSet)
	next.Status = nil
	out, err := c.rsCli.Update(ctx, next)
	if err != nil {
		return nil, fmt.Errorf("updating replica set %s: %w", rs.GetMetadata().GetName(), err)
	}
	c.writes.ExpectVersion(kinds.Key(d), rsWriteKey(out), out.GetMetadata().GetResourceVersion())
	return out, nil
}

// scaleReplicaSet sets rs's size (and size annotations) and records an
// event on d; it reports whether the size changed.
func (c *Controller) scaleReplicaSet(ctx context.Context, rs *shoalv1.ReplicaSet, size int32, d *shoalv1.Deployment) (bool, *shoalv1.ReplicaSet, error) {
	from := specReplicas(rs)
	next := proto.Clone(rs).(*shoalv1.ReplicaSet)
	annotations := setReplicasAnnotations(next, replicas(d), replicas(d)+maxSurge(d))
	if from == size && !annotations {
		return false, rs, nil
	}
	next.Spec.Replicas = proto.Int32(size)
	out, err := c.updateReplicaSet(ctx, d, next)
	if err != nil {
		return false, nil, err
	}
	if from != size {
		dir := "up"
		if size < from {
			dir = "down"
		}
		c.rec.Event(d, control.Normal, ReasonScalingReplicaSet, fmt.Sprintf("Scaled %s replica set %s from %d to %d", dir, rs.GetMetadata().GetName(), from, size))
	}
	return from != size, out, nil
}

// cleanup deletes the oldest old ReplicaSets beyond revision_history_limit,
// once they have no pods.
func (c *Controller) cleanup(ctx context.Context, d *shoalv1.Deployment, old []*shoalv1.ReplicaSet) error {
	if d.GetSpec().RevisionHistoryLimit == nil {
		return nil
	}
	var alive []*shoalv1.ReplicaSet
	for _, rs := range old {
		if rs.GetMetadata().GetDeletionTimestamp() == nil {
			alive = append(alive, rs)
		}
	}
	diff := len(alive) - int(d.GetSpec().GetRevisionHistoryLimit())
	if diff <= 0 {
		return nil
	}
	slices.SortStableFunc(alive, func(a, b *shoalv1.ReplicaSet) int {
		ra, rb := rollout.RevisionOf(a.GetMetadata()), rollout.RevisionOf(b.GetMetadata())
		if ra != rb {
			return int(ra - rb)
		}
		return a.GetMetadata().GetCreationTimestamp().AsTime().Compare(b.GetMetadata().GetCreationTimestamp().AsTime())
	})
	var errs []error
	for _, rs := range alive[:diff] {
		if rs.GetStatus().GetReplicas() != 0 || specReplicas(rs) != 0 ||
			rs.GetMetadata().GetGeneration() > rs.GetStatus().GetObservedGeneration() {
			continue // still has pods, or its controller has not caught up
		}
		m := rs.GetMetadata()
		_, err := c.rsCli.Delete(ctx, m.GetNamespace(), m.GetName(), client.DeleteOptions{Preconditions: &shoalv1.Preconditions{Uid: m.GetUid()}})
		if err != nil && !client.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting old replica set %s: %w", m.GetName(), err))
			continue
		}
		c.writes.ExpectGone(kinds.Key(d), rsWriteKey(rs))
	}
	return errors.Join(errs...)
}

func statusOrEmpty(d *shoalv1.Deployment) *shoalv1.DeploymentStatus {
	if d.GetStatus() == nil {
		return &shoalv1.DeploymentStatus{}
	}
	return d.GetStatus()
}
