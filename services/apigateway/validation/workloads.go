package validation

import (
	"regexp"
	"strconv"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/selector"
)

func validateReplicaSetSpec(spec *shoalv1.ReplicaSetSpec, p *field.Path) field.ErrorList {
	if spec == nil {
		spec = &shoalv1.ReplicaSetSpec{}
	}
	return validateWorkload(spec.Replicas, spec.GetSelector(), spec.GetTemplate(), spec.GetMinReadySeconds(), p)
}

// validateWorkload holds the rules ReplicaSets and Deployments share:
// replicas, a non-empty selector that matches the template's labels, a valid
// pod template that restarts its containers, min_ready_seconds.
func validateWorkload(replicas *int32, sel *shoalv1.LabelSelector, tmpl *shoalv1.PodTemplateSpec, minReady int32, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if replicas != nil && *replicas < 0 {
		errs = append(errs, field.Invalid(p.Child("replicas"), *replicas, mustBeNonNegative))
	}
	sp := p.Child("selector")
	var parsed labels.Selector
	switch {
	case sel == nil:
		errs = append(errs, field.Required(sp, ""))
	case len(sel.GetMatchLabels()) == 0 && len(sel.GetMatchExpressions()) == 0:
		errs = append(errs, field.Invalid(sp, "", "must not be empty: an empty selector selects every pod"))
	default:
		serrs := selector.ValidateLabelSelector(sel, sp)
		errs = append(errs, serrs...)
		if len(serrs) == 0 {
			parsed, _ = selector.FromLabelSelector(sel)
		}
	}
	tp := p.Child("template")
	if tmpl == nil {
		errs = append(errs, field.Required(tp, ""))
	} else {
		mp := tp.Child("metadata")
		errs = append(errs, validateMetaMaps(tmpl.GetMetadata(), mp)...)
		if parsed != nil && !parsed.Matches(labels.Set(tmpl.GetMetadata().GetLabels())) {
			errs = append(errs, field.Invalid(mp.Child("labels"), tmpl.GetMetadata().GetLabels(), "selector does not match template labels"))
		}
		specPath := tp.Child("spec")
		errs = append(errs, validatePodSpec(tmpl.GetSpec(), specPath)...)
		switch rp := tmpl.GetSpec().GetRestartPolicy(); rp {
		case shoalv1.RestartPolicy_RESTART_POLICY_UNSPECIFIED, shoalv1.RestartPolicy_RESTART_POLICY_ALWAYS:
		case shoalv1.RestartPolicy_RESTART_POLICY_ON_FAILURE, shoalv1.RestartPolicy_RESTART_POLICY_NEVER:
			errs = append(errs, field.NotSupported(specPath.Child("restart_policy"), rp.String(),
				[]string{shoalv1.RestartPolicy_RESTART_POLICY_ALWAYS.String()}))
		}
	}
	if minReady < 0 {
		errs = append(errs, field.Invalid(p.Child("min_ready_seconds"), minReady, mustBeNonNegative))
	}
	return errs
}

func validateDeploymentSpec(spec *shoalv1.DeploymentSpec, p *field.Path) field.ErrorList {
	if spec == nil {
		spec = &shoalv1.DeploymentSpec{}
	}
	errs := validateWorkload(spec.Replicas, spec.GetSelector(), spec.GetTemplate(), spec.GetMinReadySeconds(), p)
	sp := p.Child("strategy")
	st := spec.GetStrategy()
	switch st.GetType() {
	case shoalv1.DeploymentStrategyType_DEPLOYMENT_STRATEGY_TYPE_RECREATE:
		if st.GetRollingUpdate() != nil {
			errs = append(errs, field.Forbidden(sp.Child("rolling_update"), "may not be specified when type is DEPLOYMENT_STRATEGY_TYPE_RECREATE"))
		}
	case shoalv1.DeploymentStrategyType_DEPLOYMENT_STRATEGY_TYPE_ROLLING_UPDATE, shoalv1.DeploymentStrategyType_DEPLOYMENT_STRATEGY_TYPE_UNSPECIFIED:
		if ru := st.GetRollingUpdate(); ru != nil {
			rp := sp.Child("rolling_update")
			unavailable, uerrs := intOrPercent(ru.GetMaxUnavailable(), rp.Child("max_unavailable"))
			surge, serrs := intOrPercent(ru.GetMaxSurge(), rp.Child("max_surge"))
			errs = append(errs, uerrs...)
			errs = append(errs, serrs...)
			if len(uerrs) == 0 && len(serrs) == 0 && unavailable == 0 && surge == 0 {
				errs = append(errs, field.Invalid(rp.Child("max_unavailable"), 0, "may not be 0 when max_surge is 0"))
			}
		}
	}
	if n := spec.RevisionHistoryLimit; n != nil && *n < 0 {
		errs = append(errs, field.Invalid(p.Child("revision_history_limit"), *n, mustBeNonNegative))
	}
	if n := spec.ProgressDeadlineSeconds; n != nil && *n <= spec.GetMinReadySeconds() {
		errs = append(errs, field.Invalid(p.Child("progress_deadline_seconds"), *n, "must be greater than min_ready_seconds"))
	}
	return errs
}

var percentRE = regexp.MustCompile(`^([0-9]+)%$`)

// intOrPercent checks a count (>= 0) or a percentage "N%" (0 <= N <= 100) and
// returns its value, or -1 when unset (the default, 25%, is not zero).
func intOrPercent(v *shoalv1.IntOrString, p *field.Path) (int64, field.ErrorList) {
	switch x := v.GetValue().(type) {
	case *shoalv1.IntOrString_IntValue:
		if x.IntValue < 0 {
			return 0, field.ErrorList{field.Invalid(p, x.IntValue, mustBeNonNegative)}
		}
		return int64(x.IntValue), nil
	case *shoalv1.IntOrString_StrValue:
		m := percentRE.FindStringSubmatch(x.StrValue)
		if m == nil {
			return 0, field.ErrorList{field.Invalid(p, x.StrValue, `must be an integer or a percentage ("25%")`)}
		}
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || n > 100 {
			return 0, field.ErrorList{field.Invalid(p, x.StrValue, "must not be greater than 100%")}
		}
		return n, nil
	}
	return -1, nil
}
