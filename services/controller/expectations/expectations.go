// Package expectations remembers what a controller has just asked the API to
// do, so that it does not act twice while its caches lag behind its own
// writes. It is client-go's ControllerExpectations (counts of creations,
// plus the keys of the objects being deleted, as in
// UIDTrackingControllerExpectations) and, for controllers that update other
// objects rather than create pods, a tracker of resource versions the cache
// must reach.
//
// The pattern, for a controller that creates pods:
//
//	if !exp.Satisfied(rsKey) {
//		return nil // an informer event will enqueue rsKey once the cache caught up
//	}
//	exp.Expect(rsKey, 3, nil)
//	for range 3 {
//		if _, err := pods.Create(ctx, p); err != nil {
//			exp.CreationObserved(rsKey) // will never be observed
//		}
//	}
//
// and in the pod informer's handlers: CreationObserved(ownerKey) on add,
// DeletionObserved(ownerKey, podKey) on delete (or once a deletion timestamp
// appears). Expectations older than the TTL count as satisfied, so a lost
// event delays a controller but never wedges it.
package expectations

import (
	"strconv"
	"sync"
	"time"
)

// DefaultTTL is how long unmet expectations hold a controller back
// (client-go's ExpectationsTimeout).
const DefaultTTL = 5 * time.Minute

type record struct {
	adds    int
	deletes map[string]struct{}
	at      time.Time
}

func (r *record) fulfilled() bool { return r.adds <= 0 && len(r.deletes) == 0 }

// Expectations tracks pending creations and deletions per controller key.
// The zero value is not usable; call New. Safe for concurrent use.
type Expectations struct {
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[string]*record
}

// New returns an empty tracker whose expectations expire after ttl (0 means
// DefaultTTL).
func New(ttl time.Duration) *Expectations {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Expectations{ttl: ttl, now: time.Now, m: map[string]*record{}}
}

// Satisfied reports whether key may act: it has no expectations, they are
// met, or they expired.
func (e *Expectations) Satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, ok := e.m[key]
	if !ok {
		return true
	}
	if r.fulfilled() || e.now().Sub(r.at) > e.ttl {
		delete(e.m, key)
		return true
	}
	return false
}

// Expect replaces key's expectations: adds creations and the deletion of
// the objects whose keys are listed.
func (e *Expectations) Expect(key string, adds int, deletes []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := &record{adds: adds, deletes: make(map[string]struct{}, len(deletes)), at: e.now()}
	for _, d := range deletes {
		r.deletes[d] = struct{}{}
	}
	e.m[key] = r
}

// CreationObserved lowers key's pending creations by one (an object
// appeared, or a create failed and never will).
func (e *Expectations) CreationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r, ok := e.m[key]; ok {
		r.adds--
	}
}

// DeletionObserved marks the deletion of objKey as seen (it disappeared or
// got a deletion timestamp, or the delete failed). Deletions nobody
// expected are ignored, so a second sighting does not count twice.
func (e *Expectations) DeletionObserved(key, objKey string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r, ok := e.m[key]; ok {
		delete(r.deletes, objKey)
	}
}

// Forget drops key's expectations (its object was deleted).
func (e *Expectations) Forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}

// Pending returns key's unmet creations and deletions, for logs and tests.
func (e *Expectations) Pending(key string) (adds, deletes int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r, ok := e.m[key]; ok {
		return max(r.adds, 0), len(r.deletes)
	}
	return 0, 0
}

// Versions tracks, per controller key, objects that the controller wrote
// and whose new resource version (or disappearance) its cache has not shown
// yet. A controller that updates objects it then reads back from a cache
// (the Deployment controller scaling ReplicaSets) waits for Satisfied before
// deciding anything from that cache; the informer event that brings the
// cache up to date enqueues the controller again.
type Versions struct {
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	// m[controller key][object key]
	m map[string]map[string]versionWant
}

type versionWant struct {
	rv   uint64
	gone bool
	at   time.Time
}

// NewVersions returns an empty tracker; expectations expire after ttl (0
// means DefaultTTL).
func NewVersions(ttl time.Duration) *Versions {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Versions{ttl: ttl, now: time.Now, m: map[string]map[string]versionWant{}}
}

// ExpectVersion records that the cache must show objKey at resource
// version rv or later before key acts again.
func (v *Versions) ExpectVersion(key, objKey, rv string) {
	n, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		return
	}
	v.set(key, objKey, versionWant{rv: n, at: v.now()})
}

// ExpectGone records that the cache must lose objKey before key acts again.
func (v *Versions) ExpectGone(key, objKey string) {
	v.set(key, objKey, versionWant{gone: true, at: v.now()})
}

func (v *Versions) set(key, objKey string, w versionWant) {
	v.mu.Lock()
	defer v.mu.Unlock()
	objs := v.m[key]
	if objs == nil {
		objs = map[string]versionWant{}
		v.m[key] = objs
	}
	objs[objKey] = w
}

// Lookup reads an object's resource version from the cache the
// controller decides from; exists is false when the cache lacks it.
type Lookup func(objKey string) (rv string, exists bool)

// Satisfied reports whether key's cache has caught up with all its writes,
// reading the cache through lookup (expired expectations count as met).
// Checking the cache, rather than being told by event handlers, also
// covers an event that arrived before the expectation was recorded.
func (v *Versions) Satisfied(key string, lookup Lookup) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	objs, ok := v.m[key]
	if !ok {
		return true
	}
	now := v.now()
	for objKey, w := range objs {
		rv, exists := lookup(objKey)
		n, err := strconv.ParseUint(rv, 10, 64)
		met := now.Sub(w.at) > v.ttl ||
			(w.gone && !exists) ||
			(!w.gone && exists && err == nil && n >= w.rv)
		if met {
			delete(objs, objKey)
		}
	}
	if len(objs) == 0 {
		delete(v.m, key)
		return true
	}
	return false
}

// Forget drops key's expectations.
func (v *Versions) Forget(key string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.m, key)
}
