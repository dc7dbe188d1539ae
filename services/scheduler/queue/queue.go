package queue

import (
	"container/heap"
	"context"
	"errors"
	"maps"
	"sync"
	"time"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
)

// ErrClosed is returned by Pop after Close.
var ErrClosed = errors.New("queue: closed")

// Config tunes a Queue.
type Config struct {
	// InitialBackoff is the wait after a pod's first failed attempt; it
	// doubles with every further attempt up to MaxBackoff.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// MaxUnschedulableDuration is how long an unschedulable pod waits for
	// a relevant cluster event before it is retried anyway.
	MaxUnschedulableDuration time.Duration
	// Events maps each filter plugin to the cluster events that may make a
	// pod it rejected schedulable (framework.Framework.EventsToRegister); a
	// plugin with a nil list, or missing, waits for every event.
	Events map[string][]framework.ClusterEvent
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// NewConfig returns kube-scheduler's defaults (1s doubling to 10s), with
// unschedulable pods retried after a minute without events.
func NewConfig() Config {
	return Config{
		InitialBackoff:           time.Second,
		MaxBackoff:               10 * time.Second,
		MaxUnschedulableDuration: time.Minute,
	}
}

// QueuedPodInfo is a pod in the queue with its scheduling history.
type QueuedPodInfo struct {
	*framework.PodInfo
	// Timestamp is when the pod last entered the queue or failed.
	Timestamp time.Time
	// FirstSeen is when the pod first entered the queue (the start of its
	// end-to-end scheduling latency).
	FirstSeen time.Time
	// Attempts counts scheduling cycles.
	Attempts int
	// UnschedulablePlugins rejected the pod in its last attempt.
	UnschedulablePlugins map[string]bool
	// Cycle is the scheduling cycle number of the last Pop.
	Cycle int64

	seq      uint64
	index    int // position in its heap
	loc      location
	deleted  bool // deleted while in flight
	backoffT time.Time
	// latest is a newer copy of the pod that arrived while it was in
	// flight; it replaces PodInfo when the pod is requeued. (PodInfo itself
	// does not change while in flight: the scheduling loop reads it.)
	latest *framework.PodInfo
}

type location int

const (
	locActive location = iota + 1
	locBackoff
	locUnschedulable
	locInFlight
)

// Queue orders pending pods for the scheduling loop: an active heap (higher
// priority first, then older first), a back-off heap of pods that failed
// recently, and a pool of unschedulable pods that wait for a cluster event
// that could help them. A pod is in exactly one of these, or in flight
// (popped and not yet Done), and is known by its namespace/name key. It is
// safe for concurrent use, with one goroutine calling Pop.
type Queue struct {
	cfg Config
	now func() time.Time

	mu              sync.Mutex
	items           map[string]*QueuedPodInfo // every pod, in flight included
	active, backoff podHeap
	unsched         map[string]*QueuedPodInfo
	// schedulingCycle counts Pops; moveRequestCycle is schedulingCycle at
	// the last move request. A pod that fails in a cycle older than a move
	// request goes to back-off rather than waiting for another event: the
	// event may have been the one it needed.
	schedulingCycle  int64
	moveRequestCycle int64
	seq              uint64
	closed           bool
	wake             chan struct{}
}

// New returns an empty queue.
func New(cfg Config) *Queue {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	def := NewConfig()
	if cfg.InitialBackoff <= 0 {
		cfg.InitialBackoff = def.InitialBackoff
	}
	if cfg.MaxBackoff < cfg.InitialBackoff {
		cfg.MaxBackoff = max(def.MaxBackoff, cfg.InitialBackoff)
	}
	if cfg.MaxUnschedulableDuration <= 0 {
		cfg.MaxUnschedulableDuration = def.MaxUnschedulableDuration
	}
	return &Queue{
		cfg:     cfg,
		now:     now,
		items:   map[string]*QueuedPodInfo{},
		active:  podHeap{less: activeLess},
		backoff: podHeap{less: backoffLess},
		unsched: map[string]*QueuedPodInfo{},
		wake:    make(chan struct{}, 1),
	}
}

func activeLess(a, b *QueuedPodInfo) bool {
	if a.Priority != b.Priority {
		return a.Priority > b.Priority
	}
	if !a.Created.Equal(b.Created) {
		return a.Created.Before(b.Created)
	}
	return a.seq < b.seq
}

func backoffLess(a, b *QueuedPodInfo) bool {
	if !a.backoffT.Equal(b.backoffT) {
		return a.backoffT.Before(b.backoffT)
	}
	return a.seq < b.seq
}

// signal wakes Pop; the one-slot channel never blocks and never loses a
// wake-up, since Pop re-checks the heap after every receive.
func (q *Queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Add puts a pending pod in the active heap, or updates the pod if the
// queue already has it (see Update).
func (q *Queue) Add(pod *shoalv1.Pod) {
	q.update(nil, pod)
}

// Update replaces the queue's copy of the pod. A pod waiting as
// unschedulable is retried when its spec or labels changed (a change of
// status alone, such as the scheduler's own PodScheduled condition, does
// not count). A pod not in the queue is added.
func (q *Queue) Update(oldPod, newPod *shoalv1.Pod) {
	q.update(oldPod, newPod)
}

func (q *Queue) update(oldPod, newPod *shoalv1.Pod) {
	pi := framework.NewPodInfo(newPod)
	now := q.now()
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	qp := q.items[pi.Key]
	if qp != nil && qp.UID != pi.UID {
		// Same name, new pod: the old one is gone.
		q.removeLocked(qp)
		qp = nil
	}
	if qp == nil {
		q.seq++
		qp = &QueuedPodInfo{PodInfo: pi, Timestamp: now, FirstSeen: now, seq: q.seq}
		q.items[pi.Key] = qp
		q.pushActive(qp)
		return
	}
	changed := oldPod == nil ||
		oldPod.GetMetadata().GetGeneration() != newPod.GetMetadata().GetGeneration() ||
		!maps.Equal(oldPod.GetMetadata().GetLabels(), newPod.GetMetadata().GetLabels())
	switch qp.loc {
	case locInFlight:
		qp.latest = pi // used if the pod comes back
	case locActive:
		qp.PodInfo = pi
		heap.Fix(&q.active, qp.index)
	case locBackoff:
		qp.PodInfo = pi
	case locUnschedulable:
		qp.PodInfo = pi
		if changed {
			delete(q.unsched, pi.Key)
			q.moveLocked(qp, now)
		}
	}
}

// Delete removes a pod that was deleted or got bound. A pod in flight is
// marked so that it does not come back.
func (q *Queue) Delete(pod *shoalv1.Pod) {
	key := pod.GetMetadata().GetNamespace() + "/" + pod.GetMetadata().GetName()
	q.mu.Lock()
	defer q.mu.Unlock()
	qp := q.items[key]
	if qp == nil || (pod.GetMetadata().GetUid() != "" && qp.UID != pod.GetMetadata().GetUid()) {
		return
	}
	q.removeLocked(qp)
}

func (q *Queue) removeLocked(qp *QueuedPodInfo) {
	switch qp.loc {
	case locActive:
		heap.Remove(&q.active, qp.index)
	case locBackoff:
		heap.Remove(&q.backoff, qp.index)
	case locUnschedulable:
		delete(q.unsched, qp.Key)
	case locInFlight:
		qp.deleted = true
	}
	delete(q.items, qp.Key)
}

func (q *Queue) pushActive(qp *QueuedPodInfo) {
	qp.loc = locActive
	heap.Push(&q.active, qp)
	q.signal()
}

func (q *Queue) pushBackoff(qp *QueuedPodInfo) {
	qp.loc = locBackoff
	qp.backoffT = qp.Timestamp.Add(q.backoffDuration(qp))
	heap.Push(&q.backoff, qp)
}

// moveLocked sends a pod that may now be schedulable to the active heap,
// or to back-off while its back-off has not expired.
func (q *Queue) moveLocked(qp *QueuedPodInfo, now time.Time) {
	if qp.Attempts > 0 && now.Before(qp.Timestamp.Add(q.backoffDuration(qp))) {
		q.pushBackoff(qp)
		return
	}
	q.pushActive(qp)
}

func (q *Queue) backoffDuration(qp *QueuedPodInfo) time.Duration {
	d := q.cfg.InitialBackoff
	for i := 1; i < qp.Attempts; i++ {
		d *= 2
		if d >= q.cfg.MaxBackoff {
			return q.cfg.MaxBackoff
		}
	}
	return min(d, q.cfg.MaxBackoff)
}

// Pop blocks until a pod is active and returns it, in flight, until Done
// or Requeue. It fails once ctx is done or the queue is closed. The caller
// owns the returned QueuedPodInfo until it hands it back with Done or
// Requeue, and must not touch it afterwards.
func (q *Queue) Pop(ctx context.Context) (*QueuedPodInfo, error) {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return nil, ErrClosed
		}
		if q.active.Len() > 0 {
			qp := heap.Pop(&q.active).(*QueuedPodInfo)
			q.schedulingCycle++
			qp.Cycle = q.schedulingCycle
			qp.Attempts++
			qp.loc = locInFlight
			q.mu.Unlock()
			return qp, nil
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-q.wake:
		}
	}
}

