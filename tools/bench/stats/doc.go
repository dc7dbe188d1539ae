// Package stats summarises latency samples: throughput, percentiles and
// maxima, computed exactly by sorting (a benchmark step holds at most a
// few hundred thousand samples, so there is no need for a sketch).
package stats
