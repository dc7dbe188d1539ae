// Package gatewaytest starts real apigateways (embedded etcd, real gRPC on
// loopback) inside tests, for this service's integration tests and for every
// other service that needs an API to talk to.
package gatewaytest

import (
	"context"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/shoalmesh/shoal/internal/freeport"
	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/apigateway/gateway"
)

// Env is one running gateway and a connection to it.
type Env struct {
	Gateway *gateway.Gateway
	Config  gateway.Config
	Conn    *grpc.ClientConn
	Obs     *observability.Observability
}

// Option adjusts the gateway's configuration.
type Option func(*gateway.Config)

// WithEtcd makes the gateway use an external etcd (e.g. another test
// gateway's embedded one) instead of embedding its own.
func WithEtcd(endpoint string) Option {
	return func(c *gateway.Config) { c.EtcdEndpoints = []string{endpoint} }
}

// WithConfig edits the configuration freely.
func WithConfig(f func(*gateway.Config)) Option { return Option(f) }

// FreePort returns a loopback port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ports, err := freeport.Ports(1)
	if err != nil {
		t.Fatal(err)
	}
	return ports[0]
}

// Config returns a test configuration: loopback ports, a temporary data
// dir, no fsync, fast bookmarks.
func Config(t testing.TB) gateway.Config {
	cfg, err := gateway.LoopbackConfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg.BookmarkInterval = 200 * time.Millisecond
	cfg.ShutdownTimeout = 2 * time.Second
	return cfg
}

// Start runs a gateway until the test ends.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	cfg := Config(t)
	for _, o := range opts {
		o(&cfg)
	}
	return StartConfig(t, cfg)
}

// StartConfig runs a gateway with exactly cfg until the test ends (or
// until the caller closes it).
func StartConfig(t testing.TB, cfg gateway.Config) *Env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	obs, err := observability.Setup(ctx, observability.NewConfig("apigateway-test"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.Start(ctx, cfg, obs)
	if err != nil {
		t.Fatalf("starting gateway: %v", err)
	}
	conn, err := client.Dial(ctx, gw.Addr())
	if err != nil {
		gw.Close()
		t.Fatal(err)
	}
	env := &Env{Gateway: gw, Config: cfg, Conn: conn, Obs: obs}
	t.Cleanup(func() {
		conn.Close()
		gw.Close()
		obs.Shutdown(context.Background())
	})
	return env
}

// Dial opens another connection to the gateway (e.g. with a token).
func (e *Env) Dial(t testing.TB, opts ...client.Option) *grpc.ClientConn {
	t.Helper()
	conn, err := client.Dial(context.Background(), e.Gateway.Addr(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
