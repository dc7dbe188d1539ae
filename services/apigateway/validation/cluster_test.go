package validation

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

func TestNode(t *testing.T) {
	runObjectCases(t, validNode, []mutation[*shoalv1.Node]{
		{"nil spec", func(n *shoalv1.Node) { n.Spec = nil }, nil},
		{"taint key required", func(n *shoalv1.Node) { n.Spec.Taints[0].Key = "" }, []string{required + "spec.taints[0].key"}},
		{"taint key invalid", func(n *shoalv1.Node) { n.Spec.Taints[0].Key = "a/b/c" }, []string{invalid + "spec.taints[0].key"}},
		{"taint value invalid", func(n *shoalv1.Node) { n.Spec.Taints[0].Value = "g p u" }, []string{invalid + "spec.taints[0].value"}},
		{"taint effect required", func(n *shoalv1.Node) {
			n.Spec.Taints[0].Effect = shoalv1.TaintEffect_TAINT_EFFECT_UNSPECIFIED
		}, []string{required + "spec.taints[0].effect"}},
		{"taint effect undefined", func(n *shoalv1.Node) { n.Spec.Taints[0].Effect = 8 }, []string{notSupported + "spec.taints[0].effect"}},
		{"taint key and effect unique", func(n *shoalv1.Node) {
			n.Spec.Taints[1].Effect = shoalv1.TaintEffect_TAINT_EFFECT_NO_SCHEDULE
		}, []string{duplicate + "spec.taints[1]"}},
		{"pod cidr invalid", func(n *shoalv1.Node) { n.Spec.PodCidr = "10.244.1.0/33" }, []string{invalid + "spec.pod_cidr"}},
		{"pod cidr not an address", func(n *shoalv1.Node) { n.Spec.PodCidr = "10.244.1.0" }, []string{invalid + "spec.pod_cidr"}},
		{"pod cidr not canonical", func(n *shoalv1.Node) { n.Spec.PodCidr = "10.244.1.7/24" }, []string{invalid + "spec.pod_cidr"}},
		{"pod cidr IPv6", func(n *shoalv1.Node) { n.Spec.PodCidr = "fd00:10:244:1::/64" }, nil},
		{"status is not looked at", func(n *shoalv1.Node) {
			n.Status = &shoalv1.NodeStatus{Capacity: &shoalv1.NodeResources{CpuMillis: -1}}
		}, nil},
	})
}

