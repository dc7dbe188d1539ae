// Package lifecycle is the one process lifecycle of every Shoal service
// binary: exit codes, signals, observability, metrics, start, wait, drain.
// A main.go parses its flags and hands the rest to Main and Run:
//
//	func main() { lifecycle.Main("apigateway", run) }
//
//	func run(args []string) error {
//		... parse flags into cfg and ocfg ...
//		return lifecycle.Run(ocfg, func(ctx context.Context, obs *observability.Observability) (lifecycle.Service, error) {
//			return gateway.Start(ctx, cfg, obs)
//		})
//	}
package lifecycle

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/shoalmesh/shoal/observability"
)

// Service is a started component.
type Service interface {
	// Err reports a failure after start.
	Err() <-chan error
	// Close drains and stops it; it must be idempotent.
	Close() error
}

// StartFunc starts a service with the process's telemetry.
type StartFunc func(ctx context.Context, obs *observability.Observability) (Service, error)

// Main runs run with the command-line arguments and exits: 0 on success or
// --help, 1 with the error on stderr otherwise.
func Main(name string, run func(args []string) error) {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// Run sets up observability (logs on stderr), serves /metrics when
// ocfg.MetricsAddr is set, starts the service, and waits for SIGTERM or
// SIGINT (then drains it with Close) or for the service to fail.
func Run(ocfg observability.Config, start StartFunc) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	obs, err := observability.Setup(ctx, ocfg, os.Stderr)
	if err != nil {
		return err
	}
	defer func() {
		// Flushing spans must not hold the exit forever.
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = obs.Shutdown(sctx)
	}()
	if _, err := obs.ServeMetrics(ctx); err != nil {
		return err
	}
	svc, err := start(ctx, obs)
	if err != nil {
		return err
	}
	var runErr error
	select {
	case <-ctx.Done():
		obs.Logger.Info("shutting down")
	case runErr = <-svc.Err():
		obs.Logger.Error("service failed", "err", runErr)
	}
	return errors.Join(runErr, svc.Close())
}
