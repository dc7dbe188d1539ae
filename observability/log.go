package observability

import (
	"context"
	"io"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// Log field names, shared with whatever later parses the JSON lines
// (Fluentd, the collector, tests).
const (
	LogKeyService = "service"
	LogKeyTraceID = "trace_id"
	LogKeySpanID  = "span_id"
)

func newLogger(w io.Writer, service string, level slog.Level) *slog.Logger {
	base := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}).
		WithAttrs([]slog.Attr{slog.String(LogKeyService, service)})
	return slog.New(&traceHandler{base: base, inner: base})
}

// traceHandler adds the trace and span ids of the span in the log call's
// context, so a log line can be found from a trace and the other way round.
//
// The ids must stay top-level fields even in a logger that has opened a
// group (logger.WithGroup("pod")), or log queries on trace_id would miss
// them. A record's own attributes always land inside the open groups, so
// for grouped loggers the handler keeps the handler as it was before the
// first group and replays the later WithGroup/WithAttrs calls on top of the
// ids. Ungrouped loggers, the common case, take the cheap path.
type traceHandler struct {
	base  slog.Handler                      // state before the first group
	ops   []func(slog.Handler) slog.Handler // calls made since that group
	inner slog.Handler                      // base with ops applied
}

var _ slog.Handler = (*traceHandler)(nil)

func (h *traceHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *traceHandler) Handle(ctx context.Context, r slog.Record) error {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return h.inner.Handle(ctx, r)
	}
	ids := []slog.Attr{
		slog.String(LogKeyTraceID, sc.TraceID().String()),
		slog.String(LogKeySpanID, sc.SpanID().String()),
	}
	if len(h.ops) == 0 {
		// Clone: the caller may still share the record's attribute storage.
		r = r.Clone()
		r.AddAttrs(ids...)
		return h.inner.Handle(ctx, r)
	}
	hh := h.base.WithAttrs(ids)
	for _, op := range h.ops {
		hh = op(hh)
	}
	return hh.Handle(ctx, r)
}

func (h *traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	if len(h.ops) == 0 {
		next := h.inner.WithAttrs(attrs)
		return &traceHandler{base: next, inner: next}
	}
	return h.with(func(x slog.Handler) slog.Handler { return x.WithAttrs(attrs) })
}

func (h *traceHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.with(func(x slog.Handler) slog.Handler { return x.WithGroup(name) })
}

func (h *traceHandler) with(op func(slog.Handler) slog.Handler) *traceHandler {
	// A fresh slice: sibling loggers derived from h must not share appends.
	ops := make([]func(slog.Handler) slog.Handler, len(h.ops), len(h.ops)+1)
	copy(ops, h.ops)
	return &traceHandler{base: h.base, ops: append(ops, op), inner: op(h.inner)}
}
