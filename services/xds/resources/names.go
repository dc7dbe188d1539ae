package resources

import (
	"fmt"
	"strconv"
	"strings"
)

// DefaultClusterDomain is the DNS suffix of service names.
const DefaultClusterDomain = "cluster.local"

// Host is the fully qualified name of a service: <svc>.<ns>.svc.<domain>.
func Host(name, namespace, domain string) string {
	return name + "." + namespace + ".svc." + domain
}

// ListenerName is the proxyless gRPC listener (and route configuration)
// name of one service port: what a client dials as xds:///<ListenerName>.
func ListenerName(name, namespace, domain string, port int32) string {
	return Host(name, namespace, domain) + ":" + strconv.Itoa(int(port))
}

// ClusterName is the EDS cluster (and ClusterLoadAssignment) name of one
// service port.
func ClusterName(name, namespace, domain string, port int32) string {
	return fmt.Sprintf("outbound|%d||%s", port, Host(name, namespace, domain))
}

// Node ids. A node id tells the server what kind of client it talks to:
//
//	sidecar~<podIP>~<pod>.<namespace>~<namespace>.svc.<domain>   Envoy sidecar
//	proxyless~<podIP>~<pod>.<namespace>~<namespace>.svc.<domain> grpc-go xds client
//
// Any other node id is served the shared (node-independent) resources, as
// a proxyless client.
const (
	NodeKindSidecar   = "sidecar"
	NodeKindProxyless = "proxyless"
)

// NodeID builds the node id of a pod (Istio's layout).
func NodeID(kind, podIP, pod, namespace, domain string) string {
	return strings.Join([]string{kind, podIP, pod + "." + namespace, namespace + ".svc." + domain}, "~")
}

// NodeInfo is what a node id tells about its pod.
type NodeInfo struct {
	Kind      string
	PodIP     string
	Pod       string
	Namespace string
}

// ParseNodeID reads a node id built by NodeID; ok is false for any other
// shape.
func ParseNodeID(id string) (NodeInfo, bool) {
	f := strings.Split(id, "~")
	if len(f) != 4 || (f[0] != NodeKindSidecar && f[0] != NodeKindProxyless) {
		return NodeInfo{}, false
	}
	pod, ns, ok := strings.Cut(f[2], ".")
	if !ok || pod == "" || ns == "" {
		return NodeInfo{}, false
	}
	return NodeInfo{Kind: f[0], PodIP: f[1], Pod: pod, Namespace: ns}, true
}

// IsSidecar tells whether a node id names an Envoy sidecar.
func IsSidecar(id string) bool { return strings.HasPrefix(id, NodeKindSidecar+"~") }
