package defaults

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/google/go-cmp/cmp"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

func ptr32(v int32) *int32 { return &v }
func ptr64(v int64) *int64 { return &v }

func intVal(n int32) *shoalv1.IntOrString {
	return &shoalv1.IntOrString{Value: &shoalv1.IntOrString_IntValue{IntValue: n}}
}

func strVal(s string) *shoalv1.IntOrString {
	return &shoalv1.IntOrString{Value: &shoalv1.IntOrString_StrValue{StrValue: s}}
}

// expectApply applies the defaults to in and compares with want.
func expectApply(t *testing.T, in, want kinds.Object) {
	t.Helper()
	Apply(in)
	if diff := cmp.Diff(want, in, protocmp.Transform()); diff != "" {
		t.Errorf("Apply: (-want +got)\n%s", diff)
	}
	// Idempotent.
	Apply(in)
	if diff := cmp.Diff(want, in, protocmp.Transform()); diff != "" {
		t.Errorf("Apply twice: (-want +got)\n%s", diff)
	}
}

const (
	always       = shoalv1.ImagePullPolicy_IMAGE_PULL_POLICY_ALWAYS
	ifNotPresent = shoalv1.ImagePullPolicy_IMAGE_PULL_POLICY_IF_NOT_PRESENT
	never        = shoalv1.ImagePullPolicy_IMAGE_PULL_POLICY_NEVER
	tcp          = shoalv1.Protocol_PROTOCOL_TCP
)

func TestPod(t *testing.T) {
	tests := []struct {
		name     string
		in, want *shoalv1.PodSpec
	}{
		{
			name: "empty spec",
			in:   &shoalv1.PodSpec{},
			want: &shoalv1.PodSpec{RestartPolicy: shoalv1.RestartPolicy_RESTART_POLICY_ALWAYS, TerminationGracePeriodSeconds: ptr64(30)},
		},
		{
			name: "containers, ports, probes, tolerations",
			in: &shoalv1.PodSpec{
				Containers: []*shoalv1.Container{
					{
						Name: "app", Image: "greeter:1.0",
						Ports:         []*shoalv1.ContainerPort{{ContainerPort: 80}, {ContainerPort: 53, Protocol: shoalv1.Protocol_PROTOCOL_UDP}},
						LivenessProbe: &shoalv1.Probe{Handler: &shoalv1.Probe_Grpc{Grpc: &shoalv1.GRPCAction{Port: 80}}},
						ReadinessProbe: &shoalv1.Probe{
							Handler:        &shoalv1.Probe_HttpGet{HttpGet: &shoalv1.HTTPGetAction{Port: intVal(80)}},
							TimeoutSeconds: 5, PeriodSeconds: 2, SuccessThreshold: 2, FailureThreshold: 9,
						},
					},
					{Name: "side", Image: "busybox"},
				},
				Tolerations: []*shoalv1.Toleration{
					{Key: "a", Value: "b"},
					{Operator: shoalv1.TolerationOperator_TOLERATION_OPERATOR_EXISTS},
				},
			},
			want: &shoalv1.PodSpec{
				RestartPolicy:                 shoalv1.RestartPolicy_RESTART_POLICY_ALWAYS,
				TerminationGracePeriodSeconds: ptr64(30),
				Containers: []*shoalv1.Container{
					{
						Name: "app", Image: "greeter:1.0", ImagePullPolicy: ifNotPresent,
						Ports: []*shoalv1.ContainerPort{{ContainerPort: 80, Protocol: tcp}, {ContainerPort: 53, Protocol: shoalv1.Protocol_PROTOCOL_UDP}},
						LivenessProbe: &shoalv1.Probe{
							Handler:        &shoalv1.Probe_Grpc{Grpc: &shoalv1.GRPCAction{Port: 80}},
							TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3,
						},
						ReadinessProbe: &shoalv1.Probe{
							Handler:        &shoalv1.Probe_HttpGet{HttpGet: &shoalv1.HTTPGetAction{Port: intVal(80), Scheme: shoalv1.URIScheme_URI_SCHEME_HTTP}},
							TimeoutSeconds: 5, PeriodSeconds: 2, SuccessThreshold: 2, FailureThreshold: 9,
						},
					},
					{Name: "side", Image: "busybox", ImagePullPolicy: always},
				},
				Tolerations: []*shoalv1.Toleration{
					{Key: "a", Value: "b", Operator: shoalv1.TolerationOperator_TOLERATION_OPERATOR_EQUAL},
					{Operator: shoalv1.TolerationOperator_TOLERATION_OPERATOR_EXISTS},
				},
			},
		},
		{
			name: "chosen values are kept",
			in: &shoalv1.PodSpec{
				RestartPolicy:                 shoalv1.RestartPolicy_RESTART_POLICY_NEVER,
				TerminationGracePeriodSeconds: ptr64(0),
				Containers:                    []*shoalv1.Container{{Name: "app", Image: "app", ImagePullPolicy: never}},
			},
			want: &shoalv1.PodSpec{
				RestartPolicy:                 shoalv1.RestartPolicy_RESTART_POLICY_NEVER,
				TerminationGracePeriodSeconds: ptr64(0),
				Containers:                    []*shoalv1.Container{{Name: "app", Image: "app", ImagePullPolicy: never}},
			},
		},
		{
			name: "nil elements are skipped",
			in: &shoalv1.PodSpec{
				Containers:  []*shoalv1.Container{nil, {Name: "app", Image: "app:v1", Ports: []*shoalv1.ContainerPort{nil}}},
				Tolerations: []*shoalv1.Toleration{nil},
			},
			want: &shoalv1.PodSpec{
				RestartPolicy: shoalv1.RestartPolicy_RESTART_POLICY_ALWAYS, TerminationGracePeriodSeconds: ptr64(30),
				Containers:  []*shoalv1.Container{nil, {Name: "app", Image: "app:v1", ImagePullPolicy: ifNotPresent, Ports: []*shoalv1.ContainerPort{nil}}},
				Tolerations: []*shoalv1.Toleration{nil},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status := &shoalv1.PodStatus{Phase: shoalv1.PodPhase_POD_PHASE_UNSPECIFIED, Reason: "kept"}
			expectApply(t,
				&shoalv1.Pod{Metadata: &shoalv1.ObjectMeta{Name: "p"}, Spec: tc.in, Status: status},
				&shoalv1.Pod{Metadata: &shoalv1.ObjectMeta{Name: "p"}, Spec: tc.want, Status: proto.Clone(status).(*shoalv1.PodStatus)})
		})
	}
	t.Run("nil spec is created", func(t *testing.T) {
		expectApply(t, &shoalv1.Pod{}, &shoalv1.Pod{Spec: &shoalv1.PodSpec{
			RestartPolicy: shoalv1.RestartPolicy_RESTART_POLICY_ALWAYS, TerminationGracePeriodSeconds: ptr64(30),
		}})
	})
}

