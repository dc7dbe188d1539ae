package gateway_test

import (
	"context"
	"testing"
	"time"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
)

// TestNodeReadyMetric: shoal_apigateway_nodes counts nodes by their Ready
// condition, the input of the node NotReady SLO.
func TestNodeReadyMetric(t *testing.T) {
	env := gatewaytest.Start(t)
	ctx := context.Background()
	nodes := shoalv1.NewNodeServiceClient(env.Conn)
	statuses := map[string]shoalv1.ConditionStatus{
		"node-a": shoalv1.ConditionStatus_CONDITION_STATUS_TRUE,
		"node-b": shoalv1.ConditionStatus_CONDITION_STATUS_TRUE,
		"node-c": shoalv1.ConditionStatus_CONDITION_STATUS_FALSE,
		"node-d": shoalv1.ConditionStatus_CONDITION_STATUS_UNKNOWN,
	}
	for name, st := range statuses {
		created, err := nodes.CreateNode(ctx, &shoalv1.CreateNodeRequest{Node: gatewaytest.Node(name)})
		if err != nil {
			t.Fatalf("creating %s: %v", name, err)
		}
		created.Status.Conditions = []*shoalv1.Condition{{Type: "Ready", Status: st}}
		if _, err := nodes.UpdateNodeStatus(ctx, &shoalv1.UpdateNodeStatusRequest{Node: created}); err != nil {
			t.Fatalf("status of %s: %v", name, err)
		}
	}
	n := gatewaytest.Node("node-e")
	n.Status.Conditions = nil
	if _, err := nodes.CreateNode(ctx, &shoalv1.CreateNodeRequest{Node: n}); err != nil {
		t.Fatal(err)
	}

	want := map[string]float64{"true": 2, "false": 1, "unknown": 2}
	var got map[string]float64
	// The watch cache catches up asynchronously; this loop only waits for it.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		got = nodeGauge(t, env)
		if equalCounts(got, want) {
			return
		}
	}
	t.Fatalf("shoal_apigateway_nodes = %v, want %v", got, want)
}

func nodeGauge(t *testing.T, env *gatewaytest.Env) map[string]float64 {
	t.Helper()
	mfs, err := env.Obs.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "shoal_apigateway_nodes" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "ready" {
					out[l.GetValue()] = m.GetGauge().GetValue()
				}
			}
		}
	}
	return out
}

func equalCounts(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}
