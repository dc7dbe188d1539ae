package replicaset

import (
	"slices"
	"time"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/controller/conditions"
	"github.com/shoalmesh/shoal/services/controller/podstate"
)

// podsToDelete picks the n pods to delete first (Kubernetes'
// ActivePodsWithRanks order): unscheduled before scheduled; Pending before
// Unknown before Running; not ready before ready; pods sharing a node with
// more of their siblings first; ready for less time first; more restarts
// first; younger first.
func podsToDelete(pods []*shoalv1.Pod, n int) []*shoalv1.Pod {
	if n >= len(pods) {
		return slices.Clone(pods)
	}
	perNode := map[string]int{}
	for _, p := range pods {
		if node := p.GetSpec().GetNodeName(); node != "" {
			perNode[node]++
		}
	}
	ranked := slices.Clone(pods)
	slices.SortStableFunc(ranked, func(a, b *shoalv1.Pod) int {
		if deleteFirst(a, b, perNode) {
			return -1
		}
		if deleteFirst(b, a, perNode) {
			return 1
		}
		return 0
	})
	return ranked[:n]
}

var phaseOrder = map[shoalv1.PodPhase]int{
	shoalv1.PodPhase_POD_PHASE_PENDING: 0,
	shoalv1.PodPhase_POD_PHASE_UNKNOWN: 1,
	shoalv1.PodPhase_POD_PHASE_RUNNING: 2,
}

// deleteFirst reports whether a should go before b.
func deleteFirst(a, b *shoalv1.Pod, perNode map[string]int) bool {
	an, bn := a.GetSpec().GetNodeName(), b.GetSpec().GetNodeName()
	if an != bn && (an == "" || bn == "") {
		return an == ""
	}
	if pa, pb := phaseOrder[a.GetStatus().GetPhase()], phaseOrder[b.GetStatus().GetPhase()]; pa != pb {
		return pa < pb
	}
	if ra, rb := podstate.IsReady(a), podstate.IsReady(b); ra != rb {
		return !ra
	}
	if an != "" && bn != "" && perNode[an] != perNode[bn] {
		return perNode[an] > perNode[bn]
	}
	if ta, tb := podstate.ReadySince(a), podstate.ReadySince(b); !ta.Equal(tb) {
		return ta.After(tb) // later means ready for less time
	}
	if ca, cb := podstate.RestartCount(a), podstate.RestartCount(b); ca != cb {
		return ca > cb
	}
	return created(a).After(created(b))
}

func created(p *shoalv1.Pod) time.Time {
	if ts := p.GetMetadata().GetCreationTimestamp(); ts != nil {
		return ts.AsTime()
	}
	return time.Time{}
}

// calculateStatus is the ReplicaSet's status for its claimed active pods.
func calculateStatus(rs *shoalv1.ReplicaSet, pods []*shoalv1.Pod, manageErr error, now time.Time) *shoalv1.ReplicaSetStatus {
	st := &shoalv1.ReplicaSetStatus{
		Replicas:           int32(len(pods)),
		ObservedGeneration: rs.GetMetadata().GetGeneration(),
		Conditions:         rs.GetStatus().GetConditions(),
	}
	tmpl := rs.GetSpec().GetTemplate().GetMetadata().GetLabels()
	minReady := rs.GetSpec().GetMinReadySeconds()
	for _, p := range pods {
		if hasLabels(p.GetMetadata().GetLabels(), tmpl) {
			st.FullyLabeledReplicas++
		}
		if podstate.IsReady(p) {
			st.ReadyReplicas++
			if podstate.IsAvailable(p, minReady, now) {
				st.AvailableReplicas++
			}
		}
	}
	switch diff := len(pods) - int(rs.GetSpec().GetReplicas()); {
	case manageErr != nil && diff < 0:
		st.Conditions = conditions.Set(st.Conditions, &shoalv1.Condition{
			Type: ConditionReplicaFailure, Status: conditions.True, Reason: "FailedCreate", Message: manageErr.Error(),
		}, now)
	case manageErr != nil && diff > 0:
		st.Conditions = conditions.Set(st.Conditions, &shoalv1.Condition{
			Type: ConditionReplicaFailure, Status: conditions.True, Reason: "FailedDelete", Message: manageErr.Error(),
		}, now)
	case manageErr == nil:
		st.Conditions = conditions.Remove(st.Conditions, ConditionReplicaFailure)
	}
	if len(st.Conditions) == 0 {
		st.Conditions = nil
	}
	return st
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}
