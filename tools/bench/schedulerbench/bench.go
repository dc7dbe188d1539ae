package schedulerbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/apigateway/gateway"
	"github.com/shoalmesh/shoal/services/scheduler/scheduler"
	"github.com/shoalmesh/shoal/tools/bench/report"
	"github.com/shoalmesh/shoal/tools/bench/stats"
)

// Size is one benchmark point.
type Size struct {
	Nodes, Pods int
}

func (s Size) String() string { return fmt.Sprintf("%dx%d", s.Nodes, s.Pods) }

// ParseSizes reads "1000x5000,5000x10000" (nodes x pods).
func ParseSizes(s string) ([]Size, error) {
	var out []Size
	for f := range strings.SplitSeq(s, ",") {
		n, p, ok := strings.Cut(strings.TrimSpace(f), "x")
		nodes, err1 := strconv.Atoi(n)
		pods, err2 := strconv.Atoi(p)
		if !ok || err1 != nil || err2 != nil || nodes < 1 || pods < 1 {
			return nil, fmt.Errorf("schedulerbench: size %q: want NODESxPODS, e.g. 1000x5000", f)
		}
		out = append(out, Size{Nodes: nodes, Pods: pods})
	}
	return out, nil
}

// Config says what to measure.
type Config struct {
	Sizes []Size
	// CreateConcurrency is how many clients create pods (and nodes) at once.
	CreateConcurrency int
	// EtcdTxnDuration is the length of the raw etcd measurement.
	EtcdTxnDuration time.Duration
	// EtcdNoFsync turns etcd's fsync off (the gateway's default keeps it on).
	EtcdNoFsync bool
	// Scheduler settings (the scheduler's defaults when zero).
	PercentageOfNodesToScore int
	Parallelism              int
	MaxInFlightBinds         int
	// NoScheduledEvents turns the scheduler's per-pod Scheduled Events off
	// (--record-scheduled-events=false), to see what they cost.
	NoScheduledEvents bool
	// Timeout bounds one size's wait for its pods to be bound.
	Timeout time.Duration
	// TargetPodsPerSecond is marked met or MISSED next to each figure.
	TargetPodsPerSecond float64
	// Progress receives a line per step (nil: none).
	Progress io.Writer
	// SkipBacklog leaves out the second phase (a backlog of pods bound by
	// a freshly started scheduler).
	SkipBacklog bool
	// CPUProfile, if set, writes a CPU profile of the first phase of the
	// last size to this file (gateway, etcd, scheduler and clients
	// together).
	CPUProfile string
}

// NewConfig returns the two sizes with the scheduler's defaults.
func NewConfig() Config {
	return Config{
		Sizes:               []Size{{Nodes: 1000, Pods: 5000}, {Nodes: 5000, Pods: 10000}},
		CreateConcurrency:   32,
		EtcdTxnDuration:     3 * time.Second,
		Timeout:             5 * time.Minute,
		TargetPodsPerSecond: 1000,
	}
}

// Result is one benchmark run.
type Result struct {
	Config  Config
	Start   time.Time
	Machine report.Machine
	Load    string
	Runs    []RunResult
}

// RunResult is one size.
type RunResult struct {
	Size
	// EtcdTxnPerSec is the raw etcd transaction rate of this run's etcd.
	EtcdTxnPerSec float64
	// Elapsed is from the first CreatePod to the last bind seen.
	Elapsed       time.Duration
	PodsPerSec    float64
	CreatePerSec  float64 // pods created per second (the offered load)
	Latency       stats.Summary
	Attempts      map[string]float64 // scheduler attempts by result
	FeasibleNodes int                // nodes a cycle looks for before scoring
	// Backlog: as many pods created while no scheduler runs, then bound by
	// a scheduler started afterwards (from its start to the last bind).
	BacklogElapsed    time.Duration
	BacklogPodsPerSec float64
}

