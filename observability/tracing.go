package observability

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// The standard OpenTelemetry variables that decide whether spans leave the
// process.
const (
	envTracesExporter = "OTEL_TRACES_EXPORTER"
	envEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	envTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	envProtocol       = "OTEL_EXPORTER_OTLP_PROTOCOL"
	envTracesProtocol = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	exporterOTLP      = "otlp"
	exporterNone      = "none"
	protocolGRPC      = "grpc"
)

// exportDecision says whether to build the OTLP exporter, plus warnings
// about settings this package ignores (logged once the logger exists).
type exportDecision struct {
	enabled  bool
	warnings []string
}

// decideExport follows the OpenTelemetry convention that an explicit
// OTEL_TRACES_EXPORTER is authoritative; without it, configuring an
// endpoint is taken as the wish to export. Empty values count as unset,
// as the specification and the exporter itself treat them. Defaulting to
// no export (the SDK's default is otlp to localhost:4317) keeps a
// developer's run from dialling a collector that is not there.
func decideExport(getenv func(string) string) exportDecision {
	env := func(k string) string { return strings.TrimSpace(getenv(k)) }
	var d exportDecision
	if v := env(envTracesExporter); v != "" {
		for name := range strings.SplitSeq(v, ",") {
			switch name = strings.ToLower(strings.TrimSpace(name)); name {
			case exporterOTLP:
				d.enabled = true
			case exporterNone, "":
			default:
				d.warnings = append(d.warnings, fmt.Sprintf("%s=%s: only %q and %q are supported; ignoring %q", envTracesExporter, v, exporterOTLP, exporterNone, name))
			}
		}
	} else {
		d.enabled = env(envEndpoint) != "" || env(envTracesEndpoint) != ""
	}
	if d.enabled {
		for _, k := range []string{envTracesProtocol, envProtocol} {
			if p := env(k); p != "" {
				if p != protocolGRPC {
					d.warnings = append(d.warnings, fmt.Sprintf("%s=%s: Shoal exports traces with OTLP over gRPC only", k, p))
				}
				break // the signal-specific variable shadows the generic one
			}
		}
	}
	return d
}

// newPropagator carries W3C trace context and baggage, the formats Envoy
// and every OpenTelemetry SDK understand.
func newPropagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

func newResource(ctx context.Context, cfg Config) (*resource.Resource, error) {
	attrs := []attribute.KeyValue{semconv.ServiceName(cfg.Service)}
	if cfg.Version != "" {
		attrs = append(attrs, semconv.ServiceVersion(cfg.Version))
	}
	// Later options win, so cfg.Service overrides OTEL_SERVICE_NAME: traces
	// must name the service exactly as its logs and metrics do. The
	// environment still contributes everything else (pod, node, ...).
	res, err := resource.New(ctx,
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithProcessPID(),
		resource.WithFromEnv(),
		resource.WithAttributes(attrs...),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("observability: building trace resource: %w", err)
	}
	return res, nil
}

// newTracerProvider returns the provider and, when exporting, the exporter
// it feeds (nil otherwise). Span loss is counted in m whether or not spans
// are exported, so the series exist on every service.
func newTracerProvider(ctx context.Context, cfg Config, export bool, m *spanQueueMetrics, logger *slog.Logger) (*sdktrace.TracerProvider, sdktrace.SpanExporter, error) {
	res, err := newResource(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.TraceSampleRatio))),
	}
	var exp sdktrace.SpanExporter
	if export {
		// The exporter reads OTEL_EXPORTER_OTLP_* itself (endpoint, TLS,
		// headers, timeout). Its connection is lazy: New does not dial.
		exp, err = otlptracegrpc.New(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("observability: creating OTLP trace exporter: %w", err)
		}
		// The span queue is bounded (OTEL_BSP_MAX_QUEUE_SIZE, 2048 by
		// default) and drops, counting, when full: a slow or dead
		// collector costs lost spans, never request latency, because
		// export and its retries run on the queue's own goroutine.
		qcfg, warnings := envSpanQueueConfig()
		for _, w := range warnings {
			logger.Warn("tracing configuration ignored", "reason", w)
		}
		opts = append(opts, sdktrace.WithSpanProcessor(newSpanQueue(exp, qcfg, m, exportErrorLogger(logger))))
	}
	// Without an exporter no span processor is registered: spans still get
	// ids (so logs can carry them) but are discarded when they end.
	return sdktrace.NewTracerProvider(opts...), exp, nil
}

// exportErrorInterval spaces out the warnings about failed exports: a
// collector that is down fails every batch, and the dropped-spans counter
// already tells how many were lost.
const exportErrorInterval = time.Minute

// exportErrorLogger logs the first export failure and then at most one per
// exportErrorInterval, with the number of failures in between. It is
// called from the span queue's single export goroutine only.
func exportErrorLogger(l *slog.Logger) func(error) {
	var last time.Time
	suppressed := 0
	return func(err error) {
		if !last.IsZero() && time.Since(last) < exportErrorInterval {
			suppressed++
			return
		}
		l.Warn("exporting spans failed; they are dropped and counted in shoal_trace_spans_dropped_total",
			"error", err, "failures_not_logged", suppressed)
		last, suppressed = time.Now(), 0
	}
}

func logExportWarnings(l *slog.Logger, d exportDecision) {
	for _, w := range d.warnings {
		l.Warn("tracing configuration ignored", "reason", w)
	}
}
