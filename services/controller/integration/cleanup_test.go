package integration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
	"github.com/shoalmesh/shoal/services/controller/controllertest"
	"github.com/shoalmesh/shoal/services/controller/ownerref"
)

// TestNamespaceDeletion: deleting a namespace deletes everything in it,
// then the namespace.
func TestNamespaceDeletion(t *testing.T) {
	t.Parallel()
	c := controllertest.Start(t, controllertest.Options{})
	ctx := context.Background()
	createNamespace(t, c, "doomed")
	if _, err := client.For[*shoalv1.Deployment](c.Conn).Create(ctx, deployment("doomed", "web", 4)); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"Service", "ResourceQuota", "Lease", "Pod"} {
		obj := gatewaytest.Object(kind, "doomed", "extra-"+strings.ToLower(kind))
		obj.GetMetadata().Labels = map[string]string{"extra": "yes"}
		if err := create(ctx, c, obj); err != nil {
			t.Fatal(kind, err)
		}
	}
	waitPods(t, c, "doomed", "app=web", 4, "")
	if _, err := client.For[*shoalv1.Namespace](c.Conn).Delete(ctx, "", "doomed", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, wait, "namespace gone", func(ctx context.Context) (bool, string, error) {
		ns, err := client.For[*shoalv1.Namespace](c.Conn).Get(ctx, "", "doomed")
		if client.IsNotFound(err) {
			return true, "", nil
		}
		if err != nil {
			return false, "", err
		}
		return false, ns.String(), nil
	})
	for _, n := range []func(context.Context) (int, error){
		listCount[*shoalv1.Pod](c, "doomed"), listCount[*shoalv1.ReplicaSet](c, "doomed"), listCount[*shoalv1.Deployment](c, "doomed"),
		listCount[*shoalv1.Service](c, "doomed"), listCount[*shoalv1.Endpoints](c, "doomed"), listCount[*shoalv1.ResourceQuota](c, "doomed"),
		listCount[*shoalv1.Lease](c, "doomed"), listCount[*shoalv1.Event](c, "doomed"),
	} {
		if left, err := n(ctx); err != nil || left != 0 {
			t.Fatalf("left in a deleted namespace: %d (%v)", left, err)
		}
	}
}

func create(ctx context.Context, c *controllertest.Cluster, obj kinds.Object) error {
	switch o := obj.(type) {
	case *shoalv1.Service:
		_, err := client.For[*shoalv1.Service](c.Conn).Create(ctx, o)
		return err
	case *shoalv1.ResourceQuota:
		_, err := client.For[*shoalv1.ResourceQuota](c.Conn).Create(ctx, o)
		return err
	case *shoalv1.Lease:
		_, err := client.For[*shoalv1.Lease](c.Conn).Create(ctx, o)
		return err
	case *shoalv1.Pod:
		_, err := client.For[*shoalv1.Pod](c.Conn).Create(ctx, o)
		return err
	}
	return fmt.Errorf("no create for %T", obj)
}

func listCount[T kinds.Object](c *controllertest.Cluster, ns string) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		res, err := client.For[T](c.Conn).List(ctx, client.ListOptions{Namespace: ns})
		if err != nil {
			return 0, err
		}
		return len(res.Items), nil
	}
}

