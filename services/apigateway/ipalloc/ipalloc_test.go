package ipalloc

import (
	"net/netip"
	"testing"
)

func TestRandomStaysInRange(t *testing.T) {
	for _, cidr := range []string{"10.96.0.0/16", "10.0.0.0/30", "fd00:10:96::/112", "fd00::/64"} {
		a, err := New(cidr)
		if err != nil {
			t.Fatalf("%s: %v", cidr, err)
		}
		for i := 0; i < 2000; i++ {
			ip := a.Random()
			if !a.Contains(ip) {
				t.Fatalf("%s: Random gave %s outside the usable range", cidr, ip)
			}
		}
	}
}

func TestContains(t *testing.T) {
	a, err := New("10.0.0.0/30")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		ip   string
		want bool
	}{
		{"10.0.0.0", false}, // network address
		{"10.0.0.1", true},
		{"10.0.0.2", true},
		{"10.0.0.3", false}, // last address
		{"10.0.0.4", false},
		{"192.168.1.1", false},
	}
	for _, tc := range cases {
		if got := a.Contains(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("Contains(%s) = %v, want %v", tc.ip, got, tc.want)
		}
	}
}

func TestNewRejects(t *testing.T) {
	for _, cidr := range []string{"", "10.0.0.0", "10.0.0.0/31", "10.0.0.0/32", "nonsense/8"} {
		if _, err := New(cidr); err == nil {
			t.Errorf("New(%q) accepted a bad range", cidr)
		}
	}
}
