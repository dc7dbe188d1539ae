package pods

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
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/nodeagent/runtime"
)

// fakePods records status writes and fails them with err.
type fakePods struct {
	err     error
	updates int
}

func (f *fakePods) UpdateStatus(_ context.Context, p *shoalv1.Pod, _ ...grpcCallOption) (*shoalv1.Pod, error) {
	f.updates++
	return p, f.err
}

func (f *fakePods) Delete(context.Context, string, string, client.DeleteOptions, ...grpcCallOption) (*shoalv1.Pod, error) {
	return nil, nil
}

func recordingTracer() (trace.Tracer, *tracetest.SpanRecorder) {
	rec := tracetest.NewSpanRecorder()
	return sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)).Tracer("test"), rec
}

// The pod's trace, as the gateway records it when the scheduler binds.
const podTraceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

func TestPodReadySpan(t *testing.T) {
	readyCond := []*shoalv1.Condition{{Type: "Ready", Status: shoalv1.ConditionStatus_CONDITION_STATUS_TRUE}}
	tests := []struct {
		name       string
		running    bool  // the container runs: the built status is Ready
		wasReady   bool  // the stored status is Ready already
		observed   bool  // this agent has seen the pod Ready before
		writeErr   error // the status write fails
		wantSpan   bool
		wantFailed bool
	}{
		{name: "first ready write", running: true, wantSpan: true},
		{name: "write fails", running: true, writeErr: errors.New("gateway down"), wantSpan: true, wantFailed: true},
		{name: "not ready yet", running: false},
		{name: "stored status already ready", running: true, wasReady: true},
		{name: "ready again after a flap", running: true, observed: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tracer, rec := recordingTracer()
			api := &fakePods{err: tc.writeErr}
			m := &Manager{cfg: Config{NodeName: "n1", NodeIP: "10.0.0.1", Tracer: tracer}, api: api}
			st := &podState{key: "ns/web-1", up: true, sandbox: &runtime.Task{}, ip: "10.88.0.2", startupObserved: tc.observed,
				containers: map[string]*ctrState{}}
			if tc.running {
				st.containers["app"] = &ctrState{name: "app", task: &runtime.Task{}, id: "c"}
			}
			pod := &shoalv1.Pod{
				Metadata: &shoalv1.ObjectMeta{Namespace: "ns", Name: "web-1",
					Annotations: map[string]string{observability.TraceAnnotation: podTraceparent}},
				Spec:   &shoalv1.PodSpec{Containers: []*shoalv1.Container{{Name: "app", Image: "img"}}},
				Status: &shoalv1.PodStatus{},
			}
			if tc.wasReady {
				pod.Status.Conditions = readyCond
			}
			_, err := m.writeStatus(context.Background(), pod, st)
			if (err != nil) != (tc.writeErr != nil) {
				t.Fatalf("writeStatus: %v", err)
			}
			if api.updates != 1 {
				t.Fatalf("%d status writes, want 1", api.updates)
			}
			spans := rec.Ended()
			if !tc.wantSpan {
				if len(spans) != 0 {
					t.Fatalf("%d spans, want none", len(spans))
				}
				return
			}
			if len(spans) != 1 || spans[0].Name() != spanPodReady {
				t.Fatalf("spans %v, want one %s", spans, spanPodReady)
			}
			s := spans[0]
			parent := trace.SpanContextFromContext(observability.ContextWithTraceParent(context.Background(), podTraceparent))
			if s.Parent().SpanID() != parent.SpanID() || s.SpanContext().TraceID() != parent.TraceID() {
				t.Errorf("span parent %s in trace %s, want %s in %s", s.Parent().SpanID(), s.SpanContext().TraceID(), parent.SpanID(), parent.TraceID())
			}
			if failed := s.Status().Code == codes.Error; failed != tc.wantFailed {
				t.Errorf("span status %v, want failed=%v", s.Status(), tc.wantFailed)
			}
		})
	}
}

func TestPodReadySpanWithoutTracer(t *testing.T) {
	m := &Manager{cfg: Config{NodeName: "n1"}, api: &fakePods{}}
	st := &podState{key: "ns/p", up: true, sandbox: &runtime.Task{}, containers: map[string]*ctrState{"app": {task: &runtime.Task{}}}}
	pod := &shoalv1.Pod{Metadata: &shoalv1.ObjectMeta{}, Spec: &shoalv1.PodSpec{Containers: []*shoalv1.Container{{Name: "app"}}}}
	if _, err := m.writeStatus(context.Background(), pod, st); err != nil {
		t.Fatal(err)
	}
}

// Child spans exist only under the recording start span of a pod's first
// sync: a later sync (restart, resync) starts none.
func TestChildSpanOnlyUnderStartPod(t *testing.T) {
	tracer, rec := recordingTracer()
	m := &Manager{cfg: Config{Tracer: tracer}}

	_, span := m.childSpan(context.Background(), spanStartContainer)
	endSpan(span, errors.New("later sync"))
	if n := len(rec.Ended()); n != 0 {
		t.Fatalf("%d spans without a start span, want none", n)
	}

	ctx, start := tracer.Start(context.Background(), spanStartPod)
	_, span = m.childSpan(ctx, spanStartContainer)
	endSpan(span, errors.New("image missing"))
	start.End()
	spans := rec.Ended()
	if len(spans) != 2 || spans[0].Name() != spanStartContainer {
		t.Fatalf("spans %v, want %s then %s", spans, spanStartContainer, spanStartPod)
	}
	if spans[0].Parent().SpanID() != start.SpanContext().SpanID() {
		t.Errorf("child's parent %s, want the start span %s", spans[0].Parent().SpanID(), start.SpanContext().SpanID())
	}
	if spans[0].Status().Code != codes.Error || spans[0].Status().Description != "image missing" {
		t.Errorf("child status %v, want the error", spans[0].Status())
	}

	// No tracer at all: nothing, and no panic.
	_, span = (&Manager{}).childSpan(ctx, spanSandbox)
	endSpan(span, nil)
}
