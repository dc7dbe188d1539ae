// Package gateway assembles the apigateway: etcd (embedded or external), the
// registry with its watch caches, and the gRPC server with health,
// reflection, the one interceptor chain and metrics. main.go only turns
// flags into a Config; tests start gateways in-process the same way.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/internal/freeport"
	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/services/apigateway/api"
	"github.com/shoalmesh/shoal/services/apigateway/auth"
	"github.com/shoalmesh/shoal/services/apigateway/embedetcd"
	"github.com/shoalmesh/shoal/services/apigateway/registry"
	"github.com/shoalmesh/shoal/services/apigateway/storage"
)

// Config is everything a gateway needs.
type Config struct {
	// ListenAddr is the gRPC address, e.g. 127.0.0.1:6443.
	ListenAddr string
	// EtcdEndpoints of an external etcd; empty embeds one.
	EtcdEndpoints []string
	// Embedded etcd settings (used when EtcdEndpoints is empty).
	EtcdDataDir       string
	EtcdClientURL     string
	EtcdPeerURL       string
	EtcdCompaction    time.Duration
	EtcdUnsafeNoFsync bool
	EtcdLogLevel      string

	ServiceCIDR string
	// TokenFile enables authentication; empty lets every caller in as an
	// anonymous administrator (local development only).
	TokenFile string

	WatchCacheSize   int
	BookmarkInterval time.Duration
	// ShutdownTimeout bounds the graceful drain on Close.
	ShutdownTimeout time.Duration
}

// DefaultGCPercent is the gateway's garbage collection target (GOGC),
// three times Go's default. A collection's cost grows with the number of
// open watch streams, each a goroutine whose stack is scanned, and one
// that starts while a write fans out to every watcher has the sending
// goroutines do its marking (each owes the collector work as soon as it
// allocates): with 10,000 watchers that added about 100 ms to one event
// in every 60 at Go's default. At 300 it is one event in about 230, for a
// heap peak of about 310 MB and 385 MiB RSS (docs/benchmarks.md).
const DefaultGCPercent = 300

// NewConfig returns the defaults.
func NewConfig() Config {
	return Config{
		ListenAddr:       "127.0.0.1:6443",
		EtcdDataDir:      "/var/lib/shoal/etcd",
		EtcdClientURL:    "http://127.0.0.1:2379",
		EtcdPeerURL:      "http://127.0.0.1:2380",
		EtcdCompaction:   10 * time.Minute,
		ServiceCIDR:      "10.96.0.0/16",
		WatchCacheSize:   10000,
		BookmarkInterval: 5 * time.Second,
		ShutdownTimeout:  10 * time.Second,
	}
}

// Validate checks the configuration without side effects.
func (c Config) Validate() error {
	var errs []error
	if c.ListenAddr == "" {
		errs = append(errs, errors.New("listen address is required"))
	}
	if len(c.EtcdEndpoints) == 0 && c.EtcdDataDir == "" {
		errs = append(errs, errors.New("an etcd data dir is required for the embedded etcd"))
	}
	if c.WatchCacheSize < 1 {
		errs = append(errs, errors.New("watch cache size must be positive"))
	}
	if c.BookmarkInterval <= 0 {
		errs = append(errs, errors.New("bookmark interval must be positive"))
	}
	return errors.Join(errs...)
}

// Gateway is a running apigateway.
type Gateway struct {
	cfg     Config
	obs     *observability.Observability
	etcd    *embed.Etcd
	cli     *clientv3.Client
	reg     *registry.Registry
	server  *grpc.Server
	health  *health.Server
	lis     net.Listener
	podLogs *api.PodLogs

	cancel    context.CancelFunc
	cachesEnd chan struct{}
	serveErr  chan error
	closeOnce sync.Once
	closeErr  error
}

