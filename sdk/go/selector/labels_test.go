package selector

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

func TestParseLabels(t *testing.T) {
	web := labels.Set{"app": "web", "tier": "front", "env": "a"}
	db := labels.Set{"app": "web", "tier": "db", "env": "a"}
	canary := labels.Set{"app": "web", "tier": "front", "env": "b", "canary": "yes"}
	tests := []struct {
		name    string
		in      string
		wantErr bool
		// want is the canonical String() of the parsed selector.
		want  string
		match map[string]bool // "web", "db", "canary" -> expected Matches
	}{
		{name: "empty selects everything", in: "", want: "", match: map[string]bool{"web": true, "db": true, "canary": true}},
		{name: "blank selects everything", in: "   ", want: "", match: map[string]bool{"web": true, "db": true, "canary": true}},
		{name: "equality", in: "app=web", want: "app=web", match: map[string]bool{"web": true, "db": true, "canary": true}},
		{name: "double equals", in: "tier==db", want: "tier==db", match: map[string]bool{"web": false, "db": true, "canary": false}},
		{
			name: "design example", in: "app=web,tier!=db,env in (a,b),!canary",
			want:  "app=web,!canary,env in (a,b),tier!=db",
			match: map[string]bool{"web": true, "db": false, "canary": false},
		},
		{name: "notin", in: "env notin (b)", want: "env notin (b)", match: map[string]bool{"web": true, "db": true, "canary": false}},
		{name: "exists", in: "canary", want: "canary", match: map[string]bool{"web": false, "db": false, "canary": true}},
		{name: "spaces around terms", in: " app = web , tier != db ", want: "app=web,tier!=db", match: map[string]bool{"web": true, "db": false, "canary": true}},
		{name: "prefixed key", in: "example.com/team=x", want: "example.com/team=x", match: map[string]bool{"web": false}},
		{name: "gt", in: "replicas>2", want: "replicas>2", match: map[string]bool{"web": false}},
		{name: "bad key", in: "-app=web", wantErr: true},
		{name: "bad value", in: "app=we b", wantErr: true},
		{name: "value too long", in: "app=" + strings.Repeat("a", 64), wantErr: true},
		{name: "unclosed set", in: "env in (a,b", wantErr: true},
		{name: "missing value after in", in: "env in", wantErr: true},
		{name: "dangling comma", in: "app=web,", wantErr: true},
		{name: "gt needs an integer", in: "replicas>two", wantErr: true},
		{name: "triple operator", in: "a==b==c", wantErr: true},
	}
	sets := map[string]labels.Set{"web": web, "db": db, "canary": canary}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sel, err := ParseLabels(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ParseLabels(%q) = %q, want an error", tc.in, sel)
				}
				if !strings.Contains(err.Error(), "invalid label selector") {
					t.Errorf("error %q does not say what was invalid", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseLabels(%q): %v", tc.in, err)
			}
			if got := sel.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			for name, want := range tc.match {
				if got := sel.Matches(sets[name]); got != want {
					t.Errorf("Matches(%s) = %v, want %v", name, got, want)
				}
			}
		})
	}
}

func req(key string, op shoalv1.LabelSelectorOperator, values ...string) *shoalv1.LabelSelectorRequirement {
	return &shoalv1.LabelSelectorRequirement{Key: key, Operator: op, Values: values}
}

const (
	opIn     = shoalv1.LabelSelectorOperator_LABEL_SELECTOR_OPERATOR_IN
	opNotIn  = shoalv1.LabelSelectorOperator_LABEL_SELECTOR_OPERATOR_NOT_IN
	opExists = shoalv1.LabelSelectorOperator_LABEL_SELECTOR_OPERATOR_EXISTS
	opDNE    = shoalv1.LabelSelectorOperator_LABEL_SELECTOR_OPERATOR_DOES_NOT_EXIST
	opUnset  = shoalv1.LabelSelectorOperator_LABEL_SELECTOR_OPERATOR_UNSPECIFIED
)

