package framework

import (
	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

// Taint keys Kubernetes uses for node states, which a pod may tolerate to
// be placed on such a node anyway (DaemonSet-style agents).
const (
	TaintNodeNotReady      = "node.kubernetes.io/not-ready"
	TaintNodeUnschedulable = "node.kubernetes.io/unschedulable"
)

// Tolerates reports whether toleration t tolerates taint: same effect (or
// t's effect empty), and same key and value (EQUAL) or same key (EXISTS);
// an empty key with EXISTS tolerates every taint.
func Tolerates(t *shoalv1.Toleration, taint *shoalv1.Taint) bool {
	if t.GetEffect() != shoalv1.TaintEffect_TAINT_EFFECT_UNSPECIFIED && t.GetEffect() != taint.GetEffect() {
		return false
	}
	if t.GetKey() == "" {
		return t.GetOperator() == shoalv1.TolerationOperator_TOLERATION_OPERATOR_EXISTS
	}
	if t.GetKey() != taint.GetKey() {
		return false
	}
	switch t.GetOperator() {
	case shoalv1.TolerationOperator_TOLERATION_OPERATOR_EXISTS:
		return true
	default: // EQUAL, and UNSPECIFIED which defaults to EQUAL
		return t.GetValue() == taint.GetValue()
	}
}

// ToleratesTaint reports whether any of tolerations tolerates taint.
func ToleratesTaint(tolerations []*shoalv1.Toleration, taint *shoalv1.Taint) bool {
	for _, t := range tolerations {
		if Tolerates(t, taint) {
			return true
		}
	}
	return false
}

// TaintString names a taint in messages: "dedicated=gpu", or "dedicated"
// when its value is empty.
func TaintString(taint *shoalv1.Taint) string {
	if taint.GetValue() == "" {
		return taint.GetKey()
	}
	return taint.GetKey() + "=" + taint.GetValue()
}
