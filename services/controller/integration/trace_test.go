package integration

import (
	"context"
	"fmt"
	"io"
	"testing"

	"go.opentelemetry.io/otel/trace"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/controller/controllertest"
)

// TestOneTracePerUserAction: creating a Deployment under a span puts its
// ReplicaSet and its pods — created by the controller, bound by the real
// scheduler — in that same trace, and once the pods are Ready the
// Endpoints of a Service selecting them (created earlier, in a trace of
// its own) are written in that trace too.
func TestOneTracePerUserAction(t *testing.T) {
	c := controllertest.Start(t, controllertest.Options{})
	createNamespace(t, c, "traced")
	ctx := context.Background()
	svc := &shoalv1.Service{
		Metadata: &shoalv1.ObjectMeta{Namespace: "traced", Name: "web"},
		Spec: &shoalv1.ServiceSpec{
			Selector: labelsOf("web"),
			Ports:    []*shoalv1.ServicePort{{Name: "grpc", Port: 80, TargetPort: intOrStr(50051)}},
		},
	}
	if _, err := client.For[*shoalv1.Service](c.Conn).Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	obs, err := observability.Setup(ctx, observability.NewConfig("user"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Shutdown(context.Background())
	conn := c.GW.Dial(t, client.WithDialOptions(obs.DialOptions()...))
	spanCtx, span := obs.Tracer("test").Start(ctx, "shoalctl apply")
	if _, err := client.For[*shoalv1.Deployment](conn).Create(spanCtx, deployment("traced", "web", 3)); err != nil {
		t.Fatal(err)
	}
	span.End()
	want := span.SpanContext().TraceID()
	traceOf := func(o interface{ GetMetadata() *shoalv1.ObjectMeta }) trace.TraceID {
		return trace.SpanContextFromContext(observability.ObjectContext(ctx, o.GetMetadata().GetAnnotations())).TraceID()
	}
	eventually(t, wait, "3 bound pods in the Deployment's trace", func(ctx context.Context) (bool, string, error) {
		rss, err := client.For[*shoalv1.ReplicaSet](c.Conn).List(ctx, client.ListOptions{Namespace: "traced"})
		if err != nil {
			return false, "", err
		}
		for _, rs := range rss.Items {
			if got := traceOf(rs); got != want {
				return false, fmt.Sprintf("replicaset %s in trace %s", rs.GetMetadata().GetName(), got), nil
			}
		}
		pods, err := podsOf(ctx, c, "traced", "app=web")
		if err != nil {
			return false, "", err
		}
		bound := 0
		for _, p := range pods {
			if got := traceOf(p); got != want {
				return false, fmt.Sprintf("pod %s in trace %s, want %s", p.GetMetadata().GetName(), got, want), nil
			}
			if p.GetSpec().GetNodeName() != "" {
				bound++
			}
		}
		return len(rss.Items) == 1 && bound == 3, fmt.Sprintf("%d replicasets, %d of %d pods bound", len(rss.Items), bound, len(pods)), nil
	})

	eventually(t, wait, "the Endpoints with 3 ready addresses in the Deployment's trace", func(ctx context.Context) (bool, string, error) {
		ep, err := client.For[*shoalv1.Endpoints](c.Conn).Get(ctx, "traced", "web")
		if client.IsNotFound(err) {
			return false, "no endpoints yet", nil
		} else if err != nil {
			return false, "", err
		}
		ready := 0
		for _, a := range ep.GetSpec().GetAddresses() {
			if a.GetReady() {
				ready++
			}
		}
		got := traceOf(ep)
		return ready == 3 && got == want, fmt.Sprintf("%d ready addresses, trace %s, want %s", ready, got, want), nil
	})
}