// Done ends a pod's time in flight after it was scheduled (bound).
func (q *Queue) Done(qp *QueuedPodInfo) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if cur := q.items[qp.Key]; cur == qp {
		delete(q.items, qp.Key)
	}
}

// Requeue puts a pod that was in flight back: after an error (retryable
// failure, failed bind) into back-off; after a rejection into the
// unschedulable pool to wait for a cluster event that one of
// unschedulablePlugins cares about, or into back-off if such a move request
// came while the pod was in flight. A pod deleted or bound meanwhile is
// dropped.
func (q *Queue) Requeue(qp *QueuedPodInfo, unschedulablePlugins map[string]bool, failedWithError bool) {
	now := q.now()
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || qp.deleted || q.items[qp.Key] != qp {
		return
	}
	qp.Timestamp = now
	qp.UnschedulablePlugins = unschedulablePlugins
	if qp.latest != nil {
		qp.PodInfo, qp.latest = qp.latest, nil
	}
	if failedWithError || q.moveRequestCycle >= qp.Cycle {
		q.pushBackoff(qp)
		return
	}
	qp.loc = locUnschedulable
	q.unsched[qp.Key] = qp
}

// MoveAllToActiveOrBackoff retries every unschedulable pod that event may
// help: those rejected by a plugin that registered for it (or by no
// plugin). They become active at once unless still backing off.
func (q *Queue) MoveAllToActiveOrBackoff(event framework.ClusterEvent) {
	now := q.now()
	q.mu.Lock()
	defer q.mu.Unlock()
	q.moveRequestCycle = q.schedulingCycle
	for key, qp := range q.unsched {
		if !q.interested(qp, event) {
			continue
		}
		delete(q.unsched, key)
		q.moveLocked(qp, now)
	}
}

