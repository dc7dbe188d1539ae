package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/btree"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// CacherConfig tunes a watch cache.
type CacherConfig struct {
	// Capacity is how many events the ring keeps.
	Capacity int
	// BookmarkInterval is how often idle watchers that asked for bookmarks
	// get one.
	BookmarkInterval time.Duration
	// FreshnessTimeout bounds how long a List waits for the cache to reach
	// the revision it needs before it reads etcd instead.
	FreshnessTimeout time.Duration
	Logger           *slog.Logger
	Metrics          *Metrics
	// NewWatcher opens an etcd watcher of its own (one stream, so progress
	// requests reach it alone); nil means clientv3.NewWatcher on the
	// store's client. An in-process client needs its own constructor.
	NewWatcher func() clientv3.Watcher
}

// DefaultCacherConfig returns the defaults.
func DefaultCacherConfig() CacherConfig {
	return CacherConfig{Capacity: 10000, BookmarkInterval: 5 * time.Second, FreshnessTimeout: 3 * time.Second, Logger: slog.New(slog.DiscardHandler)}
}

type entry struct {
	key string
	obj kinds.Object
}

func entryLess(a, b *entry) bool { return a.key < b.key }

// Cacher is the watch cache of one kind.
type Cacher struct {
	store *Store
	cfg   CacherConfig

	mu       sync.RWMutex
	tree     *btree.BTreeG[*entry]
	rev      int64
	ring     *ring
	notify   chan struct{} // closed and replaced whenever rev moves
	stopping atomic.Bool   // set before stopped is closed
	// waiters are the open watches, each woken on its own channel. They
	// have a lock of their own so that signalling them never holds c.mu,
	// which every woken watcher takes next.
	waitersMu sync.Mutex
	waiters   []*waiter

	// The cache's own etcd watch, so a List can ask it for a progress
	// notification (the current revision) when the cache looks stale.
	watcher  clientv3.Watcher
	watchCtx context.Context
	progress atomic.Bool

	ready     chan struct{}
	readyOnce sync.Once
	stopped   chan struct{} // closed when Run returns: watches end
	watchers  atomic.Int64
	delivery  deliveryMetrics
}

// NewCacher returns a cache in front of store; Run fills and follows it.
func NewCacher(store *Store, cfg CacherConfig) *Cacher {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Cacher{
		store:    store,
		cfg:      cfg,
		tree:     btree.NewG(32, entryLess),
		ring:     newRing(cfg.Capacity, 0),
		notify:   make(chan struct{}),
		ready:    make(chan struct{}),
		stopped:  make(chan struct{}),
		delivery: cfg.Metrics.deliveryFor(store.kind.Name),
	}
}

// Ready is closed once the cache holds its first list.
func (c *Cacher) Ready() <-chan struct{} { return c.ready }

// Watchers is the number of open watches served by this cache.
func (c *Cacher) Watchers() int64 { return c.watchers.Load() }

// Revision is the revision the cache has reached.
func (c *Cacher) Revision() int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.rev
}

// Get returns the cached object at key, as of the cache's revision (which
// may trail etcd by a few milliseconds).
func (c *Cacher) Get(namespace, name string) (kinds.Object, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.tree.Get(&entry{key: c.store.Key(namespace, name)})
	if !ok {
		return nil, false
	}
	return e.obj, true
}

