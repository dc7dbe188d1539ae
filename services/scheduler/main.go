// Command scheduler binds pending pods to nodes through the apigateway.
// Run two or more for availability: one leads (etcd lease), the others
// stand by. Flags only; the work is in package scheduler.
package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/flagenv"
	"github.com/shoalmesh/shoal/sdk/go/lifecycle"
	"github.com/shoalmesh/shoal/services/scheduler/scheduler"
)

func main() { lifecycle.Main("scheduler", run) }

func run(args []string) error {
	cfg := scheduler.NewConfig()
	ocfg := observability.NewConfig("scheduler")
	ocfg.MetricsAddr = "127.0.0.1:10251"
	le := &cfg.LeaderElection
	sc := &cfg.Scheduling
	etcdEndpoints := strings.Join(le.EtcdEndpoints, ",")
	fs := flag.NewFlagSet("scheduler", flag.ContinueOnError)
	fs.StringVar(&cfg.GatewayAddr, "gateway", cfg.GatewayAddr, "apigateway gRPC address")
	fs.StringVar(&cfg.Token, "token", cfg.Token, "bearer token for the gateway (group system:controllers); prefer the environment variable or --token-file")
	fs.StringVar(&cfg.TokenFile, "token-file", cfg.TokenFile, "file holding the gateway bearer token")
	fs.StringVar(&cfg.ListenAddr, "listen", cfg.ListenAddr, "gRPC address of the grpc.health.v1 server (SERVING while leading); empty disables it")
	fs.StringVar(&cfg.Identity, "identity", cfg.Identity, "name of this replica in the election; empty means host_pid_random")
	fs.BoolVar(&le.Enabled, "leader-elect", le.Enabled, "elect one leader among replicas through an etcd lease; false schedules at once (run one replica only)")
	fs.StringVar(&etcdEndpoints, "etcd-endpoints", etcdEndpoints, "comma-separated etcd client URLs, used for the leader election only")
	fs.StringVar(&le.Prefix, "leader-elect-prefix", le.Prefix, "etcd key prefix of the election (the only keys the scheduler touches)")
	fs.DurationVar(&le.TTL, "lease-ttl", le.TTL, "lease time to live: how long a dead leader blocks a standby")
	fs.StringVar(&le.EtcdUsername, "etcd-username", le.EtcdUsername, "etcd user whose role may only use the election prefix")
	fs.StringVar(&le.EtcdPasswordFile, "etcd-password-file", le.EtcdPasswordFile, "file holding the etcd user's password")
	fs.StringVar(&le.EtcdCAFile, "etcd-ca-file", le.EtcdCAFile, "CA bundle that signs etcd's serving certificate (enables TLS)")
	fs.StringVar(&le.EtcdCertFile, "etcd-cert-file", le.EtcdCertFile, "client certificate for etcd")
	fs.StringVar(&le.EtcdKeyFile, "etcd-key-file", le.EtcdKeyFile, "client key for etcd")
	fs.IntVar(&sc.PercentageOfNodesToScore, "percentage-of-nodes-to-score", sc.PercentageOfNodesToScore, "share of nodes (1-100) a cycle filters before it scores what it found; 0 is adaptive (50% minus 1% per 125 nodes, at least 5%, at least 100 nodes)")
	fs.IntVar(&sc.Parallelism, "parallelism", sc.Parallelism, "goroutines that filter and score nodes")
	fs.IntVar(&sc.MaxInFlightBinds, "max-in-flight-binds", sc.MaxInFlightBinds, "concurrent BindPod calls")
	fs.DurationVar(&sc.PodInitialBackoff, "pod-initial-backoff", sc.PodInitialBackoff, "wait before retrying a pod after its first failure (doubles per attempt)")
	fs.DurationVar(&sc.PodMaxBackoff, "pod-max-backoff", sc.PodMaxBackoff, "longest wait between retries of a pod")
	fs.BoolVar(&sc.RecordScheduledEvents, "record-scheduled-events", sc.RecordScheduledEvents, "record a Scheduled Event for every bound pod")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "graceful drain bound of the health server on SIGTERM")
	ocfg.RegisterFlags(fs)
	ocfg.RegisterMetricsFlags(fs)
	if err := flagenv.Parse(fs, "SHOAL_SCHEDULER", args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	le.EtcdEndpoints = nil
	for e := range strings.SplitSeq(etcdEndpoints, ",") {
		if e = strings.TrimSpace(e); e != "" {
			le.EtcdEndpoints = append(le.EtcdEndpoints, e)
		}
	}

	return lifecycle.Run(ocfg, func(ctx context.Context, obs *observability.Observability) (lifecycle.Service, error) {
		return scheduler.Start(ctx, cfg, obs)
	})
}
