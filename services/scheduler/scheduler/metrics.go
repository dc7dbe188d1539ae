package scheduler

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shoalmesh/shoal/services/scheduler/queue"
)

// Results of a scheduling attempt, the label of attemptsTotal.
const (
	resultScheduled     = "scheduled"
	resultUnschedulable = "unschedulable"
	resultError         = "error"
)

type metrics struct {
	attempts      *prometheus.CounterVec
	e2e           prometheus.Histogram
	algorithm     prometheus.Histogram
	bind          prometheus.Histogram
	leader        prometheus.Gauge
	inFlightBinds prometheus.Gauge
}

// latencyBuckets run from 1ms to about 65s.
var latencyBuckets = prometheus.ExponentialBuckets(0.001, 2, 17)

func newMetrics(reg prometheus.Registerer, s *Scheduler) (*metrics, error) {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_scheduler_schedule_attempts_total",
			Help: "Scheduling attempts by result: scheduled (bound), unschedulable (fits no node), error.",
		}, []string{"result"}),
		e2e: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "shoal_scheduler_pod_scheduling_duration_seconds",
			Help:    "End-to-end latency from a pod entering the queue to its successful bind, over every attempt.",
			Buckets: latencyBuckets,
		}),
		algorithm: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "shoal_scheduler_scheduling_algorithm_duration_seconds",
			Help:    "Time one scheduling cycle spends filtering and scoring nodes.",
			Buckets: prometheus.ExponentialBuckets(0.00001, 2, 20),
		}),
		bind: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "shoal_scheduler_bind_duration_seconds",
			Help:    "Latency of BindPod calls to the gateway.",
			Buckets: latencyBuckets,
		}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "shoal_scheduler_is_leader",
			Help: "1 while this replica leads (schedules), 0 while it stands by.",
		}),
		inFlightBinds: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "shoal_scheduler_in_flight_binds",
			Help: "BindPod calls in progress.",
		}),
	}
	dropped := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "shoal_scheduler_events_dropped_total",
		Help: "Events (Scheduled, FailedScheduling) not recorded because the recorder's queue was full.",
	}, func() float64 {
		if s.recorder == nil {
			return 0
		}
		return float64(s.recorder.Dropped())
	})
	for _, c := range []prometheus.Collector{m.attempts, m.e2e, m.algorithm, m.bind, m.leader, m.inFlightBinds, dropped, &queueCollector{s: s}} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	// Show every result from the start, so rates work before the first
	// failure.
	for _, r := range []string{resultScheduled, resultUnschedulable, resultError} {
		m.attempts.WithLabelValues(r)
	}
	return m, nil
}

var pendingDesc = prometheus.NewDesc("shoal_scheduler_pending_pods",
	"Pods in the scheduling queue by sub-queue: active, backoff, unschedulable, in_flight (being scheduled or bound). 0 while standing by.",
	[]string{"queue"}, nil)

var oldestDesc = prometheus.NewDesc("shoal_scheduler_pending_pod_oldest_age_seconds",
	"How long the longest-waiting pod in the scheduling queue has been waiting (0 when empty or standing by): a pod that never binds shows here.",
	nil, nil)

// queueCollector reports the current term's queue depth at scrape time.
type queueCollector struct{ s *Scheduler }

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pendingDesc
	ch <- oldestDesc
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	var st queue.Stats
	if t := c.s.currentTerm(); t != nil {
		st = t.queue.Stats()
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"active", st.Active}, {"backoff", st.Backoff}, {"unschedulable", st.Unschedulable}, {"in_flight", st.InFlight}} {
		ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(v.n), v.name)
	}
	ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, st.OldestAge.Seconds())
}
