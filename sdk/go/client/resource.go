package client

import (
	"context"
	"fmt"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// ListOptions select what List returns.
type ListOptions struct {
	Namespace     string
	LabelSelector string
	FieldSelector string
	// PageSize 0 returns everything in one answer.
	PageSize  int32
	PageToken string
	// ResourceVersion "" reads the newest state; "0" accepts the gateway
	// cache as it is (fastest).
	ResourceVersion string
}

// ListResult is one page of objects.
type ListResult[T kinds.Object] struct {
	Items           []T
	ResourceVersion string
	NextPageToken   string
}

// WatchOptions select what Watch streams.
type WatchOptions struct {
	Namespace       string
	LabelSelector   string
	FieldSelector   string
	ResourceVersion string
	AllowBookmarks  bool
}

// Event is one change seen by a watch.
type Event[T kinds.Object] struct {
	Type   shoalv1.WatchEventType
	Object T
}

// Watch is an open watch stream. Recv returns io.EOF when the server ended
// the stream cleanly; Close cancels it.
type Watch[T kinds.Object] interface {
	Recv() (Event[T], error)
	Close()
}

// DeleteOptions tune Delete.
type DeleteOptions struct {
	// GracePeriodSeconds overrides the pod's grace period; nil keeps it.
	GracePeriodSeconds *int64
	Preconditions      *shoalv1.Preconditions
	PropagationPolicy  shoalv1.PropagationPolicy
}

// Resource is a typed client for one kind.
type Resource[T kinds.Object] struct {
	conn grpc.ClientConnInterface
	kind kinds.Kind
}

// For returns the client of the kind T (*shoalv1.Pod, *shoalv1.Node...).
func For[T kinds.Object](conn grpc.ClientConnInterface) *Resource[T] {
	var zero T
	k, err := kinds.Of(zero.ProtoReflect().Interface())
	if err != nil {
		// T is constrained to Shoal messages at compile time; a type that
		// passes the constraint but is not in the kind table is a programming
		// error in the caller.
		panic(err)
	}
	return &Resource[T]{conn: conn, kind: k}
}

// Kind returns the kind this client serves.
func (r *Resource[T]) Kind() kinds.Kind { return r.kind }

func (r *Resource[T]) newObject() T {
	var zero T
	return zero.ProtoReflect().New().Interface().(T)
}

func (r *Resource[T]) request(method string) (protoreflect.Message, error) {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(r.kind.RequestName(method))
	if err != nil {
		return nil, fmt.Errorf("client: no request message for %s: %w", method, err)
	}
	return mt.New(), nil
}

func setString(m protoreflect.Message, name protoreflect.Name, v string) {
	if fd := m.Descriptor().Fields().ByName(name); fd != nil && v != "" {
		m.Set(fd, protoreflect.ValueOfString(v))
	}
}

// objectField is the request/response field that holds the kind's object.
func (r *Resource[T]) objectField(m protoreflect.Message) protoreflect.FieldDescriptor {
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if fd.Message() != nil && string(fd.Message().Name()) == r.kind.Name {
			return fd
		}
	}
	return nil
}

