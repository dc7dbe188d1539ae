package observability

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"testing"

	testgrpc "google.golang.org/grpc/interop/grpc_testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

// actionKey is request metadata telling the test server how to misbehave.
const actionKey = "x-test-action"

const (
	actPanicHandler     = "panic-handler"
	actPanicInterceptor = "panic-interceptor"
	actDeny             = "deny"
)

func action(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get(actionKey); len(v) > 0 {
		return v[0]
	}
	return ""
}

type testService struct {
	testgrpc.UnimplementedTestServiceServer
	log func(ctx context.Context) // called by every handler with its ctx
}

func (s *testService) EmptyCall(ctx context.Context, _ *testgrpc.Empty) (*testgrpc.Empty, error) {
	s.log(ctx)
	if action(ctx) == actPanicHandler {
		panic("handler exploded")
	}
	return &testgrpc.Empty{}, nil
}

func (s *testService) StreamingOutputCall(_ *testgrpc.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testgrpc.StreamingOutputCallResponse]) error {
	s.log(stream.Context())
	if action(stream.Context()) == actPanicHandler {
		panic("stream handler exploded")
	}
	for range 2 {
		if err := stream.Send(&testgrpc.StreamingOutputCallResponse{}); err != nil {
			return err
		}
	}
	return nil
}

// callerUnary and callerStream stand in for authentication: they run after
// recovery and metrics, and may panic or refuse.
func callerUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := callerCheck(ctx); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func callerStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := callerCheck(ss.Context()); err != nil {
		return err
	}
	return handler(srv, ss)
}

func callerCheck(ctx context.Context) error {
	switch action(ctx) {
	case actPanicInterceptor:
		panic("interceptor exploded")
	case actDeny:
		return status.Error(codes.Unauthenticated, "no credentials")
	}
	return nil
}

