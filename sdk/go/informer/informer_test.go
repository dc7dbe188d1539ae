package informer

import (
	"context"
	"errors"
	"io"
	"runtime"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
)

const timeout = 10 * time.Second

var (
	errUnavailable = status.Error(codes.Unavailable, "gateway restarting")
	errGone        = status.Error(codes.OutOfRange, "resource version compacted")
)

type podInformer = Informer[*shoalv1.Pod]

// start runs an informer over srv with a recorder added before Run, waits
// for it to sync, and stops it (checking that Run returns) at cleanup.
func start(t *testing.T, srv *fakeServer, opts ...Option) (*podInformer, *recorder) {
	t.Helper()
	opts = append([]Option{WithBackoff(time.Millisecond, 5*time.Millisecond)}, opts...)
	inf := New[*shoalv1.Pod](srv, opts...)
	rec := newRecorder()
	inf.AddEventHandler(rec)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- inf.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v, want nil", err)
			}
		case <-time.After(timeout):
			t.Error("Run did not return after cancel")
		}
	})
	syncCtx, cancelSync := context.WithTimeout(context.Background(), timeout)
	defer cancelSync()
	if !inf.WaitForSync(syncCtx) {
		t.Fatal("informer did not sync")
	}
	return inf, rec
}

// expect reads the next handler calls and wants exactly these, in order.
func expect(t *testing.T, rec *recorder, want ...string) {
	t.Helper()
	for i, w := range want {
		select {
		case got := <-rec.ch:
			if got != w {
				t.Fatalf("handler call %d = %q, want %q", i, got, w)
			}
		case <-time.After(timeout):
			t.Fatalf("timed out waiting for handler call %d %q", i, w)
		}
	}
}

// expectSet reads len(want) handler calls and wants these in any order.
func expectSet(t *testing.T, rec *recorder, want ...string) {
	t.Helper()
	var got []string
	for range want {
		select {
		case g := <-rec.ch:
			got = append(got, g)
		case <-time.After(timeout):
			t.Fatalf("timed out: got %q, want %q", got, want)
		}
	}
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Fatalf("handler calls = %q, want %q", got, want)
	}
}

// eventually waits for cond (a state, not a sleep) or fails.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// watchRVs drains the resource versions of the Watch calls made so far.
func watchRVs(srv *fakeServer) []string {
	var rvs []string
	for {
		select {
		case o := <-srv.watchCalls:
			rvs = append(rvs, o.ResourceVersion)
		default:
			return rvs
		}
	}
}

func TestInitialSyncDeliversAdds(t *testing.T) {
	srv := newFakeServer()
	srv.put(pod("default", "a", "n1"))
	srv.put(pod("default", "b", "n1"))
	srv.put(pod("kube", "c", "n2"))

	inf, rec := start(t, srv)
	expectSet(t, rec, "add default/a@1", "add default/b@2", "add kube/c@3")

	if !inf.HasSynced() {
		t.Error("HasSynced = false after WaitForSync")
	}
	if got := inf.LastSyncResourceVersion(); got != "3" {
		t.Errorf("LastSyncResourceVersion = %q, want 3", got)
	}
	if got := slices.Sorted(slices.Values(inf.Keys())); !slices.Equal(got, []string{"default/a", "default/b", "kube/c"}) {
		t.Errorf("Keys = %q", got)
	}
	if p, ok := inf.Get("kube/c"); !ok || p.GetSpec().GetNodeName() != "n2" {
		t.Errorf("Get(kube/c) = %v, %v", p, ok)
	}
	if _, ok := inf.Get("default/zz"); ok {
		t.Error("Get of a missing key found something")
	}
	if n := len(inf.List()); n != 3 {
		t.Errorf("List has %d objects, want 3", n)
	}
}

func TestWatchEventsApplyInOrder(t *testing.T) {
	srv := newFakeServer()
	srv.put(pod("default", "a", "n1"))
	inf, rec := start(t, srv)
	expect(t, rec, "add default/a@1")

	srv.put(pod("default", "b", "n1"))
	srv.put(pod("default", "a", "n2"))
	srv.del("default/b")
	srv.put(pod("default", "c", "n1"))
	expect(t, rec,
		"add default/b@2",
		"update default/a@1->3",
		"delete default/b@4",
		"add default/c@5",
	)

	if p, _ := inf.Get("default/a"); p.GetSpec().GetNodeName() != "n2" {
		t.Errorf("default/a on %q, want n2", p.GetSpec().GetNodeName())
	}
	if _, ok := inf.Get("default/b"); ok {
		t.Error("deleted default/b still cached")
	}
	if got := inf.LastSyncResourceVersion(); got != "5" {
		t.Errorf("LastSyncResourceVersion = %q, want 5", got)
	}
}

