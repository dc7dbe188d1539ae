package deployment

import (
	"context"
	"fmt"
	"math"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/sdk/go/rollout"
	"github.com/shoalmesh/shoal/services/controller/conditions"
	"github.com/shoalmesh/shoal/services/controller/control"
)

// A condition's last_probe_time is its last update time (Kubernetes'
// lastUpdateTime): when its reason or message last changed, or, for
// Progressing, when progress was last seen. The progress deadline counts
// from it.

// setCondition sets a Deployment condition; like Kubernetes'
// SetDeploymentCondition it changes nothing when status and reason are
// unchanged, and keeps the transition time when only the reason changes.
func setCondition(conds []*shoalv1.Condition, typ string, status shoalv1.ConditionStatus, reason, message string, now time.Time) []*shoalv1.Condition {
	cur := conditions.Get(conds, typ)
	if cur != nil && cur.GetStatus() == status && cur.GetReason() == reason {
		return conds
	}
	c := &shoalv1.Condition{Type: typ, Status: status, Reason: reason, Message: message, LastProbeTime: timestamppb.New(now), LastTransitionTime: timestamppb.New(now)}
	if cur != nil && cur.GetStatus() == status {
		c.LastTransitionTime = cur.GetLastTransitionTime()
	}
	return append(conditions.Remove(conds, typ), c)
}

func hasProgressDeadline(d *shoalv1.Deployment) bool {
	n := d.GetSpec().ProgressDeadlineSeconds
	return n != nil && *n != math.MaxInt32
}

func progressDeadline(d *shoalv1.Deployment) time.Duration {
	return time.Duration(d.GetSpec().GetProgressDeadlineSeconds()) * time.Second
}

// calculateStatus is the Deployment's status from its ReplicaSets.
func calculateStatus(d *shoalv1.Deployment, allRSs []*shoalv1.ReplicaSet, newRS *shoalv1.ReplicaSet, now time.Time) *shoalv1.DeploymentStatus {
	var rss []*shoalv1.ReplicaSet
	for _, rs := range allRSs {
		if rs != nil {
			rss = append(rss, rs)
		}
	}
	available := sumStatus(rss, (*shoalv1.ReplicaSetStatus).GetAvailableReplicas)
	st := &shoalv1.DeploymentStatus{
		ObservedGeneration:  d.GetMetadata().GetGeneration(),
		Replicas:            sumStatus(rss, (*shoalv1.ReplicaSetStatus).GetReplicas),
		ReadyReplicas:       sumStatus(rss, (*shoalv1.ReplicaSetStatus).GetReadyReplicas),
		AvailableReplicas:   available,
		UnavailableReplicas: max(sumSpec(rss)-available, 0),
		CollisionCount:      d.GetStatus().GetCollisionCount(),
		Conditions:          d.GetStatus().GetConditions(),
	}
	if newRS != nil {
		st.UpdatedReplicas = newRS.GetStatus().GetReplicas()
	}
	if available >= replicas(d)-maxUnavailable(d) {
		st.Conditions = setCondition(st.Conditions, rollout.ConditionAvailable, conditions.True, rollout.ReasonMinAvailable, "Deployment has minimum availability.", now)
	} else {
		st.Conditions = setCondition(st.Conditions, rollout.ConditionAvailable, conditions.False, rollout.ReasonMinUnavailable, "Deployment does not have minimum availability.", now)
	}
	return st
}

// complete: every replica updated and available, no old pods, and the
// latest spec observed.
func complete(d *shoalv1.Deployment, st *shoalv1.DeploymentStatus) bool {
	n := replicas(d)
	return st.GetUpdatedReplicas() == n && st.GetReplicas() == n && st.GetAvailableReplicas() == n &&
		st.GetObservedGeneration() >= d.GetMetadata().GetGeneration()
}

// progressing: st shows progress over the Deployment's current status.
func progressing(d *shoalv1.Deployment, st *shoalv1.DeploymentStatus) bool {
	old := d.GetStatus()
	oldOld := old.GetReplicas() - old.GetUpdatedReplicas()
	newOld := st.GetReplicas() - st.GetUpdatedReplicas()
	return st.GetUpdatedReplicas() > old.GetUpdatedReplicas() || newOld < oldOld ||
		st.GetReadyReplicas() > old.GetReadyReplicas() || st.GetAvailableReplicas() > old.GetAvailableReplicas()
}

// timedOut: no progress for longer than the progress deadline.
func timedOut(d *shoalv1.Deployment, st *shoalv1.DeploymentStatus, now time.Time) bool {
	if !hasProgressDeadline(d) {
		return false
	}
	c := conditions.Get(st.GetConditions(), rollout.ConditionProgressing)
	switch {
	case c == nil || c.GetReason() == rollout.ReasonNewRSAvailable:
		return false
	case c.GetReason() == rollout.ReasonTimedOut:
		return true
	}
	from := c.GetLastProbeTime()
	if from == nil {
		from = c.GetLastTransitionTime()
	}
	return from != nil && from.AsTime().Add(progressDeadline(d)).Before(now)
}

