package selector

import (
	"testing"
)

// FuzzParseLabels checks that ParseLabels never panics and that a parsed
// selector's String() is canonical: it parses again to the same string.
func FuzzParseLabels(f *testing.F) {
	for _, s := range []string{
		"", "app=web", "app=web,tier!=db,env in (a,b),!canary", "x notin ()", "x>1,y<2",
		"a==b", "example.com/k in (v1, v2 ,v3)", "!a,!b", "a=", "a in (,)", "a,b,c",
		"a=b,a=c", "  a  =  b  ", "a=b=c", "a in (b", "(", "!", "a!=", "a>01",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := ParseLabels(s)
		if err != nil {
			return
		}
		canon := sel.String()
		again, err := ParseLabels(canon)
		if err != nil {
			t.Fatalf("ParseLabels(%q) ok, but its String() %q does not parse: %v", s, canon, err)
		}
		if got := again.String(); got != canon {
			t.Fatalf("round trip of %q: %q then %q", s, canon, got)
		}
	})
}

// FuzzParseFields is FuzzParseLabels for field selectors.
func FuzzParseFields(f *testing.F) {
	for _, s := range []string{
		"", "metadata.name=a", "spec.node_name==n1,status.phase!=x", `metadata.name=a\,b\=c\\`,
		"metadata.name=", ",", "a=b", `metadata.name=\`, "metadata.name!==x", "status.phase=a,,spec.node_name=b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := ParseFields(s, podFields)
		if err != nil {
			return
		}
		canon := sel.String()
		again, err := ParseFields(canon, podFields)
		if err != nil {
			t.Fatalf("ParseFields(%q) ok, but its String() %q does not parse: %v", s, canon, err)
		}
		if got := again.String(); got != canon {
			t.Fatalf("round trip of %q: %q then %q", s, canon, got)
		}
	})
}
