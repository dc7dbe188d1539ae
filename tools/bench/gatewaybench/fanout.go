package gatewaybench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
	"github.com/shoalmesh/shoal/tools/bench/procstat"
	"github.com/shoalmesh/shoal/tools/bench/stats"
)

const (
	watchNS = "bench-watch"
	// writtenAtAnnotation carries the wall-clock time (Unix nanoseconds)
	// at which the benchmark issued the pod's CreatePod; watchers on the
	// same machine subtract it from their arrival time.
	writtenAtAnnotation = "bench.shoal.dev/written-at"
	// syncPod is written first and not measured: once every watcher has it,
	// every stream is open on the server and the measured writes start.
	syncPod     = "sync"
	eventPrefix = "event-"
	// openWorkers bounds how many watch streams are being opened at once.
	openWorkers = 64
	// setupTimeout bounds opening every stream and seeing the sync pod.
	setupTimeout = 3 * time.Minute
)

// fanoutResult is one fan-out run.
type fanoutResult struct {
	Watchers, Conns int
	Client          string // ClientH2 or ClientGRPC
	Events          int
	Setup           time.Duration // opening every stream until the sync pod reached all
	// EventAll is, over events, the delay until the last watcher had the
	// event; Delivery is over every (watcher, event) delivery.
	EventAll, Delivery stats.Summary
	Create             stats.Summary // latency of the measured CreatePods
	Missing            int           // deliveries that never arrived
	WatchErrors        int           // streams that failed during the run
	FirstErr           error         // of the stream failures
	RSSIdle            int64         // gateway RSS before any watcher
	RSSWatching        int64         // the highest gateway RSS seen with every watcher open
	GatewayCPU         time.Duration
	BenchCPU           time.Duration
	OtherCPU           time.Duration // every other process on the machine
	Window             time.Duration // first write to last delivery (or timeout)
}

// fanout is one run's shared state.
type fanout struct {
	cfg  FanoutConfig
	n    int
	pods *client.Resource[*shoalv1.Pod]
	// delays[e][w] is the delay of event e (0 = the sync pod) at watcher w,
	// in nanoseconds; got[e] counts watchers that have it. A watcher
	// writes delays[e][w] before incrementing got[e], so a reader that
	// sees got[e] == n sees every delay of e.
	delays    [][]int64
	got       []atomic.Int64
	mu        sync.Mutex
	watchErrs int
	firstErr  error
}

// runFanout opens n watchers on the gateway p, writes cfg.Events pods and
// measures their delivery.
func runFanout(ctx context.Context, cfg FanoutConfig, p *gatewayProcess, n int, progress io.Writer) (*fanoutResult, error) {
	res := &fanoutResult{Watchers: n, Events: cfg.Events, Client: cfg.Client}
	admin, err := client.Dial(ctx, p.addr)
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	f := newFanout(cfg, n, admin)
	res.Conns = f.conns()
	rv, err := f.prepare(ctx, admin)
	if err != nil {
		return nil, err
	}
	if res.RSSIdle, err = procstat.RSS(p.pid()); err != nil {
		return nil, err
	}

	watchCtx, stopWatches := context.WithCancel(ctx)
	var recvs sync.WaitGroup
	defer func() {
		stopWatches()
		recvs.Wait()
	}()

	start := time.Now()
	open := f.openH2Watches
	if cfg.Client == ClientGRPC {
		open = f.openGRPCWatches
	}
	closeConns, err := open(watchCtx, p.addr, rv, &recvs)
	defer closeConns()
	if err != nil {
		return nil, err
	}
	if err := f.writeAndWait(ctx, 0, syncPod, time.Now().Add(setupTimeout)); err != nil {
		return nil, fmt.Errorf("gatewaybench: %d watchers not all live after %v: %w", n, setupTimeout, err)
	}
	res.Setup = time.Since(start)
	fmt.Fprintf(progress, "  %d watchers on %d connections live after %s\n", n, res.Conns, res.Setup.Round(time.Millisecond))

	if err := f.measure(ctx, p, res); err != nil {
		return nil, err
	}
	// Stop the receivers before reading what they wrote.
	stopWatches()
	recvs.Wait()
	f.summarize(res)
	return res, nil
}

func newFanout(cfg FanoutConfig, n int, conn grpc.ClientConnInterface) *fanout {
	f := &fanout{cfg: cfg, n: n, pods: client.For[*shoalv1.Pod](conn), got: make([]atomic.Int64, cfg.Events+1)}
	f.delays = make([][]int64, cfg.Events+1)
	for e := range f.delays {
		f.delays[e] = make([]int64, n)
	}
	return f
}

