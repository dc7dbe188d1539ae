package gateway_test

import (
	"fmt"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/apigateway/gateway"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
)

// TestWatchResumesAcrossGatewayRestart: a client watching through one
// gateway resumes, after that gateway is gone, from its last resource
// version on a gateway that started later, and sees every change in order.
// The second gateway shares the first one's etcd, so this also checks that
// two gateways see each other's writes.
func TestWatchResumesAcrossGatewayRestart(t *testing.T) {
	primary := gatewaytest.Start(t)
	ctx := ctxT(t)
	mustCreateNamespace(t, primary, "resume")
	writes := client.For[*shoalv1.Pod](primary.Conn)

	second := gatewaytest.Start(t, gatewaytest.WithEtcd(primary.Gateway.EtcdEndpoint()))
	w, err := client.For[*shoalv1.Pod](second.Conn).Watch(ctx, client.WatchOptions{Namespace: "resume"})
	if err != nil {
		t.Fatal(err)
	}
	var want []string // "TYPE name rv" in write order
	record := func(typ shoalv1.WatchEventType, p *shoalv1.Pod) {
		want = append(want, fmt.Sprintf("%v %s %s", typ, p.GetMetadata().GetName(), p.GetMetadata().GetResourceVersion()))
	}
	var got []string
	last := ""
	for i := 0; i < 5; i++ {
		p, err := writes.Create(ctx, gatewaytest.Pod("resume", fmt.Sprintf("a-%d", i), nil))
		if err != nil {
			t.Fatal(err)
		}
		record(shoalv1.WatchEventType_WATCH_EVENT_TYPE_ADDED, p)
		ev := recvSkipBookmarks(t, w)
		got = append(got, fmt.Sprintf("%v %s %s", ev.Type, ev.Object.GetMetadata().GetName(), ev.Object.GetMetadata().GetResourceVersion()))
		last = ev.Object.GetMetadata().GetResourceVersion()
	}
	w.Close()
	second.Gateway.Close()

	// Changes while no gateway serves the watcher.
	for i := 0; i < 5; i++ {
		p, err := writes.Create(ctx, gatewaytest.Pod("resume", fmt.Sprintf("b-%d", i), nil))
		if err != nil {
			t.Fatal(err)
		}
		record(shoalv1.WatchEventType_WATCH_EVENT_TYPE_ADDED, p)
	}
	p, err := writes.Get(ctx, "resume", "a-0")
	if err != nil {
		t.Fatal(err)
	}
	p.Metadata.Labels = map[string]string{"changed": "yes"}
	if p, err = writes.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	record(shoalv1.WatchEventType_WATCH_EVENT_TYPE_MODIFIED, p)
	if p, err = writes.Delete(ctx, "resume", "a-1", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	record(shoalv1.WatchEventType_WATCH_EVENT_TYPE_DELETED, p)

	third := gatewaytest.Start(t, gatewaytest.WithEtcd(primary.Gateway.EtcdEndpoint()))
	w2, err := client.For[*shoalv1.Pod](third.Conn).Watch(ctx, client.WatchOptions{Namespace: "resume", ResourceVersion: last})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	for len(got) < len(want) {
		ev := recvSkipBookmarks(t, w2)
		got = append(got, fmt.Sprintf("%v %s %s", ev.Type, ev.Object.GetMetadata().GetName(), ev.Object.GetMetadata().GetResourceVersion()))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d: got %q, want %q\nall got: %v", i, got[i], want[i], got)
		}
	}
	// And new changes keep flowing after the replay from history.
	p, err = writes.Create(ctx, gatewaytest.Pod("resume", "c-0", nil))
	if err != nil {
		t.Fatal(err)
	}
	if ev := recvSkipBookmarks(t, w2); ev.Object.GetMetadata().GetResourceVersion() != p.GetMetadata().GetResourceVersion() {
		t.Fatalf("live event after replay: got rv %s want %s", ev.Object.GetMetadata().GetResourceVersion(), p.GetMetadata().GetResourceVersion())
	}
}

