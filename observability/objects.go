package observability

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// TraceAnnotation is the object annotation holding the W3C traceparent of
// the request that created or last changed the object. It joins the
// asynchronous chain of a user's action into one trace: the gateway writes
// it, controllers copy it to the objects they create, and the scheduler,
// node agent and xds start their spans as children of it.
const TraceAnnotation = "shoal.io/trace-context"

// TraceParent renders the span in ctx as a W3C traceparent ("" when ctx
// holds no valid span).
func TraceParent(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ""
	}
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	return carrier.Get("traceparent")
}

// ContextWithTraceParent returns ctx carrying the remote span a traceparent
// names, so spans started from it join that trace. An empty or malformed
// traceparent leaves ctx as it is.
func ContextWithTraceParent(ctx context.Context, traceparent string) context.Context {
	if traceparent == "" {
		return ctx
	}
	return propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": traceparent})
}

// ObjectContext returns ctx joined to the trace recorded on an object's
// annotations.
func ObjectContext(ctx context.Context, annotations map[string]string) context.Context {
	return ContextWithTraceParent(ctx, annotations[TraceAnnotation])
}
