package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/informer"
	"github.com/shoalmesh/shoal/sdk/go/record"
	"github.com/shoalmesh/shoal/services/nodeagent/network"
	"github.com/shoalmesh/shoal/services/nodeagent/podlogs"
	"github.com/shoalmesh/shoal/services/nodeagent/pods"
	"github.com/shoalmesh/shoal/services/nodeagent/runtime"
)

// EventComponent is the source component of the Events the agent records.
const EventComponent = "nodeagent"

// Agent is a running node agent.
type Agent struct {
	cfg            Config
	log            *slog.Logger
	conn           *grpc.ClientConn
	rt             *runtime.Runtime
	net            *network.Network
	fluent         *podlogs.Fluent
	pods           *pods.Manager
	srv            *grpc.Server
	lis            net.Listener
	nodeIP         string
	agentPort      int
	runtimeVersion string

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	errc      chan error
	closeOnce sync.Once
	closeErr  error
}

// Start brings the agent up; on error nothing is left running.
func Start(ctx context.Context, cfg Config, obs *observability.Observability) (a *Agent, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a = &Agent{cfg: cfg, log: obs.Logger.With("node", cfg.NodeName), errc: make(chan error, 4)}
	defer func() {
		if err != nil {
			a.Close()
			a = nil
		}
	}()
	a.nodeIP = cfg.NodeIP
	if a.nodeIP == "" {
		a.nodeIP = defaultNodeIP()
	}
	for _, d := range []string{cfg.StateDir, cfg.LogDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("nodeagent: %w", err)
		}
	}
	a.rt, err = runtime.New(cfg.ContainerdAddress, cfg.ContainerdNamespace,
		runtime.WithSnapshotter(cfg.Snapshotter), runtime.WithImageDir(cfg.ImageDir),
		runtime.WithFIFODir(filepath.Join(cfg.StateDir, "fifo")), runtime.WithPullTimeout(cfg.ImagePullTimeout))
	if err != nil {
		return nil, err
	}
	if a.runtimeVersion, err = a.rt.Version(ctx); err != nil {
		return nil, err
	}
	if cfg.ImageDir != "" {
		if names, err := a.rt.ImportDir(ctx); err != nil {
			a.log.Warn("importing images", "dir", cfg.ImageDir, "err", err)
		} else {
			a.log.Info("imported images", "dir", cfg.ImageDir, "images", names)
		}
	}
	a.net, err = network.New(network.Config{PodCIDR: cfg.PodCIDR, BridgeName: cfg.BridgeName,
		NetworkName: "shoal-" + cfg.BridgeName, BinDirs: []string{cfg.CNIBinDir}, ConfFile: cfg.CNIConfFile,
		StateDir: filepath.Join(cfg.StateDir, "network")})
	if err != nil {
		return nil, err
	}
	var sink podlogs.Sink
	if fs := obs.Fluent(); fs != nil {
		// The agent's own logs and its containers' share one Fluentd sink.
		a.fluent = podlogs.NewFluent(fs)
		sink = a.fluent
	}

	a.lis, err = net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("nodeagent: listen: %w", err)
	}
	a.agentPort = a.lis.Addr().(*net.TCPAddr).Port
	a.srv = grpc.NewServer(obs.ServerOptions(nil, nil)...)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(a.srv, hs)
	shoalv1.RegisterNodeAgentServiceServer(a.srv, &logServer{a: a})

	dialOpts := []client.Option{client.WithDialOptions(obs.DialOptions()...)}
	if cfg.Token != "" {
		dialOpts = append(dialOpts, client.WithToken(cfg.Token))
	}
	a.conn, err = client.Dial(ctx, cfg.Gateway, dialOpts...)
	if err != nil {
		return nil, fmt.Errorf("nodeagent: dialing gateway: %w", err)
	}
	if err := a.register(ctx, true, ""); err != nil {
		return nil, err
	}
	if err := a.renewLease(ctx); err != nil {
		return nil, fmt.Errorf("nodeagent: lease: %w", err)
	}

	runCtx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	podClient := client.For[*shoalv1.Pod](a.conn)
	inf := informer.New(podClient, informer.WithFieldSelector("spec.node_name="+cfg.NodeName), informer.WithLogger(a.log))
	podMetrics, err := pods.NewMetrics(obs.Registry)
	if err != nil {
		return nil, err
	}
	// Events go through the gateway like every write of the agent, from
	// source component "nodeagent" on host <node name>, as the kubelet's
	// come from "kubelet" on its node.
	rec := record.New(a.conn, EventComponent, cfg.NodeName, a.log)
	a.pods = pods.New(pods.Config{
		NodeName: cfg.NodeName, NodeIP: a.nodeIP, PauseImage: cfg.PauseImage,
		PodDir: filepath.Join(cfg.StateDir, "pods"), LogDir: cfg.LogDir, LogMaxSize: cfg.LogMaxSize,
		BackoffBase: cfg.BackoffBase, BackoffMax: cfg.BackoffMax, Workers: cfg.Workers, ResyncPeriod: cfg.ResyncPeriod,
		XDSAddress: cfg.XDSAddress, EnvoyImage: cfg.EnvoyImage, Metrics: podMetrics, Recorder: rec,
		Tracer: obs.Tracer("github.com/shoalmesh/shoal/services/nodeagent"),
	}, a.rt, a.net, podClient, inf, sink, a.log)
	a.goRun(func() error { rec.Run(runCtx); return nil })
	a.goRun(func() error { return inf.Run(runCtx) })
	a.goRun(func() error { return a.pods.Run(runCtx) })
	a.goRun(func() error { a.heartbeat(runCtx); return nil })
	a.goRun(func() error {
		if err := a.srv.Serve(a.lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			return err
		}
		return nil
	})
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	a.log.Info("node agent started", "listen", a.lis.Addr().String(), "node_ip", a.nodeIP, "runtime", a.runtimeVersion)
	return a, nil
}

