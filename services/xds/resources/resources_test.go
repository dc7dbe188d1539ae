package resources

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	roundrobin "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/round_robin/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

type validator interface{ ValidateAll() error }

func svc(name string, ports []*shoalv1.ServicePort, edit func(*shoalv1.ServiceSpec)) *shoalv1.Service {
	s := &shoalv1.Service{
		Metadata: &shoalv1.ObjectMeta{Namespace: "default", Name: name},
		Spec:     &shoalv1.ServiceSpec{ClusterIp: "10.96.0.20", Ports: ports},
	}
	if edit != nil {
		edit(s.Spec)
	}
	return s
}

func port(name string, p int32, proto shoalv1.ServiceProtocol) *shoalv1.ServicePort {
	return &shoalv1.ServicePort{Name: name, Port: p, Protocol: proto}
}

func endpoints() *shoalv1.Endpoints {
	return &shoalv1.Endpoints{
		Metadata: &shoalv1.ObjectMeta{Namespace: "default", Name: "greeter"},
		Spec: &shoalv1.EndpointsSpec{
			Addresses: []*shoalv1.EndpointAddress{
				{Ip: "10.244.0.5", NodeName: "node-a", Ready: true, Zone: "z1"},
				{Ip: "10.244.0.6", NodeName: "node-a", Ready: true, Zone: "z1"},
				{Ip: "10.244.1.5", NodeName: "node-b", Ready: true},
				{Ip: "10.244.1.6", NodeName: "node-b", Ready: false},
			},
			Ports: []*shoalv1.EndpointPort{{Name: "grpc", Port: 8080}, {Name: "http", Port: 8081}},
		},
	}
}

func nodeLoc(n string) Locality {
	if n == "node-b" {
		return Locality{Region: "r1", Zone: "z2"}
	}
	return Locality{Region: "r1"}
}

var (
	grpcP = shoalv1.ServiceProtocol_SERVICE_PROTOCOL_GRPC
	httpP = shoalv1.ServiceProtocol_SERVICE_PROTOCOL_HTTP
	tcpP  = shoalv1.ServiceProtocol_SERVICE_PROTOCOL_TCP
)

func TestServiceResourcesValidate(t *testing.T) {
	tests := []struct {
		name string
		svc  *shoalv1.Service
	}{
		{"grpc round robin", svc("greeter", []*shoalv1.ServicePort{port("grpc", 50051, grpcP)}, nil)},
		{"http and tcp", svc("greeter", []*shoalv1.ServicePort{port("http", 80, httpP), port("grpc", 9000, tcpP)}, nil)},
		{"unspecified protocol", svc("greeter", []*shoalv1.ServicePort{port("grpc", 80, shoalv1.ServiceProtocol_SERVICE_PROTOCOL_UNSPECIFIED)}, nil)},
		{"least request", svc("greeter", []*shoalv1.ServicePort{port("grpc", 50051, grpcP)}, func(s *shoalv1.ServiceSpec) {
			s.LoadBalancing = &shoalv1.LoadBalancing{Policy: shoalv1.LoadBalancerPolicy_LOAD_BALANCER_POLICY_LEAST_REQUEST}
		})},
		{"ring hash, timeout, retries", svc("greeter", []*shoalv1.ServicePort{port("grpc", 50051, grpcP)}, func(s *shoalv1.ServiceSpec) {
			s.LoadBalancing = &shoalv1.LoadBalancing{Policy: shoalv1.LoadBalancerPolicy_LOAD_BALANCER_POLICY_RING_HASH, HashHeader: "X-User"}
			s.Timeout = durationpb.New(3 * time.Second)
			s.RetryPolicy = &shoalv1.RetryPolicy{Attempts: 3, PerTryTimeout: durationpb.New(time.Second)}
		})},
		{"headless", svc("greeter", []*shoalv1.ServicePort{port("grpc", 50051, grpcP)}, func(s *shoalv1.ServiceSpec) { s.ClusterIp = "None" })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := Service(tc.svc, endpoints(), nodeLoc, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != len(tc.svc.Spec.Ports) {
				t.Fatalf("%d port resources, want %d", len(rs), len(tc.svc.Spec.Ports))
			}
			for _, r := range rs {
				for _, v := range []validator{r.Listener, r.Route, r.Cluster, r.Assignment} {
					if err := v.ValidateAll(); err != nil {
						t.Errorf("port %d: %T: %v", r.Port, v, err)
					}
				}
			}
		})
	}
}

