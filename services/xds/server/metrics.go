package server

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	streams        *prometheus.GaugeVec
	pushes         *prometheus.CounterVec
	pushLatency    *prometheus.HistogramVec
	nacks          *prometheus.CounterVec
	updates        *prometheus.CounterVec
	invalid        prometheus.Counter
	rebuildSeconds prometheus.Histogram

	// The children every response touches, resolved once (a
	// WithLabelValues per response and stream adds up at 1,000 streams).
	pushesOf      map[pushKey]prometheus.Counter
	pushLatencyOf map[string]prometheus.Observer
}

type pushKey struct{ typeURL, mode string }

// push counts one response and, unless zero, observes its latency.
func (m *metrics) push(typeURL, mode string, latency time.Duration) {
	c, ok := m.pushesOf[pushKey{typeURL, mode}]
	if !ok {
		c = m.pushes.WithLabelValues(shortType(typeURL), mode)
	}
	c.Inc()
	if latency == 0 {
		return
	}
	o, ok := m.pushLatencyOf[typeURL]
	if !ok {
		o = m.pushLatency.WithLabelValues(shortType(typeURL))
	}
	o.Observe(latency.Seconds())
}

func newMetrics() *metrics {
	m := &metrics{
		streams: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shoal_xds_streams",
			Help: "Open ADS streams, by protocol (sotw, delta) and client kind (proxyless, sidecar).",
		}, []string{"mode", "client"}),
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_xds_pushes_total",
			Help: "Discovery responses sent, by type (LDS, RDS, CDS, EDS) and protocol.",
		}, []string{"type", "mode"}),
		pushLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shoal_xds_push_latency_seconds",
			Help:    "Time from a change of Services, Endpoints, Pods or Nodes seen by the informers to a response carrying it being sent on a stream.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"type"}),
		nacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_xds_nacks_total",
			Help: "Discovery requests rejecting a response (NACK), by type.",
		}, []string{"type"}),
		updates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_xds_resource_updates_total",
			Help: "Resources changed or removed in the shared caches, by type.",
		}, []string{"type"}),
		invalid: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shoal_xds_invalid_resources_total",
			Help: "Generated resources that failed Validate() and were not served.",
		}),
		rebuildSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "shoal_xds_rebuild_seconds",
			Help:    "Time to rebuild the dirty Services of one debounced batch and update the caches.",
			Buckets: prometheus.DefBuckets,
		}),
		pushesOf:      map[pushKey]prometheus.Counter{},
		pushLatencyOf: map[string]prometheus.Observer{},
	}
	for _, t := range sharedTypes {
		for _, mode := range []string{"sotw", "delta"} {
			m.pushesOf[pushKey{t, mode}] = m.pushes.WithLabelValues(shortType(t), mode)
		}
		m.pushLatencyOf[t] = m.pushLatency.WithLabelValues(shortType(t))
	}
	return m
}

func (m *metrics) register(reg prometheus.Registerer, s *Server) error {
	for _, c := range []prometheus.Collector{m.streams, m.pushes, m.pushLatency, m.nacks, m.updates, m.invalid, m.rebuildSeconds, &resourceCollector{s: s}} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// resourceCollector exports the resources served, per type.
type resourceCollector struct{ s *Server }

var resourcesDesc = prometheus.NewDesc("shoal_xds_resources", "Resources in the shared caches, by type; sidecars is the number of sidecar snapshots.", []string{"type"}, nil)

func (c *resourceCollector) Describe(ch chan<- *prometheus.Desc) { ch <- resourcesDesc }

func (c *resourceCollector) Collect(ch chan<- prometheus.Metric) {
	for t, tc := range c.s.caches.byType {
		ch <- prometheus.MustNewConstMetric(resourcesDesc, prometheus.GaugeValue, float64(tc.lc.NumResources()), shortType(t))
	}
	c.s.mu.Lock()
	n := len(c.s.sidecars)
	c.s.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(resourcesDesc, prometheus.GaugeValue, float64(n), "sidecars")
}