// syncRolloutStatus writes the status of a rolling-out Deployment,
// including the Progressing condition, and requeues it to check the
// deadline.
func (c *Controller) syncRolloutStatus(ctx context.Context, d *shoalv1.Deployment, allRSs []*shoalv1.ReplicaSet, newRS *shoalv1.ReplicaSet) error {
	now := c.now()
	st := calculateStatus(d, allRSs, newRS, now)
	if !hasProgressDeadline(d) {
		st.Conditions = conditions.Remove(st.Conditions, rollout.ConditionProgressing)
	}
	cur := conditions.Get(st.Conditions, rollout.ConditionProgressing)
	isComplete := st.GetReplicas() == st.GetUpdatedReplicas() && cur.GetReason() == rollout.ReasonNewRSAvailable
	if hasProgressDeadline(d) && !isComplete {
		name := "Deployment " + d.GetMetadata().GetName()
		if newRS != nil {
			name = fmt.Sprintf("ReplicaSet %q", newRS.GetMetadata().GetName())
		}
		switch {
		case complete(d, st):
			st.Conditions = setCondition(st.Conditions, rollout.ConditionProgressing, conditions.True, rollout.ReasonNewRSAvailable, name+" has successfully progressed.", now)
		case progressing(d, st):
			cond := &shoalv1.Condition{Type: rollout.ConditionProgressing, Status: conditions.True, Reason: rollout.ReasonRSUpdated,
				Message: name + " is progressing.", LastProbeTime: timestamppb.New(now), LastTransitionTime: timestamppb.New(now)}
			if cur != nil && cur.GetStatus() == conditions.True {
				cond.LastTransitionTime = cur.GetLastTransitionTime()
			}
			st.Conditions = append(conditions.Remove(st.Conditions, rollout.ConditionProgressing), cond)
		case timedOut(d, st, now):
			if cur.GetReason() != rollout.ReasonTimedOut {
				c.rec.Event(d, control.Warning, ReasonDeadlineExceeded, name+" has timed out progressing.")
			}
			st.Conditions = setCondition(st.Conditions, rollout.ConditionProgressing, conditions.False, rollout.ReasonTimedOut, name+" has timed out progressing.", now)
		}
	}
	if f := replicaFailure(allRSs); f != nil {
		st.Conditions = setCondition(st.Conditions, rollout.ConditionReplicaFailure, f.GetStatus(), f.GetReason(), f.GetMessage(), now)
	} else {
		st.Conditions = conditions.Remove(st.Conditions, rollout.ConditionReplicaFailure)
	}
	if err := c.updateStatus(ctx, d, st); err != nil {
		return err
	}
	c.requeueStuck(d, st, now)
	return nil
}

// replicaFailure is the first ReplicaFailure condition of the ReplicaSets.
func replicaFailure(rss []*shoalv1.ReplicaSet) *shoalv1.Condition {
	for _, rs := range rss {
		if f := conditions.Get(rs.GetStatus().GetConditions(), rollout.ConditionReplicaFailure); f != nil {
			return f
		}
	}
	return nil
}

// requeueStuck looks at the Deployment again when its progress deadline
// would pass.
func (c *Controller) requeueStuck(d *shoalv1.Deployment, st *shoalv1.DeploymentStatus, now time.Time) {
	cur := conditions.Get(st.GetConditions(), rollout.ConditionProgressing)
	if !hasProgressDeadline(d) || cur == nil || complete(d, st) || cur.GetReason() == rollout.ReasonTimedOut {
		return
	}
	from := cur.GetLastProbeTime()
	if from == nil {
		return
	}
	after := from.AsTime().Add(progressDeadline(d)).Sub(now)
	if after < time.Second {
		c.queue.Add(kinds.Key(d))
		return
	}
	c.queue.AddAfter(kinds.Key(d), after+time.Second)
}

// syncStatusOnly writes status for a Deployment that is being deleted.
func (c *Controller) syncStatusOnly(ctx context.Context, s *syncState) error {
	newRS, old := splitReplicaSets(s.d, s.rsList)
	return c.updateStatus(ctx, s.d, calculateStatus(s.d, append(old, newRS), newRS, c.now()))
}

// checkPausedConditions records a pause or resume in the Progressing
// condition (the deadline does not run while paused).
func (c *Controller) checkPausedConditions(ctx context.Context, d *shoalv1.Deployment) error {
	if !hasProgressDeadline(d) {
		return nil
	}
	cur := conditions.Get(d.GetStatus().GetConditions(), rollout.ConditionProgressing)
	if cur.GetReason() == rollout.ReasonTimedOut {
		return nil
	}
	paused := cur.GetReason() == rollout.ReasonPaused
	st := proto.Clone(statusOrEmpty(d)).(*shoalv1.DeploymentStatus)
	switch {
	case d.GetSpec().GetPaused() && !paused:
		st.Conditions = setCondition(st.Conditions, rollout.ConditionProgressing, conditions.Unknown, rollout.ReasonPaused, "Deployment is paused", c.now())
	case !d.GetSpec().GetPaused() && paused:
		st.Conditions = setCondition(st.Conditions, rollout.ConditionProgressing, conditions.Unknown, rollout.ReasonResumed, "Deployment is resumed", c.now())
	default:
		return nil
	}
	return c.updateStatus(ctx, d, st)
}
