// Package rollout is the client side of Deployment rollouts, as kubectl's
// `rollout` commands do it: the revision history lives in the Deployment's
// ReplicaSets (each carries the revision annotation), Undo copies an older
// ReplicaSet's pod template back into the Deployment, and Status tells
// whether a rollout has finished.
//
//	d, err := rollout.Undo(ctx, conn, "default", "greeter", 0) // to the previous revision
//	hist, err := rollout.History(ctx, conn, "default", "greeter")
//	st, err := rollout.Status(ctx, conn, "default", "greeter")
//	if st.Done { ... }
//
// The Deployment controller (services/controller/deployment) writes the
// annotations and labels named here; this package only reads them and edits
// the Deployment's spec.
package rollout

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
)

// Names the Deployment controller writes and this package reads.
const (
	// RevisionAnnotation holds a ReplicaSet's (and its Deployment's current)
	// revision, a decimal number that grows with every rollout.
	RevisionAnnotation = "deployment.shoal.io/revision"
	// ChangeCauseAnnotation, when a user sets it on the Deployment, is
	// copied to the ReplicaSet of that revision and shown by History.
	ChangeCauseAnnotation = "deployment.shoal.io/change-cause"
	// PodTemplateHashLabel is added to a ReplicaSet's selector, template and
	// pods so that the ReplicaSets of one Deployment never share pods.
	PodTemplateHashLabel = "pod-template-hash"
)

// Condition types and reasons of a Deployment's status.
const (
	ConditionAvailable      = "Available"
	ConditionProgressing    = "Progressing"
	ConditionReplicaFailure = "ReplicaFailure"

	ReasonNewRSAvailable  = "NewReplicaSetAvailable"
	ReasonTimedOut        = "ProgressDeadlineExceeded"
	ReasonPaused          = "DeploymentPaused"
	ReasonResumed         = "DeploymentResumed"
	ReasonRSUpdated       = "ReplicaSetUpdated"
	ReasonNewRSCreated    = "NewReplicaSetCreated"
	ReasonFoundNewRS      = "FoundNewReplicaSet"
	ReasonFailedRSCreate  = "ReplicaSetCreateError"
	ReasonMinAvailable    = "MinimumReplicasAvailable"
	ReasonMinUnavailable  = "MinimumReplicasUnavailable"
	ReasonRollbackDone    = "DeploymentRollback"
	ReasonRollbackSkipped = "DeploymentRollbackSkipped"
)

// ErrRevisionNotFound is returned by Undo for a revision no ReplicaSet has.
var ErrRevisionNotFound = errors.New("rollout: revision not found")

// ErrNoPreviousRevision is returned by Undo(…, 0) when there is nothing to
// go back to.
var ErrNoPreviousRevision = errors.New("rollout: no previous revision")

// Revision is one entry of a Deployment's history.
type Revision struct {
	Number      int64
	ReplicaSet  *shoalv1.ReplicaSet
	ChangeCause string
}

// Template is the revision's pod template without the pod-template-hash
// label: what the Deployment's template was at that revision.
func (r Revision) Template() *shoalv1.PodTemplateSpec {
	return StripHash(r.ReplicaSet.GetSpec().GetTemplate())
}

// StripHash returns a copy of t without the pod-template-hash label.
func StripHash(t *shoalv1.PodTemplateSpec) *shoalv1.PodTemplateSpec {
	if t == nil {
		return nil
	}
	out := proto.Clone(t).(*shoalv1.PodTemplateSpec)
	if out.GetMetadata() != nil {
		delete(out.Metadata.Labels, PodTemplateHashLabel)
		if len(out.Metadata.Labels) == 0 {
			out.Metadata.Labels = nil
		}
	}
	return out
}

