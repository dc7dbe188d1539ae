package nodelifecycle

import (
	"slices"
	"time"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

// Taints the controller puts on unhealthy nodes (Kubernetes' names).
const (
	// TaintUnreachable: the node agent stopped renewing its lease (Ready
	// is Unknown).
	TaintUnreachable = "node.kubernetes.io/unreachable"
	// TaintNotReady: the node agent reports Ready=False.
	TaintNotReady = "node.kubernetes.io/not-ready"
)

const (
	noSchedule = shoalv1.TaintEffect_TAINT_EFFECT_NO_SCHEDULE
	noExecute  = shoalv1.TaintEffect_TAINT_EFFECT_NO_EXECUTE
)

// ours reports whether a taint is one this controller manages.
func ours(t *shoalv1.Taint) bool {
	return (t.GetKey() == TaintUnreachable || t.GetKey() == TaintNotReady) &&
		(t.GetEffect() == noSchedule || t.GetEffect() == noExecute)
}

func hasTaint(taints []*shoalv1.Taint, key string, effect shoalv1.TaintEffect) bool {
	return slices.ContainsFunc(taints, func(t *shoalv1.Taint) bool { return t.GetKey() == key && t.GetEffect() == effect })
}

// tolerates reports whether a toleration matches a taint (Kubernetes'
// ToleratesTaint): same effect unless the toleration leaves it empty, same
// key unless it leaves it empty, and the value equal unless the operator
// is Exists.
func tolerates(tol *shoalv1.Toleration, t *shoalv1.Taint) bool {
	if tol.GetEffect() != shoalv1.TaintEffect_TAINT_EFFECT_UNSPECIFIED && tol.GetEffect() != t.GetEffect() {
		return false
	}
	if tol.GetKey() != "" && tol.GetKey() != t.GetKey() {
		return false
	}
	if tol.GetOperator() == shoalv1.TolerationOperator_TOLERATION_OPERATOR_EXISTS {
		return true
	}
	return tol.GetValue() == t.GetValue()
}

// evictionTime is when a pod must leave a node with these taints: for
// every NoExecute taint, the time it was added plus the pod's matching
// toleration_seconds; a taint this controller manages that the pod does
// not tolerate allows defaultToleration (Kubernetes' default 300s
// tolerations, here --pod-eviction-timeout); any other NoExecute taint it
// does not tolerate means now. A toleration without seconds tolerates
// forever. The earliest time wins; ok is false when the pod may stay.
func evictionTime(p *shoalv1.Pod, taints []*shoalv1.Taint, defaultToleration time.Duration, now time.Time) (at time.Time, ok bool) {
	for _, t := range taints {
		if t.GetEffect() != noExecute {
			continue
		}
		added := now
		if t.GetTimeAdded() != nil {
			added = t.GetTimeAdded().AsTime()
		}
		var when time.Time
		idx := slices.IndexFunc(p.GetSpec().GetTolerations(), func(tol *shoalv1.Toleration) bool { return tolerates(tol, t) })
		switch {
		case idx >= 0:
			tol := p.GetSpec().GetTolerations()[idx]
			if tol.TolerationSeconds == nil {
				continue
			}
			when = added.Add(time.Duration(max(tol.GetTolerationSeconds(), 0)) * time.Second)
		case ours(t):
			when = added.Add(defaultToleration)
		default:
			when = added
		}
		if !ok || when.Before(at) {
			at, ok = when, true
		}
	}
	return at, ok
}