// Run measures every size in cfg.Sizes, each on a fresh gateway.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.CreateConcurrency < 1 {
		cfg.CreateConcurrency = 1
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Minute
	}
	res := &Result{Config: cfg, Start: time.Now(), Machine: report.ThisMachine(), Load: report.LoadAverage()}
	for i, size := range cfg.Sizes {
		r, err := runSize(ctx, cfg, size, i == len(cfg.Sizes)-1)
		if err != nil {
			return res, fmt.Errorf("schedulerbench: %s: %w", size, err)
		}
		res.Runs = append(res.Runs, *r)
	}
	return res, nil
}

func (cfg Config) logf(format string, args ...any) {
	if cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, "schedulerbench: "+format+"\n", args...)
	}
}

func runSize(ctx context.Context, cfg Config, size Size, last bool) (_ *RunResult, err error) {
	dir, err := os.MkdirTemp("", "shoal-schedulerbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	gobs, err := observability.Setup(ctx, observability.NewConfig("apigateway"), io.Discard)
	if err != nil {
		return nil, err
	}
	defer gobs.Shutdown(context.Background())
	gcfg, err := gateway.LoopbackConfig(dir)
	if err != nil {
		return nil, err
	}
	gcfg.EtcdUnsafeNoFsync = cfg.EtcdNoFsync
	cfg.logf("%s: starting gateway (fsync %v)", size, !cfg.EtcdNoFsync)
	gw, err := gateway.Start(ctx, gcfg, gobs)
	if err != nil {
		return nil, err
	}
	defer gw.Close()
	conn, err := client.Dial(ctx, gw.Addr())
	if err != nil {
		return nil, err
	}
	defer conn.Close()

	// Pods are created with the generated client: the benchmark client
	// shares the cores with what it measures, so it should cost little.
	podsAPI := shoalv1.NewPodServiceClient(conn)
	out := &RunResult{Size: size}
	scfg := scheduler.NewConfig()
	etcdClients := scfg.Scheduling.MaxInFlightBinds
	if cfg.MaxInFlightBinds > 0 {
		etcdClients = cfg.MaxInFlightBinds
	}
	if out.EtcdTxnPerSec, err = etcdTxnRate(ctx, gw.EtcdEndpoint(), etcdClients, cfg.EtcdTxnDuration); err != nil {
		return nil, fmt.Errorf("etcd baseline: %w", err)
	}
	cfg.logf("%s: raw etcd %.0f txn/s", size, out.EtcdTxnPerSec)

	cfg.logf("%s: creating %d nodes", size, size.Nodes)
	if err := parallel(ctx, size.Nodes, cfg.CreateConcurrency, func(ctx context.Context, i int) error {
		_, err := client.For[*shoalv1.Node](conn).Create(ctx, benchNode(fmt.Sprintf("node-%05d", i)))
		return err
	}); err != nil {
		return nil, fmt.Errorf("creating nodes: %w", err)
	}

	for _, ns := range []string{"bench", "backlog"} {
		if _, err := client.For[*shoalv1.Namespace](conn).Create(ctx, &shoalv1.Namespace{Metadata: &shoalv1.ObjectMeta{Name: ns}}); err != nil {
			return nil, err
		}
	}
	startScheduler := func() (*scheduler.Scheduler, *prometheus.Registry, func(), error) {
		sobs, err := observability.Setup(ctx, observability.NewConfig("scheduler"), io.Discard)
		if err != nil {
			return nil, nil, nil, err
		}
		scfg.GatewayAddr = gw.Addr()
		scfg.ListenAddr = ""
		scfg.LeaderElection.EtcdEndpoints = []string{gw.EtcdEndpoint()}
		if cfg.PercentageOfNodesToScore > 0 {
			scfg.Scheduling.PercentageOfNodesToScore = cfg.PercentageOfNodesToScore
		}
		if cfg.Parallelism > 0 {
			scfg.Scheduling.Parallelism = cfg.Parallelism
		}
		if cfg.MaxInFlightBinds > 0 {
			scfg.Scheduling.MaxInFlightBinds = cfg.MaxInFlightBinds
		}
		scfg.Scheduling.RecordScheduledEvents = !cfg.NoScheduledEvents
		sched, err := scheduler.Start(ctx, scfg, sobs)
		if err != nil {
			_ = sobs.Shutdown(context.Background())
			return nil, nil, nil, err
		}
		stop := func() {
			_ = sched.Close()
			_ = sobs.Shutdown(context.Background())
		}
		return sched, sobs.Registry, stop, nil
	}
	sched, reg, stopSched, err := startScheduler()
	if err != nil {
		return nil, err
	}
	defer func() { stopSched() }()
	if err := waitUntil(ctx, time.Minute, func() bool { return sched.IsLeader() }); err != nil {
		return nil, fmt.Errorf("scheduler never led: %w", err)
	}
	out.FeasibleNodes = numFeasibleNodes(scfg.Scheduling.PercentageOfNodesToScore, size.Nodes)

	// Phase 1: pods created while the scheduler runs (the CPU profile, if
	// asked for, covers this phase).
	stopProfile := func() {}
	w, err := watchBinds(ctx, conn, "bench", size.Pods)
	if err != nil {
		return nil, err
	}
	defer w.stop()
	if last && cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
		stopProfile = func() {
			pprof.StopCPUProfile()
			f.Close()
		}
	}
	defer func() { stopProfile() }()
	cfg.logf("%s: creating %d pods from %d clients", size, size.Pods, cfg.CreateConcurrency)
	created := make([]time.Time, size.Pods)
	t0 := time.Now()
	if err := parallel(ctx, size.Pods, cfg.CreateConcurrency, func(ctx context.Context, i int) error {
		created[i] = time.Now()
		_, err := podsAPI.CreatePod(ctx, &shoalv1.CreatePodRequest{Pod: benchPod("bench", i)})
		return err
	}); err != nil {
		return nil, fmt.Errorf("creating pods: %w", err)
	}
	createdAll := time.Now()
	cfg.logf("%s: created in %v; waiting for binds", size, createdAll.Sub(t0).Round(time.Millisecond))
	if err := w.wait(ctx, cfg.Timeout, size.Pods); err != nil {
		return nil, err
	}
	stopProfile()
	stopProfile = func() {}
	bound := w.times()
	lastBind := t0
	lat := make([]time.Duration, 0, size.Pods)
	for i, b := range bound {
		lat = append(lat, b.Sub(created[i]))
		if b.After(lastBind) {
			lastBind = b
		}
	}
	out.Elapsed = lastBind.Sub(t0)
	out.PodsPerSec = stats.Rate(size.Pods, out.Elapsed)
	out.CreatePerSec = stats.Rate(size.Pods, createdAll.Sub(t0))
	out.Latency = stats.Summarize(lat)
	// The watch may see the last binds before their calls return to the
	// scheduler: give its counters a moment to catch up.
	_ = waitUntil(ctx, 5*time.Second, func() bool {
		out.Attempts = counterByLabel(reg, "shoal_scheduler_schedule_attempts_total", "result")
		return out.Attempts["scheduled"] >= float64(size.Pods)
	})
	cfg.logf("%s: %d pods bound in %v: %.0f pods/s, p50 %v, p99 %v", size, size.Pods, out.Elapsed.Round(time.Millisecond),
		out.PodsPerSec, out.Latency.P50.Round(time.Millisecond), out.Latency.P99.Round(time.Millisecond))

	if cfg.SkipBacklog {
		return out, nil
	}
	// Phase 2: the scheduler alone. With it stopped, the same number of
	// pods is created; a new scheduler then starts, lists them all and binds
	// them: from its start to the last bind seen, this is the rate the
	// scheduler and BindPod sustain when creation is not the limit.
	stopSched()
	stopSched = func() {}
	bw, err := watchBinds(ctx, conn, "backlog", size.Pods)
	if err != nil {
		return nil, err
	}
	defer bw.stop()
	cfg.logf("%s: backlog: creating %d pods with no scheduler running", size, size.Pods)
	if err := parallel(ctx, size.Pods, cfg.CreateConcurrency, func(ctx context.Context, i int) error {
		_, err := podsAPI.CreatePod(ctx, &shoalv1.CreatePodRequest{Pod: benchPod("backlog", i)})
		return err
	}); err != nil {
		return nil, fmt.Errorf("creating backlog pods: %w", err)
	}
	t1 := time.Now()
	sched, _, stopSched, err = startScheduler()
	if err != nil {
		return nil, err
	}
	if err := waitUntil(ctx, time.Minute, func() bool { return sched.IsLeader() }); err != nil {
		return nil, fmt.Errorf("backlog: scheduler never led: %w", err)
	}
	cfg.logf("%s: backlog: scheduler leads %v after its start", size, time.Since(t1).Round(time.Millisecond))
	if err := bw.wait(ctx, cfg.Timeout, size.Pods); err != nil {
		return nil, fmt.Errorf("backlog: %w", err)
	}
	lastBind = t1
	for _, b := range bw.times() {
		if b.After(lastBind) {
			lastBind = b
		}
	}
	out.BacklogElapsed = lastBind.Sub(t1)
	out.BacklogPodsPerSec = stats.Rate(size.Pods, out.BacklogElapsed)
	cfg.logf("%s: backlog of %d pods bound in %v from scheduler start: %.0f pods/s", size, size.Pods,
		out.BacklogElapsed.Round(time.Millisecond), out.BacklogPodsPerSec)
	return out, nil
}

