package validation

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"k8s.io/apimachinery/pkg/util/validation/field"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// Short names for the errors the tables expect: "<type> <path>", where the
// object as a whole is "<root>".
const (
	required     = "Required value "
	invalid      = "Invalid value "
	duplicate    = "Duplicate value "
	notSupported = "Unsupported value "
	forbidden    = "Forbidden "
	tooLong      = "Too long "
	notFound     = "Not found "
	internal     = "Internal error "
)

func errStrings(errs field.ErrorList) []string {
	out := []string{}
	for _, e := range errs {
		f := e.Field
		if f == "" {
			f = "<root>"
		}
		out = append(out, e.Type.String()+" "+f)
	}
	slices.Sort(out)
	return out
}

// expectErrs compares errs with want ("<type> <path>" strings, any order).
func expectErrs(t *testing.T, errs field.ErrorList, want ...string) {
	t.Helper()
	got := errStrings(errs)
	w := append([]string{}, want...)
	slices.Sort(w)
	if !slices.Equal(got, w) {
		t.Errorf("errors:\n  got  %q\n  want %q\nfull errors:", got, w)
		for _, e := range errs {
			t.Errorf("  %v", e)
		}
	}
}

// mutation is one table case: change a valid object, expect these errors.
type mutation[T kinds.Object] struct {
	name   string
	mutate func(T)
	want   []string
}

// runObjectCases runs Object on base() changed by each case.
func runObjectCases[T kinds.Object](t *testing.T, base func() T, cases []mutation[T]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := base()
			tc.mutate(obj)
			expectErrs(t, Object(obj), tc.want...)
		})
	}
}

func ptr[T any](v T) *T { return &v }

func intOrStr(v any) *shoalv1.IntOrString {
	switch x := v.(type) {
	case int:
		return &shoalv1.IntOrString{Value: &shoalv1.IntOrString_IntValue{IntValue: int32(x)}}
	case string:
		return &shoalv1.IntOrString{Value: &shoalv1.IntOrString_StrValue{StrValue: x}}
	}
	panic(fmt.Sprintf("intOrStr(%T)", v))
}

func meta(name, namespace string) *shoalv1.ObjectMeta {
	return &shoalv1.ObjectMeta{Name: name, Namespace: namespace}
}

