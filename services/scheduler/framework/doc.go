// Package framework is the scheduler's plugin contract and the runner that
// drives it, after kube-scheduler's framework: one small interface per
// extension point (PreFilter, Filter, PreScore, Score, EnqueueExtensions),
// outcomes as Status codes rather than errors, and an explicit Registry
// that maps each plugin name to its factory and rejects duplicates.
//
// A scheduling cycle for one pod, as package scheduler runs it:
//
//	fw, err := framework.New(plugins.NewInTreeRegistry(), plugins.DefaultProfile())
//	pi := framework.NewPodInfo(pod)              // requests, ports, selectors: parsed once
//	state := framework.NewCycleState()
//	st := fw.RunPreFilterPlugins(ctx, state, pi, snapshot)
//	for _, ni := range snapshot.List() {         // in parallel, see Parallelizer
//		if st := fw.RunFilterPlugins(ctx, state, pi, ni); st.IsSuccess() { ... }
//	}
//	fw.RunPreScorePlugins(ctx, state, pi, feasible)
//	scores, st := fw.RunScorePlugins(ctx, state, pi, feasible)
//
// NodeInfo and PodInfo hold what plugins read, precomputed: a node's
// allocatable and requested resources, taints, host ports in use and the
// pods on it; a pod's summed container requests, host ports, owner and
// compiled selectors. A NodeInfo handed to a plugin is immutable (the
// scheduler cache replaces, never edits, a NodeInfo that a snapshot may
// hold), so plugins may read it from many goroutines without locks.
package framework