func TestPullPolicy(t *testing.T) {
	tests := []struct {
		image string
		want  shoalv1.ImagePullPolicy
	}{
		{"busybox", always},
		{"busybox:latest", always},
		{"busybox:1.36", ifNotPresent},
		{"library/busybox", always},
		{"localhost:5000/greeter", always},
		{"localhost:5000/greeter:v2", ifNotPresent},
		{"localhost:5000/greeter:latest", always},
		{"greeter@sha256:0123456789abcdef", ifNotPresent},
		{"greeter:latest@sha256:0123456789abcdef", always},
		{"greeter:v1@sha256:0123456789abcdef", ifNotPresent},
		{"", always},
	}
	for _, tc := range tests {
		if got := PullPolicy(tc.image); got != tc.want {
			t.Errorf("PullPolicy(%q) = %v, want %v", tc.image, got, tc.want)
		}
	}
}

func TestService(t *testing.T) {
	roundRobin := shoalv1.LoadBalancerPolicy_LOAD_BALANCER_POLICY_ROUND_ROBIN
	svcTCP := shoalv1.ServiceProtocol_SERVICE_PROTOCOL_TCP
	grpc := shoalv1.ServiceProtocol_SERVICE_PROTOCOL_GRPC
	expectApply(t,
		&shoalv1.Service{Spec: &shoalv1.ServiceSpec{Ports: []*shoalv1.ServicePort{
			{Port: 80},
			{Name: "grpc", Port: 50051, TargetPort: strVal("grpc"), Protocol: grpc},
			{Name: "empty", Port: 81, TargetPort: &shoalv1.IntOrString{}},
			nil,
		}}},
		&shoalv1.Service{Spec: &shoalv1.ServiceSpec{
			Ports: []*shoalv1.ServicePort{
				{Port: 80, TargetPort: intVal(80), Protocol: svcTCP},
				{Name: "grpc", Port: 50051, TargetPort: strVal("grpc"), Protocol: grpc},
				{Name: "empty", Port: 81, TargetPort: intVal(81), Protocol: svcTCP},
				nil,
			},
			LoadBalancing: &shoalv1.LoadBalancing{Policy: roundRobin},
		}})
	t.Run("policy kept", func(t *testing.T) {
		lb := &shoalv1.LoadBalancing{Policy: shoalv1.LoadBalancerPolicy_LOAD_BALANCER_POLICY_RING_HASH, HashHeader: "x-user"}
		expectApply(t,
			&shoalv1.Service{Spec: &shoalv1.ServiceSpec{LoadBalancing: lb}},
			&shoalv1.Service{Spec: &shoalv1.ServiceSpec{LoadBalancing: proto.Clone(lb).(*shoalv1.LoadBalancing)}})
	})
	t.Run("nil spec", func(t *testing.T) {
		expectApply(t, &shoalv1.Service{}, &shoalv1.Service{Spec: &shoalv1.ServiceSpec{LoadBalancing: &shoalv1.LoadBalancing{Policy: roundRobin}}})
	})
}

