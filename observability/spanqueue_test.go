package observability

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func TestSpanQueueConfigFromEnv(t *testing.T) {
	tests := []struct {
		name         string
		env          map[string]string
		want         spanQueueConfig
		wantWarnings int
	}{
		{
			name: "defaults",
			want: spanQueueConfig{queueSize: 2048, batchSize: 512, scheduleDelay: 5 * time.Second, exportTimeout: 30 * time.Second},
		},
		{
			name: "all set",
			env: map[string]string{
				"OTEL_BSP_MAX_QUEUE_SIZE": "100", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "10",
				"OTEL_BSP_SCHEDULE_DELAY": "250", "OTEL_BSP_EXPORT_TIMEOUT": "1000",
			},
			want: spanQueueConfig{queueSize: 100, batchSize: 10, scheduleDelay: 250 * time.Millisecond, exportTimeout: time.Second},
		},
		{
			name: "batch never exceeds queue",
			env:  map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "64"},
			want: spanQueueConfig{queueSize: 64, batchSize: 64, scheduleDelay: 5 * time.Second, exportTimeout: 30 * time.Second},
		},
		{
			name:         "invalid values keep defaults and warn",
			env:          map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "lots", "OTEL_BSP_EXPORT_TIMEOUT": "-5"},
			want:         spanQueueConfig{queueSize: 2048, batchSize: 512, scheduleDelay: 5 * time.Second, exportTimeout: 30 * time.Second},
			wantWarnings: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, warnings := spanQueueConfigFromEnv(func(k string) string { return tc.env[k] })
			if got != tc.want {
				t.Errorf("config = %+v, want %+v", got, tc.want)
			}
			if len(warnings) != tc.wantWarnings {
				t.Errorf("warnings = %q, want %d", warnings, tc.wantWarnings)
			}
		})
	}
}

// gateExporter blocks every export until release is closed, and counts
// the spans it was given.
type gateExporter struct {
	release chan struct{}
	mu      sync.Mutex
	got     int
}

func (e *gateExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	select {
	case <-e.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	e.mu.Lock()
	e.got += len(spans)
	e.mu.Unlock()
	return nil
}

func (e *gateExporter) Shutdown(context.Context) error { return nil }

func (e *gateExporter) exported() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.got
}

// TestSpanQueueDropsWhenFull: while the exporter is stuck, the queue holds
// at most queueSize spans plus the batch being exported; every other span is
// dropped and counted, and none is lost without being counted.
func TestSpanQueueDropsWhenFull(t *testing.T) {
	const queueSize, batchSize, spans = 8, 4, 100
	exp := &gateExporter{release: make(chan struct{})}
	m := newSpanQueueMetrics()
	q := newSpanQueue(exp, spanQueueConfig{queueSize: queueSize, batchSize: batchSize, scheduleDelay: time.Hour, exportTimeout: time.Hour}, m, nil)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(q))

	tr := tp.Tracer("test")
	for range spans {
		_, s := tr.Start(context.Background(), "op")
		s.End() // would hang here if OnEnd blocked on the stuck exporter
	}
	queueFull := counterValue(t, m.dropped.WithLabelValues(dropQueueFull))
	if min := float64(spans - queueSize - batchSize); queueFull < min {
		t.Fatalf("queue_full drops = %v, want at least %v", queueFull, min)
	}

	close(exp.release)
	if err := tp.ForceFlush(context.Background()); err != nil {
		t.Fatalf("ForceFlush: %v", err)
	}
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	exported := counterValue(t, m.exported)
	if int(exported) != exp.exported() {
		t.Errorf("exported counter %v, exporter saw %d", exported, exp.exported())
	}
	if total := exported + totalDropped(t, m); total != spans {
		t.Errorf("exported %v + dropped %v = %v, want every one of %d spans accounted for", exported, totalDropped(t, m), total, spans)
	}
}

// TestSpanQueueSkipsUnsampled: spans the sampler rejected never reach the
// queue, so they are neither exported nor counted as lost.
func TestSpanQueueSkipsUnsampled(t *testing.T) {
	exp := &gateExporter{release: make(chan struct{})}
	close(exp.release)
	m := newSpanQueueMetrics()
	q := newSpanQueue(exp, spanQueueConfig{queueSize: 4, batchSize: 4, scheduleDelay: time.Hour, exportTimeout: time.Hour}, m, nil)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(q), sdktrace.WithSampler(sdktrace.NeverSample()))
	for range 10 {
		_, s := tp.Tracer("test").Start(context.Background(), "op")
		s.End()
	}
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := counterValue(t, m.exported) + totalDropped(t, m); got != 0 {
		t.Errorf("unsampled spans were handled: exported+dropped = %v", got)
	}
}

// counterValue reads one counter without a registry.
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func totalDropped(t *testing.T, m *spanQueueMetrics) float64 {
	var sum float64
	for _, r := range []string{dropQueueFull, dropExportFailed, dropShutdown} {
		sum += counterValue(t, m.dropped.WithLabelValues(r))
	}
	return sum
}

// TestUnreachableCollectorNeverBlocksSpans goes through Setup, as a service
// does, with OTLP export pointed at a port nobody listens on: ending many
// more spans than the queue holds returns, Shutdown returns within its
// bound, and every span shows up in shoal_trace_spans_dropped_total.
func TestUnreachableCollectorNeverBlocksSpans(t *testing.T) {
	clearOTLPEnv(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close() // nothing listens here any more
	t.Setenv(envEndpoint, "http://"+addr)
	t.Setenv("OTEL_BSP_MAX_QUEUE_SIZE", "256")

	o, err := Setup(context.Background(), NewConfig("unreachable"), &syncBuffer{})
	if err != nil {
		t.Fatal(err)
	}
	const spans = 10 * 256
	done := make(chan struct{})
	go func() {
		defer close(done)
		tr := o.Tracer("test")
		for range spans {
			_, s := tr.Start(context.Background(), "op")
			s.End()
		}
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second): // a hang check, not a timing
		t.Fatal("ending spans blocked while the collector was unreachable")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = o.Shutdown(ctx) // may report the deadline; it must return

	dropped := counterSum(t, o.Registry, "shoal_trace_spans_dropped_total")
	exported := counterSum(t, o.Registry, "shoal_trace_spans_exported_total")
	if exported != 0 {
		t.Errorf("exported = %v to a collector that does not exist", exported)
	}
	if dropped != spans {
		t.Errorf("shoal_trace_spans_dropped_total = %v, want %d (every span lost must be counted)", dropped, spans)
	}
}

// TestSpanMetricsAlwaysRegistered: the drop counter exists even without an
// exporter, so dashboards and alerts never see a missing series.
func TestSpanMetricsAlwaysRegistered(t *testing.T) {
	clearOTLPEnv(t)
	o, _ := setupTest(t, NewConfig("svc"))
	mfs, err := o.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		if mf.GetName() == "shoal_trace_spans_dropped_total" {
			found = len(mf.GetMetric()) == 3
		}
	}
	if !found {
		t.Fatal("shoal_trace_spans_dropped_total{reason=queue_full|export_failed|shutdown} not registered")
	}
}

// counterSum adds up every series of the counter family name.
func counterSum(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
