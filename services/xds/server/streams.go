package server

import (
	"context"
	"errors"
	"sync"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"

	"github.com/shoalmesh/shoal/services/xds/resources"
)

// stream is what the server knows about one open ADS stream.
type stream struct {
	id     int64
	mode   string // sotw or delta
	node   string
	client string // proxyless or sidecar
	opened time.Time
	// subscribed names per type URL (empty: wildcard).
	subscribed map[string][]string
	// deltaNonces maps a delta response nonce to its system version.
	deltaNonces map[string]string
	// sent is the nonce and send time of the last response per type URL.
	sent map[string]sentResponse
}

type sentResponse struct {
	nonce string
	at    time.Time
}

// Ack is one stream's last ACK of a type.
type Ack struct {
	Stream  int64     `json:"stream"`
	Node    string    `json:"node"`
	Mode    string    `json:"mode"`
	Type    string    `json:"type"`
	Version string    `json:"version"`
	At      time.Time `json:"at"`
	// Sent is when the server handed the response this ACK acknowledges
	// to gRPC (zero if unknown): At - Sent is the client's share.
	Sent time.Time `json:"sent,omitzero"`
}

// streams implements go-control-plane's callbacks: it tracks streams,
// ACKs and NACKs, and counts pushes.
type streams struct {
	s  *Server
	mu sync.Mutex
	m  map[int64]*stream
	// acks is every open stream's last ACK per type; written under mu,
	// so that a closed stream's ACKs are never recorded after it is
	// forgotten.
	acks *AckLog
}

var _ serverv3.Callbacks = (*streams)(nil)

var errShuttingDown = errors.New("xds: shutting down")

