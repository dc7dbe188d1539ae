package gateway_test

import (
	"context"
	"io"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
)

// TestObjectsCarryTheirTrace: the trace of the request that created or
// changed an object's spec is recorded on it, so the asynchronous work it
// causes joins the same trace.
func TestObjectsCarryTheirTrace(t *testing.T) {
	env := gatewaytest.Start(t)
	ctx := ctxT(t)
	obs, conn := tracedClient(t, env)
	deps := client.For[*shoalv1.Deployment](conn)

	spanCtx, span := obs.Tracer("test").Start(ctx, "apply")
	d, err := deps.Create(spanCtx, gatewaytest.Object("Deployment", "default", "traced").(*shoalv1.Deployment))
	span.End()
	if err != nil {
		t.Fatal(err)
	}
	want := span.SpanContext().TraceID()
	got := trace.SpanContextFromContext(observability.ObjectContext(ctx, d.GetMetadata().GetAnnotations())).TraceID()
	if got != want {
		t.Fatalf("created object carries trace %s, the request was %s", got, want)
	}

	// A metadata-only change keeps the trace; a spec change records the new one.
	d.Metadata.Labels["x"] = "y"
	other, span2 := obs.Tracer("test").Start(ctx, "label")
	if d, err = deps.Update(other, d); err != nil {
		t.Fatal(err)
	}
	span2.End()
	if got := trace.SpanContextFromContext(observability.ObjectContext(ctx, d.GetMetadata().GetAnnotations())).TraceID(); got != want {
		t.Fatalf("label change replaced the trace: %s", got)
	}
	d.Spec.Replicas = nil
	scale, span3 := obs.Tracer("test").Start(ctx, "scale")
	if d, err = deps.Update(scale, d); err != nil {
		t.Fatal(err)
	}
	span3.End()
	if got := trace.SpanContextFromContext(observability.ObjectContext(ctx, d.GetMetadata().GetAnnotations())).TraceID(); got != span3.SpanContext().TraceID() {
		t.Fatalf("spec change: trace %s, want %s", got, span3.SpanContext().TraceID())
	}
}

// TestEtcdCallsAreSpans: a traced write shows its etcd transaction as a
// child span of the gateway's server span.
func TestEtcdCallsAreSpans(t *testing.T) {
	env := gatewaytest.Start(t)
	rec := tracetest.NewSpanRecorder()
	env.Obs.TracerProvider.(*sdktrace.TracerProvider).RegisterSpanProcessor(rec)
	ctx := ctxT(t)
	obs, conn := tracedClient(t, env)
	pods := client.For[*shoalv1.Pod](conn)

	spanCtx, span := obs.Tracer("test").Start(ctx, "create")
	if _, err := pods.Create(spanCtx, gatewaytest.Pod("default", "traced", nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Create(spanCtx, gatewaytest.Pod("default", "traced", nil)); !client.IsAlreadyExists(err) {
		t.Fatalf("second create: %v, want AlreadyExists", err)
	}
	span.End()
	var creates []sdktrace.ReadOnlySpan
	servers := map[trace.SpanID]bool{}
	for _, s := range rec.Ended() {
		switch {
		case s.Name() == "etcd.create":
			creates = append(creates, s)
		case s.SpanKind() == trace.SpanKindServer && s.Name() == "shoal.v1.PodService/CreatePod":
			servers[s.SpanContext().SpanID()] = true
		}
	}
	if len(creates) != 2 {
		t.Fatalf("%d etcd.create spans, want 2 (one per CreatePod)", len(creates))
	}
	for _, s := range creates {
		if s.SpanContext().TraceID() != span.SpanContext().TraceID() || !servers[s.Parent().SpanID()] {
			t.Errorf("etcd.create span %s is not a child of a CreatePod server span of the caller's trace", s.SpanContext().SpanID())
		}
		attrs := map[string]string{}
		for _, a := range s.Attributes() {
			attrs[string(a.Key)] = a.Value.Emit()
		}
		if attrs["shoal.kind"] != "Pod" || attrs["db.system.name"] != "etcd" || attrs["shoal.etcd.key"] == "" {
			t.Errorf("etcd.create attributes = %v", attrs)
		}
	}

}

// tracedClient is a client with its own tracing, whose calls carry their
// span to the gateway.
func tracedClient(t *testing.T, env *gatewaytest.Env) (*observability.Observability, *grpc.ClientConn) {
	t.Helper()
	obs, err := observability.Setup(t.Context(), observability.NewConfig("test-client"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { obs.Shutdown(context.Background()) })
	return obs, env.Dial(t, client.WithDialOptions(obs.DialOptions()...))
}
