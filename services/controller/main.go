// Command controller runs Shoal's control loops (ReplicaSet, Deployment,
// Endpoints, node lifecycle, Namespace, garbage collection, ResourceQuota)
// against the apigateway, leader-elected over etcd. Flags only; the work is
// in package manager.
package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/flagenv"
	"github.com/shoalmesh/shoal/sdk/go/lifecycle"
	"github.com/shoalmesh/shoal/services/controller/manager"
)

func main() { lifecycle.Main("controller", run) }

func run(args []string) error {
	cfg := manager.NewConfig()
	ocfg := observability.NewConfig("controller")
	ocfg.MetricsAddr = "127.0.0.1:10258"
	etcdEndpoints := strings.Join(cfg.EtcdEndpoints, ",")
	controllers := ""
	nl := &cfg.NodeLifecycle
	fs := flag.NewFlagSet("controller", flag.ContinueOnError)
	fs.StringVar(&cfg.Gateway, "gateway", cfg.Gateway, "apigateway gRPC address")
	fs.StringVar(&cfg.Token, "token", cfg.Token, "bearer token for the apigateway (a system:controllers token); empty when it runs without authentication")
	fs.BoolVar(&cfg.LeaderElect, "leader-elect", cfg.LeaderElect, "campaign for leadership in etcd; only the leader runs the controllers")
	fs.StringVar(&etcdEndpoints, "etcd-endpoints", etcdEndpoints, "comma-separated etcd endpoints, used for leader election only")
	fs.DurationVar(&cfg.LeaseTTL, "lease-ttl", cfg.LeaseTTL, "leader lease TTL: how long a dead leader blocks a standby")
	fs.StringVar(&cfg.ElectionPrefix, "election-prefix", cfg.ElectionPrefix, "etcd key prefix of the election")
	fs.StringVar(&cfg.Identity, "identity", cfg.Identity, "this replica's name in the election; empty means host_pid")
	fs.StringVar(&cfg.ListenAddr, "listen", cfg.ListenAddr, "gRPC address of the grpc.health.v1 service; empty disables it")
	fs.IntVar(&cfg.Workers, "workers", cfg.Workers, "concurrent syncs per controller")
	fs.StringVar(&controllers, "controllers", controllers, "comma-separated controllers to run; empty runs all of "+strings.Join(manager.AllControllers, ","))
	fs.DurationVar(&nl.GracePeriod, "node-monitor-grace-period", nl.GracePeriod, "a node whose lease is older than this becomes Ready=Unknown and is tainted")
	fs.DurationVar(&nl.MonitorPeriod, "node-monitor-period", nl.MonitorPeriod, "how often node leases are checked")
	fs.DurationVar(&nl.PodEvictionTimeout, "pod-eviction-timeout", nl.PodEvictionTimeout, "how long pods without their own toleration stay on an unreachable or not-ready node")
	fs.Float64Var(&nl.EvictionRate, "eviction-rate", nl.EvictionRate, "nodes per second (per zone) whose pods start being evicted, when many fail at once")
	fs.Float64Var(&nl.SecondaryEvictionRate, "secondary-eviction-rate", nl.SecondaryEvictionRate, "eviction rate of a large zone that is largely unhealthy")
	fs.DurationVar(&cfg.QuotaResync, "quota-resync-period", cfg.QuotaResync, "how often every resource quota is recounted")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "graceful drain bound on SIGTERM")
	ocfg.RegisterFlags(fs)
	ocfg.RegisterMetricsFlags(fs)
	if err := flagenv.Parse(fs, "SHOAL_CONTROLLER", args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.EtcdEndpoints = splitList(etcdEndpoints)
	if controllers != "" {
		cfg.Controllers = splitList(controllers)
	}

	return lifecycle.Run(ocfg, func(ctx context.Context, obs *observability.Observability) (lifecycle.Service, error) {
		return manager.Start(ctx, cfg, obs)
	})
}

func splitList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
