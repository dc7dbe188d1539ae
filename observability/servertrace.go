package observability

import (
	"context"
	"net"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// Server spans come from the first interceptor rather than from otelgrpc's
// stats handler. With any stats handler installed, grpc-go builds a stats
// event for every message of every stream whether or not it is used: on a
// gateway fanning one write out to 10,000 watchers that was half of what
// it allocated per delivery (so half of its garbage collections) and a
// fifth of its heap. The span misses only the header parsing that runs
// before the chain. Names and attributes follow otelgrpc's (the current
// RPC semantic conventions), so client and server spans read alike.

// serverTracerName names the tracer of the server spans.
const serverTracerName = "github.com/shoalmesh/shoal/observability"

// healthPrefix is grpc.health.v1's method prefix: probes are counted but
// not traced, since they would drown real traces.
const healthPrefix = "/grpc.health.v1.Health/"

// serverCall is one RPC as the first interceptor sees it.
type serverCall struct {
	method string
	start  time.Time
	span   trace.Span // nil when the RPC is not traced
}

// beginCall continues the caller's trace, if its metadata carries one, in
// a server span of its own.
func (o *Observability) beginCall(ctx context.Context, fullMethod string) (context.Context, serverCall) {
	c := serverCall{method: fullMethod, start: time.Now()}
	if strings.HasPrefix(fullMethod, healthPrefix) {
		return ctx, c
	}
	ctx = o.Propagator.Extract(ctx, incomingCarrier{ctx})
	name := strings.TrimPrefix(fullMethod, "/")
	attrs := make([]attribute.KeyValue, 0, 4)
	attrs = append(attrs, semconv.RPCSystemNameGRPC, semconv.RPCMethod(name))
	if p, ok := peer.FromContext(ctx); ok {
		switch a := p.Addr.(type) {
		case *net.TCPAddr:
			attrs = append(attrs, semconv.NetworkPeerAddress(a.IP.String()), semconv.NetworkPeerPort(a.Port))
		case net.Addr:
			attrs = append(attrs, semconv.NetworkPeerAddress(a.String()))
		}
	}
	ctx, c.span = o.serverTracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
	return ctx, c
}

// endCall recovers a panic that reached the top of the chain (the caller
// sees codes.Internal, the log the panic and its stack), then counts the
// RPC and ends its span. It returns the error the caller sees.
func (o *Observability) endCall(ctx context.Context, c serverCall, panicked any, err error) error {
	if panicked != nil {
		err = o.recovered(ctx, c.method, panicked)
	}
	code := codeOf(err)
	o.serverMetrics.observe(c.method, code, time.Since(c.start))
	if c.span != nil {
		c.span.SetAttributes(semconv.RPCResponseStatusCode(canonicalCode(code)))
		if serverFault(code) {
			c.span.SetStatus(otelcodes.Error, status.Convert(err).Message())
		}
		c.span.End()
	}
	return err
}

func (o *Observability) serveUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	ctx, c := o.beginCall(ctx, info.FullMethod)
	defer func() {
		r := recover()
		if r != nil {
			resp = nil
		}
		err = o.endCall(ctx, c, r, err)
	}()
	return handler(ctx, req)
}

func (o *Observability) serveStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	ctx, c := o.beginCall(ss.Context(), info.FullMethod)
	if c.span != nil {
		ss = &tracedServerStream{ServerStream: ss, ctx: ctx}
	}
	defer func() {
		err = o.endCall(ctx, c, recover(), err)
	}()
	return handler(srv, ss)
}

// tracedServerStream hands the handler the context holding its span.
type tracedServerStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *tracedServerStream) Context() context.Context { return s.ctx }

// serverFault tells whether a code means the server failed, which marks
// its span as an error; the caller's mistakes (NotFound, InvalidArgument,
// ...) do not.
func serverFault(c codes.Code) bool {
	switch c {
	case codes.Unknown, codes.DeadlineExceeded, codes.Unimplemented, codes.Internal, codes.Unavailable, codes.DataLoss:
		return true
	}
	return false
}

// codeNames spells codes as the RPC semantic conventions do (gRPC's own
// upper-case names), which codes.Code.String does not.
var codeNames = [...]string{
	codes.OK:                 "OK",
	codes.Canceled:           "CANCELLED",
	codes.Unknown:            "UNKNOWN",
	codes.InvalidArgument:    "INVALID_ARGUMENT",
	codes.DeadlineExceeded:   "DEADLINE_EXCEEDED",
	codes.NotFound:           "NOT_FOUND",
	codes.AlreadyExists:      "ALREADY_EXISTS",
	codes.PermissionDenied:   "PERMISSION_DENIED",
	codes.ResourceExhausted:  "RESOURCE_EXHAUSTED",
	codes.FailedPrecondition: "FAILED_PRECONDITION",
	codes.Aborted:            "ABORTED",
	codes.OutOfRange:         "OUT_OF_RANGE",
	codes.Unimplemented:      "UNIMPLEMENTED",
	codes.Internal:           "INTERNAL",
	codes.Unavailable:        "UNAVAILABLE",
	codes.DataLoss:           "DATA_LOSS",
	codes.Unauthenticated:    "UNAUTHENTICATED",
}

func canonicalCode(c codes.Code) string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "CODE(" + strconv.Itoa(int(c)) + ")"
}

// incomingCarrier lets the propagator read trace headers from the
// request's metadata. It looks keys up one by one rather than copying the
// whole metadata (metadata.FromIncomingContext), which was a third of
// starting a server span.
type incomingCarrier struct{ ctx context.Context }

func (c incomingCarrier) Get(key string) string {
	if v := metadata.ValueFromIncomingContext(c.ctx, key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Set is never called: servers only extract.
func (incomingCarrier) Set(string, string) {}

func (c incomingCarrier) Keys() []string {
	md, _ := metadata.FromIncomingContext(c.ctx)
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	return keys
}
