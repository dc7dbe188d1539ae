package stats

import (
	"math"
	"slices"
	"time"
)

// Summary describes one set of latency samples.
type Summary struct {
	N    int
	P50  time.Duration
	P99  time.Duration
	Max  time.Duration
	Mean time.Duration
}

// Summarize sorts samples in place and returns their summary; an empty set
// gives the zero Summary.
func Summarize(samples []time.Duration) Summary {
	if len(samples) == 0 {
		return Summary{}
	}
	slices.Sort(samples)
	var total time.Duration
	for _, s := range samples {
		total += s
	}
	return Summary{
		N:    len(samples),
		P50:  Percentile(samples, 50),
		P99:  Percentile(samples, 99),
		Max:  samples[len(samples)-1],
		Mean: total / time.Duration(len(samples)),
	}
}

// Percentile returns the p-th percentile (0 < p <= 100) of sorted samples by
// the nearest-rank method: the smallest sample that at least p% of the
// samples are less than or equal to. Nearest rank never interpolates, so
// every figure reported is a latency that was actually observed. It returns
// 0 for no samples.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// Rate is ops per second over elapsed; 0 when nothing elapsed.
func Rate(ops int, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return float64(ops) / elapsed.Seconds()
}

// Ratio is a/b, or NaN when b is 0 so that a missing baseline shows up as
// "n/a" rather than as an impressive infinity.
func Ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}