// Start brings a gateway up and returns once it serves with warm caches.
func Start(ctx context.Context, cfg Config, obs *observability.Observability) (g *Gateway, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	g = &Gateway{cfg: cfg, obs: obs, cachesEnd: make(chan struct{}), serveErr: make(chan error, 1)}
	defer func() {
		if err != nil {
			g.Close()
			g = nil
		}
	}()
	log := obs.Logger
	endpoints := cfg.EtcdEndpoints
	if len(endpoints) == 0 {
		log.Info("starting embedded etcd", "dir", cfg.EtcdDataDir, "client_url", cfg.EtcdClientURL)
		if g.etcd, err = embedetcd.Start(ctx, embedetcd.Config{
			DataDir: cfg.EtcdDataDir, ClientURL: cfg.EtcdClientURL, PeerURL: cfg.EtcdPeerURL,
			CompactionRetention: cfg.EtcdCompaction, UnsafeNoFsync: cfg.EtcdUnsafeNoFsync, LogLevel: cfg.EtcdLogLevel,
		}); err != nil {
			return g, err
		}
		endpoints = []string{cfg.EtcdClientURL}
	}
	if g.etcd != nil {
		// The embedded etcd is called in-process, by function calls
		// instead of gRPC over loopback: every write and the watch stream
		// skip a marshal, a socket round trip and an unmarshal on each
		// side. Other gateways still reach it on its client URL.
		g.cli = embedetcd.NewClient(g.etcd.Server)
	} else if g.cli, err = clientv3.New(clientv3.Config{
		Endpoints:          endpoints,
		DialTimeout:        5 * time.Second,
		Context:            context.WithoutCancel(ctx),
		Logger:             zap.NewNop(),
		MaxCallRecvMsgSize: 256 << 20,
	}); err != nil {
		return g, fmt.Errorf("gateway: etcd client: %w", err)
	}
	cc := storage.DefaultCacherConfig()
	if obs.Registry != nil {
		if cc.Metrics, err = storage.NewMetrics(obs.Registry); err != nil {
			return g, err
		}
	}
	cc.Capacity = cfg.WatchCacheSize
	if g.etcd != nil {
		cc.NewWatcher = func() clientv3.Watcher { return embedetcd.NewWatcher(g.etcd.Server, g.cli) }
	}
	cc.BookmarkInterval = cfg.BookmarkInterval
	g.reg, err = registry.New(g.cli, registry.Config{ServiceCIDR: cfg.ServiceCIDR, Cacher: cc, Logger: log})
	if err != nil {
		return g, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	g.cancel = cancel
	go func() {
		g.reg.Run(runCtx)
		close(g.cachesEnd)
	}()
	waitCtx, cancelWait := context.WithTimeout(ctx, 60*time.Second)
	defer cancelWait()
	if err := g.reg.WaitReady(waitCtx); err != nil {
		return g, fmt.Errorf("gateway: watch caches not ready: %w", err)
	}

	if err := bootstrapNamespaces(waitCtx, g.reg); err != nil {
		return g, err
	}

	var tokens *auth.Tokens
	if cfg.TokenFile != "" {
		if tokens, err = auth.LoadTokenFile(cfg.TokenFile); err != nil {
			return g, err
		}
	} else {
		log.Warn("authentication is off (no --token-file): every caller is an administrator")
	}
	authn := &auth.Interceptors{Tokens: tokens, Describe: api.Describe()}
	opts := obs.ServerOptions([]grpc.UnaryServerInterceptor{authn.Unary}, []grpc.StreamServerInterceptor{authn.Stream})
	opts = append(opts,
		api.ServerCodec(),
		grpc.MaxRecvMsgSize(8<<20),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		// Watches are long streams: allow many per connection.
		grpc.MaxConcurrentStreams(1<<20),
		// A request on a fresh goroutine grew its stack from the minimum
		// on every call (runtime.newstack was 6-8 % of a create's CPU);
		// pooled workers keep theirs. When all are busy (watches hold one
		// each for their lifetime) gRPC starts a goroutine as before.
		grpc.NumStreamWorkers(streamWorkers),
	)
	g.server = grpc.NewServer(opts...)
	if err := api.Register(g.server, g.reg, log); err != nil {
		return g, err
	}
	g.podLogs = api.NewPodLogs(g.reg, log, obs.DialOptions()...)
	shoalv1.RegisterPodLogServiceServer(g.server, g.podLogs)
	g.health = health.NewServer()
	healthpb.RegisterHealthServer(g.server, g.health)
	reflection.Register(g.server)
	if obs.Registry != nil {
		if err := obs.Registry.Register(&watchCollector{reg: g.reg}); err != nil {
			return g, err
		}
		if err := obs.Registry.Register(&nodeCollector{reg: g.reg}); err != nil {
			return g, err
		}
	}

	if g.lis, err = net.Listen("tcp", cfg.ListenAddr); err != nil {
		return g, fmt.Errorf("gateway: %w", err)
	}
	go func() { g.serveErr <- g.server.Serve(g.lis) }()
	g.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	log.Info("apigateway serving", "addr", g.lis.Addr().String(), "etcd", endpoints)
	return g, nil
}

// Addr is the address the gRPC server listens on.
func (g *Gateway) Addr() string { return g.lis.Addr().String() }

// EtcdClient is the gateway's etcd client (tests compact with it).
func (g *Gateway) EtcdClient() *clientv3.Client { return g.cli }

// EtcdEndpoint is the embedded etcd's client URL ("" with an external etcd).
func (g *Gateway) EtcdEndpoint() string {
	if g.etcd == nil {
		return ""
	}
	return g.cfg.EtcdClientURL
}

// Err reports a failure of the gRPC server after Start.
func (g *Gateway) Err() <-chan error { return g.serveErr }

// Close drains and stops the gateway: health goes NOT_SERVING, watches end
// (clients resume elsewhere from their last revision), in-flight calls get
// ShutdownTimeout to finish, then etcd is closed. It is idempotent.
func (g *Gateway) Close() error {
	g.closeOnce.Do(func() {
		if g.health != nil {
			g.health.Shutdown()
		}
		if g.cancel != nil {
			g.cancel()
			<-g.cachesEnd
		}
		if g.server != nil {
			stopped := make(chan struct{})
			go func() {
				g.server.GracefulStop()
				close(stopped)
			}()
			select {
			case <-stopped:
			case <-time.After(g.cfg.ShutdownTimeout):
				g.server.Stop()
				<-stopped
			}
		}
		if g.podLogs != nil {
			g.podLogs.Close()
		}
		if g.cli != nil {
			g.closeErr = g.cli.Close()
			if g.etcd != nil && errors.Is(g.closeErr, context.Canceled) {
				// An in-process client has no connection to close and
				// reports its own cancelled context instead.
				g.closeErr = nil
			}
		}
		if g.etcd != nil {
			g.etcd.Close()
		}
	})
	return g.closeErr
}

// SystemNamespaces exist in every cluster: "default" for users,
// "shoal-system" for the control plane's own objects and "shoal-node-lease"
// for node heartbeats (Kubernetes' default, kube-system, kube-node-lease).
var SystemNamespaces = []string{"default", "shoal-system", "shoal-node-lease"}

func bootstrapNamespaces(ctx context.Context, reg *registry.Registry) error {
	for _, name := range SystemNamespaces {
		_, err := reg.Create(ctx, "Namespace", &shoalv1.Namespace{Metadata: &shoalv1.ObjectMeta{Name: name}})
		var rerr *registry.Error
		if err != nil && !(errors.As(err, &rerr) && rerr.Reason == registry.ReasonAlreadyExists) {
			return fmt.Errorf("gateway: creating namespace %s: %w", name, err)
		}
	}
	return nil
}

// watchCollector exports the open watches per kind.
type watchCollector struct{ reg *registry.Registry }

var watchersDesc = prometheus.NewDesc("shoal_apigateway_watchers", "Open watch streams served from the watch cache.", []string{"kind"}, nil)

func (c *watchCollector) Describe(ch chan<- *prometheus.Desc) { ch <- watchersDesc }

func (c *watchCollector) Collect(ch chan<- prometheus.Metric) {
	for kind, n := range c.reg.Watchers() {
		ch <- prometheus.MustNewConstMetric(watchersDesc, prometheus.GaugeValue, float64(n), kind)
	}
}

// streamWorkers is the size of the gRPC server's goroutine pool: enough
// for the requests a busy gateway has in flight at once.
const streamWorkers = 128

// LoopbackConfig is a gateway for one machine's tests and benchmarks: gRPC
// and the embedded etcd on free loopback ports, etcd's data under dataDir,
// no fsync (the data is thrown away) and only fatal etcd logs (tests close
// gateways often, which etcd logs at error level).
func LoopbackConfig(dataDir string) (Config, error) {
	ports, err := freeport.Ports(2)
	if err != nil {
		return Config{}, fmt.Errorf("gateway: %w", err)
	}
	cfg := NewConfig()
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.EtcdDataDir = dataDir
	cfg.EtcdClientURL = fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	cfg.EtcdPeerURL = fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	cfg.EtcdUnsafeNoFsync = true
	cfg.EtcdLogLevel = "fatal"
	return cfg, nil
}