// Run lists and watches etcd until ctx ends, relisting after any failure.
func (c *Cacher) Run(ctx context.Context) {
	defer func() {
		c.stopping.Store(true)
		close(c.stopped)
		c.signalWaiters(nil)
	}()
	go c.clock(ctx)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := c.listAndWatch(ctx)
		if ctx.Err() != nil {
			return
		}
		c.cfg.Logger.Warn("watch cache restarting", "kind", c.store.kind.Name, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (c *Cacher) clock(ctx context.Context) {
	t := time.NewTicker(c.cfg.BookmarkInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// Learn the current revision even when this kind is idle, so
			// bookmarks let idle watchers resume from a recent revision.
			c.requestProgress(true)
			c.signalWaiters(func(w *waiter) bool {
				if w.bookmarks {
					w.tick.Store(true)
				}
				return w.bookmarks
			})
		}
	}
}

// broadcastLocked wakes every reader waiting for freshness; c.mu must be
// held for writing. Watchers are signalled once it is released
// (signalWaiters), so that they do not wake only to block on c.mu.
func (c *Cacher) broadcastLocked() {
	close(c.notify)
	c.notify = make(chan struct{})
}

// signalWaiters wakes the watchers that pick (nil: all) selects.
func (c *Cacher) signalWaiters(pick func(*waiter) bool) {
	c.waitersMu.Lock()
	defer c.waitersMu.Unlock()
	for _, w := range c.waiters {
		if pick == nil || pick(w) {
			w.signal()
		}
	}
}

// waiter is one watch's wake-up. The cache signals each watcher on a
// channel of its own rather than closing one channel they all wait on:
// with thousands of watchers, waking them all from one channel (and the
// shared channels of their selects) made them contend on the same channel
// locks, a quarter of the gateway's CPU in a fan-out.
type waiter struct {
	wake      chan struct{} // capacity 1: wake-ups coalesce
	bookmarks bool
	tick      atomic.Bool // the bookmark clock struck since the watcher last looked
	index     int         // in Cacher.waiters, under waitersMu
}

func (w *waiter) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (c *Cacher) addWaiter(bookmarks bool) *waiter {
	w := &waiter{wake: make(chan struct{}, 1), bookmarks: bookmarks}
	c.waitersMu.Lock()
	defer c.waitersMu.Unlock()
	w.index = len(c.waiters)
	c.waiters = append(c.waiters, w)
	return w
}

// removeWaiter swaps the last waiter into w's place.
func (c *Cacher) removeWaiter(w *waiter) {
	c.waitersMu.Lock()
	defer c.waitersMu.Unlock()
	last := c.waiters[len(c.waiters)-1]
	c.waiters[w.index], last.index = last, w.index
	c.waiters[len(c.waiters)-1] = nil
	c.waiters = c.waiters[:len(c.waiters)-1]
}

func (c *Cacher) listAndWatch(ctx context.Context) error {
	items, rev, _, _, err := c.store.ListAt(ctx, c.store.prefix, 0, "", 0, nil)
	if err != nil {
		return err
	}
	tree := btree.NewG(32, entryLess)
	for _, obj := range items {
		m := obj.GetMetadata()
		tree.ReplaceOrInsert(&entry{key: c.store.Key(m.GetNamespace(), m.GetName()), obj: obj})
	}
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	w := c.newWatcher()
	defer w.Close()

	c.mu.Lock()
	c.tree = tree
	c.rev = rev
	c.ring = newRing(c.cfg.Capacity, rev)
	c.watcher, c.watchCtx = w, wctx
	c.broadcastLocked()
	c.mu.Unlock()
	c.signalWaiters(nil)
	c.readyOnce.Do(func() { close(c.ready) })

	wch := w.Watch(wctx, c.store.prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1), clientv3.WithProgressNotify())
	for resp := range wch {
		if err := resp.Err(); err != nil {
			return mapErr(err)
		}
		if err := c.apply(resp); err != nil {
			return err
		}
	}
	return errors.New("storage: cache watch closed")
}