// interested reports whether event could make qp schedulable.
func (q *Queue) interested(qp *QueuedPodInfo, event framework.ClusterEvent) bool {
	if len(qp.UnschedulablePlugins) == 0 {
		return true
	}
	for plugin := range qp.UnschedulablePlugins {
		events, known := q.cfg.Events[plugin]
		if !known || events == nil {
			return true
		}
		for _, e := range events {
			if event.Matches(e) {
				return true
			}
		}
	}
	return false
}

// Flush moves pods whose back-off has expired to the active heap, and pods
// that have waited MaxUnschedulableDuration without a helpful event to
// active (or back-off). Run calls it periodically.
func (q *Queue) Flush() {
	now := q.now()
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.backoff.Len() > 0 {
		qp := q.backoff.items[0]
		if qp.backoffT.After(now) {
			break
		}
		heap.Pop(&q.backoff)
		q.pushActive(qp)
	}
	for key, qp := range q.unsched {
		if now.Sub(qp.Timestamp) >= q.cfg.MaxUnschedulableDuration {
			delete(q.unsched, key)
			q.moveLocked(qp, now)
		}
	}
}

// Run flushes every interval until ctx is done.
func (q *Queue) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			q.Flush()
		}
	}
}

// Close wakes Pop with ErrClosed and drops every pod.
func (q *Queue) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.signal() // Pop checks closed before it waits again
}

// Stats counts the pods in each part of the queue.
type Stats struct {
	Active, Backoff, Unschedulable, InFlight int
	// OldestAge is how long the pod that entered the queue first has been
	// waiting (in flight included); 0 when the queue is empty.
	OldestAge time.Duration
}

// Stats returns the current counts.
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := Stats{Active: q.active.Len(), Backoff: q.backoff.Len(), Unschedulable: len(q.unsched)}
	s.InFlight = len(q.items) - s.Active - s.Backoff - s.Unschedulable
	now := q.now()
	for _, qp := range q.items {
		s.OldestAge = max(s.OldestAge, now.Sub(qp.FirstSeen))
	}
	return s
}

// Has reports whether the queue holds the pod of key (in flight included).
func (q *Queue) Has(key string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	_, ok := q.items[key]
	return ok
}

// podHeap is a container/heap of pods that tracks each pod's index.
type podHeap struct {
	items []*QueuedPodInfo
	less  func(a, b *QueuedPodInfo) bool
}

func (h *podHeap) Len() int           { return len(h.items) }
func (h *podHeap) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h *podHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].index = i
	h.items[j].index = j
}
func (h *podHeap) Push(x any) {
	qp := x.(*QueuedPodInfo)
	qp.index = len(h.items)
	h.items = append(h.items, qp)
}
func (h *podHeap) Pop() any {
	n := len(h.items)
	qp := h.items[n-1]
	h.items[n-1] = nil
	h.items = h.items[:n-1]
	qp.index = -1
	return qp
}
