package framework

import "strings"

// EventResource is the kind of object a cluster event is about.
type EventResource int

const (
	// NodeEvent is about a Node object.
	NodeEvent EventResource = iota + 1
	// AssignedPodEvent is about a pod that is bound to a node (pending pods
	// do not change what fits where).
	AssignedPodEvent
)

// ActionType is what happened to the object; several may be or'ed together.
type ActionType uint32

const (
	Add ActionType = 1 << iota
	Delete
	// UpdateNodeAllocatable: status.allocatable changed.
	UpdateNodeAllocatable
	// UpdateNodeLabel: metadata.labels changed.
	UpdateNodeLabel
	// UpdateNodeTaint: spec.taints changed.
	UpdateNodeTaint
	// UpdateNodeCondition: the Ready condition changed.
	UpdateNodeCondition
	// UpdateNodeUnschedulable: spec.unschedulable changed.
	UpdateNodeUnschedulable
	// UpdatePodLabel: an assigned pod's labels changed.
	UpdatePodLabel

	// Update is any kind of update.
	Update = UpdateNodeAllocatable | UpdateNodeLabel | UpdateNodeTaint | UpdateNodeCondition | UpdateNodeUnschedulable | UpdatePodLabel
	// All is every action.
	All = Add | Delete | Update
)

var actionNames = []string{"Add", "Delete", "UpdateNodeAllocatable", "UpdateNodeLabel", "UpdateNodeTaint",
	"UpdateNodeCondition", "UpdateNodeUnschedulable", "UpdatePodLabel"}

func (a ActionType) String() string {
	var parts []string
	for i, n := range actionNames {
		if a&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if len(parts) == 0 {
		return "None"
	}
	return strings.Join(parts, "|")
}

// ClusterEvent is a change to the cluster that may make pending pods
// schedulable.
type ClusterEvent struct {
	Resource EventResource
	Action   ActionType
}

// String is "Node/Add", "AssignedPod/Delete"...
func (e ClusterEvent) String() string {
	r := "Node"
	if e.Resource == AssignedPodEvent {
		r = "AssignedPod"
	}
	return r + "/" + e.Action.String()
}

// Matches reports whether e (what happened) is one of the events that
// registered (what a plugin waits for) describes.
func (e ClusterEvent) Matches(registered ClusterEvent) bool {
	return e.Resource == registered.Resource && e.Action&registered.Action != 0
}

// Events that the queue raises, for reuse by plugins and tests.
var (
	EventNodeAdd           = ClusterEvent{Resource: NodeEvent, Action: Add}
	EventAssignedPodDelete = ClusterEvent{Resource: AssignedPodEvent, Action: Delete}
)
