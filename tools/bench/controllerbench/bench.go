package controllerbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/internal/freeport"
	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/rollout"
	"github.com/shoalmesh/shoal/services/controller/fakeagent"
	"github.com/shoalmesh/shoal/services/controller/manager"
	"github.com/shoalmesh/shoal/services/controller/podstate"
	"github.com/shoalmesh/shoal/services/scheduler/scheduler"
	"github.com/shoalmesh/shoal/tools/bench/procstat"
	"github.com/shoalmesh/shoal/tools/bench/report"
)

// Phase is one measured step.
type Phase struct {
	Name string
	// Duration is from the write that starts the phase to the first moment
	// the condition that ends it holds (seen through watches).
	Duration time.Duration
	// Controller and gateway CPU used during the phase (user + system).
	ControllerCPU, GatewayCPU time.Duration
	// Controller resident memory: the highest sample (every 100 ms) and
	// the last.
	ControllerPeakRSS, ControllerEndRSS int64
	// Controller calls to the gateway: writes (create, update, update
	// status, delete), event writes, and reads (get, list, watch).
	Writes, EventWrites, Reads int64
}

// Result is one run.
type Result struct {
	Config    Config
	Date      time.Time
	Machine   report.Machine
	Load      string
	Scheduler string
	// ControllerIdleRSS is the controller's memory once leading with
	// synced (empty) caches.
	ControllerIdleRSS int64
	Phases            []Phase
}

const namespace = "bench"

// Run starts an apigateway and a controller as subprocesses, serves
// cfg.Nodes fake nodes in-process, creates a Deployment of cfg.Replicas and
// times it to all pods scheduled and ready, then a rolling update of it to
// completion. progress gets a line now and then.
func Run(ctx context.Context, cfg Config, progress io.Writer) (res *Result, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("controllerbench: %w", err)
	}
	if progress == nil {
		progress = io.Discard
	}
	res = &Result{Config: cfg, Date: time.Now(), Machine: report.ThisMachine(), Load: report.LoadAverage()}
	dir, err := os.MkdirTemp("", "shoal-controllerbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ports, err := freeport.Ports(5)
	if err != nil {
		return nil, err
	}
	gwAddr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	ctrlAddr := fmt.Sprintf("127.0.0.1:%d", ports[3])
	ctrlMetrics := fmt.Sprintf("127.0.0.1:%d", ports[4])

	fmt.Fprintln(progress, "starting apigateway")
	gw, err := start("apigateway", cfg.GatewayBin, dir,
		"--listen", gwAddr, "--etcd-client-url", etcdURL,
		"--etcd-peer-url", fmt.Sprintf("http://127.0.0.1:%d", ports[2]),
		"--etcd-data-dir", filepath.Join(dir, "etcd"), "--metrics-addr", "")
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, gw.stop()) }()
	if err := gw.waitHealthy(ctx, gwAddr, "", cfg.StartTimeout); err != nil {
		return nil, err
	}
	conn, err := client.Dial(ctx, gwAddr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()

	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	agent := fakeagent.New(conn, fakeagent.Config{Workers: cfg.AgentWorkers, PodsPerNode: int64(cfg.PodsPerNode), RenewInterval: 5 * time.Second})
	wg.Go(func() { _ = agent.Run(runCtx) })
	for i := range cfg.Nodes {
		if err := agent.AddNode(ctx, fmt.Sprintf("node-%03d", i), nil); err != nil {
			return nil, err
		}
	}
	if cfg.Binder {
		res.Scheduler = "fakeagent Binder (round robin), in the benchmark process"
		b := fakeagent.NewBinder(conn, nil)
		wg.Go(func() { _ = b.Run(runCtx) })
	} else {
		res.Scheduler = "services/scheduler, in the benchmark process"
		s, err := startScheduler(runCtx, gwAddr)
		if err != nil {
			return nil, err
		}
		defer s.Close()
	}

	fmt.Fprintln(progress, "starting controller")
	ctrl, err := start("controller", cfg.ControllerBin, dir,
		"--gateway", gwAddr, "--etcd-endpoints", etcdURL, "--listen", ctrlAddr, "--metrics-addr", ctrlMetrics,
		"--workers", strconv.Itoa(cfg.ControllerWorkers), "--log-level", "warn")
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, ctrl.stop()) }()
	if err := ctrl.waitHealthy(ctx, ctrlAddr, manager.LeaderHealthService, cfg.StartTimeout); err != nil {
		return nil, err
	}
	// Leading means caches are being filled; give the term a moment to sync.
	time.Sleep(500 * time.Millisecond)
	if res.ControllerIdleRSS, err = procstat.RSS(ctrl.pid()); err != nil {
		return nil, err
	}

	if _, err := client.For[*shoalv1.Namespace](conn).Create(ctx, &shoalv1.Namespace{Metadata: &shoalv1.ObjectMeta{Name: namespace}}); err != nil {
		return nil, err
	}
	w := newClusterWatch(conn)
	wg.Go(func() { w.run(runCtx) })

	n := cfg.Replicas
	d := deployment(cfg)
	scale := Phase{Name: fmt.Sprintf("create: 0 → %d pods scheduled and ready", n)}
	m := meter{ctrl: ctrl, gw: gw, metrics: ctrlMetrics}
	err = measure(ctx, &scale, cfg.PhaseTimeout, m, w, progress, func() error {
		_, err := client.For[*shoalv1.Deployment](conn).Create(ctx, d)
		return err
	}, func(s snapshot) bool {
		return s.readyBound[image(1)] == n && s.active == n && s.done
	})
	if err != nil {
		return nil, err
	}
	res.Phases = append(res.Phases, scale)

	roll := Phase{Name: fmt.Sprintf("rolling update v1 → v2 (max surge %s, max unavailable %s)", cfg.MaxSurge, cfg.MaxUnavailable)}
	err = measure(ctx, &roll, cfg.PhaseTimeout, m, w, progress, func() error {
		return updateImage(ctx, conn, image(2))
	}, func(s snapshot) bool {
		return s.readyBound[image(2)] == n && s.active == n && s.done
	})
	if err != nil {
		return nil, err
	}
	res.Phases = append(res.Phases, roll)
	return res, nil
}