// startTestServer serves the test service with server's options on
// loopback and returns a client connected with client's dial options.
func startTestServer(t *testing.T, server, client *Observability) testgrpc.TestServiceClient {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(server.ServerOptions(
		[]grpc.UnaryServerInterceptor{nil, callerUnary}, // nil entries are skipped
		[]grpc.StreamServerInterceptor{callerStream},
	)...)
	testgrpc.RegisterTestServiceServer(srv, &testService{log: func(ctx context.Context) {
		server.Logger.InfoContext(ctx, "handling")
	}})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	conn, err := grpc.NewClient(lis.Addr().String(),
		append(client.DialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return testgrpc.NewTestServiceClient(conn)
}

func withAction(ctx context.Context, act string) context.Context {
	if act == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, actionKey, act)
}

// recvAll reads a server stream to its end and returns the final error
// (nil for a clean end).
func recvAll[T any](s grpc.ServerStreamingClient[T]) error {
	for {
		if _, err := s.Recv(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

func TestServerChain(t *testing.T) {
	cfg := NewConfig("chain-test")
	cfg.MetricsAddr = "127.0.0.1:0"
	o, logs := setupTest(t, cfg)
	addr, err := o.ServeMetrics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	client := startTestServer(t, o, o)

	const svc = "grpc.testing.TestService"
	tests := []struct {
		name      string
		act       string
		stream    bool
		wantCode  codes.Code
		wantPanic string // logged panic value, "" when none
	}{
		{name: "unary ok", wantCode: codes.OK},
		{name: "unary handler panics", act: actPanicHandler, wantCode: codes.Internal, wantPanic: "handler exploded"},
		{name: "unary interceptor panics", act: actPanicInterceptor, wantCode: codes.Internal, wantPanic: "interceptor exploded"},
		{name: "unary denied by caller interceptor", act: actDeny, wantCode: codes.Unauthenticated},
		{name: "stream ok", stream: true, wantCode: codes.OK},
		{name: "stream handler panics", stream: true, act: actPanicHandler, wantCode: codes.Internal, wantPanic: "stream handler exploded"},
		{name: "stream interceptor panics", stream: true, act: actPanicInterceptor, wantCode: codes.Internal, wantPanic: "interceptor exploded"},
		{name: "stream denied", stream: true, act: actDeny, wantCode: codes.Unauthenticated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := withAction(context.Background(), tc.act)
			method := "EmptyCall"
			var err error
			if tc.stream {
				method = "StreamingOutputCall"
				var s grpc.ServerStreamingClient[testgrpc.StreamingOutputCallResponse]
				if s, err = client.StreamingOutputCall(ctx, &testgrpc.StreamingOutputCallRequest{}); err == nil {
					err = recvAll(s)
				}
			} else {
				_, err = client.EmptyCall(ctx, &testgrpc.Empty{})
			}
			if got := status.Code(err); got != tc.wantCode {
				t.Fatalf("code = %v (%v), want %v", got, err, tc.wantCode)
			}
			if tc.wantCode == codes.Internal && strings.Contains(status.Convert(err).Message(), "exploded") {
				t.Errorf("panic value leaked to the client: %q", status.Convert(err).Message())
			}

			// The process survived and keeps serving.
			if _, err := client.EmptyCall(context.Background(), &testgrpc.Empty{}); err != nil {
				t.Fatalf("server unusable after %s: %v", tc.name, err)
			}

			if tc.wantPanic != "" {
				var found map[string]any
				for _, r := range logs.find(t, "panic in gRPC handler") {
					if r["panic"] == tc.wantPanic {
						found = r
					}
				}
				if found == nil {
					t.Fatalf("no panic record with panic=%q", tc.wantPanic)
				}
				if found["level"] != "ERROR" || found["method"] != "/"+svc+"/"+method {
					t.Errorf("panic record level/method = %v/%v", found["level"], found["method"])
				}
				// The stack names the function that panicked.
				if stack, _ := found["stack"].(string); !strings.Contains(stack, "observability.") || !strings.Contains(stack, "panic") {
					t.Errorf("stack missing or without the panicking frames:\n%s", stack)
				}
				if found[LogKeyTraceID] == nil {
					t.Error("panic record carries no trace_id")
				}
			}
		})
	}

	// Every call above, plus the follow-up EmptyCall of each case, is
	// counted with the code the client saw.
	fams := scrape(t, addr)
	wantServer := map[[2]string]float64{ // {method, code}
		{"EmptyCall", "OK"}:                        1 + float64(len(tests)),
		{"EmptyCall", "Internal"}:                  2,
		{"EmptyCall", "Unauthenticated"}:           1,
		{"StreamingOutputCall", "OK"}:              1,
		{"StreamingOutputCall", "Internal"}:        2,
		{"StreamingOutputCall", "Unauthenticated"}: 1,
	}
	for k, want := range wantServer {
		m := sample(fams, "shoal_grpc_server_handled_total", map[string]string{"service": svc, "method": k[0], "code": k[1]})
		if m == nil {
			t.Errorf("server counter %v missing", k)
			continue
		}
		if got := m.GetCounter().GetValue(); got != want {
			t.Errorf("server counter %v = %v, want %v", k, got, want)
		}
	}
	if m := sample(fams, "shoal_grpc_server_handling_seconds", map[string]string{"service": svc, "method": "EmptyCall"}); m == nil {
		t.Error("server histogram for EmptyCall missing")
	} else if got, want := m.GetHistogram().GetSampleCount(), uint64(1+len(tests)+3); got != want {
		t.Errorf("server histogram count = %d, want %d", got, want)
	}
	for k, want := range wantServer {
		full := "/" + svc + "/" + k[0]
		m := sample(fams, "shoal_grpc_client_handled_total", map[string]string{"method": full, "code": k[1]})
		if m == nil {
			t.Errorf("client counter %v missing", k)
			continue
		}
		if got := m.GetCounter().GetValue(); got != want {
			t.Errorf("client counter %v = %v, want %v", k, got, want)
		}
	}
	if sample(fams, "shoal_grpc_client_handling_seconds", map[string]string{"method": "/" + svc + "/EmptyCall"}) == nil {
		t.Error("client histogram for EmptyCall missing")
	}
}

// TestTracePropagation calls from one Observability to another, as two
// services would: the server's logs must carry the client's trace id, in
// a span of their own.
func TestTracePropagation(t *testing.T) {
	server, serverLogs := setupTest(t, NewConfig("server"))
	clientObs, _ := setupTest(t, NewConfig("client"))
	client := startTestServer(t, server, clientObs)

	ctx, span := clientObs.Tracer("test").Start(context.Background(), "parent")
	defer span.End()
	if _, err := client.EmptyCall(ctx, &testgrpc.Empty{}); err != nil {
		t.Fatal(err)
	}
	recs := serverLogs.find(t, "handling")
	if len(recs) != 1 {
		t.Fatalf("got %d handler records, want 1", len(recs))
	}
	parent := span.SpanContext()
	if got := recs[0][LogKeyTraceID]; got != parent.TraceID().String() {
		t.Errorf("server trace_id = %v, want the client's %s", got, parent.TraceID())
	}
	if got := recs[0][LogKeySpanID]; got == nil || got == parent.SpanID().String() {
		t.Errorf("server span_id = %v, want a server span of its own", got)
	}
	if recs[0]["service"] != "server" {
		t.Errorf("service = %v, want server", recs[0]["service"])
	}
}

// TestServerOptionsTwice guards against registering metrics per call.
func TestServerOptionsTwice(t *testing.T) {
	o, _ := setupTest(t, NewConfig("svc"))
	for range 2 {
		_ = o.ServerOptions(nil, nil)
		_ = o.DialOptions()
	}
}

func TestSplitMethod(t *testing.T) {
	tests := []struct{ in, service, method string }{
		{"/shoal.v1.PodService/GetPod", "shoal.v1.PodService", "GetPod"},
		{"/grpc.health.v1.Health/Check", "grpc.health.v1.Health", "Check"},
		{"nonsense", "unknown", "nonsense"},
	}
	for _, tc := range tests {
		s, m := splitMethod(tc.in)
		if s != tc.service || m != tc.method {
			t.Errorf("splitMethod(%q) = %q, %q; want %q, %q", tc.in, s, m, tc.service, tc.method)
		}
	}
}

func TestCodeOf(t *testing.T) {
	tests := []struct {
		err  error
		want codes.Code
	}{
		{nil, codes.OK},
		{status.Error(codes.NotFound, "x"), codes.NotFound},
		{context.Canceled, codes.Canceled},
		{context.DeadlineExceeded, codes.DeadlineExceeded},
		{errors.New("plain"), codes.Unknown},
	}
	for _, tc := range tests {
		if got := codeOf(tc.err); got != tc.want {
			t.Errorf("codeOf(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// recordingStats notes the stats events it is handed.
type recordingStats struct {
	stats.Handler
	got []string
}

func (r *recordingStats) HandleRPC(_ context.Context, rs stats.RPCStats) {
	r.got = append(r.got, fmt.Sprintf("%T", rs))
}

func TestWithoutPayloads(t *testing.T) {
	events := []stats.RPCStats{
		&stats.Begin{}, &stats.InHeader{}, &stats.InPayload{}, &stats.OutHeader{},
		&stats.OutPayload{}, &stats.OutPayload{}, &stats.OutTrailer{}, &stats.End{},
	}
	rec := &recordingStats{}
	h := withoutPayloads{rec}
	for _, ev := range events {
		h.HandleRPC(context.Background(), ev)
	}
	want := []string{"*stats.Begin", "*stats.InHeader", "*stats.OutHeader", "*stats.OutTrailer", "*stats.End"}
	if !slices.Equal(rec.got, want) {
		t.Errorf("handled %v, want %v", rec.got, want)
	}
}