// errStrings renders errors as "<type> <path>" for exact comparison.
func errStrings(errs field.ErrorList) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, fmt.Sprintf("%s %s", e.Type, e.Field))
	}
	slices.Sort(out)
	return out
}

func TestFromLabelSelector(t *testing.T) {
	tests := []struct {
		name string
		ls   *shoalv1.LabelSelector
		// wantErrs are "<type> <path>" of ValidateLabelSelector(ls, spec.selector).
		wantErrs []string
		want     string // String() of the selector when valid
		matches  map[string]string
		noMatch  map[string]string
	}{
		{name: "nil matches everything", ls: nil, want: "", matches: map[string]string{"x": "y"}},
		{name: "empty matches everything", ls: &shoalv1.LabelSelector{}, want: "", matches: map[string]string{}},
		{
			name:    "match labels",
			ls:      &shoalv1.LabelSelector{MatchLabels: map[string]string{"app": "web", "tier": "front"}},
			want:    "app=web,tier=front",
			matches: map[string]string{"app": "web", "tier": "front", "x": "y"},
			noMatch: map[string]string{"app": "web"},
		},
		{
			name: "every operator",
			ls: &shoalv1.LabelSelector{
				MatchLabels: map[string]string{"app": "web"},
				MatchExpressions: []*shoalv1.LabelSelectorRequirement{
					req("env", opIn, "a", "b"),
					req("tier", opNotIn, "db"),
					req("track", opExists),
					req("canary", opDNE),
				},
			},
			want:    "app=web,!canary,env in (a,b),tier notin (db),track",
			matches: map[string]string{"app": "web", "env": "b", "tier": "front", "track": "stable"},
			noMatch: map[string]string{"app": "web", "env": "b", "tier": "front", "track": "stable", "canary": ""},
		},
		{
			name:     "bad match label key and value",
			ls:       &shoalv1.LabelSelector{MatchLabels: map[string]string{"-bad": "ok", "good": "not ok"}},
			wantErrs: []string{"Invalid value spec.selector.match_labels", "Invalid value spec.selector.match_labels[good]"},
		},
		{
			name:     "in without values",
			ls:       &shoalv1.LabelSelector{MatchExpressions: []*shoalv1.LabelSelectorRequirement{req("env", opIn)}},
			wantErrs: []string{"Required value spec.selector.match_expressions[0].values"},
		},
		{
			name:     "notin without values",
			ls:       &shoalv1.LabelSelector{MatchExpressions: []*shoalv1.LabelSelectorRequirement{req("env", opExists), req("env", opNotIn)}},
			wantErrs: []string{"Required value spec.selector.match_expressions[1].values"},
		},
		{
			name:     "exists with values",
			ls:       &shoalv1.LabelSelector{MatchExpressions: []*shoalv1.LabelSelectorRequirement{req("env", opExists, "a")}},
			wantErrs: []string{"Forbidden spec.selector.match_expressions[0].values"},
		},
		{
			name:     "does not exist with values",
			ls:       &shoalv1.LabelSelector{MatchExpressions: []*shoalv1.LabelSelectorRequirement{req("env", opDNE, "a")}},
			wantErrs: []string{"Forbidden spec.selector.match_expressions[0].values"},
		},
		{
			name:     "unspecified operator",
			ls:       &shoalv1.LabelSelector{MatchExpressions: []*shoalv1.LabelSelectorRequirement{req("env", opUnset)}},
			wantErrs: []string{"Required value spec.selector.match_expressions[0].operator"},
		},
		{
			name:     "undefined operator",
			ls:       &shoalv1.LabelSelector{MatchExpressions: []*shoalv1.LabelSelectorRequirement{req("env", 42)}},
			wantErrs: []string{"Unsupported value spec.selector.match_expressions[0].operator"},
		},
		{
			name:     "empty key",
			ls:       &shoalv1.LabelSelector{MatchExpressions: []*shoalv1.LabelSelectorRequirement{req("", opExists)}},
			wantErrs: []string{"Required value spec.selector.match_expressions[0].key"},
		},
		{
			name:     "bad key",
			ls:       &shoalv1.LabelSelector{MatchExpressions: []*shoalv1.LabelSelectorRequirement{req("a/b/c", opExists)}},
			wantErrs: []string{"Invalid value spec.selector.match_expressions[0].key"},
		},
		{
			name:     "bad value",
			ls:       &shoalv1.LabelSelector{MatchExpressions: []*shoalv1.LabelSelectorRequirement{req("env", opIn, "ok", "not ok")}},
			wantErrs: []string{"Invalid value spec.selector.match_expressions[0].values[1]"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := errStrings(ValidateLabelSelector(tc.ls, field.NewPath("spec", "selector")))
			if !slices.Equal(got, tc.wantErrs) && !(len(got) == 0 && len(tc.wantErrs) == 0) {
				t.Errorf("ValidateLabelSelector errors = %q, want %q", got, tc.wantErrs)
			}
			sel, err := FromLabelSelector(tc.ls)
			if len(tc.wantErrs) > 0 {
				if err == nil {
					t.Fatalf("FromLabelSelector = %q, want an error", sel)
				}
				return
			}
			if err != nil {
				t.Fatalf("FromLabelSelector: %v", err)
			}
			if got := sel.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			if tc.matches != nil && !sel.Matches(labels.Set(tc.matches)) {
				t.Errorf("selector %q does not match %v", sel, tc.matches)
			}
			if tc.noMatch != nil && sel.Matches(labels.Set(tc.noMatch)) {
				t.Errorf("selector %q matches %v", sel, tc.noMatch)
			}
			// The structured form and the string form agree.
			again, err := ParseLabels(sel.String())
			if err != nil || again.String() != sel.String() {
				t.Errorf("ParseLabels(%q) = %v, %v", sel.String(), again, err)
			}
		})
	}
}

