package expectations

import (
	"testing"
	"time"
)

func TestExpectations(t *testing.T) {
	now := time.Unix(1000, 0)
	e := New(time.Minute)
	e.now = func() time.Time { return now }

	if !e.Satisfied("rs") {
		t.Fatal("no expectations must be satisfied")
	}
	e.Expect("rs", 2, []string{"ns/a", "ns/b"})
	if e.Satisfied("rs") {
		t.Fatal("fresh expectations must hold")
	}
	e.CreationObserved("rs")
	e.CreationObserved("rs")
	e.DeletionObserved("rs", "ns/a")
	e.DeletionObserved("rs", "ns/a") // twice: counts once
	e.DeletionObserved("rs", "ns/zzz")
	if adds, dels := e.Pending("rs"); adds != 0 || dels != 1 || e.Satisfied("rs") {
		t.Fatalf("pending %d %d", adds, dels)
	}
	e.DeletionObserved("rs", "ns/b")
	if !e.Satisfied("rs") {
		t.Fatal("met expectations must be satisfied")
	}

	e.Expect("rs", 5, nil)
	now = now.Add(2 * time.Minute)
	if !e.Satisfied("rs") {
		t.Fatal("expired expectations must be satisfied")
	}
	e.Expect("rs", 1, nil)
	e.Forget("rs")
	if !e.Satisfied("rs") {
		t.Fatal("forgotten expectations must be satisfied")
	}
}

func TestVersions(t *testing.T) {
	now := time.Unix(1000, 0)
	v := NewVersions(time.Minute)
	v.now = func() time.Time { return now }
	cache := map[string]string{"rs/a": "10"}
	lookup := func(k string) (string, bool) { rv, ok := cache[k]; return rv, ok }

	v.ExpectVersion("d", "rs/a", "12")
	v.ExpectGone("d", "rs/b")
	cache["rs/b"] = "3"
	if v.Satisfied("d", lookup) {
		t.Fatal("stale cache must not satisfy")
	}
	cache["rs/a"] = "12"
	if v.Satisfied("d", lookup) {
		t.Fatal("rs/b still cached")
	}
	delete(cache, "rs/b")
	if !v.Satisfied("d", lookup) {
		t.Fatal("caught up")
	}

	v.ExpectVersion("d", "rs/new", "20") // created, not cached yet
	if v.Satisfied("d", lookup) {
		t.Fatal("a created object must show up first")
	}
	now = now.Add(2 * time.Minute)
	if !v.Satisfied("d", lookup) {
		t.Fatal("expired expectations must be satisfied")
	}
	v.ExpectVersion("d", "rs/x", "not-a-number") // ignored
	if !v.Satisfied("d", lookup) {
		t.Fatal("a malformed version is not expected")
	}
}
