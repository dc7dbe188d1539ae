// Package bootstrap writes the xDS bootstrap files that join a pod to the
// mesh: one for grpc-go (and grpc-js) proxyless clients, pointed at by
// GRPC_XDS_BOOTSTRAP, and one for an Envoy sidecar (the template in
// deploy/envoy/). The node agent calls it for every pod with
// spec.mesh.enabled:
//
//	id := bootstrap.NodeID(bootstrap.Proxyless, pod.Status.PodIp, pod.Name, pod.Namespace, "")
//	b, err := bootstrap.GRPC("xds.shoal-system:15010", id, bootstrap.Options{})
//	os.WriteFile(dir+"/grpc-xds-bootstrap.json", b, 0o644)
//	env = append(env, bootstrap.EnvVar+"="+dir+"/grpc-xds-bootstrap.json")
package bootstrap

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/shoalmesh/shoal/services/xds/resources"
)

// EnvVar is the variable grpc-go and grpc-js read the bootstrap path from.
const EnvVar = "GRPC_XDS_BOOTSTRAP"

// Node kinds for NodeID.
const (
	Proxyless = resources.NodeKindProxyless
	Sidecar   = resources.NodeKindSidecar
)

// NodeID is the node id of a pod: kind~podIP~pod.namespace~namespace.svc.domain.
// The xds server serves any node id, but this one lets it find the pod
// (sidecars get inbound listeners for its container ports). An empty
// domain means cluster.local.
func NodeID(kind, podIP, pod, namespace, domain string) string {
	if domain == "" {
		domain = resources.DefaultClusterDomain
	}
	return resources.NodeID(kind, podIP, pod, namespace, domain)
}

// Options adjust a bootstrap.
type Options struct {
	// Zone, Region and SubZone place the node (its locality).
	Zone, Region, SubZone string
	// Metadata is added to the node's metadata (string values).
	Metadata map[string]string
	// EnvoyAdminPort is the Envoy admin port (default 15000, loopback).
	EnvoyAdminPort int
}

// GRPC is a grpc-go/grpc-js xDS bootstrap: one ADS server over plaintext,
// the xDS v3 feature, and the node.
func GRPC(xdsAddress, nodeID string, o Options) ([]byte, error) {
	if err := check(xdsAddress, nodeID); err != nil {
		return nil, err
	}
	doc := map[string]any{
		"xds_servers": []any{map[string]any{
			"server_uri":      xdsAddress,
			"channel_creds":   []any{map[string]any{"type": "insecure"}},
			"server_features": []any{"xds_v3"},
		}},
		"node": node(nodeID, o),
	}
	return json.MarshalIndent(doc, "", "  ")
}

func node(nodeID string, o Options) map[string]any {
	n := map[string]any{"id": nodeID, "cluster": "shoal"}
	if o.Zone != "" || o.Region != "" || o.SubZone != "" {
		n["locality"] = map[string]any{"region": o.Region, "zone": o.Zone, "sub_zone": o.SubZone}
	}
	if len(o.Metadata) > 0 {
		md := map[string]any{}
		for k, v := range o.Metadata {
			md[k] = v
		}
		n["metadata"] = md
	}
	return n
}

func check(xdsAddress, nodeID string) error {
	var errs []error
	if _, port, err := net.SplitHostPort(xdsAddress); err != nil || port == "" {
		errs = append(errs, fmt.Errorf("bootstrap: xds address %q: want host:port", xdsAddress))
	}
	if strings.TrimSpace(nodeID) == "" {
		errs = append(errs, errors.New("bootstrap: node id is required"))
	}
	return errors.Join(errs...)
}

// Envoy is an Envoy sidecar bootstrap (JSON, which Envoy reads as YAML):
// node, admin on loopback, dynamic LDS/CDS over ADS (gRPC to the xds
// service, as the static cluster xds_cluster), delta or state-of-the-world.
// deploy/envoy/bootstrap.yaml is the same document as a template.
func Envoy(xdsAddress, nodeID string, delta bool, o Options) ([]byte, error) {
	if err := check(xdsAddress, nodeID); err != nil {
		return nil, err
	}
	host, portStr, _ := net.SplitHostPort(xdsAddress)
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: xds port %q: %w", portStr, err)
	}
	admin := o.EnvoyAdminPort
	if admin == 0 {
		admin = 15000
	}
	apiType := "GRPC"
	if delta {
		apiType = "DELTA_GRPC"
	}
	ads := map[string]any{"ads": map[string]any{}, "resource_api_version": "V3"}
	addrType := "STRICT_DNS"
	if net.ParseIP(host) != nil {
		addrType = "STATIC"
	}
	doc := map[string]any{
		"node": node(nodeID, o),
		"admin": map[string]any{"address": map[string]any{"socket_address": map[string]any{
			"address": "127.0.0.1", "port_value": admin,
		}}},
		"dynamic_resources": map[string]any{
			"ads_config": map[string]any{
				"api_type":                       apiType,
				"transport_api_version":          "V3",
				"grpc_services":                  []any{map[string]any{"envoy_grpc": map[string]any{"cluster_name": "xds_cluster"}}},
				"set_node_on_first_message_only": true,
			},
			"lds_config": ads,
			"cds_config": ads,
		},
		"static_resources": map[string]any{"clusters": []any{map[string]any{
			"name":            "xds_cluster",
			"type":            addrType,
			"connect_timeout": "5s",
			"typed_extension_protocol_options": map[string]any{
				"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": map[string]any{
					"@type":                "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
					"explicit_http_config": map[string]any{"http2_protocol_options": map[string]any{}},
				},
			},
			"load_assignment": map[string]any{
				"cluster_name": "xds_cluster",
				"endpoints": []any{map[string]any{"lb_endpoints": []any{map[string]any{"endpoint": map[string]any{
					"address": map[string]any{"socket_address": map[string]any{"address": host, "port_value": port}},
				}}}}},
			},
		}}},
	}
	return json.MarshalIndent(doc, "", "  ")
}
