package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/internal/binarytest"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/apigateway/gateway"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
)

// TestBinary runs the real apigateway binary: --help, flags from the
// environment, health, metrics, and a clean drain on SIGTERM.
func TestBinary(t *testing.T) {
	bin := binarytest.Build(t, ".")[0]
	binarytest.Help(t, bin, "-etcd-endpoints", "SHOAL_APIGATEWAY_ETCD_ENDPOINTS", "-service-cidr", "-token-file")

	// A bad flag value is refused, naming the flag, before anything starts.
	if out, err := exec.Command(bin, "--gc-percent=-2").CombinedOutput(); err == nil || !strings.Contains(string(out), "--gc-percent") {
		t.Errorf("--gc-percent=-2: err %v, output %q; want a failure naming the flag", err, out)
	}

	dir := t.TempDir()
	listen := fmt.Sprintf("127.0.0.1:%d", gatewaytest.FreePort(t))
	metrics := fmt.Sprintf("127.0.0.1:%d", gatewaytest.FreePort(t))
	cmd := exec.Command(bin,
		"--etcd-data-dir", filepath.Join(dir, "etcd"),
		"--etcd-client-url", fmt.Sprintf("http://127.0.0.1:%d", gatewaytest.FreePort(t)),
		"--etcd-peer-url", fmt.Sprintf("http://127.0.0.1:%d", gatewaytest.FreePort(t)),
	)
	// Listen and metrics addresses come from the environment only; without
	// GOGC there the gateway's own GC target applies.
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GOGC=") })
	cmd.Env = append(env, "SHOAL_APIGATEWAY_LISTEN="+listen, "SHOAL_APIGATEWAY_METRICS_ADDR="+metrics)
	p := binarytest.Start(t, cmd)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := client.Dial(ctx, listen)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	p.WaitServing(t, ctx, conn)
	if _, err := client.For[*shoalv1.Namespace](conn).Create(ctx, gatewaytest.Namespace("bin")); err != nil {
		t.Fatal(err)
	}
	binarytest.Metrics(t, metrics,
		`shoal_grpc_server_handled_total{code="OK",method="CreateNamespace",service="shoal.v1.NamespaceService"} 1`,
		// The bootstrap namespaces, plus the one above.
		`shoal_apigateway_etcd_request_seconds_count{kind="Namespace",op="create"} 4`,
		`shoal_apigateway_watchers{kind="Pod"} 0`,
		fmt.Sprintf("go_gc_gogc_percent %d", gateway.DefaultGCPercent),
	)

	w, err := client.For[*shoalv1.Namespace](conn).Watch(ctx, client.WatchOptions{FieldSelector: "metadata.name=bin"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Recv(); err != nil { // the initial ADDED
		t.Fatal(err)
	}
	p.Terminate(t)
	// Draining ends watches cleanly so clients re-watch elsewhere.
	if _, err := w.Recv(); err != io.EOF {
		t.Fatalf("watch during drain: want a clean end (EOF), got %v", err)
	}
	p.WaitExit(t)
}
