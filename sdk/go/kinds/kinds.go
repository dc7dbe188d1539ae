package kinds

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

// Object is any stored Shoal object: a message with metadata, spec and status.
type Object interface {
	proto.Message
	GetMetadata() *shoalv1.ObjectMeta
}

// Kind describes one kind of object.
type Kind struct {
	// Name is the message name: "Pod".
	Name string
	// Plural is the capitalised plural used in method names: "Pods".
	Plural string
	// Resource is the lower-case plural used in storage keys: "pods".
	Resource string
	// Namespaced is false for cluster-scoped kinds (Namespace, Node).
	Namespaced bool

	newObject func() Object
}

// New returns an empty object of the kind.
func (k Kind) New() Object { return k.newObject() }

// Service is the full gRPC service name: "shoal.v1.PodService".
func (k Kind) Service() string { return "shoal.v1." + k.Name + "Service" }

// Method names of the kind's service, e.g. "CreatePod", "ListPods".
func (k Kind) CreateMethod() string       { return "Create" + k.Name }
func (k Kind) GetMethod() string          { return "Get" + k.Name }
func (k Kind) ListMethod() string         { return "List" + k.Plural }
func (k Kind) UpdateMethod() string       { return "Update" + k.Name }
func (k Kind) UpdateStatusMethod() string { return "Update" + k.Name + "Status" }
func (k Kind) DeleteMethod() string       { return "Delete" + k.Name }
func (k Kind) WatchMethod() string        { return "Watch" + k.Plural }

// FullMethod is the gRPC path of one of the kind's methods.
func (k Kind) FullMethod(method string) string { return "/" + k.Service() + "/" + method }

// RequestName is the full message name of a method's request.
func (k Kind) RequestName(method string) protoreflect.FullName {
	return protoreflect.FullName("shoal.v1." + method + "Request")
}

// ResponseName is the full message name of List/Watch responses.
func (k Kind) ResponseName(method string) protoreflect.FullName {
	return protoreflect.FullName("shoal.v1." + method + "Response")
}

// All lists every kind, in the order their services appear in the contract.
func All() []Kind {
	t := table()
	return t[:]
}

// table is the kind table as an array, so that lookups (one per request on
// the gateway's hot path) copy it on the stack instead of allocating.
func table() [10]Kind {
	return [...]Kind{
		{Name: "Namespace", Plural: "Namespaces", Resource: "namespaces", newObject: func() Object { return new(shoalv1.Namespace) }},
		{Name: "Node", Plural: "Nodes", Resource: "nodes", newObject: func() Object { return new(shoalv1.Node) }},
		{Name: "Pod", Plural: "Pods", Resource: "pods", Namespaced: true, newObject: func() Object { return new(shoalv1.Pod) }},
		{Name: "Service", Plural: "Services", Resource: "services", Namespaced: true, newObject: func() Object { return new(shoalv1.Service) }},
		{Name: "Endpoints", Plural: "Endpoints", Resource: "endpoints", Namespaced: true, newObject: func() Object { return new(shoalv1.Endpoints) }},
		{Name: "ReplicaSet", Plural: "ReplicaSets", Resource: "replicasets", Namespaced: true, newObject: func() Object { return new(shoalv1.ReplicaSet) }},
		{Name: "Deployment", Plural: "Deployments", Resource: "deployments", Namespaced: true, newObject: func() Object { return new(shoalv1.Deployment) }},
		{Name: "Lease", Plural: "Leases", Resource: "leases", Namespaced: true, newObject: func() Object { return new(shoalv1.Lease) }},
		{Name: "Event", Plural: "Events", Resource: "events", Namespaced: true, newObject: func() Object { return new(shoalv1.Event) }},
		{Name: "ResourceQuota", Plural: "ResourceQuotas", Resource: "resourcequotas", Namespaced: true, newObject: func() Object { return new(shoalv1.ResourceQuota) }},
	}
}

// ByName finds a kind by its message name ("Pod").
func ByName(name string) (Kind, bool) {
	for _, k := range table() {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}

// Of returns the kind of an object.
func Of(obj proto.Message) (Kind, error) {
	name := string(obj.ProtoReflect().Descriptor().Name())
	k, ok := ByName(name)
	if !ok {
		return Kind{}, fmt.Errorf("kinds: %q is not a Shoal kind", name)
	}
	return k, nil
}

// Meta returns the object's metadata, creating it when it is nil.
func Meta(obj Object) *shoalv1.ObjectMeta {
	if m := obj.GetMetadata(); m != nil {
		return m
	}
	m := obj.ProtoReflect()
	return m.Mutable(m.Descriptor().Fields().ByName("metadata")).Message().Interface().(*shoalv1.ObjectMeta)
}

// Spec returns the object's spec message (nil-safe: an unset spec reads as
// empty).
func Spec(obj Object) protoreflect.Message { return part(obj, "spec") }

// Status returns the object's status message.
func Status(obj Object) protoreflect.Message { return part(obj, "status") }

// SetSpec replaces the object's spec with src's.
func SetSpec(obj, src Object) { copyPart(obj, src, "spec") }

// SetStatus replaces the object's status with src's.
func SetStatus(obj, src Object) { copyPart(obj, src, "status") }

// ClearStatus removes the object's status.
func ClearStatus(obj Object) {
	m := obj.ProtoReflect()
	m.Clear(m.Descriptor().Fields().ByName("status"))
}

func part(obj Object, field protoreflect.Name) protoreflect.Message {
	m := obj.ProtoReflect()
	return m.Get(m.Descriptor().Fields().ByName(field)).Message()
}

func copyPart(dst, src Object, field protoreflect.Name) {
	dm := dst.ProtoReflect()
	fd := dm.Descriptor().Fields().ByName(field)
	sm := src.ProtoReflect()
	if !sm.Has(fd) {
		dm.Clear(fd)
		return
	}
	dm.Set(fd, protoreflect.ValueOfMessage(proto.Clone(sm.Get(fd).Message().Interface()).ProtoReflect()))
}

// Key returns "namespace/name" (or "name" for cluster-scoped objects), the
// key caches and work queues use.
func Key(obj Object) string {
	m := obj.GetMetadata()
	if m.GetNamespace() == "" {
		return m.GetName()
	}
	return m.GetNamespace() + "/" + m.GetName()
}
