// Package manager assembles the controller service: a connection to the
// apigateway, leader election over etcd, and, while this replica leads, one
// set of shared informers feeding every control loop (ReplicaSet,
// Deployment, Endpoints, node lifecycle, Namespace, garbage collector,
// ResourceQuota). It also serves grpc.health.v1. main.go only turns flags
// into a Config; tests start managers in-process the same way:
//
//	cfg := manager.NewConfig()
//	cfg.Gateway = gw.Addr()
//	cfg.LeaderElect = false
//	m, err := manager.Start(ctx, cfg, obs)
//	if err != nil { ... }
//	defer m.Close()
//
// Every leadership term starts from empty caches: informers are built,
// synced and run only while leading, and stop when leadership is lost, so
// a new leader never acts on what an old term believed.
package manager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/leaderelection"
	"github.com/shoalmesh/shoal/sdk/go/lifecycle"
	"github.com/shoalmesh/shoal/sdk/go/record"
	"github.com/shoalmesh/shoal/sdk/go/workqueue"
	"github.com/shoalmesh/shoal/services/controller/control"
	"github.com/shoalmesh/shoal/services/controller/deployment"
	"github.com/shoalmesh/shoal/services/controller/endpoints"
	"github.com/shoalmesh/shoal/services/controller/gc"
	"github.com/shoalmesh/shoal/services/controller/informers"
	"github.com/shoalmesh/shoal/services/controller/namespace"
	"github.com/shoalmesh/shoal/services/controller/nodelifecycle"
	"github.com/shoalmesh/shoal/services/controller/quota"
	"github.com/shoalmesh/shoal/services/controller/replicaset"
)

// LeaderHealthService is the grpc.health.v1 service name that is SERVING
// while this replica leads.
const LeaderHealthService = "shoal.controller.Leader"

// Component is the event source of everything the controllers record.
const Component = "controller"

// Manager is a running controller service.
type Manager struct {
	cfg     Config
	log     *slog.Logger
	conn    *grpc.ClientConn
	etcd    *clientv3.Client
	rec     *record.Recorder
	metrics *workqueue.PrometheusMetrics
	leader  prometheus.Gauge
	tracer  trace.Tracer

	health *lifecycle.HealthServer

	leading atomic.Bool
	terms   atomic.Int64

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	ready     chan struct{}
	errs      chan error
	closeOnce sync.Once
	closeErr  error
}

// Start brings a controller manager up: it returns once the health server
// listens and the campaign (or, without election, the control loops) has
// started.
func Start(ctx context.Context, cfg Config, obs *observability.Observability) (m *Manager, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("controller: %w", err)
	}
	if cfg.Identity == "" {
		host, _ := os.Hostname()
		cfg.Identity = fmt.Sprintf("%s_%d", host, os.Getpid())
	}
	m = &Manager{cfg: cfg, log: obs.Logger, ready: make(chan struct{}), errs: make(chan error, 2),
		tracer: obs.Tracer("github.com/shoalmesh/shoal/services/controller")}
	defer func() {
		if err != nil {
			m.Close()
			m = nil
		}
	}()

	opts := []client.Option{client.WithDialOptions(obs.DialOptions()...)}
	if cfg.Token != "" {
		opts = append(opts, client.WithToken(cfg.Token))
	}
	if m.conn, err = client.Dial(ctx, cfg.Gateway, opts...); err != nil {
		return m, fmt.Errorf("controller: dialing the gateway: %w", err)
	}
	host, _ := os.Hostname()
	m.rec = record.New(m.conn, Component, host, obs.Logger)
	if m.metrics, err = workqueue.NewPrometheusMetrics(obs.Registry); err != nil {
		return m, fmt.Errorf("controller: %w", err)
	}
	m.leader = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "shoal_controller_leader", Help: "1 while this controller manager leads, else 0.",
	})
	if err := obs.Registry.Register(m.leader); err != nil {
		var already prometheus.AlreadyRegisteredError
		if !errors.As(err, &already) {
			return m, fmt.Errorf("controller: %w", err)
		}
		m.leader = already.ExistingCollector.(prometheus.Gauge)
	}

	if cfg.LeaderElect {
		m.etcd, err = clientv3.New(clientv3.Config{
			Endpoints: cfg.EtcdEndpoints, DialTimeout: 5 * time.Second,
			Context: context.WithoutCancel(ctx), Logger: zap.NewNop(),
		})
		if err != nil {
			return m, fmt.Errorf("controller: etcd client: %w", err)
		}
	}

	if cfg.ListenAddr != "" {
		m.health, err = lifecycle.ServeHealth(cfg.ListenAddr, obs.ServerOptions(nil, nil), func(err error) {
			m.errs <- fmt.Errorf("controller: health server: %w", err)
		}, LeaderHealthService)
		if err != nil {
			return m, fmt.Errorf("controller: %w", err)
		}
	}

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancel = cancel
	m.wg.Go(func() { m.rec.Run(runCtx) })
	m.wg.Go(func() {
		if !cfg.LeaderElect {
			m.lead(runCtx)
			return
		}
		err := leaderelection.Run(runCtx, leaderelection.Config{
			Client: m.etcd, Prefix: cfg.ElectionPrefix, Identity: cfg.Identity, TTL: cfg.LeaseTTL, Logger: m.log,
		}, m.lead)
		if err != nil {
			m.errs <- err
		}
	})
	m.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	close(m.ready)
	m.log.Info("controller manager started", "gateway", cfg.Gateway, "identity", cfg.Identity,
		"leader_elect", cfg.LeaderElect, "health_addr", m.Addr())
	return m, nil
}

