package server

import (
	"encoding/json"
	"github.com/shoalmesh/shoal/observability"
	"net/http"
	"slices"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/shoalmesh/shoal/services/xds/resources"
)

func (s *Server) adminHandler() http.Handler {
	mux := http.NewServeMux()
	if s.obs.Registry != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.obs.Registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /debug/config", s.serveConfigDump)
	mux.Handle("GET /debug/acks", s.streams.acks)
	if s.cfg.Pprof {
		observability.HandlePprof(mux)
	}
	return mux
}

// ConfigDump is what a node is served: its open streams and, per type,
// the resources it would get now (for a node with no stream: everything a
// client of its kind could ask for).
type ConfigDump struct {
	Node      string                                `json:"node"`
	Client    string                                `json:"client"`
	Streams   []StreamInfo                          `json:"streams"`
	Resources map[string]map[string]json.RawMessage `json:"resources"`
}

// Dump is what node id is being served.
func (s *Server) Dump(node string) (ConfigDump, error) {
	d := ConfigDump{Node: node, Client: resources.NodeKindProxyless, Streams: s.streams.ofNode(node), Resources: map[string]map[string]json.RawMessage{}}
	// Names the node subscribed to, per type (nil: everything).
	var subs map[string][]string
	for _, st := range d.Streams {
		if subs == nil {
			subs = map[string][]string{}
		}
		for t, n := range st.Subscribed {
			subs[t] = append(subs[t], n...)
		}
	}
	add := func(t string, all map[string]types.Resource) error {
		out := map[string]json.RawMessage{}
		want, filtered := subs[shortType(t)]
		for name, r := range all {
			if filtered && len(want) > 0 && !slices.Contains(want, name) {
				continue
			}
			b, err := protojson.Marshal(r)
			if err != nil {
				return err
			}
			out[name] = b
		}
		d.Resources[shortType(t)] = out
		return nil
	}
	sidecar := resources.IsSidecar(node)
	if sidecar {
		d.Client = resources.NodeKindSidecar
		s.mu.Lock()
		sc, err := s.sidecarConfigLocked(node)
		s.mu.Unlock()
		if err != nil {
			return d, err
		}
		for t, rs := range map[string][]types.Resource{resourcev3.ListenerType: sc.Listeners, resourcev3.ClusterType: sc.Clusters} {
			m := map[string]types.Resource{}
			for _, r := range rs {
				m[cacheName(r)] = r
			}
			if err := add(t, m); err != nil {
				return d, err
			}
		}
	}
	for _, t := range sharedTypes {
		if sidecar && (t == resourcev3.ListenerType || t == resourcev3.ClusterType) {
			continue
		}
		if err := add(t, s.caches.byType[t].lc.GetResources()); err != nil {
			return d, err
		}
	}
	return d, nil
}

func cacheName(r types.Resource) string { return cachev3.GetResourceName(r) }

func (s *Server) serveConfigDump(w http.ResponseWriter, r *http.Request) {
	node := r.URL.Query().Get("node")
	if node == "" {
		http.Error(w, "query parameter node is required", http.StatusBadRequest)
		return
	}
	d, err := s.Dump(node)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(d)
}
