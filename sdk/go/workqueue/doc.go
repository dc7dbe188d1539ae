// Package workqueue is Shoal's thin layer over client-go's typed,
// rate-limited work queue, plus the worker loop every controller runs.
//
// Event handlers only turn objects into keys and add them; the queue
// collapses repeated adds of one key and never hands the same key to two
// workers at once. Workers run a level-triggered sync; a failed sync is
// retried with per-key exponential backoff (5ms..1000s) bounded by a global
// token bucket (50 qps, burst 300):
//
//	reg := prometheus.NewRegistry()
//	metrics, err := workqueue.NewPrometheusMetrics(reg)
//	if err != nil { ... }
//	q := workqueue.New[string]("replicaset", workqueue.WithMetricsProvider(metrics))
//	inf.AddEventHandler(informer.HandlerFuncs[*shoalv1.ReplicaSet]{
//		AddFunc: func(rs *shoalv1.ReplicaSet) { q.Add(kinds.Key(rs)) },
//	})
//	if !inf.WaitForSync(ctx) { return ctx.Err() }
//	workqueue.Run(ctx, q, 2, c.sync, logger) // blocks until ctx is done
//
// Nothing here touches client-go's package-level metrics provider: metrics
// go to the Registerer the caller passes in.
package workqueue
