package scheduler

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/informer"
	"github.com/shoalmesh/shoal/sdk/go/leaderelection"
	"github.com/shoalmesh/shoal/sdk/go/lifecycle"
	"github.com/shoalmesh/shoal/sdk/go/record"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
	"github.com/shoalmesh/shoal/services/scheduler/plugins"
)

// Component is the scheduler's name in Events and telemetry.
const Component = "scheduler"

// Scheduler is a running scheduler replica: informers that are always
// warm, a health server, and an election loop that runs the scheduling
// loop while this replica leads.
type Scheduler struct {
	cfg      Config
	obs      *observability.Observability
	log      *slog.Logger
	tracer   trace.Tracer
	metrics  *metrics
	registry framework.Registry
	profile  framework.Profile

	conn     *grpc.ClientConn
	podsAPI  shoalv1.PodServiceClient
	podsRes  *client.Resource[*shoalv1.Pod]
	pods     *informer.Informer[*shoalv1.Pod]
	nodes    *informer.Informer[*shoalv1.Node]
	recorder *record.Recorder
	etcd     *clientv3.Client

	health *lifecycle.HealthServer

	mu  sync.RWMutex
	cur *term // the scheduling state while leading, nil while standing by

	leading atomic.Bool
	ready   chan struct{} // closed once both informers synced
	errc    chan error
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

// Option adjusts a scheduler beyond its Config (for embedders and tests).
type Option func(*Scheduler) error

// WithRegistry adds out-of-tree plugins to the in-tree registry; a name
// already taken is an error.
func WithRegistry(r framework.Registry) Option {
	return func(s *Scheduler) error { return s.registry.Merge(r) }
}

// WithProfile replaces the default plugin profile.
func WithProfile(p framework.Profile) Option {
	return func(s *Scheduler) error { s.profile = p; return nil }
}

// Start builds a scheduler from cfg and starts it: informers, the health
// server, and the election (or, without election, the scheduling loop). It
// does not wait for the gateway: Ready closes when the caches have synced,
// and IsLeader tells whether this replica schedules. On error nothing is
// left running.
func Start(ctx context.Context, cfg Config, obs *observability.Observability, opts ...Option) (s *Scheduler, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	if cfg.Identity == "" {
		cfg.Identity = defaultIdentity()
	}
	s = &Scheduler{
		cfg:      cfg,
		obs:      obs,
		log:      obs.Logger.With("identity", cfg.Identity),
		tracer:   obs.Tracer("github.com/shoalmesh/shoal/services/scheduler"),
		registry: plugins.NewInTreeRegistry(),
		profile:  plugins.DefaultProfile(),
		ready:    make(chan struct{}),
		errc:     make(chan error, 1),
	}
	defer func() {
		if err != nil {
			s.Close()
			s = nil
		}
	}()
	for _, o := range opts {
		if err := o(s); err != nil {
			return s, fmt.Errorf("scheduler: %w", err)
		}
	}
	// Fail early on a profile that does not build; each term builds its own.
	if _, err := framework.New(s.registry, s.profile); err != nil {
		return s, fmt.Errorf("scheduler: %w", err)
	}
	token := cfg.Token
	if cfg.TokenFile != "" {
		b, err := os.ReadFile(cfg.TokenFile)
		if err != nil {
			return s, fmt.Errorf("scheduler: token file: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	dopts := []client.Option{client.WithDialOptions(obs.DialOptions()...)}
	if token != "" {
		dopts = append(dopts, client.WithToken(token))
	}
	if s.conn, err = client.Dial(ctx, cfg.GatewayAddr, dopts...); err != nil {
		return s, fmt.Errorf("scheduler: dialing gateway: %w", err)
	}
	s.podsAPI = shoalv1.NewPodServiceClient(s.conn)
	s.podsRes = client.For[*shoalv1.Pod](s.conn)
	s.pods = informer.New(s.podsRes,
		// Finished pods hold no resources; they leave the cache as deletes.
		informer.WithFieldSelector("status.phase!=Succeeded,status.phase!=Failed"),
		informer.WithPageSize(5000),
		informer.WithLogger(s.log),
	)
	s.nodes = informer.New(client.For[*shoalv1.Node](s.conn), informer.WithPageSize(5000), informer.WithLogger(s.log))
	s.pods.AddEventHandler(informer.HandlerFuncs[*shoalv1.Pod]{
		AddFunc:    func(p *shoalv1.Pod) { s.withTerm(func(t *term) { t.onPodAdd(p) }) },
		UpdateFunc: func(o, p *shoalv1.Pod) { s.withTerm(func(t *term) { t.onPodUpdate(o, p) }) },
		DeleteFunc: func(p *shoalv1.Pod) { s.withTerm(func(t *term) { t.onPodDelete(p) }) },
	})
	s.nodes.AddEventHandler(informer.HandlerFuncs[*shoalv1.Node]{
		AddFunc:    func(n *shoalv1.Node) { s.withTerm(func(t *term) { t.onNodeAdd(n) }) },
		UpdateFunc: func(o, n *shoalv1.Node) { s.withTerm(func(t *term) { t.onNodeUpdate(o, n) }) },
		DeleteFunc: func(n *shoalv1.Node) { s.withTerm(func(t *term) { t.onNodeDelete(n) }) },
	})
	host, _ := os.Hostname()
	s.recorder = record.New(s.conn, Component, host, s.log)
	if s.metrics, err = newMetrics(obs.Registry, s); err != nil {
		return s, fmt.Errorf("scheduler: metrics: %w", err)
	}

	if le := cfg.LeaderElection; le.Enabled {
		if s.etcd, err = newEtcdClient(ctx, le); err != nil {
			return s, err
		}
	}
	if cfg.ListenAddr != "" {
		s.health, err = lifecycle.ServeHealth(cfg.ListenAddr, obs.ServerOptions(nil, nil), func(err error) {
			select {
			case s.errc <- err:
			default:
			}
		}, "")
		if err != nil {
			return s, fmt.Errorf("scheduler: %w", err)
		}
	}

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.wg.Go(func() { _ = s.pods.Run(runCtx) })
	s.wg.Go(func() { _ = s.nodes.Run(runCtx) })
	s.wg.Go(func() { s.recorder.Run(runCtx) })
	s.wg.Go(func() { s.run(runCtx) })
	s.log.Info("scheduler started", "gateway", cfg.GatewayAddr, "leader_elect", cfg.LeaderElection.Enabled, "health", s.HealthAddr())
	return s, nil
}

// run waits for the caches, then leads: through the election, or at once.
func (s *Scheduler) run(ctx context.Context) {
	if !s.pods.WaitForSync(ctx) || !s.nodes.WaitForSync(ctx) {
		return
	}
	close(s.ready)
	s.log.Info("caches synced", "nodes", len(s.nodes.Keys()), "pods", len(s.pods.Keys()))
	if !s.cfg.LeaderElection.Enabled {
		s.lead(ctx)
		return
	}
	le := s.cfg.LeaderElection
	err := leaderelection.Run(ctx, leaderelection.Config{
		Client: s.etcd, Prefix: le.Prefix, Identity: s.cfg.Identity, TTL: le.TTL, Logger: s.log,
	}, s.lead)
	if err != nil {
		s.log.Error("leader election stopped", "err", err)
		select {
		case s.errc <- err:
		default:
		}
	}
}

// lead runs one term: fresh cache and queue filled from the informers, the
// scheduling loop until ctx ends (shutdown or lost lease), then every bind
// and status write of the term waited for.
func (s *Scheduler) lead(ctx context.Context) {
	t, err := newTerm(ctx, s)
	if err != nil { // the profile was checked in Start
		s.log.Error("cannot start scheduling", "err", err)
		return
	}
	s.mu.Lock()
	t.seed(s.nodes.List(), s.pods.List())
	s.cur = t
	s.mu.Unlock()
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	s.metrics.leader.Set(1)
	s.leading.Store(true)
	s.log.Info("leading: scheduling", "nodes", t.snapLen(), "pending", t.queue.Stats().Active)

	t.run(ctx)

	s.mu.Lock()
	s.cur = nil
	s.mu.Unlock()
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	t.wait()
	s.leading.Store(false)
	s.metrics.leader.Set(0)
	s.log.Info("stopped leading")
}

// withTerm runs fn on the current term, if this replica leads.
func (s *Scheduler) withTerm(fn func(t *term)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.cur != nil {
		fn(s.cur)
	}
}

func (s *Scheduler) currentTerm() *term {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cur
}

// Ready is closed once the pod and node caches have synced.
func (s *Scheduler) Ready() <-chan struct{} { return s.ready }

// Err reports a failure of the health server or the election after Start.
func (s *Scheduler) Err() <-chan error { return s.errc }

// IsLeader reports whether this replica schedules now.
func (s *Scheduler) IsLeader() bool { return s.leading.Load() }

// Identity is this replica's name in the election.
func (s *Scheduler) Identity() string { return s.cfg.Identity }

// HealthAddr is the address of the health server ("" without one).
func (s *Scheduler) HealthAddr() string { return s.health.Addr() }

// Close stops the replica: health goes NOT_SERVING, the scheduling loop
// stops taking pods, in-flight binds are cancelled and waited for, the
// lease is resigned at once (a standby takes over without waiting for the
// TTL), then informers, the health server and the connections close. It is
// idempotent.
func (s *Scheduler) Close() error {
	s.closeOnce.Do(func() {
		s.health.Shutdown()
		if s.cancel != nil {
			s.cancel()
		}
		s.health.Stop(s.cfg.ShutdownTimeout)
		s.wg.Wait()
		var errs []error
		if s.etcd != nil {
			errs = append(errs, s.etcd.Close())
		}
		if s.conn != nil {
			errs = append(errs, s.conn.Close())
		}
		s.closeErr = errors.Join(errs...)
		if s.obs != nil && s.log != nil {
			s.log.Info("scheduler stopped")
		}
	})
	return s.closeErr
}

func defaultIdentity() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "scheduler"
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s_%d_%s", host, os.Getpid(), hex.EncodeToString(b))
}

// newEtcdClient connects to etcd for the election only.
func newEtcdClient(ctx context.Context, le LeaderElectionConfig) (*clientv3.Client, error) {
	cfg := clientv3.Config{
		Endpoints:   le.EtcdEndpoints,
		DialTimeout: 5 * time.Second,
		Context:     context.WithoutCancel(ctx),
		Logger:      zap.NewNop(),
		Username:    le.EtcdUsername,
	}
	if le.EtcdPasswordFile != "" {
		b, err := os.ReadFile(le.EtcdPasswordFile)
		if err != nil {
			return nil, fmt.Errorf("scheduler: etcd password file: %w", err)
		}
		cfg.Password = strings.TrimSpace(string(b))
	}
	if le.EtcdCAFile != "" || le.EtcdCertFile != "" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if le.EtcdCAFile != "" {
			pem, err := os.ReadFile(le.EtcdCAFile)
			if err != nil {
				return nil, fmt.Errorf("scheduler: etcd CA: %w", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("scheduler: etcd CA %s: no certificates", le.EtcdCAFile)
			}
		}
		if le.EtcdCertFile != "" {
			cert, err := tls.LoadX509KeyPair(le.EtcdCertFile, le.EtcdKeyFile)
			if err != nil {
				return nil, fmt.Errorf("scheduler: etcd client certificate: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		cfg.TLS = tc
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("scheduler: etcd client: %w", err)
	}
	return cli, nil
}
