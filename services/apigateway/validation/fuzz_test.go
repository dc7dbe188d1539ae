package validation

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// FuzzObject decodes arbitrary bytes into a Pod, a Deployment and every
// other kind, and checks that Object, Status and Update never panic and
// that every error has a path (or is about the whole object).
func FuzzObject(f *testing.F) {
	for _, obj := range validObjects() {
		b, err := proto.Marshal(obj)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	p := validPod()
	p.Spec.RestartPolicy = 42
	p.Spec.Containers[0].Ports[0].ContainerPort = -7
	b, _ := proto.Marshal(p)
	f.Add(b)
	f.Add([]byte{})

	// Pod and Deployment first: they have the deepest specs.
	order := []string{"Pod", "Deployment"}
	for _, k := range kinds.All() {
		if k.Name != "Pod" && k.Name != "Deployment" {
			order = append(order, k.Name)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range order {
			k, _ := kinds.ByName(name)
			obj := k.New()
			if err := proto.Unmarshal(data, obj); err != nil {
				continue
			}
			before := proto.Clone(obj)
			for _, e := range Object(obj) {
				if e.Field == "<nil>" {
					t.Fatalf("%s: error without a path: %v", name, e)
				}
			}
			Status(obj)
			Update(obj, obj)
			Update(k.New(), obj)
			if !proto.Equal(before, obj) {
				t.Fatalf("%s: validation changed the object", name)
			}
		}
	})
}
