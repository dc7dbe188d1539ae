package printers

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) *timestamppb.Timestamp { return timestamppb.New(now.Add(-d)) }

func meta(ns, name string, age time.Duration) *shoalv1.ObjectMeta {
	return &shoalv1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: ago(age)}
}

func running(ready bool, restarts int32) *shoalv1.ContainerStatus {
	return &shoalv1.ContainerStatus{Ready: ready, RestartCount: restarts,
		State: &shoalv1.ContainerState{State: &shoalv1.ContainerState_Running{Running: &shoalv1.ContainerStateRunning{StartedAt: ago(time.Hour)}}}}
}

func pods() []kinds.Object {
	two := []*shoalv1.Container{{Name: "app"}, {Name: "sidecar"}}
	crash := running(false, 4)
	crash.State = &shoalv1.ContainerState{State: &shoalv1.ContainerState_Waiting{Waiting: &shoalv1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}}
	crash.LastTerminationState = &shoalv1.ContainerState{State: &shoalv1.ContainerState_Terminated{Terminated: &shoalv1.ContainerStateTerminated{ExitCode: 1, FinishedAt: ago(90 * time.Second)}}}
	deleting := meta("default", "web-old", 3*24*time.Hour)
	deleting.DeletionTimestamp = ago(0)
	return []kinds.Object{
		&shoalv1.Pod{Metadata: meta("default", "web-1", 5*time.Minute), Spec: &shoalv1.PodSpec{Containers: two, NodeName: "node-a"},
			Status: &shoalv1.PodStatus{Phase: shoalv1.PodPhase_POD_PHASE_RUNNING, PodIp: "10.244.0.5",
				ContainerStatuses: []*shoalv1.ContainerStatus{running(true, 0), running(true, 1)}}},
		&shoalv1.Pod{Metadata: meta("default", "web-0", 26*time.Hour), Spec: &shoalv1.PodSpec{Containers: two, NodeName: "node-b"},
			Status: &shoalv1.PodStatus{Phase: shoalv1.PodPhase_POD_PHASE_RUNNING, PodIp: "10.244.1.9",
				ContainerStatuses: []*shoalv1.ContainerStatus{running(true, 0), crash}}},
		&shoalv1.Pod{Metadata: meta("default", "pending", 30*time.Second), Spec: &shoalv1.PodSpec{Containers: two[:1]}},
		&shoalv1.Pod{Metadata: deleting, Spec: &shoalv1.PodSpec{Containers: two[:1], NodeName: "node-a"},
			Status: &shoalv1.PodStatus{Phase: shoalv1.PodPhase_POD_PHASE_RUNNING, ContainerStatuses: []*shoalv1.ContainerStatus{running(true, 0)}}},
		&shoalv1.Pod{Metadata: meta("batch", "job-x", 2*time.Hour), Spec: &shoalv1.PodSpec{Containers: two[:1], NodeName: "node-a"},
			Status: &shoalv1.PodStatus{Phase: shoalv1.PodPhase_POD_PHASE_FAILED, ContainerStatuses: []*shoalv1.ContainerStatus{{
				State: &shoalv1.ContainerState{State: &shoalv1.ContainerState_Terminated{Terminated: &shoalv1.ContainerStateTerminated{ExitCode: 2}}}}}}},
	}
}

func template(images ...string) *shoalv1.PodTemplateSpec {
	t := &shoalv1.PodTemplateSpec{Spec: &shoalv1.PodSpec{}}
	for i, img := range images {
		t.Spec.Containers = append(t.Spec.Containers, &shoalv1.Container{Name: []string{"app", "proxy"}[i], Image: img})
	}
	return t
}

