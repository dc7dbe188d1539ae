package gatewaytest

import (
	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// Namespace is a namespace object.
func Namespace(name string) *shoalv1.Namespace {
	return &shoalv1.Namespace{Metadata: &shoalv1.ObjectMeta{Name: name}}
}

// Node is a schedulable node with 4 CPUs, 8 GiB and room for 110 pods.
func Node(name string) *shoalv1.Node {
	res := &shoalv1.NodeResources{CpuMillis: 4000, MemoryBytes: 8 << 30, Pods: 110}
	return &shoalv1.Node{
		Metadata: &shoalv1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Spec:     &shoalv1.NodeSpec{},
		Status: &shoalv1.NodeStatus{
			Capacity: res, Allocatable: proto.Clone(res).(*shoalv1.NodeResources),
			Conditions: []*shoalv1.Condition{{Type: "Ready", Status: shoalv1.ConditionStatus_CONDITION_STATUS_TRUE}},
		},
	}
}

// PodSpec is a one-container pod spec.
func PodSpec() *shoalv1.PodSpec {
	return &shoalv1.PodSpec{Containers: []*shoalv1.Container{{
		Name:  "app",
		Image: "shoal.local/greeter:v1",
		Ports: []*shoalv1.ContainerPort{{Name: "grpc", ContainerPort: 50051}},
		Resources: &shoalv1.ResourceRequirements{
			Requests: &shoalv1.ResourceList{CpuMillis: 100, MemoryBytes: 64 << 20},
		},
	}}}
}

// Pod is a pod with the given labels.
func Pod(namespace, name string, labels map[string]string) *shoalv1.Pod {
	return &shoalv1.Pod{Metadata: &shoalv1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels}, Spec: PodSpec()}
}

// Object returns a valid object of any kind, for tests that go over all of
// them.
func Object(kind, namespace, name string) kinds.Object {
	meta := func() *shoalv1.ObjectMeta {
		return &shoalv1.ObjectMeta{Namespace: namespace, Name: name, Labels: map[string]string{"app": "web"}}
	}
	sel := &shoalv1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	tmpl := &shoalv1.PodTemplateSpec{Metadata: &shoalv1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: PodSpec()}
	switch kind {
	case "Namespace":
		return &shoalv1.Namespace{Metadata: &shoalv1.ObjectMeta{Name: name, Labels: map[string]string{"app": "web"}}}
	case "Node":
		n := Node(name)
		n.Metadata.Labels["app"] = "web"
		return n
	case "Pod":
		return &shoalv1.Pod{Metadata: meta(), Spec: PodSpec()}
	case "Service":
		return &shoalv1.Service{Metadata: meta(), Spec: &shoalv1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []*shoalv1.ServicePort{{Name: "grpc", Port: 50051, Protocol: shoalv1.ServiceProtocol_SERVICE_PROTOCOL_GRPC}},
		}}
	case "Endpoints":
		return &shoalv1.Endpoints{Metadata: meta(), Spec: &shoalv1.EndpointsSpec{
			Addresses: []*shoalv1.EndpointAddress{{Ip: "10.244.0.5", NodeName: "node-a", Ready: true}},
			Ports:     []*shoalv1.EndpointPort{{Name: "grpc", Port: 50051}},
		}}
	case "ReplicaSet":
		return &shoalv1.ReplicaSet{Metadata: meta(), Spec: &shoalv1.ReplicaSetSpec{Replicas: proto.Int32(3), Selector: sel, Template: tmpl}}
	case "Deployment":
		return &shoalv1.Deployment{Metadata: meta(), Spec: &shoalv1.DeploymentSpec{Replicas: proto.Int32(3), Selector: sel, Template: tmpl}}
	case "Lease":
		return &shoalv1.Lease{Metadata: meta(), Spec: &shoalv1.LeaseSpec{HolderIdentity: "holder-1", LeaseDurationSeconds: 15}}
	case "Event":
		return &shoalv1.Event{Metadata: meta(), Spec: &shoalv1.EventSpec{
			InvolvedObject: &shoalv1.ObjectReference{Kind: "Pod", Namespace: namespace, Name: "web-0"},
			Reason:         "Scheduled", Message: "placed on node-a",
		}}
	case "ResourceQuota":
		return &shoalv1.ResourceQuota{Metadata: meta(), Spec: &shoalv1.ResourceQuotaSpec{Hard: &shoalv1.QuotaResources{Pods: proto.Int64(10)}}}
	}
	panic("gatewaytest: unknown kind " + kind)
}
