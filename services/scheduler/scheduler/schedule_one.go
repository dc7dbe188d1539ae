package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
	"github.com/shoalmesh/shoal/services/scheduler/queue"
)

// kube-scheduler's bounds for percentageOfNodesToScore.
const (
	// minFeasibleNodesToFind: below this many nodes every node is checked,
	// and a cycle never stops looking before it has found this many.
	minFeasibleNodesToFind = 100
	// minFeasibleNodesPercentageToFind is the floor of the adaptive
	// percentage.
	minFeasibleNodesPercentageToFind = 5
	// basePercentageOfNodesToScore is the adaptive percentage of a small
	// cluster; it drops by one point per 125 nodes.
	basePercentageOfNodesToScore = 50
)

// numFeasibleNodesToFind is how many feasible nodes a cycle looks for
// before it stops filtering and scores them: the configured percentage of
// numAllNodes (adaptive when 0), never fewer than minFeasibleNodesToFind.
func numFeasibleNodesToFind(percentage, numAllNodes int) int {
	if numAllNodes < minFeasibleNodesToFind || percentage >= 100 {
		return numAllNodes
	}
	p := percentage
	if p <= 0 {
		p = max(basePercentageOfNodesToScore-numAllNodes/125, minFeasibleNodesPercentageToFind)
	}
	return max(numAllNodes*p/100, minFeasibleNodesToFind)
}

type scheduleResult struct {
	node      string
	evaluated int // nodes filtered
	feasible  int // nodes that passed and were scored
}

// scheduleOne takes one pod from the queue and runs its cycle; false once
// the queue is closed or ctx is done.
func (t *term) scheduleOne(ctx context.Context) bool {
	qp, err := t.queue.Pop(ctx)
	if err != nil {
		return false
	}
	t.scheduleCycle(ctx, qp)
	return true
}

// scheduleCycle is one scheduling decision, one trace span: filter, score,
// assume, and hand the bind to a goroutine.
func (t *term) scheduleCycle(ctx context.Context, qp *queue.QueuedPodInfo) {
	pi := qp.PodInfo
	// Continue the trace of the request that created the pod.
	ctx = observability.ObjectContext(ctx, pi.Pod.GetMetadata().GetAnnotations())
	ctx, span := t.s.tracer.Start(ctx, "scheduler.Schedule", trace.WithAttributes(
		attribute.String("shoal.pod", pi.Key),
		attribute.String("shoal.pod.uid", pi.UID),
		attribute.Int("shoal.scheduler.attempt", qp.Attempts),
	))
	defer span.End()
	log := t.s.log.With("pod", pi.Key, "attempt", qp.Attempts)

	start := time.Now()
	t.cache.UpdateSnapshot(t.snap)
	res, err := t.schedulePod(ctx, pi)
	t.s.metrics.algorithm.Observe(time.Since(start).Seconds())
	span.SetAttributes(attribute.Int("shoal.scheduler.nodes", t.snap.Len()))
	if err != nil {
		var fe *framework.FitError
		if errors.As(err, &fe) {
			msg := fe.Error()
			span.SetAttributes(attribute.String("shoal.scheduler.result", resultUnschedulable), attribute.String("shoal.scheduler.reason", msg))
			t.s.metrics.attempts.WithLabelValues(resultUnschedulable).Inc()
			if qp.Attempts == 1 {
				log.InfoContext(ctx, "pod is unschedulable", "reason", msg)
			} else {
				log.DebugContext(ctx, "pod is still unschedulable", "reason", msg)
			}
			t.failUnschedulable(ctx, qp, msg, fe.Diagnosis.UnschedulablePlugins)
			return
		}
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		span.SetAttributes(attribute.String("shoal.scheduler.result", resultError))
		t.s.metrics.attempts.WithLabelValues(resultError).Inc()
		log.WarnContext(ctx, "scheduling failed", "err", err)
		t.queue.Requeue(qp, nil, true)
		return
	}
	span.SetAttributes(
		attribute.String("shoal.scheduler.node", res.node),
		attribute.Int("shoal.scheduler.nodes_evaluated", res.evaluated),
		attribute.Int("shoal.scheduler.nodes_feasible", res.feasible),
	)
	if err := t.cache.AssumePod(pi, res.node); err != nil {
		// The cache already counts the pod: the informer has seen it bound,
		// and the queue forgets it when that update is delivered.
		span.SetAttributes(attribute.String("shoal.scheduler.result", "already_bound"))
		log.DebugContext(ctx, "pod already in the cache", "err", err)
		t.queue.Done(qp)
		return
	}
	span.SetAttributes(attribute.String("shoal.scheduler.result", "assumed"))
	t.bindAsync(ctx, qp, res.node)
}

