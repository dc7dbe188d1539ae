package deployment

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

func ios(v any) *shoalv1.IntOrString {
	switch x := v.(type) {
	case int:
		return &shoalv1.IntOrString{Value: &shoalv1.IntOrString_IntValue{IntValue: int32(x)}}
	case string:
		return &shoalv1.IntOrString{Value: &shoalv1.IntOrString_StrValue{StrValue: x}}
	}
	return nil
}

func TestResolveFenceposts(t *testing.T) {
	cases := []struct {
		surge, unav         any
		desired             int32
		wantSurge, wantUnav int32
		wantErr             bool
	}{
		{surge: "25%", unav: "25%", desired: 10, wantSurge: 3, wantUnav: 2}, // surge rounds up, unavailable down
		{surge: "25%", unav: "25%", desired: 1000, wantSurge: 250, wantUnav: 250},
		{surge: 2, unav: 1, desired: 6, wantSurge: 2, wantUnav: 1},
		{surge: "0%", unav: "10%", desired: 5, wantSurge: 0, wantUnav: 1}, // both 0: unavailable becomes 1
		{surge: 0, unav: 0, desired: 3, wantSurge: 0, wantUnav: 1},
		{surge: "100%", unav: 0, desired: 3, wantSurge: 3, wantUnav: 0},
		{surge: nil, unav: nil, desired: 4, wantSurge: 1, wantUnav: 1}, // defaults 25%
		{surge: "abc", unav: 1, desired: 3, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%v/%v/%d", tc.surge, tc.unav, tc.desired), func(t *testing.T) {
			s, u, err := resolveFenceposts(ios(tc.surge), ios(tc.unav), tc.desired)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if !tc.wantErr && (s != tc.wantSurge || u != tc.wantUnav) {
				t.Fatalf("surge, unavailable = %d, %d; want %d, %d", s, u, tc.wantSurge, tc.wantUnav)
			}
		})
	}
}

var t0 = time.Unix(1_700_000_000, 0)

type rsOpt func(*shoalv1.ReplicaSet)