func (c *streams) open(id int64, mode string) error {
	if c.s.ctx.Err() != nil {
		return errShuttingDown
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[id] = &stream{id: id, mode: mode, opened: time.Now(), subscribed: map[string][]string{}, deltaNonces: map[string]string{}, sent: map[string]sentResponse{}}
	return nil
}

func (c *streams) closed(id int64) {
	c.mu.Lock()
	st := c.m[id]
	delete(c.m, id)
	c.acks.Forget(id)
	c.mu.Unlock()
	if st != nil && st.node != "" {
		c.s.metrics.streams.WithLabelValues(st.mode, st.client).Dec()
		c.s.log.Debug("xds stream closed", "stream", id, "node", st.node, "mode", st.mode)
	}
}

// request records a request; it returns the stream (nil if unknown).
func (c *streams) request(id int64, node *core.Node, typeURL, version, nonce string, names []string, errDetail error, deltaSub, deltaUnsub []string) {
	now := time.Now()
	c.mu.Lock()
	st := c.m[id]
	if st == nil {
		c.mu.Unlock()
		return
	}
	first := st.node == ""
	if first && node.GetId() != "" {
		st.node = node.GetId()
		st.client = resources.NodeKindProxyless
		if resources.IsSidecar(st.node) {
			st.client = resources.NodeKindSidecar
		}
		c.s.metrics.streams.WithLabelValues(st.mode, st.client).Inc()
	}
	if st.mode == "delta" {
		set := map[string]bool{}
		for _, n := range st.subscribed[typeURL] {
			set[n] = true
		}
		for _, n := range deltaSub {
			set[n] = true
		}
		for _, n := range deltaUnsub {
			delete(set, n)
		}
		list := make([]string, 0, len(set))
		for n := range set {
			list = append(list, n)
		}
		st.subscribed[typeURL] = list
		if nonce != "" {
			version = st.deltaNonces[nonce]
			delete(st.deltaNonces, nonce)
		}
	} else {
		st.subscribed[typeURL] = names
	}
	nodeID := st.node
	if nonce != "" && errDetail == nil {
		a := Ack{Stream: id, Node: nodeID, Mode: st.mode, Type: shortType(typeURL), Version: version, At: now}
		if sr := st.sent[typeURL]; sr.nonce == nonce {
			a.Sent = sr.at
		}
		c.acks.Record(a)
	}
	c.mu.Unlock()

	if first && resources.IsSidecar(nodeID) {
		c.s.ensureSidecar(nodeID)
	}
	if errDetail != nil {
		c.s.metrics.nacks.WithLabelValues(shortType(typeURL)).Inc()
		c.s.log.Warn("xds NACK", "node", nodeID, "stream", id, "type", shortType(typeURL), "nonce", nonce, "version", version, "err", errDetail.Error())
	}
}

func (c *streams) response(id int64, typeURL, version, nonce string, firstRequest bool) {
	now := time.Now()
	c.mu.Lock()
	st := c.m[id]
	var mode string
	if st != nil {
		mode = st.mode
		st.sent[typeURL] = sentResponse{nonce: nonce, at: now}
		if mode == "delta" {
			st.deltaNonces[nonce] = version
		}
	}
	c.mu.Unlock()
	if st == nil {
		return
	}
	var latency time.Duration
	if tc := c.s.caches.byType[typeURL]; tc != nil && !firstRequest {
		if t, ok := tc.changeTime(version); ok && !t.IsZero() {
			latency = max(now.Sub(t), time.Nanosecond)
		}
	}
	c.s.metrics.push(typeURL, mode, latency)
}

type statusError struct{ msg string }

func (e statusError) Error() string { return e.msg }

// OnStreamOpen implements sotw.Callbacks.
func (c *streams) OnStreamOpen(_ context.Context, id int64, _ string) error {
	return c.open(id, "sotw")
}

// OnStreamClosed implements sotw.Callbacks.
func (c *streams) OnStreamClosed(id int64, _ *core.Node) { c.closed(id) }

// OnStreamRequest implements sotw.Callbacks.
func (c *streams) OnStreamRequest(id int64, r *discovery.DiscoveryRequest) error {
	var err error
	if d := r.GetErrorDetail(); d != nil {
		err = statusError{msg: d.GetMessage()}
	}
	c.request(id, r.GetNode(), r.GetTypeUrl(), r.GetVersionInfo(), r.GetResponseNonce(), r.GetResourceNames(), err, nil, nil)
	return nil
}

// OnStreamResponse implements sotw.Callbacks.
func (c *streams) OnStreamResponse(_ context.Context, id int64, req *discovery.DiscoveryRequest, resp *discovery.DiscoveryResponse) {
	c.response(id, resp.GetTypeUrl(), resp.GetVersionInfo(), resp.GetNonce(), req.GetResponseNonce() == "")
}

// OnDeltaStreamOpen implements delta.Callbacks.
func (c *streams) OnDeltaStreamOpen(_ context.Context, id int64, _ string) error {
	return c.open(id, "delta")
}

// OnDeltaStreamClosed implements delta.Callbacks.
func (c *streams) OnDeltaStreamClosed(id int64, _ *core.Node) { c.closed(id) }

// OnStreamDeltaRequest implements delta.Callbacks.
func (c *streams) OnStreamDeltaRequest(id int64, r *discovery.DeltaDiscoveryRequest) error {
	var err error
	if d := r.GetErrorDetail(); d != nil {
		err = statusError{msg: d.GetMessage()}
	}
	c.request(id, r.GetNode(), r.GetTypeUrl(), "", r.GetResponseNonce(), nil, err, r.GetResourceNamesSubscribe(), r.GetResourceNamesUnsubscribe())
	return nil
}

// OnStreamDeltaResponse implements delta.Callbacks.
func (c *streams) OnStreamDeltaResponse(id int64, req *discovery.DeltaDiscoveryRequest, resp *discovery.DeltaDiscoveryResponse) {
	c.response(id, resp.GetTypeUrl(), resp.GetSystemVersionInfo(), resp.GetNonce(), req.GetResponseNonce() == "" && len(req.GetInitialResourceVersions()) == 0)
}

// OnFetchRequest implements rest.Callbacks (REST is not served).
func (c *streams) OnFetchRequest(context.Context, *discovery.DiscoveryRequest) error {
	return errors.New("xds: REST fetch is not served")
}

// OnFetchResponse implements rest.Callbacks.
func (c *streams) OnFetchResponse(*discovery.DiscoveryRequest, *discovery.DiscoveryResponse) {}

// StreamInfo describes an open stream (for /debug/config).
type StreamInfo struct {
	ID         int64               `json:"id"`
	Mode       string              `json:"mode"`
	Client     string              `json:"client"`
	Opened     time.Time           `json:"opened"`
	Subscribed map[string][]string `json:"subscribed"`
	Acked      map[string]Ack      `json:"acked"`
}

func (c *streams) ofNode(node string) []StreamInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []StreamInfo
	for _, st := range c.m {
		if st.node != node {
			continue
		}
		si := StreamInfo{ID: st.id, Mode: st.mode, Client: st.client, Opened: st.opened, Subscribed: map[string][]string{}, Acked: c.acks.Of(st.id)}
		for t, n := range st.subscribed {
			si.Subscribed[shortType(t)] = append([]string(nil), n...)
		}
		out = append(out, si)
	}
	return out
}
