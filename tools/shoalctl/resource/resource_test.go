package resource

import (
	"slices"
	"testing"

	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

func TestLookup(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"po", "Pod"}, {"pods", "Pod"}, {"Pod", "Pod"}, {"deploy", "Deployment"}, {"deployments.apps", "Deployment"},
		{"rs", "ReplicaSet"}, {"rc", "ReplicaSet"}, {"replicationcontrollers", "ReplicaSet"}, {"svc", "Service"},
		{"no", "Node"}, {"ns", "Namespace"}, {"ep", "Endpoints"}, {"ev", "Event"}, {"quota", "ResourceQuota"}, {"lease", "Lease"},
	} {
		got, err := Lookup(tc.name)
		if err != nil || got.Kind.Name != tc.want {
			t.Errorf("Lookup(%q) = %v, %v; want %s", tc.name, got.Kind.Name, err, tc.want)
		}
	}
	if _, err := Lookup("widgets"); err == nil {
		t.Error("Lookup(widgets) succeeded")
	}
}

// TestEveryKind: every kind of the contract has a type, with a working
// client constructor.
func TestEveryKind(t *testing.T) {
	for _, k := range kinds.All() {
		ty, err := ForKind(k.Name)
		if err != nil {
			t.Errorf("%s: %v", k.Name, err)
			continue
		}
		if ty.Client(nil) == nil {
			t.Errorf("%s: no client", k.Name)
		}
		if !slices.Contains(Names(), ty.Singular) {
			t.Errorf("%s: %q is not completed", k.Name, ty.Singular)
		}
	}
}
