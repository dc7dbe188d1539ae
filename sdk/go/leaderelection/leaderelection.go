// Package leaderelection lets one of several replicas of a control-plane
// service (scheduler, controller) lead at a time, with an etcd lease under a
// key prefix of its own. A standby takes over within the lease TTL when the
// leader dies; a leader that loses its lease (partition, etcd restart) stops
// leading before anyone else can start.
package leaderelection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// Config describes one candidate.
type Config struct {
	Client *clientv3.Client
	// Prefix is the election's key prefix, e.g. /shoal/leader/scheduler.
	Prefix string
	// Identity names this candidate (host name and pid, say).
	Identity string
	// TTL is the lease's time to live: how long a dead leader holds on.
	TTL    time.Duration
	Logger *slog.Logger
}

func (c *Config) validate() error {
	var errs []error
	if c.Client == nil {
		errs = append(errs, errors.New("etcd client is required"))
	}
	if c.Prefix == "" {
		errs = append(errs, errors.New("prefix is required"))
	}
	if c.Identity == "" {
		errs = append(errs, errors.New("identity is required"))
	}
	if c.TTL == 0 {
		c.TTL = 10 * time.Second
	}
	if c.TTL < time.Second {
		errs = append(errs, errors.New("ttl must be at least 1s"))
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return errors.Join(errs...)
}

// Run campaigns until ctx ends. While this candidate leads, lead runs with a
// context that is cancelled as soon as leadership is lost; Run waits for lead
// to return before campaigning again, so two leads never overlap in one
// process. When ctx ends, a leader resigns at once so a standby need not
// wait for the TTL.
func Run(ctx context.Context, cfg Config, lead func(ctx context.Context)) error {
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("leaderelection: %w", err)
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := term(ctx, cfg, lead)
		if ctx.Err() != nil {
			return nil
		}
		cfg.Logger.Warn("leader election term ended", "prefix", cfg.Prefix, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
	return nil
}

// term is one session: campaign, lead until the session dies or ctx ends.
func term(ctx context.Context, cfg Config, lead func(ctx context.Context)) error {
	sess, err := concurrency.NewSession(cfg.Client, concurrency.WithTTL(int(cfg.TTL/time.Second)), concurrency.WithContext(ctx))
	if err != nil {
		return err
	}
	defer sess.Close()
	el := concurrency.NewElection(sess, cfg.Prefix)
	if err := el.Campaign(ctx, cfg.Identity); err != nil {
		return err
	}
	cfg.Logger.Info("became leader", "prefix", cfg.Prefix, "identity", cfg.Identity)
	leadCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		lead(leadCtx)
	}()
	select {
	case <-sess.Done():
		cancel()
		<-done
		return errors.New("lease lost")
	case <-done:
		cancel()
	case <-ctx.Done():
		cancel()
		<-done
	}
	resignCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer stop()
	return el.Resign(resignCtx)
}

// Leader returns the identity of the current leader ("" when none).
func Leader(ctx context.Context, cli *clientv3.Client, prefix string) (string, error) {
	resp, err := cli.Get(ctx, prefix+"/", clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend), clientv3.WithLimit(1))
	if err != nil {
		return "", err
	}
	if len(resp.Kvs) == 0 {
		return "", nil
	}
	return string(resp.Kvs[0].Value), nil
}
