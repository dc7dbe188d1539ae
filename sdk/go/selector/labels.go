package selector

import (
	"fmt"
	"sort"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"k8s.io/apimachinery/pkg/api/validate/content"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/validation/field"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

// ParseLabels parses a label selector in the Kubernetes string syntax:
// comma-separated requirements, each one of "k=v", "k==v", "k!=v",
// "k in (a,b)", "k notin (a,b)", "k" (exists), "!k" (does not exist),
// "k>n" or "k<n". Keys must be qualified names and values valid label values.
// An empty (or all-blank) string selects everything.
func ParseLabels(s string) (labels.Selector, error) {
	if strings.TrimSpace(s) == "" {
		return labels.Everything(), nil
	}
	sel, err := labels.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("invalid label selector %q: %w", s, err)
	}
	return sel, nil
}

// FromLabelSelector turns a structured LabelSelector into a labels.Selector.
// A nil or empty selector selects everything. The selector is validated
// first (see ValidateLabelSelector); the error then lists every problem, with
// paths relative to the selector ("match_expressions[0].values").
func FromLabelSelector(ls *shoalv1.LabelSelector) (labels.Selector, error) {
	if errs := ValidateLabelSelector(ls, nil); len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	if len(ls.GetMatchLabels()) == 0 && len(ls.GetMatchExpressions()) == 0 {
		return labels.Everything(), nil
	}
	reqs := make([]labels.Requirement, 0, len(ls.GetMatchLabels())+len(ls.GetMatchExpressions()))
	for _, k := range sortedKeys(ls.GetMatchLabels()) {
		r, err := labels.NewRequirement(k, selection.Equals, []string{ls.GetMatchLabels()[k]})
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, *r)
	}
	for _, e := range ls.GetMatchExpressions() {
		op, ok := operators[e.GetOperator()]
		if !ok { // unreachable after validation
			return nil, fmt.Errorf("label selector: unsupported operator %v", e.GetOperator())
		}
		vals := e.GetValues()
		if op == selection.Exists || op == selection.DoesNotExist {
			vals = nil
		}
		r, err := labels.NewRequirement(e.GetKey(), op, vals)
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, *r)
	}
	return labels.NewSelector().Add(reqs...), nil
}

// Matches reports whether a set of labels satisfies a structured selector. A
// nil or empty selector matches every set; an invalid selector is an error.
func Matches(ls *shoalv1.LabelSelector, set map[string]string) (bool, error) {
	sel, err := FromLabelSelector(ls)
	if err != nil {
		return false, err
	}
	return sel.Matches(labels.Set(set)), nil
}

var operators = map[shoalv1.LabelSelectorOperator]selection.Operator{
	shoalv1.LabelSelectorOperator_LABEL_SELECTOR_OPERATOR_IN:             selection.In,
	shoalv1.LabelSelectorOperator_LABEL_SELECTOR_OPERATOR_NOT_IN:         selection.NotIn,
	shoalv1.LabelSelectorOperator_LABEL_SELECTOR_OPERATOR_EXISTS:         selection.Exists,
	shoalv1.LabelSelectorOperator_LABEL_SELECTOR_OPERATOR_DOES_NOT_EXIST: selection.DoesNotExist,
}

// ValidateLabelSelector checks a structured selector and reports every
// problem under path (nil: paths relative to the selector):
//
//   - match_labels: a bad key is Invalid at <path>.match_labels (the bad
//     value is the key), a bad value Invalid at <path>.match_labels[key];
//   - match_expressions[i].key: Required when empty, Invalid when not a
//     qualified name;
//   - match_expressions[i].operator: Required when UNSPECIFIED, NotSupported
//     when the number is not a defined LabelSelectorOperator;
//   - match_expressions[i].values: Required for IN/NOT_IN when empty,
//     Forbidden for EXISTS/DOES_NOT_EXIST when not empty; values[j] Invalid
//     when not a valid label value.
//
// A nil selector is valid.
func ValidateLabelSelector(ls *shoalv1.LabelSelector, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if ls == nil {
		return nil
	}
	errs = append(errs, ValidateLabels(ls.GetMatchLabels(), path.Child("match_labels"))...)
	for i, e := range ls.GetMatchExpressions() {
		p := path.Child("match_expressions").Index(i)
		switch k := e.GetKey(); {
		case k == "":
			errs = append(errs, field.Required(p.Child("key"), ""))
		default:
			if msgs := content.IsLabelKey(k); len(msgs) > 0 {
				errs = append(errs, field.Invalid(p.Child("key"), k, strings.Join(msgs, "; ")))
			}
		}
		vp := p.Child("values")
		switch op := e.GetOperator(); op {
		case shoalv1.LabelSelectorOperator_LABEL_SELECTOR_OPERATOR_IN,
			shoalv1.LabelSelectorOperator_LABEL_SELECTOR_OPERATOR_NOT_IN:
			if len(e.GetValues()) == 0 {
				errs = append(errs, field.Required(vp, "must be specified when operator is IN or NOT_IN"))
			}
		case shoalv1.LabelSelectorOperator_LABEL_SELECTOR_OPERATOR_EXISTS,
			shoalv1.LabelSelectorOperator_LABEL_SELECTOR_OPERATOR_DOES_NOT_EXIST:
			if len(e.GetValues()) > 0 {
				errs = append(errs, field.Forbidden(vp, "may not be specified when operator is EXISTS or DOES_NOT_EXIST"))
			}
		case shoalv1.LabelSelectorOperator_LABEL_SELECTOR_OPERATOR_UNSPECIFIED:
			errs = append(errs, field.Required(p.Child("operator"), "must be IN, NOT_IN, EXISTS or DOES_NOT_EXIST"))
		default:
			errs = append(errs, UndefinedEnum(p.Child("operator"), op.Descriptor(), protoreflect.EnumNumber(op)))
		}
		for j, v := range e.GetValues() {
			if msgs := content.IsLabelValue(v); len(msgs) > 0 {
				errs = append(errs, field.Invalid(vp.Index(j), v, strings.Join(msgs, "; ")))
			}
		}
	}
	return errs
}

// ValidateLabels checks a label map (metadata labels, match_labels, a node
// selector, a service selector): every key must be a qualified name
// (reported as Invalid at path itself, with the key as the bad value) and
// every value a valid label value (Invalid at path[key]). Keys are visited in
// sorted order so the result is deterministic.
func ValidateLabels(set map[string]string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range sortedKeys(set) {
		if msgs := content.IsLabelKey(k); len(msgs) > 0 {
			errs = append(errs, field.Invalid(path, k, strings.Join(msgs, "; ")))
		}
		if msgs := content.IsLabelValue(set[k]); len(msgs) > 0 {
			errs = append(errs, field.Invalid(path.Key(k), set[k], strings.Join(msgs, "; ")))
		}
	}
	return errs
}

// UndefinedEnum is the error for an enum field holding a number its enum does
// not define (proto3 accepts any number on the wire): NotSupported at path,
// with the number as the bad value and every defined value name as the
// supported values. The validation of every Shoal object reports undefined
// enums this way.
func UndefinedEnum(path *field.Path, ed protoreflect.EnumDescriptor, n protoreflect.EnumNumber) *field.Error {
	vals := ed.Values()
	names := make([]string, 0, vals.Len())
	for i := 0; i < vals.Len(); i++ {
		names = append(names, string(vals.Get(i).Name()))
	}
	return field.NotSupported(path, int32(n), names)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
