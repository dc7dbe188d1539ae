package replicaset

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

var t0 = time.Unix(1_700_000_000, 0)

type podOpt func(*shoalv1.Pod)

func onNode(n string) podOpt { return func(p *shoalv1.Pod) { p.Spec.NodeName = n } }
func phase(ph shoalv1.PodPhase) podOpt {
	return func(p *shoalv1.Pod) { p.Status.Phase = ph }
}
func readyAt(t time.Time) podOpt {
	return func(p *shoalv1.Pod) {
		p.Status.Conditions = append(p.Status.Conditions, &shoalv1.Condition{Type: "Ready", Status: shoalv1.ConditionStatus_CONDITION_STATUS_TRUE, LastTransitionTime: timestamppb.New(t)})
	}
}
func createdAt(t time.Time) podOpt {
	return func(p *shoalv1.Pod) { p.Metadata.CreationTimestamp = timestamppb.New(t) }
}
func restarts(n int32) podOpt {
	return func(p *shoalv1.Pod) {
		p.Status.ContainerStatuses = []*shoalv1.ContainerStatus{{Name: "app", RestartCount: n}}
	}
}
func labelled(l map[string]string) podOpt { return func(p *shoalv1.Pod) { p.Metadata.Labels = l } }

func pod(name string, opts ...podOpt) *shoalv1.Pod {
	p := &shoalv1.Pod{
		Metadata: &shoalv1.ObjectMeta{Name: name, Namespace: "ns", CreationTimestamp: timestamppb.New(t0), Labels: map[string]string{"app": "web"}},
		Spec:     &shoalv1.PodSpec{},
		Status:   &shoalv1.PodStatus{Phase: shoalv1.PodPhase_POD_PHASE_RUNNING},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func names(pods []*shoalv1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.GetMetadata().GetName())
	}
	return out
}

func TestPodsToDelete(t *testing.T) {
	running := shoalv1.PodPhase_POD_PHASE_RUNNING
	cases := []struct {
		name string
		pods []*shoalv1.Pod
		n    int
		want []string
	}{
		{
			name: "unscheduled first",
			pods: []*shoalv1.Pod{pod("bound", onNode("a"), readyAt(t0)), pod("pending", phase(shoalv1.PodPhase_POD_PHASE_PENDING))},
			n:    1, want: []string{"pending"},
		},
		{
			name: "pending before unknown before running",
			pods: []*shoalv1.Pod{
				pod("run", onNode("a"), phase(running)), pod("unk", onNode("a"), phase(shoalv1.PodPhase_POD_PHASE_UNKNOWN)),
				pod("pend", onNode("a"), phase(shoalv1.PodPhase_POD_PHASE_PENDING)),
			},
			n: 2, want: []string{"pend", "unk"},
		},
		{
			name: "not ready before ready",
			pods: []*shoalv1.Pod{pod("ready", onNode("a"), readyAt(t0)), pod("notready", onNode("a"))},
			n:    1, want: []string{"notready"},
		},
		{
			name: "doubled-up nodes first",
			pods: []*shoalv1.Pod{
				pod("alone", onNode("a"), readyAt(t0)), pod("pair-1", onNode("b"), readyAt(t0)), pod("pair-2", onNode("b"), readyAt(t0)),
			},
			n: 1, want: []string{"pair-1"},
		},
		{
			name: "ready for less time first",
			pods: []*shoalv1.Pod{pod("old", onNode("a"), readyAt(t0)), pod("new", onNode("b"), readyAt(t0.Add(time.Minute)))},
			n:    1, want: []string{"new"},
		},
		{
			name: "more restarts first",
			pods: []*shoalv1.Pod{pod("calm", onNode("a"), readyAt(t0)), pod("crashy", onNode("b"), readyAt(t0), restarts(4))},
			n:    1, want: []string{"crashy"},
		},
		{
			name: "youngest first",
			pods: []*shoalv1.Pod{
				pod("elder", onNode("a"), readyAt(t0), createdAt(t0)),
				pod("young", onNode("b"), readyAt(t0), createdAt(t0.Add(time.Hour))),
				pod("middle", onNode("c"), readyAt(t0), createdAt(t0.Add(time.Minute))),
			},
			n: 2, want: []string{"young", "middle"},
		},
		{
			name: "all of them",
			pods: []*shoalv1.Pod{pod("a"), pod("b")},
			n:    5, want: []string{"a", "b"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := names(podsToDelete(tc.pods, tc.n))
			if !slices.Equal(got, tc.want) {
				t.Fatalf("podsToDelete = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCalculateStatus(t *testing.T) {
	now := t0.Add(time.Hour)
	rs := &shoalv1.ReplicaSet{
		Metadata: &shoalv1.ObjectMeta{Name: "web", Namespace: "ns", Generation: 7},
		Spec: &shoalv1.ReplicaSetSpec{Replicas: proto.Int32(4), MinReadySeconds: 30,
			Template: &shoalv1.PodTemplateSpec{Metadata: &shoalv1.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "fe"}}}},
	}
	pods := []*shoalv1.Pod{
		pod("available", labelled(map[string]string{"app": "web", "tier": "fe"}), readyAt(now.Add(-time.Minute))),
		pod("just-ready", labelled(map[string]string{"app": "web", "tier": "fe"}), readyAt(now.Add(-10*time.Second))),
		pod("not-ready", labelled(map[string]string{"app": "web"})),
	}
	st := calculateStatus(rs, pods, nil, now)
	want := &shoalv1.ReplicaSetStatus{Replicas: 3, FullyLabeledReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 1, ObservedGeneration: 7}
	if !proto.Equal(st, want) {
		t.Fatalf("status %v, want %v", st, want)
	}
	st = calculateStatus(rs, pods, errors.New("quota"), now)
	if c := st.GetConditions(); len(c) != 1 || c[0].GetType() != ConditionReplicaFailure || c[0].GetReason() != "FailedCreate" {
		t.Fatalf("conditions after a failed create: %v", c)
	}
	rs.Status = st
	if st := calculateStatus(rs, pods, nil, now); len(st.GetConditions()) != 0 {
		t.Fatalf("a successful sync must clear ReplicaFailure: %v", st.GetConditions())
	}
}

func TestSlowStartBatch(t *testing.T) {
	cases := []struct {
		count, failAt int // failAt: the call number that fails (1-based), 0 none
		wantOK        int
		wantCalls     int64
	}{
		{count: 10, wantOK: 10, wantCalls: 10},
		{count: 10, failAt: 1, wantOK: 0, wantCalls: 1},
		// Batches 1, 2, 4: the 4th call fails in the third batch, whose 4
		// calls all run.
		{count: 10, failAt: 4, wantOK: 6, wantCalls: 7},
		{count: 0, wantOK: 0, wantCalls: 0},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d-fail-%d", tc.count, tc.failAt), func(t *testing.T) {
			var calls atomic.Int64
			ok, err := slowStartBatch(tc.count, 1, func() error {
				if n := calls.Add(1); tc.failAt > 0 && n == int64(tc.failAt) {
					return errors.New("boom")
				}
				return nil
			})
			if ok != tc.wantOK || calls.Load() != tc.wantCalls || (err != nil) != (tc.failAt > 0) {
				t.Fatalf("ok=%d calls=%d err=%v; want ok=%d calls=%d", ok, calls.Load(), err, tc.wantOK, tc.wantCalls)
			}
		})
	}
}
