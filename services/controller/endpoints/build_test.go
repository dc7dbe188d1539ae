package endpoints

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

func svc(ports ...*shoalv1.ServicePort) *shoalv1.Service {
	return &shoalv1.Service{
		Metadata: &shoalv1.ObjectMeta{Namespace: "ns", Name: "web"},
		Spec:     &shoalv1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: ports},
	}
}

func port(name string, p int32, target any) *shoalv1.ServicePort {
	sp := &shoalv1.ServicePort{Name: name, Port: p, Protocol: shoalv1.ServiceProtocol_SERVICE_PROTOCOL_TCP}
	switch x := target.(type) {
	case int:
		sp.TargetPort = &shoalv1.IntOrString{Value: &shoalv1.IntOrString_IntValue{IntValue: int32(x)}}
	case string:
		sp.TargetPort = &shoalv1.IntOrString{Value: &shoalv1.IntOrString_StrValue{StrValue: x}}
	}
	return sp
}

type podOpt func(*shoalv1.Pod)

func ready(p *shoalv1.Pod) {
	p.Status.Conditions = []*shoalv1.Condition{{Type: "Ready", Status: shoalv1.ConditionStatus_CONDITION_STATUS_TRUE}}
}
func ports(named map[string]int32) podOpt {
	return func(p *shoalv1.Pod) {
		c := p.Spec.Containers[0]
		c.Ports = nil
		for _, n := range []string{"grpc", "http", "admin"} {
			if v, ok := named[n]; ok {
				c.Ports = append(c.Ports, &shoalv1.ContainerPort{Name: n, ContainerPort: v})
			}
		}
	}
}
func deleting(p *shoalv1.Pod) { p.Metadata.DeletionTimestamp = timestamppb.Now() }
func noIP(p *shoalv1.Pod)     { p.Status.PodIp = "" }
func failed(p *shoalv1.Pod)   { p.Status.Phase = shoalv1.PodPhase_POD_PHASE_FAILED }

func pod(name, ip, node string, opts ...podOpt) *shoalv1.Pod {
	p := &shoalv1.Pod{
		Metadata: &shoalv1.ObjectMeta{Namespace: "ns", Name: name, Uid: "uid-" + name},
		Spec: &shoalv1.PodSpec{NodeName: node, Containers: []*shoalv1.Container{{Name: "app",
			Ports: []*shoalv1.ContainerPort{{Name: "grpc", ContainerPort: 50051}}}}},
		Status: &shoalv1.PodStatus{Phase: shoalv1.PodPhase_POD_PHASE_RUNNING, PodIp: ip},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func zones(node string) string { return map[string]string{"n1": "a", "n2": "b"}[node] }

func addrNames(s *shoalv1.EndpointsSpec) (readyNames, notReady []string) {
	for _, a := range s.GetAddresses() {
		if a.GetReady() {
			readyNames = append(readyNames, a.GetTargetRef().GetName())
		} else {
			notReady = append(notReady, a.GetTargetRef().GetName())
		}
	}
	return
}

func TestBuild(t *testing.T) {
	cases := []struct {
		name         string
		svc          *shoalv1.Service
		pods         []*shoalv1.Pod
		wantReady    []string
		wantNotReady []string
		wantPorts    []int32
		wantMismatch []string
	}{
		{
			name:      "ready and not ready, sorted by ip",
			svc:       svc(port("grpc", 80, "grpc")),
			pods:      []*shoalv1.Pod{pod("b", "10.0.0.2", "n2", ready), pod("a", "10.0.0.1", "n1"), pod("c", "10.0.0.3", "n1", ready)},
			wantReady: []string{"b", "c"}, wantNotReady: []string{"a"}, wantPorts: []int32{50051},
		},
		{
			name:      "skipped: no ip, finished, deleting",
			svc:       svc(port("grpc", 80, 8080)),
			pods:      []*shoalv1.Pod{pod("ok", "10.0.0.1", "n1", ready), pod("noip", "", "n1", noIP), pod("done", "10.0.0.2", "n1", failed, ready), pod("bye", "10.0.0.3", "n1", deleting, ready)},
			wantReady: []string{"ok"}, wantPorts: []int32{8080},
		},
		{
			name:      "numbers and defaults",
			svc:       svc(port("a", 80, 9090), port("b", 81, nil)),
			pods:      []*shoalv1.Pod{pod("p", "10.0.0.1", "n1", ready)},
			wantReady: []string{"p"}, wantPorts: []int32{9090, 81},
		},
		{
			name:      "a pod without the named port is left out",
			svc:       svc(port("http", 80, "http")),
			pods:      []*shoalv1.Pod{pod("with", "10.0.0.1", "n1", ready, ports(map[string]int32{"http": 8080})), pod("without", "10.0.0.2", "n1", ready)},
			wantReady: []string{"with"}, wantPorts: []int32{8080},
		},
		{
			name: "a name resolving to different numbers: the most ready pods win",
			svc:  svc(port("http", 80, "http")),
			pods: []*shoalv1.Pod{
				pod("v1-a", "10.0.0.1", "n1", ready, ports(map[string]int32{"http": 8080})),
				pod("v1-b", "10.0.0.2", "n1", ready, ports(map[string]int32{"http": 8080})),
				pod("v2-a", "10.0.0.3", "n1", ports(map[string]int32{"http": 9090})),
				pod("v2-b", "10.0.0.4", "n1", ports(map[string]int32{"http": 9090})),
				pod("v2-c", "10.0.0.5", "n1", ports(map[string]int32{"http": 9090})),
			},
			wantReady: []string{"v1-a", "v1-b"}, wantPorts: []int32{8080}, wantMismatch: []string{"v2-a", "v2-b", "v2-c"},
		},
		{
			name:      "no pods",
			svc:       svc(port("grpc", 80, "grpc"), port("admin", 81, 9000)),
			wantPorts: []int32{9000}, // a named port nobody resolves is left out
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := Build(tc.svc, tc.pods, zones)
			r, n := addrNames(b.Spec)
			if !slices.Equal(r, tc.wantReady) || !slices.Equal(n, tc.wantNotReady) {
				t.Fatalf("ready %v not ready %v; want %v %v", r, n, tc.wantReady, tc.wantNotReady)
			}
			var got []int32
			for _, p := range b.Spec.GetPorts() {
				got = append(got, p.GetPort())
			}
			if !slices.Equal(got, tc.wantPorts) {
				t.Fatalf("ports %v, want %v", got, tc.wantPorts)
			}
			if !slices.Equal(b.Mismatched, tc.wantMismatch) {
				t.Fatalf("mismatched %v, want %v", b.Mismatched, tc.wantMismatch)
			}
			for _, a := range b.Spec.GetAddresses() {
				if a.GetZone() != zones(a.GetNodeName()) || a.GetTargetRef().GetUid() == "" {
					t.Fatalf("address %v", a)
				}
			}
			// Building twice gives the same answer (so no spurious writes).
			if again := Build(tc.svc, reversed(tc.pods), zones); !proto.Equal(again.Spec, b.Spec) {
				t.Fatalf("pod order changed the result:\n%v\n%v", again.Spec, b.Spec)
			}
		})
	}
}

func reversed(pods []*shoalv1.Pod) []*shoalv1.Pod {
	out := slices.Clone(pods)
	slices.Reverse(out)
	return out
}
