package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/internal/binarytest"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/leaderelection"
	"github.com/shoalmesh/shoal/services/apigateway/gateway"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
)

// TestBinary runs the real scheduler binary against a gateway that
// authenticates: --help, flags from the environment, a token of group
// system:controllers, leader election on the gateway's etcd, health,
// metrics, a bound pod, and on SIGTERM a clean exit that resigns the lease.
func TestBinary(t *testing.T) {
	bin := binarytest.Build(t, ".")[0]
	binarytest.Help(t, bin, "-gateway", "-token", "-etcd-endpoints", "-leader-elect", "-lease-ttl",
		"-percentage-of-nodes-to-score", "-metrics-addr", "-listen", "-parallelism", "SHOAL_SCHEDULER_GATEWAY")

	tokens := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(tokens, []byte("admin-token,admin,1,system:masters\nsched-token,system:scheduler,2,system:controllers\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := gatewaytest.Start(t, gatewaytest.WithConfig(func(c *gateway.Config) { c.TokenFile = tokens }))
	admin := env.Dial(t, client.WithToken("admin-token"))

	listen := fmt.Sprintf("127.0.0.1:%d", gatewaytest.FreePort(t))
	metrics := fmt.Sprintf("127.0.0.1:%d", gatewaytest.FreePort(t))
	const prefix = "/shoal/leader/scheduler-bin"
	cmd := exec.Command(bin, "--lease-ttl", "2s", "--leader-elect-prefix", prefix)
	cmd.Env = append(os.Environ(),
		"SHOAL_SCHEDULER_GATEWAY="+env.Gateway.Addr(),
		"SHOAL_SCHEDULER_TOKEN=sched-token",
		"SHOAL_SCHEDULER_ETCD_ENDPOINTS="+env.Gateway.EtcdEndpoint(),
		"SHOAL_SCHEDULER_LISTEN="+listen,
		"SHOAL_SCHEDULER_METRICS_ADDR="+metrics,
	)
	p := binarytest.Start(t, cmd)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	hconn, err := client.Dial(ctx, listen)
	if err != nil {
		t.Fatal(err)
	}
	defer hconn.Close()
	p.WaitServing(t, ctx, hconn) // the scheduler is SERVING only while it leads

	if _, err := client.For[*shoalv1.Node](admin).Create(ctx, gatewaytest.Node("node-a")); err != nil {
		t.Fatal(err)
	}
	if _, err := client.For[*shoalv1.Pod](admin).Create(ctx, gatewaytest.Pod("default", "web", nil)); err != nil {
		t.Fatal(err)
	}
	for {
		pod, err := client.For[*shoalv1.Pod](admin).Get(ctx, "default", "web")
		if err != nil {
			t.Fatal(err)
		}
		if pod.GetSpec().GetNodeName() == "node-a" {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("pod never bound")
		case <-time.After(50 * time.Millisecond):
		}
	}

	binarytest.Metrics(t, metrics,
		`shoal_scheduler_schedule_attempts_total{result="scheduled"} 1`,
		`shoal_scheduler_is_leader 1`,
		`shoal_scheduler_pending_pods{queue="active"} 0`,
		`shoal_scheduler_bind_duration_seconds_count 1`,
		`shoal_scheduler_pod_scheduling_duration_seconds_count 1`,
		`shoal_grpc_client_handled_total{code="OK",method="/shoal.v1.PodService/BindPod"} 1`,
	)

	p.Stop(t)
	// The lease was resigned on the way out rather than left to expire.
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{env.Gateway.EtcdEndpoint()}, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if leader, err := leaderelection.Leader(ctx, cli, prefix); err != nil || leader != "" {
		t.Errorf("leader after SIGTERM: %q, %v; want none", leader, err)
	}
	if !strings.Contains(p.Logs(), `"msg":"stopped leading"`) {
		t.Errorf("logs lack the end of leadership:\n%s", p.Logs())
	}
}
