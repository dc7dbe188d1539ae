package nodelifecycle

import (
	"context"
	"fmt"
	"slices"
	"time"

	"golang.org/x/time/rate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/controller/conditions"
	"github.com/shoalmesh/shoal/services/controller/control"
	"github.com/shoalmesh/shoal/services/controller/informers"
	"github.com/shoalmesh/shoal/services/controller/podstate"
)

// monitor is one pass over every node: refresh the Ready condition from
// the lease, mark pods of unhealthy nodes not ready, classify zones, and
// bring taints in line.
func (c *Controller) monitor(ctx context.Context) {
	now := c.now()
	nodes := c.nodes.List()
	slices.SortFunc(nodes, func(a, b *shoalv1.Node) int { return compare(a.GetMetadata().GetName(), b.GetMetadata().GetName()) })

	seen := map[string]bool{}
	current := make([]*shoalv1.Node, 0, len(nodes))
	for _, n := range nodes {
		name := n.GetMetadata().GetName()
		seen[name] = true
		updated, err := c.checkHeartbeat(ctx, n, now)
		if err != nil {
			c.log.WarnContext(ctx, "updating node status", "node", name, "err", err)
			updated = n
		}
		current = append(current, updated)
		if readyStatus(updated) == conditions.Unknown {
			// Nobody reports on these pods any more. (A node whose agent
			// says Ready=False still reports its pods itself.)
			c.markPodsNotReady(ctx, updated)
		}
	}
	for name := range c.health {
		if !seen[name] {
			delete(c.health, name)
		}
	}
	c.classifyZones(ctx, current)
	for _, n := range current {
		if err := c.reconcileTaints(ctx, n, now); err != nil {
			c.log.WarnContext(ctx, "updating node taints", "node", n.GetMetadata().GetName(), "err", err)
		}
	}
}

// readyStatus is the node's Ready status; UNSPECIFIED when the node has
// not reported one yet (it gets the grace period before it counts as
// Unknown).
func readyStatus(n *shoalv1.Node) shoalv1.ConditionStatus {
	return conditions.Get(n.GetStatus().GetConditions(), conditionReady).GetStatus()
}

// unhealthy: Ready is False or Unknown.
func unhealthy(n *shoalv1.Node) bool {
	s := readyStatus(n)
	return s == conditions.False || s == conditions.Unknown
}

// checkHeartbeat records the node's latest heartbeat and, when it is older
// than the grace period, sets Ready=Unknown; when heartbeats resume after
// the controller set Unknown, it sets Ready=True again (the agent's next
// status report overrides it either way). It returns the node as stored.
func (c *Controller) checkHeartbeat(ctx context.Context, n *shoalv1.Node, now time.Time) (*shoalv1.Node, error) {
	name := n.GetMetadata().GetName()
	h := c.health[name]
	if h == nil {
		// First sight (or a new leader): the grace period starts now, as in
		// Kubernetes, rather than trusting timestamps from other clocks.
		h = &nodeHealth{probe: now}
		c.health[name] = h
	}
	if l, ok := c.leases.Get(LeaseNamespace + "/" + name); ok && l.GetSpec().GetRenewTime() != nil {
		if rt := l.GetSpec().GetRenewTime().AsTime(); !rt.Equal(h.renew) {
			h.renew, h.probe = rt, now
		}
	}
	ready := conditions.Get(n.GetStatus().GetConditions(), conditionReady)
	stale := now.Sub(h.probe) > c.cfg.GracePeriod
	var want *shoalv1.Condition
	switch {
	case stale && ready.GetStatus() != conditions.Unknown:
		want = &shoalv1.Condition{Type: conditionReady, Status: conditions.Unknown, Reason: ReasonNodeStatusUnknown,
			Message: "Node agent stopped renewing its lease.", LastProbeTime: timestamppb.New(now)}
	case !stale && ready.GetStatus() == conditions.Unknown && ready.GetReason() == ReasonNodeStatusUnknown:
		want = &shoalv1.Condition{Type: conditionReady, Status: conditions.True, Reason: ReasonLeaseRenewed,
			Message: "Node agent renews its lease again.", LastProbeTime: timestamppb.New(now)}
	default:
		return n, nil
	}
	next := proto.Clone(n).(*shoalv1.Node)
	if next.Status == nil {
		next.Status = &shoalv1.NodeStatus{}
	}
	next.Status.Conditions = conditions.Set(next.Status.Conditions, want, now)
	out, err := c.nodeCli.UpdateStatus(ctx, next)
	if err != nil {
		return n, err
	}
	if want.GetStatus() == conditions.Unknown {
		c.rec.Event(out, control.Warning, ReasonNodeNotReady, fmt.Sprintf("Node %s status is now: NodeNotReady (no lease renewal for %s)", name, now.Sub(h.probe).Round(time.Second)))
		c.log.InfoContext(ctx, "node stopped renewing its lease", "node", name, "since", h.probe)
	} else {
		c.rec.Event(out, control.Normal, ReasonNodeReady, fmt.Sprintf("Node %s renews its lease again", name))
	}
	return out, nil
}

