package validation

import (
	"math/rand/v2"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/validate/content"
	"k8s.io/apimachinery/pkg/util/validation"
)

// TestFastPathsAgreeWithApimachinery: each byte-wise check accepts exactly
// the names apimachinery accepts, on hand-picked edge cases and on many
// random names over the characters that matter.
func TestFastPathsAgreeWithApimachinery(t *testing.T) {
	checks := []struct {
		name string
		ok   func(string) bool
		ref  nameFunc
	}{
		{"DNS-1123 label", dns1123LabelOK, content.IsDNS1123Label},
		{"DNS-1035 label", dns1035LabelOK, validation.IsDNS1035Label},
		{"DNS-1123 subdomain", dns1123SubdomainOK, content.IsDNS1123Subdomain},
		{"port name", portNameOK, validation.IsValidPortName},
	}
	cases := []string{"", "a", "0", "-", "a-", "-a", "a-b", "a--b", "A", "a.b", "a..b", ".a", "a.", "a.-b", "a-.b", "1a", "a_b", "é",
		strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("a.", 126) + "a", strings.Repeat("a", 253), strings.Repeat("a", 254),
		"http", "grpc-web", "123", "1-2", "a--b-c", strings.Repeat("a", 15), strings.Repeat("a", 16), "a0-0-0"}
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "ab09-.A_"
	for range 20000 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		cases = append(cases, string(b))
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			for _, s := range cases {
				if got, want := c.ok(s), len(c.ref(s)) == 0; got != want {
					t.Errorf("%q: fast check says %v, apimachinery %v", s, got, want)
				}
			}
		})
	}
}
