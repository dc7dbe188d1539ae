package endpoints

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"go.opentelemetry.io/otel/trace"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/observability"
)

// traced gives a pod a resource version and the traceparent of trace n
// (0: no trace).
func traced(rv string, n byte) podOpt {
	return func(p *shoalv1.Pod) {
		p.Metadata.ResourceVersion = rv
		if n != 0 {
			p.Metadata.Annotations = map[string]string{observability.TraceAnnotation: traceparent(n)}
		}
	}
}

func traceparent(n byte) string {
	return fmt.Sprintf("00-%032x-%016x-01", n, n)
}

func traceID(n byte) trace.TraceID {
	var id trace.TraceID
	id[15] = n
	return id
}

func TestSyncParent(t *testing.T) {
	service := svc(port("grpc", 50051, 50051))
	tracedService := svc(port("grpc", 50051, 50051))
	tracedService.Metadata.Annotations = map[string]string{observability.TraceAnnotation: traceparent(9)}
	a := pod("a", "10.0.0.1", "n1", ready, traced("7", 1))
	b := pod("b", "10.0.0.2", "n1", ready, traced("12", 2)) // newest: "12" > "7" as numbers
	c := pod("c", "10.0.0.3", "n2", ready, traced("9", 1))  // same trace as a
	d := pod("d", "10.0.0.4", "n2", ready, traced("20", 0)) // newest but untraced
	stored := func(pods ...*shoalv1.Pod) *shoalv1.EndpointsSpec { return Build(service, pods, nil).Spec }
	notReadyB := pod("b", "10.0.0.2", "n1", traced("30", 3))

	tests := []struct {
		name      string
		svc       *shoalv1.Service
		stored    *shoalv1.EndpointsSpec
		pods      []*shoalv1.Pod
		noWrite   bool // the sync will write nothing
		wantTrace byte // 0: no parent
		wantLinks []byte
	}{
		{name: "first endpoints: newest pod is the parent, other traces linked once",
			svc: service, pods: []*shoalv1.Pod{a, b, c}, wantTrace: 2, wantLinks: []byte{1}},
		{name: "only changed pods count",
			svc: service, stored: stored(a, b), pods: []*shoalv1.Pod{a, b, c}, wantTrace: 1},
		{name: "a pod turning not ready",
			svc: service, stored: stored(a, b, c), pods: []*shoalv1.Pod{a, notReadyB, c}, wantTrace: 3},
		{name: "the newest traced change wins over a newer untraced one",
			svc: service, stored: stored(a), pods: []*shoalv1.Pod{a, b, d}, wantTrace: 2},
		{name: "only untraced changes: the service's trace",
			svc: tracedService, stored: stored(a, b), pods: []*shoalv1.Pod{a, b, d}, wantTrace: 9},
		{name: "no pod changed, a write (ports): the service's trace",
			svc: tracedService, stored: stored(a, b), pods: []*shoalv1.Pod{a, b}, wantTrace: 9},
		{name: "no-op sync: no trace",
			svc: tracedService, stored: stored(a, b), pods: []*shoalv1.Pod{a, b}, noWrite: true, wantTrace: 0},
		{name: "nothing changed, untraced service: a new trace",
			svc: service, stored: stored(a, b), pods: []*shoalv1.Pod{a, b}, wantTrace: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			built := Build(tc.svc, tc.pods, nil).Spec
			ctx, links := syncParent(context.Background(), tc.svc, changedPods(tc.stored, built, tc.pods), !tc.noWrite)
			sc := trace.SpanContextFromContext(ctx)
			switch {
			case tc.wantTrace == 0 && sc.IsValid():
				t.Errorf("parent in trace %s, want none", sc.TraceID())
			case tc.wantTrace != 0 && sc.TraceID() != traceID(tc.wantTrace):
				t.Errorf("parent in trace %s, want %s", sc.TraceID(), traceID(tc.wantTrace))
			}
			var got []trace.TraceID
			for _, l := range links {
				got = append(got, l.SpanContext.TraceID())
			}
			var want []trace.TraceID
			for _, n := range tc.wantLinks {
				want = append(want, traceID(n))
			}
			if !slices.Equal(got, want) {
				t.Errorf("links %v, want %v", got, want)
			}
		})
	}
}

func TestSyncParentBoundsLinks(t *testing.T) {
	var pods []*shoalv1.Pod
	for i := range 100 {
		pods = append(pods, pod(fmt.Sprint("p", i), fmt.Sprintf("10.0.1.%d", i), "n1", traced(fmt.Sprint(i+1), byte(i+1))))
	}
	_, links := syncParent(context.Background(), svc(), pods, true)
	if len(links) != maxLinks {
		t.Errorf("%d links, want %d", len(links), maxLinks)
	}
}
