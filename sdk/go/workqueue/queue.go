package workqueue

import (
	"fmt"
	"time"

	"golang.org/x/time/rate"
	"k8s.io/client-go/util/workqueue"
)

// Option tunes New.
type Option func(*config)

type config struct {
	// rateLimiter is a workqueue.TypedRateLimiter[T]; New checks T.
	rateLimiter any
	metrics     workqueue.MetricsProvider
}

// WithRateLimiter replaces DefaultRateLimiter. Its item type must be the
// queue's (New panics otherwise).
func WithRateLimiter[T comparable](rl workqueue.TypedRateLimiter[T]) Option {
	return func(c *config) { c.rateLimiter = rl }
}

// WithMetricsProvider reports the queue's metrics (depth, adds, latency,
// work duration, unfinished work, longest running, retries) to mp under the
// queue's name, e.g. a *PrometheusMetrics. Without it the queue records no
// metrics.
func WithMetricsProvider(mp workqueue.MetricsProvider) Option {
	return func(c *config) { c.metrics = mp }
}

// DefaultRateLimiter is the sample-controller limiter: the larger of a
// per-item exponential backoff (5ms doubling up to 1000s) and a global token
// bucket of 50 qps with a burst of 300.
func DefaultRateLimiter[T comparable]() workqueue.TypedRateLimiter[T] {
	return workqueue.NewTypedMaxOfRateLimiter(
		workqueue.NewTypedItemExponentialFailureRateLimiter[T](5*time.Millisecond, 1000*time.Second),
		&workqueue.TypedBucketRateLimiter[T]{Limiter: rate.NewLimiter(rate.Limit(50), 300)},
	)
}

// New returns a rate-limited work queue of T (usually kinds.Key strings).
// name labels its metrics. The caller owns the queue: ShutDown
// it when done (Run does that for you).
func New[T comparable](name string, opts ...Option) workqueue.TypedRateLimitingInterface[T] {
	c := config{}
	for _, opt := range opts {
		opt(&c)
	}
	rl := DefaultRateLimiter[T]()
	if c.rateLimiter != nil {
		typed, ok := c.rateLimiter.(workqueue.TypedRateLimiter[T])
		if !ok {
			panic(fmt.Sprintf("workqueue: rate limiter %T does not limit items of the queue's type", c.rateLimiter))
		}
		rl = typed
	}
	cfg := workqueue.TypedRateLimitingQueueConfig[T]{}
	if c.metrics != nil {
		cfg.Name = name
		cfg.MetricsProvider = c.metrics
	}
	// Without a provider the client-go queue stays unnamed: it then records
	// no metrics at all and never consults client-go's process-wide
	// provider (SetProvider).
	return workqueue.NewTypedRateLimitingQueueWithConfig(rl, cfg)
}
