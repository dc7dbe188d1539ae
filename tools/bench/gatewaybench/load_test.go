package gatewaybench

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

var errOdd = errors.New("odd")

func TestClosedLoop(t *testing.T) {
	tests := []struct {
		name        string
		concurrency int
		maxOps      int
		do          op
		wantOps     int
		wantErrors  int
	}{
		{name: "count ends the step", concurrency: 4, maxOps: 100, do: func(context.Context, int) error { return nil }, wantOps: 100},
		{
			name: "errors are counted apart", concurrency: 3, maxOps: 10,
			do: func(_ context.Context, seq int) error {
				if seq%2 == 1 {
					return errOdd
				}
				return nil
			},
			wantOps: 5, wantErrors: 5,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := closedLoop(context.Background(), tc.concurrency, time.Minute, tc.maxOps, tc.do)
			if res.Ops != tc.wantOps || res.Errors != tc.wantErrors || res.Latency.N != tc.wantOps {
				t.Errorf("ops %d errors %d samples %d, want %d, %d, %d", res.Ops, res.Errors, res.Latency.N, tc.wantOps, tc.wantErrors, tc.wantOps)
			}
			if tc.wantErrors > 0 && !errors.Is(res.FirstErr, errOdd) {
				t.Errorf("first error %v, want %v", res.FirstErr, errOdd)
			}
		})
	}
}

func TestOpenLoopIssuesEveryRequest(t *testing.T) {
	var calls atomic.Int64
	res := openLoop(context.Background(), 1000, 50*time.Millisecond, func(context.Context, int) error {
		calls.Add(1)
		return nil
	})
	if calls.Load() != 50 || res.Ops != 50 || res.Errors != 0 {
		t.Errorf("calls %d ops %d errors %d, want 50, 50, 0", calls.Load(), res.Ops, res.Errors)
	}
	if res.Elapsed < 50*time.Millisecond {
		t.Errorf("elapsed %v shorter than the offered window", res.Elapsed)
	}
}

func TestParallel(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		failAt  int // -1: never
		wantErr bool
	}{
		{name: "all succeed", n: 50, failAt: -1},
		{name: "first error is returned", n: 50, failAt: 7, wantErr: true},
		{name: "nothing to do", n: 0, failAt: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var done atomic.Int64
			err := parallel(context.Background(), tc.n, 4, func(_ context.Context, i int) error {
				if i == tc.failAt {
					return errOdd
				}
				done.Add(1)
				return nil
			})
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if !tc.wantErr && done.Load() != int64(tc.n) {
				t.Errorf("ran %d calls, want %d", done.Load(), tc.n)
			}
		})
	}
}
