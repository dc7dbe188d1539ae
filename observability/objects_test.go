package observability

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

func TestTraceParentRoundTrip(t *testing.T) {
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	tp := TraceParent(ctx)
	if tp != "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" {
		t.Fatalf("traceparent %q", tp)
	}
	back := trace.SpanContextFromContext(ObjectContext(context.Background(), map[string]string{TraceAnnotation: tp}))
	if back.TraceID() != tid || back.SpanID() != sid || !back.IsRemote() {
		t.Fatalf("round trip lost the span: %v", back)
	}
	cases := []string{"", "garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}
	for _, bad := range cases {
		if sc := trace.SpanContextFromContext(ContextWithTraceParent(context.Background(), bad)); sc.IsValid() {
			t.Errorf("%q gave a valid span context", bad)
		}
	}
	if TraceParent(context.Background()) != "" {
		t.Error("no span must give no traceparent")
	}
}
