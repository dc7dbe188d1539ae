package informer

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

type podEvent = client.Event[*shoalv1.Pod]

const (
	added    = shoalv1.WatchEventType_WATCH_EVENT_TYPE_ADDED
	modified = shoalv1.WatchEventType_WATCH_EVENT_TYPE_MODIFIED
	deleted  = shoalv1.WatchEventType_WATCH_EVENT_TYPE_DELETED
	bookmark = shoalv1.WatchEventType_WATCH_EVENT_TYPE_BOOKMARK
)

// fakeServer is an in-memory pod API with etcd-like revisions: every change
// bumps the revision and is kept in an event log that watches replay from
// any revision not yet compacted.
type fakeServer struct {
	mu        sync.Mutex
	rv        uint64
	objs      map[string]*shoalv1.Pod
	log       []podEvent
	compacted uint64 // watches from a revision below this are OUT_OF_RANGE
	changed   chan struct{}
	open      map[*fakeWatch]struct{}
	// watchErr, when set, fails every new Watch (a gateway that is down).
	watchErr error
	// held stops open watches from sending new events (a stalled stream).
	held bool
	// listErrs fail the next List calls, one each.
	listErrs []error

	listCalls  []client.ListOptions
	watchCalls chan client.WatchOptions
}

var _ ListerWatcher[*shoalv1.Pod] = (*fakeServer)(nil)

func newFakeServer() *fakeServer {
	return &fakeServer{
		objs:       map[string]*shoalv1.Pod{},
		changed:    make(chan struct{}),
		open:       map[*fakeWatch]struct{}{},
		watchCalls: make(chan client.WatchOptions, 1000),
	}
}

func pod(ns, name, node string) *shoalv1.Pod {
	return &shoalv1.Pod{
		Metadata: &shoalv1.ObjectMeta{Namespace: ns, Name: name},
		Spec:     &shoalv1.PodSpec{NodeName: node},
	}
}

// notifyLocked wakes every blocked Recv.
func (s *fakeServer) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *fakeServer) appendLocked(typ shoalv1.WatchEventType, p *shoalv1.Pod) {
	s.log = append(s.log, podEvent{Type: typ, Object: proto.Clone(p).(*shoalv1.Pod)})
	s.notifyLocked()
}

// put creates or replaces a pod and returns its new revision.
func (s *fakeServer) put(p *shoalv1.Pod) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rv++
	p = proto.Clone(p).(*shoalv1.Pod)
	p.Metadata.ResourceVersion = strconv.FormatUint(s.rv, 10)
	key := kinds.Key(p)
	typ := modified
	if _, ok := s.objs[key]; !ok {
		typ = added
	}
	s.objs[key] = p
	s.appendLocked(typ, p)
	return p.Metadata.ResourceVersion
}

// del deletes a pod; the event carries its last state at the delete's
// revision.
func (s *fakeServer) del(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.objs[key]
	if !ok {
		panic("fake: deleting missing " + key)
	}
	s.rv++
	delete(s.objs, key)
	p = proto.Clone(p).(*shoalv1.Pod)
	p.Metadata.ResourceVersion = strconv.FormatUint(s.rv, 10)
	s.appendLocked(deleted, p)
	return p.Metadata.ResourceVersion
}

// skip advances the revision by n without events this watcher sees (changes
// to objects outside its selection) and returns the new revision.
func (s *fakeServer) skip(n uint64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rv += n
	return strconv.FormatUint(s.rv, 10)
}

// sendBookmark streams a BOOKMARK at the current revision.
func (s *fakeServer) sendBookmark() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appendLocked(bookmark, &shoalv1.Pod{Metadata: &shoalv1.ObjectMeta{ResourceVersion: strconv.FormatUint(s.rv, 10)}})
}

// inject streams a raw event (e.g. a stale replay) without changing state.
func (s *fakeServer) inject(ev podEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, ev)
	s.notifyLocked()
}

// compact forgets history: watches from before now are OUT_OF_RANGE.
func (s *fakeServer) compact() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.compacted = s.rv
}

// breakWatches makes every open watch fail with err on its next Recv.
func (s *fakeServer) breakWatches(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for w := range s.open {
		w.err = err
	}
	s.notifyLocked()
}

func (s *fakeServer) setWatchErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watchErr = err
}

// hold stalls every watch stream until release.
func (s *fakeServer) hold() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held = true
}

func (s *fakeServer) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held = false
	s.notifyLocked()
}

func (s *fakeServer) openWatches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.open)
}

