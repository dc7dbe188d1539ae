package gc

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
	kworkqueue "k8s.io/client-go/util/workqueue"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/informer"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/services/controller/control"
	"github.com/shoalmesh/shoal/services/controller/ownerref"
)

// fakeSource is a cache and an API of one kind, recording writes.
type fakeSource struct {
	k       kinds.Kind
	objs    map[string]kinds.Object // the cache
	api     map[string]kinds.Object // what a read finds
	deletes []string
	updates []kinds.Object
}

func newFake(kind string) *fakeSource {
	k, _ := kinds.ByName(kind)
	return &fakeSource{k: k, objs: map[string]kinds.Object{}, api: map[string]kinds.Object{}}
}

func (f *fakeSource) add(obj kinds.Object) {
	f.objs[kinds.Key(obj)] = obj
	f.api[kinds.Key(obj)] = obj
}

func (f *fakeSource) kind() kinds.Kind { return f.k }
func (f *fakeSource) get(key string) (kinds.Object, bool) {
	o, ok := f.objs[key]
	return o, ok
}
func (f *fakeSource) dependents(uid string) []kinds.Object {
	var out []kinds.Object
	for _, o := range f.objs {
		if slices.Contains(ownerref.UIDs(o), uid) {
			out = append(out, o)
		}
	}
	return out
}
func (f *fakeSource) listDependents(_ context.Context, ns, uid string) ([]kinds.Object, error) {
	var out []kinds.Object
	for _, o := range f.api {
		if (ns == "" || !f.k.Namespaced || o.GetMetadata().GetNamespace() == ns) && slices.Contains(ownerref.UIDs(o), uid) {
			out = append(out, o)
		}
	}
	return out, nil
}
func (f *fakeSource) read(_ context.Context, ns, name string) (kinds.Object, error) {
	key := name
	if ns != "" {
		key = ns + "/" + name
	}
	if o, ok := f.api[key]; ok {
		return o, nil
	}
	return nil, status.Error(codes.NotFound, key+" not found")
}
func (f *fakeSource) delete(_ context.Context, ns, name string, o client.DeleteOptions) error {
	key := name
	if ns != "" {
		key = ns + "/" + name
	}
	if rv := o.Preconditions.GetResourceVersion(); rv != "" && rv != f.api[key].GetMetadata().GetResourceVersion() {
		return status.Error(codes.Aborted, key+" was modified")
	}
	f.deletes = append(f.deletes, fmt.Sprintf("%s/%s:%s", ns, name, o.PropagationPolicy))
	return nil
}
func (f *fakeSource) update(_ context.Context, obj kinds.Object) error {
	f.updates = append(f.updates, obj)
	return nil
}
func (f *fakeSource) watch(informer.Handler[kinds.Object]) {}

func newCollector(srcs ...*fakeSource) *Controller {
	c := &Controller{byKind: map[string]source{}, rec: control.NopRecorder{}, log: slog.New(slog.DiscardHandler),
		absent: map[string]struct{}{}, queue: kworkqueue.NewTypedRateLimitingQueue(kworkqueue.DefaultTypedControllerRateLimiter[string]())}
	for _, s := range srcs {
		c.sources = append(c.sources, s)
		c.byKind[s.k.Name] = s
	}
	return c
}

func rs(name, uid string, deleting bool, finalizers ...string) *shoalv1.ReplicaSet {
	r := &shoalv1.ReplicaSet{Metadata: &shoalv1.ObjectMeta{Namespace: "ns", Name: name, Uid: uid, Finalizers: finalizers}}
	if deleting {
		r.Metadata.DeletionTimestamp = timestamppb.Now()
	}
	return r
}

func podOwnedBy(name string, refs ...*shoalv1.OwnerReference) *shoalv1.Pod {
	return &shoalv1.Pod{Metadata: &shoalv1.ObjectMeta{Namespace: "ns", Name: name, Uid: "pod-" + name, OwnerReferences: refs}}
}

func ref(name, uid string, block bool) *shoalv1.OwnerReference {
	return &shoalv1.OwnerReference{Kind: "ReplicaSet", Name: name, Uid: uid, BlockOwnerDeletion: block}
}

