package informer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// reflect lists, then watches, until ctx is done: a watch that ends resumes
// from the last resource version seen, and a compacted one relists.
func (inf *Informer[T]) reflect(ctx context.Context) {
	bo := backoff{min: inf.opts.minBackoff, max: inf.opts.maxBackoff}
	needList := true
	for ctx.Err() == nil {
		if needList {
			if err := inf.list(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				inf.log.WarnContext(ctx, "informer: list failed", "err", err)
				sleep(ctx, bo.next())
				continue
			}
			needList = false
			bo.reset()
		}
		progressed, err := inf.watch(ctx)
		if ctx.Err() != nil {
			return
		}
		if progressed {
			bo.reset()
		}
		rv := inf.LastSyncResourceVersion()
		switch {
		case client.IsGone(err):
			inf.log.InfoContext(ctx, "informer: resource version compacted, relisting", "resourceVersion", rv)
			needList = true
		case errors.Is(err, io.EOF):
			inf.log.DebugContext(ctx, "informer: watch ended, resuming", "resourceVersion", rv)
		default:
			inf.log.WarnContext(ctx, "informer: watch failed, resuming", "resourceVersion", rv, "err", err)
		}
		sleep(ctx, bo.next())
	}
}

// list reads every page and replaces the store with the result.
func (inf *Informer[T]) list(ctx context.Context) error {
	o := client.ListOptions{
		Namespace:     inf.opts.namespace,
		LabelSelector: inf.opts.labelSelector,
		FieldSelector: inf.opts.fieldSelector,
		PageSize:      inf.opts.pageSize,
	}
	var items []T
	rv := ""
	for {
		page, err := inf.lw.List(ctx, o)
		if err != nil {
			return fmt.Errorf("listing (page token %q): %w", o.PageToken, err)
		}
		items = append(items, page.Items...)
		if rv == "" {
			rv = page.ResourceVersion
		}
		if page.NextPageToken == "" {
			break
		}
		o.PageToken = page.NextPageToken
	}
	inf.replace(items, rv)
	return nil
}

// watch streams changes into the store until the stream ends. progressed
// reports whether any event arrived.
func (inf *Informer[T]) watch(ctx context.Context) (progressed bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := inf.lw.Watch(ctx, client.WatchOptions{
		Namespace:       inf.opts.namespace,
		LabelSelector:   inf.opts.labelSelector,
		FieldSelector:   inf.opts.fieldSelector,
		ResourceVersion: inf.LastSyncResourceVersion(),
		AllowBookmarks:  true,
	})
	if err != nil {
		return false, err
	}
	defer w.Close()
	for {
		ev, err := w.Recv()
		if err != nil {
			return progressed, err
		}
		progressed = true
		inf.apply(ctx, ev)
	}
}

// replace makes the store hold exactly items (a full list at rv) and tells
// handlers the difference: adds for new objects, updates for changed ones
// and deletes for vanished ones. An object whose stored version is newer than
// the listed one keeps its stored version.
func (inf *Informer[T]) replace(items []T, rv string) {
	inf.mu.Lock()
	defer inf.mu.Unlock()
	listed := make(map[string]struct{}, len(items))
	for _, obj := range items {
		key := kinds.Key(obj)
		listed[key] = struct{}{}
		old, ok := inf.store.items[key]
		if ok && !rvNewer(resourceVersion(obj), resourceVersion(old)) {
			continue
		}
		inf.store.put(key, obj)
		if ok {
			inf.notes.push(notification[T]{kind: noteUpdate, old: old, obj: obj})
		} else {
			inf.notes.push(notification[T]{kind: noteAdd, obj: obj})
		}
	}
	for key, old := range inf.store.items {
		if _, ok := listed[key]; ok {
			continue
		}
		inf.store.remove(key)
		inf.notes.push(notification[T]{kind: noteDelete, obj: old})
	}
	inf.rv = rv
	if !inf.isSync {
		inf.isSync = true
		close(inf.synced)
	}
}

// apply stores one watch event and tells handlers about it. Events that are
// not newer than the stored object (replays, duplicates) change nothing.
func (inf *Informer[T]) apply(ctx context.Context, ev client.Event[T]) {
	obj := ev.Object
	rv := resourceVersion(obj)
	inf.mu.Lock()
	defer inf.mu.Unlock()
	switch ev.Type {
	case shoalv1.WatchEventType_WATCH_EVENT_TYPE_BOOKMARK:
	case shoalv1.WatchEventType_WATCH_EVENT_TYPE_ADDED, shoalv1.WatchEventType_WATCH_EVENT_TYPE_MODIFIED:
		key := kinds.Key(obj)
		old, ok := inf.store.items[key]
		if ok && !rvNewer(rv, resourceVersion(old)) {
			inf.log.DebugContext(ctx, "informer: ignoring stale event", "type", ev.Type, "key", key,
				"resourceVersion", rv, "stored", resourceVersion(old))
			break
		}
		inf.store.put(key, obj)
		if ok {
			inf.notes.push(notification[T]{kind: noteUpdate, old: old, obj: obj})
		} else {
			inf.notes.push(notification[T]{kind: noteAdd, obj: obj})
		}
	case shoalv1.WatchEventType_WATCH_EVENT_TYPE_DELETED:
		key := kinds.Key(obj)
		old, ok := inf.store.items[key]
		if !ok {
			break
		}
		// A delete carries the last state, whose version may equal the
		// stored one; only an older one is stale.
		if rvOlder(rv, resourceVersion(old)) {
			inf.log.DebugContext(ctx, "informer: ignoring stale delete", "key", key,
				"resourceVersion", rv, "stored", resourceVersion(old))
			break
		}
		inf.store.remove(key)
		inf.notes.push(notification[T]{kind: noteDelete, obj: obj})
	default:
		inf.log.WarnContext(ctx, "informer: ignoring watch event of unknown type", "type", ev.Type)
		return
	}
	if rv != "" && (inf.rv == "" || rvNewer(rv, inf.rv)) {
		inf.rv = rv
	}
}

func resourceVersion(obj kinds.Object) string {
	return obj.GetMetadata().GetResourceVersion()
}

// rvNewer reports whether resource version a is newer than b. Versions are
// etcd revisions in decimal; when either does not parse, a counts as newer
// (the event is applied rather than lost).
func rvNewer(a, b string) bool {
	x, errA := strconv.ParseUint(a, 10, 64)
	y, errB := strconv.ParseUint(b, 10, 64)
	if errA != nil || errB != nil {
		return true
	}
	return x > y
}

// rvOlder reports whether resource version a is older than b; false when
// either does not parse.
func rvOlder(a, b string) bool {
	x, errA := strconv.ParseUint(a, 10, 64)
	y, errB := strconv.ParseUint(b, 10, 64)
	return errA == nil && errB == nil && x < y
}

// backoff is a capped exponential delay with jitter.
type backoff struct {
	min, max, cur time.Duration
}

// next returns a delay in [cur/2, cur] and doubles cur up to max.
func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	if b.cur <= 0 {
		return 0
	}
	half := b.cur / 2
	return half + rand.N(b.cur-half+1)
}

func (b *backoff) reset() { b.cur = 0 }

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
