package validation

import (
	"testing"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

func TestReplicaSet(t *testing.T) {
	runObjectCases(t, validReplicaSet, []mutation[*shoalv1.ReplicaSet]{
		{"replicas negative", func(r *shoalv1.ReplicaSet) { r.Spec.Replicas = ptr[int32](-1) }, []string{invalid + "spec.replicas"}},
		{"replicas zero", func(r *shoalv1.ReplicaSet) { r.Spec.Replicas = ptr[int32](0) }, nil},
		{"replicas unset", func(r *shoalv1.ReplicaSet) { r.Spec.Replicas = nil }, nil},
		{"selector required", func(r *shoalv1.ReplicaSet) { r.Spec.Selector = nil }, []string{required + "spec.selector"}},
		{"selector empty", func(r *shoalv1.ReplicaSet) { r.Spec.Selector = &shoalv1.LabelSelector{} }, []string{invalid + "spec.selector"}},
		{"selector invalid", func(r *shoalv1.ReplicaSet) {
			r.Spec.Selector.MatchExpressions = []*shoalv1.LabelSelectorRequirement{{Key: "tier", Operator: shoalv1.LabelSelectorOperator_LABEL_SELECTOR_OPERATOR_IN}}
		}, []string{required + "spec.selector.match_expressions[0].values"}},
		{"selector does not match template", func(r *shoalv1.ReplicaSet) {
			r.Spec.Selector.MatchLabels["app"] = "db"
		}, []string{invalid + "spec.template.metadata.labels"}},
		{"template without labels", func(r *shoalv1.ReplicaSet) { r.Spec.Template.Metadata = nil }, []string{invalid + "spec.template.metadata.labels"}},
		{"template label invalid", func(r *shoalv1.ReplicaSet) {
			r.Spec.Template.Metadata.Labels["pod-template-hash"] = "a b"
		}, []string{invalid + "spec.template.metadata.labels[pod-template-hash]"}},
		{"template annotation invalid", func(r *shoalv1.ReplicaSet) {
			r.Spec.Template.Metadata.Annotations = map[string]string{"a b": ""}
		}, []string{invalid + "spec.template.metadata.annotations"}},
		{"template required", func(r *shoalv1.ReplicaSet) { r.Spec.Template = nil }, []string{required + "spec.template"}},
		{"template spec required", func(r *shoalv1.ReplicaSet) { r.Spec.Template.Spec = nil }, []string{required + "spec.template.spec.containers"}},
		{"template pod spec validated", func(r *shoalv1.ReplicaSet) {
			r.Spec.Template.Spec.Containers[1].Ports[0].ContainerPort = 0
		}, []string{required + "spec.template.spec.containers[1].ports[0].container_port"}},
		{"template restart policy must be always", func(r *shoalv1.ReplicaSet) {
			r.Spec.Template.Spec.RestartPolicy = shoalv1.RestartPolicy_RESTART_POLICY_NEVER
		}, []string{notSupported + "spec.template.spec.restart_policy"}},
		{"template restart policy undefined", func(r *shoalv1.ReplicaSet) {
			r.Spec.Template.Spec.RestartPolicy = 8
		}, []string{notSupported + "spec.template.spec.restart_policy"}},
		{"template restart policy always", func(r *shoalv1.ReplicaSet) {
			r.Spec.Template.Spec.RestartPolicy = shoalv1.RestartPolicy_RESTART_POLICY_ALWAYS
		}, nil},
		{"min ready negative", func(r *shoalv1.ReplicaSet) { r.Spec.MinReadySeconds = -1 }, []string{invalid + "spec.min_ready_seconds"}},
		{"nil spec", func(r *shoalv1.ReplicaSet) { r.Spec = nil }, []string{required + "spec.selector", required + "spec.template"}},
	})
}

func TestDeployment(t *testing.T) {
	const ru = "spec.strategy.rolling_update"
	rolling := func(d *shoalv1.Deployment) *shoalv1.RollingUpdateDeployment { return d.Spec.Strategy.RollingUpdate }
	runObjectCases(t, validDeployment, []mutation[*shoalv1.Deployment]{
		{"replicas negative", func(d *shoalv1.Deployment) { d.Spec.Replicas = ptr[int32](-2) }, []string{invalid + "spec.replicas"}},
		{"selector required", func(d *shoalv1.Deployment) { d.Spec.Selector = nil }, []string{required + "spec.selector"}},
		{"selector empty", func(d *shoalv1.Deployment) { d.Spec.Selector.MatchExpressions = nil }, []string{invalid + "spec.selector"}},
		{"selector does not match template", func(d *shoalv1.Deployment) {
			d.Spec.Selector.MatchExpressions[0].Operator = shoalv1.LabelSelectorOperator_LABEL_SELECTOR_OPERATOR_NOT_IN
		}, []string{invalid + "spec.template.metadata.labels"}},
		{"template pod spec validated", func(d *shoalv1.Deployment) {
			d.Spec.Template.Spec.Containers[0].Image = ""
		}, []string{required + "spec.template.spec.containers[0].image"}},
		{"recreate forbids rolling update", func(d *shoalv1.Deployment) {
			d.Spec.Strategy.Type = shoalv1.DeploymentStrategyType_DEPLOYMENT_STRATEGY_TYPE_RECREATE
		}, []string{forbidden + ru}},
		{"recreate alone", func(d *shoalv1.Deployment) {
			d.Spec.Strategy = &shoalv1.DeploymentStrategy{Type: shoalv1.DeploymentStrategyType_DEPLOYMENT_STRATEGY_TYPE_RECREATE}
		}, nil},
		{"max surge above 100%", func(d *shoalv1.Deployment) { rolling(d).MaxSurge = intOrStr("101%") }, []string{invalid + ru + ".max_surge"}},
		{"max surge 100%", func(d *shoalv1.Deployment) { rolling(d).MaxSurge = intOrStr("100%") }, nil},
		{"max surge not a percentage", func(d *shoalv1.Deployment) { rolling(d).MaxSurge = intOrStr("25") }, []string{invalid + ru + ".max_surge"}},
		{"max surge negative percentage", func(d *shoalv1.Deployment) { rolling(d).MaxSurge = intOrStr("-5%") }, []string{invalid + ru + ".max_surge"}},
		{"max surge huge percentage", func(d *shoalv1.Deployment) { rolling(d).MaxSurge = intOrStr("99999999999999999999%") }, []string{invalid + ru + ".max_surge"}},
		{"max unavailable negative", func(d *shoalv1.Deployment) { rolling(d).MaxUnavailable = intOrStr(-1) }, []string{invalid + ru + ".max_unavailable"}},
		{"max unavailable fraction", func(d *shoalv1.Deployment) { rolling(d).MaxUnavailable = intOrStr("0.5%") }, []string{invalid + ru + ".max_unavailable"}},
		{"both zero", func(d *shoalv1.Deployment) { rolling(d).MaxSurge = intOrStr("0%") }, []string{invalid + ru + ".max_unavailable"}},
		{"both zero numbers", func(d *shoalv1.Deployment) { rolling(d).MaxSurge = intOrStr(0) }, []string{invalid + ru + ".max_unavailable"}},
		{"zero and unset", func(d *shoalv1.Deployment) { rolling(d).MaxSurge = nil }, nil},
		{"unspecified type with rolling update", func(d *shoalv1.Deployment) {
			d.Spec.Strategy.Type = shoalv1.DeploymentStrategyType_DEPLOYMENT_STRATEGY_TYPE_UNSPECIFIED
			rolling(d).MaxSurge = intOrStr("0%")
		}, []string{invalid + ru + ".max_unavailable"}},
		{"revision history negative", func(d *shoalv1.Deployment) { d.Spec.RevisionHistoryLimit = ptr[int32](-1) }, []string{invalid + "spec.revision_history_limit"}},
		{"revision history zero", func(d *shoalv1.Deployment) { d.Spec.RevisionHistoryLimit = ptr[int32](0) }, nil},
		{"progress deadline not above min ready", func(d *shoalv1.Deployment) { d.Spec.ProgressDeadlineSeconds = ptr[int32](5) }, []string{invalid + "spec.progress_deadline_seconds"}},
		{"progress deadline above min ready", func(d *shoalv1.Deployment) { d.Spec.ProgressDeadlineSeconds = ptr[int32](6) }, nil},
		{"progress deadline unset", func(d *shoalv1.Deployment) { d.Spec.ProgressDeadlineSeconds = nil }, nil},
		{"min ready negative", func(d *shoalv1.Deployment) { d.Spec.MinReadySeconds = -1 }, []string{invalid + "spec.min_ready_seconds"}},
		{"nil spec", func(d *shoalv1.Deployment) { d.Spec = nil }, []string{required + "spec.selector", required + "spec.template"}},
	})
}
