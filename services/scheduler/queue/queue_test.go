package queue_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
	"github.com/shoalmesh/shoal/services/scheduler/queue"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) Advance(d time.Duration) { c.now = c.now.Add(d) }

func newQueue(c *clock) *queue.Queue {
	return queue.New(queue.Config{
		InitialBackoff:           time.Second,
		MaxBackoff:               4 * time.Second,
		MaxUnschedulableDuration: time.Minute,
		Events: map[string][]framework.ClusterEvent{
			"Fit":   {{Resource: framework.NodeEvent, Action: framework.Add}, {Resource: framework.AssignedPodEvent, Action: framework.Delete}},
			"Taint": {{Resource: framework.NodeEvent, Action: framework.Add | framework.UpdateNodeTaint}},
			"Any":   nil,
		},
		Now: c.Now,
	})
}

func testPod(name string, priority int32, created time.Time) *shoalv1.Pod {
	return &shoalv1.Pod{
		Metadata: &shoalv1.ObjectMeta{Namespace: "ns", Name: name, Uid: "uid-" + name, Generation: 1, CreationTimestamp: timestamppb.New(created)},
		Spec:     &shoalv1.PodSpec{Priority: priority},
	}
}

// popNow pops without blocking: the test fails if nothing is active.
func popNow(t *testing.T, q *queue.Queue) *queue.QueuedPodInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	qp, err := q.Pop(ctx)
	if err != nil {
		t.Fatalf("Pop: %v (stats %+v)", err, q.Stats())
	}
	return qp
}

func assertEmpty(t *testing.T, q *queue.Queue) {
	t.Helper()
	if st := q.Stats(); st.Active != 0 {
		t.Fatalf("active pods %+v, want none", st)
	}
}

