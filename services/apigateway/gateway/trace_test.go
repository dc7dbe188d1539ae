package gateway_test

import (
	"context"
	"io"
	"testing"

	"go.opentelemetry.io/otel/trace"

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
	obs, err := observability.Setup(ctx, observability.NewConfig("test-client"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Shutdown(context.Background())
	conn := env.Dial(t, client.WithDialOptions(obs.DialOptions()...))
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
