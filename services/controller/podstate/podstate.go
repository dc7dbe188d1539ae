// Package podstate answers the questions every controller asks about a pod:
// is it active (counts toward its owner's replicas), ready, available (ready
// for long enough)?
package podstate

import (
	"time"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/controller/conditions"
)

// Condition types of a pod.
const (
	Ready           = "Ready"
	ContainersReady = "ContainersReady"
	PodScheduled    = "PodScheduled"
)

// IsActive reports whether a pod still counts toward its controller's
// replicas: not finished and not being deleted (Kubernetes' FilterActivePods).
func IsActive(p *shoalv1.Pod) bool {
	return !IsTerminal(p) && p.GetMetadata().GetDeletionTimestamp() == nil
}

// IsTerminal reports whether a pod has finished (Succeeded or Failed).
func IsTerminal(p *shoalv1.Pod) bool {
	switch p.GetStatus().GetPhase() {
	case shoalv1.PodPhase_POD_PHASE_SUCCEEDED, shoalv1.PodPhase_POD_PHASE_FAILED:
		return true
	}
	return false
}

// IsReady reports whether the pod's Ready condition is True.
func IsReady(p *shoalv1.Pod) bool {
	return conditions.IsTrue(p.GetStatus().GetConditions(), Ready)
}

// IsAvailable reports whether the pod has been ready for at least
// minReadySeconds at now.
func IsAvailable(p *shoalv1.Pod, minReadySeconds int32, now time.Time) bool {
	c := conditions.Get(p.GetStatus().GetConditions(), Ready)
	if c.GetStatus() != conditions.True {
		return false
	}
	if minReadySeconds <= 0 {
		return true
	}
	since := c.GetLastTransitionTime()
	if since == nil {
		return false
	}
	return !since.AsTime().Add(time.Duration(minReadySeconds) * time.Second).After(now)
}

// ReadySince is when the pod last became ready (zero when it is not ready
// or the time is unknown).
func ReadySince(p *shoalv1.Pod) time.Time {
	c := conditions.Get(p.GetStatus().GetConditions(), Ready)
	if c.GetStatus() != conditions.True || c.GetLastTransitionTime() == nil {
		return time.Time{}
	}
	return c.GetLastTransitionTime().AsTime()
}

// RestartCount is the sum of the pod's container restarts.
func RestartCount(p *shoalv1.Pod) int32 {
	var n int32
	for _, cs := range p.GetStatus().GetContainerStatuses() {
		n += cs.GetRestartCount()
	}
	return n
}
