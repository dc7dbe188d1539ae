package workqueue

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/util/workqueue"
)

// Metric names, all labelled with the queue's name.
const (
	metricPrefix = "shoal_workqueue_"

	DepthMetric          = metricPrefix + "depth"
	AddsMetric           = metricPrefix + "adds_total"
	LatencyMetric        = metricPrefix + "queue_duration_seconds"
	WorkDurationMetric   = metricPrefix + "work_duration_seconds"
	UnfinishedWorkMetric = metricPrefix + "unfinished_work_seconds"
	LongestRunningMetric = metricPrefix + "longest_running_processor_seconds"
	RetriesMetric        = metricPrefix + "retries_total"

	// NameLabel is the label carrying the queue's name.
	NameLabel = "name"
)

// PrometheusMetrics is a client-go workqueue.MetricsProvider backed by
// Prometheus collectors. One value serves any number of queues; each queue's
// series carry its name in the "name" label.
type PrometheusMetrics struct {
	depth          *prometheus.GaugeVec
	adds           *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	workDuration   *prometheus.HistogramVec
	unfinishedWork *prometheus.GaugeVec
	longestRunning *prometheus.GaugeVec
	retries        *prometheus.CounterVec
}

var _ workqueue.MetricsProvider = (*PrometheusMetrics)(nil)

// NewPrometheusMetrics registers the shoal_workqueue_* collectors in reg.
// Calling it again with the same reg reuses the collectors already there.
func NewPrometheusMetrics(reg prometheus.Registerer) (*PrometheusMetrics, error) {
	// Same buckets as Kubernetes' workqueue metrics: 10ns .. 1000s.
	buckets := prometheus.ExponentialBuckets(10e-9, 10, 12)
	labels := []string{NameLabel}
	m := &PrometheusMetrics{
		depth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: DepthMetric, Help: "Current depth of the work queue.",
		}, labels),
		adds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: AddsMetric, Help: "Total number of adds handled by the work queue.",
		}, labels),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: LatencyMetric, Help: "How long in seconds an item stays in the work queue before being requested.",
			Buckets: buckets,
		}, labels),
		workDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: WorkDurationMetric, Help: "How long in seconds processing an item from the work queue takes.",
			Buckets: buckets,
		}, labels),
		unfinishedWork: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: UnfinishedWorkMetric,
			Help: "Seconds of work in progress that has not been observed by work_duration. Large values suggest stuck workers.",
		}, labels),
		longestRunning: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: LongestRunningMetric, Help: "How many seconds the longest running worker has been processing its item.",
		}, labels),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: RetriesMetric, Help: "Total number of retries (rate-limited adds) handled by the work queue.",
		}, labels),
	}
	var err error
	m.depth, err = register(reg, m.depth)
	if err != nil {
		return nil, err
	}
	if m.adds, err = register(reg, m.adds); err != nil {
		return nil, err
	}
	if m.latency, err = register(reg, m.latency); err != nil {
		return nil, err
	}
	if m.workDuration, err = register(reg, m.workDuration); err != nil {
		return nil, err
	}
	if m.unfinishedWork, err = register(reg, m.unfinishedWork); err != nil {
		return nil, err
	}
	if m.longestRunning, err = register(reg, m.longestRunning); err != nil {
		return nil, err
	}
	if m.retries, err = register(reg, m.retries); err != nil {
		return nil, err
	}
	return m, nil
}

// register adds c to reg, or returns the equal collector reg already holds.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("workqueue: registering metrics: %w", err)
}

// NewDepthMetric implements workqueue.MetricsProvider.
func (m *PrometheusMetrics) NewDepthMetric(name string) workqueue.GaugeMetric {
	return m.depth.WithLabelValues(name)
}

// NewAddsMetric implements workqueue.MetricsProvider.
func (m *PrometheusMetrics) NewAddsMetric(name string) workqueue.CounterMetric {
	return m.adds.WithLabelValues(name)
}

// NewLatencyMetric implements workqueue.MetricsProvider.
func (m *PrometheusMetrics) NewLatencyMetric(name string) workqueue.HistogramMetric {
	return m.latency.WithLabelValues(name)
}

// NewWorkDurationMetric implements workqueue.MetricsProvider.
func (m *PrometheusMetrics) NewWorkDurationMetric(name string) workqueue.HistogramMetric {
	return m.workDuration.WithLabelValues(name)
}

// NewUnfinishedWorkSecondsMetric implements workqueue.MetricsProvider.
func (m *PrometheusMetrics) NewUnfinishedWorkSecondsMetric(name string) workqueue.SettableGaugeMetric {
	return m.unfinishedWork.WithLabelValues(name)
}

// NewLongestRunningProcessorSecondsMetric implements workqueue.MetricsProvider.
func (m *PrometheusMetrics) NewLongestRunningProcessorSecondsMetric(name string) workqueue.SettableGaugeMetric {
	return m.longestRunning.WithLabelValues(name)
}

// NewRetriesMetric implements workqueue.MetricsProvider.
func (m *PrometheusMetrics) NewRetriesMetric(name string) workqueue.CounterMetric {
	return m.retries.WithLabelValues(name)
}
