package api

import (
	"context"
	"fmt"
	"log/slog"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/services/apigateway/registry"
	"github.com/shoalmesh/shoal/services/apigateway/storage"
)

// Verb is what a method does.
type Verb string

// The verbs; authorization rules are written in them.
const (
	VerbCreate       Verb = "create"
	VerbGet          Verb = "get"
	VerbList         Verb = "list"
	VerbUpdate       Verb = "update"
	VerbUpdateStatus Verb = "updatestatus"
	VerbDelete       Verb = "delete"
	VerbWatch        Verb = "watch"
	VerbBind         Verb = "bind"
	VerbLogs         Verb = "logs"
)

// Method describes one registered RPC.
type Method struct {
	Kind kinds.Kind
	Verb Verb
}

// Methods maps every full method name of the Shoal API to its kind and
// verb: the authorizer reads it.
func Methods() map[string]Method {
	out := map[string]Method{}
	for _, k := range kinds.All() {
		for verb, name := range verbNames(k) {
			out[k.FullMethod(name)] = Method{Kind: k, Verb: verb}
		}
	}
	pod, _ := kinds.ByName("Pod")
	out["/shoal.v1.PodLogService/PodLogs"] = Method{Kind: pod, Verb: VerbLogs}
	return out
}

func verbNames(k kinds.Kind) map[Verb]string {
	m := map[Verb]string{
		VerbCreate: k.CreateMethod(), VerbGet: k.GetMethod(), VerbList: k.ListMethod(),
		VerbUpdate: k.UpdateMethod(), VerbUpdateStatus: k.UpdateStatusMethod(),
		VerbDelete: k.DeleteMethod(), VerbWatch: k.WatchMethod(),
	}
	if k.Name == "Pod" {
		m[VerbBind] = "BindPod"
	}
	return m
}

// Server serves the Shoal API from a registry.
type Server struct {
	reg *registry.Registry
	log *slog.Logger
}

// Register registers every kind's service on s.
func Register(s *grpc.Server, reg *registry.Registry, log *slog.Logger) error {
	srv := &Server{reg: reg, log: log}
	for _, k := range kinds.All() {
		desc, err := srv.serviceDesc(k)
		if err != nil {
			return err
		}
		s.RegisterService(desc, srv)
	}
	return nil
}

func (s *Server) serviceDesc(k kinds.Kind) (*grpc.ServiceDesc, error) {
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(k.Service()))
	if err != nil {
		return nil, fmt.Errorf("api: service %s is not in the contract: %w", k.Service(), err)
	}
	sd := d.(protoreflect.ServiceDescriptor)
	byName := map[string]Verb{}
	for verb, name := range verbNames(k) {
		byName[name] = verb
	}
	desc := &grpc.ServiceDesc{
		ServiceName: k.Service(),
		// Any value implements the empty interface: the handlers are
		// closures, not methods of a generated interface.
		HandlerType: (*any)(nil),
		Metadata:    sd.ParentFile().Path(),
	}
	methods := sd.Methods()
	for i := 0; i < methods.Len(); i++ {
		md := methods.Get(i)
		name := string(md.Name())
		verb, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("api: %s/%s has no verb", k.Service(), name)
		}
		in, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
		if err != nil {
			return nil, err
		}
		out, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
		if err != nil {
			return nil, err
		}
		h := handler{srv: s, kind: k, verb: verb, in: in, out: out, fullMethod: k.FullMethod(name)}
		if md.IsStreamingServer() {
			desc.Streams = append(desc.Streams, grpc.StreamDesc{StreamName: name, Handler: h.stream, ServerStreams: true})
		} else {
			desc.Methods = append(desc.Methods, grpc.MethodDesc{MethodName: name, Handler: h.unary})
		}
		delete(byName, name)
	}
	if len(byName) > 0 {
		return nil, fmt.Errorf("api: %s lacks methods %v", k.Service(), byName)
	}
	return desc, nil
}

type handler struct {
	srv        *Server
	kind       kinds.Kind
	verb       Verb
	in, out    protoreflect.MessageType
	fullMethod string
}

func (h handler) unary(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	req := h.in.New().Interface()
	if err := dec(req); err != nil {
		return nil, badRequest("", "the request is not a valid "+string(h.in.Descriptor().FullName())+": "+err.Error())
	}
	call := func(ctx context.Context, req any) (any, error) {
		out, err := h.call(ctx, req.(proto.Message).ProtoReflect())
		return out, toStatus(h.srv.log, err)
	}
	if interceptor == nil {
		return call(ctx, req)
	}
	return interceptor(ctx, req, &grpc.UnaryServerInfo{Server: srv, FullMethod: h.fullMethod}, call)
}

func str(m protoreflect.Message, name protoreflect.Name) string {
	if fd := m.Descriptor().Fields().ByName(name); fd != nil {
		return m.Get(fd).String()
	}
	return ""
}

