package framework_test

import (
	"testing"
	"unique"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
)

func testPod(uid string, cpu int64, owner string, hostPort int32) *framework.PodInfo {
	p := &shoalv1.Pod{
		Metadata: &shoalv1.ObjectMeta{Namespace: "ns", Name: uid, Uid: uid},
		Spec: &shoalv1.PodSpec{Containers: []*shoalv1.Container{{
			Resources: &shoalv1.ResourceRequirements{Requests: &shoalv1.ResourceList{CpuMillis: cpu, MemoryBytes: 1 << 20}},
			Ports:     []*shoalv1.ContainerPort{{ContainerPort: 80, HostPort: hostPort}},
		}}},
	}
	if owner != "" {
		p.Metadata.OwnerReferences = []*shoalv1.OwnerReference{{Uid: owner, Controller: true}}
	}
	return framework.NewPodInfo(p)
}

// TestNodeInfoIsCopyOnWrite: WithPod and WithoutPod leave the receiver as
// it was, so snapshots that hold it never see later changes.
func TestNodeInfoIsCopyOnWrite(t *testing.T) {
	node := &shoalv1.Node{
		Metadata: &shoalv1.ObjectMeta{Name: "n", Labels: map[string]string{"zone": "a"}},
		Status:   &shoalv1.NodeStatus{Allocatable: &shoalv1.NodeResources{CpuMillis: 1000, MemoryBytes: 1 << 30, Pods: 10}},
	}
	empty := framework.NewNodeInfo("n", node)
	one := empty.WithPod(testPod("a", 100, "rs", 8080))
	two := one.WithPod(testPod("b", 200, "rs", 0))
	if len(empty.Pods) != 0 || empty.Requested != (framework.Resource{}) || len(empty.UsedPorts) != 0 || len(empty.Owners) != 0 {
		t.Errorf("WithPod changed its receiver: %+v", empty)
	}
	if len(one.Pods) != 1 || one.Requested.MilliCPU != 100 || one.OwnerCount(unique.Make("rs")) != 1 {
		t.Errorf("one: %+v", one)
	}
	if two.Requested != (framework.Resource{MilliCPU: 300, Memory: 2 << 20, Pods: 2}) || two.OwnerCount(unique.Make("rs")) != 2 || len(two.UsedPorts) != 1 {
		t.Errorf("two: %+v", two)
	}
	back, ok := two.WithoutPod("a")
	if !ok || back.Requested != (framework.Resource{MilliCPU: 200, Memory: 1 << 20, Pods: 1}) || back.OwnerCount(unique.Make("rs")) != 1 || len(back.UsedPorts) != 0 {
		t.Errorf("without a: ok %v %+v", ok, back)
	}
	if len(two.Pods) != 2 || two.OwnerCount(unique.Make("rs")) != 2 || len(two.UsedPorts) != 1 {
		t.Errorf("WithoutPod changed its receiver: %+v", two)
	}
	// Owners come and go; the lookup shortcut (a bit mask) follows them.
	mixed := empty.WithPod(testPod("x", 1, "rs-x", 0)).WithPod(testPod("y", 1, "rs-y", 0)).WithPod(testPod("y2", 1, "rs-y", 0))
	noX, _ := mixed.WithoutPod("x")
	for _, tc := range []struct {
		ni    *framework.NodeInfo
		owner string
		want  int
	}{{mixed, "rs-x", 1}, {mixed, "rs-y", 2}, {mixed, "rs-z", 0}, {noX, "rs-x", 0}, {noX, "rs-y", 2}} {
		if got := tc.ni.OwnerCount(unique.Make(tc.owner)); got != tc.want {
			t.Errorf("OwnerCount(%s) = %d, want %d", tc.owner, got, tc.want)
		}
		if got := tc.ni.OwnerCountOf(testPod("q", 1, tc.owner, 0)); got != tc.want {
			t.Errorf("OwnerCountOf(pod of %s) = %d, want %d", tc.owner, got, tc.want)
		}
	}
	if _, ok := back.WithoutPod("zzz"); ok {
		t.Error("removing an absent pod reported success")
	}
	if v, ok := two.TopologyValue(framework.LabelHostname); !ok || v != "n" {
		t.Errorf("hostname topology falls back to the name: %q %v", v, ok)
	}
	if _, ok := two.TopologyValue("rack"); ok {
		t.Error("a missing label has a topology value")
	}
}

func TestNewPodInfo(t *testing.T) {
	p := &shoalv1.Pod{
		Metadata: &shoalv1.ObjectMeta{Namespace: "ns", Name: "p", Uid: "u",
			OwnerReferences: []*shoalv1.OwnerReference{{Uid: "not-controller"}, {Uid: "rs", Controller: true}}},
		Spec: &shoalv1.PodSpec{Priority: 7, Containers: []*shoalv1.Container{
			{Resources: &shoalv1.ResourceRequirements{Requests: &shoalv1.ResourceList{CpuMillis: 100, MemoryBytes: 10}}},
			{Resources: &shoalv1.ResourceRequirements{Requests: &shoalv1.ResourceList{CpuMillis: 50}},
				Ports: []*shoalv1.ContainerPort{{HostPort: 53, Protocol: shoalv1.Protocol_PROTOCOL_UDP, HostIp: "10.0.0.1"}}},
		}},
	}
	pi := framework.NewPodInfo(p)
	if pi.Key != "ns/p" || pi.OwnerUID != "rs" || pi.Priority != 7 {
		t.Errorf("identity: %+v", pi)
	}
	if pi.Requests != (framework.Resource{MilliCPU: 150, Memory: 10, Pods: 1}) {
		t.Errorf("requests %+v", pi.Requests)
	}
	if pi.NonZeroRequests != (framework.Resource{MilliCPU: 150, Memory: 10, Pods: 1}) {
		t.Errorf("non-zero requests %+v", pi.NonZeroRequests)
	}
	if len(pi.HostPorts) != 1 || pi.HostPorts[0] != (framework.HostPort{Protocol: "UDP", IP: "10.0.0.1", Port: 53}) {
		t.Errorf("host ports %+v", pi.HostPorts)
	}
	empty := framework.NewPodInfo(&shoalv1.Pod{Metadata: &shoalv1.ObjectMeta{Name: "e"}})
	if empty.NonZeroRequests.MilliCPU != framework.DefaultMilliCPURequest || empty.NonZeroRequests.Memory != framework.DefaultMemoryRequest {
		t.Errorf("request-less pod: %+v", empty.NonZeroRequests)
	}
}
