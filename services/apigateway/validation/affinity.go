package validation

import (
	"slices"
	"strconv"

	"k8s.io/apimachinery/pkg/util/validation/field"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/selector"
)

// nodeFieldKeys are the node fields a match_fields requirement may name.
var nodeFieldKeys = []string{"metadata.name"}

func validateAffinity(a *shoalv1.Affinity, p *field.Path) field.ErrorList {
	if a == nil {
		return nil
	}
	var errs field.ErrorList
	if na := a.GetNodeAffinity(); na != nil {
		np := p.Child("node_affinity")
		if req := na.GetRequiredDuringSchedulingIgnoredDuringExecution(); req != nil {
			rp := np.Child("required_during_scheduling_ignored_during_execution", "node_selector_terms")
			if len(req.GetNodeSelectorTerms()) == 0 {
				errs = append(errs, field.Required(rp, "at least one node selector term is required"))
			}
			for i, t := range req.GetNodeSelectorTerms() {
				errs = append(errs, validateNodeSelectorTerm(t, rp.Index(i))...)
			}
		}
		for i, t := range na.GetPreferredDuringSchedulingIgnoredDuringExecution() {
			tp := np.Child("preferred_during_scheduling_ignored_during_execution").Index(i)
			errs = append(errs, validateWeight(t.GetWeight(), tp.Child("weight"))...)
			if t.GetPreference() == nil {
				errs = append(errs, field.Required(tp.Child("preference"), ""))
			} else {
				errs = append(errs, validateNodeSelectorTerm(t.GetPreference(), tp.Child("preference"))...)
			}
		}
	}
	if pa := a.GetPodAffinity(); pa != nil {
		errs = append(errs, validatePodAffinityTerms(pa.GetRequiredDuringSchedulingIgnoredDuringExecution(),
			pa.GetPreferredDuringSchedulingIgnoredDuringExecution(), p.Child("pod_affinity"))...)
	}
	if pa := a.GetPodAntiAffinity(); pa != nil {
		errs = append(errs, validatePodAffinityTerms(pa.GetRequiredDuringSchedulingIgnoredDuringExecution(),
			pa.GetPreferredDuringSchedulingIgnoredDuringExecution(), p.Child("pod_anti_affinity"))...)
	}
	return errs
}

func validateWeight(w int32, p *field.Path) field.ErrorList {
	if w < 1 || w > 100 {
		return field.ErrorList{field.Invalid(p, w, "must be in the range 1-100")}
	}
	return nil
}

func validateNodeSelectorTerm(t *shoalv1.NodeSelectorTerm, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, r := range t.GetMatchExpressions() {
		rp := p.Child("match_expressions").Index(i)
		errs = append(errs, qualifiedName(r.GetKey(), rp.Child("key"))...)
		errs = append(errs, validateNodeSelectorRequirement(r, rp)...)
	}
	for i, r := range t.GetMatchFields() {
		rp := p.Child("match_fields").Index(i)
		if !slices.Contains(nodeFieldKeys, r.GetKey()) {
			errs = append(errs, field.NotSupported(rp.Child("key"), r.GetKey(), nodeFieldKeys))
		}
		errs = append(errs, validateNodeSelectorRequirement(r, rp)...)
	}
	return errs
}

// validateNodeSelectorRequirement checks operator and values: IN/NOT_IN need
// values, EXISTS/DOES_NOT_EXIST take none, GT/LT take exactly one integer.
func validateNodeSelectorRequirement(r *shoalv1.NodeSelectorRequirement, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	vp := p.Child("values")
	switch r.GetOperator() {
	case shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_UNSPECIFIED:
		errs = append(errs, field.Required(p.Child("operator"), ""))
	case shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_IN, shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_NOT_IN:
		if len(r.GetValues()) == 0 {
			errs = append(errs, field.Required(vp, "must be specified when operator is IN or NOT_IN"))
		}
	case shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_EXISTS, shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_DOES_NOT_EXIST:
		if len(r.GetValues()) > 0 {
			errs = append(errs, field.Forbidden(vp, "may not be specified when operator is EXISTS or DOES_NOT_EXIST"))
		}
	case shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_GT, shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_LT:
		switch len(r.GetValues()) {
		case 0:
			errs = append(errs, field.Required(vp, "must have exactly one value when operator is GT or LT"))
		case 1:
			if _, err := strconv.ParseInt(r.GetValues()[0], 10, 64); err != nil {
				errs = append(errs, field.Invalid(vp.Index(0), r.GetValues()[0], "must be an integer when operator is GT or LT"))
			}
		default:
			errs = append(errs, field.Invalid(vp, r.GetValues(), "must have exactly one value when operator is GT or LT"))
		}
	}
	return errs
}

func validatePodAffinityTerms(required []*shoalv1.PodAffinityTerm, preferred []*shoalv1.WeightedPodAffinityTerm, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, t := range required {
		errs = append(errs, validatePodAffinityTerm(t, p.Child("required_during_scheduling_ignored_during_execution").Index(i))...)
	}
	for i, w := range preferred {
		wp := p.Child("preferred_during_scheduling_ignored_during_execution").Index(i)
		errs = append(errs, validateWeight(w.GetWeight(), wp.Child("weight"))...)
		if w.GetPodAffinityTerm() == nil {
			errs = append(errs, field.Required(wp.Child("pod_affinity_term"), ""))
		} else {
			errs = append(errs, validatePodAffinityTerm(w.GetPodAffinityTerm(), wp.Child("pod_affinity_term"))...)
		}
	}
	return errs
}

func validatePodAffinityTerm(t *shoalv1.PodAffinityTerm, p *field.Path) field.ErrorList {
	errs := selector.ValidateLabelSelector(t.GetLabelSelector(), p.Child("label_selector"))
	for i, ns := range t.GetNamespaces() {
		errs = append(errs, requiredName(isLabel, ns, p.Child("namespaces").Index(i))...)
	}
	errs = append(errs, qualifiedName(t.GetTopologyKey(), p.Child("topology_key"))...)
	return errs
}
