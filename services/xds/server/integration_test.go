package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/xds"
	"google.golang.org/protobuf/types/known/durationpb"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
	"github.com/shoalmesh/shoal/services/xds/bootstrap"
	"github.com/shoalmesh/shoal/services/xds/resources"
	"github.com/shoalmesh/shoal/services/xds/server"
	"github.com/shoalmesh/shoal/tools/greeter/greeter"
)

// env is a real gateway (embedded etcd), a real xds server and greeter
// backends on 127.0.0.1..4 sharing one port.
type env struct {
	t        *testing.T
	gw       *gatewaytest.Env
	obs      *observability.Observability
	xds      *server.Server
	port     int32
	backends map[string]string // name -> ip
	svcs     *client.Resource[*shoalv1.Service]
	eps      *client.Resource[*shoalv1.Endpoints]
	nodeSeq  atomic.Int64
}

func startEnv(t *testing.T) *env {
	t.Helper()
	gw := gatewaytest.Start(t)
	obs, err := observability.Setup(context.Background(), observability.NewConfig("xds-test"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { obs.Shutdown(context.Background()) })
	cfg := server.NewConfig()
	cfg.GatewayAddr = gw.Gateway.Addr()
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.AdminAddr = "127.0.0.1:0"
	cfg.Debounce = 10 * time.Millisecond
	cfg.ShutdownTimeout = time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := server.Start(ctx, cfg, obs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	e := &env{t: t, gw: gw, obs: obs, xds: srv, backends: map[string]string{},
		svcs: client.For[*shoalv1.Service](gw.Conn), eps: client.For[*shoalv1.Endpoints](gw.Conn)}
	e.startBackends(4)
	return e
}

// startBackends serves greeter-1..n on 127.0.0.i, all on one port (an
// Endpoints object has one port for all its addresses).
func (e *env) startBackends(n int) {
	t := e.t
	for attempt := 0; attempt < 20; attempt++ {
		var lis []net.Listener
		first, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lis = append(lis, first)
		port := first.Addr().(*net.TCPAddr).Port
		ok := true
		for i := 2; i <= n; i++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:%d", i, port))
			if err != nil {
				ok = false
				break
			}
			lis = append(lis, l)
		}
		if !ok {
			for _, l := range lis {
				l.Close()
			}
			continue
		}
		e.port = int32(port)
		for i, l := range lis {
			name := fmt.Sprintf("greeter-%d", i+1)
			srv, _ := greeter.NewServer(name)
			go srv.Serve(l)
			t.Cleanup(srv.Stop)
			e.backends[name] = fmt.Sprintf("127.0.0.%d", i+1)
		}
		return
	}
	t.Fatal("no port free on every loopback address")
}

func (e *env) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	e.t.Cleanup(cancel)
	return ctx
}

