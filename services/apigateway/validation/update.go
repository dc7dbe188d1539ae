package validation

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"k8s.io/apimachinery/pkg/util/validation/field"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// Update checks the rules that only an update has: fields that may not
// change between the stored object old and the new object obj. It does not
// repeat Object(obj); the gateway runs both. The rules:
//
//   - metadata.name and metadata.namespace: Invalid "field is immutable".
//   - Pod: the spec is immutable except spec.containers[*].image and
//     appending to spec.tolerations; each other changed field is Forbidden at
//     its path (spec.restart_policy, spec.containers[0].ports, ...), changed
//     or removed tolerations are Forbidden at spec.tolerations, a changed
//     number of containers Forbidden at spec.containers. spec.node_name may
//     go from empty to a node (a bind) but never change once set (Invalid).
//   - Node: spec.pod_cidr may be set once, never changed (Invalid).
//   - Service: spec.cluster_ip is immutable once set; an empty cluster_ip in
//     obj means "keep" and is accepted.
//   - ReplicaSet, Deployment: spec.selector is immutable (Invalid).
func Update(old, obj kinds.Object) field.ErrorList {
	if isNil(old) || isNil(obj) {
		return errRequired()
	}
	if old.ProtoReflect().Descriptor() != obj.ProtoReflect().Descriptor() {
		return errInternal(fmt.Errorf("validation: updating a %s with a %s",
			old.ProtoReflect().Descriptor().Name(), obj.ProtoReflect().Descriptor().Name()))
	}
	var errs field.ErrorList
	om, nm := old.GetMetadata(), obj.GetMetadata()
	if om.GetName() != nm.GetName() {
		errs = append(errs, field.Invalid(metadataPath.Child("name"), nm.GetName(), immutable))
	}
	if om.GetNamespace() != nm.GetNamespace() {
		errs = append(errs, field.Invalid(metadataPath.Child("namespace"), nm.GetNamespace(), immutable))
	}
	switch o := obj.(type) {
	case *shoalv1.Pod:
		errs = append(errs, validatePodSpecUpdate(old.(*shoalv1.Pod).GetSpec(), o.GetSpec(), specPath)...)
	case *shoalv1.Node:
		oc, nc := old.(*shoalv1.Node).GetSpec().GetPodCidr(), o.GetSpec().GetPodCidr()
		if oc != "" && nc != oc {
			errs = append(errs, field.Invalid(specPath.Child("pod_cidr"), nc, "field is immutable once set"))
		}
	case *shoalv1.Service:
		oip, nip := old.(*shoalv1.Service).GetSpec().GetClusterIp(), o.GetSpec().GetClusterIp()
		if oip != "" && nip != "" && nip != oip {
			errs = append(errs, field.Invalid(specPath.Child("cluster_ip"), nip, "field is immutable once set"))
		}
	case *shoalv1.ReplicaSet:
		if !proto.Equal(old.(*shoalv1.ReplicaSet).GetSpec().GetSelector(), o.GetSpec().GetSelector()) {
			errs = append(errs, field.Invalid(specPath.Child("selector"), o.GetSpec().GetSelector().String(), immutable))
		}
	case *shoalv1.Deployment:
		if !proto.Equal(old.(*shoalv1.Deployment).GetSpec().GetSelector(), o.GetSpec().GetSelector()) {
			errs = append(errs, field.Invalid(specPath.Child("selector"), o.GetSpec().GetSelector().String(), immutable))
		}
	}
	return errs
}

// validatePodSpecUpdate allows only container images to change, tolerations
// to be appended, and node_name to be set once.
func validatePodSpecUpdate(old, obj *shoalv1.PodSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if old == nil {
		old = &shoalv1.PodSpec{}
	}
	if obj == nil {
		obj = &shoalv1.PodSpec{}
	}
	if on := old.GetNodeName(); on != "" && obj.GetNodeName() != on {
		errs = append(errs, field.Invalid(p.Child("node_name"), obj.GetNodeName(), "field is immutable once set"))
	}
	ot, nt := old.GetTolerations(), obj.GetTolerations()
	if len(nt) < len(ot) || !slices.EqualFunc(ot, nt[:len(ot)], func(a, b *shoalv1.Toleration) bool { return proto.Equal(a, b) }) {
		errs = append(errs, field.Forbidden(p.Child("tolerations"), "existing tolerations may not be changed or removed; new ones may be appended"))
	}
	oc, nc := old.GetContainers(), obj.GetContainers()
	if len(oc) != len(nc) {
		errs = append(errs, field.Forbidden(p.Child("containers"), "containers may not be added or removed"))
	} else {
		for i := range oc {
			errs = append(errs, changedFields(oc[i].ProtoReflect(), nc[i].ProtoReflect(), p.Child("containers").Index(i),
				"pod updates may only change the image of a container", "image")...)
		}
	}
	errs = append(errs, changedFields(old.ProtoReflect(), obj.ProtoReflect(), p,
		"pod updates may only change spec.containers[*].image and append to spec.tolerations",
		"containers", "tolerations", "node_name")...)
	return errs
}

// changedFields reports Forbidden at the path of every field (other than
// those in skip) whose value differs between a and b, two messages of one
// type.
func changedFields(a, b protoreflect.Message, p *field.Path, detail string, skip ...protoreflect.Name) field.ErrorList {
	var errs field.ErrorList
	fds := a.Descriptor().Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		if slices.Contains(skip, fd.Name()) {
			continue
		}
		if !fieldEqual(a, b, fd) {
			errs = append(errs, field.Forbidden(p.Child(string(fd.Name())), detail))
		}
	}
	return errs
}

// fieldEqual compares one field of two messages of the same type.
func fieldEqual(a, b protoreflect.Message, fd protoreflect.FieldDescriptor) bool {
	if !a.Has(fd) && !b.Has(fd) {
		return true
	}
	if a.Has(fd) != b.Has(fd) {
		return false
	}
	x, y := a.Type().New(), b.Type().New()
	x.Set(fd, a.Get(fd))
	y.Set(fd, b.Get(fd))
	return proto.Equal(x.Interface(), y.Interface())
}
