package validation

import (
	"testing"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

func runStatusCases[T kinds.Object](t *testing.T, base func() T, cases []mutation[T]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := base()
			tc.mutate(obj)
			expectErrs(t, Status(obj), tc.want...)
		})
	}
}

func podWithStatus() *shoalv1.Pod {
	p := validPod()
	p.Spec.NodeName = "node-1"
	p.Status = &shoalv1.PodStatus{
		Phase: shoalv1.PodPhase_POD_PHASE_RUNNING,
		Conditions: []*shoalv1.Condition{
			{Type: "PodScheduled", Status: shoalv1.ConditionStatus_CONDITION_STATUS_TRUE},
			{Type: "Ready", Status: shoalv1.ConditionStatus_CONDITION_STATUS_FALSE, Reason: "ContainersNotReady"},
		},
		PodIp:  "10.244.1.5",
		HostIp: "192.168.1.10",
		ContainerStatuses: []*shoalv1.ContainerStatus{
			{Name: "app", State: &shoalv1.ContainerState{State: &shoalv1.ContainerState_Running{Running: &shoalv1.ContainerStateRunning{}}}, Ready: true},
			{Name: "sidecar", RestartCount: 3, State: &shoalv1.ContainerState{State: &shoalv1.ContainerState_Terminated{
				Terminated: &shoalv1.ContainerStateTerminated{ExitCode: -1},
			}}},
		},
	}
	return p
}

func TestStatusPod(t *testing.T) {
	runStatusCases(t, podWithStatus, []mutation[*shoalv1.Pod]{
		{"valid", func(p *shoalv1.Pod) {}, nil},
		{"spec is not looked at", func(p *shoalv1.Pod) { p.Spec = nil; p.Metadata = nil }, nil},
		{"no status", func(p *shoalv1.Pod) { p.Status = nil }, nil},
		{"pod ip invalid", func(p *shoalv1.Pod) { p.Status.PodIp = "10.244.1" }, []string{invalid + "status.pod_ip"}},
		{"host ip invalid", func(p *shoalv1.Pod) { p.Status.HostIp = "node-1" }, []string{invalid + "status.host_ip"}},
		{"pod ip IPv6", func(p *shoalv1.Pod) { p.Status.PodIp = "fd00::1:5" }, nil},
		{"phase undefined", func(p *shoalv1.Pod) { p.Status.Phase = 6 }, []string{notSupported + "status.phase"}},
		{"condition type required", func(p *shoalv1.Pod) { p.Status.Conditions[1].Type = "" }, []string{required + "status.conditions[1].type"}},
		{"condition types unique", func(p *shoalv1.Pod) { p.Status.Conditions[1].Type = "PodScheduled" }, []string{duplicate + "status.conditions[1].type"}},
		{"condition status required", func(p *shoalv1.Pod) { p.Status.Conditions[0].Status = 0 }, []string{required + "status.conditions[0].status"}},
		{"condition status undefined", func(p *shoalv1.Pod) { p.Status.Conditions[0].Status = 4 }, []string{notSupported + "status.conditions[0].status"}},
		{"container status name required", func(p *shoalv1.Pod) { p.Status.ContainerStatuses[0].Name = "" }, []string{required + "status.container_statuses[0].name"}},
		{"container status names unique", func(p *shoalv1.Pod) { p.Status.ContainerStatuses[1].Name = "app" }, []string{duplicate + "status.container_statuses[1].name"}},
		{"restart count negative", func(p *shoalv1.Pod) { p.Status.ContainerStatuses[1].RestartCount = -1 }, []string{invalid + "status.container_statuses[1].restart_count"}},
	})
}

func nodeWithStatus() *shoalv1.Node {
	n := validNode()
	n.Status = &shoalv1.NodeStatus{
		Capacity:    &shoalv1.NodeResources{CpuMillis: 4000, MemoryBytes: 8 << 30, Pods: 110},
		Allocatable: &shoalv1.NodeResources{CpuMillis: 3800, MemoryBytes: 7 << 30, Pods: 110},
		Conditions:  []*shoalv1.Condition{{Type: "Ready", Status: shoalv1.ConditionStatus_CONDITION_STATUS_UNKNOWN}},
		Addresses: []*shoalv1.NodeAddress{
			{Type: shoalv1.NodeAddressType_NODE_ADDRESS_TYPE_INTERNAL_IP, Address: "192.168.1.10"},
			{Type: shoalv1.NodeAddressType_NODE_ADDRESS_TYPE_HOSTNAME, Address: "node-1"},
		},
		NodeInfo: &shoalv1.NodeSystemInfo{Architecture: "amd64"},
	}
	return n
}

