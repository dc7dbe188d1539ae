package integration

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
	"github.com/shoalmesh/shoal/services/controller/controllertest"
	"github.com/shoalmesh/shoal/services/controller/ownerref"
)

// scaleTo changes one number.
func scaleTo(t *testing.T, c *controllertest.Cluster, ns, name string, n int32) {
	t.Helper()
	rss := client.For[*shoalv1.ReplicaSet](c.Conn)
	for {
		rs, err := rss.Get(context.Background(), ns, name)
		if err != nil {
			t.Fatal(err)
		}
		rs.Spec.Replicas = proto.Int32(n)
		if _, err := rss.Update(context.Background(), rs); client.IsConflict(err) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		return
	}
}

func waitRSStatus(t *testing.T, c *controllertest.Cluster, ns, name string, want int32) {
	t.Helper()
	eventually(t, wait, fmt.Sprintf("replica set %s status at %d", name, want), func(ctx context.Context) (bool, string, error) {
		rs, err := client.For[*shoalv1.ReplicaSet](c.Conn).Get(ctx, ns, name)
		if err != nil {
			return false, "", err
		}
		st := rs.GetStatus()
		ok := st.GetReplicas() == want && st.GetReadyReplicas() == want && st.GetAvailableReplicas() == want &&
			st.GetFullyLabeledReplicas() == want && st.GetObservedGeneration() == rs.GetMetadata().GetGeneration()
		return ok, st.String(), nil
	})
}

// TestReplicaSetScale: 3 -> 10 -> 0 by changing one number.
func TestReplicaSetScale(t *testing.T) {
	t.Parallel()
	c := controllertest.Start(t, controllertest.Options{})
	createNamespace(t, c, "scale")
	if _, err := client.For[*shoalv1.ReplicaSet](c.Conn).Create(context.Background(), replicaSet("scale", "web", 3)); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int32{3, 10, 0} {
		if n != 3 {
			scaleTo(t, c, "scale", "web", n)
		}
		pods := waitPods(t, c, "scale", "app=web", int(n), "")
		waitRSStatus(t, c, "scale", "web", n)
		for _, p := range pods {
			if ref := ownerref.ControllerOf(p); ref.GetKind() != "ReplicaSet" || ref.GetName() != "web" || !ref.GetBlockOwnerDeletion() {
				t.Fatalf("pod %s has controller %v", p.GetMetadata().GetName(), ref)
			}
		}
	}
	// Events on the ReplicaSet tell what happened.
	eventually(t, wait, "SuccessfulCreate and SuccessfulDelete events", func(ctx context.Context) (bool, string, error) {
		res, err := client.For[*shoalv1.Event](c.Conn).List(ctx, client.ListOptions{Namespace: "scale"})
		if err != nil {
			return false, "", err
		}
		var reasons []string
		for _, e := range res.Items {
			if e.GetSpec().GetInvolvedObject().GetName() == "web" {
				reasons = append(reasons, e.GetSpec().GetReason())
			}
		}
		return slices.Contains(reasons, "SuccessfulCreate") && slices.Contains(reasons, "SuccessfulDelete"), fmt.Sprint(reasons), nil
	})
}

// TestReplicaSetReplacesDeletedPod: a deleted pod is replaced; an orphan
// that matches is adopted (and the surplus deleted); a pod whose labels
// stop matching is released and replaced.
func TestReplicaSetReplacesDeletedPod(t *testing.T) {
	t.Parallel()
	// fakeagent's Binder places the pods here (the other tests use the
	// real scheduler).
	c := controllertest.Start(t, controllertest.Options{Binder: true})
	ctx := context.Background()
	createNamespace(t, c, "heal")
	pods := client.For[*shoalv1.Pod](c.Conn)
	if _, err := client.For[*shoalv1.ReplicaSet](c.Conn).Create(ctx, replicaSet("heal", "web", 3)); err != nil {
		t.Fatal(err)
	}
	before := waitPods(t, c, "heal", "app=web", 3, "")

	victim := before[0].GetMetadata().GetName()
	if _, err := pods.Delete(ctx, "heal", victim, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	after := waitPods(t, c, "heal", "app=web", 3, "")
	for _, p := range after {
		if p.GetMetadata().GetName() == victim {
			t.Fatalf("deleted pod %s still there", victim)
		}
	}

	// An orphan with matching labels is adopted; now there are 4 for 3
	// replicas, so one goes (the unscheduled orphan, if it is still
	// unscheduled; any one otherwise).
	orphan := gatewaytest.Pod("heal", "orphan", labelsOf("web"))
	if _, err := pods.Create(ctx, orphan); err != nil {
		t.Fatal(err)
	}
	waitPods(t, c, "heal", "app=web", 3, "")
	eventually(t, wait, "orphan adopted or replaced", func(ctx context.Context) (bool, string, error) {
		p, err := pods.Get(ctx, "heal", "orphan")
		if client.IsNotFound(err) {
			return true, "", nil // adopted and deleted as the surplus
		}
		if err != nil {
			return false, "", err
		}
		ref := ownerref.ControllerOf(p)
		return ref.GetName() == "web", fmt.Sprint(ref), nil
	})

	// Release: relabel one pod; it loses its owner and is replaced.
	cur, err := podsOf(ctx, c, "heal", "app=web")
	if err != nil {
		t.Fatal(err)
	}
	var target *shoalv1.Pod
	for _, p := range cur {
		if p.GetMetadata().GetDeletionTimestamp() == nil {
			target = p
			break
		}
	}
	target.Metadata.Labels = map[string]string{"app": "retired"}
	if _, err := pods.Update(ctx, target); err != nil {
		t.Fatal(err)
	}
	waitPods(t, c, "heal", "app=web", 3, "")
	eventually(t, wait, "relabelled pod released", func(ctx context.Context) (bool, string, error) {
		p, err := pods.Get(ctx, "heal", target.GetMetadata().GetName())
		if err != nil {
			return false, "", err
		}
		return ownerref.ControllerOf(p) == nil, fmt.Sprint(p.GetMetadata().GetOwnerReferences()), nil
	})
}
