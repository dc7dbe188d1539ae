package pods

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Span names of the node agent, children of nodeagent.StartPod unless
// said otherwise (docs/observability.md lists them with their attributes).
const (
	spanStartPod       = "nodeagent.StartPod"
	spanSandbox        = "nodeagent.Sandbox"
	spanStartPause     = "nodeagent.StartPause"     // child of nodeagent.Sandbox
	spanNetworkSetup   = "nodeagent.NetworkSetup"   // child of nodeagent.Sandbox
	spanStartContainer = "nodeagent.StartContainer" // one per container start
	spanPodReady       = "nodeagent.PodReady"       // in the pod's trace, on whichever sync
)

// childSpan starts a span under the recording span in ctx. Only a pod's
// first sync is traced (nodeagent.StartPod): later syncs — resyncs,
// restarts after a crash, retries after a failed start — hold no recording
// span, and get a no-op span here, so they neither cost anything nor
// scatter root spans that belong to no user action.
func (m *Manager) childSpan(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	if m.cfg.Tracer == nil || !trace.SpanFromContext(ctx).IsRecording() {
		return ctx, trace.SpanFromContext(context.Background())
	}
	return m.cfg.Tracer.Start(ctx, name, trace.WithAttributes(attrs...))
}

// endSpan ends span, marking it failed when err is not nil.
func endSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
