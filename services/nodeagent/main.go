// Command nodeagent is Shoal's kubelet: it registers its Node, renews its
// Lease and runs the pods bound to it in containerd. Flags only; the work
// is in package agent.
package main

import (
	"context"
	"flag"
	"os"

	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/flagenv"
	"github.com/shoalmesh/shoal/sdk/go/lifecycle"
	"github.com/shoalmesh/shoal/services/nodeagent/agent"
)

func main() { lifecycle.Main("nodeagent", run) }

func run(args []string) error {
	cfg := agent.NewConfig()
	host, _ := os.Hostname()
	cfg.NodeName = host
	ocfg := observability.NewConfig("nodeagent")
	ocfg.MetricsAddr = "127.0.0.1:9446"
	fs := flag.NewFlagSet("nodeagent", flag.ContinueOnError)
	fs.StringVar(&cfg.Gateway, "gateway", cfg.Gateway, "apigateway address")
	fs.StringVar(&cfg.Token, "token", cfg.Token, "bearer token for the gateway")
	fs.StringVar(&cfg.NodeName, "node-name", cfg.NodeName, "name of this Node")
	fs.StringVar(&cfg.NodeIP, "node-ip", cfg.NodeIP, "INTERNAL_IP address published for this node (default: source address of the default route)")
	fs.Int64Var(&cfg.CPUMillis, "cpu-millis", cfg.CPUMillis, "CPU capacity in millicores (0: from the host)")
	fs.Int64Var(&cfg.MemoryBytes, "memory-bytes", cfg.MemoryBytes, "memory capacity in bytes (0: from the host)")
	fs.Int64Var(&cfg.MaxPods, "max-pods", cfg.MaxPods, "pod capacity (0: 110)")
	fs.DurationVar(&cfg.LeaseRenewInterval, "lease-renew-interval", cfg.LeaseRenewInterval, "how often the node Lease is renewed")
	fs.StringVar(&cfg.ContainerdAddress, "containerd-address", cfg.ContainerdAddress, "containerd socket")
	fs.StringVar(&cfg.ContainerdNamespace, "containerd-namespace", cfg.ContainerdNamespace, "containerd namespace of this agent")
	fs.StringVar(&cfg.Snapshotter, "snapshotter", cfg.Snapshotter, "containerd snapshotter")
	fs.StringVar(&cfg.ImageDir, "image-dir", cfg.ImageDir, "directory of OCI image archives (*.tar) to import")
	fs.StringVar(&cfg.PauseImage, "pause-image", cfg.PauseImage, "image of the pod sandbox")
	fs.DurationVar(&cfg.ImagePullTimeout, "image-pull-timeout", cfg.ImagePullTimeout, "bound of one image pull from a registry")
	fs.StringVar(&cfg.StateDir, "state-dir", cfg.StateDir, "agent state: pod volumes, netns pins, IP allocations, FIFOs")
	fs.StringVar(&cfg.PodCIDR, "pod-cidr", cfg.PodCIDR, "pod IP range of this node")
	fs.StringVar(&cfg.CNIBinDir, "cni-bin-dir", cfg.CNIBinDir, "CNI plugin binaries")
	fs.StringVar(&cfg.CNIConfFile, "cni-conf-file", cfg.CNIConfFile, "CNI .conflist to use instead of the generated bridge config")
	fs.StringVar(&cfg.BridgeName, "bridge-name", cfg.BridgeName, "Linux bridge of the pod network")
	fs.StringVar(&cfg.ListenAddr, "listen", cfg.ListenAddr, "NodeAgentService + grpc health listen address (its port is published)")
	fs.StringVar(&cfg.XDSAddress, "xds-address", cfg.XDSAddress, "xds server address (host:port) as pods reach it, for the xDS bootstrap of mesh pods; empty: mesh pods wait")
	fs.StringVar(&cfg.EnvoyImage, "envoy-image", cfg.EnvoyImage, "Envoy image of the sidecar added to mesh pods; empty: no sidecar (proxyless gRPC only)")
	fs.StringVar(&cfg.LogDir, "log-dir", cfg.LogDir, "container log files")
	fs.Int64Var(&cfg.LogMaxSize, "log-max-size", cfg.LogMaxSize, "rotate a container log past this many bytes")
	ocfg.RegisterFlags(fs)
	ocfg.RegisterMetricsFlags(fs)
	fs.DurationVar(&cfg.BackoffBase, "restart-backoff", cfg.BackoffBase, "first restart back-off (doubles up to --restart-backoff-max)")
	fs.DurationVar(&cfg.BackoffMax, "restart-backoff-max", cfg.BackoffMax, "longest restart back-off")
	fs.IntVar(&cfg.Workers, "pod-workers", cfg.Workers, "pods synced at once (each sync talks to containerd and the CNI plugins)")
	fs.BoolVar(&cfg.DeleteBridgeOnClose, "delete-bridge-on-exit", cfg.DeleteBridgeOnClose, "delete the pod bridge on exit")
	if err := flagenv.Parse(fs, "SHOAL_NODEAGENT", args); err != nil {
		return err
	}

	return lifecycle.Run(ocfg, func(ctx context.Context, obs *observability.Observability) (lifecycle.Service, error) {
		return agent.Start(ctx, cfg, obs)
	})
}