// TestClusterLBPolicy: round robin is the typed, flat policy (gRPC clients
// would otherwise nest it in locality weighting); the other policies keep
// the enum and their config.
func TestClusterLBPolicy(t *testing.T) {
	tests := []struct {
		name       string
		policy     shoalv1.LoadBalancerPolicy
		wantEnum   cluster.Cluster_LbPolicy
		wantTyped  bool
		wantConfig bool
	}{
		{"unspecified is round robin", shoalv1.LoadBalancerPolicy_LOAD_BALANCER_POLICY_UNSPECIFIED, cluster.Cluster_ROUND_ROBIN, true, false},
		{"round robin", shoalv1.LoadBalancerPolicy_LOAD_BALANCER_POLICY_ROUND_ROBIN, cluster.Cluster_ROUND_ROBIN, true, false},
		{"least request", shoalv1.LoadBalancerPolicy_LOAD_BALANCER_POLICY_LEAST_REQUEST, cluster.Cluster_LEAST_REQUEST, false, true},
		{"ring hash", shoalv1.LoadBalancerPolicy_LOAD_BALANCER_POLICY_RING_HASH, cluster.Cluster_RING_HASH, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := svc("greeter", []*shoalv1.ServicePort{port("grpc", 50051, grpcP)}, func(s *shoalv1.ServiceSpec) {
				s.LoadBalancing = &shoalv1.LoadBalancing{Policy: tc.policy, HashHeader: "X-User"}
			})
			c := Cluster("c", s.Spec, s.Spec.Ports[0], DefaultOptions())
			if c.GetLbPolicy() != tc.wantEnum {
				t.Errorf("lb_policy %v, want %v", c.GetLbPolicy(), tc.wantEnum)
			}
			if (c.GetLbConfig() != nil) != tc.wantConfig {
				t.Errorf("lb_config %v, want one: %v", c.GetLbConfig(), tc.wantConfig)
			}
			ps := c.GetLoadBalancingPolicy().GetPolicies()
			if !tc.wantTyped {
				if len(ps) != 0 {
					t.Fatalf("load_balancing_policy %v, want none (the enum applies)", ps)
				}
				return
			}
			if len(ps) != 1 {
				t.Fatalf("load_balancing_policy has %d policies, want 1", len(ps))
			}
			rr := &roundrobin.RoundRobin{}
			if err := ps[0].GetTypedExtensionConfig().GetTypedConfig().UnmarshalTo(rr); err != nil {
				t.Fatalf("typed policy is not RoundRobin: %v", err)
			}
		})
	}
}