// TestGarbageCollection: dependents of a deleted owner go (background);
// ORPHAN keeps them without the owner reference; FOREGROUND keeps the owner
// until its dependents are gone; an object whose owner never existed goes.
func TestGarbageCollection(t *testing.T) {
	t.Parallel()
	c := controllertest.Start(t, controllertest.Options{})
	ctx := context.Background()
	rss := client.For[*shoalv1.ReplicaSet](c.Conn)
	pods := client.For[*shoalv1.Pod](c.Conn)
	deps := client.For[*shoalv1.Deployment](c.Conn)

	t.Run("background", func(t *testing.T) {
		createNamespace(t, c, "gc-bg")
		if _, err := deps.Create(ctx, deployment("gc-bg", "web", 3)); err != nil {
			t.Fatal(err)
		}
		waitPods(t, c, "gc-bg", "app=web", 3, "")
		if _, err := deps.Delete(ctx, "gc-bg", "web", client.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitEmpty(t, c, "gc-bg")
	})

	t.Run("orphan", func(t *testing.T) {
		createNamespace(t, c, "gc-orphan")
		if _, err := rss.Create(ctx, replicaSet("gc-orphan", "web", 3)); err != nil {
			t.Fatal(err)
		}
		before := waitPods(t, c, "gc-orphan", "app=web", 3, "")
		if _, err := rss.Delete(ctx, "gc-orphan", "web", client.DeleteOptions{PropagationPolicy: shoalv1.PropagationPolicy_PROPAGATION_POLICY_ORPHAN}); err != nil {
			t.Fatal(err)
		}
		eventually(t, wait, "replica set gone, pods kept without owner", func(ctx context.Context) (bool, string, error) {
			_, err := rss.Get(ctx, "gc-orphan", "web")
			if !client.IsNotFound(err) {
				return false, fmt.Sprint("replica set: ", err), nil
			}
			now, err := podsOf(ctx, c, "gc-orphan", "app=web")
			if err != nil {
				return false, "", err
			}
			for _, p := range now {
				if len(p.GetMetadata().GetOwnerReferences()) > 0 {
					return false, "owner references left on " + p.GetMetadata().GetName(), nil
				}
			}
			return len(now) == len(before), fmt.Sprint(len(now), " pods"), nil
		})
	})

	t.Run("foreground", func(t *testing.T) {
		createNamespace(t, c, "gc-fg")
		if _, err := deps.Create(ctx, deployment("gc-fg", "web", 3)); err != nil {
			t.Fatal(err)
		}
		waitPods(t, c, "gc-fg", "app=web", 3, "")
		// Hold one pod's deletion: its node stops confirming (until the
		// node lifecycle controller evicts it, seconds later).
		pods0, err := podsOf(ctx, c, "gc-fg", "app=web")
		if err != nil {
			t.Fatal(err)
		}
		held := pods0[0]
		c.Agent.StopNode(held.GetSpec().GetNodeName())
		defer c.Agent.StartNode(ctx, held.GetSpec().GetNodeName())
		if _, err := deps.Delete(ctx, "gc-fg", "web", client.DeleteOptions{PropagationPolicy: shoalv1.PropagationPolicy_PROPAGATION_POLICY_FOREGROUND}); err != nil {
			t.Fatal(err)
		}
		eventually(t, wait, "held pod being deleted", func(ctx context.Context) (bool, string, error) {
			p, err := pods.Get(ctx, "gc-fg", held.GetMetadata().GetName())
			if err != nil {
				return false, "", err
			}
			return p.GetMetadata().GetDeletionTimestamp() != nil, "", nil
		})
		// The pod lingers, so the Deployment must too, held by the
		// foregroundDeletion finalizer.
		d, err := deps.Get(ctx, "gc-fg", "web")
		if err != nil {
			t.Fatalf("a foreground-deleted deployment must wait for its dependents: %v", err)
		}
		if d.GetMetadata().GetDeletionTimestamp() == nil || !slices.Contains(d.GetMetadata().GetFinalizers(), "foregroundDeletion") {
			t.Fatalf("deployment being deleted in foreground: %v", d.GetMetadata())
		}
		if _, err := pods.Get(ctx, "gc-fg", held.GetMetadata().GetName()); err != nil {
			t.Fatalf("held pod: %v", err)
		}
		eventually(t, wait, "deployment gone after its pods and replica set", func(ctx context.Context) (bool, string, error) {
			_, err := deps.Get(ctx, "gc-fg", "web")
			if err == nil {
				return false, "deployment still there", nil
			}
			if !client.IsNotFound(err) {
				return false, "", err
			}
			left, err := podsOf(ctx, c, "gc-fg", "")
			if err != nil {
				return false, "", err
			}
			rsLeft, err := listCount[*shoalv1.ReplicaSet](c, "gc-fg")(ctx)
			if err != nil {
				return false, "", err
			}
			if len(left) != 0 || rsLeft != 0 {
				t.Errorf("deployment went before its dependents: %d pods, %d replica sets left", len(left), rsLeft)
			}
			return true, "", nil
		})
	})

	t.Run("owner-never-existed", func(t *testing.T) {
		createNamespace(t, c, "gc-dangling")
		p := gatewaytest.Pod("gc-dangling", "stray", map[string]string{"app": "stray"})
		p.Metadata.OwnerReferences = []*shoalv1.OwnerReference{{Kind: "ReplicaSet", Name: "ghost", Uid: "00000000-0000-0000-0000-000000000000", Controller: true}}
		if _, err := pods.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		// A second owner that exists keeps a pod; the dangling reference
		// is removed.
		rs, err := rss.Create(ctx, replicaSet("gc-dangling", "keeper", 0))
		if err != nil {
			t.Fatal(err)
		}
		kept := gatewaytest.Pod("gc-dangling", "kept", map[string]string{"app": "kept"})
		kept.Metadata.OwnerReferences = []*shoalv1.OwnerReference{
			{Kind: "ReplicaSet", Name: "ghost", Uid: "00000000-0000-0000-0000-000000000000"},
			{Kind: "ReplicaSet", Name: "keeper", Uid: rs.GetMetadata().GetUid()},
		}
		if _, err := pods.Create(ctx, kept); err != nil {
			t.Fatal(err)
		}
		eventually(t, wait, "stray pod collected, kept pod cleaned", func(ctx context.Context) (bool, string, error) {
			_, err := pods.Get(ctx, "gc-dangling", "stray")
			if !client.IsNotFound(err) {
				return false, fmt.Sprint("stray: ", err), nil
			}
			k, err := pods.Get(ctx, "gc-dangling", "kept")
			if err != nil {
				return false, "", err
			}
			refs := k.GetMetadata().GetOwnerReferences()
			return len(refs) == 1 && refs[0].GetName() == "keeper", fmt.Sprint(refs), nil
		})
		if k, _ := pods.Get(ctx, "gc-dangling", "kept"); ownerref.ControllerOf(k) != nil {
			t.Fatalf("kept pod gained a controller: %v", k.GetMetadata().GetOwnerReferences())
		}
	})
}

// waitEmpty waits until a namespace has no pods, replica sets or
// deployments.
func waitEmpty(t *testing.T, c *controllertest.Cluster, ns string) {
	t.Helper()
	eventually(t, wait, ns+" emptied by the garbage collector", func(ctx context.Context) (bool, string, error) {
		p, err := listCount[*shoalv1.Pod](c, ns)(ctx)
		if err != nil {
			return false, "", err
		}
		r, err := listCount[*shoalv1.ReplicaSet](c, ns)(ctx)
		if err != nil {
			return false, "", err
		}
		return p == 0 && r == 0, fmt.Sprintf("%d pods, %d replica sets", p, r), nil
	})
}

// TestResourceQuotaUsage: used counts follow the namespace's pods and
// services.
func TestResourceQuotaUsage(t *testing.T) {
	t.Parallel()
	c := controllertest.Start(t, controllertest.Options{})
	ctx := context.Background()
	createNamespace(t, c, "quota")
	q := &shoalv1.ResourceQuota{
		Metadata: &shoalv1.ObjectMeta{Namespace: "quota", Name: "limits"},
		Spec: &shoalv1.ResourceQuotaSpec{Hard: &shoalv1.QuotaResources{
			Pods: proto.Int64(20), CpuMillis: proto.Int64(4000), Services: proto.Int64(5),
		}},
	}
	qs := client.For[*shoalv1.ResourceQuota](c.Conn)
	if _, err := qs.Create(ctx, q); err != nil {
		t.Fatal(err)
	}
	waitUsed := func(pods, cpu, services int64) {
		t.Helper()
		eventually(t, wait, fmt.Sprintf("used pods=%d cpu=%d services=%d", pods, cpu, services), func(ctx context.Context) (bool, string, error) {
			got, err := qs.Get(ctx, "quota", "limits")
			if err != nil {
				return false, "", err
			}
			u := got.GetStatus().GetUsed()
			ok := u != nil && u.GetPods() == pods && u.GetCpuMillis() == cpu && u.GetServices() == services && u.MemoryBytes == nil &&
				proto.Equal(got.GetStatus().GetHard(), q.GetSpec().GetHard())
			return ok, got.GetStatus().String(), nil
		})
	}
	waitUsed(0, 0, 0)
	if _, err := client.For[*shoalv1.ReplicaSet](c.Conn).Create(ctx, replicaSet("quota", "web", 4)); err != nil {
		t.Fatal(err)
	}
	if err := create(ctx, c, gatewaytest.Object("Service", "quota", "web")); err != nil {
		t.Fatal(err)
	}
	waitUsed(4, 400, 1) // 100m per pod
	scaleTo(t, c, "quota", "web", 1)
	waitUsed(1, 100, 1)
}
