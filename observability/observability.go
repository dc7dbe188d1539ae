package observability

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Observability is the telemetry of one service process. Its exported
// fields are ready to use after Setup and must not be replaced.
type Observability struct {
	// Logger writes JSON lines with a service field; records logged with a
	// context holding a span (InfoContext, ...) also get trace_id and
	// span_id.
	Logger *slog.Logger
	// TracerProvider creates the spans of this process. It is not the
	// OpenTelemetry global: hand it to instrumentation explicitly.
	TracerProvider trace.TracerProvider
	// Propagator moves trace context and baggage across process
	// boundaries (W3C traceparent, tracestate and baggage headers).
	Propagator propagation.TextMapPropagator
	// Registry holds this process's metrics, including Go runtime and
	// process collectors; register a service's own collectors here.
	Registry *prometheus.Registry

	cfg           Config
	tp            *sdktrace.TracerProvider
	exporter      sdktrace.SpanExporter // nil when spans are not exported
	serverMetrics *serverMetrics
	serverTracer  trace.Tracer // of the server spans (servertrace.go)
	clientMetrics *clientMetrics
	fluent        *FluentSink // nil without FluentdAddress

	mu      sync.Mutex
	closed  bool
	httpSrv *http.Server
	stop    chan struct{}  // closed by Shutdown, ends ServeMetrics' watcher
	wg      sync.WaitGroup // ServeMetrics' goroutines

	shutdownOnce sync.Once
	shutdownErr  error
}

// Setup builds the logger, tracer provider and metrics registry of a
// service from cfg, writing logs to logOut (os.Stderr when nil). It starts
// no goroutine that outlives a failed call and never dials: the trace
// exporter, when enabled, connects on first export. Call Shutdown before
// the process exits so buffered spans are flushed.
func Setup(ctx context.Context, cfg Config, logOut io.Writer) (*Observability, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	level, _ := parseLevel(cfg.LogLevel) // Validate has checked it
	if logOut == nil {
		logOut = os.Stderr
	}
	reg, sm, cm := newRegistry()
	var fluentSink *FluentSink
	if cfg.FluentdAddress != "" {
		var err error
		if fluentSink, err = NewFluentSink(cfg.FluentdAddress, cfg.FluentdBuffer, reg); err != nil {
			return nil, err
		}
		logOut = io.MultiWriter(logOut, fluentLogWriter{sink: fluentSink, tag: "shoal." + cfg.Service})
	}
	logger := newLogger(logOut, cfg.Service, level)

	export := decideExport(os.Getenv)
	logExportWarnings(logger, export)
	spanMetrics := newSpanQueueMetrics()
	reg.MustRegister(spanMetrics.collectors()...)
	tp, exp, err := newTracerProvider(ctx, cfg, export.enabled, spanMetrics, logger)
	if err != nil {
		if fluentSink != nil {
			fluentSink.Close()
		}
		return nil, err
	}
	logger.Debug("observability ready", "trace_export", export.enabled, "trace_sample_ratio", cfg.TraceSampleRatio)

	return &Observability{
		Logger:         logger,
		TracerProvider: tp,
		Propagator:     newPropagator(),
		Registry:       reg,
		cfg:            cfg,
		tp:             tp,
		exporter:       exp,
		serverMetrics:  sm,
		serverTracer:   tp.Tracer(serverTracerName),
		clientMetrics:  cm,
		fluent:         fluentSink,
		stop:           make(chan struct{}),
	}, nil
}

// Fluent is the process's Fluentd sink (nil without FluentdAddress), for
// components that ship records of their own — the node agent's container
// logs — through the same bounded buffer and connection.
func (o *Observability) Fluent() *FluentSink { return o.fluent }

// Tracer returns a tracer of this process's provider, named after the
// instrumented package or component.
func (o *Observability) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return o.TracerProvider.Tracer(name, opts...)
}

// Shutdown flushes buffered spans, stops the tracer provider and the
// metrics server, and waits for its goroutines, all bounded by ctx. It is
// idempotent: later calls wait for the first and return its result. Spans
// started afterwards are dropped.
func (o *Observability) Shutdown(ctx context.Context) error {
	o.shutdownOnce.Do(func() { o.shutdownErr = o.shutdown(ctx) })
	return o.shutdownErr
}

func (o *Observability) shutdown(ctx context.Context) error {
	o.mu.Lock()
	o.closed = true
	srv := o.httpSrv
	o.mu.Unlock()
	close(o.stop)

	var errs []error
	if o.fluent != nil {
		// Records still queued for an unreachable Fluentd are dropped:
		// shutdown must stay bounded.
		if err := o.fluent.Close(); err != nil {
			errs = append(errs, fmt.Errorf("observability: closing fluentd sink: %w", err))
		}
	}
	if err := o.tp.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("observability: stopping tracer provider: %w", err))
	}
	if srv != nil {
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
			errs = append(errs, fmt.Errorf("observability: stopping metrics server: %w", err))
		}
	}
	done := make(chan struct{})
	go func() {
		o.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("observability: waiting for metrics server: %w", ctx.Err()))
	}
	return errors.Join(errs...)
}
