// Package queue is the scheduler's queue of pending pods, after
// kube-scheduler's PriorityQueue: an active heap ordered by priority then
// age, a back-off heap for pods that failed recently (1s doubling to 10s
// by default), and a pool of unschedulable pods that wait for a cluster
// event one of their rejecting plugins registered for (a node added or
// freed, a bound pod deleted...) and are retried anyway after a minute.
//
//	q := queue.New(queue.Config{Events: fw.EventsToRegister()})
//	go q.Run(ctx, 100*time.Millisecond)    // back-off flushing
//	q.Add(pod)                              // informer: pending pod
//	qp, err := q.Pop(ctx)                   // scheduling loop
//	q.Done(qp)                              // bound
//	q.Requeue(qp, diagnosis.UnschedulablePlugins, false) // or: fits nowhere
//	q.MoveAllToActiveOrBackoff(framework.EventNodeAdd)   // informer: node added
package queue
