package rollout

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

func rev(n int64) Revision {
	return Revision{Number: n, ReplicaSet: &shoalv1.ReplicaSet{Metadata: &shoalv1.ObjectMeta{Name: "rs"}}}
}

func TestPick(t *testing.T) {
	hist := []Revision{rev(1), rev(3), rev(4)}
	cases := []struct {
		n       int64
		want    int64
		wantErr error
	}{
		{n: 0, want: 3},
		{n: 1, want: 1},
		{n: 4, want: 4},
		{n: 2, wantErr: ErrRevisionNotFound},
	}
	for _, tc := range cases {
		got, err := pick(hist, tc.n)
		if !errors.Is(err, tc.wantErr) || (err == nil && got.Number != tc.want) {
			t.Fatalf("pick(%d) = %d, %v", tc.n, got.Number, err)
		}
	}
	if _, err := pick(hist[:1], 0); !errors.Is(err, ErrNoPreviousRevision) {
		t.Fatalf("one revision has no previous: %v", err)
	}
	if _, err := pick(hist, -1); err == nil {
		t.Fatal("negative revision")
	}
}

func TestStripHash(t *testing.T) {
	in := &shoalv1.PodTemplateSpec{Metadata: &shoalv1.ObjectMeta{Labels: map[string]string{"app": "web", PodTemplateHashLabel: "abc"}}}
	out := StripHash(in)
	if !proto.Equal(out, &shoalv1.PodTemplateSpec{Metadata: &shoalv1.ObjectMeta{Labels: map[string]string{"app": "web"}}}) {
		t.Fatalf("StripHash = %v", out)
	}
	if in.Metadata.Labels[PodTemplateHashLabel] != "abc" {
		t.Fatal("StripHash modified its input")
	}
	if StripHash(nil) != nil {
		t.Fatal("nil")
	}
}

func TestStatusOf(t *testing.T) {
	d := func(gen, observed int64, replicas, total, updated, available int32, conds ...*shoalv1.Condition) *shoalv1.Deployment {
		return &shoalv1.Deployment{
			Metadata: &shoalv1.ObjectMeta{Name: "web", Generation: gen, Annotations: map[string]string{RevisionAnnotation: "3"}},
			Spec:     &shoalv1.DeploymentSpec{Replicas: proto.Int32(replicas)},
			Status: &shoalv1.DeploymentStatus{ObservedGeneration: observed, Replicas: total, UpdatedReplicas: updated,
				AvailableReplicas: available, Conditions: conds},
		}
	}
	cases := []struct {
		name     string
		d        *shoalv1.Deployment
		done     bool
		contains string
		err      error
	}{
		{name: "not observed", d: d(2, 1, 3, 3, 3, 3), contains: "spec update to be observed"},
		{name: "updating", d: d(2, 2, 3, 4, 1, 3), contains: "1 out of 3 new replicas"},
		{name: "old pending", d: d(2, 2, 3, 4, 3, 3), contains: "1 old replicas are pending termination"},
		{name: "not available", d: d(2, 2, 3, 3, 3, 2), contains: "2 of 3 updated replicas are available"},
		{name: "done", d: d(2, 2, 3, 3, 3, 3), done: true, contains: "successfully rolled out"},
		{name: "deadline", d: d(2, 2, 3, 3, 1, 2, &shoalv1.Condition{Type: ConditionProgressing, Reason: ReasonTimedOut}),
			contains: "exceeded its progress deadline", err: ErrProgressDeadline},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, err := StatusOf(tc.d)
			if !errors.Is(err, tc.err) || st.Done != tc.done || !strings.Contains(st.Message, tc.contains) || st.Revision != 3 {
				t.Fatalf("StatusOf = %+v, %v", st, err)
			}
		})
	}
}
