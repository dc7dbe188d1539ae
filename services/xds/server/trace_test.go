package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
)

// TestPushSpanJoinsTheEndpointsTrace: the xds.Push span of a Service is a
// child of the span recorded on its Endpoints (the write that changed the
// addresses), of the Service's own when it has no Endpoints, and of no
// span when neither caused the rebuild.
func TestPushSpanJoinsTheEndpointsTrace(t *testing.T) {
	e := startEnv(t)
	rec := tracetest.NewSpanRecorder()
	e.obs.TracerProvider.(*sdktrace.TracerProvider).RegisterSpanProcessor(rec)
	// Writes through this connection carry the caller's span, so the
	// gateway records it on the objects.
	conn := e.gw.Dial(t, client.WithDialOptions(e.obs.DialOptions()...))
	tracer := e.obs.Tracer("test")

	e.service("traced", nil) // in a trace of its own
	// Pushed once before its Endpoints exist, so the push below is caused
	// by their change alone.
	waitPush(t, rec, "default/traced", func(sdktrace.ReadOnlySpan) bool { return true })
	ctx, span := tracer.Start(e.ctx(), "update endpoints")
	_, err := client.For[*shoalv1.Endpoints](conn).Create(ctx, &shoalv1.Endpoints{
		Metadata: &shoalv1.ObjectMeta{Namespace: "default", Name: "traced"},
		Spec: &shoalv1.EndpointsSpec{
			Ports:     []*shoalv1.EndpointPort{{Name: "grpc", Port: e.port}},
			Addresses: []*shoalv1.EndpointAddress{{Ip: e.backends["greeter-1"], Ready: true}},
		},
	})
	span.End()
	if err != nil {
		t.Fatal(err)
	}
	ep, err := e.eps.Get(e.ctx(), "default", "traced")
	if err != nil {
		t.Fatal(err)
	}
	annotated := trace.SpanContextFromContext(observability.ObjectContext(context.Background(), ep.GetMetadata().GetAnnotations()))
	if annotated.TraceID() != span.SpanContext().TraceID() {
		t.Fatalf("endpoints annotated with trace %s, want %s", annotated.TraceID(), span.SpanContext().TraceID())
	}
	push := waitPush(t, rec, "default/traced", func(s sdktrace.ReadOnlySpan) bool {
		return s.SpanContext().TraceID() == annotated.TraceID()
	})
	if push.Parent().SpanID() != annotated.SpanID() {
		t.Errorf("xds.Push parent %s, want the span on the endpoints %s", push.Parent().SpanID(), annotated.SpanID())
	}
	attrs := map[string]string{}
	for _, kv := range push.Attributes() {
		attrs[string(kv.Key)] = kv.Value.Emit()
	}
	if attrs["shoal.xds.eds.updated"] != "1" || attrs["shoal.xds.eds.version"] == "" {
		t.Errorf("xds.Push attributes %v, want one EDS resource updated and its version", attrs)
	}

	// A rebuild no change of the Service or its Endpoints caused (a new
	// node: localities may change) adds nothing to their traces.
	if _, err := client.For[*shoalv1.Node](e.gw.Conn).Create(e.ctx(), gatewaytest.Node("node-a")); err != nil {
		t.Fatal(err)
	}
	waitPush(t, rec, "default/traced", func(s sdktrace.ReadOnlySpan) bool {
		return s.SpanContext().TraceID() != annotated.TraceID() && !s.Parent().IsValid()
	})

	// A Service without Endpoints: its own trace.
	ctx, span = tracer.Start(e.ctx(), "create service")
	_, err = client.For[*shoalv1.Service](conn).Create(ctx, &shoalv1.Service{
		Metadata: &shoalv1.ObjectMeta{Namespace: "default", Name: "lonely"},
		Spec: &shoalv1.ServiceSpec{Ports: []*shoalv1.ServicePort{{Name: "grpc", Port: 50051,
			Protocol: shoalv1.ServiceProtocol_SERVICE_PROTOCOL_GRPC}}},
	})
	span.End()
	if err != nil {
		t.Fatal(err)
	}
	waitPush(t, rec, "default/lonely", func(s sdktrace.ReadOnlySpan) bool {
		return s.SpanContext().TraceID() == span.SpanContext().TraceID()
	})
}

// waitPush waits for an ended xds.Push span of service that satisfies ok.
func waitPush(t *testing.T, rec *tracetest.SpanRecorder, service string, ok func(sdktrace.ReadOnlySpan) bool) sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var seen []string
		for _, s := range rec.Ended() {
			if s.Name() != "xds.Push" {
				continue
			}
			for _, kv := range s.Attributes() {
				if kv.Key == "shoal.service" && kv.Value.AsString() == service {
					if ok(s) {
						return s
					}
					seen = append(seen, fmt.Sprintf("trace %s parent %s", s.SpanContext().TraceID(), s.Parent().SpanID()))
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no matching xds.Push span for %s; saw %v", service, seen)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
