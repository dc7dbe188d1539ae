package scheduler

import (
	"maps"
	"slices"

	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
)

// Informer handlers of a term. They only update the cache and the queue;
// the scheduling loop does the work.

// assigned reports whether the pod is bound to a node.
func assigned(p *shoalv1.Pod) bool { return p.GetSpec().GetNodeName() != "" }

// pending reports whether the pod waits for a node.
func pending(p *shoalv1.Pod) bool {
	return !assigned(p) && p.GetMetadata().GetDeletionTimestamp() == nil
}

func (t *term) onPodAdd(p *shoalv1.Pod) {
	switch {
	case assigned(p):
		t.cache.AddPod(p)
	case pending(p):
		t.queue.Add(p)
	}
}

func (t *term) onPodUpdate(oldPod, newPod *shoalv1.Pod) {
	switch {
	case assigned(newPod) && !assigned(oldPod):
		// Bound (by this scheduler, confirming the assumption, or another).
		t.queue.Delete(newPod)
		t.cache.AddPod(newPod)
	case assigned(newPod):
		t.cache.UpdatePod(oldPod, newPod)
		if !maps.Equal(oldPod.GetMetadata().GetLabels(), newPod.GetMetadata().GetLabels()) {
			t.queue.MoveAllToActiveOrBackoff(framework.ClusterEvent{Resource: framework.AssignedPodEvent, Action: framework.UpdatePodLabel})
		}
	case pending(newPod):
		t.queue.Update(oldPod, newPod)
	default: // being deleted before it was bound
		t.queue.Delete(newPod)
	}
}

func (t *term) onPodDelete(p *shoalv1.Pod) {
	t.queue.Delete(p)
	// A pod deleted while its bind was in flight is assumed in the cache
	// though the informer shows it unbound: RemovePod goes by uid.
	if t.cache.RemovePod(p) {
		t.queue.MoveAllToActiveOrBackoff(framework.EventAssignedPodDelete)
	}
}

func (t *term) onNodeAdd(n *shoalv1.Node) {
	t.cache.AddNode(n)
	t.queue.MoveAllToActiveOrBackoff(framework.EventNodeAdd)
}

func (t *term) onNodeUpdate(oldNode, newNode *shoalv1.Node) {
	t.cache.UpdateNode(newNode)
	if a := nodeUpdateActions(oldNode, newNode); a != 0 {
		t.queue.MoveAllToActiveOrBackoff(framework.ClusterEvent{Resource: framework.NodeEvent, Action: a})
	}
}

func (t *term) onNodeDelete(n *shoalv1.Node) {
	t.cache.RemoveNode(n.GetMetadata().GetName())
}

// nodeUpdateActions says which scheduling-relevant parts of a node changed
// (heartbeat timestamps and addresses are not among them).
func nodeUpdateActions(o, n *shoalv1.Node) framework.ActionType {
	var a framework.ActionType
	if !proto.Equal(o.GetStatus().GetAllocatable(), n.GetStatus().GetAllocatable()) {
		a |= framework.UpdateNodeAllocatable
	}
	if !maps.Equal(o.GetMetadata().GetLabels(), n.GetMetadata().GetLabels()) {
		a |= framework.UpdateNodeLabel
	}
	if !slices.EqualFunc(o.GetSpec().GetTaints(), n.GetSpec().GetTaints(), func(x, y *shoalv1.Taint) bool {
		return x.GetKey() == y.GetKey() && x.GetValue() == y.GetValue() && x.GetEffect() == y.GetEffect()
	}) {
		a |= framework.UpdateNodeTaint
	}
	if framework.NodeReady(o) != framework.NodeReady(n) {
		a |= framework.UpdateNodeCondition
	}
	if o.GetSpec().GetUnschedulable() != n.GetSpec().GetUnschedulable() {
		a |= framework.UpdateNodeUnschedulable
	}
	return a
}
