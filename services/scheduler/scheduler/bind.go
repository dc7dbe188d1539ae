package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	grpccodes "google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/scheduler/cache"
	"github.com/shoalmesh/shoal/services/scheduler/queue"
)

// Pod condition written by the scheduler (and set to True by BindPod).
const (
	ConditionPodScheduled = "PodScheduled"
	ReasonUnschedulable   = "Unschedulable"
	EventFailedScheduling = "FailedScheduling"
	EventScheduled        = "Scheduled"
)

// bindAsync hands an assumed pod's bind to a goroutine. It waits for a
// free slot when MaxInFlightBinds binds are running, which is the loop's
// back-pressure when the gateway is slower than the scheduler.
func (t *term) bindAsync(ctx context.Context, qp *queue.QueuedPodInfo, node string) {
	select {
	case t.binds <- struct{}{}:
	case <-ctx.Done():
		_ = t.cache.ForgetPod(qp.UID)
		t.queue.Requeue(qp, nil, true)
		return
	}
	t.s.metrics.inFlightBinds.Inc()
	t.wg.Go(func() {
		defer func() {
			t.s.metrics.inFlightBinds.Dec()
			<-t.binds
		}()
		t.bind(ctx, qp, node)
	})
}

// bind calls BindPod once. On success the assumption stands until the
// informer confirms it; on failure the pod is forgotten and, unless the
// failure says the pod is already bound, deleted or replaced, requeued
// with back-off.
func (t *term) bind(ctx context.Context, qp *queue.QueuedPodInfo, node string) {
	pi := qp.PodInfo
	ctx = observability.ObjectContext(ctx, pi.Pod.GetMetadata().GetAnnotations())
	ctx, span := t.s.tracer.Start(ctx, "scheduler.Bind", trace.WithAttributes(
		attribute.String("shoal.pod", pi.Key), attribute.String("shoal.scheduler.node", node)))
	defer span.End()
	callCtx, cancel := context.WithTimeout(ctx, t.s.cfg.Scheduling.BindTimeout)
	defer cancel()
	start := time.Now()
	_, err := t.s.podsAPI.BindPod(callCtx, &shoalv1.BindPodRequest{
		Namespace: pi.Namespace, Name: pi.Pod.GetMetadata().GetName(), NodeName: node, Uid: pi.UID,
	})
	t.s.metrics.bind.Observe(time.Since(start).Seconds())
	if err == nil {
		t.cache.FinishBinding(pi.UID)
		firstSeen := qp.FirstSeen
		t.queue.Done(qp)
		t.s.metrics.attempts.WithLabelValues(resultScheduled).Inc()
		t.s.metrics.e2e.Observe(time.Since(firstSeen).Seconds())
		if t.s.cfg.Scheduling.RecordScheduledEvents {
			t.s.recorder.Event(pi.Pod, shoalv1.EventType_EVENT_TYPE_NORMAL, EventScheduled,
				fmt.Sprintf("Successfully assigned %s to %s", pi.Key, node))
		}
		t.s.log.DebugContext(ctx, "bound pod", "pod", pi.Key, "node", node)
		return
	}
	span.RecordError(err)
	span.SetStatus(codes.Error, err.Error())
	t.s.metrics.attempts.WithLabelValues(resultError).Inc()
	if errors.Is(t.cache.ForgetPod(pi.UID), cache.ErrNotAssumed) {
		// The informer already reported the pod bound or deleted (the bind
		// may have landed though its answer was lost): nothing to retry.
		t.queue.Done(qp)
		return
	}
	switch client.Code(err) {
	case grpccodes.FailedPrecondition, grpccodes.NotFound:
		// Bound by someone else, being deleted, or replaced by a new pod
		// of the same name: the informer brings the truth, and a new pod
		// is queued on its own.
		t.s.log.InfoContext(ctx, "bind refused", "pod", pi.Key, "node", node, "err", err)
		t.queue.Done(qp)
	default:
		if ctx.Err() == nil {
			t.s.log.WarnContext(ctx, "bind failed, will retry", "pod", pi.Key, "node", node, "err", err)
		}
		t.queue.Requeue(qp, nil, true)
	}
}

// failUnschedulable requeues a pod that fits no node, records a
// FailedScheduling Event and sets its PodScheduled condition to False with
// the per-plugin reasons (written only when the message changes).
func (t *term) failUnschedulable(ctx context.Context, qp *queue.QueuedPodInfo, msg string, plugins map[string]bool) {
	pod := qp.Pod
	t.queue.Requeue(qp, plugins, false)
	t.s.recorder.Event(pod, shoalv1.EventType_EVENT_TYPE_WARNING, EventFailedScheduling, msg)
	if c := podCondition(pod, ConditionPodScheduled); c != nil &&
		c.GetStatus() == shoalv1.ConditionStatus_CONDITION_STATUS_FALSE && c.GetReason() == ReasonUnschedulable && c.GetMessage() == msg {
		return
	}
	t.wg.Go(func() {
		select {
		case t.writers <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-t.writers }()
		t.writeUnschedulable(ctx, pod, msg)
	})
}

// writeUnschedulable sets PodScheduled=False on the pod as the informer
// last saw it; the write is conditional on that version, so it never
// overwrites a bind that happened meanwhile.
func (t *term) writeUnschedulable(ctx context.Context, pod *shoalv1.Pod, msg string) {
	p := proto.Clone(pod).(*shoalv1.Pod)
	if p.Status == nil {
		p.Status = &shoalv1.PodStatus{}
	}
	now := timestamppb.Now()
	cond := &shoalv1.Condition{
		Type: ConditionPodScheduled, Status: shoalv1.ConditionStatus_CONDITION_STATUS_FALSE,
		Reason: ReasonUnschedulable, Message: msg, LastTransitionTime: now, LastProbeTime: now,
	}
	replaced := false
	for i, c := range p.Status.Conditions {
		if c.GetType() == ConditionPodScheduled {
			if c.GetStatus() == cond.GetStatus() {
				cond.LastTransitionTime = c.GetLastTransitionTime()
			}
			p.Status.Conditions[i] = cond
			replaced = true
		}
	}
	if !replaced {
		p.Status.Conditions = append(p.Status.Conditions, cond)
	}
	_, err := t.s.podsRes.UpdateStatus(ctx, p)
	switch {
	case err == nil, client.IsConflict(err), client.IsNotFound(err), ctx.Err() != nil:
		// A newer pod is on its way through the informer, or it is gone.
	default:
		t.s.log.WarnContext(ctx, "setting PodScheduled=False failed", "pod", p.GetMetadata().GetNamespace()+"/"+p.GetMetadata().GetName(), "err", err)
	}
}

func podCondition(p *shoalv1.Pod, typ string) *shoalv1.Condition {
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == typ {
			return c
		}
	}
	return nil
}
