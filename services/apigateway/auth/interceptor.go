package auth

import (
	"context"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Describe maps a full method and its request to authorization attributes;
// ok=false means the method is not part of the Shoal API.
type Describe func(fullMethod string, req proto.Message) (Attributes, bool)

// Interceptors authenticate and authorize every call.
type Interceptors struct {
	// Tokens is nil when authentication is off: every caller is then an
	// anonymous member of system:masters (local development only).
	Tokens   *Tokens
	Describe Describe
}

// publicMethods need no credentials: probes must work without them.
func public(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/grpc.health.v1.Health/")
}

func (i *Interceptors) authenticate(ctx context.Context) (*User, error) {
	if i.Tokens == nil {
		return &User{Name: UserAnonymous, Groups: []string{GroupMasters}}, nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if tok, ok := strings.CutPrefix(v, "Bearer "); ok {
			u, err := i.Tokens.Authenticate(tok)
			if err != nil {
				return nil, status.Error(codes.Unauthenticated, err.Error())
			}
			return u, nil
		}
	}
	return nil, status.Error(codes.Unauthenticated, "auth: no bearer token in the authorization header")
}

func (i *Interceptors) authorize(u *User, fullMethod string, req proto.Message) error {
	a, ok := i.Describe(fullMethod, req)
	if !ok {
		// Reflection and other infrastructure: any authenticated caller.
		return nil
	}
	if err := Authorize(u, a); err != nil {
		return status.Error(codes.PermissionDenied, err.Error())
	}
	return nil
}

// Unary is the unary interceptor.
func (i *Interceptors) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if public(info.FullMethod) {
		return handler(ctx, req)
	}
	u, err := i.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	if m, ok := req.(proto.Message); ok {
		if err := i.authorize(u, info.FullMethod, m); err != nil {
			return nil, err
		}
	}
	return handler(ctx, req)
}

// Stream is the stream interceptor; it authorizes on the first request
// message, which carries the namespace and name.
func (i *Interceptors) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if public(info.FullMethod) {
		return handler(srv, ss)
	}
	u, err := i.authenticate(ss.Context())
	if err != nil {
		return err
	}
	return handler(srv, &authorizedStream{ServerStream: ss, i: i, u: u, method: info.FullMethod})
}

type authorizedStream struct {
	grpc.ServerStream
	i      *Interceptors
	u      *User
	method string
	done   bool
}

func (s *authorizedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if !s.done {
		s.done = true
		if pm, ok := m.(proto.Message); ok {
			return s.i.authorize(s.u, s.method, pm)
		}
	}
	return nil
}

// StringField reads a string field of a request by name ("" when absent).
func StringField(m proto.Message, name string) string {
	r := m.ProtoReflect()
	if fd := r.Descriptor().Fields().ByName(protoreflect.Name(name)); fd != nil && fd.Kind() == protoreflect.StringKind {
		return r.Get(fd).String()
	}
	return ""
}
