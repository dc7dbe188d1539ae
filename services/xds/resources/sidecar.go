package resources

import (
	"fmt"
	"strconv"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Sidecar ports and catch-all names (Istio's).
const (
	VirtualOutboundPort = 15001
	VirtualInboundPort  = 15006
	VirtualOutbound     = "virtualOutbound"
	VirtualInbound      = "virtualInbound"
	PassthroughCluster  = "PassthroughCluster"
)

// InboundName names a sidecar's inbound listener and local cluster for a
// container port.
func InboundName(port int32) string { return "inbound|" + strconv.Itoa(int(port)) }

// SidecarConfig is what one Envoy sidecar is served over LDS and CDS
// (routes and endpoints come from the shared RDS and EDS resources).
type SidecarConfig struct {
	Listeners []types.Resource
	Clusters  []types.Resource
}

// Sidecar builds the listeners and clusters of the Envoy sidecar of pod:
//
//   - virtualOutbound (0.0.0.0:15001, original destination): iptables
//     redirects the pod's outgoing connections here; it hands each to the
//     listener of its original ClusterIP:port, or passes it through;
//   - per service port with a cluster IP, an outbound listener (HTTP/gRPC
//     through an HttpConnectionManager on the port's RDS route, TCP
//     through tcp_proxy to the port's EDS cluster);
//   - virtualInbound (0.0.0.0:15006) and per container port an inbound
//     listener forwarding to 127.0.0.1:<port> (cluster inbound|<port>).
//
// Clusters: every service port's EDS cluster, the inbound clusters and
// the original-destination passthrough cluster.
func Sidecar(pod *shoalv1.Pod, podIP string, services []ServicePortResources, o Options) (SidecarConfig, error) {
	var sc SidecarConfig
	sc.Listeners = append(sc.Listeners, virtualListener(VirtualOutbound, VirtualOutboundPort, core.TrafficDirection_OUTBOUND))
	sc.Clusters = append(sc.Clusters, passthroughCluster(o))
	for _, r := range services {
		sc.Clusters = append(sc.Clusters, r.Cluster)
		if r.ClusterIP == "" || r.ClusterIP == "None" {
			continue
		}
		l, err := OutboundListener(r, r.Route.GetName(), r.Cluster.GetName())
		if err != nil {
			return sc, err
		}
		sc.Listeners = append(sc.Listeners, l)
	}
	sc.Listeners = append(sc.Listeners, virtualListener(VirtualInbound, VirtualInboundPort, core.TrafficDirection_INBOUND))
	seen := map[int32]bool{}
	for _, c := range pod.GetSpec().GetContainers() {
		for _, p := range c.GetPorts() {
			port := p.GetContainerPort()
			if port <= 0 || seen[port] {
				continue
			}
			seen[port] = true
			name := InboundName(port)
			addr := podIP
			if addr == "" {
				addr = "0.0.0.0"
			}
			sc.Listeners = append(sc.Listeners, &listener.Listener{
				Name:             name,
				Address:          socketAddress(addr, uint32(port)),
				BindToPort:       wrapperspb.Bool(false),
				TrafficDirection: core.TrafficDirection_INBOUND,
				FilterChains: []*listener.FilterChain{{
					Filters: []*listener.Filter{networkFilter(name, "", name, false, false)},
				}},
			})
			sc.Clusters = append(sc.Clusters, staticCluster(name, "127.0.0.1", port, o))
		}
	}
	if len(sc.Listeners) == 0 {
		return sc, fmt.Errorf("resources: no listeners for pod")
	}
	return sc, nil
}

func virtualListener(name string, port uint32, dir core.TrafficDirection) *listener.Listener {
	return &listener.Listener{
		Name:             name,
		Address:          socketAddress("0.0.0.0", port),
		UseOriginalDst:   wrapperspb.Bool(true),
		TrafficDirection: dir,
		FilterChains: []*listener.FilterChain{{
			Name:    name + "-passthrough",
			Filters: []*listener.Filter{networkFilter(name, "", PassthroughCluster, false, false)},
		}},
	}
}

func passthroughCluster(o Options) *cluster.Cluster {
	return &cluster.Cluster{
		Name:                 PassthroughCluster,
		ClusterDiscoveryType: &cluster.Cluster_Type{Type: cluster.Cluster_ORIGINAL_DST},
		LbPolicy:             cluster.Cluster_CLUSTER_PROVIDED,
		ConnectTimeout:       durationpb.New(o.ConnectTimeout),
	}
}

func staticCluster(name, ip string, port int32, o Options) *cluster.Cluster {
	return &cluster.Cluster{
		Name:                 name,
		ClusterDiscoveryType: &cluster.Cluster_Type{Type: cluster.Cluster_STATIC},
		ConnectTimeout:       durationpb.New(o.ConnectTimeout),
		LoadAssignment: &endpoint.ClusterLoadAssignment{
			ClusterName: name,
			Endpoints: []*endpoint.LocalityLbEndpoints{{
				LbEndpoints: []*endpoint.LbEndpoint{{HostIdentifier: &endpoint.LbEndpoint_Endpoint{Endpoint: &endpoint.Endpoint{
					Address: socketAddress(ip, uint32(port)),
				}}}},
			}},
		},
	}
}
