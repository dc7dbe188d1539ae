package pods

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the reconciler's Prometheus collectors; a nil *Metrics
// records nothing.
type Metrics struct {
	startup prometheus.Histogram
}

// NewMetrics registers the collectors in reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{startup: prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "shoal_nodeagent_pod_startup_duration_seconds",
		Help: "From a pod's creation to this agent first reporting it Ready (Kubernetes' pod startup SLI; the Shoal SLO is p99 <= 5 s).",
		// 0.1 s to about 100 s.
		Buckets: prometheus.ExponentialBuckets(0.1, 2, 11),
	})}
	if err := reg.Register(m.startup); err != nil {
		// An agent restarted in the same process (tests) reuses the series.
		are, ok := err.(prometheus.AlreadyRegisteredError)
		if !ok {
			return nil, err
		}
		m.startup = are.ExistingCollector.(prometheus.Histogram)
	}
	return m, nil
}

func (m *Metrics) observeStartup(created time.Time) {
	if m != nil && !created.IsZero() {
		m.startup.Observe(time.Since(created).Seconds())
	}
}
