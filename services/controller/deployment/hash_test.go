package deployment

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/rollout"
)

func tmpl(image string) *shoalv1.PodTemplateSpec {
	return &shoalv1.PodTemplateSpec{
		Metadata: &shoalv1.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "fe", "team": "a"}},
		Spec:     &shoalv1.PodSpec{Containers: []*shoalv1.Container{{Name: "app", Image: image}}},
	}
}

func TestTemplateHash(t *testing.T) {
	a := templateHash(tmpl("v1"), 0)
	for range 20 { // maps must not make it unstable
		if got := templateHash(tmpl("v1"), 0); got != a {
			t.Fatalf("hash of the same template changed: %s then %s", a, got)
		}
	}
	if strings.Trim(a, safeAlphabet) != "" || a == "" {
		t.Fatalf("hash %q uses characters outside the safe alphabet", a)
	}
	if templateHash(tmpl("v2"), 0) == a {
		t.Fatal("different templates must hash differently")
	}
	if templateHash(tmpl("v1"), 1) == a {
		t.Fatal("the collision count must change the hash")
	}
	if templateHash(withHash(tmpl("v1"), "xyz"), 0) != a {
		t.Fatal("the pod-template-hash label must not change the hash")
	}
}

func TestEqualIgnoreHash(t *testing.T) {
	a := withHash(tmpl("v1"), "abc")
	if !equalIgnoreHash(a, tmpl("v1")) {
		t.Fatal("templates differing only in the hash label are equal")
	}
	if equalIgnoreHash(a, tmpl("v2")) {
		t.Fatal("different images are different templates")
	}
	if a.GetMetadata().GetLabels()[rollout.PodTemplateHashLabel] != "abc" {
		t.Fatal("equalIgnoreHash must not modify its arguments")
	}
	sel := selectorWithHash(&shoalv1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, "abc")
	if !proto.Equal(sel, &shoalv1.LabelSelector{MatchLabels: map[string]string{"app": "web", rollout.PodTemplateHashLabel: "abc"}}) {
		t.Fatalf("selector %v", sel)
	}
}
