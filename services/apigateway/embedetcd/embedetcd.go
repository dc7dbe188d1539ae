// Package embedetcd runs the single-member etcd a gateway embeds when no
// external etcd is given: the zero-setup default of `make run`. Other
// gateways join it through its client URL like any external etcd.
package embedetcd

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// Config is the embedded member's configuration.
type Config struct {
	DataDir string
	// ClientURL is where clients (this gateway, other gateways, etcdctl)
	// reach it, e.g. http://127.0.0.1:2379.
	ClientURL string
	// PeerURL is the raft address (unused by a single member but required).
	PeerURL string
	// CompactionRetention is how much history etcd keeps: watches resumed
	// from older revisions get OUT_OF_RANGE and relist.
	CompactionRetention time.Duration
	// UnsafeNoFsync trades durability for speed (tests, benchmarks).
	UnsafeNoFsync bool
	// LogLevel of etcd's own log: debug, info, warn, error, panic or fatal.
	// Empty means error.
	LogLevel string
}

// Start starts the member and waits until it serves.
func Start(ctx context.Context, cfg Config) (*embed.Etcd, error) {
	ec := embed.NewConfig()
	ec.Name = "shoal"
	ec.Dir = cfg.DataDir
	ec.LogLevel = "error"
	if cfg.LogLevel != "" {
		ec.LogLevel = cfg.LogLevel
	}
	cu, err := url.Parse(cfg.ClientURL)
	if err != nil {
		return nil, fmt.Errorf("embedetcd: client URL: %w", err)
	}
	pu, err := url.Parse(cfg.PeerURL)
	if err != nil {
		return nil, fmt.Errorf("embedetcd: peer URL: %w", err)
	}
	ec.ListenClientUrls, ec.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	ec.ListenPeerUrls, ec.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
	if cfg.CompactionRetention > 0 {
		ec.AutoCompactionMode = "periodic"
		ec.AutoCompactionRetention = cfg.CompactionRetention.String()
	}
	ec.UnsafeNoFsync = cfg.UnsafeNoFsync
	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("embedetcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedetcd: %w", err)
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, fmt.Errorf("embedetcd: not ready after 60s")
	}
}
