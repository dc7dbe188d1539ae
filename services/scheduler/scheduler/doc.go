// Package scheduler is the Shoal scheduler as a library: it watches pods
// without a node through the apigateway and binds each to the best node
// with BindPod. services/scheduler/main.go only turns flags into a Config;
// tests and benchmarks start schedulers in-process the same way.
//
// A replica keeps pod and node informers warm all the time. With leader
// election on, replicas campaign for an etcd lease under their own key
// prefix (the only etcd access a scheduler has); the leader runs the
// scheduling loop, the others stand by (health NOT_SERVING) and take over
// within the lease TTL if it dies, or at once if it shuts down and
// resigns. Each leadership term starts from the informers with a fresh
// cache and queue.
//
// One cycle, per pod, in one goroutine: pop the highest-priority, oldest
// pod; snapshot the cache; PreFilter; Filter nodes in parallel until enough
// feasible ones are found (percentageOfNodesToScore); Score them in
// parallel; pick the best (ties at random); assume the pod on that node in
// the cache; hand BindPod to a goroutine (bounded in-flight binds). A pod
// that fits nowhere gets PodScheduled=False with per-reason counts, a
// FailedScheduling Event, and waits for a cluster event its rejecting
// plugins care about (or its back-off) before the next try.
//
// Usage:
//
//	cfg := scheduler.NewConfig()
//	cfg.GatewayAddr = "127.0.0.1:6443"
//	cfg.LeaderElection.EtcdEndpoints = []string{"http://127.0.0.1:2379"}
//	obs, _ := observability.Setup(ctx, observability.NewConfig("scheduler"), os.Stderr)
//	s, err := scheduler.Start(ctx, cfg, obs)
//	if err != nil {
//		return err
//	}
//	defer s.Close() // resigns the lease at once
//	<-s.Ready()     // caches synced; s.IsLeader() says whether it schedules
package scheduler