func (c *Cacher) apply(resp clientv3.WatchResponse) error {
	c.progress.Store(false)
	decoded := make([]kinds.Object, len(resp.Events))
	for i, ev := range resp.Events {
		if ev.Type == mvccpb.PUT {
			obj, err := decode(c.store.kind, ev.Kv.Value, ev.Kv.ModRevision)
			if err != nil {
				return err
			}
			decoded[i] = obj
		}
	}
	seen := time.Now()
	c.mu.Lock()
	defer c.signalWaiters(nil) // runs after the unlock below
	defer c.mu.Unlock()
	for i, ev := range resp.Events {
		key := string(ev.Kv.Key)
		old, had := c.tree.Get(&entry{key: key})
		var e *Event
		switch ev.Type {
		case mvccpb.PUT:
			e = &Event{Type: shoalv1.WatchEventType_WATCH_EVENT_TYPE_ADDED, Object: decoded[i], Rev: ev.Kv.ModRevision, Seen: seen, Shared: &Shared{}}
			if had {
				e.Type = shoalv1.WatchEventType_WATCH_EVENT_TYPE_MODIFIED
				e.Prev = old.obj
			}
			c.tree.ReplaceOrInsert(&entry{key: key, obj: decoded[i]})
		case mvccpb.DELETE:
			if !had {
				continue
			}
			last := proto.Clone(old.obj).(kinds.Object)
			kinds.Meta(last).ResourceVersion = strconv.FormatInt(ev.Kv.ModRevision, 10)
			e = &Event{Type: shoalv1.WatchEventType_WATCH_EVENT_TYPE_DELETED, Object: last, Prev: old.obj, Rev: ev.Kv.ModRevision, Seen: seen, Shared: &Shared{}}
			c.tree.Delete(&entry{key: key})
		}
		c.ring.add(e)
		c.rev = ev.Kv.ModRevision
	}
	if resp.IsProgressNotify() && resp.Header.Revision > c.rev {
		c.rev = resp.Header.Revision
	}
	c.broadcastLocked()
	return nil
}

func (c *Cacher) requestProgress(force bool) {
	if !force && c.progress.Swap(true) {
		return
	}
	c.mu.RLock()
	w, ctx := c.watcher, c.watchCtx
	c.mu.RUnlock()
	if w != nil {
		_ = w.RequestProgress(ctx)
	}
}

// WaitFresh waits until the cache has reached rev (ErrTooNew after
// FreshnessTimeout).
func (c *Cacher) WaitFresh(ctx context.Context, rev int64) error { return c.waitFresh(ctx, rev) }

// waitFresh waits until the cache has reached rev.
func (c *Cacher) waitFresh(ctx context.Context, rev int64) error {
	deadline := time.NewTimer(c.cfg.FreshnessTimeout)
	defer deadline.Stop()
	retry := time.NewTicker(200 * time.Millisecond)
	defer retry.Stop()
	force := false
	for {
		c.mu.RLock()
		cur, ch := c.rev, c.notify
		c.mu.RUnlock()
		if cur >= rev {
			return nil
		}
		c.requestProgress(force)
		force = false
		select {
		case <-ch:
		case <-retry.C:
			force = true
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return ErrTooNew
		}
	}
}

