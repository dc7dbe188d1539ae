package runtime

import "testing"

func TestNormalize(t *testing.T) {
	tests := []struct{ ref, want string }{
		{"busybox", "docker.io/library/busybox:latest"},
		{"busybox:1.36", "docker.io/library/busybox:1.36"},
		{"shoal.local/busybox:latest", "shoal.local/busybox:latest"},
		{"shoal.local/busybox", "shoal.local/busybox:latest"},
		{"127.0.0.1:5000/shoal/app:v1", "127.0.0.1:5000/shoal/app:v1"},
		{"127.0.0.1:1/Shoal/BAD::v1", "127.0.0.1:1/Shoal/BAD::v1"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := Normalize(tc.ref); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.ref, got, tc.want)
		}
	}
}

func TestProvides(t *testing.T) {
	refs := []string{"docker.io/library/busybox:latest", "shoal.local/app:v1"}
	for ref, want := range map[string]bool{"busybox": true, "busybox:latest": true, "shoal.local/app:v1": true, "shoal.local/app": false, "other": false} {
		if got := provides(refs, ref); got != want {
			t.Errorf("provides(%q) = %v, want %v", ref, got, want)
		}
	}
}
