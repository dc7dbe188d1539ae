package deployment

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

// Annotations on the ReplicaSets a Deployment owns (proportional scaling
// reads them back).
const (
	// DesiredReplicasAnnotation is the Deployment's replicas when the
	// ReplicaSet was last scaled.
	DesiredReplicasAnnotation = "deployment.shoal.io/desired-replicas"
	// MaxReplicasAnnotation is replicas + max surge at that time.
	MaxReplicasAnnotation = "deployment.shoal.io/max-replicas"
)

// defaultBound is what an unset max_surge or max_unavailable means (the
// gateway fills it in; this guards objects written before it did).
var defaultBound = &shoalv1.IntOrString{Value: &shoalv1.IntOrString_StrValue{StrValue: "25%"}}

var percentRE = regexp.MustCompile(`^([0-9]+)%$`)

// scaledValue resolves a count or a percentage of total; percentages round
// up or down as asked.
func scaledValue(v *shoalv1.IntOrString, total int32, roundUp bool) (int32, error) {
	switch x := v.GetValue().(type) {
	case *shoalv1.IntOrString_IntValue:
		return x.IntValue, nil
	case *shoalv1.IntOrString_StrValue:
		m := percentRE.FindStringSubmatch(x.StrValue)
		if m == nil {
			return 0, fmt.Errorf("invalid value %q: want a number or a percentage", x.StrValue)
		}
		pct, err := strconv.Atoi(m[1])
		if err != nil {
			return 0, fmt.Errorf("invalid value %q: %w", x.StrValue, err)
		}
		f := float64(pct) * float64(total) / 100
		if roundUp {
			return int32(math.Ceil(f)), nil
		}
		return int32(math.Floor(f)), nil
	}
	return 0, nil
}

// resolveFenceposts turns max_surge (rounded up) and max_unavailable
// (rounded down) into pod counts for desired replicas. When both come out
// 0, max_unavailable becomes 1 so that a rollout can make progress.
func resolveFenceposts(surge, unavailable *shoalv1.IntOrString, desired int32) (int32, int32, error) {
	if surge.GetValue() == nil {
		surge = defaultBound
	}
	if unavailable.GetValue() == nil {
		unavailable = defaultBound
	}
	s, err := scaledValue(surge, desired, true)
	if err != nil {
		return 0, 0, fmt.Errorf("max_surge: %w", err)
	}
	u, err := scaledValue(unavailable, desired, false)
	if err != nil {
		return 0, 0, fmt.Errorf("max_unavailable: %w", err)
	}
	if s == 0 && u == 0 {
		u = 1
	}
	return s, u, nil
}

func replicas(d *shoalv1.Deployment) int32 {
	if d.GetSpec().Replicas == nil {
		return 1
	}
	return d.GetSpec().GetReplicas()
}

func isRollingUpdate(d *shoalv1.Deployment) bool {
	return d.GetSpec().GetStrategy().GetType() != shoalv1.DeploymentStrategyType_DEPLOYMENT_STRATEGY_TYPE_RECREATE
}

// maxSurge is how many pods above replicas a rolling update may run.
func maxSurge(d *shoalv1.Deployment) int32 {
	if !isRollingUpdate(d) {
		return 0
	}
	ru := d.GetSpec().GetStrategy().GetRollingUpdate()
	s, _, _ := resolveFenceposts(ru.GetMaxSurge(), ru.GetMaxUnavailable(), replicas(d))
	return s
}

// maxUnavailable is how many of replicas a rolling update may take down.
func maxUnavailable(d *shoalv1.Deployment) int32 {
	n := replicas(d)
	if !isRollingUpdate(d) || n == 0 {
		return 0
	}
	ru := d.GetSpec().GetStrategy().GetRollingUpdate()
	_, u, _ := resolveFenceposts(ru.GetMaxSurge(), ru.GetMaxUnavailable(), n)
	return min(u, n)
}

func specReplicas(rs *shoalv1.ReplicaSet) int32 {
	if rs == nil {
		return 0
	}
	if rs.GetSpec().Replicas == nil {
		return 1
	}
	return rs.GetSpec().GetReplicas()
}

// podCounts is, per ReplicaSet uid, how many active pods the pod cache
// holds for it.
type podCounts map[string]int32

// podsAtMost bounds the active pods a ReplicaSet has or may soon have: its
// spec, its reported replicas (which still counts pods it is deleting) and
// the cached pods. Surge is computed from this rather than from specs
// alone, so a ReplicaSet that has been scaled down but not yet deleted its
// pods keeps the room they take.
func podsAtMost(rs *shoalv1.ReplicaSet, cached podCounts) int32 {
	return max(specReplicas(rs), rs.GetStatus().GetReplicas(), cached[rs.GetMetadata().GetUid()])
}

// availableAtLeast bounds the available pods a ReplicaSet will keep: its
// reported available pods, but no more than its spec, since the
// ReplicaSet controller deletes down to spec (not-ready pods first).
func availableAtLeast(rs *shoalv1.ReplicaSet) int32 {
	return max(0, min(specReplicas(rs), rs.GetStatus().GetAvailableReplicas()))
}

func sumSpec(rss []*shoalv1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		n += specReplicas(rs)
	}
	return n
}

