package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/internal/binarytest"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/leaderelection"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
	"github.com/shoalmesh/shoal/services/controller/manager"
)

// TestBinary runs the real controller binary against an in-process
// gateway: --help, flags from the environment, health (process and
// leader), the control loops working, metrics, and a clean exit on SIGTERM
// that resigns leadership.
func TestBinary(t *testing.T) {
	bin := binarytest.Build(t, ".")[0]
	binarytest.Help(t, bin, "-gateway", "SHOAL_CONTROLLER_GATEWAY", "-node-monitor-grace-period", "-pod-eviction-timeout",
		"-eviction-rate", "-leader-elect", "-lease-ttl", "-etcd-endpoints", "-workers", "-metrics-addr", "-listen", "-token")
	if out, err := exec.Command(bin, "--workers", "0").CombinedOutput(); err == nil || !strings.Contains(string(out), "workers") {
		t.Errorf("--workers 0 must fail: %v\n%s", err, out)
	}

	gw := gatewaytest.Start(t)
	listen := fmt.Sprintf("127.0.0.1:%d", gatewaytest.FreePort(t))
	metrics := fmt.Sprintf("127.0.0.1:%d", gatewaytest.FreePort(t))
	cmd := exec.Command(bin, "--etcd-endpoints", gw.Gateway.EtcdEndpoint(), "--lease-ttl", "2s", "--identity", "bin-test")
	// Gateway, listen and metrics addresses come from the environment only.
	cmd.Env = append(os.Environ(),
		"SHOAL_CONTROLLER_GATEWAY="+gw.Gateway.Addr(),
		"SHOAL_CONTROLLER_LISTEN="+listen,
		"SHOAL_CONTROLLER_METRICS_ADDR="+metrics,
	)
	p := binarytest.Start(t, cmd)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := client.Dial(ctx, listen)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	p.WaitServing(t, ctx, conn, "", manager.LeaderHealthService)

	// The loops run: a ReplicaSet gets its pods.
	rs := &shoalv1.ReplicaSet{
		Metadata: &shoalv1.ObjectMeta{Namespace: "default", Name: "bin"},
		Spec: &shoalv1.ReplicaSetSpec{
			Replicas: proto.Int32(2),
			Selector: &shoalv1.LabelSelector{MatchLabels: map[string]string{"app": "bin"}},
			Template: &shoalv1.PodTemplateSpec{Metadata: &shoalv1.ObjectMeta{Labels: map[string]string{"app": "bin"}}, Spec: gatewaytest.PodSpec()},
		},
	}
	if _, err := client.For[*shoalv1.ReplicaSet](gw.Conn).Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	for {
		res, err := client.For[*shoalv1.Pod](gw.Conn).List(ctx, client.ListOptions{Namespace: "default", LabelSelector: "app=bin"})
		if err == nil && len(res.Items) == 2 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no pods created: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}

	binarytest.Metrics(t, metrics, "shoal_controller_leader 1", `shoal_workqueue_adds_total{name="replicaset"}`, "shoal_grpc_client_handled_total")

	p.Stop(t)
	// It resigned: nobody leads (no waiting for the 2s lease to expire).
	leader, err := leaderelection.Leader(ctx, gw.Gateway.EtcdClient(), "/shoal/leader/controller")
	if err != nil || leader != "" {
		t.Fatalf("leader after SIGTERM: %q, %v", leader, err)
	}
}
