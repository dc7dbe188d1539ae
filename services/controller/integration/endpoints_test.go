package integration

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/controller/conditions"
	"github.com/shoalmesh/shoal/services/controller/controllertest"
	"github.com/shoalmesh/shoal/services/controller/endpoints"
	"github.com/shoalmesh/shoal/services/controller/podstate"
)

// TestEndpoints: a Service's endpoints follow its pods (ready and not
// ready), resolve named target ports, carry node and zone, are written only
// on change, and go with the Service.
func TestEndpoints(t *testing.T) {
	t.Parallel()
	c := controllertest.Start(t, controllertest.Options{})
	ctx := context.Background()
	createNamespace(t, c, "svc")
	// Zones on the nodes.
	for i, n := range c.Nodes {
		nodes := client.For[*shoalv1.Node](c.Conn)
		for {
			node, err := nodes.Get(ctx, "", n)
			if err != nil {
				t.Fatal(err)
			}
			node.Metadata.Labels[endpoints.ZoneLabel] = fmt.Sprintf("zone-%d", i%2)
			if _, err := nodes.Update(ctx, node); client.IsConflict(err) {
				continue
			} else if err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if _, err := client.For[*shoalv1.ReplicaSet](c.Conn).Create(ctx, replicaSet("svc", "web", 3)); err != nil {
		t.Fatal(err)
	}
	svcs := client.For[*shoalv1.Service](c.Conn)
	svc := &shoalv1.Service{
		Metadata: &shoalv1.ObjectMeta{Namespace: "svc", Name: "web", Labels: map[string]string{"team": "a"}},
		Spec: &shoalv1.ServiceSpec{
			Selector: labelsOf("web"),
			Ports: []*shoalv1.ServicePort{
				{Name: "grpc", Port: 80, TargetPort: intOrStr("grpc"), Protocol: shoalv1.ServiceProtocol_SERVICE_PROTOCOL_GRPC},
				{Name: "admin", Port: 9000, TargetPort: intOrStr(9090)},
			},
		},
	}
	if _, err := svcs.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	eps := client.For[*shoalv1.Endpoints](c.Conn)
	var ep *shoalv1.Endpoints
	waitEndpoints := func(what string, ok func(*shoalv1.Endpoints) bool) {
		t.Helper()
		eventually(t, wait, what, func(ctx context.Context) (bool, string, error) {
			got, err := eps.Get(ctx, "svc", "web")
			if err != nil {
				return false, "", err
			}
			ep = got
			return ok(got), got.GetSpec().String(), nil
		})
	}
	readyCount := func(e *shoalv1.Endpoints) (ready, notReady int) {
		for _, a := range e.GetSpec().GetAddresses() {
			if a.GetReady() {
				ready++
			} else {
				notReady++
			}
		}
		return
	}
	waitEndpoints("3 ready addresses", func(e *shoalv1.Endpoints) bool {
		r, n := readyCount(e)
		return r == 3 && n == 0
	})
	wantPorts := []*shoalv1.EndpointPort{
		{Name: "grpc", Port: 50051, Protocol: shoalv1.ServiceProtocol_SERVICE_PROTOCOL_GRPC},
		{Name: "admin", Port: 9090, Protocol: shoalv1.ServiceProtocol_SERVICE_PROTOCOL_TCP},
	}
	for i, p := range ep.GetSpec().GetPorts() {
		if !proto.Equal(p, wantPorts[i]) {
			t.Fatalf("port %d: %v, want %v", i, p, wantPorts[i])
		}
	}
	for _, a := range ep.GetSpec().GetAddresses() {
		if a.GetIp() == "" || a.GetNodeName() == "" || a.GetZone() == "" || a.GetTargetRef().GetKind() != "Pod" {
			t.Fatalf("incomplete address %v", a)
		}
	}
	if ep.GetMetadata().GetLabels()["team"] != "a" || ep.GetMetadata().GetLabels()[endpoints.ManagedByLabel] == "" {
		t.Fatalf("endpoints labels %v", ep.GetMetadata().GetLabels())
	}

	// A no-op resync (the Service's annotations change) writes nothing,
	// and a readiness change is written once: the first endpoints event
	// after rv0 already shows the pod not ready.
	watchCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	w, err := eps.Watch(watchCtx, client.WatchOptions{Namespace: "svc", ResourceVersion: ep.GetMetadata().GetResourceVersion()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cur, err := svcs.Get(ctx, "svc", "web")
	if err != nil {
		t.Fatal(err)
	}
	cur.Metadata.Annotations = map[string]string{"touched": "yes"}
	if _, err := svcs.Update(ctx, cur); err != nil {
		t.Fatal(err)
	}
	pods, err := podsOf(ctx, c, "svc", "app=web")
	if err != nil {
		t.Fatal(err)
	}
	p := pods[0]
	// Its (fake) node agent would report it ready again: stop it. The
	// node's lease outlives this test's remaining steps.
	c.Agent.StopNode(p.GetSpec().GetNodeName())
	p.Status.Conditions = conditions.Set(p.Status.Conditions, &shoalv1.Condition{Type: podstate.Ready, Status: conditions.False, Reason: "ProbeFailed"}, p.GetMetadata().GetCreationTimestamp().AsTime())
	if _, err := client.For[*shoalv1.Pod](c.Conn).UpdateStatus(ctx, p); err != nil {
		t.Fatal(err)
	}
	ev, err := w.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if r, n := readyCount(ev.Object); ev.Type != shoalv1.WatchEventType_WATCH_EVENT_TYPE_MODIFIED || r != 2 || n != 1 {
		t.Fatalf("first endpoints event after the no-op and the readiness change: %v %v", ev.Type, ev.Object.GetSpec())
	}
	for _, a := range ev.Object.GetSpec().GetAddresses() {
		if a.GetTargetRef().GetName() == p.GetMetadata().GetName() && a.GetReady() {
			t.Fatalf("pod %s still ready in %v", p.GetMetadata().GetName(), a)
		}
	}

	// Deleting the Service removes its endpoints.
	if _, err := svcs.Delete(ctx, "svc", "web", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, wait, "endpoints gone with the service", func(ctx context.Context) (bool, string, error) {
		_, err := eps.Get(ctx, "svc", "web")
		return client.IsNotFound(err), fmt.Sprint(err), nil
	})
}
