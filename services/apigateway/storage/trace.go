package storage

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// tracerName names the spans of etcd calls.
const tracerName = "github.com/shoalmesh/shoal/services/apigateway/storage"

// etcdCall times one etcd request for the shoal_apigateway_etcd_* metrics
// and, when the request being served is traced, records it as a child span
// "etcd.<op>": etcd is a separate hop of every write, and the in-process
// client has no gRPC instrumentation of its own. done takes the call's error.
func (s *Store) etcdCall(ctx context.Context, op, key string) (context.Context, func(error)) {
	start := time.Now()
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return ctx, func(error) { s.metrics.observeEtcd(op, s.kind.Name, start) }
	}
	ctx, span := parent.TracerProvider().Tracer(tracerName).Start(ctx, "etcd."+op,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String("db.system.name", "etcd"),
			attribute.String("db.operation.name", op),
			attribute.String("shoal.kind", s.kind.Name),
			attribute.String("shoal.etcd.key", key),
		))
	return ctx, func(err error) {
		s.metrics.observeEtcd(op, s.kind.Name, start)
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
}