func startScheduler(ctx context.Context, gwAddr string) (*scheduler.Scheduler, error) {
	ocfg := observability.NewConfig("scheduler-bench")
	ocfg.LogLevel = "error"
	obs, err := observability.Setup(ctx, ocfg, io.Discard)
	if err != nil {
		return nil, err
	}
	cfg := scheduler.NewConfig()
	cfg.GatewayAddr = gwAddr
	cfg.ListenAddr = ""
	cfg.LeaderElection.Enabled = false
	cfg.Scheduling.RecordScheduledEvents = false
	return scheduler.Start(ctx, cfg, obs)
}

func image(v int) string { return fmt.Sprintf("shoal.local/greeter:v%d", v) }

func deployment(cfg Config) *shoalv1.Deployment {
	bound := func(s string) *shoalv1.IntOrString {
		if n, err := strconv.Atoi(s); err == nil {
			return &shoalv1.IntOrString{Value: &shoalv1.IntOrString_IntValue{IntValue: int32(n)}}
		}
		return &shoalv1.IntOrString{Value: &shoalv1.IntOrString_StrValue{StrValue: s}}
	}
	labels := map[string]string{"app": "bench"}
	return &shoalv1.Deployment{
		Metadata: &shoalv1.ObjectMeta{Namespace: namespace, Name: "bench"},
		Spec: &shoalv1.DeploymentSpec{
			Replicas: proto.Int32(int32(cfg.Replicas)),
			Selector: &shoalv1.LabelSelector{MatchLabels: labels},
			Strategy: &shoalv1.DeploymentStrategy{RollingUpdate: &shoalv1.RollingUpdateDeployment{
				MaxSurge: bound(cfg.MaxSurge), MaxUnavailable: bound(cfg.MaxUnavailable),
			}},
			Template: &shoalv1.PodTemplateSpec{
				Metadata: &shoalv1.ObjectMeta{Labels: labels},
				Spec: &shoalv1.PodSpec{Containers: []*shoalv1.Container{{
					Name: "app", Image: image(1),
					Ports:     []*shoalv1.ContainerPort{{Name: "grpc", ContainerPort: 50051}},
					Resources: &shoalv1.ResourceRequirements{Requests: &shoalv1.ResourceList{CpuMillis: 10, MemoryBytes: 16 << 20}},
				}}},
			},
		},
	}
}

func updateImage(ctx context.Context, conn grpc.ClientConnInterface, img string) error {
	ds := client.For[*shoalv1.Deployment](conn)
	for {
		d, err := ds.Get(ctx, namespace, "bench")
		if err != nil {
			return err
		}
		d.Spec.Template.Spec.Containers[0].Image = img
		if _, err := ds.Update(ctx, d); !client.IsConflict(err) {
			return err
		}
	}
}

// meter is what a phase measures: the two processes and the controller's
// metrics endpoint.
type meter struct {
	ctrl, gw *process
	metrics  string
}

