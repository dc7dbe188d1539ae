package procstat

import (
	"testing"
	"time"
)

func TestParseVmRSS(t *testing.T) {
	tests := []struct {
		name    string
		status  string
		want    int64
		wantErr bool
	}{
		{name: "typical", status: "Name:\tapigateway\nVmPeak:\t  900000 kB\nVmRSS:\t  123456 kB\nThreads:\t12\n", want: 123456 << 10},
		{name: "missing", status: "Name:\tapigateway\n", wantErr: true},
		{name: "garbled", status: "VmRSS:\t  lots kB\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseVmRSS([]byte(tc.status))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name    string
		stat    string
		want    time.Duration
		wantErr bool
	}{
		{
			name: "typical",
			stat: "4242 (apigateway) S 1 4242 4242 0 -1 4194560 5000 0 0 0 250 130 0 0 20 0 12 0 100 1000000 3000 18446744073709551615\n",
			want: 3800 * time.Millisecond,
		},
		{
			name: "command with spaces and parens",
			stat: "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 100 10 0\n",
			want: 30 * time.Millisecond,
		},
		{name: "no command", stat: "7 apigateway R 1", wantErr: true},
		{name: "short", stat: "7 (x) R 1 2 3\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tc.stat))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
