package resources

import (
	"time"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	roundrobin "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/round_robin/v3"
	httpopts "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const (
	protoTCP  = shoalv1.ServiceProtocol_SERVICE_PROTOCOL_TCP
	protoHTTP = shoalv1.ServiceProtocol_SERVICE_PROTOCOL_HTTP
	protoGRPC = shoalv1.ServiceProtocol_SERVICE_PROTOCOL_GRPC
)

// httpProtocolOptionsKey is where Envoy reads upstream HTTP settings.
const httpProtocolOptionsKey = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"

// Cluster is the EDS cluster of one service port, with the Service's
// load-balancing policy, outlier detection and circuit breakers.
func Cluster(name string, spec *shoalv1.ServiceSpec, port *shoalv1.ServicePort, o Options) *cluster.Cluster {
	c := &cluster.Cluster{
		Name:                 name,
		ClusterDiscoveryType: &cluster.Cluster_Type{Type: cluster.Cluster_EDS},
		EdsClusterConfig:     &cluster.Cluster_EdsClusterConfig{EdsConfig: adsSource(), ServiceName: name},
		ConnectTimeout:       durationpb.New(o.ConnectTimeout),
		LbPolicy:             cluster.Cluster_ROUND_ROBIN,
		OutlierDetection:     outlier(o),
		CircuitBreakers: &cluster.CircuitBreakers{Thresholds: []*cluster.CircuitBreakers_Thresholds{{
			Priority:           core.RoutingPriority_DEFAULT,
			MaxConnections:     wrapperspb.UInt32(o.MaxConnections),
			MaxPendingRequests: wrapperspb.UInt32(o.MaxPendingRequests),
			MaxRequests:        wrapperspb.UInt32(o.MaxRequests),
			MaxRetries:         wrapperspb.UInt32(o.MaxRetries),
		}}},
	}
	switch spec.GetLoadBalancing().GetPolicy() {
	case shoalv1.LoadBalancerPolicy_LOAD_BALANCER_POLICY_LEAST_REQUEST:
		c.LbPolicy = cluster.Cluster_LEAST_REQUEST
		c.LbConfig = &cluster.Cluster_LeastRequestLbConfig_{LeastRequestLbConfig: &cluster.Cluster_LeastRequestLbConfig{
			ChoiceCount: wrapperspb.UInt32(2),
		}}
	case shoalv1.LoadBalancerPolicy_LOAD_BALANCER_POLICY_RING_HASH:
		c.LbPolicy = cluster.Cluster_RING_HASH
		c.LbConfig = &cluster.Cluster_RingHashLbConfig_{RingHashLbConfig: &cluster.Cluster_RingHashLbConfig{
			MinimumRingSize: wrapperspb.UInt64(1024),
			MaximumRingSize: wrapperspb.UInt64(8 << 20),
			HashFunction:    cluster.Cluster_RingHashLbConfig_XX_HASH,
		}}
	default:
		c.LoadBalancingPolicy = roundRobinPolicy()
	}
	if protocol(port.GetProtocol()) == protoGRPC {
		// Envoy must speak HTTP/2 to gRPC backends.
		c.TypedExtensionProtocolOptions = map[string]*anypb.Any{httpProtocolOptionsKey: mustAny(&httpopts.HttpProtocolOptions{
			UpstreamProtocolOptions: &httpopts.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &httpopts.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &httpopts.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{Http2ProtocolOptions: &core.Http2ProtocolOptions{}},
			}},
		})}
	}
	return c
}

// roundRobinPolicy is round robin over every endpoint, as the typed
// policy rather than the ROUND_ROBIN enum (which stays set, for clients
// that predate load_balancing_policy; both Envoy and gRPC prefer the typed
// field). gRPC clients read the enum as round robin inside locality
// weighting (xds_wrr_locality over weighted_target): two more balancers,
// whose JSON configs a client re-parses on every endpoint update (without
// them the xds benchmark's client p99 fell by about 15 %). Every locality's
// weight is its number of endpoints (Assignment), so locality-weighted
// round robin and flat round robin spread calls alike; Envoy ignores the
// weights without locality_weighted_lb_config either way.
func roundRobinPolicy() *cluster.LoadBalancingPolicy {
	return &cluster.LoadBalancingPolicy{Policies: []*cluster.LoadBalancingPolicy_Policy{{
		TypedExtensionConfig: &core.TypedExtensionConfig{
			Name:        "envoy.load_balancing_policies.round_robin",
			TypedConfig: mustAny(&roundrobin.RoundRobin{}),
		},
	}}}
}

func outlier(o Options) *cluster.OutlierDetection {
	if o.OutlierConsecutiveErrors == 0 {
		return nil
	}
	return &cluster.OutlierDetection{
		Consecutive_5Xx:           wrapperspb.UInt32(o.OutlierConsecutiveErrors),
		ConsecutiveGatewayFailure: wrapperspb.UInt32(o.OutlierConsecutiveErrors),
		EnforcingConsecutive_5Xx:  wrapperspb.UInt32(100),
		Interval:                  durationpb.New(nonZero(o.OutlierInterval, 10*time.Second)),
		BaseEjectionTime:          durationpb.New(nonZero(o.OutlierBaseEjection, 30*time.Second)),
		MaxEjectionPercent:        wrapperspb.UInt32(o.OutlierMaxEjectionPct),
		EnforcingSuccessRate:      wrapperspb.UInt32(0),
	}
}

func nonZero(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