// numFeasibleNodes mirrors the scheduler's percentageOfNodesToScore rule,
// for the report.
func numFeasibleNodes(percentage, nodes int) int {
	if nodes < 100 || percentage >= 100 {
		return nodes
	}
	if percentage <= 0 {
		percentage = max(50-nodes/125, 5)
	}
	return max(nodes*percentage/100, 100)
}

func benchNode(name string) *shoalv1.Node {
	res := &shoalv1.NodeResources{CpuMillis: 4000, MemoryBytes: 32 << 30, Pods: 110}
	return &shoalv1.Node{
		Metadata: &shoalv1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Spec:     &shoalv1.NodeSpec{},
		Status: &shoalv1.NodeStatus{
			Capacity: res, Allocatable: proto.Clone(res).(*shoalv1.NodeResources),
			Conditions: []*shoalv1.Condition{{Type: "Ready", Status: shoalv1.ConditionStatus_CONDITION_STATUS_TRUE}},
		},
	}
}

// benchPod is kube-scheduler_perf's basic pod: one container requesting
// 100m cpu and 500Mi memory, owned by a ReplicaSet (one per 100 pods, so
// the spread score has work to do).
func benchPod(namespace string, i int) *shoalv1.Pod {
	rs := fmt.Sprintf("rs-%03d", i/100)
	return &shoalv1.Pod{
		Metadata: &shoalv1.ObjectMeta{
			Namespace: namespace, Name: fmt.Sprintf("pod-%06d", i), Labels: map[string]string{"app": rs},
			OwnerReferences: []*shoalv1.OwnerReference{{Kind: "ReplicaSet", Name: rs, Uid: rs, Controller: true}},
		},
		Spec: &shoalv1.PodSpec{Containers: []*shoalv1.Container{{
			Name: "app", Image: "shoal.local/pause:v1",
			Resources: &shoalv1.ResourceRequirements{Requests: &shoalv1.ResourceList{CpuMillis: 100, MemoryBytes: 500 << 20}},
		}}},
	}
}

