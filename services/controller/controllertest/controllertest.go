// Package controllertest starts a whole control plane in-process for
// integration tests: a real apigateway with embedded etcd
// (gatewaytest), the real scheduler (services/scheduler), one or more
// controller managers over real gRPC, and fake nodes served by fakeagent.
// fakeagent's Binder can stand in for the scheduler. Intervals are short
// (3 s node grace period, 1 s eviction timeout) so that failure scenarios
// finish in seconds.
package controllertest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
	"github.com/shoalmesh/shoal/services/controller/fakeagent"
	"github.com/shoalmesh/shoal/services/controller/manager"
	"github.com/shoalmesh/shoal/services/scheduler/scheduler"
)

// Options shape a test cluster.
type Options struct {
	// Nodes is how many fake nodes to register (default 3), named node-0,
	// node-1, ...
	Nodes int
	// Managers is how many controller managers to run (default 1); with
	// more than one they elect a leader in the gateway's etcd.
	Managers int
	// Agent tunes the fake node agent.
	Agent fakeagent.Config
	// Binder binds pods with fakeagent's Binder instead of the real
	// scheduler.
	Binder bool
	// NoScheduler leaves pods unbound.
	NoScheduler bool
	// Config edits each manager's configuration.
	Config func(*manager.Config)
}

// Cluster is a running test control plane.
type Cluster struct {
	GW        *gatewaytest.Env
	Conn      *grpc.ClientConn
	Agent     *fakeagent.Agent
	Binder    *fakeagent.Binder
	Scheduler *scheduler.Scheduler
	Managers  []*manager.Manager
	Nodes     []string

	opts   Options
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Config returns a manager configuration for tests against gw: no health
// listener port clash (127.0.0.1:0), short node intervals (a 3 s grace
// period against the fake agent's 300 ms lease renewals leaves room for a
// loaded machine), quick quota recounts.
func Config(gw *gatewaytest.Env) manager.Config {
	cfg := manager.NewConfig()
	cfg.Gateway = gw.Gateway.Addr()
	cfg.LeaderElect = false
	cfg.EtcdEndpoints = []string{gw.Gateway.EtcdEndpoint()}
	cfg.LeaseTTL = 2 * time.Second
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.Workers = 4
	cfg.NodeLifecycle.GracePeriod = 3 * time.Second
	cfg.NodeLifecycle.MonitorPeriod = 100 * time.Millisecond
	cfg.NodeLifecycle.PodEvictionTimeout = time.Second
	cfg.NodeLifecycle.EvictionRate = 100
	cfg.QuotaResync = 5 * time.Second
	cfg.ShutdownTimeout = 2 * time.Second
	return cfg
}

// Logger writes debug logs to stderr when SHOAL_TEST_LOG is set, else
// nowhere.
func Logger() *slog.Logger {
	if os.Getenv("SHOAL_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// Start runs a cluster until the test ends.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.Nodes == 0 {
		opts.Nodes = 3
	}
	if opts.Managers == 0 {
		opts.Managers = 1
	}
	if opts.Agent.Logger == nil {
		opts.Agent.Logger = Logger()
	}
	if opts.Agent.RenewInterval == 0 {
		opts.Agent.RenewInterval = 300 * time.Millisecond
	}
	gw := gatewaytest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	c := &Cluster{GW: gw, Conn: gw.Conn, opts: opts, ctx: ctx, cancel: cancel}
	t.Cleanup(c.stop)

	c.Agent = fakeagent.New(gw.Conn, opts.Agent)
	c.wg.Go(func() { _ = c.Agent.Run(ctx) })
	for i := range opts.Nodes {
		name := fmt.Sprintf("node-%d", i)
		if err := c.Agent.AddNode(ctx, name, nil); err != nil {
			t.Fatal(err)
		}
		c.Nodes = append(c.Nodes, name)
	}
	switch {
	case opts.NoScheduler:
	case opts.Binder:
		c.Binder = fakeagent.NewBinder(gw.Conn, Logger())
		c.wg.Go(func() { _ = c.Binder.Run(ctx) })
	default:
		c.startScheduler(t)
	}
	for range opts.Managers {
		c.StartManager(t)
	}
	return c
}

// StartManager starts one more controller manager (leader-elected when the
// cluster has more than one).
func (c *Cluster) StartManager(t testing.TB) *manager.Manager {
	t.Helper()
	cfg := Config(c.GW)
	cfg.LeaderElect = c.opts.Managers > 1
	cfg.Identity = fmt.Sprintf("controller-%d", len(c.Managers))
	if c.opts.Config != nil {
		c.opts.Config(&cfg)
	}
	obs, err := c.observability("controller-test")
	if err != nil {
		t.Fatal(err)
	}
	m, err := manager.Start(c.ctx, cfg, obs)
	if err != nil {
		t.Fatalf("starting controller manager: %v", err)
	}
	c.Managers = append(c.Managers, m)
	t.Cleanup(func() {
		m.Close()
		obs.Shutdown(context.Background())
	})
	return m
}

// startScheduler runs the real scheduler, without election.
func (c *Cluster) startScheduler(t testing.TB) {
	t.Helper()
	cfg := scheduler.NewConfig()
	cfg.GatewayAddr = c.GW.Gateway.Addr()
	cfg.ListenAddr = ""
	cfg.LeaderElection.Enabled = false
	cfg.Scheduling.PodInitialBackoff = 100 * time.Millisecond
	cfg.Scheduling.PodMaxBackoff = time.Second
	cfg.Scheduling.RecordScheduledEvents = false
	obs, err := c.observability("scheduler-test")
	if err != nil {
		t.Fatal(err)
	}
	s, err := scheduler.Start(c.ctx, cfg, obs)
	if err != nil {
		t.Fatalf("starting the scheduler: %v", err)
	}
	c.Scheduler = s
	t.Cleanup(func() {
		s.Close()
		obs.Shutdown(context.Background())
	})
}

func (c *Cluster) observability(service string) (*observability.Observability, error) {
	ocfg := observability.NewConfig(service)
	ocfg.LogLevel = "debug"
	out := io.Discard
	if os.Getenv("SHOAL_TEST_LOG") != "" {
		out = os.Stderr
	}
	return observability.Setup(c.ctx, ocfg, out)
}

func (c *Cluster) stop() {
	for _, m := range c.Managers {
		m.Close()
	}
	c.cancel()
	c.wg.Wait()
}

// Leader returns the manager that leads, or nil.
func (c *Cluster) Leader() *manager.Manager {
	for _, m := range c.Managers {
		if m.IsLeader() {
			return m
		}
	}
	return nil
}

// Eventually polls cond every 20 ms until it reports done, failing the test
// with cond's last description after timeout. Timeouts are generous: they
// catch hangs, they do not measure speed.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func(ctx context.Context) (done bool, state string, err error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last string
	for {
		callCtx, callCancel := context.WithTimeout(ctx, 5*time.Second)
		done, state, err := cond(callCtx)
		callCancel()
		if err == nil && done {
			return
		}
		if err != nil {
			last = err.Error()
		} else {
			last = state
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out after %v waiting for %s; last: %s", timeout, what, last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
