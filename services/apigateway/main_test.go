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

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
)

// TestBinary runs the real apigateway binary: --help, flags from the
// environment, health, metrics, and a clean drain on SIGTERM.
func TestBinary(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "apigateway")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}

	help, err := exec.Command(bin, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("--help: %v\n%s", err, help)
	}
	for _, want := range []string{"-etcd-endpoints", "SHOAL_APIGATEWAY_ETCD_ENDPOINTS", "-service-cidr", "-token-file"} {
		if !strings.Contains(string(help), want) {
			t.Errorf("--help lacks %q", want)
		}
	}

	listen := fmt.Sprintf("127.0.0.1:%d", gatewaytest.FreePort(t))
	metrics := fmt.Sprintf("127.0.0.1:%d", gatewaytest.FreePort(t))
	cmd := exec.Command(bin,
		"--etcd-data-dir", filepath.Join(dir, "etcd"),
		"--etcd-client-url", fmt.Sprintf("http://127.0.0.1:%d", gatewaytest.FreePort(t)),
		"--etcd-peer-url", fmt.Sprintf("http://127.0.0.1:%d", gatewaytest.FreePort(t)),
	)
	// Listen and metrics addresses come from the environment only.
	cmd.Env = append(os.Environ(), "SHOAL_APIGATEWAY_LISTEN="+listen, "SHOAL_APIGATEWAY_METRICS_ADDR="+metrics)
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
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := client.Dial(ctx, listen)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for {
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("apigateway exited: %v\n%s", err, logs.String())
		case <-ctx.Done():
			t.Fatalf("never healthy: %v\n%s", err, logs.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if _, err := client.For[*shoalv1.Namespace](conn).Create(ctx, gatewaytest.Namespace("bin")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `shoal_grpc_server_handled_total{code="OK",method="CreateNamespace",service="shoal.v1.NamespaceService"} 1`) {
		t.Fatalf("metrics lack the create call:\n%s", body)
	}
	for _, want := range []string{`shoal_apigateway_etcd_request_seconds_count{kind="Namespace",op="create"} 4`, `shoal_apigateway_watchers{kind="Pod"} 0`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s (bootstrap namespaces + 1)", want)
		}
	}

	w, err := client.For[*shoalv1.Namespace](conn).Watch(ctx, client.WatchOptions{FieldSelector: "metadata.name=bin"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Recv(); err != nil { // the initial ADDED
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Draining ends watches cleanly so clients re-watch elsewhere.
	if _, err := w.Recv(); err != io.EOF {
		t.Fatalf("watch during drain: want a clean end (EOF), got %v", err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit 30s after SIGTERM")
	}
}
