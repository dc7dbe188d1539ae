package server

import (
	"slices"
	"strconv"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/xds/resources"
)

// validator is what every Envoy resource type implements (protoc-gen-validate).
type validator interface{ Validate() error }

// named maps resource names to resources, per type URL.
type named map[string]map[string]types.Resource

// serviceResources flattens a Service's port resources by type.
func serviceResources(rs []resources.ServicePortResources) named {
	n := named{}
	for _, t := range sharedTypes {
		n[t] = map[string]types.Resource{}
	}
	for _, r := range rs {
		n[resourcev3.ListenerType][r.Listener.GetName()] = r.Listener
		n[resourcev3.RouteType][r.Route.GetName()] = r.Route
		n[resourcev3.ClusterType][r.Cluster.GetName()] = r.Cluster
		n[resourcev3.EndpointType][r.Assignment.GetClusterName()] = r.Assignment
	}
	return n
}

// rebuild recomputes the dirty Services and updates exactly the resources
// that changed. It runs on the debounce goroutine.
func (s *Server) rebuild(keys map[string]struct{}, since time.Time) {
	start := time.Now()
	upd := map[string]map[string]types.Resource{}
	del := map[string][]string{}
	for _, t := range sharedTypes {
		upd[t] = map[string]types.Resource{}
	}
	sidecarsChanged := false

	s.mu.Lock()
	for key := range keys {
		var built []resources.ServicePortResources
		if svc, ok := s.services.Get(key); ok {
			eps, _ := s.endpoints.Get(key)
			var err error
			if built, err = resources.Service(svc, eps, s.locality, s.cfg.Resources); err != nil {
				s.log.Error("building service resources", "service", key, "err", err)
				continue
			}
			built = s.validated(key, built)
		}
		oldN, newN := serviceResources(s.built[key]), serviceResources(built)
		for _, t := range sharedTypes {
			for name, r := range newN[t] {
				if o, ok := oldN[t][name]; !ok || !proto.Equal(o, r) {
					upd[t][name] = r
					if t != resourcev3.EndpointType && t != resourcev3.RouteType {
						sidecarsChanged = true
					}
				}
			}
			for name := range oldN[t] {
				if _, ok := newN[t][name]; !ok {
					del[t] = append(del[t], name)
					sidecarsChanged = true
				}
			}
		}
		if !slices.EqualFunc(s.built[key], built, func(a, b resources.ServicePortResources) bool { return a.ClusterIP == b.ClusterIP }) {
			sidecarsChanged = true
		}
		if len(built) == 0 {
			delete(s.built, key)
		} else {
			s.built[key] = built
		}
	}
	s.mu.Unlock()

	for _, t := range sharedTypes {
		if len(upd[t]) == 0 && len(del[t]) == 0 {
			continue
		}
		if err := s.caches.byType[t].update(upd[t], del[t], since); err != nil {
			s.log.Error("updating cache", "err", err)
		}
		s.metrics.updates.WithLabelValues(shortType(t)).Add(float64(len(upd[t]) + len(del[t])))
	}
	if sidecarsChanged {
		s.rebuildSidecars(nil)
	}
	s.metrics.rebuildSeconds.Observe(time.Since(start).Seconds())
}

// validated drops (and logs) every port whose resources fail Validate():
// an invalid resource is never served.
func (s *Server) validated(key string, built []resources.ServicePortResources) []resources.ServicePortResources {
	out := built[:0]
	for _, r := range built {
		ok := true
		for _, v := range []validator{r.Listener, r.Route, r.Cluster, r.Assignment} {
			if err := v.Validate(); err != nil {
				s.log.Error("generated resource fails validation", "service", key, "port", r.Port, "err", err)
				s.metrics.invalid.Inc()
				ok = false
				break
			}
		}
		if ok {
			out = append(out, r)
		}
	}
	return out
}

// locality places a node from its labels.
func (s *Server) locality(node string) resources.Locality {
	n, ok := s.nodes.Get(node)
	if !ok {
		return resources.Locality{}
	}
	l := n.GetMetadata().GetLabels()
	return resources.Locality{Region: l[resources.LabelRegion], Zone: l[resources.LabelZone]}
}

// allServicePorts is every built service port, in a stable order.
func (s *Server) allServicePorts() []resources.ServicePortResources {
	keys := make([]string, 0, len(s.built))
	for k := range s.built {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []resources.ServicePortResources
	for _, k := range keys {
		out = append(out, s.built[k]...)
	}
	return out
}

// ensureSidecar seeds the snapshot of a sidecar node on its first request.
func (s *Server) ensureSidecar(nodeID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sidecars[nodeID]; ok {
		return
	}
	s.sidecars[nodeID] = struct{}{}
	s.setSidecarLocked(nodeID)
}

// rebuildSidecars refreshes the sidecar snapshots of the given pods (all
// sidecars when pods is nil).
func (s *Server) rebuildSidecars(pods map[string]struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.sidecars {
		if pods != nil {
			info, _ := resources.ParseNodeID(id)
			if _, ok := pods[info.Namespace+"/"+info.Pod]; !ok {
				continue
			}
		}
		s.setSidecarLocked(id)
	}
}

func (s *Server) setSidecarLocked(nodeID string) {
	sc, err := s.sidecarConfigLocked(nodeID)
	if err != nil {
		s.log.Error("building sidecar config", "node", nodeID, "err", err)
		return
	}
	s.sidecarVersion++
	snap, err := cachev3.NewSnapshot(strconv.FormatUint(s.sidecarVersion, 10), map[resourcev3.Type][]types.Resource{
		resourcev3.ListenerType: sc.Listeners,
		resourcev3.ClusterType:  sc.Clusters,
	})
	if err != nil {
		s.log.Error("sidecar snapshot", "node", nodeID, "err", err)
		return
	}
	if err := s.caches.sidecar.SetSnapshot(s.ctx, nodeID, snap); err != nil {
		s.log.Error("setting sidecar snapshot", "node", nodeID, "err", err)
	}
}

// sidecarConfigLocked is the validated listeners and clusters of one
// sidecar node.
func (s *Server) sidecarConfigLocked(nodeID string) (resources.SidecarConfig, error) {
	info, _ := resources.ParseNodeID(nodeID)
	var pod *shoalv1.Pod
	if p, ok := s.pods.Get(info.Namespace + "/" + info.Pod); ok {
		pod = p
	}
	ip := info.PodIP
	if ip == "" {
		ip = pod.GetStatus().GetPodIp()
	}
	sc, err := resources.Sidecar(pod, ip, s.allServicePorts(), s.cfg.Resources)
	if err != nil {
		return sc, err
	}
	for _, rs := range [][]types.Resource{sc.Listeners, sc.Clusters} {
		for _, r := range rs {
			if err := r.(validator).Validate(); err != nil {
				s.metrics.invalid.Inc()
				return sc, err
			}
		}
	}
	return sc, nil
}

// shortType is the metric label of a type URL.
func shortType(typeURL string) string {
	switch typeURL {
	case resourcev3.ListenerType:
		return "LDS"
	case resourcev3.RouteType:
		return "RDS"
	case resourcev3.ClusterType:
		return "CDS"
	case resourcev3.EndpointType:
		return "EDS"
	}
	return typeURL
}

const (
	labelZone   = "topology.kubernetes.io/zone"
	labelRegion = "topology.kubernetes.io/region"
)