// measure runs one phase: act, then wait for done, sampling the
// controller's memory and reporting progress.
func measure(ctx context.Context, ph *Phase, timeout time.Duration, m meter, w *clusterWatch, progress io.Writer,
	act func() error, done func(snapshot) bool) error {
	ctrl, gw := m.ctrl, m.gw
	fmt.Fprintln(progress, ph.Name)
	calls0, err := scrapeCalls(ctx, m.metrics)
	if err != nil {
		return err
	}
	ctrlCPU0, err := procstat.CPU(ctrl.pid())
	if err != nil {
		return err
	}
	gwCPU0, err := procstat.CPU(gw.pid())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	if err := act(); err != nil {
		return err
	}
	sample := time.NewTicker(100 * time.Millisecond)
	defer sample.Stop()
	lastReport := start
	for {
		s := w.snapshot()
		if done(s) {
			ph.Duration = time.Since(start)
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("controllerbench: %s: not done after %v: %s\n--- controller log (tail) ---\n%s",
				ph.Name, timeout, s, ctrl.logTail(3000))
		case <-w.changed:
		case <-sample.C:
			if r, err := procstat.RSS(ctrl.pid()); err == nil {
				ph.ControllerPeakRSS = max(ph.ControllerPeakRSS, r)
			}
			if time.Since(lastReport) > 5*time.Second {
				fmt.Fprintf(progress, "  %5.1fs %s\n", time.Since(start).Seconds(), s)
				lastReport = time.Now()
			}
		}
	}
	ctrlCPU1, err := procstat.CPU(ctrl.pid())
	if err != nil {
		return err
	}
	gwCPU1, err := procstat.CPU(gw.pid())
	if err != nil {
		return err
	}
	ph.ControllerCPU, ph.GatewayCPU = ctrlCPU1-ctrlCPU0, gwCPU1-gwCPU0
	// The last status writes of the phase may still be in flight: settle.
	time.Sleep(time.Second)
	calls1, err := scrapeCalls(ctx, m.metrics)
	if err != nil {
		return err
	}
	d := calls1.minus(calls0)
	ph.Writes, ph.EventWrites, ph.Reads = d.writes, d.events, d.reads
	if ph.ControllerEndRSS, err = procstat.RSS(ctrl.pid()); err != nil {
		return err
	}
	ph.ControllerPeakRSS = max(ph.ControllerPeakRSS, ph.ControllerEndRSS)
	fmt.Fprintf(progress, "  done in %.2fs, controller CPU %.2fs, peak RSS %s\n", ph.Duration.Seconds(), ph.ControllerCPU.Seconds(), report.MiB(ph.ControllerPeakRSS))
	return nil
}

// clusterWatch follows the benchmark namespace's pods and Deployment.
type clusterWatch struct {
	conn    grpc.ClientConnInterface
	changed chan struct{}

	mu   sync.Mutex
	pods map[string]*shoalv1.Pod
	dep  *shoalv1.Deployment
}

// snapshot is what the watches show at one moment.
type snapshot struct {
	// active pods (not deleting, not finished) and, per image, those
	// bound to a node and ready.
	active     int
	readyBound map[string]int
	// done: the Deployment's rollout is complete (rollout.StatusOf).
	done bool
}

func (s snapshot) String() string {
	return fmt.Sprintf("active=%d ready(v1)=%d ready(v2)=%d rollout done=%v", s.active, s.readyBound[image(1)], s.readyBound[image(2)], s.done)
}

func newClusterWatch(conn grpc.ClientConnInterface) *clusterWatch {
	return &clusterWatch{conn: conn, changed: make(chan struct{}, 1), pods: map[string]*shoalv1.Pod{}}
}

func (w *clusterWatch) notify() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// run keeps both watches open (re-watching from the last revision when a
// stream ends) until ctx is done.
func (w *clusterWatch) run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() {
		follow(ctx, client.For[*shoalv1.Pod](w.conn), func(ev client.Event[*shoalv1.Pod]) {
			w.mu.Lock()
			if ev.Type == shoalv1.WatchEventType_WATCH_EVENT_TYPE_DELETED {
				delete(w.pods, ev.Object.GetMetadata().GetName())
			} else {
				w.pods[ev.Object.GetMetadata().GetName()] = ev.Object
			}
			w.mu.Unlock()
			w.notify()
		})
	})
	wg.Go(func() {
		follow(ctx, client.For[*shoalv1.Deployment](w.conn), func(ev client.Event[*shoalv1.Deployment]) {
			w.mu.Lock()
			w.dep = ev.Object
			w.mu.Unlock()
			w.notify()
		})
	})
	wg.Wait()
}

func follow[T interface {
	proto.Message
	GetMetadata() *shoalv1.ObjectMeta
}](ctx context.Context, cli *client.Resource[T], apply func(client.Event[T])) {
	rv := ""
	for ctx.Err() == nil {
		watch, err := cli.Watch(ctx, client.WatchOptions{Namespace: namespace, ResourceVersion: rv})
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		for {
			ev, err := watch.Recv()
			if err != nil {
				break
			}
			if ev.Type != shoalv1.WatchEventType_WATCH_EVENT_TYPE_BOOKMARK {
				apply(ev)
			}
			rv = ev.Object.GetMetadata().GetResourceVersion()
		}
		watch.Close()
	}
}

func (w *clusterWatch) snapshot() snapshot {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := snapshot{readyBound: map[string]int{}}
	for _, p := range w.pods {
		if !podstate.IsActive(p) {
			continue
		}
		s.active++
		if p.GetSpec().GetNodeName() != "" && podstate.IsReady(p) {
			s.readyBound[p.GetSpec().GetContainers()[0].GetImage()]++
		}
	}
	if w.dep != nil {
		st, err := rollout.StatusOf(w.dep)
		s.done = err == nil && st.Done
	}
	return s
}
