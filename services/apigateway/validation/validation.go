package validation

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/util/validation/field"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

const (
	// MaxObjectBytes bounds the proto encoding of a stored object (etcd's
	// default request limit is 1.5 MiB). Reported as TooLong at the empty
	// path "".
	MaxObjectBytes = 1 << 20
	// MaxAnnotationsBytes bounds the total size of an object's annotation
	// keys and values, as Kubernetes does. Reported as TooLong at
	// metadata.annotations.
	MaxAnnotationsBytes = 256 << 10
)

// atRoot moves an error to the empty path "", the object as a whole.
// (field.Path cannot spell the empty path: NewPath("") prints "[]".)
func atRoot(e *field.Error) *field.Error {
	e.Field = ""
	return e
}

// errRequired is the error for a nil object.
func errRequired() field.ErrorList {
	return field.ErrorList{atRoot(field.Required(nil, "an object is required"))}
}

// errInternal is the error for an object validation has no rules for.
func errInternal(err error) field.ErrorList {
	return field.ErrorList{atRoot(field.InternalError(nil, err))}
}

var (
	metadataPath = field.NewPath("metadata")
	specPath     = field.NewPath("spec")
	statusPath   = field.NewPath("status")
)

// Object validates an object as a client sends it on create or update:
// its size, its metadata and its spec. The status is not looked at (see
// Status). A nil result means the object is valid.
func Object(obj kinds.Object) field.ErrorList {
	if isNil(obj) {
		return errRequired()
	}
	kind, err := kinds.Of(obj)
	if err != nil {
		return errInternal(err)
	}
	var errs field.ErrorList
	if size := proto.Size(obj); size > MaxObjectBytes {
		errs = append(errs, atRoot(field.TooLong(nil, size, MaxObjectBytes)))
	}
	errs = append(errs, validateObjectMeta(obj.GetMetadata(), kind, metadataPath)...)
	switch o := obj.(type) {
	case *shoalv1.Namespace:
		// A namespace is its name.
	case *shoalv1.Node:
		errs = append(errs, validateNodeSpec(o.GetSpec(), specPath)...)
	case *shoalv1.Pod:
		errs = append(errs, validatePodSpec(o.GetSpec(), specPath)...)
	case *shoalv1.Service:
		errs = append(errs, validateServiceSpec(o.GetSpec(), specPath)...)
	case *shoalv1.Endpoints:
		errs = append(errs, validateEndpointsSpec(o.GetSpec(), specPath)...)
	case *shoalv1.ReplicaSet:
		errs = append(errs, validateReplicaSetSpec(o.GetSpec(), specPath)...)
	case *shoalv1.Deployment:
		errs = append(errs, validateDeploymentSpec(o.GetSpec(), specPath)...)
	case *shoalv1.Lease:
		errs = append(errs, validateLeaseSpec(o.GetSpec(), specPath)...)
	case *shoalv1.Event:
		errs = append(errs, validateEventSpec(o.GetSpec(), specPath)...)
	case *shoalv1.ResourceQuota:
		errs = append(errs, validateResourceQuotaSpec(o.GetSpec(), specPath)...)
	default:
		return errInternal(fmt.Errorf("validation: no rules for kind %s", kind.Name))
	}
	errs = append(errs, undefinedEnums(obj.ProtoReflect(), nil, "status")...)
	return dedupe(errs)
}

// Status validates the status part of an object, as sent on UpdateStatus.
// Metadata and spec are not looked at.
func Status(obj kinds.Object) field.ErrorList {
	if isNil(obj) {
		return errRequired()
	}
	var errs field.ErrorList
	switch o := obj.(type) {
	case *shoalv1.Node:
		errs = validateNodeStatus(o.GetStatus(), statusPath)
	case *shoalv1.Pod:
		errs = validatePodStatus(o.GetStatus(), statusPath)
	case *shoalv1.ReplicaSet:
		errs = validateReplicaSetStatus(o.GetStatus(), statusPath)
	case *shoalv1.Deployment:
		errs = validateDeploymentStatus(o.GetStatus(), statusPath)
	case *shoalv1.ResourceQuota:
		errs = validateResourceQuotaStatus(o.GetStatus(), statusPath)
	case *shoalv1.Namespace, *shoalv1.Service, *shoalv1.Endpoints, *shoalv1.Lease, *shoalv1.Event:
		// Nothing beyond defined enums.
	default:
		return errInternal(fmt.Errorf("validation: no rules for %T", obj))
	}
	m := obj.ProtoReflect()
	if fd := m.Descriptor().Fields().ByName("status"); fd != nil && m.Has(fd) {
		errs = append(errs, undefinedEnums(m.Get(fd).Message(), statusPath)...)
	}
	return dedupe(errs)
}

func isNil(obj kinds.Object) bool {
	return obj == nil || !obj.ProtoReflect().IsValid()
}

// dedupe keeps the first NotSupported error of each path: the enum walk and
// a field's own rule may both report the same undefined value.
func dedupe(errs field.ErrorList) field.ErrorList {
	if len(errs) == 0 {
		return nil
	}
	seen := map[string]bool{}
	out := errs[:0:0]
	for _, e := range errs {
		if e.Type == field.ErrorTypeNotSupported {
			if seen[e.Field] {
				continue
			}
			seen[e.Field] = true
		}
		out = append(out, e)
	}
	return out
}