// prepare creates the watched namespace and returns its current resource
// version, where every watch starts.
func (f *fanout) prepare(ctx context.Context, conn grpc.ClientConnInterface) (string, error) {
	if _, err := client.For[*shoalv1.Namespace](conn).Create(ctx, gatewaytest.Namespace(watchNS)); err != nil {
		return "", fmt.Errorf("gatewaybench: creating namespace %s: %w", watchNS, err)
	}
	list, err := f.pods.List(ctx, client.ListOptions{Namespace: watchNS})
	if err != nil {
		return "", fmt.Errorf("gatewaybench: listing %s: %w", watchNS, err)
	}
	return list.ResourceVersion, nil
}

// openGRPCWatches opens one grpc-go watch stream per watcher,
// StreamsPerConn to a connection, each from rv, with a goroutine receiving
// on it until ctx ends. The returned func closes the connections.
func (f *fanout) openGRPCWatches(ctx context.Context, addr, rv string, recvs *sync.WaitGroup) (func(), error) {
	conns := make([]*grpc.ClientConn, 0, f.conns())
	closeAll := func() {
		for _, c := range conns {
			c.Close()
		}
	}
	for range f.conns() {
		c, err := client.Dial(ctx, addr)
		if err != nil {
			return closeAll, err
		}
		// Connect now, so that stream setup does not include the TCP
		// and HTTP/2 handshakes of every connection.
		c.Connect()
		conns = append(conns, c)
	}
	return closeAll, parallel(ctx, f.n, openWorkers, func(_ context.Context, w int) error {
		// The stream takes ctx, not parallel's context: that one ends as
		// soon as the last stream is open.
		watch, err := openFrameWatch(ctx, conns[w/f.cfg.StreamsPerConn], &shoalv1.WatchPodsRequest{Namespace: watchNS, ResourceVersion: rv})
		if err != nil {
			return fmt.Errorf("gatewaybench: opening watch %d: %w", w, err)
		}
		recvs.Go(func() {
			var frame watchFrame
			for {
				err := watch.RecvMsg(&frame)
				now := time.Now().UnixNano()
				if err == nil {
					err = f.record(w, frame.buf, now)
				}
				if err != nil {
					f.failed(ctx, 1, err)
					return
				}
			}
		})
		return nil
	})
}

// openH2Watches opens the watch streams on h2 connections, StreamsPerConn
// to each, with a goroutine per connection reading every stream of it
// until ctx ends. The returned func closes the connections.
func (f *fanout) openH2Watches(ctx context.Context, addr, rv string, recvs *sync.WaitGroup) (func(), error) {
	var (
		mu    sync.Mutex
		conns []*h2Conn
	)
	closeAll := func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.close()
		}
	}
	req := &shoalv1.WatchPodsRequest{Namespace: watchNS, ResourceVersion: rv}
	return closeAll, parallel(ctx, f.conns(), openWorkers, func(_ context.Context, i int) error {
		first := i * f.cfg.StreamsPerConn
		streams := min(f.cfg.StreamsPerConn, f.n-first)
		c, err := dialH2(ctx, addr, first, streams)
		if err != nil {
			return fmt.Errorf("gatewaybench: connection %d: %w", i, err)
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		recvs.Go(func() {
			if err := c.read(f.record); err != nil {
				f.failed(ctx, streams, err)
			}
		})
		context.AfterFunc(ctx, func() { c.close() })
		for s := range streams {
			if err := c.open(s, addr, req); err != nil {
				return fmt.Errorf("gatewaybench: opening watch %d: %w", first+s, err)
			}
		}
		return nil
	})
}

func (f *fanout) conns() int { return (f.n + f.cfg.StreamsPerConn - 1) / f.cfg.StreamsPerConn }

// record notes watcher w's receipt, at now, of the event msg (its wire
// form), when it is one of the benchmark's.
func (f *fanout) record(w int, msg []byte, now int64) error {
	ev, err := parseFrame(msg, writtenAtAnnotation)
	if err != nil || ev.Type != shoalv1.WatchEventType_WATCH_EVENT_TYPE_ADDED {
		return err
	}
	e, written, ok := f.parseEvent(ev)
	if !ok {
		return nil
	}
	f.delays[e][w] = now - written
	f.got[e].Add(1)
	return nil
}

// failed counts n streams that failed before the run ended.
func (f *fanout) failed(ctx context.Context, n int, err error) {
	if ctx.Err() != nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.watchErrs += n
	f.firstErr = cmpOr(f.firstErr, err)
}