// schedulePod picks a node for pod from the cycle's snapshot, or returns a
// *framework.FitError saying why no node fits.
func (t *term) schedulePod(ctx context.Context, pod *framework.PodInfo) (scheduleResult, error) {
	nodes := t.snap.List()
	if len(nodes) == 0 {
		return scheduleResult{}, &framework.FitError{Pod: pod}
	}
	state := framework.NewCycleState()
	if st := t.fw.RunPreFilterPlugins(ctx, state, pod, t.snap); !st.IsSuccess() {
		if !st.IsRejected() {
			return scheduleResult{}, fmt.Errorf("prefilter %s: %w", st.Plugin(), st.Err())
		}
		fe := &framework.FitError{Pod: pod, NumAllNodes: len(nodes)}
		fe.Diagnosis.PreFilterMessage = st.Message()
		fe.Diagnosis.AddPlugin(st.Plugin())
		return scheduleResult{}, fe
	}
	feasible, diag, evaluated, err := t.findNodesThatFit(ctx, state, pod, nodes)
	if err != nil {
		return scheduleResult{}, err
	}
	if len(feasible) == 0 {
		return scheduleResult{}, &framework.FitError{Pod: pod, NumAllNodes: len(nodes), Diagnosis: diag}
	}
	res := scheduleResult{evaluated: evaluated, feasible: len(feasible)}
	if len(feasible) == 1 || !t.fw.HasScorePlugins() {
		res.node = feasible[t.rng.IntN(len(feasible))].Name
		return res, nil
	}
	if st := t.fw.RunPreScorePlugins(ctx, state, pod, feasible); !st.IsSuccess() {
		return scheduleResult{}, fmt.Errorf("prescore %s: %w", st.Plugin(), st.Err())
	}
	scores, st := t.fw.RunScorePlugins(ctx, state, pod, feasible, t.par)
	if !st.IsSuccess() {
		return scheduleResult{}, fmt.Errorf("score %s: %w", st.Plugin(), st.Err())
	}
	res.node = t.selectHost(scores)
	return res, nil
}

// findNodesThatFit filters nodes in parallel, starting where the previous
// cycle stopped (so every node gets its turn), until it has found
// numFeasibleNodesToFind feasible ones or run out of nodes.
func (t *term) findNodesThatFit(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo, nodes []*framework.NodeInfo) ([]*framework.NodeInfo, framework.Diagnosis, int, error) {
	var diag framework.Diagnosis
	n := len(nodes)
	want := numFeasibleNodesToFind(t.s.cfg.Scheduling.PercentageOfNodesToScore, n)
	if cap(t.feasible) < want {
		t.feasible = make([]*framework.NodeInfo, want)
	}
	feasible := t.feasible[:want]
	clear(feasible)
	if cap(t.statuses) < n {
		t.statuses = make([]*framework.Status, n)
	}
	statuses := t.statuses[:n]
	var (
		found, rejected, processed atomic.Int64
		errStatus                  atomic.Pointer[framework.Status]
	)
	start := t.nextStart % n
	t.par.Until(n, func(i int) bool {
		idx := (start + i) % n
		processed.Add(1)
		st := t.fw.RunFilterPlugins(ctx, state, pod, nodes[idx])
		if st.IsSuccess() {
			k := found.Add(1)
			if k > int64(want) {
				return false
			}
			feasible[k-1] = nodes[idx]
			return k < int64(want)
		}
		if !st.IsRejected() {
			errStatus.CompareAndSwap(nil, st)
			return false
		}
		statuses[idx] = st
		rejected.Add(1)
		return true
	})
	evaluated := int(processed.Load())
	t.nextStart = (start + evaluated) % n
	if rejected.Load() > 0 {
		for i, st := range statuses {
			if st != nil {
				diag.AddNode(st)
				statuses[i] = nil
			}
		}
	}
	if st := errStatus.Load(); st != nil {
		return nil, diag, evaluated, fmt.Errorf("filter %s: %w", st.Plugin(), st.Err())
	}
	return feasible[:min(int(found.Load()), want)], diag, evaluated, nil
}

// selectHost returns the node with the highest total score; ties are
// broken at random (reservoir sampling), so equal nodes share the load.
func (t *term) selectHost(scores []framework.NodeScore) string {
	best := scores[0]
	ties := 1
	for _, s := range scores[1:] {
		switch {
		case s.Score > best.Score:
			best, ties = s, 1
		case s.Score == best.Score:
			ties++
			if t.rng.IntN(ties) == 0 {
				best = s
			}
		}
	}
	return best.Name
}
