// Command xds serves Services, Endpoints and Pods as xDS resources over ADS
// (state-of-the-world and delta) to Envoy sidecars and proxyless gRPC
// clients. Flags only; the work is in package server.
package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/flagenv"
	"github.com/shoalmesh/shoal/sdk/go/lifecycle"
	"github.com/shoalmesh/shoal/services/xds/server"
)

func main() { lifecycle.Main("xds", run) }

func run(args []string) error {
	cfg := server.NewConfig()
	ocfg := observability.NewConfig("xds")
	fs := flag.NewFlagSet("xds", flag.ContinueOnError)
	fs.StringVar(&cfg.GatewayAddr, "gateway", cfg.GatewayAddr, "apigateway gRPC address")
	fs.StringVar(&cfg.Token, "token", cfg.Token, "bearer token for the apigateway (empty when authentication is off)")
	fs.StringVar(&cfg.ListenAddr, "listen", cfg.ListenAddr, "gRPC address serving ADS (SotW and delta) and grpc.health.v1")
	fs.StringVar(&cfg.AdminAddr, "admin-addr", cfg.AdminAddr, "HTTP address of /metrics, /healthz, /debug/config?node=ID and /debug/acks; empty disables it")
	fs.DurationVar(&cfg.Debounce, "debounce", cfg.Debounce, "least time between two rebuilds: a change after a quiet period is pushed at once, later changes of a burst are coalesced until this has passed")
	fs.StringVar(&cfg.Resources.Domain, "cluster-domain", cfg.Resources.Domain, "DNS suffix of service names (<svc>.<ns>.svc.<domain>)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "graceful drain bound on SIGTERM")
	ocfg.RegisterFlags(fs)
	ocfg.RegisterPprofFlag(fs)
	if err := flagenv.Parse(fs, "SHOAL_XDS", args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	// xds serves profiles on its own admin server.
	cfg.Pprof = ocfg.EnablePprof

	return lifecycle.Run(ocfg, func(ctx context.Context, obs *observability.Observability) (lifecycle.Service, error) {
		return server.Start(ctx, cfg, obs)
	})
}