func (a *Agent) goRun(f func() error) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := f(); err != nil && !errors.Is(err, context.Canceled) {
			select {
			case a.errc <- err:
			default:
			}
		}
	}()
}

// Addr is where NodeAgentService is served.
func (a *Agent) Addr() string { return a.lis.Addr().String() }

// Port is the published agent port.
func (a *Agent) Port() string { return strconv.Itoa(a.agentPort) }

// Runtime is the agent's containerd runtime (tests count what it holds).
func (a *Agent) Runtime() *runtime.Runtime { return a.rt }

// Network is the agent's pod network.
func (a *Agent) Network() *network.Network { return a.net }

// Pods is how many pods the agent holds state for.
func (a *Agent) Pods() int { return a.pods.Pods() }

// Err reports asynchronous failures.
func (a *Agent) Err() <-chan error { return a.errc }

// Close stops, in order: the reconciler and heartbeat, the gRPC server
// (gracefully, bounded), the gateway connection, the Fluentd shipper and the
// containerd connection. Pods keep running. Idempotent.
func (a *Agent) Close() error {
	a.closeOnce.Do(func() {
		if a.cancel != nil {
			a.cancel()
		}
		if a.srv != nil {
			done := make(chan struct{})
			go func() { a.srv.GracefulStop(); close(done) }()
			select {
			case <-done:
			case <-time.After(a.cfg.ShutdownTimeout):
				a.srv.Stop()
			}
		} else if a.lis != nil {
			a.lis.Close()
		}
		a.wg.Wait()
		if a.conn != nil {
			a.conn.Close()
		}
		if a.rt != nil {
			if a.cfg.DeleteBridgeOnClose && a.net != nil {
				a.closeErr = a.net.DeleteBridge()
			}
			a.rt.RemoveEmptyCgroups()
			a.rt.Close()
		}
	})
	return a.closeErr
}
