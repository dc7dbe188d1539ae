package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// ackOp is one step on an AckLog: record an ACK, or forget a stream.
type ackOp struct {
	record *Ack
	forget int64
}

func ackAt(stream int64, typ string, at int64) ackOp {
	return ackOp{record: &Ack{Stream: stream, Type: typ, At: time.Unix(0, at)}}
}

func forget(stream int64) ackOp { return ackOp{forget: stream} }

func (o ackOp) apply(l *AckLog) {
	if o.record != nil {
		l.Record(*o.record)
		return
	}
	l.Forget(o.forget)
}

// TestAckLogWait: a waiter registered before the ACKs arrive counts each
// stream's last ACK once (a stream ACKing again, a closed stream, an ACK
// of another type or before the filter's time do not count twice or at
// all) and is released exactly when the count is reached.
func TestAckLogWait(t *testing.T) {
	eds := AckFilter{Type: "EDS", After: 100}
	tests := []struct {
		name   string
		before []ackOp // recorded before the wait starts
		after  []ackOp // recorded one by one while it waits
		want   int
		// releasedAfter is how many of after release the waiter (0: the
		// wait returns at once; -1: never).
		releasedAfter int
		wantCount     int
	}{
		{name: "already there", before: []ackOp{ackAt(1, "EDS", 100), ackAt(2, "EDS", 150)}, want: 2, wantCount: 2},
		{name: "older ACKs do not count", before: []ackOp{ackAt(1, "EDS", 99)}, after: []ackOp{ackAt(2, "EDS", 101), ackAt(1, "EDS", 102)}, want: 2, releasedAfter: 2, wantCount: 2},
		{name: "a second ACK of one stream counts once", after: []ackOp{ackAt(1, "EDS", 101), ackAt(1, "EDS", 102), ackAt(2, "EDS", 103)}, want: 2, releasedAfter: 3, wantCount: 2},
		{name: "other types do not count", after: []ackOp{ackAt(1, "CDS", 101), ackAt(1, "LDS", 102), ackAt(1, "EDS", 103)}, want: 1, releasedAfter: 3, wantCount: 1},
		{name: "a closed stream no longer counts", before: []ackOp{ackAt(1, "EDS", 101)}, after: []ackOp{forget(1), ackAt(2, "EDS", 102), ackAt(3, "EDS", 103)}, want: 2, releasedAfter: 3, wantCount: 2},
		{name: "not reached", after: []ackOp{ackAt(1, "EDS", 101), ackAt(1, "EDS", 105)}, want: 2, releasedAfter: -1, wantCount: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := NewAckLog()
			for _, op := range tc.before {
				op.apply(l)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			type result struct {
				n   int
				err error
			}
			done := make(chan result, 1)
			go func() {
				n, err := l.Wait(ctx, eds, tc.want)
				done <- result{n, err}
			}()
			if tc.releasedAfter != 0 {
				waitForWaiters(t, l, 1)
			}
			for i, op := range tc.after {
				select {
				case r := <-done:
					t.Fatalf("released after %d ACKs (%+v), want after %d", i, r, tc.releasedAfter)
				default:
				}
				op.apply(l)
				if i+1 == tc.releasedAfter {
					// Released on this ACK: the waiter leaves the log
					// under the same lock as it is released.
					waitForWaiters(t, l, 0)
				}
			}
			if tc.releasedAfter < 0 {
				cancel()
			}
			r := <-done
			if r.n != tc.wantCount {
				t.Errorf("count %d, want %d", r.n, tc.wantCount)
			}
			if gotErr, wantErr := r.err != nil, tc.releasedAfter < 0; gotErr != wantErr {
				t.Errorf("err %v, want an error: %v", r.err, wantErr)
			}
			if n := countWaiters(l); n != 0 {
				t.Errorf("%d waiters left in the log", n)
			}
		})
	}
}

func countWaiters(l *AckLog) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.waiters)
}

// waitForWaiters waits, without a deadline of its own (the test's
// -timeout bounds it), until the log holds n waiters.
func waitForWaiters(t *testing.T, l *AckLog, n int) {
	t.Helper()
	for countWaiters(l) != n {
		time.Sleep(time.Millisecond)
	}
}

// TestAckLogServeHTTP: the filters, the count and the wait of /debug/acks.
func TestAckLogServeHTTP(t *testing.T) {
	l := NewAckLog()
	for _, op := range []ackOp{ackAt(1, "EDS", 100), ackAt(1, "CDS", 100), ackAt(2, "EDS", 200), ackAt(3, "EDS", 300), forget(3)} {
		op.apply(l)
	}
	tests := []struct {
		query      string
		wantStatus int
		wantBody   string
	}{
		{query: "count=1", wantStatus: 200, wantBody: `{"count":3}`},
		{query: "type=EDS&count=1", wantStatus: 200, wantBody: `{"count":2}`},
		{query: "type=EDS&after=150&count=1", wantStatus: 200, wantBody: `{"count":1}`},
		{query: "type=EDS&after=150", wantStatus: 200, wantBody: `[{"stream":2,"node":"","mode":"","type":"EDS","version":"","at":"` + time.Unix(0, 200).Format(time.RFC3339Nano) + `"}]`},
		// Reached: answers at once.
		{query: "type=EDS&count=1&wait=2", wantStatus: 200, wantBody: `{"count":2}`},
		// Not reached: answers with the count after the timeout.
		{query: "type=EDS&count=1&wait=3&timeout=1ns", wantStatus: 200, wantBody: `{"count":2}`},
		{query: "after=soon", wantStatus: 400},
		{query: "wait=all", wantStatus: 400},
		{query: "wait=1&timeout=long", wantStatus: 400},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			rec := httptest.NewRecorder()
			l.ServeHTTP(rec, httptest.NewRequest("GET", "/debug/acks?"+tc.query, nil))
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tc.wantStatus, rec.Body)
			}
			if tc.wantBody == "" {
				return
			}
			var got, want any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tc.wantBody), &want); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("body %s, want %s", rec.Body, tc.wantBody)
			}
		})
	}
}

// TestAckLogWaitOverHTTP: a waiting request is answered once the ACKs it
// waits for are recorded.
func TestAckLogWaitOverHTTP(t *testing.T) {
	l := NewAckLog()
	srv := httptest.NewServer(l)
	defer srv.Close()
	type result struct {
		count int
		err   error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.Get(srv.URL + "/debug/acks?type=EDS&after=100&count=1&wait=2")
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		var c struct{ Count int }
		err = json.NewDecoder(resp.Body).Decode(&c)
		done <- result{c.Count, err}
	}()
	waitForWaiters(t, l, 1)
	l.Record(Ack{Stream: 1, Type: "EDS", At: time.Unix(0, 100)})
	l.Record(Ack{Stream: 2, Type: "EDS", At: time.Unix(0, 101)})
	if r := <-done; r.err != nil || r.count != 2 {
		t.Fatalf("count %d, err %v; want 2", r.count, r.err)
	}
}