func sumStatus(rss []*shoalv1.ReplicaSet, f func(*shoalv1.ReplicaSetStatus) int32) int32 {
	var n int32
	for _, rs := range rss {
		if rs != nil {
			n += f(rs.GetStatus())
		}
	}
	return n
}

// newRSNewReplicas is the size the new ReplicaSet may grow to now.
func newRSNewReplicas(d *shoalv1.Deployment, allRSs []*shoalv1.ReplicaSet, newRS *shoalv1.ReplicaSet, cached podCounts) int32 {
	if !isRollingUpdate(d) {
		return replicas(d)
	}
	var current int32
	for _, rs := range allRSs {
		if rs != nil {
			current += podsAtMost(rs, cached)
		}
	}
	maxTotal := replicas(d) + maxSurge(d)
	if current >= maxTotal {
		return specReplicas(newRS)
	}
	up := min(maxTotal-current, replicas(d)-specReplicas(newRS))
	return specReplicas(newRS) + max(up, 0)
}

// oldScaleDownBudget is how many old pods a rolling update may remove now
// without going under replicas - max_unavailable available pods
// (reconcileOldReplicaSets' maxScaledDown).
func oldScaleDownBudget(d *shoalv1.Deployment, allRSs []*shoalv1.ReplicaSet, newRS *shoalv1.ReplicaSet) int32 {
	minAvailable := replicas(d) - maxUnavailable(d)
	newUnavailable := max(specReplicas(newRS)-newRS.GetStatus().GetAvailableReplicas(), 0)
	return sumSpec(allRSs) - minAvailable - newUnavailable
}

// unhealthyCleanup plans scaling old ReplicaSets down by their unavailable
// pods, oldest first, at most budget in all. It returns the new sizes.
func unhealthyCleanup(oldRSs []*shoalv1.ReplicaSet, budget int32) map[*shoalv1.ReplicaSet]int32 {
	out := map[*shoalv1.ReplicaSet]int32{}
	var done int32
	for _, rs := range byCreation(oldRSs) {
		if done >= budget {
			break
		}
		spec := specReplicas(rs)
		unhealthy := spec - rs.GetStatus().GetAvailableReplicas()
		if spec == 0 || unhealthy <= 0 {
			continue
		}
		n := min(budget-done, unhealthy)
		out[rs] = spec - n
		done += n
	}
	return out
}

// availableScaleDown plans scaling old ReplicaSets down, oldest first, so
// that the available pods of allRSs stay at or above replicas -
// max_unavailable. It returns the new sizes.
func availableScaleDown(d *shoalv1.Deployment, allRSs, oldRSs []*shoalv1.ReplicaSet) map[*shoalv1.ReplicaSet]int32 {
	out := map[*shoalv1.ReplicaSet]int32{}
	minAvailable := replicas(d) - maxUnavailable(d)
	var available int32
	for _, rs := range allRSs {
		if rs != nil {
			available += availableAtLeast(rs)
		}
	}
	if available <= minAvailable {
		return out
	}
	total := available - minAvailable
	var done int32
	for _, rs := range byCreation(oldRSs) {
		if done >= total {
			break
		}
		spec := specReplicas(rs)
		if spec == 0 {
			continue
		}
		n := min(spec, total-done)
		out[rs] = spec - n
		done += n
	}
	return out
}

// byCreation sorts ReplicaSets oldest first (name breaks ties).
func byCreation(rss []*shoalv1.ReplicaSet) []*shoalv1.ReplicaSet {
	out := slices.Clone(rss)
	slices.SortStableFunc(out, func(a, b *shoalv1.ReplicaSet) int {
		ta, tb := a.GetMetadata().GetCreationTimestamp().AsTime(), b.GetMetadata().GetCreationTimestamp().AsTime()
		if c := ta.Compare(tb); c != 0 {
			return c
		}
		return compareStrings(a.GetMetadata().GetName(), b.GetMetadata().GetName())
	})
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// replicaFraction is how much rs should grow (or shrink) when its
// Deployment is resized, proportionally to its share of the size recorded
// in its max-replicas annotation.
func replicaFraction(rs *shoalv1.ReplicaSet, d *shoalv1.Deployment) int32 {
	if replicas(d) == 0 {
		return -specReplicas(rs)
	}
	total := replicas(d) + maxSurge(d)
	annotated, ok := intAnnotation(rs, MaxReplicasAnnotation)
	if !ok {
		annotated = d.GetStatus().GetReplicas()
	}
	if annotated <= 0 {
		return 0
	}
	size := float64(specReplicas(rs)) * float64(total) / float64(annotated)
	return int32(math.Round(size)) - specReplicas(rs)
}

// proportion is rs's share of toAdd, given added already handed out.
func proportion(rs *shoalv1.ReplicaSet, d *shoalv1.Deployment, toAdd, added int32) int32 {
	if rs == nil || specReplicas(rs) == 0 || toAdd == 0 || toAdd == added {
		return 0
	}
	f := replicaFraction(rs, d)
	allowed := toAdd - added
	if toAdd > 0 {
		return min(f, allowed)
	}
	return max(f, allowed)
}

func intAnnotation(rs *shoalv1.ReplicaSet, name string) (int32, bool) {
	v, ok := rs.GetMetadata().GetAnnotations()[name]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, false
	}
	return int32(n), true
}
