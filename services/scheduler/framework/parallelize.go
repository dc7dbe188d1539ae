package framework

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// Parallelizer runs per-node work on a bounded number of goroutines.
type Parallelizer struct {
	// Workers is the most goroutines one Until uses, capped at GOMAXPROCS
	// (1 or less runs everything on the caller's goroutine).
	Workers int
}

// chunkSize follows kube-scheduler: about sqrt(pieces) per chunk, so that
// goroutines take work in a few dozen grabs, but no more than an even
// share per worker.
func chunkSize(pieces, workers int) int {
	s := int(math.Sqrt(float64(pieces)))
	if r := pieces/workers + 1; s > r {
		s = r
	}
	return max(s, 1)
}

// Until calls fn(i) for every i in [0, pieces) until fn returns false,
// from up to Workers goroutines, and returns when every call has returned.
// After some fn returns false no new call starts (calls already running
// finish). Pieces are handed out in increasing order, in chunks.
func (p Parallelizer) Until(pieces int, fn func(i int) bool) {
	if pieces <= 0 {
		return
	}
	// More goroutines than the runtime runs at once only add scheduling
	// overhead to CPU-bound filtering.
	workers := max(min(p.Workers, runtime.GOMAXPROCS(0)), 1)
	chunk := chunkSize(pieces, workers)
	chunks := (pieces + chunk - 1) / chunk
	workers = min(workers, chunks)
	if workers == 1 {
		for i := range pieces {
			if !fn(i) {
				return
			}
		}
		return
	}
	var (
		next    atomic.Int64
		stopped atomic.Bool
		wg      sync.WaitGroup
	)
	work := func() {
		for !stopped.Load() {
			c := int(next.Add(1) - 1)
			if c >= chunks {
				return
			}
			end := min((c+1)*chunk, pieces)
			for i := c * chunk; i < end; i++ {
				if stopped.Load() {
					return
				}
				if !fn(i) {
					stopped.Store(true)
					return
				}
			}
		}
	}
	for range workers - 1 {
		wg.Go(work)
	}
	work() // the caller is one of the workers
	wg.Wait()
}