func objects(kind string) []kinds.Object {
	sel := &shoalv1.LabelSelector{MatchLabels: map[string]string{"app": "web"},
		MatchExpressions: []*shoalv1.LabelSelectorRequirement{{Key: "tier", Operator: shoalv1.LabelSelectorOperator_LABEL_SELECTOR_OPERATOR_IN, Values: []string{"a", "b"}}}}
	switch kind {
	case "Pod":
		return pods()
	case "Deployment":
		return []kinds.Object{
			&shoalv1.Deployment{Metadata: meta("default", "web", 10*time.Minute), Spec: &shoalv1.DeploymentSpec{Replicas: proto.Int32(3), Selector: sel, Template: template("shoal.local/web:v2", "envoy:1.30")},
				Status: &shoalv1.DeploymentStatus{ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 2}},
			&shoalv1.Deployment{Metadata: meta("default", "api", 400*24*time.Hour), Spec: &shoalv1.DeploymentSpec{Template: template("api:v1")}},
		}
	case "ReplicaSet":
		return []kinds.Object{
			&shoalv1.ReplicaSet{Metadata: meta("default", "web-5d8f7c", 10*time.Minute), Spec: &shoalv1.ReplicaSetSpec{Replicas: proto.Int32(3), Selector: sel, Template: template("shoal.local/web:v2")},
				Status: &shoalv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 1}},
			&shoalv1.ReplicaSet{Metadata: meta("default", "web-77b9c4", 2*time.Hour), Spec: &shoalv1.ReplicaSetSpec{Replicas: proto.Int32(0), Template: template("shoal.local/web:v1")}},
		}
	case "Service":
		return []kinds.Object{
			&shoalv1.Service{Metadata: meta("default", "greeter", 3*time.Hour), Spec: &shoalv1.ServiceSpec{ClusterIp: "10.96.0.12", Selector: map[string]string{"app": "greeter", "tier": "backend"},
				Ports: []*shoalv1.ServicePort{{Port: 50051, Protocol: shoalv1.ServiceProtocol_SERVICE_PROTOCOL_GRPC}, {Port: 80}}}},
			&shoalv1.Service{Metadata: meta("default", "headless", 45*time.Second), Spec: &shoalv1.ServiceSpec{ClusterIp: "None"}},
		}
	case "Node":
		ready := []*shoalv1.Condition{{Type: "Ready", Status: shoalv1.ConditionStatus_CONDITION_STATUS_TRUE}}
		a := &shoalv1.Node{Metadata: meta("", "node-a", 40*24*time.Hour), Spec: &shoalv1.NodeSpec{},
			Status: &shoalv1.NodeStatus{Conditions: ready, Addresses: []*shoalv1.NodeAddress{{Type: shoalv1.NodeAddressType_NODE_ADDRESS_TYPE_INTERNAL_IP, Address: "192.0.2.10"}},
				NodeInfo: &shoalv1.NodeSystemInfo{AgentVersion: "v0.1.0", OsImage: "Debian GNU/Linux 13", KernelVersion: "6.12.0", ContainerRuntimeVersion: "containerd://2.1.4"}}}
		a.Metadata.Labels = map[string]string{"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/worker": ""}
		b := &shoalv1.Node{Metadata: meta("", "node-b", 2*time.Hour), Spec: &shoalv1.NodeSpec{Unschedulable: true},
			Status: &shoalv1.NodeStatus{Conditions: []*shoalv1.Condition{{Type: "Ready", Status: shoalv1.ConditionStatus_CONDITION_STATUS_FALSE}}}}
		c := &shoalv1.Node{Metadata: meta("", "node-c", time.Minute)}
		return []kinds.Object{a, b, c}
	case "Namespace":
		return []kinds.Object{
			&shoalv1.Namespace{Metadata: meta("", "default", 50*24*time.Hour), Status: &shoalv1.NamespaceStatus{Phase: shoalv1.NamespacePhase_NAMESPACE_PHASE_ACTIVE}},
			&shoalv1.Namespace{Metadata: meta("", "old", time.Hour), Status: &shoalv1.NamespaceStatus{Phase: shoalv1.NamespacePhase_NAMESPACE_PHASE_TERMINATING}},
		}
	case "Endpoints":
		addr := func(ip string, ready bool) *shoalv1.EndpointAddress {
			return &shoalv1.EndpointAddress{Ip: ip, Ready: ready}
		}
		return []kinds.Object{
			&shoalv1.Endpoints{Metadata: meta("default", "greeter", time.Hour), Spec: &shoalv1.EndpointsSpec{
				Addresses: []*shoalv1.EndpointAddress{addr("10.244.0.5", true), addr("10.244.0.6", true), addr("10.244.0.7", false), addr("10.244.1.2", true)},
				Ports:     []*shoalv1.EndpointPort{{Name: "grpc", Port: 50051}}}},
			&shoalv1.Endpoints{Metadata: meta("default", "one", time.Hour), Spec: &shoalv1.EndpointsSpec{
				Addresses: []*shoalv1.EndpointAddress{addr("10.244.0.9", true)}, Ports: []*shoalv1.EndpointPort{{Port: 80}}}},
			&shoalv1.Endpoints{Metadata: meta("default", "empty", time.Hour)},
		}
	case "Event":
		ev := func(name string, last time.Duration, typ shoalv1.EventType, reason, kind, obj, msg string, count int32) kinds.Object {
			return &shoalv1.Event{Metadata: meta("default", name, 2*time.Hour), Spec: &shoalv1.EventSpec{Type: typ, Reason: reason, Message: msg, Count: count,
				InvolvedObject: &shoalv1.ObjectReference{Kind: kind, Name: obj}, Source: &shoalv1.EventSource{Component: "scheduler"},
				FirstTimestamp: ago(2 * time.Hour), LastTimestamp: ago(last)}}
		}
		return []kinds.Object{
			ev("web-0.1", 10*time.Second, shoalv1.EventType_EVENT_TYPE_WARNING, "BackOff", "Pod", "web-0", "Back-off restarting failed container", 12),
			ev("web-0.0", 5*time.Minute, shoalv1.EventType_EVENT_TYPE_NORMAL, "Scheduled", "Pod", "web-0", "Successfully assigned default/web-0 to node-a", 1),
			ev("web.0", time.Minute, shoalv1.EventType_EVENT_TYPE_UNSPECIFIED, "ScalingReplicaSet", "Deployment", "web", "Scaled up replica set web-5d8f7c to 3", 0),
		}
	case "Lease":
		return []kinds.Object{&shoalv1.Lease{Metadata: meta("shoal-node-lease", "node-a", time.Hour), Spec: &shoalv1.LeaseSpec{HolderIdentity: "node-a"}}}
	case "ResourceQuota":
		return []kinds.Object{&shoalv1.ResourceQuota{Metadata: meta("default", "compute", time.Hour),
			Spec: &shoalv1.ResourceQuotaSpec{Hard: &shoalv1.QuotaResources{Pods: proto.Int64(10), CpuMillis: proto.Int64(4000), MemoryBytes: proto.Int64(8 << 30)}},
			Status: &shoalv1.ResourceQuotaStatus{Hard: &shoalv1.QuotaResources{Pods: proto.Int64(10), CpuMillis: proto.Int64(4000), MemoryBytes: proto.Int64(8 << 30)},
				Used: &shoalv1.QuotaResources{Pods: proto.Int64(3), CpuMillis: proto.Int64(750), MemoryBytes: proto.Int64(192 << 20)}}}}
	}
	panic(kind)
}