// validPodSpec exercises most of what a pod spec can hold, all of it valid.
func validPodSpec() *shoalv1.PodSpec {
	return &shoalv1.PodSpec{
		Containers: []*shoalv1.Container{
			{
				Name:  "app",
				Image: "greeter:1.0",
				Ports: []*shoalv1.ContainerPort{{Name: "grpc", ContainerPort: 50051}},
				Env: []*shoalv1.EnvVar{
					{Name: "POD_IP", ValueFrom: &shoalv1.EnvVarSource{FieldPath: "status.pod_ip"}},
					{Name: "MODE", Value: "fast"},
				},
				Resources: &shoalv1.ResourceRequirements{
					Requests: &shoalv1.ResourceList{CpuMillis: 100, MemoryBytes: 64 << 20},
					Limits:   &shoalv1.ResourceList{CpuMillis: 200, MemoryBytes: 128 << 20},
				},
				LivenessProbe: &shoalv1.Probe{
					Handler:       &shoalv1.Probe_Grpc{Grpc: &shoalv1.GRPCAction{Port: 50051}},
					PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3, TimeoutSeconds: 1,
				},
				ReadinessProbe: &shoalv1.Probe{
					Handler: &shoalv1.Probe_TcpSocket{TcpSocket: &shoalv1.TCPSocketAction{Port: intOrStr("grpc")}},
				},
				VolumeMounts: []*shoalv1.VolumeMount{{Name: "data", MountPath: "/data"}},
			},
			{
				Name:    "sidecar",
				Image:   "busybox",
				Command: []string{"sleep", "inf"},
				Ports:   []*shoalv1.ContainerPort{{ContainerPort: 8080, HostPort: 8080, Protocol: shoalv1.Protocol_PROTOCOL_TCP}},
				LivenessProbe: &shoalv1.Probe{
					Handler: &shoalv1.Probe_Exec{Exec: &shoalv1.ExecAction{Command: []string{"true"}}},
				},
				ReadinessProbe: &shoalv1.Probe{
					Handler: &shoalv1.Probe_HttpGet{HttpGet: &shoalv1.HTTPGetAction{
						Path: "/healthz", Port: intOrStr(8080),
						HttpHeaders: []*shoalv1.HTTPHeader{{Name: "X-Probe", Value: "1"}},
					}},
					SuccessThreshold: 2,
				},
				VolumeMounts: []*shoalv1.VolumeMount{
					{Name: "data", MountPath: "/data", ReadOnly: true},
					{Name: "logs", MountPath: "/var/log/app", SubPath: "sidecar"},
				},
			},
		},
		Volumes: []*shoalv1.Volume{
			{Name: "data", Source: &shoalv1.Volume_EmptyDir{EmptyDir: &shoalv1.EmptyDirVolumeSource{}}},
			{Name: "logs", Source: &shoalv1.Volume_HostPath{HostPath: &shoalv1.HostPathVolumeSource{Path: "/var/log"}}},
		},
		NodeSelector: map[string]string{"disk": "ssd"},
		Tolerations: []*shoalv1.Toleration{
			{Key: "dedicated", Operator: shoalv1.TolerationOperator_TOLERATION_OPERATOR_EQUAL, Value: "web", Effect: shoalv1.TaintEffect_TAINT_EFFECT_NO_SCHEDULE},
			{Operator: shoalv1.TolerationOperator_TOLERATION_OPERATOR_EXISTS},
			{Key: "node.shoal.io/unreachable", Operator: shoalv1.TolerationOperator_TOLERATION_OPERATOR_EXISTS, Effect: shoalv1.TaintEffect_TAINT_EFFECT_NO_EXECUTE, TolerationSeconds: ptr[int64](300)},
		},
		Affinity: &shoalv1.Affinity{
			NodeAffinity: &shoalv1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &shoalv1.NodeSelector{
					NodeSelectorTerms: []*shoalv1.NodeSelectorTerm{{
						MatchExpressions: []*shoalv1.NodeSelectorRequirement{
							{Key: "zone", Operator: shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_IN, Values: []string{"a", "b"}},
						},
						MatchFields: []*shoalv1.NodeSelectorRequirement{
							{Key: "metadata.name", Operator: shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_NOT_IN, Values: []string{"node-9"}},
						},
					}},
				},
				PreferredDuringSchedulingIgnoredDuringExecution: []*shoalv1.PreferredSchedulingTerm{{
					Weight: 10,
					Preference: &shoalv1.NodeSelectorTerm{MatchExpressions: []*shoalv1.NodeSelectorRequirement{
						{Key: "cpus", Operator: shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_GT, Values: []string{"4"}},
						{Key: "spot", Operator: shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_DOES_NOT_EXIST},
					}},
				}},
			},
			PodAffinity: &shoalv1.PodAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: []*shoalv1.PodAffinityTerm{{
					LabelSelector: &shoalv1.LabelSelector{MatchLabels: map[string]string{"app": "cache"}},
					Namespaces:    []string{"default", "infra"},
					TopologyKey:   "topology.kubernetes.io/zone",
				}},
			},
			PodAntiAffinity: &shoalv1.PodAntiAffinity{
				PreferredDuringSchedulingIgnoredDuringExecution: []*shoalv1.WeightedPodAffinityTerm{{
					Weight: 100,
					PodAffinityTerm: &shoalv1.PodAffinityTerm{
						LabelSelector: &shoalv1.LabelSelector{MatchExpressions: []*shoalv1.LabelSelectorRequirement{
							{Key: "app", Operator: shoalv1.LabelSelectorOperator_LABEL_SELECTOR_OPERATOR_IN, Values: []string{"web"}},
						}},
						TopologyKey: "kubernetes.io/hostname",
					},
				}},
			},
		},
		TerminationGracePeriodSeconds: ptr[int64](30),
		Mesh:                          &shoalv1.MeshSpec{Enabled: true},
		Hostname:                      "web-1",
		Priority:                      -5,
	}
}

func validPod() *shoalv1.Pod {
	m := meta("web-1", "default")
	m.Labels = map[string]string{"app": "web", "example.com/tier": "front"}
	m.Annotations = map[string]string{"shoal.io/note": "anything at all: {json}", "Example.com/Camel": ""}
	m.Finalizers = []string{"shoal.io/protect"}
	m.OwnerReferences = []*shoalv1.OwnerReference{
		{Kind: "ReplicaSet", Name: "web-abc", Uid: "u-1", Controller: true, BlockOwnerDeletion: true},
		{Kind: "Deployment", Name: "web", Uid: "u-2"},
	}
	return &shoalv1.Pod{
		Metadata: m,
		Spec:     validPodSpec(),
		Status:   &shoalv1.PodStatus{Phase: shoalv1.PodPhase_POD_PHASE_RUNNING, PodIp: "10.244.1.5"},
	}
}

func validNamespace() *shoalv1.Namespace {
	return &shoalv1.Namespace{Metadata: meta("team-a", "")}
}

func validNode() *shoalv1.Node {
	return &shoalv1.Node{
		Metadata: meta("node-1.example.com", ""),
		Spec: &shoalv1.NodeSpec{
			Taints: []*shoalv1.Taint{
				{Key: "dedicated", Value: "gpu", Effect: shoalv1.TaintEffect_TAINT_EFFECT_NO_SCHEDULE},
				{Key: "dedicated", Value: "gpu", Effect: shoalv1.TaintEffect_TAINT_EFFECT_NO_EXECUTE},
			},
			PodCidr: "10.244.1.0/24",
		},
	}
}

