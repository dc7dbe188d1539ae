package stats

import (
	"math"
	"testing"
	"time"
)

func ms(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{name: "empty", sorted: nil, p: 50, want: 0},
		{name: "single p50", sorted: ms(7), p: 50, want: 7 * time.Millisecond},
		{name: "single p99", sorted: ms(7), p: 99, want: 7 * time.Millisecond},
		{name: "two p50 takes lower", sorted: ms(1, 2), p: 50, want: 1 * time.Millisecond},
		{name: "two p99 takes upper", sorted: ms(1, 2), p: 99, want: 2 * time.Millisecond},
		{name: "hundred p50", sorted: hundred, p: 50, want: 50 * time.Millisecond},
		{name: "hundred p99", sorted: hundred, p: 99, want: 99 * time.Millisecond},
		{name: "hundred p100", sorted: hundred, p: 100, want: 100 * time.Millisecond},
		{name: "tiny p clamps to first", sorted: hundred, p: 0.001, want: 1 * time.Millisecond},
		{name: "ten p99 is the max", sorted: ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), p: 99, want: 10 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Percentile(tc.sorted, tc.p); got != tc.want {
				t.Errorf("Percentile(p%v) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name    string
		samples []time.Duration
		want    Summary
	}{
		{name: "empty", samples: nil, want: Summary{}},
		{
			name:    "unsorted input",
			samples: ms(5, 1, 3, 2, 4),
			want:    Summary{N: 5, P50: 3 * time.Millisecond, P99: 5 * time.Millisecond, Max: 5 * time.Millisecond, Mean: 3 * time.Millisecond},
		},
		{
			name:    "one outlier shows in p99 and max, not p50",
			samples: append(ms(1, 1, 1, 1, 1, 1, 1, 1, 1), 1*time.Second),
			want:    Summary{N: 10, P50: time.Millisecond, P99: time.Second, Max: time.Second, Mean: 100900 * time.Microsecond},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Summarize(tc.samples); got != tc.want {
				t.Errorf("Summarize() = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestRateAndRatio(t *testing.T) {
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{name: "rate", got: Rate(500, 2*time.Second), want: 250},
		{name: "rate of nothing elapsed", got: Rate(5, 0), want: 0},
		{name: "ratio", got: Ratio(50, 200), want: 0.25},
		{name: "ratio without baseline", got: Ratio(50, 0), want: math.NaN()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want && !(math.IsNaN(tc.got) && math.IsNaN(tc.want)) {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
}
