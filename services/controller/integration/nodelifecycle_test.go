package integration

import (
	"context"
	"fmt"
	"slices"
	"testing"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/controller/conditions"
	"github.com/shoalmesh/shoal/services/controller/controllertest"
	"github.com/shoalmesh/shoal/services/controller/nodelifecycle"
)

// TestNodeLeaseExpiry: a node whose lease stops becomes Ready=Unknown and
// tainted; its pods are evicted after the eviction timeout and their
// ReplicaSet replaces them on the other nodes; a pod that tolerates the
// taint stays. When the node comes back, the taints go.
func TestNodeLeaseExpiry(t *testing.T) {
	t.Parallel()
	c := controllertest.Start(t, controllertest.Options{})
	ctx := context.Background()
	createNamespace(t, c, "nodes")
	if _, err := client.For[*shoalv1.ReplicaSet](c.Conn).Create(ctx, replicaSet("nodes", "web", 6)); err != nil {
		t.Fatal(err)
	}
	pods := waitPods(t, c, "nodes", "app=web", 6, "")
	dead := pods[0].GetSpec().GetNodeName()
	// A pod that tolerates unreachable nodes forever.
	tolerant := replicaSet("nodes", "tolerant", 1)
	tolerant.Spec.Template.Spec.NodeName = dead
	tolerant.Spec.Template.Spec.Tolerations = []*shoalv1.Toleration{{
		Key: nodelifecycle.TaintUnreachable, Operator: shoalv1.TolerationOperator_TOLERATION_OPERATOR_EXISTS,
		Effect: shoalv1.TaintEffect_TAINT_EFFECT_NO_EXECUTE,
	}}
	if _, err := client.For[*shoalv1.ReplicaSet](c.Conn).Create(ctx, tolerant); err != nil {
		t.Fatal(err)
	}
	waitPods(t, c, "nodes", "app=tolerant", 1, "")

	c.Agent.StopNode(dead)
	nodes := client.For[*shoalv1.Node](c.Conn)
	eventually(t, wait, "node "+dead+" Unknown and tainted", func(ctx context.Context) (bool, string, error) {
		n, err := nodes.Get(ctx, "", dead)
		if err != nil {
			return false, "", err
		}
		ready := conditions.Get(n.GetStatus().GetConditions(), "Ready")
		tainted := slices.ContainsFunc(n.GetSpec().GetTaints(), func(t *shoalv1.Taint) bool {
			return t.GetKey() == nodelifecycle.TaintUnreachable && t.GetEffect() == shoalv1.TaintEffect_TAINT_EFFECT_NO_EXECUTE
		})
		return ready.GetStatus() == conditions.Unknown && tainted, fmt.Sprint(ready, n.GetSpec().GetTaints()), nil
	})
	// The pods move: 6 ready, none on the dead node.
	eventually(t, wait, "pods moved off "+dead, func(ctx context.Context) (bool, string, error) {
		pods, err := podsOf(ctx, c, "nodes", "app=web")
		if err != nil {
			return false, "", err
		}
		cs := count(pods)
		return cs.active == 6 && cs.ready == 6 && cs.nodes[dead] == 0 && len(pods) == 6, cs.String(), nil
	})
	// The tolerant pod stays (marked not ready: its node is gone).
	tp, err := podsOf(ctx, c, "nodes", "app=tolerant")
	if err != nil {
		t.Fatal(err)
	}
	if len(tp) != 1 || tp[0].GetSpec().GetNodeName() != dead || conditions.IsTrue(tp[0].GetStatus().GetConditions(), "Ready") {
		t.Fatalf("tolerant pod: %v", tp)
	}
	// Evictions are recorded.
	eventually(t, wait, "eviction events", func(ctx context.Context) (bool, string, error) {
		res, err := client.For[*shoalv1.Event](c.Conn).List(ctx, client.ListOptions{Namespace: "nodes"})
		if err != nil {
			return false, "", err
		}
		n := 0
		for _, e := range res.Items {
			if e.GetSpec().GetReason() == nodelifecycle.ReasonEviction {
				n++
			}
		}
		return n >= 1, fmt.Sprint(n, " eviction events"), nil
	})

	// Back to life: Ready again, taints gone.
	if err := c.Agent.StartNode(ctx, dead); err != nil {
		t.Fatal(err)
	}
	eventually(t, wait, "node "+dead+" ready and untainted", func(ctx context.Context) (bool, string, error) {
		n, err := nodes.Get(ctx, "", dead)
		if err != nil {
			return false, "", err
		}
		return conditions.IsTrue(n.GetStatus().GetConditions(), "Ready") && len(n.GetSpec().GetTaints()) == 0, fmt.Sprint(n.GetSpec().GetTaints()), nil
	})
}

// TestDeletedNode: the pods of a deleted node are evicted and replaced.
func TestDeletedNode(t *testing.T) {
	t.Parallel()
	c := controllertest.Start(t, controllertest.Options{})
	ctx := context.Background()
	createNamespace(t, c, "gone")
	if _, err := client.For[*shoalv1.ReplicaSet](c.Conn).Create(ctx, replicaSet("gone", "web", 6)); err != nil {
		t.Fatal(err)
	}
	pods := waitPods(t, c, "gone", "app=web", 6, "")
	gone := pods[0].GetSpec().GetNodeName()
	c.Agent.StopNode(gone)
	if _, err := client.For[*shoalv1.Node](c.Conn).Delete(ctx, "", gone, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, wait, "pods moved off deleted node "+gone, func(ctx context.Context) (bool, string, error) {
		pods, err := podsOf(ctx, c, "gone", "app=web")
		if err != nil {
			return false, "", err
		}
		cs := count(pods)
		return cs.active == 6 && cs.ready == 6 && cs.nodes[gone] == 0 && len(pods) == 6, cs.String(), nil
	})
}
