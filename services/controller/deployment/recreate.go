package deployment

import (
	"context"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/controller/podstate"
)

// rolloutRecreate scales every old ReplicaSet to zero, waits until none of
// their pods is left running, then scales the new one up.
func (c *Controller) rolloutRecreate(ctx context.Context, s *syncState) error {
	newRS, old, err := c.allReplicaSets(ctx, s, false)
	if err != nil {
		return err
	}
	all := append(filterNonNil(old), newRS)
	scaledDown := false
	for _, rs := range activeReplicaSets(old) {
		scaled, _, err := c.scaleReplicaSet(ctx, rs, 0, s.d)
		if err != nil {
			return err
		}
		scaledDown = scaledDown || scaled
	}
	if scaledDown {
		return c.syncRolloutStatus(ctx, s.d, all, newRS)
	}
	if oldPodsRunning(newRS, old, s.pods) {
		return c.syncRolloutStatus(ctx, s.d, all, newRS)
	}
	if newRS == nil {
		if newRS, old, err = c.allReplicaSets(ctx, s, true); err != nil {
			return err
		}
		all = append(filterNonNil(old), newRS)
	}
	if _, _, err := c.scaleReplicaSet(ctx, newRS, replicas(s.d), s.d); err != nil {
		return err
	}
	if complete(s.d, calculateStatus(s.d, all, newRS, c.now())) {
		if err := c.cleanup(ctx, s.d, old); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, s.d, all, newRS)
}

// oldPodsRunning reports whether an old ReplicaSet still reports pods or
// still has a pod that has not finished (terminating ones included).
func oldPodsRunning(newRS *shoalv1.ReplicaSet, old []*shoalv1.ReplicaSet, pods map[string][]*shoalv1.Pod) bool {
	if sumStatus(old, (*shoalv1.ReplicaSetStatus).GetReplicas) > 0 {
		return true
	}
	for uid, ps := range pods {
		if newRS != nil && uid == newRS.GetMetadata().GetUid() {
			continue
		}
		for _, p := range ps {
			if !podstate.IsTerminal(p) {
				return true
			}
		}
	}
	return false
}