func rs(name string, spec int32, opts ...rsOpt) *shoalv1.ReplicaSet {
	r := &shoalv1.ReplicaSet{
		Metadata: &shoalv1.ObjectMeta{Name: name, Uid: "uid-" + name, CreationTimestamp: timestamppb.New(t0)},
		Spec:     &shoalv1.ReplicaSetSpec{Replicas: proto.Int32(spec)},
		Status:   &shoalv1.ReplicaSetStatus{Replicas: spec, ReadyReplicas: spec, AvailableReplicas: spec},
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

func status(replicas, available int32) rsOpt {
	return func(r *shoalv1.ReplicaSet) {
		r.Status.Replicas, r.Status.AvailableReplicas, r.Status.ReadyReplicas = replicas, available, available
	}
}
func age(d time.Duration) rsOpt {
	return func(r *shoalv1.ReplicaSet) { r.Metadata.CreationTimestamp = timestamppb.New(t0.Add(-d)) }
}
func maxReplicas(n int32) rsOpt {
	return func(r *shoalv1.ReplicaSet) {
		r.Metadata.Annotations = map[string]string{MaxReplicasAnnotation: strconv.Itoa(int(n))}
	}
}

func rolling(replicas int32, surge, unav any) *shoalv1.Deployment {
	return &shoalv1.Deployment{
		Metadata: &shoalv1.ObjectMeta{Name: "web", Generation: 1},
		Spec: &shoalv1.DeploymentSpec{Replicas: proto.Int32(replicas), Strategy: &shoalv1.DeploymentStrategy{
			Type:          shoalv1.DeploymentStrategyType_DEPLOYMENT_STRATEGY_TYPE_ROLLING_UPDATE,
			RollingUpdate: &shoalv1.RollingUpdateDeployment{MaxSurge: ios(surge), MaxUnavailable: ios(unav)},
		}},
	}
}

func TestNewRSNewReplicas(t *testing.T) {
	cases := []struct {
		name   string
		d      *shoalv1.Deployment
		old    []*shoalv1.ReplicaSet
		newRS  *shoalv1.ReplicaSet
		cached podCounts
		want   int32
	}{
		{name: "first rollout step", d: rolling(10, "25%", "25%"), old: []*shoalv1.ReplicaSet{rs("old", 10)}, newRS: rs("new", 0), want: 3},
		{name: "at surge limit", d: rolling(10, 3, 2), old: []*shoalv1.ReplicaSet{rs("old", 8)}, newRS: rs("new", 5), want: 5},
		{name: "room after old shrank", d: rolling(10, 3, 2), old: []*shoalv1.ReplicaSet{rs("old", 5, status(5, 5))}, newRS: rs("new", 5), want: 8},
		{name: "never above replicas", d: rolling(4, 4, 0), old: []*shoalv1.ReplicaSet{rs("old", 1)}, newRS: rs("new", 2), want: 4},
		{
			// The old ReplicaSet was scaled to 5 but still reports (and
			// has) 7 pods: they still take room.
			name: "old pods not yet gone", d: rolling(10, 3, 2),
			old: []*shoalv1.ReplicaSet{rs("old", 5, status(7, 7))}, newRS: rs("new", 5), want: 6,
		},
		{
			name: "cached pods count too", d: rolling(10, 3, 2),
			old: []*shoalv1.ReplicaSet{rs("old", 5, status(5, 5))}, newRS: rs("new", 5), cached: podCounts{"uid-old": 6}, want: 7,
		},
		{
			name: "recreate takes all", d: &shoalv1.Deployment{Spec: &shoalv1.DeploymentSpec{Replicas: proto.Int32(3),
				Strategy: &shoalv1.DeploymentStrategy{Type: shoalv1.DeploymentStrategyType_DEPLOYMENT_STRATEGY_TYPE_RECREATE}}},
			newRS: rs("new", 0), want: 3,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			all := append(tc.old, tc.newRS)
			if got := newRSNewReplicas(tc.d, all, tc.newRS, tc.cached); got != tc.want {
				t.Fatalf("newRSNewReplicas = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestOldScaleDown(t *testing.T) {
	cases := []struct {
		name       string
		d          *shoalv1.Deployment
		old        []*shoalv1.ReplicaSet
		newRS      *shoalv1.ReplicaSet
		wantBudget int32
		// wantUnhealthy / wantAvailable: old name -> new size
		wantUnhealthy, wantAvailable map[string]int32
	}{
		{
			// 10 old + 3 new (not ready): min available 8; 10 available;
			// budget 13 - 8 - 3 = 2.
			name: "first step", d: rolling(10, 3, 2),
			old:   []*shoalv1.ReplicaSet{rs("old", 10)},
			newRS: rs("new", 3, status(3, 0)), wantBudget: 2,
			wantUnhealthy: map[string]int32{}, wantAvailable: map[string]int32{"old": 8},
		},
		{
			name: "new pods not ready yet: nothing", d: rolling(10, 3, 2),
			old:   []*shoalv1.ReplicaSet{rs("old", 8)},
			newRS: rs("new", 5, status(5, 0)), wantBudget: 0,
			wantUnhealthy: map[string]int32{}, wantAvailable: map[string]int32{},
		},
		{
			name: "unhealthy old pods go first, oldest set first", d: rolling(10, 3, 2),
			old:   []*shoalv1.ReplicaSet{rs("older", 4, status(4, 2), age(time.Hour)), rs("old", 4, status(4, 3))},
			newRS: rs("new", 5, status(5, 5)), wantBudget: 5,
			wantUnhealthy: map[string]int32{"older": 2, "old": 3},
			wantAvailable: map[string]int32{"older": 2}, // 2+3+5 available, 8 needed
		},
		{
			// An old set reports more available pods than its spec (status
			// not yet caught up with a scale-down): only its spec counts.
			name: "stale available capped by spec", d: rolling(10, 3, 2),
			old:   []*shoalv1.ReplicaSet{rs("old", 5, status(8, 8))},
			newRS: rs("new", 8, status(8, 3)), wantBudget: 0,
			wantUnhealthy: map[string]int32{}, wantAvailable: map[string]int32{},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			all := append(tc.old, tc.newRS)
			if got := oldScaleDownBudget(tc.d, all, tc.newRS); got != tc.wantBudget {
				t.Fatalf("budget = %d, want %d", got, tc.wantBudget)
			}
			check := func(what string, plan map[*shoalv1.ReplicaSet]int32, want map[string]int32) {
				got := map[string]int32{}
				for r, n := range plan {
					got[r.GetMetadata().GetName()] = n
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("%s plan = %v, want %v", what, got, want)
				}
			}
			check("unhealthy", unhealthyCleanup(tc.old, max(tc.wantBudget, 0)), tc.wantUnhealthy)
			check("available", availableScaleDown(tc.d, all, tc.old), tc.wantAvailable)
		})
	}
}

func TestProportionalSizes(t *testing.T) {
	cases := []struct {
		name  string
		d     *shoalv1.Deployment
		rss   []*shoalv1.ReplicaSet
		toAdd int32
		want  map[string]int32
	}{
		{
			// 3 + 2 = 5 = 4 + 1 surge; to 8 + 2 = 10: double each.
			name: "scale up mid-rollout", d: rolling(8, "25%", "25%"),
			rss:   []*shoalv1.ReplicaSet{rs("old", 3, maxReplicas(5), age(time.Hour)), rs("new", 2, maxReplicas(5))},
			toAdd: 5, want: map[string]int32{"old": 6, "new": 4},
		},
		{
			name: "scale down mid-rollout", d: rolling(4, "25%", "25%"),
			rss:   []*shoalv1.ReplicaSet{rs("old", 6, maxReplicas(10), age(time.Hour)), rs("new", 4, maxReplicas(10))},
			toAdd: -5, want: map[string]int32{"old": 3, "new": 2},
		},
		{
			// Rounding leftovers go to the largest set.
			name: "leftover to the largest", d: rolling(10, 0, 1),
			rss:   []*shoalv1.ReplicaSet{rs("a", 2, maxReplicas(3), age(time.Hour)), rs("b", 1, maxReplicas(3))},
			toAdd: 7, want: map[string]int32{"a": 7, "b": 3},
		},
		{
			name: "to zero", d: rolling(0, 1, 1),
			rss:   []*shoalv1.ReplicaSet{rs("a", 2, maxReplicas(3)), rs("b", 1, maxReplicas(3))},
			toAdd: -3, want: map[string]int32{"a": 0, "b": 0},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]int32{}
			var total int32
			for r, n := range proportionalSizes(tc.d, tc.rss, tc.toAdd) {
				got[r.GetMetadata().GetName()] = n
				total += n
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("sizes = %v, want %v", got, tc.want)
			}
			if want := sumSpec(tc.rss) + tc.toAdd; total != want {
				t.Fatalf("sizes add up to %d, want %d", total, want)
			}
		})
	}
}

func TestStatusAndProgress(t *testing.T) {
	d := rolling(4, 1, 1)
	d.Metadata.Generation = 3
	d.Spec.ProgressDeadlineSeconds = proto.Int32(60)
	oldRS := rs("old", 1, status(2, 2))
	newRS := rs("new", 4, status(4, 3))
	st := calculateStatus(d, []*shoalv1.ReplicaSet{oldRS, newRS}, newRS, t0)
	want := &shoalv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 6, UpdatedReplicas: 4, ReadyReplicas: 5, AvailableReplicas: 5, UnavailableReplicas: 0}
	got := proto.Clone(st).(*shoalv1.DeploymentStatus)
	got.Conditions = nil
	if !proto.Equal(got, want) {
		t.Fatalf("status %v, want %v", got, want)
	}
	if c := st.GetConditions(); len(c) != 1 || c[0].GetType() != "Available" || c[0].GetStatus() != shoalv1.ConditionStatus_CONDITION_STATUS_TRUE {
		t.Fatalf("conditions %v", c)
	}
	if complete(d, st) {
		t.Fatal("old pods left: not complete")
	}
	d.Status = &shoalv1.DeploymentStatus{Replicas: 6, UpdatedReplicas: 3, AvailableReplicas: 4}
	if !progressing(d, st) {
		t.Fatal("more updated replicas is progress")
	}

	// Timed out: the Progressing condition was last updated longer ago
	// than the deadline.
	st.Conditions = setCondition(st.Conditions, "Progressing", shoalv1.ConditionStatus_CONDITION_STATUS_TRUE, "ReplicaSetUpdated", "", t0.Add(-2*time.Minute))
	if !timedOut(d, st, t0) {
		t.Fatal("no progress for 2 minutes with a 60 s deadline must time out")
	}
	if timedOut(d, st, t0.Add(-90*time.Second)) {
		t.Fatal("30 s without progress is within the deadline")
	}
	// setCondition keeps an unchanged condition as it was.
	before := st.Conditions
	after := setCondition(before, "Progressing", shoalv1.ConditionStatus_CONDITION_STATUS_TRUE, "ReplicaSetUpdated", "other message", t0)
	if !proto.Equal(after[len(after)-1], before[len(before)-1]) {
		t.Fatal("same status and reason must not rewrite the condition")
	}
}
