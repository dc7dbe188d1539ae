package lifecycle

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func TestHealthServer(t *testing.T) {
	h, err := ServeHealth("127.0.0.1:0", nil, func(err error) { t.Errorf("serve: %v", err) }, "leader")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(h.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	status := func(service string) healthpb.HealthCheckResponse_ServingStatus {
		t.Helper()
		resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetStatus()
	}
	if got := status(""); got != healthpb.HealthCheckResponse_SERVING {
		t.Errorf(`"" starts %v, want SERVING`, got)
	}
	if got := status("leader"); got != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("leader starts %v, want NOT_SERVING", got)
	}
	h.SetServingStatus("leader", healthpb.HealthCheckResponse_SERVING)
	if got := status("leader"); got != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("leader is %v after SetServingStatus, want SERVING", got)
	}
	h.Shutdown()
	h.SetServingStatus("leader", healthpb.HealthCheckResponse_SERVING) // ignored after Shutdown
	for _, service := range []string{"", "leader"} {
		if got := status(service); got != healthpb.HealthCheckResponse_NOT_SERVING {
			t.Errorf("%q is %v after Shutdown, want NOT_SERVING", service, got)
		}
	}
	h.Stop(time.Second)
	if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err == nil {
		t.Error("Check answered after Stop")
	}
}

func TestNilHealthServer(t *testing.T) {
	var h *HealthServer
	h.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	h.Shutdown()
	h.Stop(time.Second)
	if h.Addr() != "" {
		t.Errorf("Addr of nil = %q", h.Addr())
	}
}