func TestWatchEndResumesFromLastRV(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{name: "stream error", err: errUnavailable},
		{name: "clean end of stream", err: io.EOF},
		{name: "cancelled by server", err: status.Error(codes.Canceled, "server shutting down")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFakeServer()
			srv.put(pod("default", "a", "n1"))
			_, rec := start(t, srv)
			expect(t, rec, "add default/a@1")
			srv.put(pod("default", "b", "n1"))
			expect(t, rec, "add default/b@2")

			// The stream fails before it sends c and d: the next watch must
			// start after b, so c and d arrive once each and nothing twice.
			srv.breakWatches(tc.err)
			srv.put(pod("default", "c", "n1"))
			srv.put(pod("default", "b", "n2"))
			expect(t, rec, "add default/c@3", "update default/b@2->4")
			srv.put(pod("default", "marker", "n1"))
			expect(t, rec, "add default/marker@5")

			if got := watchRVs(srv); !slices.Equal(got, []string{"1", "2"}) {
				t.Errorf("watched from %q, want [1 2]", got)
			}
			if n := len(srv.lists()); n != 1 {
				t.Errorf("listed %d times, want 1 (no relist)", n)
			}
		})
	}
}

func TestWatchRetriesWhileGatewayDown(t *testing.T) {
	srv := newFakeServer()
	srv.put(pod("default", "a", "n1"))
	inf, rec := start(t, srv)
	expect(t, rec, "add default/a@1")

	srv.setWatchErr(errUnavailable)
	srv.breakWatches(errUnavailable)
	srv.put(pod("default", "b", "n1"))
	// Several failed watches, all from the last version seen.
	eventually(t, "failed re-watches", func() bool { return len(srv.watchCalls) >= 3 })
	srv.setWatchErr(nil)
	expect(t, rec, "add default/b@2")

	for _, rv := range watchRVs(srv) {
		if rv != "1" && rv != "2" {
			t.Errorf("watched from %q, want 1 until b was seen", rv)
		}
	}
	if got := inf.LastSyncResourceVersion(); got != "2" {
		t.Errorf("LastSyncResourceVersion = %q, want 2", got)
	}
}

func TestCompactionRelistsAndDiffs(t *testing.T) {
	tests := []struct {
		name string
		// lose makes the informer's watch fail so it sees OUT_OF_RANGE.
		lose func(srv *fakeServer)
	}{
		{name: "gone when re-watching", lose: func(srv *fakeServer) {
			srv.compact()
			srv.breakWatches(errUnavailable)
		}},
		{name: "gone mid-stream", lose: func(srv *fakeServer) {
			srv.breakWatches(errGone)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFakeServer()
			srv.put(pod("default", "a", "n1"))
			srv.put(pod("default", "b", "n1"))
			srv.put(pod("default", "c", "n1"))
			inf, rec := start(t, srv)
			expectSet(t, rec, "add default/a@1", "add default/b@2", "add default/c@3")

			// Changes the informer never sees on its watch.
			srv.hold()
			srv.del("default/a")
			srv.put(pod("default", "b", "n2"))
			srv.put(pod("default", "d", "n1"))
			tc.lose(srv)

			// The relist (in key order) updates b, keeps c quiet, adds d,
			// then deletes the vanished a with its last known state.
			expect(t, rec, "update default/b@2->5", "add default/d@6", "delete default/a@1")
			srv.release()
			srv.put(pod("default", "e", "n1"))
			expect(t, rec, "add default/e@7")

			if got := slices.Sorted(slices.Values(inf.Keys())); !slices.Equal(got, []string{"default/b", "default/c", "default/d", "default/e"}) {
				t.Errorf("Keys after relist = %q", got)
			}
			if n := len(srv.lists()); n != 2 {
				t.Errorf("listed %d times, want 2", n)
			}
			rvs := watchRVs(srv)
			if len(rvs) == 0 || rvs[len(rvs)-1] != "6" {
				t.Errorf("watched from %q, want the last watch from the relist's 6", rvs)
			}
		})
	}
}

func TestBookmarkAdvancesResourceVersion(t *testing.T) {
	srv := newFakeServer()
	srv.put(pod("default", "a", "n1"))
	inf, rec := start(t, srv)
	expect(t, rec, "add default/a@1")

	want := srv.skip(10)
	srv.sendBookmark()
	eventually(t, "the bookmark", func() bool { return inf.LastSyncResourceVersion() == want })

	srv.breakWatches(errUnavailable)
	srv.put(pod("default", "b", "n1"))
	// The bookmark reached no handler: b is the next call.
	expect(t, rec, "add default/b@12")
	if got := watchRVs(srv); !slices.Equal(got, []string{"1", want}) {
		t.Errorf("watched from %q, want [1 %s]", got, want)
	}
}

