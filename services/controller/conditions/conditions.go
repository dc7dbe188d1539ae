// Package conditions reads and edits the condition lists that pods, nodes,
// ReplicaSets and Deployments carry (shoal.v1.Condition), the way
// Kubernetes' controllers do: one condition per type, and a transition time
// that moves only when the status does.
package conditions

import (
	"slices"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

// Shorthands for the condition statuses.
const (
	True    = shoalv1.ConditionStatus_CONDITION_STATUS_TRUE
	False   = shoalv1.ConditionStatus_CONDITION_STATUS_FALSE
	Unknown = shoalv1.ConditionStatus_CONDITION_STATUS_UNKNOWN
)

// Get returns the condition of type typ, or nil.
func Get(conds []*shoalv1.Condition, typ string) *shoalv1.Condition {
	for _, c := range conds {
		if c.GetType() == typ {
			return c
		}
	}
	return nil
}

// IsTrue reports whether the condition of type typ is present and True.
func IsTrue(conds []*shoalv1.Condition, typ string) bool {
	return Get(conds, typ).GetStatus() == True
}

// Set returns conds with c in place of the condition of the same type. The
// input slice and its conditions are not modified (they may be cached). When
// the status is unchanged the old transition time is kept; a missing
// transition time is set to now.
func Set(conds []*shoalv1.Condition, c *shoalv1.Condition, now time.Time) []*shoalv1.Condition {
	c = proto.Clone(c).(*shoalv1.Condition)
	out := make([]*shoalv1.Condition, 0, len(conds)+1)
	replaced := false
	for _, have := range conds {
		if have.GetType() != c.GetType() {
			out = append(out, have)
			continue
		}
		if have.GetStatus() == c.GetStatus() && have.GetLastTransitionTime() != nil {
			c.LastTransitionTime = have.GetLastTransitionTime()
		}
		out = append(out, c)
		replaced = true
	}
	if c.LastTransitionTime == nil {
		c.LastTransitionTime = timestamppb.New(now)
	}
	if !replaced {
		out = append(out, c)
	}
	return out
}

// Remove returns conds without the condition of type typ.
func Remove(conds []*shoalv1.Condition, typ string) []*shoalv1.Condition {
	return slices.DeleteFunc(slices.Clone(conds), func(c *shoalv1.Condition) bool { return c.GetType() == typ })
}