func TestCompactedResourceVersionIsOutOfRange(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.WithConfig(func(c *gateway.Config) { c.WatchCacheSize = 4 }))
	ctx := ctxT(t)
	mustCreateNamespace(t, env, "compact")
	pods := client.For[*shoalv1.Pod](env.Conn)
	first, err := pods.Create(ctx, gatewaytest.Pod("compact", "p-0", nil))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 20; i++ {
		if _, err := pods.Create(ctx, gatewaytest.Pod("compact", fmt.Sprintf("p-%d", i), nil)); err != nil {
			t.Fatal(err)
		}
	}
	page, err := pods.List(ctx, client.ListOptions{Namespace: "compact", PageSize: 5})
	if err != nil || page.NextPageToken == "" {
		t.Fatalf("first page: %v (token %q)", err, page)
	}
	// A change after the page's revision, then compaction past it.
	if _, err := pods.Create(ctx, gatewaytest.Pod("compact", "late", nil)); err != nil {
		t.Fatal(err)
	}
	head, err := env.Gateway.EtcdClient().Get(ctx, "/", clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Gateway.EtcdClient().Compact(ctx, head.Header.Revision); err != nil {
		t.Fatal(err)
	}
	// The ring (4 events) no longer holds what follows p-0, and etcd's
	// history is compacted: the watch must say OUT_OF_RANGE.
	w, err := pods.Watch(ctx, client.WatchOptions{Namespace: "compact", ResourceVersion: first.GetMetadata().GetResourceVersion()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Recv(); status.Code(err) != codes.OutOfRange {
		t.Fatalf("watch from a compacted revision: want OUT_OF_RANGE, got %v", err)
	}
	if _, err := pods.List(ctx, client.ListOptions{Namespace: "compact", PageSize: 5, PageToken: page.NextPageToken}); status.Code(err) != codes.OutOfRange {
		t.Fatalf("page token at a compacted revision: want OUT_OF_RANGE, got %v", err)
	}
}

// TestPaginationIsOneSnapshot pages through a list while other writers
// create, update and delete: the pages never repeat or skip an object and
// hold exactly the objects of the first page's revision.
func TestPaginationIsOneSnapshot(t *testing.T) {
	env := gatewaytest.Start(t)
	ctx := ctxT(t)
	mustCreateNamespace(t, env, "pages")
	pods := client.For[*shoalv1.Pod](env.Conn)
	for i := 0; i < 120; i++ {
		if _, err := pods.Create(ctx, gatewaytest.Pod("pages", fmt.Sprintf("p-%03d", i), map[string]string{"app": "web"})); err != nil {
			t.Fatal(err)
		}
	}
	first, err := pods.List(ctx, client.ListOptions{Namespace: "pages", PageSize: 17})
	if err != nil {
		t.Fatal(err)
	}
	snapshot := map[string]bool{}
	all, err := pods.List(ctx, client.ListOptions{Namespace: "pages", ResourceVersion: first.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	_ = all
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !stop.Load() && i < 200; i++ {
			_, _ = pods.Create(ctx, gatewaytest.Pod("pages", fmt.Sprintf("new-%03d", i), map[string]string{"app": "web"}))
			_, _ = pods.Delete(ctx, "pages", fmt.Sprintf("p-%03d", i%120), client.DeleteOptions{})
		}
	}()
	seen := map[string]int{}
	for _, p := range first.Items {
		seen[p.GetMetadata().GetName()]++
	}
	token := first.NextPageToken
	for token != "" {
		page, err := pods.List(ctx, client.ListOptions{Namespace: "pages", PageSize: 17, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		if page.ResourceVersion != first.ResourceVersion {
			t.Fatalf("page at revision %s, first page at %s", page.ResourceVersion, first.ResourceVersion)
		}
		for _, p := range page.Items {
			seen[p.GetMetadata().GetName()]++
		}
		token = page.NextPageToken
	}
	stop.Store(true)
	wg.Wait()
	for i := 0; i < 120; i++ {
		snapshot[fmt.Sprintf("p-%03d", i)] = true
	}
	var names []string
	for name, n := range seen {
		names = append(names, name)
		if n != 1 {
			t.Errorf("%s seen %d times", name, n)
		}
		if !snapshot[name] {
			t.Errorf("%s was not in the snapshot", name)
		}
	}
	sort.Strings(names)
	if len(seen) != 120 {
		t.Fatalf("paged list has %d objects, want the 120 of the snapshot: %v", len(seen), names)
	}
}

// TestWatchFiltersTransitions: an object that stops matching a watcher's
// selector is DELETED for that watcher; one that starts matching is ADDED.
func TestWatchFiltersTransitions(t *testing.T) {
	env := gatewaytest.Start(t)
	ctx := ctxT(t)
	mustCreateNamespace(t, env, "sel")
	pods := client.For[*shoalv1.Pod](env.Conn)
	w, err := pods.Watch(ctx, client.WatchOptions{Namespace: "sel", LabelSelector: "tier=front"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	p, err := pods.Create(ctx, gatewaytest.Pod("sel", "p", map[string]string{"tier": "back"}))
	if err != nil {
		t.Fatal(err)
	}
	p.Metadata.Labels["tier"] = "front"
	if p, err = pods.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	if ev := recvSkipBookmarks(t, w); ev.Type != shoalv1.WatchEventType_WATCH_EVENT_TYPE_ADDED {
		t.Fatalf("starting to match: want ADDED, got %v", ev.Type)
	}
	p.Metadata.Labels["tier"] = "back"
	if _, err = pods.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	if ev := recvSkipBookmarks(t, w); ev.Type != shoalv1.WatchEventType_WATCH_EVENT_TYPE_DELETED {
		t.Fatalf("stopping to match: want DELETED, got %v", ev.Type)
	}
}

// TestBookmarks: an idle watch that asked for bookmarks gets one carrying a
// revision it can resume from.
func TestBookmarks(t *testing.T) {
	env := gatewaytest.Start(t)
	ctx := ctxT(t)
	mustCreateNamespace(t, env, "bm")
	pods := client.For[*shoalv1.Pod](env.Conn)
	w, err := pods.Watch(ctx, client.WatchOptions{Namespace: "bm", AllowBookmarks: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// Writes elsewhere move the revision; the idle watcher learns of it.
	if _, err := client.For[*shoalv1.Node](env.Conn).Create(ctx, gatewaytest.Node("n1")); err != nil {
		t.Fatal(err)
	}
	head, err := env.Gateway.EtcdClient().Get(ctx, "/", clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	rv := int64(0)
	for rv < head.Header.Revision {
		ev := recv(t, w)
		if ev.Type != shoalv1.WatchEventType_WATCH_EVENT_TYPE_BOOKMARK {
			t.Fatalf("want only bookmarks on an idle watch, got %v", ev.Type)
		}
		if proto.Size(ev.Object.GetSpec()) != 0 {
			t.Fatal("a bookmark carries only a resource version")
		}
		rv, _ = strconv.ParseInt(ev.Object.GetMetadata().GetResourceVersion(), 10, 64)
	}
}
