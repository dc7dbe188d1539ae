package observability

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Reasons a span is lost, the values of the reason label of
// shoal_trace_spans_dropped_total.
const (
	dropQueueFull    = "queue_full"    // ended while the queue was full
	dropExportFailed = "export_failed" // the exporter returned an error
	dropShutdown     = "shutdown"      // still queued when Shutdown gave up
)

// Batching defaults, the OpenTelemetry specification's (and the SDK batch
// processor's); the standard OTEL_BSP_* variables override them.
const (
	defaultSpanQueueSize     = 2048
	defaultSpanBatchSize     = 512
	defaultSpanScheduleDelay = 5 * time.Second
	defaultSpanExportTimeout = 30 * time.Second
)

// spanQueueConfig sizes a spanQueue.
type spanQueueConfig struct {
	queueSize     int           // spans waiting for export before new ones are dropped
	batchSize     int           // most spans per ExportSpans call
	scheduleDelay time.Duration // longest wait before a partial batch is sent
	exportTimeout time.Duration // bound of one ExportSpans call
}

// spanQueueConfigFromEnv reads OTEL_BSP_MAX_QUEUE_SIZE,
// OTEL_BSP_MAX_EXPORT_BATCH_SIZE, OTEL_BSP_SCHEDULE_DELAY and
// OTEL_BSP_EXPORT_TIMEOUT (milliseconds), as the SDK's batch processor does;
// invalid values keep the defaults and are reported as warnings.
func spanQueueConfigFromEnv(getenv func(string) string) (spanQueueConfig, []string) {
	c := spanQueueConfig{
		queueSize:     defaultSpanQueueSize,
		batchSize:     defaultSpanBatchSize,
		scheduleDelay: defaultSpanScheduleDelay,
		exportTimeout: defaultSpanExportTimeout,
	}
	var warnings []string
	positive := func(key string) (int, bool) {
		v := strings.TrimSpace(getenv(key))
		if v == "" {
			return 0, false
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			warnings = append(warnings, fmt.Sprintf("%s=%s: want a positive integer; using the default", key, v))
			return 0, false
		}
		return n, true
	}
	if n, ok := positive("OTEL_BSP_MAX_QUEUE_SIZE"); ok {
		c.queueSize = n
	}
	if n, ok := positive("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"); ok {
		c.batchSize = n
	}
	if n, ok := positive("OTEL_BSP_SCHEDULE_DELAY"); ok {
		c.scheduleDelay = time.Duration(n) * time.Millisecond
	}
	if n, ok := positive("OTEL_BSP_EXPORT_TIMEOUT"); ok {
		c.exportTimeout = time.Duration(n) * time.Millisecond
	}
	// As in the specification: a batch never exceeds the queue.
	c.batchSize = min(c.batchSize, c.queueSize)
	return c, warnings
}

// spanQueueMetrics count what happens to the spans handed to a spanQueue.
type spanQueueMetrics struct {
	dropped  *prometheus.CounterVec
	exported prometheus.Counter
}

func newSpanQueueMetrics() *spanQueueMetrics {
	m := &spanQueueMetrics{
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_trace_spans_dropped_total",
			Help: "Sampled spans that never reached the trace collector, by reason: queue_full (the export queue was full), export_failed (the exporter gave up on their batch), shutdown (still queued at exit).",
		}, []string{"reason"}),
		exported: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shoal_trace_spans_exported_total",
			Help: "Sampled spans the trace exporter accepted.",
		}),
	}
	// Every reason is visible from the start, so rate() works before the
	// first loss.
	for _, r := range []string{dropQueueFull, dropExportFailed, dropShutdown} {
		m.dropped.WithLabelValues(r)
	}
	return m
}

func (m *spanQueueMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.dropped, m.exported}
}

// spanQueue is the span processor in front of the OTLP exporter. Like the
// SDK's BatchSpanProcessor it queues ended spans in a bounded buffer and
// exports them in batches from a goroutine of its own, so a slow or dead
// collector never adds latency to a request: OnEnd never blocks and a span
// that finds the queue full is dropped. Unlike it, every lost span is
// counted (shoal_trace_spans_dropped_total), so an operator can see that
// traces are incomplete.
type spanQueue struct {
	exp     sdktrace.SpanExporter
	cfg     spanQueueConfig
	metrics *spanQueueMetrics
	onError func(error) // called with export errors, from the export goroutine

	queue   chan sdktrace.ReadOnlySpan
	flushes chan chan struct{} // ForceFlush requests, answered when exported
	stop    chan struct{}      // closed by Shutdown
	done    chan struct{}      // closed when the export goroutine has returned

	// exportCtx bounds every export; Shutdown cancels it when its own
	// context expires, so a stuck export cannot outlive a bounded Shutdown.
	exportCtx    context.Context
	cancelExport context.CancelFunc

	stopOnce     sync.Once
	shutdownOnce sync.Once
	shutdownErr  error
}

var _ sdktrace.SpanProcessor = (*spanQueue)(nil)