// RevisionOf reads an object's revision annotation (0 when absent or
// malformed).
func RevisionOf(m *shoalv1.ObjectMeta) int64 {
	n, err := strconv.ParseInt(m.GetAnnotations()[RevisionAnnotation], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// History returns the revisions of a Deployment, oldest first: one per
// ReplicaSet it controls that carries a revision.
func History(ctx context.Context, conn grpc.ClientConnInterface, namespace, name string) ([]Revision, error) {
	d, err := client.For[*shoalv1.Deployment](conn).Get(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	return history(ctx, conn, d)
}

func history(ctx context.Context, conn grpc.ClientConnInterface, d *shoalv1.Deployment) ([]Revision, error) {
	res, err := client.For[*shoalv1.ReplicaSet](conn).ListAll(ctx, client.ListOptions{Namespace: d.GetMetadata().GetNamespace()})
	if err != nil {
		return nil, fmt.Errorf("rollout: listing replica sets: %w", err)
	}
	var out []Revision
	for _, rs := range res.Items {
		owned := slices.ContainsFunc(rs.GetMetadata().GetOwnerReferences(), func(r *shoalv1.OwnerReference) bool {
			return r.GetController() && r.GetUid() == d.GetMetadata().GetUid()
		})
		if !owned {
			continue
		}
		if n := RevisionOf(rs.GetMetadata()); n > 0 {
			out = append(out, Revision{Number: n, ReplicaSet: rs, ChangeCause: rs.GetMetadata().GetAnnotations()[ChangeCauseAnnotation]})
		}
	}
	slices.SortFunc(out, func(a, b Revision) int { return int(a.Number - b.Number) })
	return out, nil
}

// Undo rolls a Deployment back to toRevision, or to the revision before the
// current one when toRevision is 0, by copying that revision's pod template
// into the Deployment's spec (kubectl rollout undo). The controller then
// rolls out as for any template change, reusing the old ReplicaSet, which
// becomes the newest revision. When the Deployment already runs that
// template nothing is written. A concurrent change of the Deployment makes
// Undo fail with ABORTED rather than overwrite it.
func Undo(ctx context.Context, conn grpc.ClientConnInterface, namespace, name string, toRevision int64) (*shoalv1.Deployment, error) {
	deployments := client.For[*shoalv1.Deployment](conn)
	d, err := deployments.Get(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	if d.GetSpec().GetPaused() {
		return nil, fmt.Errorf("rollout: deployment %s/%s is paused; resume it before undoing", namespace, name)
	}
	hist, err := history(ctx, conn, d)
	if err != nil {
		return nil, err
	}
	target, err := pick(hist, toRevision)
	if err != nil {
		return nil, err
	}
	tmpl := target.Template()
	if proto.Equal(tmpl, d.GetSpec().GetTemplate()) {
		return d, nil // already there: kubectl's "skipped rollback"
	}
	next := proto.Clone(d).(*shoalv1.Deployment)
	next.Spec.Template = tmpl
	if cause := target.ChangeCause; cause != "" {
		if next.Metadata.Annotations == nil {
			next.Metadata.Annotations = map[string]string{}
		}
		next.Metadata.Annotations[ChangeCauseAnnotation] = cause
	} else {
		delete(next.Metadata.Annotations, ChangeCauseAnnotation)
	}
	return deployments.Update(ctx, next)
}

// pick finds revision n, or for n == 0 the highest revision below the
// newest one.
func pick(hist []Revision, n int64) (Revision, error) {
	if n < 0 {
		return Revision{}, fmt.Errorf("rollout: revision %d: must not be negative", n)
	}
	if n == 0 {
		if len(hist) < 2 {
			return Revision{}, ErrNoPreviousRevision
		}
		return hist[len(hist)-2], nil
	}
	for _, r := range hist {
		if r.Number == n {
			return r, nil
		}
	}
	return Revision{}, fmt.Errorf("%w: %d", ErrRevisionNotFound, n)
}

// RolloutStatus says where a Deployment's rollout is.
type RolloutStatus struct {
	// Done is true once every replica runs the current template and is
	// available, and no old replicas are left.
	Done bool
	// Message is kubectl's one-line description.
	Message string
	// Revision is the Deployment's current revision (0 before the
	// controller has seen it).
	Revision int64
}

// ErrProgressDeadline is returned by Status when the rollout exceeded its
// progress deadline.
var ErrProgressDeadline = errors.New("rollout: progress deadline exceeded")

// Status reads a Deployment and says whether its rollout is done, in the
// words of kubectl rollout status.
func Status(ctx context.Context, conn grpc.ClientConnInterface, namespace, name string) (RolloutStatus, error) {
	d, err := client.For[*shoalv1.Deployment](conn).Get(ctx, namespace, name)
	if err != nil {
		return RolloutStatus{}, err
	}
	return StatusOf(d)
}

// StatusOf is Status for a Deployment already read.
func StatusOf(d *shoalv1.Deployment) (RolloutStatus, error) {
	m, st := d.GetMetadata(), d.GetStatus()
	out := RolloutStatus{Revision: RevisionOf(m)}
	ref := fmt.Sprintf("deployment %q", m.GetName())
	if m.GetGeneration() > st.GetObservedGeneration() {
		out.Message = "Waiting for deployment spec update to be observed..."
		return out, nil
	}
	for _, c := range st.GetConditions() {
		if c.GetType() == ConditionProgressing && c.GetReason() == ReasonTimedOut {
			out.Message = ref + " exceeded its progress deadline"
			return out, ErrProgressDeadline
		}
	}
	replicas := d.GetSpec().GetReplicas()
	if d.GetSpec().Replicas == nil {
		replicas = 1
	}
	switch {
	case st.GetUpdatedReplicas() < replicas:
		out.Message = fmt.Sprintf("Waiting for %s rollout to finish: %d out of %d new replicas have been updated...", ref, st.GetUpdatedReplicas(), replicas)
	case st.GetReplicas() > st.GetUpdatedReplicas():
		out.Message = fmt.Sprintf("Waiting for %s rollout to finish: %d old replicas are pending termination...", ref, st.GetReplicas()-st.GetUpdatedReplicas())
	case st.GetAvailableReplicas() < st.GetUpdatedReplicas():
		out.Message = fmt.Sprintf("Waiting for %s rollout to finish: %d of %d updated replicas are available...", ref, st.GetAvailableReplicas(), st.GetUpdatedReplicas())
	default:
		out.Done = true
		out.Message = ref + " successfully rolled out"
	}
	return out, nil
}

// Pause stops rolling out template changes of a Deployment (scaling still
// works); Resume continues. Both retry on concurrent changes.
func Pause(ctx context.Context, conn grpc.ClientConnInterface, namespace, name string) (*shoalv1.Deployment, error) {
	return setPaused(ctx, conn, namespace, name, true)
}

// Resume undoes Pause.
func Resume(ctx context.Context, conn grpc.ClientConnInterface, namespace, name string) (*shoalv1.Deployment, error) {
	return setPaused(ctx, conn, namespace, name, false)
}

func setPaused(ctx context.Context, conn grpc.ClientConnInterface, namespace, name string, paused bool) (*shoalv1.Deployment, error) {
	deployments := client.For[*shoalv1.Deployment](conn)
	for attempt := 0; ; attempt++ {
		d, err := deployments.Get(ctx, namespace, name)
		if err != nil {
			return nil, err
		}
		if d.GetSpec().GetPaused() == paused {
			return d, nil
		}
		next := proto.Clone(d).(*shoalv1.Deployment)
		next.Spec.Paused = paused
		out, err := deployments.Update(ctx, next)
		if client.IsConflict(err) && attempt < 5 {
			continue
		}
		return out, err
	}
}
