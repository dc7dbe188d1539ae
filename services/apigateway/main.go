// Command apigateway serves the Shoal API over gRPC: the only reader and
// writer of objects in etcd. Flags only; the work is in package gateway.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/flagenv"
	"github.com/shoalmesh/shoal/sdk/go/lifecycle"
	"github.com/shoalmesh/shoal/services/apigateway/gateway"
)

func main() { lifecycle.Main("apigateway", run) }

func run(args []string) error {
	cfg := gateway.NewConfig()
	ocfg := observability.NewConfig("apigateway")
	ocfg.MetricsAddr = "127.0.0.1:9443"
	var etcdEndpoints string
	fs := flag.NewFlagSet("apigateway", flag.ContinueOnError)
	fs.StringVar(&cfg.ListenAddr, "listen", cfg.ListenAddr, "gRPC listen address")
	fs.StringVar(&etcdEndpoints, "etcd-endpoints", "", "comma-separated external etcd endpoints; empty embeds etcd")
	fs.StringVar(&cfg.EtcdDataDir, "etcd-data-dir", cfg.EtcdDataDir, "data directory of the embedded etcd")
	fs.StringVar(&cfg.EtcdClientURL, "etcd-client-url", cfg.EtcdClientURL, "client URL the embedded etcd listens on (other gateways use it as --etcd-endpoints)")
	fs.StringVar(&cfg.EtcdPeerURL, "etcd-peer-url", cfg.EtcdPeerURL, "peer URL of the embedded etcd")
	fs.DurationVar(&cfg.EtcdCompaction, "etcd-compaction-retention", cfg.EtcdCompaction, "history the embedded etcd keeps before compacting")
	fs.StringVar(&cfg.ServiceCIDR, "service-cidr", cfg.ServiceCIDR, "range service cluster IPs are allocated from")
	fs.StringVar(&cfg.TokenFile, "token-file", cfg.TokenFile, "static bearer tokens (token,user,uid,\"group1,group2\"); empty disables authentication")
	fs.IntVar(&cfg.WatchCacheSize, "watch-cache-size", cfg.WatchCacheSize, "events kept per kind for watchers that resume")
	fs.DurationVar(&cfg.BookmarkInterval, "watch-bookmark-interval", cfg.BookmarkInterval, "how often idle watches get a bookmark")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "graceful drain bound on SIGTERM")
	gcPercent := gateway.DefaultGCPercent
	if os.Getenv("GOGC") != "" {
		gcPercent = 0 // an explicit GOGC wins over the default
	}
	fs.IntVar(&gcPercent, "gc-percent", gcPercent, "garbage collection target, as Go's GOGC (heap growth in % before a collection); 0 leaves it to GOGC")
	ocfg.RegisterFlags(fs)
	ocfg.RegisterMetricsFlags(fs)
	if err := flagenv.Parse(fs, "SHOAL_APIGATEWAY", args); err != nil {
		return err
	}
	switch {
	case gcPercent < 0:
		return fmt.Errorf("--gc-percent %d: want 0 (GOGC decides) or a positive percentage", gcPercent)
	case gcPercent > 0:
		debug.SetGCPercent(gcPercent)
	}
	if etcdEndpoints != "" {
		cfg.EtcdEndpoints = strings.Split(etcdEndpoints, ",")
	}

	return lifecycle.Run(ocfg, func(ctx context.Context, obs *observability.Observability) (lifecycle.Service, error) {
		return gateway.Start(ctx, cfg, obs)
	})
}
