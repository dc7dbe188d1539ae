package server

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	gcplog "github.com/envoyproxy/go-control-plane/pkg/log"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/shoalmesh/shoal/services/xds/resources"
)

// sharedTypes are the types every node shares, in the order a client
// needs them.
var sharedTypes = []string{resourcev3.ListenerType, resourcev3.RouteType, resourcev3.ClusterType, resourcev3.EndpointType}

// sidecarKey is the MuxCache key of sidecar listeners and clusters.
const sidecarKey = "sidecar"

// typeCache is one LinearCache and the time of the change behind each of
// its recent versions (for the push latency).
type typeCache struct {
	typeURL string
	lc      *cachev3.LinearCache
	prefix  string

	mu      sync.Mutex
	version uint64 // mirrors the LinearCache's counter: one per update call
	changed map[string]time.Time
	order   []string
}

const keptVersions = 256

func newTypeCache(typeURL, prefix string, log gcplog.Logger) *typeCache {
	return &typeCache{
		typeURL: typeURL,
		prefix:  prefix,
		lc:      cachev3.NewLinearCache(typeURL, cachev3.WithVersionPrefix(prefix), cachev3.WithLogger(log)),
		changed: map[string]time.Time{},
	}
}

// update applies one batch, remembers when the change behind it happened
// and returns the version it made.
func (c *typeCache) update(upd map[string]types.Resource, del []string, since time.Time) (string, error) {
	c.mu.Lock()
	c.version++
	v := c.prefix + strconv.FormatUint(c.version, 10)
	c.changed[v] = since
	c.order = append(c.order, v)
	if len(c.order) > keptVersions {
		delete(c.changed, c.order[0])
		c.order = c.order[1:]
	}
	c.mu.Unlock()
	if err := c.lc.UpdateResources(upd, del); err != nil {
		return v, fmt.Errorf("updating %s: %w", c.typeURL, err)
	}
	return v, nil
}

// changeTime is when the change behind version happened.
func (c *typeCache) changeTime(version string) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.changed[version]
	return t, ok
}

// caches are all of the server's caches behind one MuxCache.
type caches struct {
	byType  map[string]*typeCache
	sidecar cachev3.SnapshotCache
	mux     *cachev3.MuxCache
}

func newCaches(logger *slog.Logger) *caches {
	log := slogAdapter(logger)
	// A prefix unique to this process: a client that reconnects after a
	// restart never mistakes a new version for one it already has.
	prefix := strconv.FormatInt(time.Now().UnixNano(), 36) + "-"
	c := &caches{
		byType:  map[string]*typeCache{},
		sidecar: cachev3.NewSnapshotCache(false, cachev3.IDHash{}, log),
	}
	muxed := map[string]cachev3.Cache{sidecarKey: c.sidecar}
	for _, t := range sharedTypes {
		c.byType[t] = newTypeCache(t, prefix, log)
		muxed[t] = c.byType[t].lc
	}
	classify := func(typeURL, nodeID string) string {
		if (typeURL == resourcev3.ListenerType || typeURL == resourcev3.ClusterType) && resources.IsSidecar(nodeID) {
			return sidecarKey
		}
		return typeURL
	}
	c.mux = &cachev3.MuxCache{
		Classify: func(r *cachev3.Request) string {
			return classify(r.GetTypeUrl(), r.GetNode().GetId())
		},
		ClassifyDelta: func(r *cachev3.DeltaRequest) string {
			return classify(r.GetTypeUrl(), r.GetNode().GetId())
		},
		Caches: muxed,
	}
	return c
}

// slogAdapter sends go-control-plane's logs to slog; its chatty info
// lines go to debug. A line is formatted only if its level is enabled:
// the LinearCache logs every watch it opens (one per stream per change),
// with its subscription maps.
func slogAdapter(l *slog.Logger) gcplog.Logger {
	logAt := func(level slog.Level) func(string, ...any) {
		return func(f string, a ...any) {
			if ctx := context.Background(); l.Enabled(ctx, level) {
				l.Log(ctx, level, fmt.Sprintf(f, a...))
			}
		}
	}
	return gcplog.LoggerFuncs{
		DebugFunc: logAt(slog.LevelDebug),
		InfoFunc:  logAt(slog.LevelDebug),
		WarnFunc:  logAt(slog.LevelWarn),
		ErrorFunc: logAt(slog.LevelError),
	}
}
