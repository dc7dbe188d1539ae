package observability

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

func TestDecideExport(t *testing.T) {
	tests := []struct {
		name        string
		env         map[string]string
		want        bool
		wantWarning string // substring of the single expected warning
	}{
		{name: "nothing set", want: false},
		{name: "generic endpoint", env: map[string]string{envEndpoint: "http://collector:4317"}, want: true},
		{name: "traces endpoint", env: map[string]string{envTracesEndpoint: "collector:4317"}, want: true},
		{name: "blank endpoint is unset", env: map[string]string{envEndpoint: "  "}, want: false},
		{name: "exporter otlp", env: map[string]string{envTracesExporter: "otlp"}, want: true},
		{name: "exporter OTLP in a list", env: map[string]string{envTracesExporter: "none, OTLP"}, want: true},
		{name: "exporter none beats endpoint", env: map[string]string{envTracesExporter: "none", envEndpoint: "http://c:4317"}, want: false},
		{
			name:        "unsupported exporter beats endpoint and warns",
			env:         map[string]string{envTracesExporter: "console", envEndpoint: "http://c:4317"},
			want:        false,
			wantWarning: `ignoring "console"`,
		},
		{
			name:        "http protocol warns",
			env:         map[string]string{envEndpoint: "http://c:4318", envProtocol: "http/protobuf"},
			want:        true,
			wantWarning: "OTLP over gRPC only",
		},
		{
			name: "traces protocol shadows generic",
			env:  map[string]string{envEndpoint: "http://c:4317", envProtocol: "http/protobuf", envTracesProtocol: "grpc"},
			want: true,
		},
		{name: "protocol alone exports nothing", env: map[string]string{envProtocol: "grpc"}, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := decideExport(func(k string) string { return tc.env[k] })
			if d.enabled != tc.want {
				t.Errorf("enabled = %v, want %v", d.enabled, tc.want)
			}
			switch {
			case tc.wantWarning == "" && len(d.warnings) != 0:
				t.Errorf("unexpected warnings %q", d.warnings)
			case tc.wantWarning != "" && (len(d.warnings) != 1 || !strings.Contains(d.warnings[0], tc.wantWarning)):
				t.Errorf("warnings = %q, want one containing %q", d.warnings, tc.wantWarning)
			}
		})
	}
}

// clearOTLPEnv makes the test independent of the developer's environment.
func clearOTLPEnv(t *testing.T) {
	for _, k := range []string{envTracesExporter, envEndpoint, envTracesEndpoint, envProtocol, envTracesProtocol} {
		t.Setenv(k, "")
	}
}

func TestSetupWithoutExporterEnv(t *testing.T) {
	clearOTLPEnv(t)
	// A listener on the default OTLP port would reveal a dial; it is enough
	// to check that no exporter exists, since only the exporter dials.
	o, _ := setupTest(t, NewConfig("svc"))
	if o.exporter != nil {
		t.Fatalf("exporter configured (%T) with no OTLP variables set", o.exporter)
	}
	_, span := o.Tracer("test").Start(context.Background(), "op")
	span.End()
	if !span.SpanContext().IsValid() {
		t.Fatal("spans must still get ids without an exporter")
	}
}

// collector is a minimal OTLP trace receiver.
type collector struct {
	coltracepb.UnimplementedTraceServiceServer
	got   chan *coltracepb.ExportTraceServiceRequest
	block chan struct{} // when non-nil, Export waits on it
}

func (c *collector) Export(ctx context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	if c.block != nil {
		select {
		case <-c.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	select {
	case c.got <- req:
	default:
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func startCollector(t *testing.T, c *collector) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, c)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func TestSetupExportsToOTLPEndpoint(t *testing.T) {
	clearOTLPEnv(t)
	c := &collector{got: make(chan *coltracepb.ExportTraceServiceRequest, 1)}
	t.Setenv(envEndpoint, "http://"+startCollector(t, c))

	cfg := NewConfig("exporter-test")
	cfg.Version = "v1.2.3"
	o, err := Setup(context.Background(), cfg, &syncBuffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.exporter == nil {
		t.Fatal("no exporter although OTEL_EXPORTER_OTLP_ENDPOINT is set")
	}
	_, span := o.Tracer("test").Start(context.Background(), "exported-op")
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := o.Shutdown(ctx); err != nil { // flushes the batch
		t.Fatalf("Shutdown: %v", err)
	}

	var req *coltracepb.ExportTraceServiceRequest
	select {
	case req = <-c.got:
	default:
		t.Fatal("collector received nothing after Shutdown flushed")
	}
	rs := req.GetResourceSpans()
	if len(rs) != 1 {
		t.Fatalf("got %d resource spans, want 1", len(rs))
	}
	res := map[string]string{}
	for _, kv := range rs[0].GetResource().GetAttributes() {
		res[kv.GetKey()] = kv.GetValue().GetStringValue()
	}
	if res["service.name"] != "exporter-test" || res["service.version"] != "v1.2.3" {
		t.Errorf("resource service.name/version = %q/%q", res["service.name"], res["service.version"])
	}
	var names []string
	for _, ss := range rs[0].GetScopeSpans() {
		for _, s := range ss.GetSpans() {
			names = append(names, s.GetName())
		}
	}
	if len(names) != 1 || names[0] != "exported-op" {
		t.Errorf("span names = %q, want [exported-op]", names)
	}
}

// TestStuckCollectorDoesNotBlockSpans ends more spans than the queue holds
// while the collector never answers: with a blocking queue End would hang.
func TestStuckCollectorDoesNotBlockSpans(t *testing.T) {
	clearOTLPEnv(t)
	c := &collector{got: make(chan *coltracepb.ExportTraceServiceRequest, 1), block: make(chan struct{})}
	t.Setenv(envEndpoint, "http://"+startCollector(t, c))
	t.Cleanup(func() { close(c.block) })

	o, err := Setup(context.Background(), NewConfig("stuck"), &syncBuffer{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tr := o.Tracer("test")
		for range 3 * 2048 {
			_, span := tr.Start(context.Background(), "op")
			span.End()
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // a generous bound: this is a hang check, not a timing
		t.Fatal("ending spans blocked behind a stuck collector")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_ = o.Shutdown(ctx) // fails with the deadline; what matters is that it returns
}