// service creates a GRPC service on port 50051 targeting the backends' port.
func (e *env) service(name string, lb *shoalv1.LoadBalancing) {
	e.t.Helper()
	_, err := e.svcs.Create(e.ctx(), &shoalv1.Service{
		Metadata: &shoalv1.ObjectMeta{Namespace: "default", Name: name},
		Spec: &shoalv1.ServiceSpec{
			Selector: map[string]string{"app": name},
			Ports: []*shoalv1.ServicePort{{Name: "grpc", Port: 50051, Protocol: shoalv1.ServiceProtocol_SERVICE_PROTOCOL_GRPC,
				TargetPort: &shoalv1.IntOrString{Value: &shoalv1.IntOrString_IntValue{IntValue: e.port}}}},
			LoadBalancing: lb,
			Timeout:       durationpb.New(10 * time.Second),
			RetryPolicy:   &shoalv1.RetryPolicy{Attempts: 2, RetryOn: []string{"unavailable"}},
		},
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// setEndpoints writes the Endpoints of svc: ready backends, then not-ready.
func (e *env) setEndpoints(svc string, ready []string, notReady ...string) {
	e.t.Helper()
	ctx := e.ctx()
	spec := &shoalv1.EndpointsSpec{Ports: []*shoalv1.EndpointPort{{Name: "grpc", Port: e.port}}}
	add := func(names []string, r bool) {
		for i, n := range names {
			spec.Addresses = append(spec.Addresses, &shoalv1.EndpointAddress{
				Ip: e.backends[n], Ready: r, NodeName: fmt.Sprintf("node-%d", i%2), Zone: "zone-a",
				TargetRef: &shoalv1.ObjectReference{Kind: "Pod", Namespace: "default", Name: n},
			})
		}
	}
	add(ready, true)
	add(notReady, false)
	cur, err := e.eps.Get(ctx, "default", svc)
	if client.IsNotFound(err) {
		_, err = e.eps.Create(ctx, &shoalv1.Endpoints{Metadata: &shoalv1.ObjectMeta{Namespace: "default", Name: svc}, Spec: spec})
	} else if err == nil {
		cur.Spec = spec
		_, err = e.eps.Update(ctx, cur)
	}
	if err != nil {
		e.t.Fatal(err)
	}
}

// dial is a proxyless grpc-go client with its own xDS client, stream and
// node id.
func (e *env) dial(svc string) *grpc.ClientConn {
	e.t.Helper()
	id := bootstrap.NodeID(bootstrap.Proxyless, "10.0.0.1", fmt.Sprintf("client-%d", e.nodeSeq.Add(1)), "default", "")
	b, err := bootstrap.GRPC(e.xds.Addr(), id, bootstrap.Options{Zone: "zone-a"})
	if err != nil {
		e.t.Fatal(err)
	}
	r, err := xds.NewXDSResolverWithConfigForTesting(b)
	if err != nil {
		e.t.Fatal(err)
	}
	conn, err := grpc.NewClient("xds:///"+resources.ListenerName(svc, "default", "cluster.local", 50051),
		grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithResolvers(r))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { conn.Close() })
	return conn
}

// calls makes n calls and counts them per backend; errors fail the test.
func calls(t *testing.T, conn *grpc.ClientConn, n int, header, value string) map[string]int {
	t.Helper()
	got := map[string]int{}
	for range n {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		name, err := greeter.Call(ctx, conn, header, value)
		cancel()
		if err != nil {
			t.Fatalf("call: %v", err)
		}
		got[name]++
	}
	return got
}

// eventually calls until a window of n calls satisfies cond.
func eventually(t *testing.T, conn *grpc.ClientConn, n int, what string, cond func(map[string]int) bool) map[string]int {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		got := calls(t, conn, n, "", "")
		if cond(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: never happened; last window %v", what, got)
		}
	}
}

func keys(m map[string]int) string {
	var s []string
	for k, v := range m {
		s = append(s, fmt.Sprintf("%s=%d", k, v))
	}
	return strings.Join(s, ",")
}

func TestProxylessMesh(t *testing.T) {
	e := startEnv(t)
	e.service("greeter", nil)
	e.setEndpoints("greeter", []string{"greeter-1", "greeter-2", "greeter-3"})
	conn := e.dial("greeter")
	conn2 := e.dial("greeter")

	t.Run("balanced across three backends", func(t *testing.T) {
		for _, c := range []*grpc.ClientConn{conn, conn2} {
			eventually(t, c, 30, "calls reach all three backends", func(m map[string]int) bool { return len(m) == 3 })
			got := calls(t, c, 60, "", "")
			for _, b := range []string{"greeter-1", "greeter-2", "greeter-3"} {
				// Round robin: 20 each; allow for a picker update mid-window.
				if got[b] < 10 {
					t.Errorf("backend %s got %d of 60 calls (%s), want about 20", b, got[b], keys(got))
				}
			}
		}
	})

	t.Run("not-ready backend stops receiving calls", func(t *testing.T) {
		e.setEndpoints("greeter", []string{"greeter-1", "greeter-3"}, "greeter-2")
		eventually(t, conn, 30, "greeter-2 drained", func(m map[string]int) bool { return m["greeter-2"] == 0 && len(m) == 2 })
		if got := calls(t, conn, 60, "", ""); got["greeter-2"] != 0 {
			t.Errorf("not-ready greeter-2 still got calls: %s", keys(got))
		}
	})

	t.Run("scaling adds and removes endpoints", func(t *testing.T) {
		e.setEndpoints("greeter", []string{"greeter-1", "greeter-2", "greeter-3", "greeter-4"})
		eventually(t, conn, 40, "scaled up to four", func(m map[string]int) bool { return len(m) == 4 })
		e.setEndpoints("greeter", []string{"greeter-4"})
		eventually(t, conn, 20, "scaled down to one", func(m map[string]int) bool { return len(m) == 1 && m["greeter-4"] == 20 })
		e.setEndpoints("greeter", []string{"greeter-1", "greeter-2", "greeter-3"})
		eventually(t, conn, 30, "back to three", func(m map[string]int) bool { return len(m) == 3 })
	})

	t.Run("ring hash keeps a header on one backend", func(t *testing.T) {
		e.service("sticky", &shoalv1.LoadBalancing{Policy: shoalv1.LoadBalancerPolicy_LOAD_BALANCER_POLICY_RING_HASH, HashHeader: "x-user"})
		e.setEndpoints("sticky", []string{"greeter-1", "greeter-2", "greeter-3"})
		c := e.dial("sticky")
		// Wait until the ring holds all three backends: some users land on each.
		deadline := time.Now().Add(45 * time.Second)
		for {
			seen := map[string]int{}
			for u := range 30 {
				for k := range calls(t, c, 1, "x-user", fmt.Sprintf("user-%d", u)) {
					seen[k]++
				}
			}
			if len(seen) == 3 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("30 users never spread over three backends: %s", keys(seen))
			}
		}
		for _, u := range []string{"alice", "bob", "carol"} {
			if got := calls(t, c, 30, "x-user", u); len(got) != 1 {
				t.Errorf("user %s spread over %s, want one backend", u, keys(got))
			}
		}
	})

	t.Run("admin dumps what a node is served", func(t *testing.T) {
		resp, err := http.Get("http://" + e.xds.AdminAddr() + "/debug/config?node=" + "any-node-at-all")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var d server.ConfigDump
		if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
			t.Fatal(err)
		}
		if _, ok := d.Resources["LDS"]["greeter.default.svc.cluster.local:50051"]; !ok {
			t.Errorf("dump of an unknown node lacks the greeter listener: %v", d.Resources["LDS"])
		}
		if _, ok := d.Resources["EDS"][resources.ClusterName("greeter", "default", "cluster.local", 50051)]; !ok {
			t.Errorf("dump lacks the greeter assignment")
		}
		m, err := http.Get("http://" + e.xds.AdminAddr() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(m.Body)
		m.Body.Close()
		for _, want := range []string{`shoal_xds_streams{client="proxyless",mode="sotw"}`, `shoal_xds_pushes_total{mode="sotw",type="EDS"}`, `shoal_xds_resources{type="EDS"} 2`, "shoal_xds_push_latency_seconds_bucket"} {
			if !strings.Contains(string(body), want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})

	t.Run("health", func(t *testing.T) {
		hc, err := grpc.NewClient(e.xds.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer hc.Close()
		r, err := healthpb.NewHealthClient(hc).Check(e.ctx(), &healthpb.HealthCheckRequest{})
		if err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health = %v, %v", r, err)
		}
	})
}

// TestDeltaADSResendsOnlyTheChangedAssignment subscribes a raw delta
// stream to two clusters' assignments and changes one Service's endpoints.
func TestDeltaADSResendsOnlyTheChangedAssignment(t *testing.T) {
	e := startEnv(t)
	for _, s := range []string{"alpha", "beta"} {
		e.service(s, nil)
		e.setEndpoints(s, []string{"greeter-1"})
	}
	alpha := resources.ClusterName("alpha", "default", "cluster.local", 50051)
	beta := resources.ClusterName("beta", "default", "cluster.local", 50051)
	// Wait until the server holds both assignments with their endpoint, so
	// the only push after the subscription is the one this test causes.
	e.waitAssignments(t, "delta-tester", alpha, beta)
	cc, err := grpc.NewClient(e.xds.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx := e.ctx()
	ads := discovery.NewAggregatedDiscoveryServiceClient(cc)
	st, err := ads.DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	node := &corev3Node{id: "delta-tester"}
	if err := st.Send(&discovery.DeltaDiscoveryRequest{Node: node.pb(), TypeUrl: resourcev3.EndpointType, ResourceNamesSubscribe: []string{alpha, beta}}); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for len(got) < 2 {
		r, err := st.Recv()
		if err != nil {
			t.Fatal(err)
		}
		for _, res := range r.GetResources() {
			got[res.GetName()] = true
		}
		if err := st.Send(&discovery.DeltaDiscoveryRequest{TypeUrl: resourcev3.EndpointType, ResponseNonce: r.GetNonce()}); err != nil {
			t.Fatal(err)
		}
	}
	e.setEndpoints("alpha", []string{"greeter-1", "greeter-2"})
	r, err := st.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if len(r.GetResources()) != 1 || r.GetResources()[0].GetName() != alpha {
		var names []string
		for _, res := range r.GetResources() {
			names = append(names, res.GetName())
		}
		t.Fatalf("after alpha's endpoints changed the push held %v, want only %s", names, alpha)
	}

	// A NACK is counted (and logged with the node id).
	if err := st.Send(&discovery.DeltaDiscoveryRequest{TypeUrl: resourcev3.EndpointType, ResponseNonce: r.GetNonce(),
		ErrorDetail: &status.Status{Code: 3, Message: "rejected for the test"}}); err != nil {
		t.Fatal(err)
	}
	e.waitMetric(t, `shoal_xds_nacks_total{type="EDS"} 1`)
}

// TestSotWADSResendsOnlyTheChangedAssignment: on a state-of-the-world ADS
// stream an Endpoints change re-sends that one ClusterLoadAssignment and
// nothing else; a NACK is counted and leaves the stream serving; the ACKs
// the admin endpoint reports carry the time their response was sent.
func TestSotWADSResendsOnlyTheChangedAssignment(t *testing.T) {
	e := startEnv(t)
	for _, s := range []string{"alpha", "beta"} {
		e.service(s, nil)
		e.setEndpoints(s, []string{"greeter-1"})
	}
	listener := resources.ListenerName("alpha", "default", "cluster.local", 50051)
	alpha := resources.ClusterName("alpha", "default", "cluster.local", 50051)
	beta := resources.ClusterName("beta", "default", "cluster.local", 50051)
	e.waitAssignments(t, "sotw-tester", alpha, beta)
	cc, err := grpc.NewClient(e.xds.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	st, err := discovery.NewAggregatedDiscoveryServiceClient(cc).StreamAggregatedResources(e.ctx())
	if err != nil {
		t.Fatal(err)
	}
	node := &corev3Node{id: "sotw-tester"}
	subs := map[string][]string{resourcev3.ListenerType: {listener}, resourcev3.ClusterType: {alpha}, resourcev3.EndpointType: {alpha, beta}}
	for _, typ := range []string{resourcev3.ListenerType, resourcev3.ClusterType, resourcev3.EndpointType} {
		if err := st.Send(&discovery.DiscoveryRequest{Node: node.pb(), TypeUrl: typ, ResourceNames: subs[typ]}); err != nil {
			t.Fatal(err)
		}
	}
	ack := func(r *discovery.DiscoveryResponse) {
		t.Helper()
		if err := st.Send(&discovery.DiscoveryRequest{TypeUrl: r.GetTypeUrl(), VersionInfo: r.GetVersionInfo(), ResponseNonce: r.GetNonce(), ResourceNames: subs[r.GetTypeUrl()]}); err != nil {
			t.Fatal(err)
		}
	}
	for seen := map[string]bool{}; len(seen) < 3; {
		r, err := st.Recv()
		if err != nil {
			t.Fatal(err)
		}
		seen[r.GetTypeUrl()] = true
		ack(r)
	}
	// The first response after a change must be EDS with only the changed
	// assignment: a re-sent Listener or Cluster would come first.
	pushed := func(want string) *discovery.DiscoveryResponse {
		t.Helper()
		r, err := st.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if r.GetTypeUrl() != resourcev3.EndpointType || len(r.GetResources()) != 1 {
			t.Fatalf("after %s's endpoints changed the push was %s with %d resources, want EDS with 1", want, r.GetTypeUrl(), len(r.GetResources()))
		}
		var cla endpointv3.ClusterLoadAssignment
		if err := r.GetResources()[0].UnmarshalTo(&cla); err != nil {
			t.Fatal(err)
		}
		if cla.GetClusterName() != want {
			t.Fatalf("push held %s, want %s", cla.GetClusterName(), want)
		}
		return r
	}
	e.setEndpoints("alpha", []string{"greeter-1", "greeter-2"})
	acked := pushed(alpha)
	ack(acked)
	e.setEndpoints("beta", []string{"greeter-2"})
	r := pushed(beta)

	// A NACK is counted, leaves the last ACK as it was, and the stream
	// keeps serving.
	if err := st.Send(&discovery.DiscoveryRequest{TypeUrl: resourcev3.EndpointType, VersionInfo: acked.GetVersionInfo(), ResponseNonce: r.GetNonce(),
		ResourceNames: subs[resourcev3.EndpointType], ErrorDetail: &status.Status{Code: 3, Message: "rejected for the test"}}); err != nil {
		t.Fatal(err)
	}
	e.waitMetric(t, `shoal_xds_nacks_total{type="EDS"} 1`)
	getAcks := func(query string) []server.Ack {
		t.Helper()
		resp, err := http.Get("http://" + e.xds.AdminAddr() + "/debug/acks?" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out []server.Ack
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if eds := getAcks("type=EDS"); len(eds) != 1 || eds[0].Version != acked.GetVersionInfo() {
		t.Fatalf("EDS acks after the NACK: %+v, want the one of version %s", eds, acked.GetVersionInfo())
	}
	e.setEndpoints("alpha", []string{"greeter-3"})
	last := pushed(alpha)
	ack(last)

	// /debug/acks: one ACK per type, filtered by type and time; each
	// knows when its response was sent.
	deadline := time.Now().Add(30 * time.Second)
	for {
		eds := getAcks("type=EDS")
		if len(eds) == 1 && eds[0].Version == last.GetVersionInfo() {
			if a := eds[0]; a.Node != "sotw-tester" || a.Mode != "sotw" || a.Sent.IsZero() || a.Sent.After(a.At) {
				t.Fatalf("EDS ack %+v: want sotw-tester's, sent before it was acked", a)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("EDS acks %+v: want one of version %s", eds, last.GetVersionInfo())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if all := getAcks(""); len(all) != 3 {
		t.Errorf("unfiltered acks: %d, want 3 (LDS, CDS, EDS)", len(all))
	}
	if later := getAcks(fmt.Sprintf("type=LDS&after=%d", time.Now().Add(time.Hour).UnixNano())); len(later) != 0 {
		t.Errorf("acks after an hour from now: %+v", later)
	}
	// /debug/config shows the same last ACKs under the node's stream.
	d, err := e.xds.Dump("sotw-tester")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Streams) != 1 || len(d.Streams[0].Acked) != 3 || d.Streams[0].Acked["EDS"].Version != last.GetVersionInfo() {
		t.Errorf("dumped streams %+v: want one, with LDS, CDS and EDS of version %s acked", d.Streams, last.GetVersionInfo())
	}
}

// TestSidecarSotWADS: an Envoy sidecar's SotW ADS stream (ordered) gets its
// own listeners and clusters from its per-node snapshot and the shared
// assignments, and an Endpoints change re-sends only the assignment.
func TestSidecarSotWADS(t *testing.T) {
	e := startEnv(t)
	e.service("alpha", nil)
	e.setEndpoints("alpha", []string{"greeter-1"})
	alpha := resources.ClusterName("alpha", "default", "cluster.local", 50051)
	id := bootstrap.NodeID(bootstrap.Sidecar, "10.244.0.7", "greeter-abc", "default", "cluster.local")
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, err := e.xds.Dump(id)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(d.Resources["EDS"][alpha]), "127.0.0.1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("assignment never built")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cc, err := grpc.NewClient(e.xds.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	st, err := discovery.NewAggregatedDiscoveryServiceClient(cc).StreamAggregatedResources(e.ctx())
	if err != nil {
		t.Fatal(err)
	}
	node := &corev3Node{id: id}
	// Envoy: wildcard CDS and LDS, then the assignments of its clusters.
	subs := map[string][]string{resourcev3.EndpointType: {alpha}}
	for _, typ := range []string{resourcev3.ClusterType, resourcev3.ListenerType, resourcev3.EndpointType} {
		if err := st.Send(&discovery.DiscoveryRequest{Node: node.pb(), TypeUrl: typ, ResourceNames: subs[typ]}); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]int{}
	for len(got) < 3 {
		r, err := st.Recv()
		if err != nil {
			t.Fatal(err)
		}
		got[r.GetTypeUrl()] = len(r.GetResources())
		if err := st.Send(&discovery.DiscoveryRequest{TypeUrl: r.GetTypeUrl(), VersionInfo: r.GetVersionInfo(), ResponseNonce: r.GetNonce(), ResourceNames: subs[r.GetTypeUrl()]}); err != nil {
			t.Fatal(err)
		}
	}
	for _, typ := range []string{resourcev3.ClusterType, resourcev3.ListenerType, resourcev3.EndpointType} {
		if got[typ] == 0 {
			t.Errorf("sidecar got no %s resources: %v", typ, got)
		}
	}
	e.setEndpoints("alpha", []string{"greeter-1", "greeter-2"})
	r, err := st.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if r.GetTypeUrl() != resourcev3.EndpointType || len(r.GetResources()) != 1 {
		t.Fatalf("after alpha's endpoints changed the sidecar got %s with %d resources, want EDS with 1", r.GetTypeUrl(), len(r.GetResources()))
	}
}

// waitAssignments waits until node would be served an assignment with an
// endpoint for each of clusters.
func (e *env) waitAssignments(t *testing.T, node string, clusters ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, err := e.xds.Dump(node)
		if err != nil {
			t.Fatal(err)
		}
		built := true
		for _, c := range clusters {
			built = built && strings.Contains(string(d.Resources["EDS"][c]), "127.0.0.1")
		}
		if built {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("assignments of %v never built", clusters)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitMetric waits until the admin endpoint's /metrics shows series (a
// whole line: name, labels and value).
func (e *env) waitMetric(t *testing.T, series string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + e.xds.AdminAddr() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), series) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics never showed %s", series)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
