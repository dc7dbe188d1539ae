package deployment

import (
	"context"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

// rolloutRolling moves a Deployment one step towards its template: grow
// the new ReplicaSet within max_surge, shrink old ones within
// max_unavailable, then report. Every step that writes returns at once;
// the next sync starts again from a cache that shows the write.
func (c *Controller) rolloutRolling(ctx context.Context, s *syncState) error {
	newRS, old, err := c.allReplicaSets(ctx, s, true)
	if err != nil {
		return err
	}
	all := append(filterNonNil(old), newRS)
	counts := s.counts()

	scaledUp, err := c.reconcileNewReplicaSet(ctx, s.d, all, newRS, counts)
	if err != nil {
		return err
	}
	if scaledUp {
		return c.syncRolloutStatus(ctx, s.d, all, newRS)
	}
	scaledDown, err := c.reconcileOldReplicaSets(ctx, s.d, all, activeReplicaSets(old), newRS)
	if err != nil {
		return err
	}
	if scaledDown {
		return c.syncRolloutStatus(ctx, s.d, all, newRS)
	}
	if complete(s.d, calculateStatus(s.d, all, newRS, c.now())) {
		if err := c.cleanup(ctx, s.d, old); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, s.d, all, newRS)
}

// reconcileNewReplicaSet scales the new ReplicaSet towards replicas.
func (c *Controller) reconcileNewReplicaSet(ctx context.Context, d *shoalv1.Deployment, all []*shoalv1.ReplicaSet, newRS *shoalv1.ReplicaSet, counts podCounts) (bool, error) {
	want := replicas(d)
	switch have := specReplicas(newRS); {
	case have == want:
		return false, nil
	case have > want:
		scaled, _, err := c.scaleReplicaSet(ctx, newRS, want, d)
		return scaled, err
	}
	scaled, _, err := c.scaleReplicaSet(ctx, newRS, newRSNewReplicas(d, all, newRS, counts), d)
	return scaled, err
}

// reconcileOldReplicaSets shrinks old ReplicaSets: first by their
// unavailable pods (removing them costs no availability), then by
// available ones as far as max_unavailable allows.
func (c *Controller) reconcileOldReplicaSets(ctx context.Context, d *shoalv1.Deployment, all, old []*shoalv1.ReplicaSet, newRS *shoalv1.ReplicaSet) (bool, error) {
	if sumSpec(old) == 0 {
		return false, nil
	}
	budget := oldScaleDownBudget(d, all, newRS)
	if budget <= 0 {
		return false, nil
	}
	plan := unhealthyCleanup(old, budget)
	if len(plan) == 0 {
		plan = availableScaleDown(d, all, old)
	}
	scaledAny := false
	for _, rs := range byCreation(old) {
		size, ok := plan[rs]
		if !ok {
			continue
		}
		scaled, _, err := c.scaleReplicaSet(ctx, rs, size, d)
		if err != nil {
			return scaledAny, err
		}
		scaledAny = scaledAny || scaled
	}
	return scaledAny, nil
}

func filterNonNil(rss []*shoalv1.ReplicaSet) []*shoalv1.ReplicaSet {
	out := make([]*shoalv1.ReplicaSet, 0, len(rss))
	for _, rs := range rss {
		if rs != nil {
			out = append(out, rs)
		}
	}
	return out
}

// activeReplicaSets are those with a non-zero size.
func activeReplicaSets(rss []*shoalv1.ReplicaSet) []*shoalv1.ReplicaSet {
	var out []*shoalv1.ReplicaSet
	for _, rs := range rss {
		if rs != nil && specReplicas(rs) > 0 {
			out = append(out, rs)
		}
	}
	return out
}
