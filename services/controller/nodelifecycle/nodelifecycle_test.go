package nodelifecycle

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"golang.org/x/time/rate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

var t0 = time.Unix(1_700_000_000, 0)

func taint(key string, effect shoalv1.TaintEffect, added time.Time) *shoalv1.Taint {
	return &shoalv1.Taint{Key: key, Effect: effect, TimeAdded: timestamppb.New(added)}
}

func podTolerating(tols ...*shoalv1.Toleration) *shoalv1.Pod {
	return &shoalv1.Pod{Metadata: &shoalv1.ObjectMeta{Name: "p"}, Spec: &shoalv1.PodSpec{Tolerations: tols}}
}

func TestEvictionTime(t *testing.T) {
	exists := shoalv1.TolerationOperator_TOLERATION_OPERATOR_EXISTS
	equal := shoalv1.TolerationOperator_TOLERATION_OPERATOR_EQUAL
	unreachable := taint(TaintUnreachable, noExecute, t0)
	cases := []struct {
		name   string
		pod    *shoalv1.Pod
		taints []*shoalv1.Taint
		want   time.Duration // after t0
		stays  bool
	}{
		{name: "default toleration", pod: podTolerating(), taints: []*shoalv1.Taint{unreachable}, want: time.Minute},
		{name: "own toleration seconds", pod: podTolerating(&shoalv1.Toleration{Key: TaintUnreachable, Operator: exists, Effect: noExecute, TolerationSeconds: proto.Int64(5)}),
			taints: []*shoalv1.Taint{unreachable}, want: 5 * time.Second},
		{name: "tolerates forever", pod: podTolerating(&shoalv1.Toleration{Operator: exists}), taints: []*shoalv1.Taint{unreachable}, stays: true},
		{name: "NoSchedule is not evicting", pod: podTolerating(), taints: []*shoalv1.Taint{taint(TaintUnreachable, noSchedule, t0)}, stays: true},
		{name: "someone else's NoExecute taint: now", pod: podTolerating(), taints: []*shoalv1.Taint{taint("dedicated", noExecute, t0)}, want: 0},
		{name: "value must match with Equal", pod: podTolerating(&shoalv1.Toleration{Key: "dedicated", Operator: equal, Value: "gpu"}),
			taints: []*shoalv1.Taint{{Key: "dedicated", Value: "db", Effect: noExecute, TimeAdded: timestamppb.New(t0)}}, want: 0},
		{name: "earliest of several", pod: podTolerating(&shoalv1.Toleration{Key: TaintNotReady, Operator: exists, TolerationSeconds: proto.Int64(300)}),
			taints: []*shoalv1.Taint{taint(TaintNotReady, noExecute, t0), taint(TaintUnreachable, noExecute, t0.Add(10*time.Second))}, want: 70 * time.Second},
		{name: "negative seconds mean now", pod: podTolerating(&shoalv1.Toleration{Operator: exists, TolerationSeconds: proto.Int64(-3)}),
			taints: []*shoalv1.Taint{unreachable}, want: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			at, ok := evictionTime(tc.pod, tc.taints, time.Minute, t0.Add(time.Hour))
			if ok == tc.stays {
				t.Fatalf("evict = %v, want %v", ok, !tc.stays)
			}
			if ok && !at.Equal(t0.Add(tc.want)) {
				t.Fatalf("eviction at t0+%v, want t0+%v", at.Sub(t0), tc.want)
			}
		})
	}
}

func TestComputeZoneState(t *testing.T) {
	cases := []struct {
		ready, notReady int
		want            zoneState
	}{
		{ready: 3, notReady: 0, want: stateNormal},
		{ready: 2, notReady: 1, want: stateNormal},
		{ready: 0, notReady: 1, want: stateFullDisruption},
		{ready: 1, notReady: 2, want: stateNormal}, // two or fewer never count as partial
		{ready: 2, notReady: 3, want: statePartialDisruption},
		{ready: 5, notReady: 5, want: stateNormal}, // 50% < 55%
		{ready: 0, notReady: 0, want: stateNormal},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d-%d", tc.ready, tc.notReady), func(t *testing.T) {
			if got := computeZoneState(tc.ready, tc.notReady, 0.55); got != tc.want {
				t.Fatalf("state %v, want %v", got, tc.want)
			}
		})
	}
	cfg := NewConfig()
	if r := evictionRate(statePartialDisruption, 10, cfg); r != 0 {
		t.Fatalf("a small zone in partial disruption must stop evicting, got %v", r)
	}
	if r := evictionRate(statePartialDisruption, 100, cfg); r != cfg.SecondaryEvictionRate {
		t.Fatalf("a large zone in partial disruption evicts at the secondary rate, got %v", r)
	}
	if r := evictionRate(stateFullDisruption, 3, cfg); r != cfg.EvictionRate {
		t.Fatalf("full disruption of one zone evicts at the normal rate, got %v", r)
	}
}

func node(name, zone string, ready shoalv1.ConditionStatus) *shoalv1.Node {
	return &shoalv1.Node{
		Metadata: &shoalv1.ObjectMeta{Name: name, Labels: map[string]string{ZoneLabel: zone}},
		Status:   &shoalv1.NodeStatus{Conditions: []*shoalv1.Condition{{Type: "Ready", Status: ready}}},
	}
}

// TestEvictionRateLimit: when several nodes fail at once, NoExecute taints
// (which start evictions) come at the configured rate per zone; a zone
// mostly down stops; everything down stops everywhere.
func TestEvictionRateLimit(t *testing.T) {
	cfg := NewConfig()
	cfg.EvictionRate = 1 // one node per second, burst 1
	c := &Controller{cfg: cfg, log: slog.New(slog.DiscardHandler), limiters: map[string]*rate.Limiter{}, zones: map[string]zoneState{}}
	ctx := context.Background()
	T, U := shoalv1.ConditionStatus_CONDITION_STATUS_TRUE, shoalv1.ConditionStatus_CONDITION_STATUS_UNKNOWN

	// Zone a: 2 of 10 down (normal). Zone b: 3 of 4 down (partial, small).
	var nodes []*shoalv1.Node
	for i := range 10 {
		s := T
		if i < 2 {
			s = U
		}
		nodes = append(nodes, node(fmt.Sprintf("a%d", i), "a", s))
	}
	for i := range 4 {
		s := U
		if i == 0 {
			s = T
		}
		nodes = append(nodes, node(fmt.Sprintf("b%d", i), "b", s))
	}
	c.classifyZones(ctx, nodes)
	if c.zones["a"] != stateNormal || c.zones["b"] != statePartialDisruption || c.fullDisr {
		t.Fatalf("zones %v full=%v", c.zones, c.fullDisr)
	}
	if !c.allow(nodes[0]) {
		t.Fatal("the first failed node of a normal zone is tainted at once")
	}
	if c.allow(nodes[1]) {
		t.Fatal("the second must wait for the rate limit")
	}
	if c.allow(nodes[11]) {
		t.Fatal("a small zone in partial disruption must not evict")
	}

	// Everything down: no NoExecute anywhere.
	for _, n := range nodes {
		n.Status.Conditions[0].Status = U
	}
	c.classifyZones(ctx, nodes)
	if !c.fullDisr {
		t.Fatal("all zones down must be a full disruption")
	}
}
