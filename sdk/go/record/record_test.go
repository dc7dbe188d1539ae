package record_test

import (
	"context"
	"testing"
	"time"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/record"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
)

func TestRepeatedEventsAggregate(t *testing.T) {
	env := gatewaytest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := client.For[*shoalv1.Namespace](env.Conn).Create(ctx, gatewaytest.Namespace("ev")); err != nil {
		t.Fatal(err)
	}
	pod, err := client.For[*shoalv1.Pod](env.Conn).Create(ctx, gatewaytest.Pod("ev", "p", nil))
	if err != nil {
		t.Fatal(err)
	}
	rec := record.New(env.Conn, "scheduler", "host-1", nil)
	go rec.Run(ctx)
	for i := 0; i < 3; i++ {
		rec.Event(pod, shoalv1.EventType_EVENT_TYPE_WARNING, "FailedScheduling", "0/3 nodes: 3 insufficient cpu")
	}
	rec.Event(pod, shoalv1.EventType_EVENT_TYPE_NORMAL, "Scheduled", "placed on node-a")
	events := client.For[*shoalv1.Event](env.Conn)
	for {
		list, err := events.List(ctx, client.ListOptions{Namespace: "ev"})
		if err != nil {
			t.Fatal(err)
		}
		counts := map[string]int32{}
		for _, e := range list.Items {
			counts[e.GetSpec().GetReason()] = e.GetSpec().GetCount()
			if e.GetSpec().GetInvolvedObject().GetUid() != pod.GetMetadata().GetUid() || e.GetSpec().GetSource().GetComponent() != "scheduler" {
				t.Fatalf("event %v does not point at the pod from the scheduler", e.GetSpec())
			}
		}
		if counts["FailedScheduling"] == 3 && counts["Scheduled"] == 1 && len(list.Items) == 2 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("events never aggregated: %v", counts)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
