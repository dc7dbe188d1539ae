package defaults

import (
	"strings"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// The default values.
const (
	TerminationGracePeriodSeconds int64 = 30
	ProbeTimeoutSeconds           int32 = 1
	ProbePeriodSeconds            int32 = 10
	ProbeSuccessThreshold         int32 = 1
	ProbeFailureThreshold         int32 = 3
	Replicas                      int32 = 1
	RevisionHistoryLimit          int32 = 10
	ProgressDeadlineSeconds       int32 = 600
	MaxUnavailable                      = "25%"
	MaxSurge                            = "25%"
)

// Apply fills the defaults of obj in place. Objects of kinds without
// defaults, and nil objects, are left alone.
func Apply(obj kinds.Object) {
	switch o := obj.(type) {
	case *shoalv1.Pod:
		if o == nil {
			return
		}
		if o.Spec == nil {
			o.Spec = &shoalv1.PodSpec{}
		}
		podSpec(o.Spec)
	case *shoalv1.Service:
		if o == nil {
			return
		}
		if o.Spec == nil {
			o.Spec = &shoalv1.ServiceSpec{}
		}
		serviceSpec(o.Spec)
	case *shoalv1.ReplicaSet:
		if o == nil {
			return
		}
		if o.Spec == nil {
			o.Spec = &shoalv1.ReplicaSetSpec{}
		}
		if o.Spec.Replicas == nil {
			o.Spec.Replicas = ptr(Replicas)
		}
		template(o.Spec.Template)
	case *shoalv1.Deployment:
		if o == nil {
			return
		}
		if o.Spec == nil {
			o.Spec = &shoalv1.DeploymentSpec{}
		}
		deploymentSpec(o.Spec)
	case *shoalv1.Event:
		if o == nil {
			return
		}
		if o.Spec == nil {
			o.Spec = &shoalv1.EventSpec{}
		}
		if o.Spec.Type == shoalv1.EventType_EVENT_TYPE_UNSPECIFIED {
			o.Spec.Type = shoalv1.EventType_EVENT_TYPE_NORMAL
		}
		if o.Spec.Count == 0 {
			o.Spec.Count = 1
		}
	}
}

func ptr[T any](v T) *T { return &v }

func template(t *shoalv1.PodTemplateSpec) {
	if t == nil {
		return
	}
	if t.Spec == nil {
		t.Spec = &shoalv1.PodSpec{}
	}
	podSpec(t.Spec)
}

func podSpec(s *shoalv1.PodSpec) {
	if s.RestartPolicy == shoalv1.RestartPolicy_RESTART_POLICY_UNSPECIFIED {
		s.RestartPolicy = shoalv1.RestartPolicy_RESTART_POLICY_ALWAYS
	}
	if s.TerminationGracePeriodSeconds == nil {
		s.TerminationGracePeriodSeconds = ptr(TerminationGracePeriodSeconds)
	}
	for _, c := range s.Containers {
		if c != nil {
			container(c)
		}
	}
	for _, t := range s.Tolerations {
		if t != nil && t.Operator == shoalv1.TolerationOperator_TOLERATION_OPERATOR_UNSPECIFIED {
			t.Operator = shoalv1.TolerationOperator_TOLERATION_OPERATOR_EQUAL
		}
	}
}

func container(c *shoalv1.Container) {
	if c.ImagePullPolicy == shoalv1.ImagePullPolicy_IMAGE_PULL_POLICY_UNSPECIFIED {
		c.ImagePullPolicy = PullPolicy(c.Image)
	}
	for _, p := range c.Ports {
		if p != nil && p.Protocol == shoalv1.Protocol_PROTOCOL_UNSPECIFIED {
			p.Protocol = shoalv1.Protocol_PROTOCOL_TCP
		}
	}
	probe(c.LivenessProbe)
	probe(c.ReadinessProbe)
}

// PullPolicy is the default image pull policy for an image reference, as
// Kubernetes chooses it: ALWAYS for an image with the tag "latest" or with
// neither tag nor digest (which means latest), IF_NOT_PRESENT otherwise.
func PullPolicy(image string) shoalv1.ImagePullPolicy {
	name, digest, _ := strings.Cut(image, "@")
	tag := ""
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		tag = name[i+1:]
	}
	if tag == "latest" || (tag == "" && digest == "") {
		return shoalv1.ImagePullPolicy_IMAGE_PULL_POLICY_ALWAYS
	}
	return shoalv1.ImagePullPolicy_IMAGE_PULL_POLICY_IF_NOT_PRESENT
}

func probe(p *shoalv1.Probe) {
	if p == nil {
		return
	}
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = ProbeTimeoutSeconds
	}
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = ProbePeriodSeconds
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = ProbeSuccessThreshold
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = ProbeFailureThreshold
	}
	if h := p.GetHttpGet(); h != nil && h.Scheme == shoalv1.URIScheme_URI_SCHEME_UNSPECIFIED {
		h.Scheme = shoalv1.URIScheme_URI_SCHEME_HTTP
	}
}

func serviceSpec(s *shoalv1.ServiceSpec) {
	for _, p := range s.Ports {
		if p == nil {
			continue
		}
		if p.Protocol == shoalv1.ServiceProtocol_SERVICE_PROTOCOL_UNSPECIFIED {
			p.Protocol = shoalv1.ServiceProtocol_SERVICE_PROTOCOL_TCP
		}
		if p.TargetPort.GetValue() == nil {
			p.TargetPort = &shoalv1.IntOrString{Value: &shoalv1.IntOrString_IntValue{IntValue: p.Port}}
		}
	}
	if s.LoadBalancing == nil {
		s.LoadBalancing = &shoalv1.LoadBalancing{}
	}
	if s.LoadBalancing.Policy == shoalv1.LoadBalancerPolicy_LOAD_BALANCER_POLICY_UNSPECIFIED {
		s.LoadBalancing.Policy = shoalv1.LoadBalancerPolicy_LOAD_BALANCER_POLICY_ROUND_ROBIN
	}
}

func deploymentSpec(s *shoalv1.DeploymentSpec) {
	if s.Replicas == nil {
		s.Replicas = ptr(Replicas)
	}
	if s.Strategy == nil {
		s.Strategy = &shoalv1.DeploymentStrategy{}
	}
	if s.Strategy.Type == shoalv1.DeploymentStrategyType_DEPLOYMENT_STRATEGY_TYPE_UNSPECIFIED {
		s.Strategy.Type = shoalv1.DeploymentStrategyType_DEPLOYMENT_STRATEGY_TYPE_ROLLING_UPDATE
	}
	if s.Strategy.Type == shoalv1.DeploymentStrategyType_DEPLOYMENT_STRATEGY_TYPE_ROLLING_UPDATE {
		if s.Strategy.RollingUpdate == nil {
			s.Strategy.RollingUpdate = &shoalv1.RollingUpdateDeployment{}
		}
		ru := s.Strategy.RollingUpdate
		if ru.MaxUnavailable.GetValue() == nil {
			ru.MaxUnavailable = percent(MaxUnavailable)
		}
		if ru.MaxSurge.GetValue() == nil {
			ru.MaxSurge = percent(MaxSurge)
		}
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = ptr(RevisionHistoryLimit)
	}
	if s.ProgressDeadlineSeconds == nil {
		s.ProgressDeadlineSeconds = ptr(ProgressDeadlineSeconds)
	}
	template(s.Template)
}

func percent(s string) *shoalv1.IntOrString {
	return &shoalv1.IntOrString{Value: &shoalv1.IntOrString_StrValue{StrValue: s}}
}
