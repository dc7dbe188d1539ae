package gatewaybench

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoalmesh/shoal/tools/bench/stats"
)

// opTimeout bounds one operation, so that a wedged server shows up as
// errors instead of a benchmark that never ends.
const opTimeout = 10 * time.Second

// op performs one operation; seq numbers the operations of one step from
// 0, so that each can write its own key.
type op func(ctx context.Context, seq int) error

// stepResult is what one load step measured.
type stepResult struct {
	Ops      int // successful operations
	Errors   int
	FirstErr error
	Elapsed  time.Duration
	Latency  stats.Summary // of successful operations
	// ServerCPU is the CPU time the gateway process (with its embedded
	// etcd) used during the step: divided by Ops it is the server's cost
	// per operation, which other load on the machine barely moves.
	ServerCPU time.Duration
}

// CPUPerOp is the server's CPU time per successful operation.
func (r stepResult) CPUPerOp() time.Duration {
	if r.Ops == 0 {
		return 0
	}
	return r.ServerCPU / time.Duration(r.Ops)
}

// Rate is successful operations per second.
func (r stepResult) Rate() float64 { return stats.Rate(r.Ops, r.Elapsed) }

// closedLoop runs op from concurrency workers, each issuing its next call as
// soon as the previous one returns, for duration d or, when maxOps > 0,
// until maxOps calls have started. Throughput is what the server sustains
// at that many outstanding requests.
func closedLoop(ctx context.Context, concurrency int, d time.Duration, maxOps int, do op) stepResult {
	var (
		next    atomic.Int64
		mu      sync.Mutex
		res     stepResult
		samples []time.Duration
		wg      sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for range concurrency {
		wg.Go(func() {
			var mine []time.Duration
			errs, firstErr := 0, error(nil)
			for ctx.Err() == nil && time.Now().Before(deadline) {
				seq := int(next.Add(1) - 1)
				if maxOps > 0 && seq >= maxOps {
					break
				}
				lat, err := timed(ctx, seq, do)
				if err != nil {
					errs++
					firstErr = cmpOr(firstErr, err)
					continue
				}
				mine = append(mine, lat)
			}
			mu.Lock()
			defer mu.Unlock()
			samples = append(samples, mine...)
			res.Errors += errs
			res.FirstErr = cmpOr(res.FirstErr, firstErr)
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Ops = len(samples)
	res.Latency = stats.Summarize(samples)
	return res
}

func timed(ctx context.Context, seq int, do op) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	t0 := time.Now()
	err := do(ctx, seq)
	return time.Since(t0), err
}

// openResult is what an open-loop step measured.
type openResult struct {
	stepResult
	Offered float64 // the arrival rate asked for, per second
	// MaxDispatchLag is how late the benchmark itself issued a request
	// against its schedule: if it is large, the client, not the server,
	// was the bottleneck.
	MaxDispatchLag time.Duration
}

// openLoop issues op at a fixed rate for d, whether or not earlier calls
// have returned, and measures each call from its scheduled start. Unlike a
// closed loop this does not slow down when the server does, so queueing
// shows up in the latency (no coordinated omission).
func openLoop(ctx context.Context, rate int, d time.Duration, do op) openResult {
	n := max(int(d.Seconds()*float64(rate)), 1)
	interval := time.Second / time.Duration(rate)
	lat := make([]time.Duration, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	var maxLag time.Duration
	start := time.Now()
	sent := 0
	for i := range n {
		at := start.Add(time.Duration(i) * interval)
		if !sleepUntil(ctx, at) {
			break
		}
		maxLag = max(maxLag, time.Since(at))
		sent++
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, opTimeout)
			defer cancel()
			errs[i] = do(ctx, i)
			lat[i] = time.Since(at)
		})
	}
	wg.Wait()
	res := openResult{Offered: float64(rate), MaxDispatchLag: maxLag}
	// The last request is issued one interval before d ends; measuring the
	// rate over less than d would overstate it.
	res.Elapsed = max(time.Since(start), d)
	var ok []time.Duration
	for i := range sent {
		if errs[i] != nil {
			res.Errors++
			res.FirstErr = cmpOr(res.FirstErr, errs[i])
			continue
		}
		ok = append(ok, lat[i])
	}
	res.Ops = len(ok)
	res.Latency = stats.Summarize(ok)
	return res
}

// sleepUntil waits until t; false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// cmpOr returns the first non-nil error.
func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// parallel calls do(ctx, i) for i in [0, n) from at most workers goroutines
// and returns the first error; after an error the remaining calls are
// skipped.
func parallel(parent context.Context, n, workers int, do func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range min(workers, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := do(ctx, i); err != nil {
					mu.Lock()
					firstErr = cmpOr(firstErr, err)
					mu.Unlock()
					cancel()
				}
			}
		})
	}
	wg.Wait()
	return cmpOr(firstErr, parent.Err())
}
