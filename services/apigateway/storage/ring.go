package storage

import (
	"sort"
	"sync/atomic"
	"time"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// Event is one change to one object as the cache saw it.
type Event struct {
	Type shoalv1.WatchEventType
	// Object is the new state; for DELETED the last state, with the
	// deletion's revision.
	Object kinds.Object
	// Prev is the state before (nil for ADDED).
	Prev kinds.Object
	Rev  int64
	// Seen is when the cache received the change (zero for replays).
	Seen time.Time
	// Shared caches what the serving layer derives from the event once for
	// all its watchers (the encoded message).
	Shared *Shared
}

// Shared holds per-event results computed by the first watcher that needs
// them, keyed by event type (a change may reach watchers as ADDED, MODIFIED
// or DELETED depending on their selectors).
type Shared struct {
	// One slot per event type, read without a lock: every watcher of a
	// busy kind reads them at once, and a mutex here was contended by
	// thousands of goroutines per event.
	slots [shoalv1.WatchEventType_WATCH_EVENT_TYPE_BOOKMARK + 1]atomic.Pointer[sharedValue]
}

type sharedValue struct{ v any }

// Get returns the value for typ, computing it with make the first time. Two
// watchers racing on the first use may both compute it; one result wins and
// both get it.
func (s *Shared) Get(typ shoalv1.WatchEventType, make func() (any, error)) (any, error) {
	if s == nil || typ < 0 || int(typ) >= len(s.slots) {
		return make()
	}
	slot := &s.slots[typ]
	if sv := slot.Load(); sv != nil {
		return sv.v, nil
	}
	v, err := make()
	if err != nil {
		return nil, err
	}
	slot.CompareAndSwap(nil, &sharedValue{v: v})
	return slot.Load().v, nil
}

// ring is a bounded, revision-ordered history of events. Every event with a
// revision above horizon is in it.
type ring struct {
	buf     []*Event
	head    int // index of the oldest event
	size    int
	horizon int64
}

func newRing(capacity int, horizon int64) *ring {
	if capacity < 1 {
		capacity = 1
	}
	return &ring{buf: make([]*Event, capacity), horizon: horizon}
}

func (r *ring) add(ev *Event) {
	if r.size == len(r.buf) {
		dropped := r.buf[r.head]
		r.buf[r.head] = nil
		r.head = (r.head + 1) % len(r.buf)
		r.size--
		r.horizon = dropped.Rev
	}
	r.buf[(r.head+r.size)%len(r.buf)] = ev
	r.size++
}

func (r *ring) at(i int) *Event { return r.buf[(r.head+i)%len(r.buf)] }

// after returns the events with a revision above rev, or ok=false when some
// of them already fell out of the ring. They are appended to buf[:0]: every
// watcher reads the ring after every event, and reusing its slice keeps a
// fan-out to thousands of watchers from allocating one per delivery.
func (r *ring) after(rev int64, buf []*Event) (evs []*Event, ok bool) {
	if rev < r.horizon {
		return nil, false
	}
	i := sort.Search(r.size, func(i int) bool { return r.at(i).Rev > rev })
	evs = buf[:0]
	for ; i < r.size; i++ {
		evs = append(evs, r.at(i))
	}
	return evs, true
}
