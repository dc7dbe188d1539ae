package server

import (
	"context"
	"sync"
	"testing"
	"time"
)

// flushes records the times throttle called flush.
type flushes struct {
	mu  sync.Mutex
	at  []time.Time
	hit chan struct{}
}

func (f *flushes) flush() {
	f.mu.Lock()
	f.at = append(f.at, time.Now())
	f.mu.Unlock()
	f.hit <- struct{}{}
}

func (f *flushes) times() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.at...)
}

func startThrottle(t *testing.T, every time.Duration) (kick func(), f *flushes) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan struct{}, 1)
	f = &flushes{hit: make(chan struct{}, 16)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		throttle(ctx, ch, every, f.flush)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	// As kickLoop: a kick already pending stands for this one too.
	return func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}, f
}

func waitFlush(t *testing.T, f *flushes, n int) {
	t.Helper()
	select {
	case <-f.hit:
	case <-time.After(30 * time.Second):
		t.Fatalf("flush %d not called within 30 s", n)
	}
}

// An isolated change is flushed without waiting for the window: with a
// window of an hour, a debounce would not flush within the test.
func TestThrottleFlushesAQuietChangeAtOnce(t *testing.T) {
	kick, f := startThrottle(t, time.Hour)
	kick()
	waitFlush(t, f, 1)
	// A second kick inside the hour waits for its end.
	kick()
	select {
	case <-f.hit:
		t.Fatal("a kick within the window was flushed before the window ended")
	case <-time.After(200 * time.Millisecond):
	}
	if got := len(f.times()); got != 1 {
		t.Fatalf("flushes = %d, want 1", got)
	}
}

// The kicks of a burst that follow a flush are coalesced into one flush,
// which comes no earlier than the window after the first.
func TestThrottleCoalescesABurst(t *testing.T) {
	const every = time.Second // far longer than the burst, even on a loaded machine
	kick, f := startThrottle(t, every)
	kick()
	waitFlush(t, f, 1)
	for range 5 {
		kick()
		time.Sleep(5 * time.Millisecond)
	}
	waitFlush(t, f, 2)
	// Nothing is left pending: no third flush follows.
	select {
	case <-f.hit:
		t.Fatal("a burst was flushed more than once after its first kick")
	case <-time.After(every + 200*time.Millisecond):
	}
	at := f.times()
	if len(at) != 2 {
		t.Fatalf("flushes = %d, want 2", len(at))
	}
	if gap := at[1].Sub(at[0]); gap < every {
		t.Fatalf("second flush %v after the first, want at least the window %v", gap, every)
	}
}
