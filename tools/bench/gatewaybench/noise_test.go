package gatewaybench

import (
	"testing"
	"time"
)

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		name      string
		stat      string
		wantBusy  time.Duration
		wantSteal time.Duration
		wantErr   bool
	}{
		{
			name:      "typical",
			stat:      "cpu  100 5 50 9000 40 1 4 20 0 0\ncpu0 50 2 25 4500 20 0 2 10 0 0\n",
			wantBusy:  1800 * time.Millisecond, // 100+5+50+1+4+20 ticks; idle and iowait are not busy
			wantSteal: 200 * time.Millisecond,
		},
		{name: "per-cpu line first", stat: "cpu0 1 2 3 4 5 6 7 8\n", wantErr: true},
		{name: "short", stat: "cpu  1 2 3\n", wantErr: true},
		{name: "garbled", stat: "cpu  1 2 x 4 5 6 7 8\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			busy, steal, err := parseProcStat([]byte(tc.stat))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if busy != tc.wantBusy || steal != tc.wantSteal {
				t.Errorf("got busy %v steal %v, want %v and %v", busy, steal, tc.wantBusy, tc.wantSteal)
			}
		})
	}
}

func TestOtherLoad(t *testing.T) {
	t0 := time.Unix(1000, 0)
	start := cpuSnapshot{at: t0, busy: 10 * time.Second, steal: time.Second, own: 2 * time.Second}
	end := cpuSnapshot{at: t0.Add(100 * time.Second), busy: 90 * time.Second, steal: 1500 * time.Millisecond, own: 72 * time.Second}
	want := "other processes used 10.0 CPU-s over the run's 100 s (0.10 cores on average); hypervisor steal 0.5 s"
	if got := otherLoad(start, end); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}
