package workqueue

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// sample returns the value of metric name for queue, and whether it exists.
// Counters and gauges give their value, histograms their sample count.
func sample(t *testing.T, reg *prometheus.Registry, name, queue string) (float64, bool) {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if !hasLabel(m, NameLabel, queue) {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue(), true
			case m.Gauge != nil:
				return m.Gauge.GetValue(), true
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount()), true
			}
		}
	}
	return 0, false
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

const anyValue = -1

func TestPrometheusMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewPrometheusMetrics(reg)
	if err != nil {
		t.Fatalf("NewPrometheusMetrics: %v", err)
	}
	q := New[string]("pods", WithMetricsProvider(m))
	defer q.ShutDown()

	q.Add("a")
	q.Add("b")
	key, _ := q.Get()
	q.Done(key)
	q.AddRateLimited("c")

	want := []struct {
		metric string
		value  float64
	}{
		{DepthMetric, 1},
		{AddsMetric, 2},
		{LatencyMetric, 1},
		{WorkDurationMetric, 1},
		// Set by a background loop every 500ms: only check they exist.
		{UnfinishedWorkMetric, anyValue},
		{LongestRunningMetric, anyValue},
		{RetriesMetric, 1},
	}
	for _, w := range want {
		got, ok := sample(t, reg, w.metric, "pods")
		if !ok {
			t.Errorf("%s{name=pods} missing", w.metric)
			continue
		}
		if w.value != anyValue && got != w.value {
			t.Errorf("%s{name=pods} = %v, want %v", w.metric, got, w.value)
		}
	}
}

func TestPrometheusMetricsShareRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	m1, err := NewPrometheusMetrics(reg)
	if err != nil {
		t.Fatalf("first NewPrometheusMetrics: %v", err)
	}
	m2, err := NewPrometheusMetrics(reg)
	if err != nil {
		t.Fatalf("second NewPrometheusMetrics on the same registry: %v", err)
	}
	q1 := New[string]("pods", WithMetricsProvider(m1))
	defer q1.ShutDown()
	q2 := New[string]("nodes", WithMetricsProvider(m2))
	defer q2.ShutDown()
	q1.Add("a")
	q2.Add("a")
	q2.Add("b")
	for queue, want := range map[string]float64{"pods": 1, "nodes": 2} {
		if got, _ := sample(t, reg, AddsMetric, queue); got != want {
			t.Errorf("%s{name=%s} = %v, want %v", AddsMetric, queue, got, want)
		}
	}
}

func TestQueueWithoutProviderRecordsNothing(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := NewPrometheusMetrics(reg); err != nil {
		t.Fatal(err)
	}
	q := New[string]("silent")
	defer q.ShutDown()
	q.Add("a")
	if _, ok := sample(t, reg, AddsMetric, "silent"); ok {
		t.Error("a queue without WithMetricsProvider reported metrics")
	}
}
