// Command barexds is the benchmark's reference: a bare go-control-plane
// server with one SnapshotCache shared by every node (all node ids hash to
// one key), serving the same four resources the xds service builds for one
// Service. POST /set?addr=IP:PORT replaces the endpoints: a new snapshot,
// so every type is re-sent to every stream, as a snapshot-per-change
// server does. GET /debug/acks answers like the xds service's.
package main

import (
	"context"
	"flag"
	"fmt"
	"github.com/shoalmesh/shoal/observability"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/xds/resources"
	"github.com/shoalmesh/shoal/services/xds/server"
)

type oneKey struct{}

func (oneKey) ID(*core.Node) string { return "all" }

type acks struct {
	mu    sync.Mutex
	nodes map[int64]string
	sent  map[int64]sent // last EDS response per stream
	// log is every stream's last EDS ACK, kept as the xds service keeps
	// its own (written under mu), and served the same way.
	log *server.AckLog
}

type sent struct {
	nonce string
	at    time.Time
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "ADS address")
	admin := flag.String("admin", "127.0.0.1:0", "HTTP control address")
	svcName := flag.String("service", "greeter", "service name (namespace default)")
	addr := flag.String("addr", "", "initial endpoint IP:PORT")
	flag.Parse()

	svc := &shoalv1.Service{
		Metadata: &shoalv1.ObjectMeta{Namespace: "default", Name: *svcName},
		Spec: &shoalv1.ServiceSpec{Ports: []*shoalv1.ServicePort{{Name: "grpc", Port: 50051,
			Protocol: shoalv1.ServiceProtocol_SERVICE_PROTOCOL_GRPC}}},
	}
	snapCache := cachev3.NewSnapshotCache(false, oneKey{}, nil)
	var version int
	set := func(ep string) error {
		host, port, err := net.SplitHostPort(ep)
		if err != nil {
			return err
		}
		p, _ := strconv.Atoi(port)
		eps := &shoalv1.Endpoints{Spec: &shoalv1.EndpointsSpec{
			Addresses: []*shoalv1.EndpointAddress{{Ip: host, Ready: true, NodeName: "node-0"}},
			Ports:     []*shoalv1.EndpointPort{{Name: "grpc", Port: int32(p)}},
		}}
		rs, err := resources.Service(svc, eps, nil, resources.DefaultOptions())
		if err != nil {
			return err
		}
		r := rs[0]
		version++
		snap, err := cachev3.NewSnapshot(strconv.Itoa(version), map[resourcev3.Type][]types.Resource{
			resourcev3.ListenerType: {r.Listener}, resourcev3.RouteType: {r.Route},
			resourcev3.ClusterType: {r.Cluster}, resourcev3.EndpointType: {r.Assignment},
		})
		if err != nil {
			return err
		}
		return snapCache.SetSnapshot(context.Background(), "all", snap)
	}
	if err := set(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "barexds:", err)
		os.Exit(1)
	}

	a := &acks{nodes: map[int64]string{}, sent: map[int64]sent{}, log: server.NewAckLog()}
	cb := serverv3.CallbackFuncs{
		StreamClosedFunc: func(id int64, _ *core.Node) {
			a.mu.Lock()
			delete(a.nodes, id)
			a.log.Forget(id)
			delete(a.sent, id)
			a.mu.Unlock()
		},
		StreamRequestFunc: func(id int64, r *discovery.DiscoveryRequest) error {
			a.mu.Lock()
			defer a.mu.Unlock()
			if r.GetNode().GetId() != "" {
				a.nodes[id] = r.GetNode().GetId()
			}
			if r.GetTypeUrl() == resourcev3.EndpointType && r.GetResponseNonce() != "" && r.GetErrorDetail() == nil {
				ak := server.Ack{Stream: id, Node: a.nodes[id], Mode: "sotw", Type: "EDS", Version: r.GetVersionInfo(), At: time.Now()}
				if s := a.sent[id]; s.nonce == r.GetResponseNonce() {
					ak.Sent = s.at
				}
				a.log.Record(ak)
			}
			return nil
		},
		StreamResponseFunc: func(_ context.Context, id int64, _ *discovery.DiscoveryRequest, r *discovery.DiscoveryResponse) {
			if r.GetTypeUrl() != resourcev3.EndpointType {
				return
			}
			now := time.Now()
			a.mu.Lock()
			a.sent[id] = sent{nonce: r.GetNonce(), at: now}
			a.mu.Unlock()
		},
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	gs := grpc.NewServer(grpc.MaxConcurrentStreams(1 << 20))
	discovery.RegisterAggregatedDiscoveryServiceServer(gs, serverv3.NewServer(ctx, snapCache, cb))
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "barexds:", err)
		os.Exit(1)
	}
	alis, err := net.Listen("tcp", *admin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "barexds:", err)
		os.Exit(1)
	}
	var setMu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc("POST /set", func(w http.ResponseWriter, r *http.Request) {
		setMu.Lock()
		defer setMu.Unlock()
		if err := set(r.URL.Query().Get("addr")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	mux.Handle("GET /debug/acks", a.log)
	observability.HandlePprof(mux)
	go http.Serve(alis, mux)
	go gs.Serve(lis)
	// The benchmark reads the addresses from this line.
	fmt.Printf("barexds listen=%s admin=%s\n", lis.Addr(), alis.Addr())
	<-ctx.Done()
	gs.Stop()
}
