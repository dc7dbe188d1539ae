package storage

import (
	"fmt"
	"testing"
)

func revs(evs []*Event) string {
	out := ""
	for _, e := range evs {
		out += fmt.Sprintf("%d,", e.Rev)
	}
	return out
}

func TestRingAfter(t *testing.T) {
	r := newRing(4, 10)
	for _, rev := range []int64{11, 12, 12, 15} {
		r.add(&Event{Rev: rev})
	}
	cases := []struct {
		name string
		rev  int64
		want string
		ok   bool
	}{
		{"from the horizon", 10, "11,12,12,15,", true},
		{"both events of one revision", 11, "12,12,15,", true},
		{"after a revision", 12, "15,", true},
		{"caught up", 15, "", true},
		{"ahead", 99, "", true},
		{"older than the horizon", 9, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evs, ok := r.after(tc.rev)
			if ok != tc.ok || revs(evs) != tc.want {
				t.Fatalf("after(%d) = %q, %v; want %q, %v", tc.rev, revs(evs), ok, tc.want, tc.ok)
			}
		})
	}
	// Overflow drops the oldest and moves the horizon to it.
	r.add(&Event{Rev: 16})
	if r.horizon != 11 {
		t.Fatalf("horizon %d after overflow, want 11", r.horizon)
	}
	if _, ok := r.after(10); ok {
		t.Fatal("revision 10 must no longer be served: event 11 fell out")
	}
	if evs, ok := r.after(11); !ok || revs(evs) != "12,12,15,16," {
		t.Fatalf("after(11) = %q, %v", revs(evs), ok)
	}
}
