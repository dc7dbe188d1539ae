package server

import (
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// push is the "xds.Push" span of one rebuilt Service and what the rebuild
// changed for it, by type URL.
type push struct {
	span             trace.Span
	updated, deleted map[string]int
}

// pushSource is the versions of a Service and its Endpoints that a push
// was built from.
type pushSource struct{ svc, eps string }

// startPush starts the push span of a Service, in the trace of the change
// behind it: the Endpoints' when they changed since the last push (their
// annotation names the write, normally the Endpoints controller's, itself
// in the trace of the pod change behind it), else the Service's when it
// changed; for a Service new to this server, its Endpoints' trace, else its
// own. A rebuild caused by neither (a node's zone changed; the world build
// at start, see rememberSources) starts a trace of its own rather than add
// a span to the trace of an old change. svc and eps may be nil (deleted).
// Callers hold s.mu.
func (s *Server) startPush(key string, svc *shoalv1.Service, eps *shoalv1.Endpoints) *push {
	now := sourceOf(svc, eps)
	last, seen := s.pushedFrom[key]
	if svc == nil {
		delete(s.pushedFrom, key)
	} else {
		s.pushedFrom[key] = now
	}
	var from []*shoalv1.ObjectMeta
	switch {
	case !seen:
		from = []*shoalv1.ObjectMeta{eps.GetMetadata(), svc.GetMetadata()}
	case now.eps != last.eps:
		from = []*shoalv1.ObjectMeta{eps.GetMetadata()}
	case now.svc != last.svc:
		from = []*shoalv1.ObjectMeta{svc.GetMetadata()}
	}
	ctx := s.ctx
	for _, m := range from {
		if c := observability.ObjectContext(s.ctx, m.GetAnnotations()); trace.SpanContextFromContext(c).IsValid() {
			ctx = c
			break
		}
	}
	_, span := s.tracer.Start(ctx, "xds.Push", trace.WithAttributes(attribute.String("shoal.service", key)))
	return &push{span: span, updated: map[string]int{}, deleted: map[string]int{}}
}

func sourceOf(svc *shoalv1.Service, eps *shoalv1.Endpoints) pushSource {
	return pushSource{svc: svc.GetMetadata().GetResourceVersion(), eps: eps.GetMetadata().GetResourceVersion()}
}

// rememberSources records the Services and Endpoints the informers hold
// as already pushed, so that the world build at start, which no change
// caused, joins no trace.
func (s *Server) rememberSources() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, svc := range s.services.List() {
		key := kinds.Key(svc)
		eps, _ := s.endpoints.Get(key)
		s.pushedFrom[key] = sourceOf(svc, eps)
	}
}

// fail marks the push failed.
func (p *push) fail(err error) {
	p.span.RecordError(err)
	p.span.SetStatus(codes.Error, err.Error())
}

// end records, per type this Service changed, how many resources were
// updated and deleted and the cache version that carries them (or the
// error updating that cache), then ends the span.
func (p *push) end(versions map[string]string, errs map[string]error) {
	var attrs []attribute.KeyValue
	for _, t := range sharedTypes {
		if p.updated[t] == 0 && p.deleted[t] == 0 {
			continue
		}
		short := strings.ToLower(shortType(t))
		attrs = append(attrs,
			attribute.Int("shoal.xds."+short+".updated", p.updated[t]),
			attribute.Int("shoal.xds."+short+".deleted", p.deleted[t]),
			attribute.String("shoal.xds."+short+".version", versions[t]))
		if err := errs[t]; err != nil {
			p.fail(err)
		}
	}
	p.span.SetAttributes(attrs...)
	p.span.End()
}
