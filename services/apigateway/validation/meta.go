package validation

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/validate/content"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/sdk/go/selector"
)

// nameFunc checks a name and returns what is wrong with it.
type nameFunc func(string) []string

var (
	isSubdomain = withFastPath(dns1123SubdomainOK, content.IsDNS1123Subdomain)
	isLabel     = withFastPath(dns1123LabelOK, content.IsDNS1123Label)
	isDNS1035   = withFastPath(dns1035LabelOK, validation.IsDNS1035Label)
	isPortName  = withFastPath(portNameOK, validation.IsValidPortName)
)

// objectNameFunc is the rule for metadata.name of a kind: namespaces are
// DNS-1123 labels, services DNS-1035 labels (they become DNS names), and
// everything else DNS-1123 subdomains.
func objectNameFunc(kind kinds.Kind) nameFunc {
	switch kind.Name {
	case "Namespace":
		return isLabel
	case "Service":
		return isDNS1035
	default:
		return isSubdomain
	}
}

// checkName reports Invalid at path when fn rejects a non-empty value.
func checkName(fn nameFunc, value string, path *field.Path) field.ErrorList {
	if msgs := fn(value); len(msgs) > 0 {
		return field.ErrorList{field.Invalid(path, value, strings.Join(msgs, "; "))}
	}
	return nil
}

// requiredName reports Required when value is empty and checks it otherwise.
func requiredName(fn nameFunc, value string, path *field.Path) field.ErrorList {
	if value == "" {
		return field.ErrorList{field.Required(path, "")}
	}
	return checkName(fn, value, path)
}

// optionalName checks value when it is not empty.
func optionalName(fn nameFunc, value string, path *field.Path) field.ErrorList {
	if value == "" {
		return nil
	}
	return checkName(fn, value, path)
}

// qualifiedName checks a label-key-like name: an optional DNS subdomain
// prefix and "/", then at most 63 characters.
func qualifiedName(value string, path *field.Path) field.ErrorList {
	return requiredName(content.IsLabelKey, value, path)
}

// validateObjectMeta checks the metadata of a top-level object of the kind.
// Server-set fields (uid, resource_version, generation, timestamps) are not
// looked at: the gateway overwrites them.
func validateObjectMeta(meta *shoalv1.ObjectMeta, kind kinds.Kind, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	nameFn := objectNameFunc(kind)
	switch name, gen := meta.GetName(), meta.GetGenerateName(); {
	case name != "":
		errs = append(errs, checkName(nameFn, name, path.Child("name"))...)
	case gen == "":
		errs = append(errs, field.Required(path.Child("name"), "name or generate_name is required"))
	}
	if gen := meta.GetGenerateName(); gen != "" {
		// A prefix may end in "-": the random suffix follows it.
		masked := gen
		if strings.HasSuffix(masked, "-") {
			masked = masked[:len(masked)-1] + "a"
		}
		if msgs := nameFn(masked); len(msgs) > 0 {
			errs = append(errs, field.Invalid(path.Child("generate_name"), gen, strings.Join(msgs, "; ")))
		}
	}
	nsPath := path.Child("namespace")
	if kind.Namespaced {
		errs = append(errs, requiredName(isLabel, meta.GetNamespace(), nsPath)...)
	} else if meta.GetNamespace() != "" {
		errs = append(errs, field.Forbidden(nsPath,
			fmt.Sprintf("must be empty: %s is cluster-scoped (wrong namespace scope)", kind.Name)))
	}
	errs = append(errs, validateMetaMaps(meta, path)...)
	errs = append(errs, validateOwnerReferences(meta.GetOwnerReferences(), path.Child("owner_references"))...)
	for i, f := range meta.GetFinalizers() {
		errs = append(errs, qualifiedName(f, path.Child("finalizers").Index(i))...)
	}
	return errs
}

// validateMetaMaps checks labels and annotations, the part of the metadata
// that a pod template carries too.
func validateMetaMaps(meta *shoalv1.ObjectMeta, path *field.Path) field.ErrorList {
	errs := selector.ValidateLabels(meta.GetLabels(), path.Child("labels"))
	return append(errs, validateAnnotations(meta.GetAnnotations(), path.Child("annotations"))...)
}

// validateAnnotations checks annotation keys (qualified names, compared in
// lower case as Kubernetes does) and the total size.
func validateAnnotations(annotations map[string]string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	total := 0
	for _, k := range sortedKeys(annotations) {
		if msgs := content.IsLabelKey(strings.ToLower(k)); len(msgs) > 0 {
			errs = append(errs, field.Invalid(path, k, strings.Join(msgs, "; ")))
		}
		total += len(k) + len(annotations[k])
	}
	if total > MaxAnnotationsBytes {
		errs = append(errs, field.TooLong(path, total, MaxAnnotationsBytes))
	}
	return errs
}

// validateOwnerReferences requires kind, name and uid of every owner and
// allows at most one managing controller.
func validateOwnerReferences(refs []*shoalv1.OwnerReference, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	controller := -1
	for i, r := range refs {
		p := path.Index(i)
		if r.GetKind() == "" {
			errs = append(errs, field.Required(p.Child("kind"), ""))
		}
		if r.GetName() == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		}
		if r.GetUid() == "" {
			errs = append(errs, field.Required(p.Child("uid"), ""))
		}
		if r.GetController() {
			if controller >= 0 {
				errs = append(errs, field.Invalid(p.Child("controller"), true,
					fmt.Sprintf("only one owner reference may be the controller; owner_references[%d] already is", controller)))
			} else {
				controller = i
			}
		}
	}
	return errs
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