// newSpanQueue starts the export goroutine; Shutdown stops it.
func newSpanQueue(exp sdktrace.SpanExporter, cfg spanQueueConfig, m *spanQueueMetrics, onError func(error)) *spanQueue {
	if cfg.queueSize < 1 {
		cfg.queueSize = 1
	}
	if cfg.batchSize < 1 || cfg.batchSize > cfg.queueSize {
		cfg.batchSize = cfg.queueSize
	}
	if onError == nil {
		onError = func(error) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	q := &spanQueue{
		exp:          exp,
		cfg:          cfg,
		metrics:      m,
		onError:      onError,
		queue:        make(chan sdktrace.ReadOnlySpan, cfg.queueSize),
		flushes:      make(chan chan struct{}),
		stop:         make(chan struct{}),
		done:         make(chan struct{}),
		exportCtx:    ctx,
		cancelExport: cancel,
	}
	go q.run()
	return q
}

// OnStart does nothing: spans are handled when they end.
func (q *spanQueue) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd queues a sampled span for export, or drops and counts it when the
// queue is full or the processor has stopped. It never blocks.
func (q *spanQueue) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	select {
	case <-q.stop:
		q.metrics.dropped.WithLabelValues(dropShutdown).Inc()
		return
	default:
	}
	select {
	case q.queue <- s:
	default:
		q.metrics.dropped.WithLabelValues(dropQueueFull).Inc()
	}
}

// ForceFlush exports every span queued before the call, bounded by ctx.
func (q *spanQueue) ForceFlush(ctx context.Context) error {
	ack := make(chan struct{})
	select {
	case q.flushes <- ack:
	case <-q.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-ack:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown exports what is queued and stops the exporter, bounded by ctx:
// when ctx ends first, the export in progress is cancelled and the spans
// still queued are counted as dropped. Later calls return the first result.
func (q *spanQueue) Shutdown(ctx context.Context) error {
	q.shutdownOnce.Do(func() { q.shutdownErr = q.shutdown(ctx) })
	return q.shutdownErr
}

func (q *spanQueue) shutdown(ctx context.Context) error {
	q.stopOnce.Do(func() { close(q.stop) })
	var errs []error
	select {
	case <-q.done:
	case <-ctx.Done():
		q.cancelExport()
		<-q.done // the goroutine returns promptly once its export is cancelled
		errs = append(errs, fmt.Errorf("flushing spans: %w", ctx.Err()))
	}
	q.cancelExport()
	if err := q.exp.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stopping span exporter: %w", err))
	}
	return errors.Join(errs...)
}

// run is the export goroutine: it sends a batch when it is full, when the
// schedule delay has passed since the batch's first span, on ForceFlush and
// at shutdown.
func (q *spanQueue) run() {
	defer close(q.done)
	batch := make([]sdktrace.ReadOnlySpan, 0, q.cfg.batchSize)
	timer := time.NewTimer(q.cfg.scheduleDelay)
	timer.Stop()
	flush := func() {
		if len(batch) > 0 {
			q.export(batch)
			batch = batch[:0]
		}
	}
	for {
		select {
		case s := <-q.queue:
			if len(batch) == 0 {
				timer.Reset(q.cfg.scheduleDelay)
			}
			batch = append(batch, s)
			if len(batch) == q.cfg.batchSize {
				timer.Stop()
				flush()
			}
		case <-timer.C:
			flush()
		case ack := <-q.flushes:
			timer.Stop()
			q.drain(&batch)
			flush()
			close(ack)
		case <-q.stop:
			timer.Stop()
			q.drain(&batch)
			flush()
			return
		}
	}
}

// drain moves everything queued into batches, exporting each full one;
// when exports have been cancelled, what remains is counted as dropped.
func (q *spanQueue) drain(batch *[]sdktrace.ReadOnlySpan) {
	for {
		select {
		case s := <-q.queue:
			if q.exportCtx.Err() != nil {
				q.metrics.dropped.WithLabelValues(dropShutdown).Inc()
				continue
			}
			*batch = append(*batch, s)
			if len(*batch) == q.cfg.batchSize {
				q.export(*batch)
				*batch = (*batch)[:0]
			}
		default:
			return
		}
	}
}

func (q *spanQueue) export(batch []sdktrace.ReadOnlySpan) {
	if q.exportCtx.Err() != nil {
		q.metrics.dropped.WithLabelValues(dropShutdown).Add(float64(len(batch)))
		return
	}
	ctx, cancel := context.WithTimeout(q.exportCtx, q.cfg.exportTimeout)
	defer cancel()
	if err := q.exp.ExportSpans(ctx, batch); err != nil {
		q.metrics.dropped.WithLabelValues(dropExportFailed).Add(float64(len(batch)))
		q.onError(err)
		return
	}
	q.metrics.exported.Add(float64(len(batch)))
}

// envSpanQueueConfig is spanQueueConfigFromEnv over the process environment.
func envSpanQueueConfig() (spanQueueConfig, []string) {
	return spanQueueConfigFromEnv(os.Getenv)
}
