package validation

import (
	"path"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/validate/content"
	"k8s.io/apimachinery/pkg/util/validation/field"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/selector"
)

const (
	mustBeNonNegative = "must be greater than or equal to 0"
	immutable         = "field is immutable"
)

// validatePodSpec checks a pod spec, of a Pod or of a pod template.
func validatePodSpec(spec *shoalv1.PodSpec, p *field.Path) field.ErrorList {
	if spec == nil {
		spec = &shoalv1.PodSpec{}
	}
	var errs field.ErrorList
	volumes, verrs := validateVolumes(spec.GetVolumes(), p.Child("volumes"))
	errs = append(errs, verrs...)
	if len(spec.GetContainers()) == 0 {
		errs = append(errs, field.Required(p.Child("containers"), "at least one container is required"))
	}
	errs = append(errs, validateContainers(spec.GetContainers(), volumes, p.Child("containers"))...)
	errs = append(errs, optionalName(isSubdomain, spec.GetNodeName(), p.Child("node_name"))...)
	errs = append(errs, selector.ValidateLabels(spec.GetNodeSelector(), p.Child("node_selector"))...)
	errs = append(errs, validateTolerations(spec.GetTolerations(), p.Child("tolerations"))...)
	errs = append(errs, validateAffinity(spec.GetAffinity(), p.Child("affinity"))...)
	if g := spec.TerminationGracePeriodSeconds; g != nil && *g < 0 {
		errs = append(errs, field.Invalid(p.Child("termination_grace_period_seconds"), *g, mustBeNonNegative))
	}
	errs = append(errs, optionalName(isLabel, spec.GetHostname(), p.Child("hostname"))...)
	return errs
}

// validateVolumes checks the pod's volumes and returns the set of their
// names, for the containers' volume mounts.
func validateVolumes(volumes []*shoalv1.Volume, p *field.Path) (map[string]bool, field.ErrorList) {
	var errs field.ErrorList
	names := map[string]bool{}
	for i, v := range volumes {
		vp := p.Index(i)
		if name := v.GetName(); name != "" && names[name] {
			errs = append(errs, field.Duplicate(vp.Child("name"), name))
		} else {
			errs = append(errs, requiredName(isLabel, name, vp.Child("name"))...)
			names[name] = true
		}
		switch v.GetSource().(type) {
		case *shoalv1.Volume_EmptyDir:
			if n := v.GetEmptyDir().GetSizeLimitBytes(); n < 0 {
				errs = append(errs, field.Invalid(vp.Child("empty_dir", "size_limit_bytes"), n, mustBeNonNegative))
			}
		case *shoalv1.Volume_HostPath:
			pp := vp.Child("host_path", "path")
			switch hp := v.GetHostPath().GetPath(); {
			case hp == "":
				errs = append(errs, field.Required(pp, ""))
			case !path.IsAbs(hp):
				errs = append(errs, field.Invalid(pp, hp, "must be an absolute path"))
			case hasBackstep(hp):
				errs = append(errs, field.Invalid(pp, hp, "must not contain '..'"))
			}
		default:
			errs = append(errs, field.Required(vp, "must specify exactly one source: empty_dir or host_path"))
		}
	}
	return names, errs
}

// hasBackstep reports whether a slash-separated path has a ".." element.
func hasBackstep(p string) bool {
	return slices.Contains(strings.Split(p, "/"), "..")
}

// validateTolerations checks tolerations the way Kubernetes does: an empty
// key matches every taint and so needs EXISTS; EXISTS takes no value; a
// toleration_seconds only makes sense for NO_EXECUTE taints.
func validateTolerations(tolerations []*shoalv1.Toleration, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, t := range tolerations {
		if t == nil {
			t = &shoalv1.Toleration{}
		}
		tp := p.Index(i)
		if t.GetKey() != "" {
			errs = append(errs, qualifiedName(t.GetKey(), tp.Child("key"))...)
		}
		switch op := t.GetOperator(); op {
		case shoalv1.TolerationOperator_TOLERATION_OPERATOR_EXISTS:
			if t.GetValue() != "" {
				errs = append(errs, field.Invalid(tp.Child("value"), t.GetValue(), "must be empty when operator is EXISTS"))
			}
		case shoalv1.TolerationOperator_TOLERATION_OPERATOR_EQUAL, shoalv1.TolerationOperator_TOLERATION_OPERATOR_UNSPECIFIED:
			if t.GetKey() == "" {
				errs = append(errs, field.Invalid(tp.Child("operator"), op.String(), "must be EXISTS when key is empty"))
			}
			errs = append(errs, labelValue(t.GetValue(), tp.Child("value"))...)
		}
		if t.TolerationSeconds != nil && t.GetEffect() != shoalv1.TaintEffect_TAINT_EFFECT_NO_EXECUTE {
			errs = append(errs, field.Invalid(tp.Child("effect"), t.GetEffect().String(),
				"must be TAINT_EFFECT_NO_EXECUTE when toleration_seconds is set"))
		}
	}
	return errs
}

// labelValue checks a value that is compared with label values.
func labelValue(v string, p *field.Path) field.ErrorList {
	if msgs := content.IsLabelValue(v); len(msgs) > 0 {
		return field.ErrorList{field.Invalid(p, v, strings.Join(msgs, "; "))}
	}
	return nil
}
