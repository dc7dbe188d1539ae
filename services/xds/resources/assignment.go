package resources

import (
	"cmp"
	"slices"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Assignment is the ClusterLoadAssignment of one service port: the ready
// addresses of eps, grouped by locality (region, zone, node as sub-zone),
// each locality weighted by its number of endpoints. Every locality has a
// weight >= 1: grpc-go and grpc-js silently drop localities without one.
func Assignment(name string, port *shoalv1.ServicePort, nports int, eps *shoalv1.Endpoints, loc NodeLocality) *endpoint.ClusterLoadAssignment {
	cla := &endpoint.ClusterLoadAssignment{ClusterName: name}
	target, ok := endpointPort(port, nports, eps)
	if !ok {
		return cla
	}
	type key struct{ region, zone, node string }
	groups := map[key][]*endpoint.LbEndpoint{}
	for _, a := range eps.GetSpec().GetAddresses() {
		if !a.GetReady() || a.GetIp() == "" {
			continue
		}
		var l Locality
		if loc != nil && a.GetNodeName() != "" {
			l = loc(a.GetNodeName())
		}
		zone := cmp.Or(a.GetZone(), l.Zone)
		k := key{l.Region, zone, a.GetNodeName()}
		groups[k] = append(groups[k], &endpoint.LbEndpoint{
			HostIdentifier: &endpoint.LbEndpoint_Endpoint{Endpoint: &endpoint.Endpoint{
				Address:  socketAddress(a.GetIp(), uint32(target)),
				Hostname: a.GetHostname(),
			}},
			HealthStatus:        core.HealthStatus_HEALTHY,
			LoadBalancingWeight: wrapperspb.UInt32(1),
		})
	}
	keys := make([]key, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.region, b.region), cmp.Compare(a.zone, b.zone), cmp.Compare(a.node, b.node))
	})
	for _, k := range keys {
		lbs := groups[k]
		slices.SortFunc(lbs, func(a, b *endpoint.LbEndpoint) int {
			return cmp.Compare(a.GetEndpoint().GetAddress().GetSocketAddress().GetAddress(), b.GetEndpoint().GetAddress().GetSocketAddress().GetAddress())
		})
		cla.Endpoints = append(cla.Endpoints, &endpoint.LocalityLbEndpoints{
			Locality:            &core.Locality{Region: k.region, Zone: k.zone, SubZone: k.node},
			LbEndpoints:         lbs,
			LoadBalancingWeight: wrapperspb.UInt32(uint32(len(lbs))),
		})
	}
	return cla
}

// endpointPort is the backend port of a service port: the Endpoints port
// of the same name (or the only one), else the numeric target port, else
// the service port itself.
func endpointPort(p *shoalv1.ServicePort, nports int, eps *shoalv1.Endpoints) (int32, bool) {
	ports := eps.GetSpec().GetPorts()
	for _, ep := range ports {
		if ep.GetName() == p.GetName() && ep.GetPort() > 0 {
			return ep.GetPort(), true
		}
	}
	if len(ports) == 1 && nports == 1 && ports[0].GetPort() > 0 {
		return ports[0].GetPort(), true
	}
	if len(ports) > 0 {
		return 0, false
	}
	if tp := p.GetTargetPort(); tp.GetIntValue() > 0 {
		return tp.GetIntValue(), true
	}
	return p.GetPort(), true
}
