// Package xdsbench measures how fast the xds service converges a mesh of
// proxyless gRPC clients after an Endpoints change, against a bare
// go-control-plane snapshot-cache server pushing the same change in the
// same run (command barexds in this directory).
//
// One run: an in-process apigateway (embedded etcd), two greeter backends
// (A on 127.0.0.1, B on 127.0.0.2, one port), a Service and its Endpoints.
// Both servers run at once, each a subprocess so that its RSS and CPU are
// its own, each with Streams grpc-go ClientConns of its own (each with its
// own xDS client, ADS stream and node id,
// xds.NewXDSResolverWithConfigForTesting) that make one call. The clients
// run in ClientProcs processes per server (this executable re-executed as
// ClientsCommand), as production clients each run in their own process
// with their own heap and garbage collector. Then Changes
// times each server's endpoint set flips between {A} and {B}, the two
// servers' changes alternating (bare, xds, bare, ...) so that the machine's
// load changing during the run hits both alike. For every change it
// records, per stream:
//
//   - push: when the server handed the new EDS response to gRPC (server
//     clock, from /debug/acks), from the moment the change was issued (the
//     Endpoints write to the gateway for xds; POST /set for bare);
//   - ack: when the server saw the stream ACK the new EDS version;
//   - client: when the client opened its connection to the new backend,
//     i.e. started using the new endpoint set (the backend's stats
//     handler), from the same moment.
//
// plus the server's RSS with every stream open and its CPU time per change.
//
//	res, err := xdsbench.Run(ctx, xdsbench.NewConfig(), os.Stderr)
//	os.Stdout.Write(res.Markdown())
package xdsbench
