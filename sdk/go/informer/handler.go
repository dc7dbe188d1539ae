package informer

import (
	"context"
	"sync"

	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// Handler is told about every change of the informer's cache. Its methods are
// called from one goroutine, in the order the changes happened, and should
// return quickly (enqueue a key, nothing more): a slow handler delays every
// other handler. The objects are the cache's own: never modify them.
type Handler[T kinds.Object] interface {
	// OnAdd reports an object that appeared (or, for a handler added after
	// the informer synced, one that was already there).
	OnAdd(obj T)
	// OnUpdate reports a change; on resync oldObj and newObj are the same
	// object.
	OnUpdate(oldObj, newObj T)
	// OnDelete reports an object that was deleted, or that vanished between
	// two lists; obj is its last known state.
	OnDelete(obj T)
}

// HandlerFuncs is a Handler made of optional functions; a nil field ignores
// that kind of change.
type HandlerFuncs[T kinds.Object] struct {
	AddFunc    func(obj T)
	UpdateFunc func(oldObj, newObj T)
	DeleteFunc func(obj T)
}

var _ Handler[kinds.Object] = HandlerFuncs[kinds.Object]{}

// OnAdd calls AddFunc if it is set.
func (f HandlerFuncs[T]) OnAdd(obj T) {
	if f.AddFunc != nil {
		f.AddFunc(obj)
	}
}

// OnUpdate calls UpdateFunc if it is set.
func (f HandlerFuncs[T]) OnUpdate(oldObj, newObj T) {
	if f.UpdateFunc != nil {
		f.UpdateFunc(oldObj, newObj)
	}
}

// OnDelete calls DeleteFunc if it is set.
func (f HandlerFuncs[T]) OnDelete(obj T) {
	if f.DeleteFunc != nil {
		f.DeleteFunc(obj)
	}
}

type noteKind int

const (
	noteAdd noteKind = iota
	noteUpdate
	noteDelete
	// noteRegister adds handler, after telling it about objs as adds.
	noteRegister
	// noteResync tells every handler about objs as updates to themselves.
	noteResync
)

type notification[T kinds.Object] struct {
	kind     noteKind
	old, obj T
	handler  Handler[T]
	objs     []T
}

// notifier is an unbounded FIFO of notifications drained by one goroutine.
// Notifications are pushed while the informer's lock is held, so their order
// is the order of the store's changes.
type notifier[T kinds.Object] struct {
	mu      sync.Mutex
	pending []notification[T]
	wake    chan struct{}
}

func newNotifier[T kinds.Object]() *notifier[T] {
	return &notifier[T]{wake: make(chan struct{}, 1)}
}

func (n *notifier[T]) push(note notification[T]) {
	n.mu.Lock()
	n.pending = append(n.pending, note)
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// run delivers notifications until ctx is done; it owns the handler list.
func (n *notifier[T]) run(ctx context.Context) {
	var handlers []Handler[T]
	for {
		n.mu.Lock()
		batch := n.pending
		n.pending = nil
		n.mu.Unlock()
		if len(batch) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-n.wake:
				continue
			}
		}
		for _, note := range batch {
			if ctx.Err() != nil {
				return
			}
			handlers = deliver(handlers, note)
		}
	}
}

func deliver[T kinds.Object](handlers []Handler[T], note notification[T]) []Handler[T] {
	switch note.kind {
	case noteAdd:
		for _, h := range handlers {
			h.OnAdd(note.obj)
		}
	case noteUpdate:
		for _, h := range handlers {
			h.OnUpdate(note.old, note.obj)
		}
	case noteDelete:
		for _, h := range handlers {
			h.OnDelete(note.obj)
		}
	case noteRegister:
		for _, obj := range note.objs {
			note.handler.OnAdd(obj)
		}
		handlers = append(handlers, note.handler)
	case noteResync:
		for _, obj := range note.objs {
			for _, h := range handlers {
				h.OnUpdate(obj, obj)
			}
		}
	}
	return handlers
}
