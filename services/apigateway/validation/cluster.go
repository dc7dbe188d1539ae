package validation

import (
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

func validateNodeSpec(spec *shoalv1.NodeSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	type taintKey struct {
		key    string
		effect shoalv1.TaintEffect
	}
	seen := map[taintKey]bool{}
	for i, t := range spec.GetTaints() {
		tp := p.Child("taints").Index(i)
		errs = append(errs, qualifiedName(t.GetKey(), tp.Child("key"))...)
		errs = append(errs, labelValue(t.GetValue(), tp.Child("value"))...)
		if t.GetEffect() == shoalv1.TaintEffect_TAINT_EFFECT_UNSPECIFIED {
			errs = append(errs, field.Required(tp.Child("effect"), ""))
		}
		k := taintKey{t.GetKey(), t.GetEffect()}
		if seen[k] {
			errs = append(errs, field.Duplicate(tp, t.GetKey()+":"+t.GetEffect().String()))
		}
		seen[k] = true
	}
	if cidr := spec.GetPodCidr(); cidr != "" {
		errs = append(errs, validation.IsValidCIDR(p.Child("pod_cidr"), cidr)...)
	}
	return errs
}

func validateLeaseSpec(spec *shoalv1.LeaseSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if n := spec.GetLeaseDurationSeconds(); n < 0 {
		errs = append(errs, field.Invalid(p.Child("lease_duration_seconds"), n, mustBeNonNegative))
	}
	if n := spec.GetLeaseTransitions(); n < 0 {
		errs = append(errs, field.Invalid(p.Child("lease_transitions"), n, mustBeNonNegative))
	}
	return errs
}

func validateEventSpec(spec *shoalv1.EventSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	op := p.Child("involved_object")
	if spec.GetInvolvedObject().GetKind() == "" {
		errs = append(errs, field.Required(op.Child("kind"), ""))
	}
	if spec.GetInvolvedObject().GetName() == "" {
		errs = append(errs, field.Required(op.Child("name"), ""))
	}
	if n := spec.GetCount(); n < 0 {
		errs = append(errs, field.Invalid(p.Child("count"), n, mustBeNonNegative))
	}
	return errs
}

func validateResourceQuotaSpec(spec *shoalv1.ResourceQuotaSpec, p *field.Path) field.ErrorList {
	return validateQuotaResources(spec.GetHard(), p.Child("hard"))
}

// validateQuotaResources requires every set amount to be non-negative.
func validateQuotaResources(q *shoalv1.QuotaResources, p *field.Path) field.ErrorList {
	if q == nil {
		return nil
	}
	var errs field.ErrorList
	for _, a := range []struct {
		name  string
		value *int64
	}{
		{"pods", q.Pods},
		{"cpu_millis", q.CpuMillis},
		{"memory_bytes", q.MemoryBytes},
		{"services", q.Services},
	} {
		if a.value != nil && *a.value < 0 {
			errs = append(errs, field.Invalid(p.Child(a.name), *a.value, mustBeNonNegative))
		}
	}
	return errs
}
