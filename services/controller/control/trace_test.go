package control

import (
	"context"
	"errors"
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/observability"
)

// TestStartSync: a sync's span continues the trace recorded on its object
// and carries the sync's error.
func TestStartSync(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tracer := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)).Tracer("test")
	userCtx, user := tracer.Start(context.Background(), "shoalctl apply")
	user.End()
	obj := &shoalv1.ReplicaSet{Metadata: &shoalv1.ObjectMeta{Namespace: "ns", Name: "web",
		Annotations: map[string]string{observability.TraceAnnotation: observability.TraceParent(userCtx)}}}
	untraced := &shoalv1.ReplicaSet{Metadata: &shoalv1.ObjectMeta{Namespace: "ns", Name: "old"}}

	tests := []struct {
		name       string
		obj        *shoalv1.ReplicaSet
		err        error
		sameTrace  bool
		wantStatus codes.Code
	}{
		{"joins the object's trace", obj, nil, true, codes.Unset},
		{"records the error", obj, errors.New("conflict"), true, codes.Error},
		{"an object without a trace starts one", untraced, nil, false, codes.Unset},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, end := StartSync(context.Background(), tracer, "replicaset.Sync", tc.obj)
			sc := trace.SpanContextFromContext(ctx)
			end(tc.err)
			spans := rec.Ended()
			s := spans[len(spans)-1]
			if !s.SpanContext().Equal(sc) || s.Name() != "replicaset.Sync" {
				t.Fatalf("ended span %s %v, want the sync's", s.Name(), s.SpanContext())
			}
			if got := s.SpanContext().TraceID() == user.SpanContext().TraceID(); got != tc.sameTrace {
				t.Errorf("in the user's trace = %v, want %v", got, tc.sameTrace)
			}
			if tc.sameTrace && s.Parent().SpanID() != user.SpanContext().SpanID() {
				t.Errorf("parent = %s, want the recorded span %s", s.Parent().SpanID(), user.SpanContext().SpanID())
			}
			if s.Status().Code != tc.wantStatus {
				t.Errorf("status = %v, want %v", s.Status().Code, tc.wantStatus)
			}
		})
	}
}
