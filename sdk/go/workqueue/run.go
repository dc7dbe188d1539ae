package workqueue

import (
	"context"
	"log/slog"
	"sync"

	"k8s.io/client-go/util/workqueue"
)

// SyncFunc reconciles one key. It is level-triggered: it reads the desired
// state from caches, acts until the world matches, and returns nil; an error
// retries the key with backoff.
type SyncFunc[T comparable] func(ctx context.Context, key T) error

// Run is the controller worker loop. It starts workers goroutines (at least
// one) that each take a key, call syncKey, and then Forget the key on success or
// AddRateLimited it on error, always calling Done. The same key is never
// synced by two workers at once.
//
// Run blocks until ctx is done (or the queue is shut down by someone else),
// then shuts the queue down and waits for every worker to return. Keys still
// queued at that point are dropped without being synced. Sync errors are
// logged at level Warn on log; a nil log discards them.
func Run[T comparable](ctx context.Context, q workqueue.TypedRateLimitingInterface[T], workers int, syncKey SyncFunc[T], log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if workers < 1 {
		workers = 1
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for processNext(ctx, q, syncKey, log) {
			}
		})
	}
	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	select {
	case <-ctx.Done():
	case <-finished:
	}
	q.ShutDown()
	<-finished
}

// processNext handles one key; it returns false once the queue is shut down.
func processNext[T comparable](ctx context.Context, q workqueue.TypedRateLimitingInterface[T], syncKey SyncFunc[T], log *slog.Logger) bool {
	key, shutdown := q.Get()
	if shutdown {
		return false
	}
	defer q.Done(key)
	if ctx.Err() != nil {
		// Shutting down: drain without syncing.
		return true
	}
	if err := syncKey(ctx, key); err != nil {
		if ctx.Err() != nil {
			return true
		}
		log.WarnContext(ctx, "sync failed, will retry", "key", key, "retries", q.NumRequeues(key), "err", err)
		q.AddRateLimited(key)
		return true
	}
	q.Forget(key)
	return true
}
