// Package embedetcd runs the single-member etcd a gateway embeds when no
// external etcd is given: the zero-setup default of `make run`. Other
// gateways join it through its client URL like any external etcd.
package embedetcd

import (
	"context"
	"fmt"
	"net/url"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3rpc"
	"go.etcd.io/etcd/server/v3/proxy/grpcproxy/adapter"
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

// NewClient is an etcd client that calls the embedded server in-process:
// function calls instead of gRPC over loopback, so each request skips a
// marshal, a socket round trip and an unmarshal on each side.
func NewClient(s *etcdserver.EtcdServer) *clientv3.Client { return v3client.New(s) }

// NewWatcher opens an in-process watcher with a stream of its own, the
// equivalent of clientv3.NewWatcher for a NewClient client (whose
// connection is nil, so clientv3.NewWatcher cannot be used).
func NewWatcher(s *etcdserver.EtcdServer, c *clientv3.Client) clientv3.Watcher {
	return blankWatcher{clientv3.NewWatchFromWatchClient(adapter.WatchServerToWatchClient(v3rpc.NewWatchServer(s)), c)}
}

// blankWatcher hides the caller's context values from the server side's
// ctx.String() (as v3client's own watcher does): they are not synchronized
// for concurrent formatting.
type blankWatcher struct{ clientv3.Watcher }

type blankContext struct{ context.Context }

func (blankContext) String() string { return "(blankCtx)" }

func (w blankWatcher) Watch(ctx context.Context, key string, opts ...clientv3.OpOption) clientv3.WatchChan {
	return w.Watcher.Watch(blankContext{ctx}, key, opts...)
}