// markPodsNotReady sets Ready=False on the pods of an unreachable node, so
// that endpoints stop sending them traffic.
func (c *Controller) markPodsNotReady(ctx context.Context, n *shoalv1.Node) {
	now := c.now()
	for _, p := range c.pods.ByIndex(informers.NodeName, n.GetMetadata().GetName()) {
		if !podstate.IsReady(p) || podstate.IsTerminal(p) {
			continue
		}
		next := proto.Clone(p).(*shoalv1.Pod)
		next.Status.Conditions = conditions.Set(next.Status.Conditions, &shoalv1.Condition{
			Type: podstate.Ready, Status: conditions.False, Reason: reasonPodNodeNotReady, Message: "The pod's node is not ready.",
		}, now)
		if _, err := c.podCli.UpdateStatus(ctx, next); err != nil && !client.IsNotFound(err) {
			c.log.WarnContext(ctx, "marking pod not ready", "pod", p.GetMetadata().GetNamespace()+"/"+p.GetMetadata().GetName(), "err", err)
			continue
		}
		c.rec.Event(p, control.Warning, ReasonMarkedNotReady, "Node "+n.GetMetadata().GetName()+" is not ready")
	}
}

// classifyZones computes each zone's state and sets its taint rate.
func (c *Controller) classifyZones(ctx context.Context, nodes []*shoalv1.Node) {
	type count struct{ ready, notReady int }
	counts := map[string]*count{}
	for _, n := range nodes {
		z := n.GetMetadata().GetLabels()[ZoneLabel]
		if counts[z] == nil {
			counts[z] = &count{}
		}
		if unhealthy(n) {
			counts[z].notReady++
		} else {
			counts[z].ready++
		}
	}
	allDown := len(counts) > 0
	for z, n := range counts {
		state := computeZoneState(n.ready, n.notReady, c.cfg.UnhealthyZoneThreshold)
		if state != stateFullDisruption {
			allDown = false
		}
		if prev, ok := c.zones[z]; !ok || prev != state {
			c.log.InfoContext(ctx, "zone state", "zone", z, "state", state.String(), "ready", n.ready, "not_ready", n.notReady)
		}
		c.zones[z] = state
		qps := evictionRate(state, n.ready+n.notReady, c.cfg)
		l := c.limiters[z]
		if l == nil {
			l = rate.NewLimiter(rate.Limit(qps), 1)
			c.limiters[z] = l
		}
		l.SetLimit(rate.Limit(qps))
	}
	for z := range c.zones {
		if counts[z] == nil {
			delete(c.zones, z)
			delete(c.limiters, z)
		}
	}
	if allDown != c.fullDisr {
		c.log.WarnContext(ctx, "every node is unhealthy: evictions stop until one recovers", "full_disruption", allDown)
	}
	c.fullDisr = allDown
}

// reconcileTaints puts the taints that match the node's Ready condition on
// it: NoSchedule at once, NoExecute when the zone's rate limiter allows
// (never in a full disruption of every zone), and removes them when the
// node is ready again.
func (c *Controller) reconcileTaints(ctx context.Context, n *shoalv1.Node, now time.Time) error {
	var key string
	switch readyStatus(n) {
	case conditions.Unknown:
		key = TaintUnreachable
	case conditions.False:
		key = TaintNotReady
	}
	have := n.GetSpec().GetTaints()
	want := slices.DeleteFunc(slices.Clone(have), func(t *shoalv1.Taint) bool {
		// Drop ours unless it is the one wanted; keep everyone else's.
		return ours(t) && (t.GetKey() != key || (t.GetEffect() == noExecute && c.fullDisr))
	})
	tainted := false
	if key != "" {
		if !hasTaint(want, key, noSchedule) {
			want = append(want, &shoalv1.Taint{Key: key, Effect: noSchedule, TimeAdded: timestamppb.New(now)})
		}
		if !hasTaint(want, key, noExecute) && !c.fullDisr {
			other := TaintNotReady
			if key == TaintNotReady {
				other = TaintUnreachable
			}
			// Swapping unreachable and not-ready is not a new eviction:
			// no token needed.
			if hasTaint(have, other, noExecute) || c.allow(n) {
				want = append(want, &shoalv1.Taint{Key: key, Effect: noExecute, TimeAdded: timestamppb.New(now)})
				tainted = true
			}
		}
	}
	if taintsEqual(have, want) {
		return nil
	}
	next := proto.Clone(n).(*shoalv1.Node)
	if next.Spec == nil {
		next.Spec = &shoalv1.NodeSpec{}
	}
	next.Spec.Taints = want
	next.Status = nil
	out, err := c.nodeCli.Update(ctx, next)
	if err != nil {
		return err
	}
	if tainted {
		c.rec.Event(out, control.Warning, ReasonTainted, fmt.Sprintf("Node %s tainted %s:NoExecute; its pods will be evicted", n.GetMetadata().GetName(), key))
	}
	return nil
}

// allow takes an eviction token from the node's zone.
func (c *Controller) allow(n *shoalv1.Node) bool {
	l := c.limiters[n.GetMetadata().GetLabels()[ZoneLabel]]
	if l == nil || l.Limit() <= 0 {
		return false
	}
	return l.Allow()
}

func taintsEqual(a, b []*shoalv1.Taint) bool {
	return slices.EqualFunc(a, b, func(x, y *shoalv1.Taint) bool { return proto.Equal(x, y) })
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
