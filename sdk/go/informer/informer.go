package informer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// ListerWatcher is what an Informer reads from; *client.Resource[T] is one.
type ListerWatcher[T kinds.Object] interface {
	List(ctx context.Context, o client.ListOptions, opts ...grpc.CallOption) (*client.ListResult[T], error)
	Watch(ctx context.Context, o client.WatchOptions, opts ...grpc.CallOption) (client.Watch[T], error)
}

var _ ListerWatcher[*shoalv1.Pod] = (*client.Resource[*shoalv1.Pod])(nil)

// ErrAlreadyStarted is returned by a second call of Run.
var ErrAlreadyStarted = errors.New("informer: already started")

// Informer is a list+watch cache of one kind. Create it with New, add
// handlers, and call Run once. All methods are safe for concurrent use.
type Informer[T kinds.Object] struct {
	lw    ListerWatcher[T]
	opts  options
	log   *slog.Logger
	notes *notifier[T]

	started atomic.Bool
	synced  chan struct{} // closed by the first successful list

	mu     sync.RWMutex
	store  store[T]
	rv     string // last resource version seen (list, event or bookmark)
	isSync bool
}

// New returns an informer over lw. It panics if an index from WithIndex does
// not take T or if two indexes share a name (programming errors).
func New[T kinds.Object](lw ListerWatcher[T], opts ...Option) *Informer[T] {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	indexers := map[string]indexFunc[T]{NamespaceIndex: namespaceIndex[T]}
	for _, ix := range o.indexes {
		fn, ok := ix.fn.(func(T) []string)
		if !ok {
			var zero T
			panic(fmt.Sprintf("informer: index %q takes %T, not the informer's %T", ix.name, ix.fn, zero))
		}
		if _, dup := indexers[ix.name]; dup {
			panic(fmt.Sprintf("informer: index %q defined twice", ix.name))
		}
		indexers[ix.name] = fn
	}
	log := o.log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var zero T
	if k, err := kinds.Of(zero.ProtoReflect().Interface()); err == nil {
		log = log.With("kind", k.Name)
	}
	return &Informer[T]{
		lw:     lw,
		opts:   o,
		log:    log,
		notes:  newNotifier[T](),
		synced: make(chan struct{}),
		store:  newStore(indexers),
	}
}

// AddEventHandler registers h. A handler added after the informer synced is
// first told about every cached object with OnAdd; after that it sees every
// change in order, like the handlers added before Run. Handlers run on the
// informer's delivery goroutine, which Run starts and stops.
func (inf *Informer[T]) AddEventHandler(h Handler[T]) {
	inf.mu.RLock()
	defer inf.mu.RUnlock()
	inf.notes.push(notification[T]{kind: noteRegister, handler: h, objs: inf.store.list()})
}

// Run fills the cache and keeps it up to date until ctx is done, then waits
// for its goroutines (including the handler delivery) to return. It returns
// nil once ctx is done, or ErrAlreadyStarted if Run was called before.
// Changes not yet delivered to handlers when ctx is done are dropped.
func (inf *Informer[T]) Run(ctx context.Context) error {
	if !inf.started.CompareAndSwap(false, true) {
		return ErrAlreadyStarted
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { inf.notes.run(ctx) })
	if inf.opts.resync > 0 {
		wg.Go(func() { inf.resyncLoop(ctx) })
	}
	inf.reflect(ctx)
	return nil
}

// HasSynced reports whether the first list has been stored.
func (inf *Informer[T]) HasSynced() bool {
	select {
	case <-inf.synced:
		return true
	default:
		return false
	}
}

// WaitForSync blocks until the first list has been stored (true) or ctx is
// done (false).
func (inf *Informer[T]) WaitForSync(ctx context.Context) bool {
	select {
	case <-inf.synced:
		return true
	case <-ctx.Done():
		return inf.HasSynced()
	}
}

// LastSyncResourceVersion is the newest resource version the cache reflects:
// from the last list, watch event or bookmark.
func (inf *Informer[T]) LastSyncResourceVersion() string {
	inf.mu.RLock()
	defer inf.mu.RUnlock()
	return inf.rv
}

// Get returns the cached object with key "namespace/name" (or "name" for
// cluster-scoped kinds), as kinds.Key makes it. Do not modify it.
func (inf *Informer[T]) Get(key string) (T, bool) {
	inf.mu.RLock()
	defer inf.mu.RUnlock()
	obj, ok := inf.store.items[key]
	return obj, ok
}

// List returns every cached object, in no particular order. Do not modify
// them.
func (inf *Informer[T]) List() []T {
	inf.mu.RLock()
	defer inf.mu.RUnlock()
	return inf.store.list()
}

// Keys returns the key of every cached object, in no particular order.
func (inf *Informer[T]) Keys() []string {
	inf.mu.RLock()
	defer inf.mu.RUnlock()
	keys := make([]string, 0, len(inf.store.items))
	for k := range inf.store.items {
		keys = append(keys, k)
	}
	return keys
}

// ByIndex returns the cached objects that the named index maps to value, in
// no particular order; nil for an unknown index. Do not modify them.
func (inf *Informer[T]) ByIndex(name, value string) []T {
	inf.mu.RLock()
	defer inf.mu.RUnlock()
	return inf.store.byIndex(name, value)
}

// ListNamespace returns the cached objects of namespace ns; "" means every
// namespace (as List). Do not modify them.
func (inf *Informer[T]) ListNamespace(ns string) []T {
	if ns == "" {
		return inf.List()
	}
	return inf.ByIndex(NamespaceIndex, ns)
}

// resyncLoop periodically tells handlers about every cached object again.
func (inf *Informer[T]) resyncLoop(ctx context.Context) {
	t := time.NewTicker(inf.opts.resync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		inf.mu.RLock()
		if inf.isSync {
			inf.notes.push(notification[T]{kind: noteResync, objs: inf.store.list()})
		}
		inf.mu.RUnlock()
	}
}
