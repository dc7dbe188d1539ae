package deployment

import (
	"context"
	"slices"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

// syncScale handles a paused Deployment and a change of replicas: resize
// the ReplicaSets (proportionally during a rollout), drop history beyond
// the limit when paused, and report.
func (c *Controller) syncScale(ctx context.Context, s *syncState) error {
	newRS, old, err := c.allReplicaSets(ctx, s, false)
	if err != nil {
		return err
	}
	if err := c.scale(ctx, s.d, newRS, old); err != nil {
		return err
	}
	if s.d.GetSpec().GetPaused() {
		if err := c.cleanup(ctx, s.d, old); err != nil {
			return err
		}
	}
	all := append(filterNonNil(old), newRS)
	return c.updateStatus(ctx, s.d, calculateStatus(s.d, all, newRS, c.now()))
}

// isScalingEvent reports whether replicas changed since the active
// ReplicaSets were last sized (their desired-replicas annotation).
func (c *Controller) isScalingEvent(ctx context.Context, s *syncState) (bool, error) {
	newRS, old, err := c.allReplicaSets(ctx, s, false)
	if err != nil {
		return false, err
	}
	for _, rs := range activeReplicaSets(append(old, newRS)) {
		if desired, ok := intAnnotation(rs, DesiredReplicasAnnotation); ok && desired != replicas(s.d) {
			return true, nil
		}
	}
	return false, nil
}

// scale resizes the Deployment's ReplicaSets to its replicas.
func (c *Controller) scale(ctx context.Context, d *shoalv1.Deployment, newRS *shoalv1.ReplicaSet, old []*shoalv1.ReplicaSet) error {
	// One active (or no active but a latest) ReplicaSet takes it all.
	if rs := activeOrLatest(newRS, old); rs != nil {
		if specReplicas(rs) == replicas(d) {
			return nil
		}
		_, _, err := c.scaleReplicaSet(ctx, rs, replicas(d), d)
		return err
	}
	// The new ReplicaSet is saturated: old ones go.
	if saturated(d, newRS) {
		for _, rs := range activeReplicaSets(old) {
			if _, _, err := c.scaleReplicaSet(ctx, rs, 0, d); err != nil {
				return err
			}
		}
		return nil
	}
	if !isRollingUpdate(d) {
		return nil
	}
	// Mid-rollout: spread the change over the active ReplicaSets in
	// proportion to their sizes, larger ones first.
	all := activeReplicaSets(append(slices.Clone(old), newRS))
	var allowed int32
	if replicas(d) > 0 {
		allowed = replicas(d) + maxSurge(d)
	}
	toAdd := allowed - sumSpec(all)
	sizes := proportionalSizes(d, all, toAdd)
	for _, rs := range all {
		if _, _, err := c.scaleReplicaSet(ctx, rs, sizes[rs], d); err != nil {
			return err
		}
	}
	return nil
}

// proportionalSizes shares toAdd (negative: to remove) among the active
// ReplicaSets; what rounding leaves over goes to the largest.
func proportionalSizes(d *shoalv1.Deployment, all []*shoalv1.ReplicaSet, toAdd int32) map[*shoalv1.ReplicaSet]int32 {
	ordered := slices.Clone(all)
	newerFirst := toAdd > 0
	slices.SortStableFunc(ordered, func(a, b *shoalv1.ReplicaSet) int {
		if sa, sb := specReplicas(a), specReplicas(b); sa != sb {
			return int(sb - sa) // larger first
		}
		c := a.GetMetadata().GetCreationTimestamp().AsTime().Compare(b.GetMetadata().GetCreationTimestamp().AsTime())
		if newerFirst {
			return -c
		}
		return c
	})
	sizes := map[*shoalv1.ReplicaSet]int32{}
	var added int32
	for _, rs := range ordered {
		p := proportion(rs, d, toAdd, added)
		sizes[rs] = specReplicas(rs) + p
		added += p
	}
	if toAdd != 0 && len(ordered) > 0 {
		first := ordered[0]
		sizes[first] = max(sizes[first]+toAdd-added, 0)
	}
	return sizes
}

// activeOrLatest returns the one active ReplicaSet, or when none is
// active the new one or else the newest old one; nil when several are
// active.
func activeOrLatest(newRS *shoalv1.ReplicaSet, old []*shoalv1.ReplicaSet) *shoalv1.ReplicaSet {
	if newRS == nil && len(old) == 0 {
		return nil
	}
	newest := slices.Clone(old)
	slices.SortStableFunc(newest, func(a, b *shoalv1.ReplicaSet) int {
		return b.GetMetadata().GetCreationTimestamp().AsTime().Compare(a.GetMetadata().GetCreationTimestamp().AsTime())
	})
	active := activeReplicaSets(append(newest, newRS))
	switch len(active) {
	case 0:
		if newRS != nil {
			return newRS
		}
		return newest[0]
	case 1:
		return active[0]
	}
	return nil
}

// saturated: the new ReplicaSet is sized for the Deployment and all its
// pods are available.
func saturated(d *shoalv1.Deployment, rs *shoalv1.ReplicaSet) bool {
	if rs == nil {
		return false
	}
	desired, ok := intAnnotation(rs, DesiredReplicasAnnotation)
	return ok && desired == replicas(d) && specReplicas(rs) == replicas(d) && rs.GetStatus().GetAvailableReplicas() == replicas(d)
}
