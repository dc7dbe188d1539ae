package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// AckFilter selects ACKs: of one type ("EDS"; empty for every type),
// received at or after After (unix nanoseconds).
type AckFilter struct {
	Type  string
	After int64
}

// Match reports whether a passes the filter.
func (f AckFilter) Match(a Ack) bool {
	return (f.Type == "" || a.Type == f.Type) && a.At.UnixNano() >= f.After
}

// AckLog is every open stream's last ACK of each type; it wakes callers
// waiting until a number of them pass a filter. What /debug/acks serves.
//
// A waiter keeps its own count, updated as each ACK is recorded, so that
// waiting for every stream to ACK a change costs O(1) per ACK rather than
// a scan of every stream per look (the benchmark used to poll a count
// every 25 ms, a tenth of the server's CPU per change with 1,000 streams).
type AckLog struct {
	mu      sync.Mutex
	last    map[int64]map[string]Ack // by stream, then short type
	waiters map[*ackWaiter]struct{}
}

type ackWaiter struct {
	f    AckFilter
	want int
	n    int // ACKs in last that match f
	done chan struct{}
}

// NewAckLog returns an empty log.
func NewAckLog() *AckLog {
	return &AckLog{last: map[int64]map[string]Ack{}, waiters: map[*ackWaiter]struct{}{}}
}

// Record makes a the last ACK of its stream and type.
func (l *AckLog) Record(a Ack) {
	l.mu.Lock()
	defer l.mu.Unlock()
	byType := l.last[a.Stream]
	if byType == nil {
		byType = map[string]Ack{}
		l.last[a.Stream] = byType
	}
	old, had := byType[a.Type]
	byType[a.Type] = a
	for w := range l.waiters {
		switch {
		case w.f.Match(a) && !(had && w.f.Match(old)):
			l.countLocked(w, +1)
		case !w.f.Match(a) && had && w.f.Match(old):
			l.countLocked(w, -1)
		}
	}
}

// Forget drops the ACKs of a closed stream.
func (l *AckLog) Forget(stream int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, a := range l.last[stream] {
		for w := range l.waiters {
			if w.f.Match(a) {
				l.countLocked(w, -1)
			}
		}
	}
	delete(l.last, stream)
}

// countLocked moves a waiter's count by d and releases it once the count
// reaches what it waits for.
func (l *AckLog) countLocked(w *ackWaiter, d int) {
	w.n += d
	if w.n >= w.want {
		close(w.done)
		delete(l.waiters, w)
	}
}

// Each calls yield, under the log's lock, with every ACK f selects.
func (l *AckLog) Each(f AckFilter, yield func(Ack)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, byType := range l.last {
		if f.Type != "" {
			if a, ok := byType[f.Type]; ok && f.Match(a) {
				yield(a)
			}
			continue
		}
		for _, a := range byType {
			if f.Match(a) {
				yield(a)
			}
		}
	}
}

// Of is the last ACK of each type of one stream, by short type.
func (l *AckLog) Of(stream int64) map[string]Ack {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]Ack, len(l.last[stream]))
	for t, a := range l.last[stream] {
		out[t] = a
	}
	return out
}

// Wait blocks until at least want ACKs pass f, or ctx ends; it returns
// how many pass f then (the count when ctx ended, with ctx's error).
func (l *AckLog) Wait(ctx context.Context, f AckFilter, want int) (int, error) {
	l.mu.Lock()
	w := &ackWaiter{f: f, want: want, done: make(chan struct{})}
	for _, byType := range l.last {
		for _, a := range byType {
			if f.Match(a) {
				w.n++
			}
		}
	}
	if w.n >= want {
		l.mu.Unlock()
		return w.n, nil
	}
	l.waiters[w] = struct{}{}
	l.mu.Unlock()
	select {
	case <-w.done:
	case <-ctx.Done():
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.waiters, w)
	if w.n >= want {
		return w.n, nil
	}
	return w.n, ctx.Err()
}

// maxAckWait bounds one /debug/acks?wait=N request.
const maxAckWait = 10 * time.Minute

// ServeHTTP answers /debug/acks: every stream's last ACK per type,
// filtered by ?type=EDS and ?after=<unix nanos>; with ?count=1 only their
// number. With ?wait=N it first waits until N ACKs pass the filter, for
// at most ?timeout= (a Go duration; default and limit 10 minutes), then
// answers as without it: the benchmark waits for every stream to ACK a
// change with one request rather than by polling.
func (l *AckLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := AckFilter{Type: q.Get("type")}
	if a := q.Get("after"); a != "" {
		if _, err := fmt.Sscan(a, &f.After); err != nil {
			http.Error(w, "after: want unix nanoseconds", http.StatusBadRequest)
			return
		}
	}
	if s := q.Get("wait"); s != "" {
		var want int
		if _, err := fmt.Sscan(s, &want); err != nil || want < 0 {
			http.Error(w, "wait: want a number of ACKs", http.StatusBadRequest)
			return
		}
		timeout := maxAckWait
		if s := q.Get("timeout"); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil || d < 0 {
				http.Error(w, "timeout: want a duration", http.StatusBadRequest)
				return
			}
			timeout = min(d, maxAckWait)
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		// Not reaching the count is not an error: the answer says how
		// many there are.
		_, _ = l.Wait(ctx, f, want)
		cancel()
	}
	w.Header().Set("Content-Type", "application/json")
	if q.Get("count") != "" {
		n := 0
		l.Each(f, func(Ack) { n++ })
		_ = json.NewEncoder(w).Encode(map[string]int{"count": n})
		return
	}
	out := []Ack{}
	l.Each(f, func(a Ack) { out = append(out, a) })
	_ = json.NewEncoder(w).Encode(out)
}
