package api

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/services/apigateway/auth"
)

// Describe returns the authorizer's view of Shoal API calls: verb, kind,
// and the namespace/name the request targets (from the object for writes).
func Describe() auth.Describe {
	methods := Methods()
	return func(fullMethod string, req proto.Message) (auth.Attributes, bool) {
		m, ok := methods[fullMethod]
		if !ok {
			return auth.Attributes{}, false
		}
		a := auth.Attributes{
			Verb:      string(m.Verb),
			Kind:      m.Kind.Name,
			Namespace: auth.StringField(req, "namespace"),
			Name:      auth.StringField(req, "name"),
		}
		r := req.ProtoReflect()
		fields := r.Descriptor().Fields()
		for i := 0; i < fields.Len(); i++ {
			fd := fields.Get(i)
			if fd.Kind() == protoreflect.MessageKind && string(fd.Message().Name()) == m.Kind.Name && r.Has(fd) {
				meta := r.Get(fd).Message().Interface().(kinds.Object).GetMetadata()
				a.Namespace, a.Name = meta.GetNamespace(), meta.GetName()
			}
		}
		return a, true
	}
}