func TestOrderPriorityThenAge(t *testing.T) {
	c := &clock{now: t0}
	q := newQueue(c)
	q.Add(testPod("young-low", 0, t0.Add(2*time.Second)))
	q.Add(testPod("old-low", 0, t0))
	q.Add(testPod("young-high", 10, t0.Add(3*time.Second)))
	q.Add(testPod("old-high", 10, t0.Add(time.Second)))
	q.Add(testPod("negative", -1, t0.Add(-time.Hour)))
	var got []string
	for range 5 {
		got = append(got, popNow(t, q).Pod.GetMetadata().GetName())
	}
	want := []string{"old-high", "young-high", "old-low", "young-low", "negative"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
	// A priority change reorders a waiting pod.
	q.Add(testPod("a", 0, t0))
	q.Add(testPod("b", 0, t0.Add(time.Second)))
	q.Update(testPod("b", 0, t0.Add(time.Second)), testPod("b", 5, t0.Add(time.Second)))
	if got := popNow(t, q).Pod.GetMetadata().GetName(); got != "b" {
		t.Errorf("popped %s, want b after its priority rose", got)
	}
}

func TestAddIsIdempotent(t *testing.T) {
	q := newQueue(&clock{now: t0})
	p := testPod("a", 0, t0)
	q.Add(p)
	q.Add(p)
	q.Update(p, p)
	if st := q.Stats(); st.Active != 1 {
		t.Errorf("stats %+v, want one active pod", st)
	}
}

func TestUnschedulableWaitsForRelevantEvent(t *testing.T) {
	tests := []struct {
		name     string
		plugins  map[string]bool
		event    framework.ClusterEvent
		wantMove bool
	}{
		{name: "fit waits for a node", plugins: map[string]bool{"Fit": true}, event: framework.EventNodeAdd, wantMove: true},
		{name: "fit waits for a pod to go", plugins: map[string]bool{"Fit": true}, event: framework.EventAssignedPodDelete, wantMove: true},
		{name: "fit ignores taint changes", plugins: map[string]bool{"Fit": true},
			event: framework.ClusterEvent{Resource: framework.NodeEvent, Action: framework.UpdateNodeTaint}},
		{name: "any of the plugins", plugins: map[string]bool{"Fit": true, "Taint": true},
			event: framework.ClusterEvent{Resource: framework.NodeEvent, Action: framework.UpdateNodeTaint}, wantMove: true},
		{name: "taint ignores pod deletions", plugins: map[string]bool{"Taint": true}, event: framework.EventAssignedPodDelete},
		{name: "a plugin without a list takes everything", plugins: map[string]bool{"Any": true}, event: framework.EventAssignedPodDelete, wantMove: true},
		{name: "an unknown plugin takes everything", plugins: map[string]bool{"Custom": true}, event: framework.EventAssignedPodDelete, wantMove: true},
		{name: "no plugin (no nodes at all) takes everything", plugins: nil, event: framework.EventNodeAdd, wantMove: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{now: t0}
			q := newQueue(c)
			q.Add(testPod("p", 0, t0))
			qp := popNow(t, q)
			q.Requeue(qp, tc.plugins, false)
			if st := q.Stats(); st.Unschedulable != 1 {
				t.Fatalf("after a rejection: %+v, want one unschedulable pod", st)
			}
			c.Advance(2 * time.Second) // past the first back-off
			q.MoveAllToActiveOrBackoff(tc.event)
			moved := q.Stats().Active == 1
			if moved != tc.wantMove {
				t.Errorf("moved %v, want %v (stats %+v)", moved, tc.wantMove, q.Stats())
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	c := &clock{now: t0}
	q := newQueue(c)
	q.Add(testPod("p", 0, t0))
	// Errors go to back-off: 1s, 2s, 4s, then capped at 4s.
	for attempt, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second} {
		qp := popNow(t, q)
		if qp.Attempts != attempt+1 {
			t.Fatalf("attempts %d, want %d", qp.Attempts, attempt+1)
		}
		q.Requeue(qp, nil, true)
		c.Advance(wait - time.Millisecond)
		q.Flush()
		assertEmpty(t, q)
		c.Advance(time.Millisecond)
		q.Flush()
		if st := q.Stats(); st.Active != 1 {
			t.Fatalf("attempt %d: not active after %v: %+v", attempt+1, wait, st)
		}
	}
	// A cluster event moves a pod still backing off to back-off, not
	// straight to active.
	qp := popNow(t, q)
	q.Requeue(qp, map[string]bool{"Fit": true}, false)
	q.MoveAllToActiveOrBackoff(framework.EventNodeAdd)
	if st := q.Stats(); st.Backoff != 1 {
		t.Errorf("moved while backing off: %+v, want it in back-off", st)
	}
}

func TestUnschedulableRetriedAfterMaxDuration(t *testing.T) {
	c := &clock{now: t0}
	q := newQueue(c)
	q.Add(testPod("p", 0, t0))
	q.Requeue(popNow(t, q), map[string]bool{"Fit": true}, false)
	c.Advance(59 * time.Second)
	q.Flush()
	assertEmpty(t, q)
	c.Advance(time.Second)
	q.Flush()
	if st := q.Stats(); st.Active != 1 {
		t.Errorf("after a minute without events: %+v, want active", st)
	}
}

// TestEventDuringFlight: an event that arrives while a pod is being
// scheduled sends the pod to back-off if it then fails, rather than
// leaving it waiting for another event.
func TestEventDuringFlight(t *testing.T) {
	c := &clock{now: t0}
	q := newQueue(c)
	q.Add(testPod("p", 0, t0))
	qp := popNow(t, q)
	q.MoveAllToActiveOrBackoff(framework.EventNodeAdd)
	q.Requeue(qp, map[string]bool{"Fit": true}, false)
	if st := q.Stats(); st.Backoff != 1 {
		t.Errorf("stats %+v, want the pod in back-off", st)
	}
}

func TestInFlightUpdatesAndDeletes(t *testing.T) {
	c := &clock{now: t0}
	q := newQueue(c)
	q.Add(testPod("p", 0, t0))
	qp := popNow(t, q)
	// An update while in flight does not queue the pod twice...
	q.Update(testPod("p", 0, t0), testPod("p", 3, t0))
	if st := q.Stats(); st.Active != 0 || st.InFlight != 1 {
		t.Fatalf("stats %+v, want only the in-flight copy", st)
	}
	if qp.Priority != 0 {
		t.Error("the in-flight PodInfo changed under the scheduling loop")
	}
	// ...and the newer copy is what comes back.
	q.Requeue(qp, nil, true)
	c.Advance(time.Second)
	q.Flush()
	if got := popNow(t, q); got.Priority != 3 {
		t.Errorf("requeued priority %d, want the update's 3", got.Priority)
	}

	// A pod deleted (or bound) while in flight does not come back.
	q.Add(testPod("d", 0, t0))
	qp = popNow(t, q)
	q.Delete(testPod("d", 0, t0))
	q.Requeue(qp, nil, true)
	c.Advance(time.Minute)
	q.Flush()
	if q.Has("ns/d") {
		t.Error("a pod deleted in flight was requeued")
	}

	// A new pod with the same name replaces the one in flight.
	q.Add(testPod("r", 0, t0))
	qp = popNow(t, q)
	re := testPod("r", 0, t0)
	re.Metadata.Uid = "uid-r2"
	q.Add(re)
	q.Requeue(qp, nil, true)
	if got := popNow(t, q); got.UID != "uid-r2" {
		t.Errorf("popped uid %s, want the new pod", got.UID)
	}
}

func TestStatusOnlyUpdateDoesNotRetry(t *testing.T) {
	c := &clock{now: t0}
	q := newQueue(c)
	p := testPod("p", 0, t0)
	q.Add(p)
	q.Requeue(popNow(t, q), map[string]bool{"Fit": true}, false)
	c.Advance(time.Hour / 2)
	withStatus := testPod("p", 0, t0)
	withStatus.Status = &shoalv1.PodStatus{Conditions: []*shoalv1.Condition{{Type: "PodScheduled"}}}
	q.Update(p, withStatus)
	if st := q.Stats(); st.Unschedulable != 1 {
		t.Errorf("a status update moved the pod: %+v", st)
	}
	labeled := testPod("p", 0, t0)
	labeled.Metadata.Labels = map[string]string{"x": "y"}
	q.Update(withStatus, labeled)
	if st := q.Stats(); st.Active != 1 {
		t.Errorf("a label change did not move the pod: %+v", st)
	}
}

func TestPopBlocksAndCloses(t *testing.T) {
	q := newQueue(&clock{now: t0})
	got := make(chan string, 1)
	go func() {
		qp, err := q.Pop(context.Background())
		if err != nil {
			got <- err.Error()
			return
		}
		got <- qp.Pod.GetMetadata().GetName()
	}()
	q.Add(testPod("p", 0, t0))
	if name := <-got; name != "p" {
		t.Errorf("Pop returned %q", name)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := q.Pop(context.Background())
		errc <- err
	}()
	q.Close()
	if err := <-errc; !errors.Is(err, queue.ErrClosed) {
		t.Errorf("Pop after Close: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := newQueue(&clock{now: t0}).Pop(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Pop with a cancelled context: %v", err)
	}
}

func TestStatsOldestAge(t *testing.T) {
	c := &clock{now: time.Unix(1000, 0)}
	q := newQueue(c)
	if st := q.Stats(); st.OldestAge != 0 {
		t.Fatalf("empty queue: oldest age %v", st.OldestAge)
	}
	q.Add(testPod("a", 0, c.now))
	c.Advance(3 * time.Second)
	q.Add(testPod("b", 0, c.now))
	c.Advance(2 * time.Second)
	if st := q.Stats(); st.OldestAge != 5*time.Second {
		t.Fatalf("oldest age %v, want 5s (pod a)", st.OldestAge)
	}
	qp := popNow(t, q) // in flight still counts
	c.Advance(time.Second)
	if st := q.Stats(); st.OldestAge != 6*time.Second {
		t.Fatalf("with %s in flight: oldest age %v, want 6s", qp.Key, st.OldestAge)
	}
	q.Delete(testPod("a", 0, c.now))
	q.Done(qp)
	if st := q.Stats(); st.OldestAge != 3*time.Second {
		t.Fatalf("after a left: oldest age %v, want 3s (pod b)", st.OldestAge)
	}
}
