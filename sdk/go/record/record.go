// Package record writes Events about objects, as client-go's EventRecorder
// does: a repeated event (same object, type, reason and message) bumps the
// count of the existing Event instead of creating another. Recording is
// best-effort and never blocks the caller: events go through a bounded
// queue and are dropped (and counted) when it is full.
package record

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// Recorder records events for one component.
type Recorder struct {
	events    *client.Resource[*shoalv1.Event]
	component string
	host      string
	log       *slog.Logger
	queue     chan *shoalv1.Event
	dropped   atomic.Int64
	now       func() time.Time

	mu   sync.Mutex
	seen map[string]*shoalv1.Event // last stored event per name
}

// New returns a recorder; Run delivers its events.
func New(conn grpc.ClientConnInterface, component, host string, log *slog.Logger) *Recorder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Recorder{
		events: client.For[*shoalv1.Event](conn), component: component, host: host, log: log,
		queue: make(chan *shoalv1.Event, 1000), now: time.Now, seen: map[string]*shoalv1.Event{},
	}
}

// Dropped counts events lost to a full queue.
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

// Event records that something happened to obj.
func (r *Recorder) Event(obj kinds.Object, typ shoalv1.EventType, reason, message string) {
	k, err := kinds.Of(obj)
	if err != nil {
		return
	}
	m := obj.GetMetadata()
	ns := m.GetNamespace()
	if ns == "" {
		ns = "default" // events about cluster-scoped objects, as in Kubernetes
	}
	sum := sha256.Sum256([]byte(k.Name + "/" + m.GetNamespace() + "/" + m.GetName() + "/" + m.GetUid() + "/" + typ.String() + "/" + reason + "/" + message))
	now := timestamppb.New(r.now())
	ev := &shoalv1.Event{
		Metadata: &shoalv1.ObjectMeta{Namespace: ns, Name: m.GetName() + "." + hex.EncodeToString(sum[:6])},
		Spec: &shoalv1.EventSpec{
			InvolvedObject: &shoalv1.ObjectReference{Kind: k.Name, Namespace: m.GetNamespace(), Name: m.GetName(), Uid: m.GetUid(), ResourceVersion: m.GetResourceVersion()},
			Reason:         reason, Message: message, Type: typ, Count: 1,
			Source:         &shoalv1.EventSource{Component: r.component, Host: r.host},
			FirstTimestamp: now, LastTimestamp: now,
		},
	}
	select {
	case r.queue <- ev:
	default:
		r.dropped.Add(1)
	}
}

// Run writes queued events until ctx ends.
func (r *Recorder) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-r.queue:
			r.write(ctx, ev)
		}
	}
}

func (r *Recorder) write(ctx context.Context, ev *shoalv1.Event) {
	name := ev.GetMetadata().GetNamespace() + "/" + ev.GetMetadata().GetName()
	r.mu.Lock()
	prev := r.seen[name]
	r.mu.Unlock()
	var (
		stored *shoalv1.Event
		err    error
	)
	if prev == nil {
		stored, err = r.events.Create(ctx, ev)
		if client.IsAlreadyExists(err) {
			prev, err = r.events.Get(ctx, ev.GetMetadata().GetNamespace(), ev.GetMetadata().GetName())
		}
	}
	if prev != nil && err == nil {
		next := &shoalv1.Event{Metadata: prev.GetMetadata(), Spec: prev.GetSpec()}
		next.Spec.Count++
		next.Spec.LastTimestamp = ev.GetSpec().GetLastTimestamp()
		next.Metadata.ResourceVersion = "" // last writer wins: counts are best-effort
		stored, err = r.events.Update(ctx, next)
		if client.IsNotFound(err) {
			stored, err = r.events.Create(ctx, ev)
		}
	}
	if err != nil {
		r.log.Warn("recording event failed", "event", name, "reason", ev.GetSpec().GetReason(), "err", err)
		r.mu.Lock()
		delete(r.seen, name)
		r.mu.Unlock()
		return
	}
	r.mu.Lock()
	r.seen[name] = stored
	if len(r.seen) > 4096 { // bound the memory of a long-running component
		r.seen = map[string]*shoalv1.Event{name: stored}
	}
	r.mu.Unlock()
}
