package ownerref

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"k8s.io/apimachinery/pkg/labels"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
)

// fakeConn records UpdatePod calls and answers with the pod sent.
type fakeConn struct {
	mu      sync.Mutex
	updated []*shoalv1.Pod
}

func (f *fakeConn) Invoke(_ context.Context, method string, args, reply any, _ ...grpc.CallOption) error {
	if method != "/shoal.v1.PodService/UpdatePod" {
		return errors.New("unexpected " + method)
	}
	p := args.(*shoalv1.UpdatePodRequest).GetPod()
	f.mu.Lock()
	f.updated = append(f.updated, proto.Clone(p).(*shoalv1.Pod))
	f.mu.Unlock()
	proto.Merge(reply.(*shoalv1.Pod), p)
	return nil
}

func (f *fakeConn) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, errors.New("no streams")
}

func pod(name string, l map[string]string, refs ...*shoalv1.OwnerReference) *shoalv1.Pod {
	return &shoalv1.Pod{Metadata: &shoalv1.ObjectMeta{Namespace: "ns", Name: name, Labels: l, OwnerReferences: refs}}
}

func TestClaim(t *testing.T) {
	owner := &shoalv1.ReplicaSet{Metadata: &shoalv1.ObjectMeta{Namespace: "ns", Name: "web", Uid: "rs-uid"}}
	mine := NewControllerRef(owner)
	theirs := &shoalv1.OwnerReference{Kind: "ReplicaSet", Name: "other", Uid: "other-uid", Controller: true}
	web := map[string]string{"app": "web"}
	deleting := pod("orphan-deleting", web)
	deleting.Metadata.DeletionTimestamp = timestamppb.Now()
	candidates := []*shoalv1.Pod{
		pod("owned", web, mine),
		pod("owned-relabelled", map[string]string{"app": "db"}, mine),
		pod("orphan", web),
		pod("orphan-other-labels", map[string]string{"app": "db"}),
		pod("someone-elses", web, theirs),
		deleting,
	}
	before := make([]*shoalv1.Pod, len(candidates))
	for i, p := range candidates {
		before[i] = proto.Clone(p).(*shoalv1.Pod)
	}
	conn := &fakeConn{}
	checked := 0
	c := &Claimer[*shoalv1.Pod]{
		Owner: owner, Selector: labels.SelectorFromSet(web), Client: client.For[*shoalv1.Pod](conn),
		CanAdopt: func(context.Context) error { checked++; return nil },
	}
	got, err := c.Claim(context.Background(), candidates)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range got {
		names = append(names, p.GetMetadata().GetName())
	}
	if !slices.Equal(names, []string{"owned", "orphan"}) {
		t.Fatalf("claimed %v", names)
	}
	if checked != 1 {
		t.Fatalf("the owner must be checked once before adopting, was %d times", checked)
	}
	for i, p := range candidates {
		if !proto.Equal(p, before[i]) {
			t.Fatalf("candidate %s was modified", p.GetMetadata().GetName())
		}
	}
	byName := map[string]*shoalv1.Pod{}
	for _, p := range conn.updated {
		byName[p.GetMetadata().GetName()] = p
	}
	if len(byName) != 2 || ControllerOf(byName["orphan"]).GetUid() != "rs-uid" || len(byName["owned-relabelled"].GetMetadata().GetOwnerReferences()) != 0 {
		t.Fatalf("writes: %v", conn.updated)
	}

	// An owner that is gone adopts nothing.
	c = &Claimer[*shoalv1.Pod]{
		Owner: owner, Selector: labels.SelectorFromSet(web), Client: client.For[*shoalv1.Pod](&fakeConn{}),
		CanAdopt: func(context.Context) error { return ErrOwnerChanged },
	}
	if _, err := c.Claim(context.Background(), []*shoalv1.Pod{pod("orphan", web)}); !errors.Is(err, ErrOwnerChanged) {
		t.Fatalf("claim for a dead owner: %v", err)
	}
}

func TestIndexes(t *testing.T) {
	owner := &shoalv1.ReplicaSet{Metadata: &shoalv1.ObjectMeta{Namespace: "ns", Name: "web", Uid: "u1"}}
	p := pod("p", nil, &shoalv1.OwnerReference{Uid: "u0"}, NewControllerRef(owner))
	if !slices.Equal(UIDs(p), []string{"u0", "u1"}) || !slices.Equal(ControllerUID(p), []string{"u1"}) || OrphanNamespace(p) != nil {
		t.Fatalf("indexes of an owned pod: %v %v %v", UIDs(p), ControllerUID(p), OrphanNamespace(p))
	}
	if !IsControlledBy(p, owner) {
		t.Fatal("controlled by its controller ref")
	}
	o := pod("o", nil)
	if UIDs(o) != nil || ControllerUID(o) != nil || !slices.Equal(OrphanNamespace(o), []string{"ns"}) {
		t.Fatal("indexes of an orphan")
	}
	if r := NewControllerRef(owner); r.GetKind() != "ReplicaSet" || !r.GetController() || !r.GetBlockOwnerDeletion() {
		t.Fatalf("controller ref %v", r)
	}
}