func TestAssignmentOnlyReadyGroupedByLocality(t *testing.T) {
	rs, err := Service(svc("greeter", []*shoalv1.ServicePort{port("grpc", 50051, grpcP)}, nil), endpoints(), nodeLoc, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	cla := rs[0].Assignment
	if len(cla.Endpoints) != 2 {
		t.Fatalf("%d localities, want 2: %v", len(cla.Endpoints), cla)
	}
	total := 0
	for _, l := range cla.Endpoints {
		if l.GetLoadBalancingWeight().GetValue() != uint32(len(l.LbEndpoints)) || len(l.LbEndpoints) == 0 {
			t.Errorf("locality %v weight %d with %d endpoints", l.Locality, l.GetLoadBalancingWeight().GetValue(), len(l.LbEndpoints))
		}
		for _, e := range l.LbEndpoints {
			total++
			a := e.GetEndpoint().GetAddress().GetSocketAddress()
			if a.GetAddress() == "10.244.1.6" {
				t.Error("a not-ready address was assigned")
			}
			if a.GetPortValue() != 8080 {
				t.Errorf("port %d, want the endpoints port 8080", a.GetPortValue())
			}
		}
	}
	if total != 3 {
		t.Errorf("%d endpoints, want the 3 ready ones", total)
	}
	if l := cla.Endpoints[0].Locality; l.Zone != "z1" || l.SubZone != "node-a" || l.Region != "r1" {
		t.Errorf("first locality %v, want r1/z1/node-a", l)
	}
	if l := cla.Endpoints[1].Locality; l.Zone != "z2" || l.SubZone != "node-b" {
		t.Errorf("second locality %v, want zone from the node's label", l)
	}
}

func TestNodeIDRoundTrip(t *testing.T) {
	id := NodeID(NodeKindSidecar, "10.0.0.1", "web-0", "prod", "cluster.local")
	info, ok := ParseNodeID(id)
	if !ok || info != (NodeInfo{Kind: "sidecar", PodIP: "10.0.0.1", Pod: "web-0", Namespace: "prod"}) || !IsSidecar(id) {
		t.Fatalf("ParseNodeID(%q) = %+v, %v", id, info, ok)
	}
	for _, bad := range []string{"", "node-1", "envoy~1~x~y", "sidecar~1~nodot~y"} {
		if _, ok := ParseNodeID(bad); ok {
			t.Errorf("ParseNodeID(%q) accepted", bad)
		}
	}
}

// TestSidecarGolden is the Envoy configuration of one sidecar node: it
// must validate, and match testdata/sidecar.golden.json (go test -update
// rewrites it).
func TestSidecarGolden(t *testing.T) {
	o := DefaultOptions()
	var all []ServicePortResources
	for _, s := range []*shoalv1.Service{
		svc("greeter", []*shoalv1.ServicePort{port("grpc", 50051, grpcP)}, func(s *shoalv1.ServiceSpec) {
			s.Timeout = durationpb.New(2 * time.Second)
		}),
		func() *shoalv1.Service {
			s := svc("web", []*shoalv1.ServicePort{port("http", 80, httpP), port("redis", 6379, tcpP)}, nil)
			s.Spec.ClusterIp = "10.96.0.30"
			return s
		}(),
	} {
		rs, err := Service(s, endpoints(), nodeLoc, o)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, rs...)
	}
	pod := &shoalv1.Pod{
		Metadata: &shoalv1.ObjectMeta{Namespace: "default", Name: "client-0"},
		Spec: &shoalv1.PodSpec{Mesh: &shoalv1.MeshSpec{Enabled: true}, Containers: []*shoalv1.Container{{
			Name: "app", Ports: []*shoalv1.ContainerPort{{Name: "http", ContainerPort: 8080}},
		}}},
	}
	sc, err := Sidecar(pod, "10.244.0.9", all, o)
	if err != nil {
		t.Fatal(err)
	}
	dump := map[string][]json.RawMessage{}
	for kind, rs := range map[string][]types.Resource{"listeners": sc.Listeners, "clusters": sc.Clusters} {
		for _, r := range rs {
			if err := r.(validator).ValidateAll(); err != nil {
				t.Errorf("%s: %v", kind, err)
			}
			b, err := protojson.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			dump[kind] = append(dump[kind], b)
		}
	}
	// Routes the sidecar gets over RDS (assignments are tested above).
	for _, r := range all {
		if err := r.Route.ValidateAll(); err != nil {
			t.Errorf("route: %v", err)
		}
		b, err := protojson.Marshal(r.Route)
		if err != nil {
			t.Fatal(err)
		}
		dump["routes"] = append(dump["routes"], b)
	}
	got, err := json.MarshalIndent(dump, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	// protojson's output is deliberately unstable in spacing: re-indent.
	var norm bytes.Buffer
	if err := json.Indent(&norm, compact(t, got), "", "  "); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "sidecar.golden.json")
	if *update {
		if err := os.WriteFile(path, append(norm.Bytes(), '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(norm.Bytes())) {
		t.Errorf("sidecar config differs from %s (go test -update rewrites it):\n%s", path, norm.Bytes())
	}
}

func compact(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