// TestTables: each kind's table, plain, wide and across namespaces, is the
// golden one.
func TestTables(t *testing.T) {
	for _, k := range kinds.All() {
		for _, variant := range []struct {
			suffix string
			table  Table
		}{
			{"", Table{}},
			{"-wide", Table{Wide: true}},
			{"-all-namespaces", Table{WithNamespace: k.Namespaced}},
		} {
			name := k.Resource + variant.suffix
			if variant.suffix == "-all-namespaces" && !k.Namespaced {
				continue
			}
			t.Run(name, func(t *testing.T) {
				tbl := variant.table
				tbl.Now = func() time.Time { return now }
				var buf bytes.Buffer
				if err := tbl.Print(&buf, k.Name, objects(k.Name)); err != nil {
					t.Fatal(err)
				}
				golden(t, filepath.Join("testdata", name+".golden"), buf.Bytes())
			})
		}
	}
}

func TestOutputFormats(t *testing.T) {
	one := objects("Service")[:1]
	for _, tc := range []struct {
		name, format string
		objs         []kinds.Object
		list         bool
	}{
		{"service.yaml", FormatYAML, one, false},
		{"service.json", FormatJSON, one, false},
		{"services-list.yaml", FormatYAML, objects("Service"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := PrintObjects(&buf, tc.format, tc.objs, tc.list); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", tc.name+".golden"), buf.Bytes())
		})
	}
}

func TestQuantities(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{CPU(500), "500m"}, {CPU(2000), "2"}, {CPU(0), "0"},
		{Memory(64 << 20), "64Mi"}, {Memory(1536 << 10), "1536Ki"}, {Memory(1000), "1000"}, {Memory(0), "0"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
