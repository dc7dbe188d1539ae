package plugins

import (
	"context"

	"github.com/shoalmesh/shoal/services/scheduler/framework"
)

// InterPodAntiAffinity enforces required pod anti-affinity in both
// directions: the pod's own terms keep it out of topology domains (nodes,
// for kubernetes.io/hostname) that run pods it selects, and the terms of
// pods already placed keep it out of their domains if it is one of the
// pods they select.
type InterPodAntiAffinity struct{}

var (
	_ framework.PreFilterPlugin   = (*InterPodAntiAffinity)(nil)
	_ framework.FilterPlugin      = (*InterPodAntiAffinity)(nil)
	_ framework.EnqueueExtensions = (*InterPodAntiAffinity)(nil)
)

// InterPodAntiAffinity's rejection reasons.
const (
	ReasonPodAntiAffinity         = "pod anti-affinity"
	ReasonExistingPodAntiAffinity = "existing pod anti-affinity"
)

var (
	statusAntiAffinity         = framework.NewStatus(framework.Unschedulable, ReasonPodAntiAffinity).WithPlugin(InterPodAntiAffinityName)
	statusExistingAntiAffinity = framework.NewStatus(framework.Unschedulable, ReasonExistingPodAntiAffinity).WithPlugin(InterPodAntiAffinityName)
)

const antiAffinityStateKey framework.StateKey = InterPodAntiAffinityName + "/forbidden"

// topologySet is topology key -> values that are off limits.
type topologySet map[string]map[string]bool

func (s topologySet) add(key, value string) {
	vals := s[key]
	if vals == nil {
		vals = map[string]bool{}
		s[key] = vals
	}
	vals[value] = true
}

func (s topologySet) has(node *framework.NodeInfo) bool {
	for key, vals := range s {
		if v, ok := node.TopologyValue(key); ok && vals[v] {
			return true
		}
	}
	return false
}

type antiAffinityState struct {
	own      topologySet // domains running pods the pod's terms select
	existing topologySet // domains whose pods' terms select the pod
}

// Name is InterPodAntiAffinityName.
func (*InterPodAntiAffinity) Name() string { return InterPodAntiAffinityName }

// PreFilter finds the forbidden topology domains once per cycle. Its cost
// is the number of placed pods when the pod has terms (every placed pod is
// matched against them) plus the placed pods that have terms; a pod
// without terms in a cluster without such pods is skipped for free.
func (*InterPodAntiAffinity) PreFilter(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, nodes framework.NodeLister) *framework.Status {
	if pod.ParseErr != nil {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, "invalid affinity: "+pod.ParseErr.Error())
	}
	withTerms := nodes.HavePodsWithRequiredAntiAffinity()
	if len(pod.RequiredAntiAffinity) == 0 && len(withTerms) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	st := &antiAffinityState{own: topologySet{}, existing: topologySet{}}
	if len(pod.RequiredAntiAffinity) > 0 {
		for _, node := range nodes.List() {
			for ti := range pod.RequiredAntiAffinity {
				term := &pod.RequiredAntiAffinity[ti]
				v, ok := node.TopologyValue(term.TopologyKey)
				if !ok || st.own[term.TopologyKey][v] {
					continue
				}
				for _, other := range node.Pods {
					if other.UID != pod.UID && term.Matches(other) {
						st.own.add(term.TopologyKey, v)
						break
					}
				}
			}
		}
	}
	for _, node := range withTerms {
		for _, other := range node.PodsWithRequiredAntiAffinity {
			if other.UID == pod.UID {
				continue
			}
			for ti := range other.RequiredAntiAffinity {
				term := &other.RequiredAntiAffinity[ti]
				if v, ok := node.TopologyValue(term.TopologyKey); ok && term.Matches(pod) {
					st.existing.add(term.TopologyKey, v)
				}
			}
		}
	}
	if len(st.own) == 0 && len(st.existing) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(antiAffinityStateKey, st)
	return nil
}

// Filter rejects nodes in a forbidden domain.
func (*InterPodAntiAffinity) Filter(_ context.Context, state *framework.CycleState, _ *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	st, ok := state.Read(antiAffinityStateKey).(*antiAffinityState)
	if !ok {
		return framework.AsStatus(errMissingState(InterPodAntiAffinityName))
	}
	if st.own.has(node) {
		return statusAntiAffinity
	}
	if st.existing.has(node) {
		return statusExistingAntiAffinity
	}
	return nil
}

// EventsToRegister: a bound pod that goes away or changes labels, or a node
// that appears or changes labels (its topology domain).
func (*InterPodAntiAffinity) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{
		{Resource: framework.AssignedPodEvent, Action: framework.Delete | framework.UpdatePodLabel},
		{Resource: framework.NodeEvent, Action: framework.Add | framework.UpdateNodeLabel},
	}
}
