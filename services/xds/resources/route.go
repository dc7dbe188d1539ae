package resources

import (
	"strings"

	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Route is the route configuration of one service port: every request to
// the one cluster, with the Service's timeout, retries and (RING_HASH)
// hash policy. The virtual host matches any authority: the route
// configuration is already specific to one service port.
func Route(name, clusterName, host string, port int32, spec *shoalv1.ServiceSpec) *route.RouteConfiguration {
	action := &route.RouteAction{
		ClusterSpecifier: &route.RouteAction_Cluster{Cluster: clusterName},
	}
	if t := spec.GetTimeout(); t != nil && t.AsDuration() > 0 {
		// Envoy reads timeout; grpc-go reads max_stream_duration.
		action.Timeout = durationpb.New(t.AsDuration())
		action.MaxStreamDuration = &route.RouteAction_MaxStreamDuration{MaxStreamDuration: durationpb.New(t.AsDuration())}
	}
	if rp := spec.GetRetryPolicy(); rp != nil && rp.GetAttempts() > 0 {
		on := rp.GetRetryOn()
		if len(on) == 0 {
			on = []string{"unavailable", "reset", "connect-failure"}
		}
		r := &route.RetryPolicy{
			RetryOn:    strings.Join(on, ","),
			NumRetries: wrapperspb.UInt32(uint32(rp.GetAttempts())),
		}
		if pt := rp.GetPerTryTimeout(); pt != nil && pt.AsDuration() > 0 {
			r.PerTryTimeout = durationpb.New(pt.AsDuration())
		}
		action.RetryPolicy = r
	}
	if lb := spec.GetLoadBalancing(); lb.GetPolicy() == shoalv1.LoadBalancerPolicy_LOAD_BALANCER_POLICY_RING_HASH && lb.GetHashHeader() != "" {
		action.HashPolicy = []*route.RouteAction_HashPolicy{{
			PolicySpecifier: &route.RouteAction_HashPolicy_Header_{Header: &route.RouteAction_HashPolicy_Header{
				HeaderName: strings.ToLower(lb.GetHashHeader()),
			}},
		}}
	}
	return &route.RouteConfiguration{
		Name: name,
		VirtualHosts: []*route.VirtualHost{{
			Name:    host,
			Domains: []string{"*"},
			Routes: []*route.Route{{
				Match:  &route.RouteMatch{PathSpecifier: &route.RouteMatch_Prefix{Prefix: "/"}},
				Action: &route.Route_Route{Route: action},
			}},
		}},
	}
}