func (r *Resource[T]) invokeObject(ctx context.Context, method string, req protoreflect.Message, opts []grpc.CallOption) (T, error) {
	out := r.newObject()
	if err := r.conn.Invoke(ctx, r.kind.FullMethod(method), req.Interface(), out, opts...); err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// Create stores a new object and returns it as stored.
func (r *Resource[T]) Create(ctx context.Context, obj T, opts ...grpc.CallOption) (T, error) {
	return r.write(ctx, r.kind.CreateMethod(), obj, opts)
}

// Get reads one object. namespace is ignored for cluster-scoped kinds.
func (r *Resource[T]) Get(ctx context.Context, namespace, name string, opts ...grpc.CallOption) (T, error) {
	req, err := r.request(r.kind.GetMethod())
	if err != nil {
		var zero T
		return zero, err
	}
	setString(req, "namespace", namespace)
	setString(req, "name", name)
	return r.invokeObject(ctx, r.kind.GetMethod(), req, opts)
}

// Update replaces metadata and spec (status is kept by the server).
func (r *Resource[T]) Update(ctx context.Context, obj T, opts ...grpc.CallOption) (T, error) {
	return r.write(ctx, r.kind.UpdateMethod(), obj, opts)
}

// UpdateStatus replaces status only.
func (r *Resource[T]) UpdateStatus(ctx context.Context, obj T, opts ...grpc.CallOption) (T, error) {
	return r.write(ctx, r.kind.UpdateStatusMethod(), obj, opts)
}

// write sends obj in the request of a Create/Update/UpdateStatus method.
func (r *Resource[T]) write(ctx context.Context, method string, obj T, opts []grpc.CallOption) (T, error) {
	req, err := r.request(method)
	if err != nil {
		var zero T
		return zero, err
	}
	req.Set(r.objectField(req), protoreflect.ValueOfMessage(obj.ProtoReflect()))
	return r.invokeObject(ctx, method, req, opts)
}

// Delete deletes (or marks for deletion) one object and returns its last
// stored state.
func (r *Resource[T]) Delete(ctx context.Context, namespace, name string, o DeleteOptions, opts ...grpc.CallOption) (T, error) {
	req, err := r.request(r.kind.DeleteMethod())
	if err != nil {
		var zero T
		return zero, err
	}
	setString(req, "namespace", namespace)
	setString(req, "name", name)
	fields := req.Descriptor().Fields()
	if o.GracePeriodSeconds != nil {
		req.Set(fields.ByName("grace_period_seconds"), protoreflect.ValueOfInt64(*o.GracePeriodSeconds))
	}
	if o.Preconditions != nil {
		req.Set(fields.ByName("preconditions"), protoreflect.ValueOfMessage(o.Preconditions.ProtoReflect()))
	}
	if o.PropagationPolicy != shoalv1.PropagationPolicy_PROPAGATION_POLICY_UNSPECIFIED {
		req.Set(fields.ByName("propagation_policy"), protoreflect.ValueOfEnum(protoreflect.EnumNumber(o.PropagationPolicy)))
	}
	return r.invokeObject(ctx, r.kind.DeleteMethod(), req, opts)
}

// List returns one page of objects (all of them when PageSize is 0).
func (r *Resource[T]) List(ctx context.Context, o ListOptions, opts ...grpc.CallOption) (*ListResult[T], error) {
	method := r.kind.ListMethod()
	req, err := r.request(method)
	if err != nil {
		return nil, err
	}
	setString(req, "namespace", o.Namespace)
	setString(req, "label_selector", o.LabelSelector)
	setString(req, "field_selector", o.FieldSelector)
	setString(req, "page_token", o.PageToken)
	setString(req, "resource_version", o.ResourceVersion)
	if o.PageSize != 0 {
		req.Set(req.Descriptor().Fields().ByName("page_size"), protoreflect.ValueOfInt32(o.PageSize))
	}
	rt, err := protoregistry.GlobalTypes.FindMessageByName(r.kind.ResponseName(method))
	if err != nil {
		return nil, err
	}
	resp := rt.New()
	if err := r.conn.Invoke(ctx, r.kind.FullMethod(method), req.Interface(), resp.Interface(), opts...); err != nil {
		return nil, err
	}
	fields := resp.Descriptor().Fields()
	out := &ListResult[T]{
		ResourceVersion: resp.Get(fields.ByName("resource_version")).String(),
		NextPageToken:   resp.Get(fields.ByName("next_page_token")).String(),
	}
	items := resp.Get(fields.ByNumber(1)).List()
	out.Items = make([]T, items.Len())
	for i := range out.Items {
		out.Items[i] = items.Get(i).Message().Interface().(T)
	}
	return out, nil
}

// ListAll follows page tokens until every matching object is read; every
// page is read at the first page's revision.
func (r *Resource[T]) ListAll(ctx context.Context, o ListOptions, opts ...grpc.CallOption) (*ListResult[T], error) {
	all := &ListResult[T]{}
	for {
		page, err := r.List(ctx, o, opts...)
		if err != nil {
			return nil, err
		}
		all.Items = append(all.Items, page.Items...)
		if all.ResourceVersion == "" {
			all.ResourceVersion = page.ResourceVersion
		}
		if page.NextPageToken == "" {
			return all, nil
		}
		o.PageToken = page.NextPageToken
	}
}

// Watch opens a watch stream.
func (r *Resource[T]) Watch(ctx context.Context, o WatchOptions, opts ...grpc.CallOption) (Watch[T], error) {
	method := r.kind.WatchMethod()
	req, err := r.request(method)
	if err != nil {
		return nil, err
	}
	setString(req, "namespace", o.Namespace)
	setString(req, "label_selector", o.LabelSelector)
	setString(req, "field_selector", o.FieldSelector)
	setString(req, "resource_version", o.ResourceVersion)
	if o.AllowBookmarks {
		req.Set(req.Descriptor().Fields().ByName("allow_bookmarks"), protoreflect.ValueOfBool(true))
	}
	rt, err := protoregistry.GlobalTypes.FindMessageByName(r.kind.ResponseName(method))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	stream, err := r.conn.NewStream(ctx, &grpc.StreamDesc{StreamName: method, ServerStreams: true}, r.kind.FullMethod(method), opts...)
	if err != nil {
		cancel()
		return nil, err
	}
	if err := stream.SendMsg(req.Interface()); err != nil {
		cancel()
		return nil, err
	}
	if err := stream.CloseSend(); err != nil {
		cancel()
		return nil, err
	}
	return &watch[T]{stream: stream, cancel: cancel, respType: rt}, nil
}

type watch[T kinds.Object] struct {
	stream   grpc.ClientStream
	cancel   context.CancelFunc
	respType protoreflect.MessageType
}

func (w *watch[T]) Recv() (Event[T], error) {
	resp := w.respType.New()
	if err := w.stream.RecvMsg(resp.Interface()); err != nil {
		if err == io.EOF {
			return Event[T]{}, io.EOF
		}
		return Event[T]{}, err
	}
	fields := resp.Descriptor().Fields()
	ev := Event[T]{Type: shoalv1.WatchEventType(resp.Get(fields.ByName("type")).Enum())}
	ev.Object = proto.Clone(resp.Get(fields.ByNumber(2)).Message().Interface()).(T)
	return ev, nil
}

func (w *watch[T]) Close() { w.cancel() }