// object returns the request's object, or an error naming the missing
// field.
func (h handler) object(m protoreflect.Message) (kinds.Object, error) {
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if fd.Message() != nil && string(fd.Message().Name()) == h.kind.Name {
			if !m.Has(fd) {
				return nil, badRequest(string(fd.Name()), "required")
			}
			return m.Get(fd).Message().Interface().(kinds.Object), nil
		}
	}
	return nil, fmt.Errorf("api: %s has no %s field", m.Descriptor().FullName(), h.kind.Name)
}

func (h handler) call(ctx context.Context, m protoreflect.Message) (proto.Message, error) {
	reg, kind := h.srv.reg, h.kind.Name
	switch h.verb {
	case VerbCreate, VerbUpdate, VerbUpdateStatus:
		obj, err := h.object(m)
		if err != nil {
			return nil, err
		}
		switch h.verb {
		case VerbCreate:
			return reg.Create(ctx, kind, obj)
		case VerbUpdate:
			return reg.Update(ctx, kind, obj)
		default:
			return reg.UpdateStatus(ctx, kind, obj)
		}
	case VerbGet:
		return reg.Get(ctx, kind, str(m, "namespace"), str(m, "name"))
	case VerbDelete:
		opts := registry.DeleteOptions{}
		fields := m.Descriptor().Fields()
		if fd := fields.ByName("grace_period_seconds"); m.Has(fd) {
			g := m.Get(fd).Int()
			opts.GracePeriodSeconds = &g
		}
		if fd := fields.ByName("preconditions"); m.Has(fd) {
			opts.Preconditions = m.Get(fd).Message().Interface().(*shoalv1.Preconditions)
		}
		opts.Propagation = shoalv1.PropagationPolicy(m.Get(fields.ByName("propagation_policy")).Enum())
		if shoalv1.PropagationPolicy_name[int32(opts.Propagation)] == "" {
			return nil, badRequest("propagation_policy", fmt.Sprintf("unknown value %d", opts.Propagation))
		}
		return reg.Delete(ctx, kind, str(m, "namespace"), str(m, "name"), opts)
	case VerbBind:
		return reg.BindPod(ctx, str(m, "namespace"), str(m, "name"), str(m, "node_name"), str(m, "uid"))
	case VerbList:
		fields := m.Descriptor().Fields()
		res, err := reg.List(ctx, kind, registry.ListOptions{
			Namespace:       str(m, "namespace"),
			LabelSelector:   str(m, "label_selector"),
			FieldSelector:   str(m, "field_selector"),
			PageSize:        int32(m.Get(fields.ByName("page_size")).Int()),
			PageToken:       str(m, "page_token"),
			ResourceVersion: str(m, "resource_version"),
		})
		if err != nil {
			return nil, err
		}
		out := h.out.New()
		ofields := out.Descriptor().Fields()
		list := out.Mutable(ofields.ByNumber(1)).List()
		for _, item := range res.Items {
			list.Append(protoreflect.ValueOfMessage(item.ProtoReflect()))
		}
		out.Set(ofields.ByName("next_page_token"), protoreflect.ValueOfString(res.NextPageToken))
		out.Set(ofields.ByName("resource_version"), protoreflect.ValueOfString(res.ResourceVersion))
		return out.Interface(), nil
	}
	return nil, fmt.Errorf("api: verb %s is not unary", h.verb)
}

func (h handler) stream(_ any, ss grpc.ServerStream) error {
	req := h.in.New()
	if err := ss.RecvMsg(req.Interface()); err != nil {
		return err
	}
	ofields := h.out.Descriptor().Fields()
	typeField, objField := ofields.ByName("type"), ofields.ByNumber(2)
	encode := func(typ shoalv1.WatchEventType, obj kinds.Object) (any, error) {
		out := h.out.New()
		out.Set(typeField, protoreflect.ValueOfEnum(protoreflect.EnumNumber(typ)))
		out.Set(objField, protoreflect.ValueOfMessage(obj.ProtoReflect()))
		b, err := proto.Marshal(out.Interface())
		return newEncoded(b), err
	}
	send := func(typ shoalv1.WatchEventType, obj kinds.Object, shared *storage.Shared) error {
		msg, err := shared.Get(typ, func() (any, error) { return encode(typ, obj) })
		if err != nil {
			return err
		}
		return ss.SendMsg(msg)
	}
	err := h.srv.reg.Watch(ss.Context(), h.kind.Name, registry.WatchOptions{
		Namespace:       str(req, "namespace"),
		LabelSelector:   str(req, "label_selector"),
		FieldSelector:   str(req, "field_selector"),
		ResourceVersion: str(req, "resource_version"),
		AllowBookmarks:  req.Get(req.Descriptor().Fields().ByName("allow_bookmarks")).Bool(),
	}, send)
	return toStatus(h.srv.log, err)
}