// rsCache is an OwnerCache of ReplicaSets in namespace "ns".
type rsCache map[string]*shoalv1.ReplicaSet

func (c rsCache) Get(key string) (*shoalv1.ReplicaSet, bool) { rs, ok := c[key]; return rs, ok }

func (c rsCache) ListNamespace(namespace string) []*shoalv1.ReplicaSet {
	var out []*shoalv1.ReplicaSet
	for _, rs := range c {
		if rs.GetMetadata().GetNamespace() == namespace {
			out = append(out, rs)
		}
	}
	slices.SortFunc(out, func(a, b *shoalv1.ReplicaSet) int {
		return strings.Compare(a.GetMetadata().GetName(), b.GetMetadata().GetName())
	})
	return out
}

func TestOwners(t *testing.T) {
	rs := func(name, app string) *shoalv1.ReplicaSet {
		return &shoalv1.ReplicaSet{
			Metadata: &shoalv1.ObjectMeta{Namespace: "ns", Name: name, Uid: name + "-uid"},
			Spec:     &shoalv1.ReplicaSetSpec{Selector: &shoalv1.LabelSelector{MatchLabels: map[string]string{"app": app}}},
		}
	}
	web, web2, db := rs("web", "web"), rs("web2", "web"), rs("db", "db")
	w := NewOwners[*shoalv1.ReplicaSet]("ReplicaSet", rsCache{"ns/web": web, "ns/web2": web2, "ns/db": db},
		func(rs *shoalv1.ReplicaSet) *shoalv1.LabelSelector { return rs.GetSpec().GetSelector() })
	stale := &shoalv1.OwnerReference{Kind: "ReplicaSet", Name: "web", Uid: "old-uid", Controller: true}
	otherKind := &shoalv1.OwnerReference{Kind: "Deployment", Name: "web", Uid: "web-uid", Controller: true}
	webLabels, dbLabels := map[string]string{"app": "web"}, map[string]string{"app": "db"}

	// record returns callbacks that note which owners they were called with.
	record := func() (owned, wake func(*shoalv1.ReplicaSet), got func() []string) {
		var calls []string
		owned = func(rs *shoalv1.ReplicaSet) { calls = append(calls, "owned:"+rs.GetMetadata().GetName()) }
		wake = func(rs *shoalv1.ReplicaSet) { calls = append(calls, "wake:"+rs.GetMetadata().GetName()) }
		return owned, wake, func() []string { return calls }
	}

	added := []struct {
		name  string
		child *shoalv1.Pod
		want  []string
	}{
		{"controlled", pod("p", dbLabels, NewControllerRef(web)), []string{"owned:web"}},
		{"controlled by a recreated owner", pod("p", webLabels, stale), nil},
		{"controlled by another kind", pod("p", webLabels, otherKind), nil},
		{"orphan", pod("p", webLabels), []string{"wake:web", "wake:web2"}},
		{"orphan nobody selects", pod("p", map[string]string{"app": "x"}), nil},
	}
	for _, tc := range added {
		t.Run("added/"+tc.name, func(t *testing.T) {
			owned, wake, got := record()
			w.Added(tc.child, owned, wake)
			if !slices.Equal(got(), tc.want) {
				t.Errorf("got %v, want %v", got(), tc.want)
			}
		})
	}

	updated := []struct {
		name     string
		old, cur *shoalv1.Pod
		want     []string
	}{
		{"still controlled", pod("p", webLabels, NewControllerRef(web)), pod("p", dbLabels, NewControllerRef(web)), []string{"owned:web"}},
		{"controller changed", pod("p", webLabels, NewControllerRef(web)), pod("p", webLabels, NewControllerRef(db)), []string{"wake:web", "owned:db"}},
		{"released", pod("p", dbLabels, NewControllerRef(web)), pod("p", dbLabels), []string{"wake:web", "wake:db"}},
		{"orphan relabelled", pod("p", dbLabels), pod("p", webLabels), []string{"wake:web", "wake:web2"}},
		{"orphan, labels unchanged", pod("p", webLabels), pod("p", webLabels), nil},
	}
	for _, tc := range updated {
		t.Run("updated/"+tc.name, func(t *testing.T) {
			owned, wake, got := record()
			w.Updated(tc.old, tc.cur, owned, wake)
			if !slices.Equal(got(), tc.want) {
				t.Errorf("got %v, want %v", got(), tc.want)
			}
		})
	}

	if rs, ok := w.Of(pod("p", nil, NewControllerRef(db))); !ok || rs != db {
		t.Errorf("Of: got %v, %v; want db", rs, ok)
	}
	if _, ok := w.Of(pod("p", webLabels)); ok {
		t.Error("Of an orphan: got an owner")
	}
}
