package gateway_test

import (
	"context"
	"io"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustCreateNamespace(t *testing.T, env *gatewaytest.Env, name string) {
	t.Helper()
	if _, err := client.For[*shoalv1.Namespace](env.Conn).Create(ctxT(t), gatewaytest.Namespace(name)); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
}

// recv reads the next watch event or fails after a timeout.
func recv[T kinds.Object](t *testing.T, w client.Watch[T]) client.Event[T] {
	t.Helper()
	type result struct {
		ev  client.Event[T]
		err error
	}
	ch := make(chan result, 1)
	go func() {
		ev, err := w.Recv()
		ch <- result{ev, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("watch: %v", r.err)
		}
		return r.ev
	case <-time.After(20 * time.Second):
		t.Fatal("no watch event within 20s")
	}
	panic("unreachable")
}

// recvSkipBookmarks reads the next non-bookmark event.
func recvSkipBookmarks[T kinds.Object](t *testing.T, w client.Watch[T]) client.Event[T] {
	t.Helper()
	for {
		ev := recv(t, w)
		if ev.Type != shoalv1.WatchEventType_WATCH_EVENT_TYPE_BOOKMARK {
			return ev
		}
	}
}

// allVerbs runs every verb against one kind through the generic client.
func allVerbs[T kinds.Object](t *testing.T, env *gatewaytest.Env, ns string) {
	res := client.For[T](env.Conn)
	kind := res.Kind()
	ctx := ctxT(t)
	name := "obj-" + kind.Resource
	if !kind.Namespaced {
		ns = ""
	}
	w, err := res.Watch(ctx, client.WatchOptions{Namespace: ns, LabelSelector: "app=web", FieldSelector: "metadata.name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	created, err := res.Create(ctx, gatewaytest.Object(kind.Name, ns, name).(T))
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	m := created.GetMetadata()
	if m.GetUid() == "" || m.GetResourceVersion() == "" || m.GetCreationTimestamp() == nil || m.GetGeneration() != 1 {
		t.Fatalf("server fields not set on create: %v", m)
	}
	if ev := recvSkipBookmarks(t, w); ev.Type != shoalv1.WatchEventType_WATCH_EVENT_TYPE_ADDED || ev.Object.GetMetadata().GetUid() != m.GetUid() {
		t.Fatalf("watch: want ADDED of the new object, got %v", ev.Type)
	}
	if _, err := res.Create(ctx, gatewaytest.Object(kind.Name, ns, name).(T)); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("second create: want ALREADY_EXISTS, got %v", err)
	}

	got, err := res.Get(ctx, ns, name)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if !proto.Equal(got, created) {
		t.Fatalf("get differs from create:\n%v\n%v", got, created)
	}

	list, err := res.List(ctx, client.ListOptions{Namespace: ns, LabelSelector: "app=web"})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	found := false
	for _, item := range list.Items {
		found = found || item.GetMetadata().GetName() == name
	}
	if !found || list.ResourceVersion == "" {
		t.Fatalf("list misses the object or its revision: %d items, rv %q", len(list.Items), list.ResourceVersion)
	}

	upd := proto.Clone(got).(T)
	kinds.Meta(upd).Annotations = map[string]string{"note": "updated"}
	updated, err := res.Update(ctx, upd)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if updated.GetMetadata().GetAnnotations()["note"] != "updated" || updated.GetMetadata().GetGeneration() != 1 {
		t.Fatalf("metadata-only update: annotations %v generation %d", updated.GetMetadata().GetAnnotations(), updated.GetMetadata().GetGeneration())
	}
	if ev := recvSkipBookmarks(t, w); ev.Type != shoalv1.WatchEventType_WATCH_EVENT_TYPE_MODIFIED || ev.Object.GetMetadata().GetResourceVersion() != updated.GetMetadata().GetResourceVersion() {
		t.Fatalf("watch: want MODIFIED at %s, got %v", updated.GetMetadata().GetResourceVersion(), ev.Type)
	}

	// A stale resource version loses.
	if _, err := res.Update(ctx, upd); status.Code(err) != codes.Aborted {
		t.Fatalf("stale update: want ABORTED, got %v", err)
	}

	st, err := res.UpdateStatus(ctx, updated)
	if err != nil {
		t.Fatalf("update status: %v", err)
	}
	_ = st

	deleted, err := res.Delete(ctx, ns, name, client.DeleteOptions{})
	if err != nil {
		t.Fatalf("delete: %v", err)
	}
	if kind.Name == "Namespace" {
		// A namespace lingers, Terminating, until its controller empties it.
		nsObj := any(deleted).(*shoalv1.Namespace)
		if nsObj.GetStatus().GetPhase() != shoalv1.NamespacePhase_NAMESPACE_PHASE_TERMINATING || nsObj.GetMetadata().GetDeletionTimestamp() == nil {
			t.Fatalf("deleted namespace: want Terminating with a deletion timestamp, got %v", nsObj)
		}
		return
	}
	if _, err := res.Get(ctx, ns, name); status.Code(err) != codes.NotFound {
		t.Fatalf("get after delete: want NOT_FOUND, got %v", err)
	}
	for {
		ev := recvSkipBookmarks(t, w)
		if ev.Type == shoalv1.WatchEventType_WATCH_EVENT_TYPE_DELETED {
			if ev.Object.GetMetadata().GetName() != name {
				t.Fatalf("deleted event for %q", ev.Object.GetMetadata().GetName())
			}
			break
		}
		if ev.Type != shoalv1.WatchEventType_WATCH_EVENT_TYPE_MODIFIED {
			t.Fatalf("want MODIFIED or DELETED, got %v", ev.Type)
		}
	}
	if _, err := res.Delete(ctx, ns, name, client.DeleteOptions{}); status.Code(err) != codes.NotFound {
		t.Fatalf("second delete: want NOT_FOUND, got %v", err)
	}
}

func TestEveryVerbForEveryKind(t *testing.T) {
	env := gatewaytest.Start(t)
	mustCreateNamespace(t, env, "verbs")
	t.Run("Namespace", func(t *testing.T) { allVerbs[*shoalv1.Namespace](t, env, "") })
	t.Run("Node", func(t *testing.T) { allVerbs[*shoalv1.Node](t, env, "") })
	t.Run("Pod", func(t *testing.T) { allVerbs[*shoalv1.Pod](t, env, "verbs") })
	t.Run("Service", func(t *testing.T) { allVerbs[*shoalv1.Service](t, env, "verbs") })
	t.Run("Endpoints", func(t *testing.T) { allVerbs[*shoalv1.Endpoints](t, env, "verbs") })
	t.Run("ReplicaSet", func(t *testing.T) { allVerbs[*shoalv1.ReplicaSet](t, env, "verbs") })
	t.Run("Deployment", func(t *testing.T) { allVerbs[*shoalv1.Deployment](t, env, "verbs") })
	t.Run("Lease", func(t *testing.T) { allVerbs[*shoalv1.Lease](t, env, "verbs") })
	t.Run("Event", func(t *testing.T) { allVerbs[*shoalv1.Event](t, env, "verbs") })
	t.Run("ResourceQuota", func(t *testing.T) { allVerbs[*shoalv1.ResourceQuota](t, env, "verbs") })
}

func TestConcurrentUpdatesExactlyOneWins(t *testing.T) {
	env := gatewaytest.Start(t)
	ctx := ctxT(t)
	mustCreateNamespace(t, env, "race")
	pods := client.For[*shoalv1.Pod](env.Conn)
	pod, err := pods.Create(ctx, gatewaytest.Pod("race", "p", nil))
	if err != nil {
		t.Fatal(err)
	}
	const writers = 16
	var wg sync.WaitGroup
	codesSeen := make(chan codes.Code, writers)
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := proto.Clone(pod).(*shoalv1.Pod)
			next.Metadata.Labels = map[string]string{"writer": strconv.Itoa(i)}
			_, err := pods.Update(ctx, next)
			codesSeen <- status.Code(err)
		}()
	}
	wg.Wait()
	close(codesSeen)
	wins, aborted := 0, 0
	for c := range codesSeen {
		switch c {
		case codes.OK:
			wins++
		case codes.Aborted:
			aborted++
		default:
			t.Errorf("unexpected code %v", c)
		}
	}
	if wins != 1 || aborted != writers-1 {
		t.Fatalf("want exactly 1 win and %d ABORTED, got %d and %d", writers-1, wins, aborted)
	}
}