func TestService(t *testing.T) {
	port := func(s *shoalv1.Service, i int) *shoalv1.ServicePort { return s.Spec.Ports[i] }
	runObjectCases(t, validService, []mutation[*shoalv1.Service]{
		{"ports required", func(s *shoalv1.Service) { s.Spec.Ports = nil }, []string{required + "spec.ports"}},
		{"nil spec", func(s *shoalv1.Service) { s.Spec = nil }, []string{required + "spec.ports"}},
		{"port zero", func(s *shoalv1.Service) { port(s, 0).Port = 0 }, []string{invalid + "spec.ports[0].port"}},
		{"port too large", func(s *shoalv1.Service) { port(s, 1).Port = 65536 }, []string{invalid + "spec.ports[1].port"}},
		{"names required with several ports", func(s *shoalv1.Service) { port(s, 1).Name = "" }, []string{required + "spec.ports[1].name"}},
		{"name optional with one port", func(s *shoalv1.Service) { s.Spec.Ports = s.Spec.Ports[:1]; port(s, 0).Name = "" }, nil},
		{"name not a label", func(s *shoalv1.Service) { port(s, 0).Name = "GRPC" }, []string{invalid + "spec.ports[0].name"}},
		{"names unique", func(s *shoalv1.Service) { port(s, 1).Name = "grpc" }, []string{duplicate + "spec.ports[1].name"}},
		{"port and protocol unique", func(s *shoalv1.Service) {
			port(s, 1).Port, port(s, 1).Protocol = 50051, shoalv1.ServiceProtocol_SERVICE_PROTOCOL_GRPC
		}, []string{duplicate + "spec.ports[1].port"}},
		{"unspecified protocol is TCP", func(s *shoalv1.Service) {
			port(s, 0).Protocol, port(s, 1).Port, port(s, 1).Protocol = shoalv1.ServiceProtocol_SERVICE_PROTOCOL_TCP, 50051, 0
		}, []string{duplicate + "spec.ports[1].port"}},
		{"target port number", func(s *shoalv1.Service) { port(s, 1).TargetPort = intOrStr(0) }, []string{invalid + "spec.ports[1].target_port"}},
		{"target port number too large", func(s *shoalv1.Service) { port(s, 1).TargetPort = intOrStr(65536) }, []string{invalid + "spec.ports[1].target_port"}},
		{"target port name", func(s *shoalv1.Service) { port(s, 0).TargetPort = intOrStr("-grpc") }, []string{invalid + "spec.ports[0].target_port"}},
		{"target port unset", func(s *shoalv1.Service) { port(s, 0).TargetPort = nil; port(s, 1).TargetPort = &shoalv1.IntOrString{} }, nil},
		{"protocol undefined", func(s *shoalv1.Service) { port(s, 0).Protocol = 4 }, []string{notSupported + "spec.ports[0].protocol"}},
		{"selector key", func(s *shoalv1.Service) { s.Spec.Selector["-app"] = "web" }, []string{invalid + "spec.selector"}},
		{"selector value", func(s *shoalv1.Service) { s.Spec.Selector["app"] = "w e b" }, []string{invalid + "spec.selector[app]"}},
		{"no selector", func(s *shoalv1.Service) { s.Spec.Selector = nil }, nil},
		{"cluster ip invalid", func(s *shoalv1.Service) { s.Spec.ClusterIp = "10.96.0.300" }, []string{invalid + "spec.cluster_ip"}},
		{"cluster ip none", func(s *shoalv1.Service) { s.Spec.ClusterIp = "None" }, nil},
		{"cluster ip empty", func(s *shoalv1.Service) { s.Spec.ClusterIp = "" }, nil},
		{"cluster ip IPv6", func(s *shoalv1.Service) { s.Spec.ClusterIp = "fd00::10" }, nil},
		{"ring hash needs a header", func(s *shoalv1.Service) { s.Spec.LoadBalancing.HashHeader = "" }, []string{required + "spec.load_balancing.hash_header"}},
		{"header only with ring hash", func(s *shoalv1.Service) {
			s.Spec.LoadBalancing.Policy = shoalv1.LoadBalancerPolicy_LOAD_BALANCER_POLICY_LEAST_REQUEST
		}, []string{forbidden + "spec.load_balancing.hash_header"}},
		{"header with unspecified policy", func(s *shoalv1.Service) {
			s.Spec.LoadBalancing.Policy = shoalv1.LoadBalancerPolicy_LOAD_BALANCER_POLICY_UNSPECIFIED
		}, []string{forbidden + "spec.load_balancing.hash_header"}},
		{"header name invalid", func(s *shoalv1.Service) { s.Spec.LoadBalancing.HashHeader = "x user" }, []string{invalid + "spec.load_balancing.hash_header"}},
		{"policy undefined", func(s *shoalv1.Service) {
			s.Spec.LoadBalancing = &shoalv1.LoadBalancing{Policy: 9}
		}, []string{notSupported + "spec.load_balancing.policy"}},
		{"no load balancing", func(s *shoalv1.Service) { s.Spec.LoadBalancing = nil }, nil},
		{"timeout negative", func(s *shoalv1.Service) { s.Spec.Timeout = durationpb.New(-time.Second) }, []string{invalid + "spec.timeout"}},
		{"timeout malformed", func(s *shoalv1.Service) { s.Spec.Timeout = &durationpb.Duration{Seconds: 1, Nanos: -1} }, []string{invalid + "spec.timeout"}},
		{"timeout zero", func(s *shoalv1.Service) { s.Spec.Timeout = &durationpb.Duration{} }, nil},
		{"per try timeout negative", func(s *shoalv1.Service) {
			s.Spec.RetryPolicy.PerTryTimeout = durationpb.New(-time.Millisecond)
		}, []string{invalid + "spec.retry_policy.per_try_timeout"}},
		{"attempts negative", func(s *shoalv1.Service) { s.Spec.RetryPolicy.Attempts = -1 }, []string{invalid + "spec.retry_policy.attempts"}},
		{"retry on empty", func(s *shoalv1.Service) { s.Spec.RetryPolicy.RetryOn = []string{""} }, []string{required + "spec.retry_policy.retry_on[0]"}},
	})
}

