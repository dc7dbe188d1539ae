// Package server is the xds service: it watches Services, Endpoints, Pods
// and Nodes through the apigateway, builds xDS resources with package
// resources, and serves them over ADS (state-of-the-world and delta) with
// go-control-plane, next to grpc.health.v1 on the same port, and an admin
// HTTP endpoint (/metrics, /debug/config?node=ID, /debug/acks).
//
// Caches: one go-control-plane LinearCache per resource type (Listener,
// RouteConfiguration, Cluster, ClusterLoadAssignment), shared by every
// node, each resource versioned on its own: a change to one Service's
// Endpoints re-sends that one ClusterLoadAssignment to the streams that
// watch it and nothing else. Envoy sidecars (node ids "sidecar~...") get
// their listeners and clusters from a per-node SnapshotCache, seeded on
// their first request. A MuxCache routes each request. Any node id is
// served: nothing is keyed by node except the sidecar snapshots, which are
// built on demand.
//
// Informer events only mark Service keys dirty; a debounce loop rebuilds
// the dirty Services a short while after the first change of a burst and
// updates only the resources that differ (proto.Equal), after Validate().
//
//	cfg := server.NewConfig()
//	cfg.GatewayAddr = "127.0.0.1:6443"
//	srv, err := server.Start(ctx, cfg, obs)
//	if err != nil {
//		return err
//	}
//	defer srv.Close()
//	// grpc-go clients with a bootstrap naming srv.Addr() dial
//	// xds:///greeter.default.svc.cluster.local:50051
package server