// parallel runs fn(i) for i in [0, n) from workers goroutines and returns
// the first error.
func parallel(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next  atomic.Int64
		once  sync.Once
		first error
		wg    sync.WaitGroup
	)
	for range min(workers, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// etcdTxnRate is a closed loop of gateway-shaped writes (a transaction
// comparing the key's mod revision, then a put of a pod-sized value) from
// concurrency clients straight to etcd, in transactions per second.
func etcdTxnRate(ctx context.Context, endpoint string, concurrency int, d time.Duration) (float64, error) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return 0, err
	}
	defer cli.Close()
	value, err := proto.Marshal(benchPod("bench", 0))
	if err != nil {
		return 0, err
	}
	val := string(value)
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		ops  atomic.Int64
		wg   sync.WaitGroup
		errs = make(chan error, concurrency)
	)
	start := time.Now()
	for w := range concurrency {
		wg.Go(func() {
			for i := 0; ; i++ {
				key := fmt.Sprintf("/bench/etcd/%d/%d", w, i)
				_, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", 0)).Then(clientv3.OpPut(key, val)).Commit()
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					// Transient ("request timed out" while etcd settles):
					// keep going; only a loop that never succeeds fails.
					select {
					case errs <- err:
					default:
					}
					continue
				}
				ops.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if ops.Load() == 0 {
		select {
		case err := <-errs:
			return 0, err
		default:
			return 0, errors.New("no transaction completed")
		}
	}
	if _, err := cli.Delete(context.Background(), "/bench/etcd/", clientv3.WithPrefix()); err != nil {
		return 0, err
	}
	return stats.Rate(int(ops.Load()), elapsed), nil
}

// bindWatch records when each bench pod is first seen bound.
type bindWatch struct {
	mu     sync.Mutex
	bound  []time.Time
	count  atomic.Int64
	done   chan struct{}
	err    error
	cancel context.CancelFunc
	exited chan struct{}
}

func watchBinds(ctx context.Context, conn grpc.ClientConnInterface, namespace string, pods int) (*bindWatch, error) {
	ctx, cancel := context.WithCancel(ctx)
	pc := client.For[*shoalv1.Pod](conn)
	// Only bound pods are sent (a pod that gets bound arrives as ADDED):
	// the watch costs the gateway half the events of a full pod watch.
	const boundOnly = "spec.node_name!="
	list, err := pc.List(ctx, client.ListOptions{Namespace: namespace, FieldSelector: boundOnly})
	if err != nil {
		cancel()
		return nil, err
	}
	w, err := pc.Watch(ctx, client.WatchOptions{Namespace: namespace, FieldSelector: boundOnly, ResourceVersion: list.ResourceVersion})
	if err != nil {
		cancel()
		return nil, err
	}
	bw := &bindWatch{bound: make([]time.Time, pods), done: make(chan struct{}), cancel: cancel, exited: make(chan struct{})}
	go func() {
		defer close(bw.exited)
		defer w.Close()
		for {
			ev, err := w.Recv()
			if err != nil {
				if ctx.Err() == nil {
					bw.err = fmt.Errorf("pod watch: %w", err)
					close(bw.done)
				}
				return
			}
			p := ev.Object
			if p.GetSpec().GetNodeName() == "" {
				continue
			}
			now := time.Now()
			i, err := strconv.Atoi(strings.TrimPrefix(p.GetMetadata().GetName(), "pod-"))
			if err != nil || i < 0 || i >= pods {
				continue
			}
			bw.mu.Lock()
			first := bw.bound[i].IsZero()
			if first {
				bw.bound[i] = now
			}
			bw.mu.Unlock()
			if first && bw.count.Add(1) == int64(pods) {
				close(bw.done)
				return
			}
		}
	}()
	return bw, nil
}

// wait blocks until every pod was seen bound.
func (bw *bindWatch) wait(ctx context.Context, timeout time.Duration, pods int) error {
	select {
	case <-bw.done:
		return bw.err
	case <-time.After(timeout):
		return fmt.Errorf("only %d of %d pods bound after %v", bw.count.Load(), pods, timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (bw *bindWatch) times() []time.Time {
	bw.mu.Lock()
	defer bw.mu.Unlock()
	return append([]time.Time(nil), bw.bound...)
}

func (bw *bindWatch) stop() {
	bw.cancel()
	<-bw.exited
}

func waitUntil(ctx context.Context, d time.Duration, cond func() bool) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// counterByLabel reads a counter vector from a registry.
func counterByLabel(reg *prometheus.Registry, name, label string) map[string]float64 {
	out := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		return out
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			out[labelValue(m, label)] = m.GetCounter().GetValue()
		}
	}
	return out
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
