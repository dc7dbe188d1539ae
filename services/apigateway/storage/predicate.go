package storage

import (
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// Predicate selects objects for List and Watch.
type Predicate struct {
	// Namespace restricts to one namespace ("" = all).
	Namespace string
	Labels    labels.Selector
	Fields    fields.Selector
	// FieldSet gives an object's selectable fields; required when Fields is
	// set.
	FieldSet func(kinds.Object) fields.Set
}

// Matches reports whether obj is selected.
func (p Predicate) Matches(obj kinds.Object) bool {
	m := obj.GetMetadata()
	if p.Namespace != "" && m.GetNamespace() != p.Namespace {
		return false
	}
	if p.Labels != nil && !p.Labels.Empty() && !p.Labels.Matches(labels.Set(m.GetLabels())) {
		return false
	}
	if p.Fields != nil && !p.Fields.Empty() && !p.Fields.Matches(p.FieldSet(obj)) {
		return false
	}
	return true
}
