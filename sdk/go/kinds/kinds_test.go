package kinds

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

// TestTableMatchesContract: every kind's service and methods exist in the
// contract with the request/response names the generic code builds.
func TestTableMatchesContract(t *testing.T) {
	for _, k := range All() {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(k.Service()))
		if err != nil {
			t.Fatalf("%s: %v", k.Service(), err)
		}
		sd := d.(protoreflect.ServiceDescriptor)
		for _, m := range []string{k.CreateMethod(), k.GetMethod(), k.ListMethod(), k.UpdateMethod(), k.UpdateStatusMethod(), k.DeleteMethod(), k.WatchMethod()} {
			md := sd.Methods().ByName(protoreflect.Name(m))
			if md == nil {
				t.Errorf("%s has no method %s", k.Service(), m)
				continue
			}
			if md.Input().FullName() != k.RequestName(m) {
				t.Errorf("%s input is %s, want %s", m, md.Input().FullName(), k.RequestName(m))
			}
		}
		for _, m := range []string{k.ListMethod(), k.WatchMethod()} {
			if md := sd.Methods().ByName(protoreflect.Name(m)); md != nil && md.Output().FullName() != k.ResponseName(m) {
				t.Errorf("%s output is %s, want %s", m, md.Output().FullName(), k.ResponseName(m))
			}
		}
		obj := k.New()
		if string(obj.ProtoReflect().Descriptor().Name()) != k.Name {
			t.Errorf("%s.New() is a %s", k.Name, obj.ProtoReflect().Descriptor().Name())
		}
		for _, f := range []protoreflect.Name{"metadata", "spec", "status"} {
			if obj.ProtoReflect().Descriptor().Fields().ByName(f) == nil {
				t.Errorf("%s has no %s", k.Name, f)
			}
		}
	}
}

func TestAccessors(t *testing.T) {
	p := &shoalv1.Pod{}
	Meta(p).Name = "web"
	if p.GetMetadata().GetName() != "web" {
		t.Fatal("Meta did not create metadata")
	}
	src := &shoalv1.Pod{Spec: &shoalv1.PodSpec{NodeName: "n1"}, Status: &shoalv1.PodStatus{PodIp: "10.0.0.1"}}
	SetSpec(p, src)
	SetStatus(p, src)
	src.Spec.NodeName = "changed"
	if p.GetSpec().GetNodeName() != "n1" || p.GetStatus().GetPodIp() != "10.0.0.1" {
		t.Fatalf("copies not deep or not made: %v", p)
	}
	SetStatus(p, &shoalv1.Pod{})
	if p.Status != nil {
		t.Fatal("SetStatus from an object without status must clear it")
	}
	if Key(p) != "web" {
		t.Fatalf("Key = %q", Key(p))
	}
	p.Metadata.Namespace = "default"
	if Key(p) != "default/web" {
		t.Fatalf("Key = %q", Key(p))
	}
	k, err := Of(p)
	if err != nil || k.Resource != "pods" || !k.Namespaced {
		t.Fatalf("Of: %v %v", k, err)
	}
	if _, err := Of(&shoalv1.ObjectMeta{}); err == nil {
		t.Fatal("ObjectMeta is not a kind")
	}
}