func (s *fakeServer) lists() []client.ListOptions {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.listCalls)
}

// List serves pages in key order; the page token is the offset.
func (s *fakeServer) List(ctx context.Context, o client.ListOptions, _ ...grpc.CallOption) (*client.ListResult[*shoalv1.Pod], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listCalls = append(s.listCalls, o)
	if len(s.listErrs) > 0 {
		err := s.listErrs[0]
		s.listErrs = s.listErrs[1:]
		return nil, err
	}
	keys := make([]string, 0, len(s.objs))
	for k := range s.objs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	start := 0
	if o.PageToken != "" {
		var err error
		if start, err = strconv.Atoi(o.PageToken); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "bad page token %q", o.PageToken)
		}
	}
	end := len(keys)
	if o.PageSize > 0 {
		end = min(start+int(o.PageSize), len(keys))
	}
	res := &client.ListResult[*shoalv1.Pod]{ResourceVersion: strconv.FormatUint(s.rv, 10)}
	for _, k := range keys[start:end] {
		res.Items = append(res.Items, proto.Clone(s.objs[k]).(*shoalv1.Pod))
	}
	if end < len(keys) {
		res.NextPageToken = strconv.Itoa(end)
	}
	return res, nil
}

// Watch streams the log after o.ResourceVersion.
func (s *fakeServer) Watch(ctx context.Context, o client.WatchOptions, _ ...grpc.CallOption) (client.Watch[*shoalv1.Pod], error) {
	s.watchCalls <- o
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.watchErr != nil {
		return nil, s.watchErr
	}
	from, err := strconv.ParseUint(o.ResourceVersion, 10, 64)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "fake: watch needs a resource version, got %q", o.ResourceVersion)
	}
	if from < s.compacted {
		return nil, status.Errorf(codes.OutOfRange, "resource version %d compacted (now %d)", from, s.compacted)
	}
	pos := len(s.log)
	for i, ev := range s.log {
		if rv, _ := strconv.ParseUint(ev.Object.GetMetadata().GetResourceVersion(), 10, 64); rv > from {
			pos = i
			break
		}
	}
	w := &fakeWatch{srv: s, ctx: ctx, pos: pos, closed: make(chan struct{})}
	s.open[w] = struct{}{}
	return w, nil
}

type fakeWatch struct {
	srv       *fakeServer
	ctx       context.Context
	pos       int
	err       error
	closed    chan struct{}
	closeOnce sync.Once
}

func (w *fakeWatch) Recv() (podEvent, error) {
	for {
		w.srv.mu.Lock()
		if w.err != nil {
			err := w.err
			w.srv.mu.Unlock()
			return podEvent{}, err
		}
		if !w.srv.held && w.pos < len(w.srv.log) {
			ev := w.srv.log[w.pos]
			w.pos++
			w.srv.mu.Unlock()
			return podEvent{Type: ev.Type, Object: proto.Clone(ev.Object).(*shoalv1.Pod)}, nil
		}
		changed := w.srv.changed
		w.srv.mu.Unlock()
		select {
		case <-w.ctx.Done():
			return podEvent{}, status.FromContextError(w.ctx.Err()).Err()
		case <-w.closed:
			return podEvent{}, status.Error(codes.Canceled, "watch closed")
		case <-changed:
		}
	}
}

func (w *fakeWatch) Close() {
	w.closeOnce.Do(func() {
		close(w.closed)
		w.srv.mu.Lock()
		delete(w.srv.open, w)
		w.srv.mu.Unlock()
	})
}

// recorder is a Handler that reports every call as a line on a channel.
type recorder struct {
	ch chan string
}

func newRecorder() *recorder { return &recorder{ch: make(chan string, 10000)} }

var _ Handler[*shoalv1.Pod] = (*recorder)(nil)

func (r *recorder) OnAdd(p *shoalv1.Pod) {
	r.ch <- fmt.Sprintf("add %s@%s", kinds.Key(p), p.GetMetadata().GetResourceVersion())
}

func (r *recorder) OnUpdate(old, p *shoalv1.Pod) {
	r.ch <- fmt.Sprintf("update %s@%s->%s", kinds.Key(p), old.GetMetadata().GetResourceVersion(), p.GetMetadata().GetResourceVersion())
}

func (r *recorder) OnDelete(p *shoalv1.Pod) {
	r.ch <- fmt.Sprintf("delete %s@%s", kinds.Key(p), p.GetMetadata().GetResourceVersion())
}