func validService() *shoalv1.Service {
	return &shoalv1.Service{
		Metadata: meta("greeter", "default"),
		Spec: &shoalv1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports: []*shoalv1.ServicePort{
				{Name: "grpc", Port: 50051, TargetPort: intOrStr("grpc"), Protocol: shoalv1.ServiceProtocol_SERVICE_PROTOCOL_GRPC},
				{Name: "http", Port: 80, TargetPort: intOrStr(8080)},
			},
			ClusterIp:     "10.96.0.10",
			LoadBalancing: &shoalv1.LoadBalancing{Policy: shoalv1.LoadBalancerPolicy_LOAD_BALANCER_POLICY_RING_HASH, HashHeader: "x-user"},
			Timeout:       durationpb.New(5 * time.Second),
			RetryPolicy:   &shoalv1.RetryPolicy{Attempts: 3, PerTryTimeout: durationpb.New(time.Second), RetryOn: []string{"unavailable"}},
		},
	}
}

func validEndpoints() *shoalv1.Endpoints {
	return &shoalv1.Endpoints{
		Metadata: meta("greeter", "default"),
		Spec: &shoalv1.EndpointsSpec{
			Addresses: []*shoalv1.EndpointAddress{
				{Ip: "10.244.1.5", NodeName: "node-1", Ready: true, TargetRef: &shoalv1.ObjectReference{Kind: "Pod", Name: "web-1"}},
				{Ip: "fd00::5", Zone: "b"},
			},
			Ports: []*shoalv1.EndpointPort{
				{Name: "grpc", Port: 50051, Protocol: shoalv1.ServiceProtocol_SERVICE_PROTOCOL_GRPC},
				{Name: "http", Port: 8080},
			},
		},
	}
}

func validTemplate() *shoalv1.PodTemplateSpec {
	return &shoalv1.PodTemplateSpec{
		Metadata: &shoalv1.ObjectMeta{Labels: map[string]string{"app": "web", "pod-template-hash": "abc"}},
		Spec:     validPodSpec(),
	}
}

func webSelector() *shoalv1.LabelSelector {
	return &shoalv1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
}

func validReplicaSet() *shoalv1.ReplicaSet {
	return &shoalv1.ReplicaSet{
		Metadata: meta("web-abc", "default"),
		Spec: &shoalv1.ReplicaSetSpec{
			Replicas:        ptr[int32](3),
			Selector:        webSelector(),
			Template:        validTemplate(),
			MinReadySeconds: 5,
		},
	}
}

func validDeployment() *shoalv1.Deployment {
	return &shoalv1.Deployment{
		Metadata: meta("web", "default"),
		Spec: &shoalv1.DeploymentSpec{
			Replicas: ptr[int32](3),
			Selector: &shoalv1.LabelSelector{MatchExpressions: []*shoalv1.LabelSelectorRequirement{
				{Key: "app", Operator: shoalv1.LabelSelectorOperator_LABEL_SELECTOR_OPERATOR_IN, Values: []string{"web", "www"}},
			}},
			Template: validTemplate(),
			Strategy: &shoalv1.DeploymentStrategy{
				Type: shoalv1.DeploymentStrategyType_DEPLOYMENT_STRATEGY_TYPE_ROLLING_UPDATE,
				RollingUpdate: &shoalv1.RollingUpdateDeployment{
					MaxUnavailable: intOrStr(0),
					MaxSurge:       intOrStr("25%"),
				},
			},
			MinReadySeconds:         5,
			RevisionHistoryLimit:    ptr[int32](10),
			ProgressDeadlineSeconds: ptr[int32](600),
		},
	}
}

func validLease() *shoalv1.Lease {
	return &shoalv1.Lease{
		Metadata: meta("node-1", "shoal-node-lease"),
		Spec:     &shoalv1.LeaseSpec{HolderIdentity: "node-1", LeaseDurationSeconds: 40, LeaseTransitions: 2},
	}
}

func validEvent() *shoalv1.Event {
	return &shoalv1.Event{
		Metadata: meta("web-1.17f3a2b4c5d6e7f8", "default"),
		Spec: &shoalv1.EventSpec{
			InvolvedObject: &shoalv1.ObjectReference{Kind: "Pod", Name: "web-1", Namespace: "default"},
			Reason:         "Scheduled",
			Message:        "assigned default/web-1 to node-1",
			Type:           shoalv1.EventType_EVENT_TYPE_NORMAL,
			Count:          1,
			Source:         &shoalv1.EventSource{Component: "scheduler"},
		},
	}
}

func validResourceQuota() *shoalv1.ResourceQuota {
	return &shoalv1.ResourceQuota{
		Metadata: meta("compute", "default"),
		Spec: &shoalv1.ResourceQuotaSpec{Hard: &shoalv1.QuotaResources{
			Pods: ptr[int64](10), CpuMillis: ptr[int64](4000), MemoryBytes: ptr[int64](0),
		}},
	}
}

// validObjects is one valid object of every kind, keyed by kind name.
func validObjects() map[string]kinds.Object {
	return map[string]kinds.Object{
		"Namespace":     validNamespace(),
		"Node":          validNode(),
		"Pod":           validPod(),
		"Service":       validService(),
		"Endpoints":     validEndpoints(),
		"ReplicaSet":    validReplicaSet(),
		"Deployment":    validDeployment(),
		"Lease":         validLease(),
		"Event":         validEvent(),
		"ResourceQuota": validResourceQuota(),
	}
}