func TestGenerationAndStatusSplit(t *testing.T) {
	env := gatewaytest.Start(t)
	ctx := ctxT(t)
	mustCreateNamespace(t, env, "gen")
	deps := client.For[*shoalv1.Deployment](env.Conn)
	in := gatewaytest.Object("Deployment", "gen", "web").(*shoalv1.Deployment)
	in.Status = &shoalv1.DeploymentStatus{Replicas: 99} // ignored on create
	d, err := deps.Create(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if d.GetStatus().GetReplicas() != 0 {
		t.Fatalf("status set on create: %v", d.GetStatus())
	}
	if d.GetSpec().GetStrategy().GetType() != shoalv1.DeploymentStrategyType_DEPLOYMENT_STRATEGY_TYPE_ROLLING_UPDATE || d.GetSpec().GetRevisionHistoryLimit() != 10 {
		t.Fatalf("defaults not applied: %v", d.GetSpec())
	}
	d.Status = &shoalv1.DeploymentStatus{Replicas: 3, ObservedGeneration: 1}
	d, err = deps.UpdateStatus(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if d.GetMetadata().GetGeneration() != 1 || d.GetStatus().GetReplicas() != 3 {
		t.Fatalf("status update: generation %d status %v", d.GetMetadata().GetGeneration(), d.GetStatus())
	}
	d.Spec.Replicas = proto.Int32(5)
	d.Status = nil // an update never touches status
	d, err = deps.Update(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if d.GetMetadata().GetGeneration() != 2 || d.GetStatus().GetReplicas() != 3 {
		t.Fatalf("spec update: want generation 2 and status kept, got %d %v", d.GetMetadata().GetGeneration(), d.GetStatus())
	}
	// UpdateStatus ignores spec changes.
	d.Spec.Replicas = proto.Int32(7)
	d, err = deps.UpdateStatus(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if d.GetSpec().GetReplicas() != 5 || d.GetMetadata().GetGeneration() != 2 {
		t.Fatalf("status update changed spec: %v", d.GetSpec())
	}
}

func TestHealthAndReflection(t *testing.T) {
	env := gatewaytest.Start(t)
	ctx := ctxT(t)
	if err := checkHealth(ctx, env); err != nil {
		t.Fatal(err)
	}
	services, err := reflectServices(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kinds.All() {
		if !services[k.Service()] {
			t.Errorf("reflection does not list %s (got %v)", k.Service(), services)
		}
	}
}

var _ = io.EOF
