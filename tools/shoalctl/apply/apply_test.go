package apply

import (
	"testing"

	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

func deployment(replicas *int32, image string, labels map[string]string) *shoalv1.Deployment {
	return &shoalv1.Deployment{
		Metadata: &shoalv1.ObjectMeta{Namespace: "default", Name: "web", Labels: labels},
		Spec: &shoalv1.DeploymentSpec{Replicas: replicas, Template: &shoalv1.PodTemplateSpec{
			Spec: &shoalv1.PodSpec{Containers: []*shoalv1.Container{{Name: "app", Image: image}}}}},
	}
}

func TestMerge(t *testing.T) {
	for _, tc := range []struct {
		name          string
		cur           func() *shoalv1.Deployment
		desired, last *shoalv1.Deployment
		check         func(t *testing.T, got *shoalv1.Deployment)
	}{
		{
			name: "manifest wins where it speaks",
			cur: func() *shoalv1.Deployment {
				return deployment(proto.Int32(5), "app:v1", map[string]string{"app": "web"})
			},
			desired: deployment(proto.Int32(3), "app:v2", map[string]string{"app": "web"}),
			check: func(t *testing.T, got *shoalv1.Deployment) {
				if got.GetSpec().GetReplicas() != 3 || got.GetSpec().GetTemplate().GetSpec().GetContainers()[0].GetImage() != "app:v2" {
					t.Errorf("got %v", got.GetSpec())
				}
			},
		},
		{
			name: "fields set by others stay",
			cur: func() *shoalv1.Deployment {
				d := deployment(proto.Int32(5), "app:v1", map[string]string{"app": "web", "added-by": "someone"})
				d.Metadata.ResourceVersion, d.Metadata.Uid = "42", "u"
				d.Metadata.Annotations = map[string]string{"deployment.shoal.io/revision": "3"}
				d.Spec.RevisionHistoryLimit = proto.Int32(10)
				return d
			},
			desired: deployment(nil, "app:v1", map[string]string{"app": "web"}),
			last:    deployment(nil, "app:v1", map[string]string{"app": "web"}),
			check: func(t *testing.T, got *shoalv1.Deployment) {
				m := got.GetMetadata()
				if got.GetSpec().GetReplicas() != 5 || got.GetSpec().GetRevisionHistoryLimit() != 10 || m.GetResourceVersion() != "42" ||
					m.GetLabels()["added-by"] != "someone" || m.GetAnnotations()["deployment.shoal.io/revision"] != "3" {
					t.Errorf("got %v", got)
				}
			},
		},
		{
			name: "what the user removed goes",
			cur: func() *shoalv1.Deployment {
				return deployment(proto.Int32(4), "app:v1", map[string]string{"app": "web", "tier": "front"})
			},
			desired: deployment(nil, "app:v1", map[string]string{"app": "web"}),
			last:    deployment(proto.Int32(4), "app:v1", map[string]string{"app": "web", "tier": "front"}),
			check: func(t *testing.T, got *shoalv1.Deployment) {
				if got.GetSpec().Replicas != nil || got.GetMetadata().GetLabels()["tier"] != "" {
					t.Errorf("got %v", got)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur := tc.cur()
			before := proto.Clone(cur)
			got, err := Merge(cur, tc.desired, tc.last)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(cur, before) {
				t.Error("Merge changed its input")
			}
			tc.check(t, got.(*shoalv1.Deployment))
		})
	}
}

func TestPrepareAndLastApplied(t *testing.T) {
	d := deployment(proto.Int32(2), "app:v1", map[string]string{"app": "web"})
	p, err := Prepare(d)
	if err != nil {
		t.Fatal(err)
	}
	last := LastApplied(p)
	if last == nil || !proto.Equal(last, d) {
		t.Fatalf("LastApplied = %v, want %v", last, d)
	}
	again, err := Prepare(p)
	if err != nil {
		t.Fatal(err)
	}
	if again.GetMetadata().GetAnnotations()[LastAppliedAnnotation] != p.GetMetadata().GetAnnotations()[LastAppliedAnnotation] {
		t.Error("Prepare is not stable (the annotation records itself)")
	}
	if !SameIntent(p, again) {
		t.Error("SameIntent of equal objects is false")
	}
	if SameIntent(p, d) {
		t.Error("SameIntent ignores annotations")
	}
}