func (c *Cacher) waitReady(ctx context.Context) error {
	select {
	case <-c.ready:
		return nil
	case <-c.stopped:
		return fmt.Errorf("%w: the gateway is shutting down", ErrUnavailable)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// List returns matching objects in key order after the key after ("" =
// from the start), at most limit of them (0 = all), with the revision they
// were read at and, when more remain, the last key returned. rv "" asks for
// the newest state (consistent with etcd), "0" for whatever the cache holds,
// and a number for a state at least that fresh.
func (c *Cacher) List(ctx context.Context, pred Predicate, rv string, limit int) (items []kinds.Object, rev int64, lastKey string, err error) {
	if err := c.waitReady(ctx); err != nil {
		return nil, 0, "", err
	}
	switch rv {
	case "0":
	case "":
		cur, err := c.store.CurrentRevision(ctx)
		if err != nil {
			return nil, 0, "", err
		}
		if err := c.waitFresh(ctx, cur); errors.Is(err, ErrTooNew) {
			// The cache is behind etcd; answer from etcd itself.
			c.cfg.Logger.Warn("watch cache stale, listing from etcd", "kind", c.store.kind.Name, "want", cur)
			items, rev, lastKey, _, err := c.store.ListAt(ctx, c.store.NamespacePrefix(pred.Namespace), cur, "", limit, pred.Matches)
			return items, rev, lastKey, err
		} else if err != nil {
			return nil, 0, "", err
		}
	default:
		want, err := ParseResourceVersion(rv)
		if err != nil {
			return nil, 0, "", err
		}
		if err := c.waitFresh(ctx, want); err != nil {
			return nil, 0, "", err
		}
	}
	prefix := c.store.NamespacePrefix(pred.Namespace)
	more := false
	c.mu.RLock()
	c.tree.AscendGreaterOrEqual(&entry{key: prefix}, func(e *entry) bool {
		if !strings.HasPrefix(e.key, prefix) {
			return false
		}
		if !pred.Matches(e.obj) {
			return true
		}
		if limit > 0 && len(items) == limit {
			more = true
			return false
		}
		items = append(items, e.obj)
		lastKey = e.key
		return true
	})
	rev = c.rev
	c.mu.RUnlock()
	if !more {
		lastKey = ""
	}
	return items, rev, lastKey, nil
}

// SendFunc delivers one watch event to a client. shared is the event's
// per-event cache (nil for events made for one watcher only: initial
// objects, bookmarks, replays).
type SendFunc func(typ shoalv1.WatchEventType, obj kinds.Object, shared *Shared) error

// Watch streams matching changes after rv until ctx ends or send fails. rv
// "" or "0" first sends every matching object as ADDED. With bookmarks, an
// idle watch gets a BOOKMARK with the newest revision every
// BookmarkInterval, and one right after the initial objects.
func (c *Cacher) Watch(ctx context.Context, pred Predicate, rv string, bookmarks bool, send SendFunc) error {
	if err := c.waitReady(ctx); err != nil {
		return err
	}
	c.watchers.Add(1)
	defer c.watchers.Add(-1)

	var pos int64
	if rv == "" || rv == "0" {
		items, rev, _, err := c.List(ctx, pred, "0", 0)
		if err != nil {
			return err
		}
		for _, obj := range items {
			if err := send(shoalv1.WatchEventType_WATCH_EVENT_TYPE_ADDED, obj, nil); err != nil {
				return err
			}
		}
		pos = rev
		if bookmarks {
			if err := send(shoalv1.WatchEventType_WATCH_EVENT_TYPE_BOOKMARK, c.bookmark(pos), nil); err != nil {
				return err
			}
		}
	} else {
		var err error
		if pos, err = ParseResourceVersion(rv); err != nil {
			return err
		}
	}
	lastBookmark := pos
	// Registered before the first read of the ring below: any event after
	// that read signals w.
	w := c.addWaiter(bookmarks)
	defer c.removeWaiter(w)
	var buf []*Event
	// Read once: Done walks the stream context's chain of values, which
	// cost a tenth of the gateway's CPU in a fan-out when asked per event.
	done := ctx.Done()
	for {
		c.mu.RLock()
		evs, ok := c.ring.after(pos, buf)
		cur := c.rev
		c.mu.RUnlock()
		if !ok {
			next, err := c.replay(ctx, pos, pred, send)
			if err != nil {
				return err
			}
			pos = next
			continue
		}
		for _, ev := range evs {
			if typ, obj, ok := filterEvent(ev, pred); ok {
				if err := send(typ, obj, ev.Shared); err != nil {
					return err
				}
				c.delivery.observe(ev.Seen)
			}
			pos = ev.Rev
		}
		// Keep the slice, not the events (which the ring may drop).
		clear(evs)
		buf = evs
		// evs held every event up to cur (read under the same lock); a
		// later event has signalled w, so waiting on it misses nothing.
		pos = max(pos, cur)
		if c.stopping.Load() {
			// The gateway is draining: end cleanly so the client re-watches
			// (from its last revision) on another replica.
			return nil
		}
		select {
		case <-w.wake:
			if w.tick.Swap(false) && pos > lastBookmark {
				if err := send(shoalv1.WatchEventType_WATCH_EVENT_TYPE_BOOKMARK, c.bookmark(pos), nil); err != nil {
					return err
				}
				lastBookmark = pos
			}
		case <-done:
			return nil
		}
	}
}

func (c *Cacher) bookmark(rev int64) kinds.Object {
	obj := c.store.kind.New()
	kinds.Meta(obj).ResourceVersion = strconv.FormatInt(rev, 10)
	return obj
}

// filterEvent turns a change into what a watcher with pred must see: an
// object that stops matching is DELETED for it, one that starts is ADDED.
func filterEvent(ev *Event, pred Predicate) (shoalv1.WatchEventType, kinds.Object, bool) {
	switch ev.Type {
	case shoalv1.WatchEventType_WATCH_EVENT_TYPE_DELETED:
		return ev.Type, ev.Object, pred.Matches(ev.Object)
	case shoalv1.WatchEventType_WATCH_EVENT_TYPE_ADDED:
		return ev.Type, ev.Object, pred.Matches(ev.Object)
	}
	cur := pred.Matches(ev.Object)
	prev := ev.Prev != nil && pred.Matches(ev.Prev)
	switch {
	case cur && prev:
		return shoalv1.WatchEventType_WATCH_EVENT_TYPE_MODIFIED, ev.Object, true
	case cur:
		return shoalv1.WatchEventType_WATCH_EVENT_TYPE_ADDED, ev.Object, true
	case prev:
		return shoalv1.WatchEventType_WATCH_EVENT_TYPE_DELETED, ev.Object, true
	}
	return 0, nil, false
}

func (c *Cacher) newWatcher() clientv3.Watcher {
	if c.cfg.NewWatcher != nil {
		return c.cfg.NewWatcher()
	}
	return clientv3.NewWatcher(c.store.cli)
}

// replay serves a watcher whose position is older than the ring from etcd's
// own history, until etcd reports (by a progress notification) that it has
// sent everything; it returns the revision reached.
func (c *Cacher) replay(ctx context.Context, pos int64, pred Predicate, send SendFunc) (int64, error) {
	w := c.newWatcher()
	defer w.Close()
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	prefix := c.store.NamespacePrefix(pred.Namespace)
	wch := w.Watch(wctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(pos+1), clientv3.WithPrevKV(), clientv3.WithCreatedNotify())
	retry := time.NewTicker(500 * time.Millisecond)
	defer retry.Stop()
	kind := c.store.kind
	for {
		select {
		case <-ctx.Done():
			return pos, ctx.Err()
		case <-retry.C:
			_ = w.RequestProgress(wctx)
		case resp, ok := <-wch:
			if !ok {
				if ctx.Err() != nil {
					return pos, ctx.Err()
				}
				return pos, fmt.Errorf("%w: history watch closed", ErrUnavailable)
			}
			if resp.CompactRevision != 0 {
				return pos, fmt.Errorf("%w: revision %d is older than the compacted %d", ErrCompacted, pos, resp.CompactRevision)
			}
			if err := resp.Err(); err != nil {
				return pos, mapErr(err)
			}
			if resp.Created {
				_ = w.RequestProgress(wctx)
				continue
			}
			for _, ev := range resp.Events {
				e := &Event{Rev: ev.Kv.ModRevision}
				var prev kinds.Object
				if ev.PrevKv != nil {
					p, err := decode(kind, ev.PrevKv.Value, ev.PrevKv.ModRevision)
					if err != nil {
						return pos, err
					}
					prev = p
				}
				switch {
				case ev.Type == mvccpb.DELETE:
					if prev == nil {
						continue
					}
					last := proto.Clone(prev).(kinds.Object)
					kinds.Meta(last).ResourceVersion = strconv.FormatInt(ev.Kv.ModRevision, 10)
					e.Type, e.Object, e.Prev = shoalv1.WatchEventType_WATCH_EVENT_TYPE_DELETED, last, prev
				default:
					obj, err := decode(kind, ev.Kv.Value, ev.Kv.ModRevision)
					if err != nil {
						return pos, err
					}
					e.Type, e.Object, e.Prev = shoalv1.WatchEventType_WATCH_EVENT_TYPE_MODIFIED, obj, prev
					if ev.IsCreate() || prev == nil {
						e.Type = shoalv1.WatchEventType_WATCH_EVENT_TYPE_ADDED
						e.Prev = nil
					}
				}
				if typ, obj, ok := filterEvent(e, pred); ok {
					if err := send(typ, obj, nil); err != nil {
						return pos, err
					}
				}
				pos = e.Rev
			}
			if resp.IsProgressNotify() {
				pos = max(pos, resp.Header.Revision)
				c.mu.RLock()
				horizon := c.ring.horizon
				c.mu.RUnlock()
				if pos >= horizon {
					return pos, nil
				}
				_ = w.RequestProgress(wctx)
			}
		}
	}
}
