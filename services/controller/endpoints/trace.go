package endpoints

import (
	"cmp"
	"context"
	"slices"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// maxLinks bounds the links of one sync span: a rollout of hundreds of pods
// must not make one span hundreds of links long.
const maxLinks = 32

// changedPods returns the pods whose address entry differs between the
// stored and the built Endpoints (added, removed, or changed in IP, node,
// readiness or zone): the pods whose changes this write publishes.
func changedPods(stored, built *shoalv1.EndpointsSpec, pods []*shoalv1.Pod) []*shoalv1.Pod {
	before, after := addressesByPod(stored), addressesByPod(built)
	var out []*shoalv1.Pod
	for _, p := range pods {
		uid := p.GetMetadata().GetUid()
		// Two nil addresses (a pod in neither) are equal.
		if !proto.Equal(before[uid], after[uid]) {
			out = append(out, p)
		}
	}
	return out
}

func addressesByPod(spec *shoalv1.EndpointsSpec) map[string]*shoalv1.EndpointAddress {
	m := make(map[string]*shoalv1.EndpointAddress, len(spec.GetAddresses()))
	for _, a := range spec.GetAddresses() {
		m[a.GetTargetRef().GetUid()] = a
	}
	return m
}

// syncParent is the context an Endpoints sync's span starts from, and the
// links it carries. The write is caused by pod changes, so the span joins
// the trace of the changed pod with the newest change (highest resource
// version) among those with a trace, and links the other distinct traces
// of changed pods (a rollout joins several user actions into one write).
// When no pod changed but the sync writes (a new or edited Service, or a
// port renumbering) it joins the Service's trace; when it writes nothing
// it joins no trace, so that no-op syncs do not grow the trace of the
// Service's last change.
func syncParent(ctx context.Context, svc *shoalv1.Service, changed []*shoalv1.Pod, writes bool) (context.Context, []trace.Link) {
	changed = slices.Clone(changed)
	slices.SortStableFunc(changed, func(a, b *shoalv1.Pod) int {
		return cmp.Compare(revision(b), revision(a)) // newest first
	})
	var parent trace.SpanContext
	var links []trace.Link
	seen := map[trace.TraceID]bool{}
	for _, p := range changed {
		sc := trace.SpanContextFromContext(observability.ObjectContext(context.Background(), p.GetMetadata().GetAnnotations()))
		if !sc.IsValid() || seen[sc.TraceID()] {
			continue
		}
		seen[sc.TraceID()] = true
		if !parent.IsValid() {
			parent = sc
			continue
		}
		if len(links) < maxLinks {
			links = append(links, trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{attribute.String("shoal.pod", kinds.Key(p))}})
		}
	}
	if !parent.IsValid() {
		if !writes {
			return ctx, links
		}
		return observability.ObjectContext(ctx, svc.GetMetadata().GetAnnotations()), links
	}
	return trace.ContextWithRemoteSpanContext(ctx, parent), links
}

// revision is an object's resource version as a number (0 when it is not
// one), so that "10" orders after "9".
func revision(p *shoalv1.Pod) int64 {
	n, _ := strconv.ParseInt(p.GetMetadata().GetResourceVersion(), 10, 64)
	return n
}

// readiness counts the ready and not-ready addresses of spec.
func readiness(spec *shoalv1.EndpointsSpec) (ready, notReady int) {
	for _, a := range spec.GetAddresses() {
		if a.GetReady() {
			ready++
		} else {
			notReady++
		}
	}
	return ready, notReady
}
