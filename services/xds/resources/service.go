package resources

import (
	"fmt"
	"time"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

// Options are the settings every generated resource shares.
type Options struct {
	// Domain is the cluster DNS suffix (cluster.local).
	Domain string
	// Outlier detection on every cluster: an endpoint failing
	// ConsecutiveErrors requests in a row is ejected for BaseEjection
	// (times the number of ejections), never more than MaxEjectionPercent
	// of the endpoints at once.
	OutlierConsecutiveErrors uint32
	OutlierInterval          time.Duration
	OutlierBaseEjection      time.Duration
	OutlierMaxEjectionPct    uint32
	// Circuit breaker thresholds (default priority) on every cluster.
	MaxConnections     uint32
	MaxPendingRequests uint32
	MaxRequests        uint32
	MaxRetries         uint32
	// ConnectTimeout for Envoy upstream connections.
	ConnectTimeout time.Duration
}

// DefaultOptions are Envoy's documented defaults for circuit breakers and
// a conservative outlier detection.
func DefaultOptions() Options {
	return Options{
		Domain:                   DefaultClusterDomain,
		OutlierConsecutiveErrors: 5,
		OutlierInterval:          10 * time.Second,
		OutlierBaseEjection:      30 * time.Second,
		OutlierMaxEjectionPct:    50,
		MaxConnections:           1024,
		MaxPendingRequests:       1024,
		MaxRequests:              1024,
		MaxRetries:               3,
		ConnectTimeout:           5 * time.Second,
	}
}

// Locality places a node: its region and zone (from the node's
// topology.kubernetes.io labels).
type Locality struct{ Region, Zone string }

// NodeLocality looks up a node's locality by name; nil means unknown.
type NodeLocality func(nodeName string) Locality

// Zone and region labels on Nodes.
const (
	LabelZone   = "topology.kubernetes.io/zone"
	LabelRegion = "topology.kubernetes.io/region"
)

// ServicePortResources are the resources of one service port.
type ServicePortResources struct {
	Port       int32
	Protocol   shoalv1.ServiceProtocol
	ClusterIP  string
	Listener   *listener.Listener // proxyless api_listener
	Route      *route.RouteConfiguration
	Cluster    *cluster.Cluster
	Assignment *endpoint.ClusterLoadAssignment
}

// Service builds the resources of every port of svc. eps may be nil (no
// endpoints yet: an empty assignment). The assignment holds only ready
// addresses.
func Service(svc *shoalv1.Service, eps *shoalv1.Endpoints, loc NodeLocality, o Options) ([]ServicePortResources, error) {
	md := svc.GetMetadata()
	if md.GetName() == "" || md.GetNamespace() == "" {
		return nil, fmt.Errorf("resources: service without name or namespace")
	}
	spec := svc.GetSpec()
	out := make([]ServicePortResources, 0, len(spec.GetPorts()))
	for _, p := range spec.GetPorts() {
		if p.GetPort() <= 0 {
			continue
		}
		name := ListenerName(md.GetName(), md.GetNamespace(), o.Domain, p.GetPort())
		cname := ClusterName(md.GetName(), md.GetNamespace(), o.Domain, p.GetPort())
		r := ServicePortResources{
			Port:       p.GetPort(),
			Protocol:   protocol(p.GetProtocol()),
			ClusterIP:  spec.GetClusterIp(),
			Listener:   APIListener(name, name),
			Route:      Route(name, cname, Host(md.GetName(), md.GetNamespace(), o.Domain), p.GetPort(), spec),
			Cluster:    Cluster(cname, spec, p, o),
			Assignment: Assignment(cname, p, len(spec.GetPorts()), eps, loc),
		}
		out = append(out, r)
	}
	return out, nil
}

func protocol(p shoalv1.ServiceProtocol) shoalv1.ServiceProtocol {
	if p == shoalv1.ServiceProtocol_SERVICE_PROTOCOL_UNSPECIFIED {
		return shoalv1.ServiceProtocol_SERVICE_PROTOCOL_TCP
	}
	return p
}

// adsSource is "fetch this over the same ADS stream".
func adsSource() *core.ConfigSource {
	return &core.ConfigSource{
		ResourceApiVersion:    core.ApiVersion_V3,
		ConfigSourceSpecifier: &core.ConfigSource_Ads{Ads: &core.AggregatedConfigSource{}},
	}
}
