// Package resources turns Shoal Services, Endpoints, Pods and Nodes into
// Envoy xDS resources: pure functions, no I/O, no caches.
//
// Names (shared by proxyless gRPC clients and Envoy sidecars):
//
//	Listener (proxyless)   <svc>.<ns>.svc.<domain>:<port>        api_listener, RDS over ADS
//	RouteConfiguration     <svc>.<ns>.svc.<domain>:<port>        timeout, retries, hash policy
//	Cluster (EDS)          outbound|<port>||<svc>.<ns>.svc.<domain>
//	ClusterLoadAssignment  same as the cluster
//	Listener (sidecar)     outbound|<clusterIP>|<port>, inbound|<port>,
//	                       virtualOutbound (15001), virtualInbound (15006)
//
// Every builder's output passes go-control-plane's Validate(); Service
// builds one service port at a time so that a change to one Service (or
// one Service's Endpoints) touches only that Service's resources.
package resources