func TestStatusNode(t *testing.T) {
	runStatusCases(t, nodeWithStatus, []mutation[*shoalv1.Node]{
		{"valid", func(n *shoalv1.Node) {}, nil},
		{"capacity negative", func(n *shoalv1.Node) { n.Status.Capacity.CpuMillis = -1 }, []string{invalid + "status.capacity.cpu_millis"}},
		{"allocatable negative", func(n *shoalv1.Node) {
			n.Status.Allocatable.MemoryBytes, n.Status.Allocatable.Pods = -1, -1
		}, []string{invalid + "status.allocatable.memory_bytes", invalid + "status.allocatable.pods"}},
		{"address not an IP", func(n *shoalv1.Node) { n.Status.Addresses[0].Address = "node-1" }, []string{invalid + "status.addresses[0].address"}},
		{"address required", func(n *shoalv1.Node) { n.Status.Addresses[1].Address = "" }, []string{required + "status.addresses[1].address"}},
		{"address type required", func(n *shoalv1.Node) { n.Status.Addresses[1].Type = 0 }, []string{required + "status.addresses[1].type"}},
		{"address type undefined", func(n *shoalv1.Node) { n.Status.Addresses[1].Type = 9 }, []string{notSupported + "status.addresses[1].type"}},
		{"condition status required", func(n *shoalv1.Node) { n.Status.Conditions[0].Status = 0 }, []string{required + "status.conditions[0].status"}},
		{"spec is not looked at", func(n *shoalv1.Node) { n.Spec.PodCidr = "nonsense" }, nil},
	})
}

func TestStatusWorkloads(t *testing.T) {
	runStatusCases(t, validReplicaSet, []mutation[*shoalv1.ReplicaSet]{
		{"valid", func(r *shoalv1.ReplicaSet) {
			r.Status = &shoalv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 2, AvailableReplicas: 2, FullyLabeledReplicas: 3, ObservedGeneration: 4}
		}, nil},
		{"counts negative", func(r *shoalv1.ReplicaSet) {
			r.Status = &shoalv1.ReplicaSetStatus{Replicas: -1, ReadyReplicas: -1, AvailableReplicas: -1, FullyLabeledReplicas: -1, ObservedGeneration: -1}
		}, []string{
			invalid + "status.replicas", invalid + "status.ready_replicas", invalid + "status.available_replicas",
			invalid + "status.fully_labeled_replicas", invalid + "status.observed_generation",
		}},
		{"condition type required", func(r *shoalv1.ReplicaSet) {
			r.Status = &shoalv1.ReplicaSetStatus{Conditions: []*shoalv1.Condition{{Status: shoalv1.ConditionStatus_CONDITION_STATUS_TRUE}}}
		}, []string{required + "status.conditions[0].type"}},
	})
	runStatusCases(t, validDeployment, []mutation[*shoalv1.Deployment]{
		{"valid", func(d *shoalv1.Deployment) {
			d.Status = &shoalv1.DeploymentStatus{Replicas: 4, UpdatedReplicas: 1, ReadyReplicas: 3, AvailableReplicas: 3, UnavailableReplicas: 1,
				Conditions: []*shoalv1.Condition{{Type: "Progressing", Status: shoalv1.ConditionStatus_CONDITION_STATUS_TRUE}}}
		}, nil},
		{"counts negative", func(d *shoalv1.Deployment) {
			d.Status = &shoalv1.DeploymentStatus{ObservedGeneration: -1, Replicas: -1, UpdatedReplicas: -1, ReadyReplicas: -1,
				AvailableReplicas: -1, UnavailableReplicas: -1, CollisionCount: -1}
		}, []string{
			invalid + "status.observed_generation", invalid + "status.replicas", invalid + "status.updated_replicas",
			invalid + "status.ready_replicas", invalid + "status.available_replicas", invalid + "status.unavailable_replicas",
			invalid + "status.collision_count",
		}},
	})
}

func TestStatusOtherKinds(t *testing.T) {
	runStatusCases(t, validResourceQuota, []mutation[*shoalv1.ResourceQuota]{
		{"valid", func(q *shoalv1.ResourceQuota) {
			q.Status = &shoalv1.ResourceQuotaStatus{Hard: q.Spec.Hard, Used: &shoalv1.QuotaResources{Pods: ptr[int64](3)}}
		}, nil},
		{"used negative", func(q *shoalv1.ResourceQuota) {
			q.Status = &shoalv1.ResourceQuotaStatus{Hard: &shoalv1.QuotaResources{Services: ptr[int64](-1)}, Used: &shoalv1.QuotaResources{Pods: ptr[int64](-3)}}
		}, []string{invalid + "status.hard.services", invalid + "status.used.pods"}},
	})
	runStatusCases(t, validNamespace, []mutation[*shoalv1.Namespace]{
		{"phase terminating", func(n *shoalv1.Namespace) {
			n.Status = &shoalv1.NamespaceStatus{Phase: shoalv1.NamespacePhase_NAMESPACE_PHASE_TERMINATING}
		}, nil},
		{"phase undefined", func(n *shoalv1.Namespace) { n.Status = &shoalv1.NamespaceStatus{Phase: 3} }, []string{notSupported + "status.phase"}},
	})
	for name, obj := range map[string]kinds.Object{"service": validService(), "endpoints": validEndpoints(), "lease": validLease(), "event": validEvent()} {
		t.Run(name+" has nothing to check", func(t *testing.T) { expectErrs(t, Status(obj)) })
	}
}