// defaultedPodSpec is what podSpec makes of a one-container spec.
func defaultedPodSpec() *shoalv1.PodSpec {
	return &shoalv1.PodSpec{
		RestartPolicy:                 shoalv1.RestartPolicy_RESTART_POLICY_ALWAYS,
		TerminationGracePeriodSeconds: ptr64(30),
		Containers:                    []*shoalv1.Container{{Name: "app", Image: "app:v1", ImagePullPolicy: ifNotPresent}},
	}
}

func bareTemplate() *shoalv1.PodTemplateSpec {
	return &shoalv1.PodTemplateSpec{Spec: &shoalv1.PodSpec{Containers: []*shoalv1.Container{{Name: "app", Image: "app:v1"}}}}
}

func TestReplicaSet(t *testing.T) {
	expectApply(t,
		&shoalv1.ReplicaSet{Spec: &shoalv1.ReplicaSetSpec{Template: bareTemplate()}},
		&shoalv1.ReplicaSet{Spec: &shoalv1.ReplicaSetSpec{Replicas: ptr32(1), Template: &shoalv1.PodTemplateSpec{Spec: defaultedPodSpec()}}})
	t.Run("zero replicas kept", func(t *testing.T) {
		expectApply(t,
			&shoalv1.ReplicaSet{Spec: &shoalv1.ReplicaSetSpec{Replicas: ptr32(0)}},
			&shoalv1.ReplicaSet{Spec: &shoalv1.ReplicaSetSpec{Replicas: ptr32(0)}})
	})
	t.Run("nil spec", func(t *testing.T) {
		expectApply(t, &shoalv1.ReplicaSet{}, &shoalv1.ReplicaSet{Spec: &shoalv1.ReplicaSetSpec{Replicas: ptr32(1)}})
	})
	t.Run("template without spec", func(t *testing.T) {
		expectApply(t,
			&shoalv1.ReplicaSet{Spec: &shoalv1.ReplicaSetSpec{Replicas: ptr32(2), Template: &shoalv1.PodTemplateSpec{}}},
			&shoalv1.ReplicaSet{Spec: &shoalv1.ReplicaSetSpec{Replicas: ptr32(2), Template: &shoalv1.PodTemplateSpec{Spec: &shoalv1.PodSpec{
				RestartPolicy: shoalv1.RestartPolicy_RESTART_POLICY_ALWAYS, TerminationGracePeriodSeconds: ptr64(30),
			}}}})
	})
}