// parseEvent maps a benchmark pod's event to its index and write time.
func (f *fanout) parseEvent(ev podEvent) (e int, written int64, ok bool) {
	if !ev.HasAnnotation {
		return 0, 0, false
	}
	written, err := strconv.ParseInt(ev.Annotation, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	if ev.Name == syncPod {
		return 0, written, true
	}
	e, err = strconv.Atoi(strings.TrimPrefix(ev.Name, eventPrefix))
	if err != nil || e < 1 || e > f.cfg.Events {
		return 0, 0, false
	}
	return e, written, true
}

// write creates the pod name, stamped with the time it is written, and
// returns how long the CreatePod took: the part of the delivery delay that
// is the write itself.
func (f *fanout) write(ctx context.Context, name string) (time.Duration, error) {
	pod := gatewaytest.Pod(watchNS, name, map[string]string{"app": "bench"})
	start := time.Now()
	pod.Metadata.Annotations = map[string]string{writtenAtAnnotation: strconv.FormatInt(start.UnixNano(), 10)}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if _, err := f.pods.Create(ctx, pod); err != nil {
		return 0, fmt.Errorf("gatewaybench: writing %s: %w", name, err)
	}
	return time.Since(start), nil
}

// writeAndWait writes event e and waits until every watcher has it.
func (f *fanout) writeAndWait(ctx context.Context, e int, name string, deadline time.Time) error {
	if _, err := f.write(ctx, name); err != nil {
		return err
	}
	return f.waitDelivered(ctx, []int{e}, deadline)
}

var errNotDelivered = errors.New("gatewaybench: not every watcher received every event")

// waitDelivered polls until every watcher has every event in events.
// Polling every few milliseconds costs nothing next to the deliveries and
// keeps the receivers free of any notification work.
func (f *fanout) waitDelivered(ctx context.Context, events []int, deadline time.Time) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		done := true
		for _, e := range events {
			done = done && f.got[e].Load() == int64(f.n)
		}
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return errNotDelivered
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// measure writes the events on schedule and waits for their delivery,
// sampling the gateway's memory and the CPU use around it.
func (f *fanout) measure(ctx context.Context, p *gatewayProcess, res *fanoutResult) error {
	var err error
	if res.RSSWatching, err = procstat.RSS(p.pid()); err != nil {
		return err
	}
	before, err := sampleUsage(p.pid())
	if err != nil {
		return err
	}
	start := time.Now()
	events := make([]int, f.cfg.Events)
	creates := make([]time.Duration, f.cfg.Events)
	for i := range events {
		e := i + 1
		events[i] = e
		if !sleepUntil(ctx, start.Add(time.Duration(i)*f.cfg.Interval)) {
			return ctx.Err()
		}
		if creates[i], err = f.write(ctx, eventPrefix+strconv.Itoa(e)); err != nil {
			return err
		}
	}
	res.Create = stats.Summarize(creates)
	err = f.waitDelivered(ctx, events, time.Now().Add(f.cfg.Timeout))
	if err != nil && !errors.Is(err, errNotDelivered) {
		return err // missing deliveries are a result, not a failure
	}
	res.Window = time.Since(start)
	after, err := sampleUsage(p.pid())
	if err != nil {
		return err
	}
	res.GatewayCPU, res.BenchCPU = after.gateway-before.gateway, after.bench-before.bench
	res.OtherCPU = max((after.machine-before.machine)-res.GatewayCPU-res.BenchCPU, 0)
	rss, err := procstat.RSS(p.pid())
	if err != nil {
		return err
	}
	res.RSSWatching = max(res.RSSWatching, rss)
	return nil
}

// usage is cumulative CPU time: the gateway's, the benchmark's, and the
// whole machine's (busy time over all CPUs).
type usage struct{ gateway, bench, machine time.Duration }

func sampleUsage(gatewayPID int) (u usage, err error) {
	if u.gateway, err = procstat.CPU(gatewayPID); err != nil {
		return u, err
	}
	if u.bench, err = procstat.CPU(os.Getpid()); err != nil {
		return u, err
	}
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return u, err
	}
	u.machine, _, err = parseProcStat(stat)
	return u, err
}

// summarize turns the recorded delays into the result's statistics.
func (f *fanout) summarize(res *fanoutResult) {
	var perEvent, all []time.Duration
	for e := 1; e <= f.cfg.Events; e++ {
		var worst time.Duration
		for _, d := range f.delays[e] {
			if d == 0 { // never arrived: a real delay is never exactly 0ns
				res.Missing++
				continue
			}
			all = append(all, time.Duration(d))
			worst = max(worst, time.Duration(d))
		}
		perEvent = append(perEvent, worst)
	}
	res.EventAll = stats.Summarize(perEvent)
	res.Delivery = stats.Summarize(all)
	f.mu.Lock()
	res.WatchErrors, res.FirstErr = f.watchErrs, f.firstErr
	f.mu.Unlock()
}
