package observability

import (
	"context"
	"net"
	"testing"

	otelcodes "go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
)

// TestServerSpans: every RPC but health probes gets a server span that
// continues the caller's trace, named and attributed as otelgrpc names
// them, marked as an error only for the server's own faults.
func TestServerSpans(t *testing.T) {
	server, _ := setupTest(t, NewConfig("server"))
	rec := tracetest.NewSpanRecorder()
	server.tp.RegisterSpanProcessor(rec)
	clientObs, _ := setupTest(t, NewConfig("client"))

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(server.ServerOptions([]grpc.UnaryServerInterceptor{callerUnary}, []grpc.StreamServerInterceptor{callerStream})...)
	testgrpc.RegisterTestServiceServer(srv, &testService{log: func(context.Context) {}})
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), append(clientObs.DialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	client := testgrpc.NewTestServiceClient(conn)

	const svc = "grpc.testing.TestService/"
	unary := func(act string) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := client.EmptyCall(withAction(ctx, act), &testgrpc.Empty{})
			return err
		}
	}
	stream := func(act string) func(context.Context) error {
		return func(ctx context.Context) error {
			s, err := client.StreamingOutputCall(withAction(ctx, act), &testgrpc.StreamingOutputCallRequest{})
			if err != nil {
				return err
			}
			return recvAll(s)
		}
	}
	tests := []struct {
		name       string
		call       func(ctx context.Context) error
		wantSpan   string // "" when no server span is wanted
		wantCode   string
		wantStatus otelcodes.Code
	}{
		{name: "unary ok", call: unary(""), wantSpan: svc + "EmptyCall", wantCode: "OK", wantStatus: otelcodes.Unset},
		{name: "caller's mistake is no server fault", call: unary(actDeny), wantSpan: svc + "EmptyCall", wantCode: "UNAUTHENTICATED", wantStatus: otelcodes.Unset},
		{name: "panic is a server fault", call: unary(actPanicHandler), wantSpan: svc + "EmptyCall", wantCode: "INTERNAL", wantStatus: otelcodes.Error},
		{name: "stream ok", call: stream(""), wantSpan: svc + "StreamingOutputCall", wantCode: "OK", wantStatus: otelcodes.Unset},
		{name: "stream interceptor panics", call: stream(actPanicInterceptor), wantSpan: svc + "StreamingOutputCall", wantCode: "INTERNAL", wantStatus: otelcodes.Error},
		{
			name: "health probes are not traced",
			call: func(ctx context.Context) error {
				_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
				return err
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(rec.Ended())
			ctx, parent := clientObs.Tracer("test").Start(context.Background(), "parent")
			_ = tc.call(ctx) // the outcome is checked on the span
			parent.End()

			var got []sdktrace.ReadOnlySpan
			for _, s := range rec.Ended()[before:] {
				if s.SpanKind() == trace.SpanKindServer {
					got = append(got, s)
				}
			}
			if tc.wantSpan == "" {
				if len(got) != 0 {
					t.Fatalf("got server span %q, want none", got[0].Name())
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d server spans, want 1", len(got))
			}
			s := got[0]
			if s.Name() != tc.wantSpan {
				t.Errorf("span name %q, want %q", s.Name(), tc.wantSpan)
			}
			if s.Parent().TraceID() != parent.SpanContext().TraceID() || !s.Parent().IsRemote() {
				t.Errorf("span parent %v, want a remote parent in the caller's trace %s", s.Parent(), parent.SpanContext().TraceID())
			}
			attrs := map[string]string{}
			for _, a := range s.Attributes() {
				attrs[string(a.Key)] = a.Value.Emit()
			}
			want := map[string]string{
				"rpc.system.name":          "grpc",
				"rpc.method":               tc.wantSpan,
				"rpc.response.status_code": tc.wantCode,
				"network.peer.address":     "127.0.0.1",
			}
			for k, v := range want {
				if attrs[k] != v {
					t.Errorf("attribute %s = %q, want %q (all: %v)", k, attrs[k], v, attrs)
				}
			}
			if s.Status().Code != tc.wantStatus {
				t.Errorf("span status %v, want %v", s.Status().Code, tc.wantStatus)
			}
		})
	}
}

func TestCanonicalCode(t *testing.T) {
	tests := []struct {
		code codes.Code
		want string
	}{
		{codes.OK, "OK"},
		{codes.Canceled, "CANCELLED"},
		{codes.InvalidArgument, "INVALID_ARGUMENT"},
		{codes.Unauthenticated, "UNAUTHENTICATED"},
		{codes.Code(99), "CODE(99)"},
	}
	for _, tc := range tests {
		if got := canonicalCode(tc.code); got != tc.want {
			t.Errorf("canonicalCode(%v) = %q, want %q", tc.code, got, tc.want)
		}
	}
}
