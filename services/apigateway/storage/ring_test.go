package storage

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

func revs(evs []*Event) string {
	out := ""
	for _, e := range evs {
		out += fmt.Sprintf("%d,", e.Rev)
	}
	return out
}

func TestRingAfter(t *testing.T) {
	r := newRing(4, 10)
	for _, rev := range []int64{11, 12, 12, 15} {
		r.add(&Event{Rev: rev})
	}
	cases := []struct {
		name string
		rev  int64
		want string
		ok   bool
	}{
		{"from the horizon", 10, "11,12,12,15,", true},
		{"both events of one revision", 11, "12,12,15,", true},
		{"after a revision", 12, "15,", true},
		{"caught up", 15, "", true},
		{"ahead", 99, "", true},
		{"older than the horizon", 9, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evs, ok := r.after(tc.rev, nil)
			if ok != tc.ok || revs(evs) != tc.want {
				t.Fatalf("after(%d) = %q, %v; want %q, %v", tc.rev, revs(evs), ok, tc.want, tc.ok)
			}
		})
	}
	// Overflow drops the oldest and moves the horizon to it.
	r.add(&Event{Rev: 16})
	if r.horizon != 11 {
		t.Fatalf("horizon %d after overflow, want 11", r.horizon)
	}
	if _, ok := r.after(10, nil); ok {
		t.Fatal("revision 10 must no longer be served: event 11 fell out")
	}
	if evs, ok := r.after(11, nil); !ok || revs(evs) != "12,12,15,16," {
		t.Fatalf("after(11) = %q, %v", revs(evs), ok)
	}
}

// TestSharedGet: one value per event type, whoever computes it first, and
// every concurrent reader gets that same value; errors are not kept.
func TestSharedGet(t *testing.T) {
	var s Shared
	var calls atomic.Int32
	mk := func(v string) func() (any, error) {
		return func() (any, error) { calls.Add(1); return v, nil }
	}
	var wg sync.WaitGroup
	got := make([]any, 64)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _ = s.Get(shoalv1.WatchEventType_WATCH_EVENT_TYPE_MODIFIED, mk(fmt.Sprint("v", i)))
		}()
	}
	wg.Wait()
	for i := range got {
		if got[i] != got[0] {
			t.Fatalf("reader %d got %v, reader 0 got %v", i, got[i], got[0])
		}
	}
	if v, _ := s.Get(shoalv1.WatchEventType_WATCH_EVENT_TYPE_MODIFIED, mk("late")); v != got[0] {
		t.Errorf("a later Get computed %v again", v)
	}
	if v, _ := s.Get(shoalv1.WatchEventType_WATCH_EVENT_TYPE_DELETED, mk("deleted")); v != "deleted" {
		t.Errorf("DELETED = %v, want its own value", v)
	}
	if _, err := s.Get(shoalv1.WatchEventType_WATCH_EVENT_TYPE_ADDED, func() (any, error) { return nil, errors.New("boom") }); err == nil {
		t.Error("the error was lost")
	}
	if v, _ := s.Get(shoalv1.WatchEventType_WATCH_EVENT_TYPE_ADDED, mk("added")); v != "added" {
		t.Errorf("after an error ADDED = %v, want a fresh value", v)
	}
	var none *Shared
	before := calls.Load()
	none.Get(shoalv1.WatchEventType_WATCH_EVENT_TYPE_ADDED, mk("x"))
	none.Get(shoalv1.WatchEventType_WATCH_EVENT_TYPE_ADDED, mk("x"))
	if calls.Load()-before != 2 {
		t.Error("a nil Shared cached a value")
	}
}

// TestWaiters: removal in any order keeps the others registered, and each
// signal reaches exactly the waiters still registered (coalesced to one).
func TestWaiters(t *testing.T) {
	c := &Cacher{}
	ws := []*waiter{c.addWaiter(false), c.addWaiter(true), c.addWaiter(false), c.addWaiter(true)}
	c.removeWaiter(ws[1])
	c.removeWaiter(ws[0])
	c.signalWaiters(nil)
	c.signalWaiters(nil)
	for i, w := range ws {
		want := i >= 2
		if got := len(w.wake) == 1; got != want {
			t.Errorf("waiter %d signalled = %v, want %v", i, got, want)
		}
	}
	<-ws[3].wake
	c.signalWaiters(func(w *waiter) bool { return w.bookmarks })
	if len(ws[3].wake) != 1 {
		t.Error("a picked waiter was not signalled")
	}
	c.removeWaiter(ws[3])
	c.removeWaiter(ws[2])
	if len(c.waiters) != 0 {
		t.Errorf("%d waiters left", len(c.waiters))
	}
}
