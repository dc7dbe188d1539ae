package selector

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/fields"
)

// ParseFields parses a field selector: comma-separated terms "f=v", "f==v"
// (both equality) and "f!=v". In values, ',', '=' and '\' are escaped with a
// backslash (fields.EscapeValue). Every field name must be one of allowed
// (so a nil allowed rejects every non-empty selector); an unknown name is an
// error that names it and lists the allowed ones. An empty string selects
// everything.
func ParseFields(s string, allowed []string) (fields.Selector, error) {
	if strings.TrimSpace(s) == "" {
		return fields.Everything(), nil
	}
	sel, err := fields.ParseSelector(s)
	if err != nil {
		return nil, fmt.Errorf("invalid field selector %q: %w", s, err)
	}
	for _, r := range sel.Requirements() {
		if !slices.Contains(allowed, r.Field) {
			return nil, fmt.Errorf("invalid field selector %q: unknown field %q (supported: %s)",
				s, r.Field, strings.Join(allowed, ", "))
		}
	}
	return sel, nil
}