func TestEndpoints(t *testing.T) {
	runObjectCases(t, validEndpoints, []mutation[*shoalv1.Endpoints]{
		{"nil spec", func(e *shoalv1.Endpoints) { e.Spec = nil }, nil},
		{"ip required", func(e *shoalv1.Endpoints) { e.Spec.Addresses[0].Ip = "" }, []string{required + "spec.addresses[0].ip"}},
		{"ip invalid", func(e *shoalv1.Endpoints) { e.Spec.Addresses[1].Ip = "fd00::g" }, []string{invalid + "spec.addresses[1].ip"}},
		{"ip a hostname", func(e *shoalv1.Endpoints) { e.Spec.Addresses[0].Ip = "web-1" }, []string{invalid + "spec.addresses[0].ip"}},
		{"node name invalid", func(e *shoalv1.Endpoints) { e.Spec.Addresses[0].NodeName = "Node 1" }, []string{invalid + "spec.addresses[0].node_name"}},
		{"port zero", func(e *shoalv1.Endpoints) { e.Spec.Ports[0].Port = 0 }, []string{invalid + "spec.ports[0].port"}},
		{"port too large", func(e *shoalv1.Endpoints) { e.Spec.Ports[1].Port = 65536 }, []string{invalid + "spec.ports[1].port"}},
		{"port names unique", func(e *shoalv1.Endpoints) { e.Spec.Ports[1].Name = "grpc" }, []string{duplicate + "spec.ports[1].name"}},
		{"port names required with several", func(e *shoalv1.Endpoints) { e.Spec.Ports[0].Name = "" }, []string{required + "spec.ports[0].name"}},
		{"port name invalid", func(e *shoalv1.Endpoints) { e.Spec.Ports[0].Name = "g_rpc" }, []string{invalid + "spec.ports[0].name"}},
		{"port protocol undefined", func(e *shoalv1.Endpoints) { e.Spec.Ports[0].Protocol = 9 }, []string{notSupported + "spec.ports[0].protocol"}},
		{"no addresses", func(e *shoalv1.Endpoints) { e.Spec.Addresses = nil }, nil},
	})
}

func TestLease(t *testing.T) {
	runObjectCases(t, validLease, []mutation[*shoalv1.Lease]{
		{"duration negative", func(l *shoalv1.Lease) { l.Spec.LeaseDurationSeconds = -1 }, []string{invalid + "spec.lease_duration_seconds"}},
		{"transitions negative", func(l *shoalv1.Lease) { l.Spec.LeaseTransitions = -1 }, []string{invalid + "spec.lease_transitions"}},
		{"duration zero", func(l *shoalv1.Lease) { l.Spec.LeaseDurationSeconds = 0 }, nil},
		{"nil spec", func(l *shoalv1.Lease) { l.Spec = nil }, nil},
	})
}

func TestEvent(t *testing.T) {
	runObjectCases(t, validEvent, []mutation[*shoalv1.Event]{
		{"involved kind required", func(e *shoalv1.Event) { e.Spec.InvolvedObject.Kind = "" }, []string{required + "spec.involved_object.kind"}},
		{"involved name required", func(e *shoalv1.Event) { e.Spec.InvolvedObject.Name = "" }, []string{required + "spec.involved_object.name"}},
		{"involved object missing", func(e *shoalv1.Event) { e.Spec.InvolvedObject = nil }, []string{
			required + "spec.involved_object.kind", required + "spec.involved_object.name",
		}},
		{"nil spec", func(e *shoalv1.Event) { e.Spec = nil }, []string{
			required + "spec.involved_object.kind", required + "spec.involved_object.name",
		}},
		{"count negative", func(e *shoalv1.Event) { e.Spec.Count = -1 }, []string{invalid + "spec.count"}},
		{"type undefined", func(e *shoalv1.Event) { e.Spec.Type = 3 }, []string{notSupported + "spec.type"}},
		{"type unspecified", func(e *shoalv1.Event) { e.Spec.Type = 0 }, nil},
	})
}

func TestResourceQuota(t *testing.T) {
	runObjectCases(t, validResourceQuota, []mutation[*shoalv1.ResourceQuota]{
		{"pods negative", func(q *shoalv1.ResourceQuota) { q.Spec.Hard.Pods = ptr[int64](-1) }, []string{invalid + "spec.hard.pods"}},
		{"every amount negative", func(q *shoalv1.ResourceQuota) {
			q.Spec.Hard = &shoalv1.QuotaResources{Pods: ptr[int64](-1), CpuMillis: ptr[int64](-1), MemoryBytes: ptr[int64](-1), Services: ptr[int64](-1)}
		}, []string{invalid + "spec.hard.pods", invalid + "spec.hard.cpu_millis", invalid + "spec.hard.memory_bytes", invalid + "spec.hard.services"}},
		{"no caps", func(q *shoalv1.ResourceQuota) { q.Spec = nil }, nil},
	})
}