func TestDeployment(t *testing.T) {
	rolling := shoalv1.DeploymentStrategyType_DEPLOYMENT_STRATEGY_TYPE_ROLLING_UPDATE
	recreate := shoalv1.DeploymentStrategyType_DEPLOYMENT_STRATEGY_TYPE_RECREATE
	full := func(strategy *shoalv1.DeploymentStrategy, tmpl *shoalv1.PodTemplateSpec) *shoalv1.Deployment {
		return &shoalv1.Deployment{Spec: &shoalv1.DeploymentSpec{
			Replicas: ptr32(1), Strategy: strategy, RevisionHistoryLimit: ptr32(10), ProgressDeadlineSeconds: ptr32(600), Template: tmpl,
		}}
	}
	tests := []struct {
		name     string
		in, want *shoalv1.Deployment
	}{
		{
			name: "everything",
			in:   &shoalv1.Deployment{Spec: &shoalv1.DeploymentSpec{Template: bareTemplate()}},
			want: full(&shoalv1.DeploymentStrategy{Type: rolling, RollingUpdate: &shoalv1.RollingUpdateDeployment{
				MaxUnavailable: strVal("25%"), MaxSurge: strVal("25%"),
			}}, &shoalv1.PodTemplateSpec{Spec: defaultedPodSpec()}),
		},
		{
			name: "nil spec",
			in:   &shoalv1.Deployment{},
			want: full(&shoalv1.DeploymentStrategy{Type: rolling, RollingUpdate: &shoalv1.RollingUpdateDeployment{
				MaxUnavailable: strVal("25%"), MaxSurge: strVal("25%"),
			}}, nil),
		},
		{
			name: "one bound chosen",
			in: &shoalv1.Deployment{Spec: &shoalv1.DeploymentSpec{Strategy: &shoalv1.DeploymentStrategy{
				RollingUpdate: &shoalv1.RollingUpdateDeployment{MaxUnavailable: intVal(0), MaxSurge: &shoalv1.IntOrString{}},
			}}},
			want: full(&shoalv1.DeploymentStrategy{Type: rolling, RollingUpdate: &shoalv1.RollingUpdateDeployment{
				MaxUnavailable: intVal(0), MaxSurge: strVal("25%"),
			}}, nil),
		},
		{
			name: "recreate gets no rolling update",
			in:   &shoalv1.Deployment{Spec: &shoalv1.DeploymentSpec{Strategy: &shoalv1.DeploymentStrategy{Type: recreate}}},
			want: full(&shoalv1.DeploymentStrategy{Type: recreate}, nil),
		},
		{
			name: "chosen values kept",
			in: &shoalv1.Deployment{Spec: &shoalv1.DeploymentSpec{
				Replicas: ptr32(0), RevisionHistoryLimit: ptr32(0), ProgressDeadlineSeconds: ptr32(60),
				Strategy: &shoalv1.DeploymentStrategy{Type: recreate},
			}},
			want: &shoalv1.Deployment{Spec: &shoalv1.DeploymentSpec{
				Replicas: ptr32(0), RevisionHistoryLimit: ptr32(0), ProgressDeadlineSeconds: ptr32(60),
				Strategy: &shoalv1.DeploymentStrategy{Type: recreate},
			}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { expectApply(t, tc.in, tc.want) })
	}
}

func TestEvent(t *testing.T) {
	normal := shoalv1.EventType_EVENT_TYPE_NORMAL
	warning := shoalv1.EventType_EVENT_TYPE_WARNING
	expectApply(t, &shoalv1.Event{Spec: &shoalv1.EventSpec{Reason: "Pulled"}},
		&shoalv1.Event{Spec: &shoalv1.EventSpec{Reason: "Pulled", Type: normal, Count: 1}})
	expectApply(t, &shoalv1.Event{Spec: &shoalv1.EventSpec{Type: warning, Count: 7}},
		&shoalv1.Event{Spec: &shoalv1.EventSpec{Type: warning, Count: 7}})
	expectApply(t, &shoalv1.Event{}, &shoalv1.Event{Spec: &shoalv1.EventSpec{Type: normal, Count: 1}})
}

func TestKindsWithoutDefaults(t *testing.T) {
	for _, obj := range []kinds.Object{
		&shoalv1.Namespace{Metadata: &shoalv1.ObjectMeta{Name: "ns"}},
		&shoalv1.Node{Metadata: &shoalv1.ObjectMeta{Name: "n"}, Spec: &shoalv1.NodeSpec{Taints: []*shoalv1.Taint{{Key: "k"}}}},
		&shoalv1.Endpoints{Spec: &shoalv1.EndpointsSpec{Ports: []*shoalv1.EndpointPort{{Port: 80}}}},
		&shoalv1.Lease{},
		&shoalv1.ResourceQuota{Spec: &shoalv1.ResourceQuotaSpec{}},
		&shoalv1.Pod{Status: &shoalv1.PodStatus{}, Spec: &shoalv1.PodSpec{RestartPolicy: 1, TerminationGracePeriodSeconds: ptr64(1)}},
	} {
		before := proto.Clone(obj)
		Apply(obj)
		if !proto.Equal(before, obj) {
			t.Errorf("Apply changed %v into %v", before, obj)
		}
	}
}

func TestNilObjects(t *testing.T) {
	Apply(nil)
	for _, k := range kinds.All() {
		// A typed nil pointer of every kind.
		obj := k.New()
		nilObj := obj.ProtoReflect().Type().Zero().Interface().(kinds.Object)
		Apply(nilObj)
		Apply(obj)
	}
}