func TestStaleReplayIgnored(t *testing.T) {
	srv := newFakeServer()
	srv.put(pod("default", "a", "n1"))
	inf, rec := start(t, srv)
	expect(t, rec, "add default/a@1")
	srv.put(pod("default", "a", "n2"))
	expect(t, rec, "update default/a@1->2")

	stale := pod("default", "a", "n1")
	stale.Metadata.ResourceVersion = "1"
	srv.inject(podEvent{Type: modified, Object: stale})
	srv.inject(podEvent{Type: deleted, Object: stale})
	srv.put(pod("default", "b", "n1"))
	expect(t, rec, "add default/b@3")

	if p, _ := inf.Get("default/a"); p.GetSpec().GetNodeName() != "n2" {
		t.Errorf("default/a went back to %q", p.GetSpec().GetNodeName())
	}
	if got := inf.LastSyncResourceVersion(); got != "3" {
		t.Errorf("LastSyncResourceVersion = %q, want 3", got)
	}
}

func TestIndexesFollowChanges(t *testing.T) {
	byNode := func(p *shoalv1.Pod) []string {
		if n := p.GetSpec().GetNodeName(); n != "" {
			return []string{n}
		}
		return nil
	}
	srv := newFakeServer()
	inf, rec := start(t, srv, WithIndex("node", byNode))

	steps := []struct {
		name    string
		do      func()
		event   string
		byNode  map[string][]string
		inNs    map[string][]string
		noIndex bool
	}{
		{
			name: "add", do: func() { srv.put(pod("ns1", "a", "n1")) }, event: "add ns1/a@1",
			byNode: map[string][]string{"n1": {"ns1/a"}, "n2": nil},
			inNs:   map[string][]string{"ns1": {"ns1/a"}, "ns2": nil},
		},
		{
			name: "add same node", do: func() { srv.put(pod("ns1", "b", "n1")) }, event: "add ns1/b@2",
			byNode: map[string][]string{"n1": {"ns1/a", "ns1/b"}, "n2": nil},
			inNs:   map[string][]string{"ns1": {"ns1/a", "ns1/b"}},
		},
		{
			name: "add other namespace", do: func() { srv.put(pod("ns2", "c", "n2")) }, event: "add ns2/c@3",
			byNode: map[string][]string{"n1": {"ns1/a", "ns1/b"}, "n2": {"ns2/c"}},
			inNs:   map[string][]string{"ns1": {"ns1/a", "ns1/b"}, "ns2": {"ns2/c"}, "": {"ns1/a", "ns1/b", "ns2/c"}},
		},
		{
			name: "move node", do: func() { srv.put(pod("ns1", "a", "n2")) }, event: "update ns1/a@1->4",
			byNode: map[string][]string{"n1": {"ns1/b"}, "n2": {"ns1/a", "ns2/c"}},
		},
		{
			name: "unschedule", do: func() { srv.put(pod("ns2", "c", "")) }, event: "update ns2/c@3->5",
			byNode: map[string][]string{"n1": {"ns1/b"}, "n2": {"ns1/a"}, "": nil},
		},
		{
			name: "delete", do: func() { srv.del("ns1/b") }, event: "delete ns1/b@6",
			byNode: map[string][]string{"n1": nil, "n2": {"ns1/a"}},
			inNs:   map[string][]string{"ns1": {"ns1/a"}, "ns2": {"ns2/c"}},
		},
	}
	keysOf := func(pods []*shoalv1.Pod) []string {
		var keys []string
		for _, p := range pods {
			keys = append(keys, p.GetMetadata().GetNamespace()+"/"+p.GetMetadata().GetName())
		}
		slices.Sort(keys)
		return keys
	}
	for _, s := range steps {
		s.do()
		expect(t, rec, s.event)
		for node, want := range s.byNode {
			if got := keysOf(inf.ByIndex("node", node)); !slices.Equal(got, want) {
				t.Errorf("%s: ByIndex(node, %q) = %q, want %q", s.name, node, got, want)
			}
		}
		for ns, want := range s.inNs {
			if got := keysOf(inf.ListNamespace(ns)); !slices.Equal(got, want) {
				t.Errorf("%s: ListNamespace(%q) = %q, want %q", s.name, ns, got, want)
			}
		}
	}
	if got := inf.ByIndex("no-such-index", "x"); got != nil {
		t.Errorf("ByIndex of an unknown index = %v, want nil", got)
	}
}

