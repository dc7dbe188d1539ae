package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
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
	dir := t.TempDir()
	bin := filepath.Join(dir, "scheduler")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	help, err := exec.Command(bin, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("--help: %v\n%s", err, help)
	}
	for _, want := range []string{"-gateway", "-token", "-etcd-endpoints", "-leader-elect", "-lease-ttl",
		"-percentage-of-nodes-to-score", "-metrics-addr", "-listen", "-parallelism", "SHOAL_SCHEDULER_GATEWAY"} {
		if !strings.Contains(string(help), want) {
			t.Errorf("--help lacks %q", want)
		}
	}

	tokens := filepath.Join(dir, "tokens.csv")
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
	var logs strings.Builder
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	hconn, err := client.Dial(ctx, listen)
	if err != nil {
		t.Fatal(err)
	}
	defer hconn.Close()
	for {
		resp, err := healthpb.NewHealthClient(hconn).Check(ctx, &healthpb.HealthCheckRequest{})
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("scheduler exited: %v\n%s", err, logs.String())
		case <-ctx.Done():
			t.Fatalf("never SERVING (leading): %v\n%s", err, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}

	if _, err := client.For[*shoalv1.Node](admin).Create(ctx, gatewaytest.Node("node-a")); err != nil {
		t.Fatal(err)
	}
	if _, err := client.For[*shoalv1.Pod](admin).Create(ctx, gatewaytest.Pod("default", "web", nil)); err != nil {
		t.Fatal(err)
	}
	for {
		p, err := client.For[*shoalv1.Pod](admin).Get(ctx, "default", "web")
		if err != nil {
			t.Fatal(err)
		}
		if p.GetSpec().GetNodeName() == "node-a" {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("pod never bound\n%s", logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}

	resp, err := http.Get("http://" + metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`shoal_scheduler_schedule_attempts_total{result="scheduled"} 1`,
		`shoal_scheduler_is_leader 1`,
		`shoal_scheduler_pending_pods{queue="active"} 0`,
		`shoal_scheduler_bind_duration_seconds_count 1`,
		`shoal_scheduler_pod_scheduling_duration_seconds_count 1`,
		`shoal_grpc_client_handled_total{code="OK",method="/shoal.v1.PodService/BindPod"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no exit 30s after SIGTERM\n%s", logs.String())
	}
	// The lease was resigned on the way out rather than left to expire.
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{env.Gateway.EtcdEndpoint()}, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if leader, err := leaderelection.Leader(ctx, cli, prefix); err != nil || leader != "" {
		t.Errorf("leader after SIGTERM: %q, %v; want none", leader, err)
	}
	if !strings.Contains(logs.String(), `"msg":"stopped leading"`) {
		t.Errorf("logs lack the end of leadership:\n%s", logs.String())
	}
}
