package e2e

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/observability"
)

// TestPodStartIsTraced: a pod's start in containerd is one nodeagent.StartPod
// span in the pod's trace, with the sandbox (pause container and CNI
// setup) and every container start beneath it, and the status write that
// makes the pod Ready is a nodeagent.PodReady span in the same trace. A
// container that cannot start has a failed span, once: retries are not
// traced.
func TestPodStartIsTraced(t *testing.T) {
	e := newEnv(t)
	rec := tracetest.NewSpanRecorder()
	// The agent's tracer comes from this provider; spans of pods created
	// from here on are recorded.
	e.obs.TracerProvider.(*sdktrace.TracerProvider).RegisterSpanProcessor(rec)

	e.createPod(pod("traced", shell("a", "sleep 3600"), shell("b", "sleep 3600")))
	p := e.waitPod("traced", "running and ready", isRunningReady)
	podSpan := trace.SpanContextFromContext(observability.ObjectContext(context.Background(), p.GetMetadata().GetAnnotations()))
	if !podSpan.IsValid() {
		t.Fatalf("the gateway recorded no trace on the pod: %v", p.GetMetadata().GetAnnotations())
	}
	spans := waitSpans(t, rec, "default/traced", func(s []sdktrace.ReadOnlySpan) bool {
		// The pause task, and its span's end, come after Ready.
		return len(byName(s, "nodeagent.PodReady")) == 1 && len(byName(s, "nodeagent.StartPod")) == 1 &&
			len(byName(s, "nodeagent.StartPause")) == 1
	})
	for _, s := range spans {
		if s.SpanContext().TraceID() != podSpan.TraceID() {
			t.Errorf("%s in trace %s, want the pod's %s", s.Name(), s.SpanContext().TraceID(), podSpan.TraceID())
		}
	}
	one := func(name string) sdktrace.ReadOnlySpan {
		t.Helper()
		got := byName(spans, name)
		if len(got) != 1 {
			t.Fatalf("%d %s spans, want 1", len(got), name)
		}
		return got[0]
	}
	childOf := func(s, parent sdktrace.ReadOnlySpan) {
		t.Helper()
		if s.Parent().SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("%s is a child of %s, want %s (%s)", s.Name(), s.Parent().SpanID(), parent.Name(), parent.SpanContext().SpanID())
		}
	}
	start, sandbox := one("nodeagent.StartPod"), one("nodeagent.Sandbox")
	if start.Parent().SpanID() != podSpan.SpanID() {
		t.Errorf("nodeagent.StartPod is a child of %s, want the pod's span %s", start.Parent().SpanID(), podSpan.SpanID())
	}
	childOf(sandbox, start)
	childOf(one("nodeagent.StartPause"), sandbox)
	childOf(one("nodeagent.NetworkSetup"), sandbox)
	if ip := attr(sandbox, "shoal.pod.ip"); ip != p.GetStatus().GetPodIp() {
		t.Errorf("sandbox span has IP %q, the pod %q", ip, p.GetStatus().GetPodIp())
	}
	ctrs := byName(spans, "nodeagent.StartContainer")
	names := map[string]bool{}
	for _, c := range ctrs {
		childOf(c, start)
		names[attr(c, "shoal.container")] = true
		if attr(c, "shoal.result") != "Started" || attr(c, "shoal.image") == "" || attr(c, "shoal.node") != e.nodeName {
			t.Errorf("container span attributes %v", c.Attributes())
		}
	}
	if len(ctrs) != 2 || !names["a"] || !names["b"] {
		t.Errorf("container spans for %v, want a and b", names)
	}
	if ready := one("nodeagent.PodReady"); ready.Parent().SpanID() != podSpan.SpanID() && ready.Parent().SpanID() != start.SpanContext().SpanID() {
		t.Errorf("nodeagent.PodReady is a child of %s, want the pod's span or StartPod", ready.Parent().SpanID())
	}

	// A container that cannot start: one failed span, however often the
	// agent retries after its back-off.
	e.createPod(pod("noimage", &shoalv1.Container{Name: "app", Image: "shoal.local/does-not-exist:v1"}))
	e.waitPod("noimage", "ErrImagePull", func(p *shoalv1.Pod) bool {
		return ctrStatus(p, "app").GetState().GetWaiting().GetReason() == "ErrImagePull"
	})
	time.Sleep(2 * e.cfg.BackoffBase) // room for a retry
	failed := byName(waitSpans(t, rec, "default/noimage", func(s []sdktrace.ReadOnlySpan) bool {
		return len(byName(s, "nodeagent.StartContainer")) > 0
	}), "nodeagent.StartContainer")
	if len(failed) != 1 {
		t.Fatalf("%d container start spans for a container that never starts, want 1", len(failed))
	}
	if failed[0].Status().Code != codes.Error || attr(failed[0], "shoal.result") != "ErrImagePull" {
		t.Errorf("failed start span: status %v, result %q", failed[0].Status(), attr(failed[0], "shoal.result"))
	}
}

// waitSpans waits until the ended spans of pod satisfy ok and returns them.
func waitSpans(t *testing.T, rec *tracetest.SpanRecorder, pod string, ok func([]sdktrace.ReadOnlySpan) bool) []sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var out []sdktrace.ReadOnlySpan
		for _, s := range rec.Ended() {
			if attr(s, "shoal.pod") == pod {
				out = append(out, s)
			}
		}
		if ok(out) {
			return out
		}
		if time.Now().After(deadline) {
			var names []string
			for _, s := range out {
				names = append(names, s.Name())
			}
			t.Fatalf("spans of %s: %v", pod, names)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func byName(spans []sdktrace.ReadOnlySpan, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

func attr(s sdktrace.ReadOnlySpan, key string) string {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value.Emit()
		}
	}
	return ""
}