func TestHandlerAddedAfterSync(t *testing.T) {
	srv := newFakeServer()
	srv.put(pod("default", "a", "n1"))
	srv.put(pod("default", "b", "n1"))
	inf, rec := start(t, srv)
	expectSet(t, rec, "add default/a@1", "add default/b@2")

	late := newRecorder()
	inf.AddEventHandler(late)
	expectSet(t, late, "add default/a@1", "add default/b@2")

	srv.put(pod("default", "c", "n1"))
	expect(t, rec, "add default/c@3")
	expect(t, late, "add default/c@3")

	funcs := make(chan string, 10)
	inf.AddEventHandler(HandlerFuncs[*shoalv1.Pod]{
		DeleteFunc: func(p *shoalv1.Pod) { funcs <- "delete " + p.GetMetadata().GetName() },
	})
	srv.del("default/a")
	expect(t, late, "delete default/a@4")
	select {
	case got := <-funcs:
		if got != "delete a" {
			t.Errorf("HandlerFuncs got %q, want delete a", got)
		}
	case <-time.After(timeout):
		t.Fatal("HandlerFuncs.DeleteFunc not called")
	}
}

func TestResyncRedeliversUpdates(t *testing.T) {
	srv := newFakeServer()
	srv.put(pod("default", "a", "n1"))
	_, rec := start(t, srv, WithResyncPeriod(5*time.Millisecond))
	expect(t, rec, "add default/a@1")
	expect(t, rec, "update default/a@1->1")
}

func TestListPagesAndSelectors(t *testing.T) {
	srv := newFakeServer()
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		srv.put(pod("ns", name, "n1"))
	}
	inf, rec := start(t, srv,
		WithPageSize(2),
		WithNamespace("ns"),
		WithLabelSelector("app=web"),
		WithFieldSelector("spec.node_name=n1"),
	)
	expectSet(t, rec, "add ns/a@1", "add ns/b@2", "add ns/c@3", "add ns/d@4", "add ns/e@5")

	base := client.ListOptions{Namespace: "ns", LabelSelector: "app=web", FieldSelector: "spec.node_name=n1", PageSize: 2}
	var want []client.ListOptions
	for _, tok := range []string{"", "2", "4"} {
		o := base
		o.PageToken = tok
		want = append(want, o)
	}
	if got := srv.lists(); !slices.Equal(got, want) {
		t.Errorf("List calls = %+v, want %+v", got, want)
	}
	if got := inf.LastSyncResourceVersion(); got != "5" {
		t.Errorf("LastSyncResourceVersion = %q, want 5", got)
	}
	select {
	case got := <-srv.watchCalls:
		want := client.WatchOptions{Namespace: "ns", LabelSelector: "app=web", FieldSelector: "spec.node_name=n1", ResourceVersion: "5", AllowBookmarks: true}
		if got != want {
			t.Errorf("Watch call = %+v, want %+v", got, want)
		}
	case <-time.After(timeout):
		t.Fatal("no Watch call")
	}
}

func TestListErrorsRetried(t *testing.T) {
	srv := newFakeServer()
	srv.put(pod("default", "a", "n1"))
	srv.listErrs = []error{errUnavailable, errGone}
	_, rec := start(t, srv)
	expect(t, rec, "add default/a@1")
	if n := len(srv.lists()); n != 3 {
		t.Errorf("listed %d times, want 3", n)
	}
}

func TestWaitForSyncGivesUp(t *testing.T) {
	inf := New[*shoalv1.Pod](newFakeServer())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if inf.WaitForSync(ctx) {
		t.Error("WaitForSync = true for an informer that never ran")
	}
	if inf.HasSynced() {
		t.Error("HasSynced = true before Run")
	}
}

func TestRunStopsWithoutLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	srv := newFakeServer()
	srv.put(pod("default", "a", "n1"))
	inf := New[*shoalv1.Pod](srv, WithResyncPeriod(time.Hour), WithBackoff(time.Millisecond, 5*time.Millisecond))
	rec := newRecorder()
	inf.AddEventHandler(rec)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- inf.Run(ctx) }()
	expect(t, rec, "add default/a@1")
	eventually(t, "the watch to open", func() bool { return srv.openWatches() == 1 })

	if err := inf.Run(ctx); !errors.Is(err, ErrAlreadyStarted) {
		t.Errorf("second Run = %v, want ErrAlreadyStarted", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(timeout):
		t.Fatal("Run did not return after cancel")
	}
	if n := srv.openWatches(); n != 0 {
		t.Errorf("%d watches left open", n)
	}
	eventually(t, "goroutines to exit", func() bool { return runtime.NumGoroutine() <= before })
}

func TestNewPanicsOnBadIndex(t *testing.T) {
	podIndex := func(*shoalv1.Pod) []string { return nil }
	tests := []struct {
		name string
		opts []Option
	}{
		{name: "index of another type", opts: []Option{WithIndex("node", func(*shoalv1.Node) []string { return nil })}},
		{name: "duplicate name", opts: []Option{WithIndex("x", podIndex), WithIndex("x", podIndex)}},
		{name: "built-in name", opts: []Option{WithIndex(NamespaceIndex, podIndex)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("New did not panic")
				}
			}()
			New[*shoalv1.Pod](newFakeServer(), tc.opts...)
		})
	}
}
