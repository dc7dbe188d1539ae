package server

import (
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/observability"
)

// push is the "xds.Push" span of one rebuilt Service and what the rebuild
// changed for it, by type URL.
type push struct {
	span             trace.Span
	updated, deleted map[string]int
}

// startPush starts the push span of a Service. It continues the trace
// recorded on the Service's Endpoints — the write that changed the
// addresses, normally the Endpoints controller's, itself in the trace of
// the pod change behind it — or, when the Endpoints carry none (or do not
// exist), the Service's own trace. svc and eps may be nil (deleted).
func (s *Server) startPush(key string, svc *shoalv1.Service, eps *shoalv1.Endpoints) *push {
	ctx := observability.ObjectContext(s.ctx, eps.GetMetadata().GetAnnotations())
	if !trace.SpanContextFromContext(ctx).IsValid() {
		ctx = observability.ObjectContext(s.ctx, svc.GetMetadata().GetAnnotations())
	}
	_, span := s.tracer.Start(ctx, "xds.Push", trace.WithAttributes(attribute.String("shoal.service", key)))
	return &push{span: span, updated: map[string]int{}, deleted: map[string]int{}}
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