func TestCollect(t *testing.T) {
	cases := []struct {
		name        string
		owners      []*shoalv1.ReplicaSet
		apiOnly     []*shoalv1.ReplicaSet // owners the cache lacks but the API has
		pod         *shoalv1.Pod
		wantDeletes []string
		wantRefs    []string // owner uids left after an update; nil: no update
	}{
		{name: "live owner", owners: []*shoalv1.ReplicaSet{rs("a", "ua", false)}, pod: podOwnedBy("p", ref("a", "ua", true))},
		{name: "owner gone", pod: podOwnedBy("p", ref("a", "ua", true)), wantDeletes: []string{"ns/p:PROPAGATION_POLICY_BACKGROUND"}},
		{name: "owner replaced (other uid)", owners: []*shoalv1.ReplicaSet{rs("a", "new", false)}, pod: podOwnedBy("p", ref("a", "ua", true)),
			wantDeletes: []string{"ns/p:PROPAGATION_POLICY_BACKGROUND"}},
		{name: "owner not cached yet but alive", apiOnly: []*shoalv1.ReplicaSet{rs("a", "ua", false)}, pod: podOwnedBy("p", ref("a", "ua", true))},
		{name: "one live, one dead owner", owners: []*shoalv1.ReplicaSet{rs("a", "ua", false)}, pod: podOwnedBy("p", ref("a", "ua", false), ref("b", "ub", false)),
			wantRefs: []string{"ua"}},
		{name: "owner deleting in foreground", owners: []*shoalv1.ReplicaSet{rs("a", "ua", true, FinalizerForeground)}, pod: podOwnedBy("p", ref("a", "ua", true)),
			wantDeletes: []string{"ns/p:PROPAGATION_POLICY_BACKGROUND"}},
		{name: "owner deleting without finalizer is still an owner", owners: []*shoalv1.ReplicaSet{rs("a", "ua", true)}, pod: podOwnedBy("p", ref("a", "ua", true))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rss, pods := newFake("ReplicaSet"), newFake("Pod")
			for _, o := range tc.owners {
				rss.add(o)
			}
			for _, o := range tc.apiOnly {
				rss.api[kinds.Key(o)] = o
			}
			pods.add(tc.pod)
			c := newCollector(rss, pods)
			if err := c.collect(context.Background(), pods, tc.pod); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(pods.deletes, tc.wantDeletes) {
				t.Fatalf("deletes %v, want %v", pods.deletes, tc.wantDeletes)
			}
			switch {
			case tc.wantRefs == nil && len(pods.updates) > 0:
				t.Fatalf("unexpected update %v", pods.updates)
			case tc.wantRefs != nil:
				if len(pods.updates) != 1 || !slices.Equal(ownerref.UIDs(pods.updates[0]), tc.wantRefs) {
					t.Fatalf("updates %v, want owners %v", pods.updates, tc.wantRefs)
				}
			}
			if tc.pod.GetMetadata().GetOwnerReferences()[0].GetUid() != tc.pod.GetMetadata().GetOwnerReferences()[0].GetUid() {
				t.Fatal("cached pod modified")
			}
		})
	}
}

// A dependent judged from a stale cached copy (its owner reference since
// removed by an orphaning owner) is not deleted: the delete carries the
// copy's resource version, fails, and the sync errs so it is requeued.
func TestCollectStaleCopy(t *testing.T) {
	pods := newFake("Pod")
	cached := podOwnedBy("p", ref("a", "ua", true))
	cached.Metadata.ResourceVersion = "5"
	pods.add(cached)
	orphaned := podOwnedBy("p")
	orphaned.Metadata.ResourceVersion = "6"
	pods.api["ns/p"] = orphaned
	c := newCollector(newFake("ReplicaSet"), pods)
	if err := c.sync(context.Background(), "Pod|ns/p"); err == nil {
		t.Fatal("sync of a stale copy succeeded; want an error that requeues it")
	}
	if len(pods.deletes) != 0 {
		t.Fatalf("deleted from a stale copy: %v", pods.deletes)
	}
	pods.objs["ns/p"] = orphaned // the cache catches up
	if err := c.sync(context.Background(), "Pod|ns/p"); err != nil || len(pods.deletes) != 0 {
		t.Fatalf("an orphan is kept: err %v, deletes %v", err, pods.deletes)
	}
}

func TestOwnerFinalizers(t *testing.T) {
	t.Run("orphan", func(t *testing.T) {
		rss, pods := newFake("ReplicaSet"), newFake("Pod")
		owner := rs("a", "ua", true, FinalizerOrphan)
		rss.add(owner)
		pods.add(podOwnedBy("p1", ref("a", "ua", true)))
		pods.add(podOwnedBy("p2", ref("a", "ua", true), ref("b", "ub", false)))
		// In the API but not yet in the cache: orphaned all the same.
		late := podOwnedBy("p3", ref("a", "ua", true))
		pods.api[kinds.Key(late)] = late
		c := newCollector(rss, pods)
		if err := c.sync(context.Background(), "ReplicaSet|ns/a"); err != nil {
			t.Fatal(err)
		}
		if len(pods.updates) != 3 || len(pods.deletes) != 0 {
			t.Fatalf("pod writes: %v %v", pods.updates, pods.deletes)
		}
		for _, p := range pods.updates {
			if slices.Contains(ownerref.UIDs(p), "ua") {
				t.Fatalf("reference to the orphaning owner left: %v", p)
			}
		}
		if len(rss.updates) != 1 || len(rss.updates[0].GetMetadata().GetFinalizers()) != 0 {
			t.Fatalf("owner finalizer not removed: %v", rss.updates)
		}
	})
	t.Run("foreground waits for blocking dependents", func(t *testing.T) {
		rss, pods := newFake("ReplicaSet"), newFake("Pod")
		rss.add(rs("a", "ua", true, FinalizerForeground))
		pods.add(podOwnedBy("p1", ref("a", "ua", true)))
		c := newCollector(rss, pods)
		if err := c.sync(context.Background(), "ReplicaSet|ns/a"); err != nil {
			t.Fatal(err)
		}
		if len(rss.updates) != 0 || c.queue.Len() != 1 {
			t.Fatalf("owner must wait, dependent enqueued: updates %v, queue %d", rss.updates, c.queue.Len())
		}
		delete(pods.objs, "ns/p1")
		if err := c.sync(context.Background(), "ReplicaSet|ns/a"); err != nil {
			t.Fatal(err)
		}
		if len(rss.updates) != 1 || slices.Contains(rss.updates[0].GetMetadata().GetFinalizers(), FinalizerForeground) {
			t.Fatalf("finalizer must go once no dependent blocks: %v", rss.updates)
		}
	})
}
