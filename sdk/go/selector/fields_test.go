package selector

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/fields"
)

var podFields = []string{"metadata.name", "metadata.namespace", "spec.node_name", "status.phase"}

func TestParseFields(t *testing.T) {
	pod := fields.Set{"metadata.name": "web-1", "metadata.namespace": "default", "spec.node_name": "n1", "status.phase": "POD_PHASE_RUNNING"}
	tests := []struct {
		name      string
		in        string
		allowed   []string
		want      string // String() of the selector
		match     bool
		errSubstr []string // all must appear in the error
	}{
		{name: "empty", in: "", allowed: podFields, want: "", match: true},
		{name: "blank", in: "  ", allowed: podFields, want: "", match: true},
		{name: "equals", in: "spec.node_name=n1", allowed: podFields, want: "spec.node_name=n1", match: true},
		{name: "double equals", in: "spec.node_name==n2", allowed: podFields, want: "spec.node_name=n2", match: false},
		{name: "not equals", in: "status.phase!=POD_PHASE_SUCCEEDED", allowed: podFields, want: "status.phase!=POD_PHASE_SUCCEEDED", match: true},
		{name: "several terms", in: "spec.node_name=n1,metadata.name!=web-1", allowed: podFields, want: "metadata.name!=web-1,spec.node_name=n1", match: false},
		{name: "empty value selects unset", in: "spec.node_name=", allowed: podFields, want: "spec.node_name=", match: false},
		{name: "escaped value", in: `metadata.name=a\,b\=c`, allowed: podFields, want: `metadata.name=a\,b\=c`, match: false},
		{
			name: "unknown field", in: "spec.node_name=n1,spec.hostname=x", allowed: podFields,
			errSubstr: []string{`unknown field "spec.hostname"`, "metadata.name, metadata.namespace, spec.node_name, status.phase"},
		},
		{name: "nil allowed rejects every field", in: "metadata.name=x", allowed: nil, errSubstr: []string{`unknown field "metadata.name"`}},
		{name: "no operator", in: "spec.node_name", allowed: podFields, errSubstr: []string{"invalid field selector"}},
		{name: "set operator unsupported", in: "spec.node_name in (a)", allowed: podFields, errSubstr: []string{"invalid field selector"}},
		{name: "bad escape", in: `metadata.name=a\b`, allowed: podFields, errSubstr: []string{"invalid escape sequence"}},
		{name: "unescaped equals in value", in: `metadata.name=a=b`, allowed: podFields, errSubstr: []string{"unescaped character"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sel, err := ParseFields(tc.in, tc.allowed)
			if len(tc.errSubstr) > 0 {
				if err == nil {
					t.Fatalf("ParseFields(%q) = %q, want an error", tc.in, sel)
				}
				for _, s := range tc.errSubstr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFields(%q): %v", tc.in, err)
			}
			if got := sel.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			if got := sel.Matches(pod); got != tc.match {
				t.Errorf("Matches = %v, want %v", got, tc.match)
			}
		})
	}
}
