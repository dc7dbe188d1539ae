package workqueue

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/util/workqueue"
)

const waitTimeout = 10 * time.Second

func fastQueue(name string) workqueue.TypedRateLimitingInterface[string] {
	return New[string](name, WithRateLimiter(workqueue.NewTypedItemExponentialFailureRateLimiter[string](time.Millisecond, 10*time.Millisecond)))
}

// runAsync starts Run and returns a channel closed when it returns.
func runAsync(ctx context.Context, q workqueue.TypedRateLimitingInterface[string], workers int, sync SyncFunc[string], log *slog.Logger) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, q, workers, sync, log)
	}()
	return done
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(waitTimeout):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestRunSyncsEachKeyOncePerBurst(t *testing.T) {
	tests := []struct {
		name    string
		workers int
		keys    []string
		repeat  int
	}{
		{name: "one worker", workers: 1, keys: []string{"a", "b", "c"}, repeat: 10},
		{name: "many workers", workers: 4, keys: []string{"ns/a", "ns/b", "c", "d", "e"}, repeat: 50},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := fastQueue("burst")
			for range tc.repeat {
				for _, k := range tc.keys {
					q.Add(k)
				}
			}
			var mu sync.Mutex
			counts := map[string]int{}
			allSeen := make(chan struct{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := runAsync(ctx, q, tc.workers, func(_ context.Context, key string) error {
				mu.Lock()
				defer mu.Unlock()
				counts[key]++
				if len(counts) == len(tc.keys) && counts[key] == 1 {
					close(allSeen)
				}
				return nil
			}, nil)
			waitClosed(t, allSeen, "every key to be synced")
			cancel()
			waitClosed(t, done, "Run to return")
			for _, k := range tc.keys {
				if counts[k] != 1 {
					t.Errorf("key %q synced %d times, want 1", k, counts[k])
				}
			}
		})
	}
}

func TestRunRetriesFailuresThenForgets(t *testing.T) {
	q := fastQueue("retry")
	var logBuf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))

	const failures = 3
	attempts := 0
	succeeded := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q.Add("ns/a")
	done := runAsync(ctx, q, 2, func(_ context.Context, key string) error {
		attempts++ // the queue never hands one key to two workers at once
		if attempts <= failures {
			if got := q.NumRequeues(key); got != attempts-1 {
				t.Errorf("attempt %d: NumRequeues = %d, want %d", attempts, got, attempts-1)
			}
			return errors.New("boom")
		}
		close(succeeded)
		return nil
	}, log)
	waitClosed(t, succeeded, "the sync to succeed")
	cancel()
	waitClosed(t, done, "Run to return")

	if attempts != failures+1 {
		t.Errorf("attempts = %d, want %d", attempts, failures+1)
	}
	if n := q.NumRequeues("ns/a"); n != 0 {
		t.Errorf("NumRequeues after success = %d, want 0 (Forget)", n)
	}
	if got := strings.Count(logBuf.String(), "key=ns/a"); got != failures {
		t.Errorf("logged %d failures, want %d:\n%s", got, failures, logBuf.String())
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	q := fastQueue("stop")
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	var once sync.Once
	done := runAsync(ctx, q, 3, func(ctx context.Context, _ string) error {
		once.Do(func() { close(started) })
		<-ctx.Done() // a sync that only ends with its context
		return ctx.Err()
	}, nil)
	q.Add("a")
	q.Add("b")
	waitClosed(t, started, "a sync to start")
	cancel()
	waitClosed(t, done, "Run to return")
	if !q.ShuttingDown() {
		t.Error("Run returned without shutting the queue down")
	}
}

func TestRunReturnsWhenQueueShutDown(t *testing.T) {
	q := fastQueue("shutdown")
	done := runAsync(context.Background(), q, 2, func(context.Context, string) error { return nil }, nil)
	q.ShutDown()
	waitClosed(t, done, "Run to return after ShutDown")
}