// lead runs one leadership term: fresh informers, every enabled control
// loop, until ctx ends (leadership lost or shutdown).
func (m *Manager) lead(ctx context.Context) {
	m.setLeading(true)
	defer m.setLeading(false)
	term := m.terms.Add(1)
	log := m.log.With("term", term)
	log.InfoContext(ctx, "leading: starting controllers")

	set := informers.New(m.conn, log)
	cc := &control.Context{Informers: set, Conn: m.conn, Recorder: m.rec, Log: log, Metrics: m.metrics, Tracer: m.tracer}
	ctrls := m.controllers(cc)

	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { set.Run(ctx) })
	if !set.WaitForSync(ctx) {
		return
	}
	log.InfoContext(ctx, "caches synced", "controllers", len(ctrls))
	for _, c := range ctrls {
		wg.Go(func() { c.Run(ctx, m.cfg.Workers) })
	}
	<-ctx.Done()
	log.Info("leadership ended: stopping controllers")
}

func (m *Manager) controllers(cc *control.Context) []control.Controller {
	var out []control.Controller
	add := func(name string, build func() control.Controller) {
		if m.cfg.runs(name) {
			out = append(out, build())
		}
	}
	add(replicaset.Name, func() control.Controller { return replicaset.New(cc) })
	add(deployment.Name, func() control.Controller { return deployment.New(cc) })
	add(endpoints.Name, func() control.Controller { return endpoints.New(cc) })
	add(nodelifecycle.Name, func() control.Controller { return nodelifecycle.New(cc, m.cfg.NodeLifecycle) })
	add(namespace.Name, func() control.Controller { return namespace.New(cc) })
	add(gc.Name, func() control.Controller { return gc.New(cc) })
	add(quota.Name, func() control.Controller { return quota.New(cc, m.cfg.QuotaResync) })
	return out
}

func (m *Manager) setLeading(on bool) {
	m.leading.Store(on)
	status := healthpb.HealthCheckResponse_NOT_SERVING
	if on {
		m.leader.Set(1)
		status = healthpb.HealthCheckResponse_SERVING
	} else {
		m.leader.Set(0)
	}
	m.health.SetServingStatus(LeaderHealthService, status)
}

// IsLeader reports whether this replica currently runs the control loops.
func (m *Manager) IsLeader() bool { return m.leading.Load() }

// Terms counts the leadership terms this replica has started.
func (m *Manager) Terms() int64 { return m.terms.Load() }

// Identity is this replica's name in the election.
func (m *Manager) Identity() string { return m.cfg.Identity }

// Addr is the health server's address ("" when it is off).
func (m *Manager) Addr() string { return m.health.Addr() }

// Ready is closed once the manager runs: health served, campaigning (or,
// without election, leading). Start returns only after that, so it is
// closed for any Manager a caller holds; it exists for symmetry with the
// other services. Use IsLeader or the LeaderHealthService to know whether
// this replica runs the loops.
func (m *Manager) Ready() <-chan struct{} { return m.ready }

// Err reports failures after Start: the health server stopped, or the
// election could not run.
func (m *Manager) Err() <-chan error { return m.errs }

// Close stops the manager: health goes NOT_SERVING, the control loops stop
// and, when leading, leadership is resigned at once so a standby takes
// over without waiting for the lease to expire; then the health server
// stops (gracefully, within ShutdownTimeout) and the connections close. It
// is idempotent.
func (m *Manager) Close() error {
	m.closeOnce.Do(func() {
		m.health.Shutdown()
		if m.cancel != nil {
			m.cancel()
		}
		m.health.Stop(m.cfg.ShutdownTimeout)
		m.wg.Wait()
		var errs []error
		if m.etcd != nil {
			errs = append(errs, m.etcd.Close())
		}
		if m.conn != nil {
			errs = append(errs, m.conn.Close())
		}
		m.closeErr = errors.Join(errs...)
		m.log.Info("controller manager stopped", "identity", m.cfg.Identity)
	})
	return m.closeErr
}
