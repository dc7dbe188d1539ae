package storage

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the storage layer's Prometheus collectors; a nil *Metrics
// records nothing.
type Metrics struct {
	etcd     *prometheus.HistogramVec
	delivery *prometheus.HistogramVec
	events   *prometheus.CounterVec
}

// NewMetrics registers the collectors in reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		etcd: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shoal_apigateway_etcd_request_seconds",
			Help:    "Latency of etcd requests made by the gateway, by operation and kind.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"op", "kind"}),
		delivery: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shoal_apigateway_watch_delivery_seconds",
			Help:    "Time from the watch cache receiving a change to a watcher being sent it.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"kind"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_apigateway_watch_events_sent_total",
			Help: "Watch events sent to watchers, by kind.",
		}, []string{"kind"}),
	}
	for _, c := range []prometheus.Collector{m.etcd, m.delivery, m.events} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) observeEtcd(op, kind string, start time.Time) {
	if m != nil {
		m.etcd.WithLabelValues(op, kind).Observe(time.Since(start).Seconds())
	}
}

// deliveryMetrics are one kind's watch delivery collectors, looked up once:
// a label lookup per delivery was a twentieth of the fan-out's CPU.
type deliveryMetrics struct {
	delay  prometheus.Observer
	events prometheus.Counter
}

func (m *Metrics) deliveryFor(kind string) deliveryMetrics {
	if m == nil {
		return deliveryMetrics{}
	}
	return deliveryMetrics{delay: m.delivery.WithLabelValues(kind), events: m.events.WithLabelValues(kind)}
}

func (d deliveryMetrics) observe(seen time.Time) {
	if d.events == nil {
		return
	}
	d.events.Inc()
	if !seen.IsZero() {
		d.delay.Observe(time.Since(seen).Seconds())
	}
}
