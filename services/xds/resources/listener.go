package resources

import (
	"fmt"
	"strconv"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	router "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxy "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Well-known filter names.
const (
	RouterFilter   = "envoy.filters.http.router"
	HCMFilter      = "envoy.filters.network.http_connection_manager"
	TCPProxyFilter = "envoy.filters.network.tcp_proxy"
)

func mustAny(m proto.Message) *anypb.Any {
	a, err := anypb.New(m)
	if err != nil {
		panic(err) // only for messages of linked-in types
	}
	return a
}

// httpManager is an HttpConnectionManager taking its routes from RDS over
// ADS, with the router filter (grpc-go rejects a listener without it).
func httpManager(statPrefix, routeName string, grpc bool) *hcm.HttpConnectionManager {
	m := &hcm.HttpConnectionManager{
		StatPrefix: statPrefix,
		RouteSpecifier: &hcm.HttpConnectionManager_Rds{Rds: &hcm.Rds{
			ConfigSource:    adsSource(),
			RouteConfigName: routeName,
		}},
		HttpFilters: []*hcm.HttpFilter{{
			Name:       RouterFilter,
			ConfigType: &hcm.HttpFilter_TypedConfig{TypedConfig: mustAny(&router.Router{})},
		}},
	}
	if grpc {
		m.CodecType = hcm.HttpConnectionManager_HTTP2
	}
	return m
}

// APIListener is the listener a proxyless gRPC client asks for by name.
func APIListener(name, routeName string) *listener.Listener {
	return &listener.Listener{
		Name: name,
		ApiListener: &listener.ApiListener{
			ApiListener: mustAny(httpManager(name, routeName, true)),
		},
	}
}

func socketAddress(ip string, port uint32) *core.Address {
	return &core.Address{Address: &core.Address_SocketAddress{SocketAddress: &core.SocketAddress{
		Protocol:      core.SocketAddress_TCP,
		Address:       ip,
		PortSpecifier: &core.SocketAddress_PortValue{PortValue: port},
	}}}
}

// networkFilter is the one network filter of a sidecar listener's chain:
// an HttpConnectionManager (RDS) for HTTP and gRPC ports, tcp_proxy to
// cluster for plain TCP.
func networkFilter(statPrefix, routeName, clusterName string, http, grpc bool) *listener.Filter {
	if http || grpc {
		return &listener.Filter{Name: HCMFilter, ConfigType: &listener.Filter_TypedConfig{
			TypedConfig: mustAny(httpManager(statPrefix, routeName, grpc)),
		}}
	}
	return &listener.Filter{Name: TCPProxyFilter, ConfigType: &listener.Filter_TypedConfig{
		TypedConfig: mustAny(&tcpproxy.TcpProxy{
			StatPrefix:       statPrefix,
			ClusterSpecifier: &tcpproxy.TcpProxy_Cluster{Cluster: clusterName},
		}),
	}}
}

// OutboundListenerName names a sidecar's listener for a ClusterIP:port.
func OutboundListenerName(clusterIP string, port int32) string {
	return "outbound|" + clusterIP + "|" + strconv.Itoa(int(port))
}

// OutboundListener is a sidecar's listener for one service port on its
// ClusterIP. It does not bind: connections reach it through the
// virtualOutbound listener (original destination), as iptables redirects
// them there.
func OutboundListener(r ServicePortResources, routeName, clusterName string) (*listener.Listener, error) {
	if r.ClusterIP == "" || r.ClusterIP == "None" {
		return nil, fmt.Errorf("resources: service port %d has no cluster IP", r.Port)
	}
	name := OutboundListenerName(r.ClusterIP, r.Port)
	http := r.Protocol == protoHTTP
	grpc := r.Protocol == protoGRPC
	return &listener.Listener{
		Name:             name,
		Address:          socketAddress(r.ClusterIP, uint32(r.Port)),
		BindToPort:       wrapperspb.Bool(false),
		TrafficDirection: core.TrafficDirection_OUTBOUND,
		FilterChains: []*listener.FilterChain{{
			Filters: []*listener.Filter{networkFilter(name, routeName, clusterName, http, grpc)},
		}},
	}, nil
}