func TestFromLabelSelectorErrorNamesPath(t *testing.T) {
	_, err := FromLabelSelector(&shoalv1.LabelSelector{MatchExpressions: []*shoalv1.LabelSelectorRequirement{req("env", opIn)}})
	if err == nil || !strings.Contains(err.Error(), "match_expressions[0].values") {
		t.Fatalf("error %v does not name match_expressions[0].values", err)
	}
}

func TestMatches(t *testing.T) {
	ls := &shoalv1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	if ok, err := Matches(ls, map[string]string{"app": "web"}); err != nil || !ok {
		t.Errorf("Matches(app=web) = %v, %v; want true", ok, err)
	}
	if ok, err := Matches(ls, map[string]string{"app": "db"}); err != nil || ok {
		t.Errorf("Matches(app=db) = %v, %v; want false", ok, err)
	}
	if ok, err := Matches(nil, nil); err != nil || !ok {
		t.Errorf("Matches(nil, nil) = %v, %v; want true", ok, err)
	}
	bad := &shoalv1.LabelSelector{MatchExpressions: []*shoalv1.LabelSelectorRequirement{req("env", opUnset)}}
	if _, err := Matches(bad, nil); err == nil {
		t.Error("Matches with an invalid selector: want an error")
	}
}

func TestValidateLabels(t *testing.T) {
	p := field.NewPath("metadata", "labels")
	got := errStrings(ValidateLabels(map[string]string{
		"ok":                      "fine",
		"example.com/ok":          "",
		"UPPER_and.dots-ok":       "v",
		"bad key":                 "v",
		"ok2":                     "-bad-",
		"example.com/" + "x/y":    "v",
		strings.Repeat("k", 64):   "v",
		"toolongvalue":            strings.Repeat("v", 64),
		"example..com/bad-prefix": "v",
	}, p))
	want := []string{
		"Invalid value metadata.labels",
		"Invalid value metadata.labels",
		"Invalid value metadata.labels",
		"Invalid value metadata.labels",
		"Invalid value metadata.labels[ok2]",
		"Invalid value metadata.labels[toolongvalue]",
	}
	if !slices.Equal(got, want) {
		t.Errorf("ValidateLabels = %q, want %q", got, want)
	}
}
