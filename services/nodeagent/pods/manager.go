package pods

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	kworkqueue "k8s.io/client-go/util/workqueue"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/informer"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/sdk/go/workqueue"
	"github.com/shoalmesh/shoal/services/nodeagent/network"
	"github.com/shoalmesh/shoal/services/nodeagent/podlogs"
	"github.com/shoalmesh/shoal/services/nodeagent/runtime"
)

// Config tunes the reconciler.
type Config struct {
	NodeName string
	NodeIP   string
	// PauseImage runs in every sandbox.
	PauseImage string
	// PodDir holds per-pod directories (emptyDir volumes).
	PodDir string
	// LogDir holds container logs: <ns>_<pod>_<uid>/<container>/<attempt>.log.
	LogDir     string
	LogMaxSize int64
	// BackoffBase and BackoffMax bound the restart back-off (CrashLoopBackOff).
	BackoffBase, BackoffMax time.Duration
	Workers                 int
	// ResyncPeriod re-syncs every pod (status refresh) this often.
	ResyncPeriod time.Duration
	// XDSAddress (host:port, as pods reach it) goes into the xDS bootstrap
	// of every pod with spec.mesh.enabled; without it such pods wait with
	// CreateContainerConfigError.
	XDSAddress string
	// EnvoyImage, when set, adds an Envoy sidecar to mesh pods.
	EnvoyImage string
	// ClusterDomain of the node ids ("" is cluster.local).
	ClusterDomain string
	// Metrics may be nil.
	Metrics *Metrics
	// Recorder records Events on the pods the agent acts on (pulls,
	// starts, kills, probe failures, back-offs); nil records nothing.
	Recorder EventRecorder
	// Tracer records pod starts as spans in the trace of the request that
	// created the pod; nil records nothing.
	Tracer trace.Tracer
}

// PodClient is the part of the Pod API the reconciler uses.
type PodClient interface {
	UpdateStatus(ctx context.Context, p *shoalv1.Pod, opts ...grpcCallOption) (*shoalv1.Pod, error)
	Delete(ctx context.Context, namespace, name string, o client.DeleteOptions, opts ...grpcCallOption) (*shoalv1.Pod, error)
}

// Manager reconciles the node's pods.
type Manager struct {
	cfg  Config
	rt   *runtime.Runtime
	net  *network.Network
	api  PodClient
	inf  *informer.Informer[*shoalv1.Pod]
	sink podlogs.Sink
	log  *slog.Logger
	q    kworkqueue.TypedRateLimitingInterface[string]

	mu     sync.Mutex
	states map[string]*podState
	// done is closed when Run returns: watchers of still-running
	// containers stop (the containers keep running).
	done chan struct{}
	// syncs counts finished syncs (tests and metrics).
	wg sync.WaitGroup
}

// New returns a reconciler; Run starts it.
func New(cfg Config, rt *runtime.Runtime, net *network.Network, api PodClient, inf *informer.Informer[*shoalv1.Pod], sink podlogs.Sink, log *slog.Logger) *Manager {
	if cfg.Workers <= 0 {
		cfg.Workers = 16
	}
	if cfg.BackoffBase <= 0 {
		cfg.BackoffBase = 10 * time.Second
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = 5 * time.Minute
	}
	if cfg.ResyncPeriod <= 0 {
		cfg.ResyncPeriod = 10 * time.Second
	}
	m := &Manager{cfg: cfg, rt: rt, net: net, api: api, inf: inf, sink: sink, log: log,
		q:      workqueue.New[string]("nodeagent_pods"),
		states: map[string]*podState{}, done: make(chan struct{})}
	inf.AddEventHandler(informer.HandlerFuncs[*shoalv1.Pod]{
		AddFunc:    func(p *shoalv1.Pod) { m.q.Add(kinds.Key(p)) },
		UpdateFunc: func(_, p *shoalv1.Pod) { m.q.Add(kinds.Key(p)) },
		DeleteFunc: func(p *shoalv1.Pod) { m.q.Add(kinds.Key(p)) },
	})
	return m
}

// Run adopts what containerd already runs, waits for the informer, then
// reconciles until ctx ends. The informer must be running.
func (m *Manager) Run(ctx context.Context) error {
	defer m.wg.Wait()
	defer close(m.done)
	defer m.q.ShutDown()
	if err := m.Adopt(ctx); err != nil {
		return err
	}
	if !m.inf.WaitForSync(ctx) {
		return ctx.Err()
	}
	// Adopted pods that are gone (deleted while the agent was down) are
	// orphans: their keys reach sync, which finds no pod and tears down.
	m.mu.Lock()
	for k := range m.states {
		m.q.Add(k)
	}
	m.mu.Unlock()
	go m.resync(ctx)
	workqueue.Run(ctx, m.q, m.cfg.Workers, m.sync, m.log)
	return nil
}

func (m *Manager) resync(ctx context.Context) {
	t := time.NewTicker(m.cfg.ResyncPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, k := range m.inf.Keys() {
				m.q.Add(k)
			}
		}
	}
}

func (m *Manager) state(key string) *podState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.states[key]
}

func (m *Manager) setState(key string, st *podState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if st == nil {
		delete(m.states, key)
	} else {
		m.states[key] = st
	}
}

// Pods is how many pods the agent currently runs something for.
func (m *Manager) Pods() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.states)
}

func (m *Manager) sync(ctx context.Context, key string) error {
	// A sync that has begun finishes even when the agent is stopping: a
	// teardown cut in half would leave a netns or an IP behind.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	defer cancel()
	pod, ok := m.inf.Get(key)
	st := m.state(key)
	if !ok || (st != nil && st.uid != pod.GetMetadata().GetUid()) {
		if st != nil {
			m.log.Info("tearing down pod that is gone", "pod", key, "uid", st.uid)
			err := m.teardown(ctx, st, 0)
			m.setState(key, nil)
			if err != nil {
				return err
			}
		}
		if !ok {
			return nil
		}
		st = nil
	}
	if pod.GetMetadata().GetDeletionTimestamp() != nil {
		return m.finishDeletion(ctx, pod, st)
	}
	if st == nil {
		if isTerminal(pod.GetStatus().GetPhase()) {
			return nil
		}
		st = &podState{key: key, uid: pod.GetMetadata().GetUid(), namespace: pod.GetMetadata().GetNamespace(),
			name: pod.GetMetadata().GetName(), containers: map[string]*ctrState{}}
		m.setState(key, st)
		if m.cfg.Tracer != nil {
			// The first sync starts the pod: sandbox, network, containers.
			// Later syncs (resyncs, probes) are not traced.
			var span trace.Span
			ctx, span = m.cfg.Tracer.Start(observability.ObjectContext(ctx, pod.GetMetadata().GetAnnotations()), spanStartPod,
				trace.WithAttributes(attribute.String("shoal.pod", key), attribute.String("shoal.node", m.cfg.NodeName)))
			defer span.End()
		}
	}
	var errs []error
	if sandboxDied(st) {
		if err := m.sandboxChanged(ctx, pod, st); err != nil {
			errs = append(errs, err)
		}
	}
	st.mu.Lock()
	lost := st.sandboxLost
	st.mu.Unlock()
	if lost {
		// Nothing runs again; only the status is kept up to date.
	} else {
		errs = append(errs, m.converge(ctx, pod, st)...)
	}
	// The status goes out as soon as the containers run, before the pause
	// container's task: the pod's namespaces and network exist already.
	pod, err := m.writeStatus(ctx, pod, st)
	if err != nil {
		errs = append(errs, err)
	}
	if p := st.pause; p != nil {
		switch {
		case !p.queued:
			// The pause task is made by the pod's next sync, behind the
			// pods already queued: when many pods start at once, their
			// containers come first and the pause tasks, which nothing
			// waits for, after (a runc create each, on a node's CPUs).
			p.queued, p.queuedAt = true, time.Now()
			m.q.Add(key)
		case time.Since(p.queuedAt) < pauseDeferMax && m.startsWaiting(key):
			// Pods still to start come first, also those queued after
			// this one: in a burst every pod's Ready waits for the CPU
			// its predecessors use, and a pause task is such a use that
			// no one waits for. Bounded, so that a pod that never comes
			// up does not hold back the others' sandboxes for good.
			m.q.AddAfter(key, pauseDeferRetry)
		default:
			if err := m.startPause(ctx, st); err != nil {
				errs = append(errs, err)
			}
			// Unchanged unless the pause container failed (nothing written).
			if _, err := m.writeStatus(ctx, pod, st); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if d := m.nextWake(st); d > 0 {
		m.q.AddAfter(key, d)
	}
	return errors.Join(errs...)
}

// How long a pause task waits for pods still to start, and how often it
// looks again.
const (
	pauseDeferMax   = 10 * time.Second
	pauseDeferRetry = 100 * time.Millisecond
)

// startsWaiting reports whether a pod of the node other than key is still
// to start: not seen by a sync yet, or its sandbox not up.
func (m *Manager) startsWaiting(key string) bool {
	for _, k := range m.inf.Keys() {
		pod, ok := m.inf.Get(k)
		if k == key || !ok || pod.GetMetadata().GetDeletionTimestamp() != nil || isTerminal(pod.GetStatus().GetPhase()) {
			continue
		}
		st := m.state(k)
		if st == nil {
			return true
		}
		st.mu.Lock()
		up := st.up
		st.mu.Unlock()
		if !up {
			return true
		}
	}
	return false
}

// converge brings up the pod's sandbox when it is not up, then starts,
// leaves running or restarts each container. A sandbox that is made
// overlaps the preparation of the containers that start for the first
// time, and everything it makes shares one containerd lease. The pause
// container's task is left to startPause, after the status write.
func (m *Manager) converge(ctx context.Context, pod *shoalv1.Pod, st *podState) []error {
	st.mu.Lock()
	up := st.up
	st.mu.Unlock()
	var errs []error
	if !up {
		lctx, release, err := m.rt.WithLease(ctx)
		if err != nil {
			return []error{err}
		}
		ctx = lctx
		defer func() {
			// The lease only guards snapshots until their containers'
			// records exist: the pause container's included. Its
			// removal (a metadata write) is nobody's wait.
			if st.pause != nil {
				<-st.pause.done
			}
			m.wg.Go(release)
		}()
		m.prepareFirstStarts(ctx, pod, st)
	}
	if err := m.ensureSandbox(ctx, pod, st); err != nil {
		errs = append(errs, err)
	} else {
		for _, c := range m.containersOf(pod) {
			if err := m.ensureContainer(ctx, pod, st, c); err != nil {
				errs = append(errs, err)
			}
		}
	}
	m.discardPrepared(ctx, st)
	return errs
}

// finishDeletion stops the pod within what is left of its grace period,
// tears everything down and deletes the object for good.
func (m *Manager) finishDeletion(ctx context.Context, pod *shoalv1.Pod, st *podState) error {
	grace := time.Until(pod.GetMetadata().GetDeletionTimestamp().AsTime())
	if grace < 0 {
		grace = 0
	}
	if st != nil {
		st.mu.Lock()
		var running []string
		for _, cs := range st.containers {
			if cs.running() {
				running = append(running, cs.name)
			}
		}
		st.mu.Unlock()
		for _, name := range running {
			m.normal(pod, reasonKilling, "Stopping container %s", name)
		}
		if err := m.teardown(ctx, st, grace); err != nil {
			return err
		}
		m.setState(st.key, nil)
	}
	zero := int64(0)
	_, err := m.api.Delete(ctx, pod.GetMetadata().GetNamespace(), pod.GetMetadata().GetName(), client.DeleteOptions{
		GracePeriodSeconds: &zero, Preconditions: &shoalv1.Preconditions{Uid: pod.GetMetadata().GetUid()},
	})
	if err != nil && !client.IsNotFound(err) && !client.IsConflict(err) {
		return fmt.Errorf("pods: final delete of %s: %w", st.key, err)
	}
	return nil
}

func isTerminal(p shoalv1.PodPhase) bool {
	return p == shoalv1.PodPhase_POD_PHASE_SUCCEEDED || p == shoalv1.PodPhase_POD_PHASE_FAILED
}

func (m *Manager) nextWake(st *podState) time.Duration {
	st.mu.Lock()
	defer st.mu.Unlock()
	var d time.Duration
	wake := func(at time.Time) {
		if w := time.Until(at); w > 0 && (d == 0 || w+10*time.Millisecond < d) {
			d = w + 10*time.Millisecond
		}
	}
	for _, c := range st.containers {
		if !c.nextStart.IsZero() && !c.running() {
			wake(c.nextStart)
			if c.waitReason == waitErrImagePull {
				wake(c.pullFlipAt)
			}
		}
	}
	return d
}

// writeStatus writes the pod's status when it changed, and returns the pod
// as it now is (to compare a later write with).
func (m *Manager) writeStatus(ctx context.Context, pod *shoalv1.Pod, st *podState) (_ *shoalv1.Pod, err error) {
	status := m.buildStatus(pod, st)
	if proto.Equal(status, pod.GetStatus()) {
		return pod, nil
	}
	if m.cfg.Tracer != nil && !st.startupObserved && isReady(status) && !isReady(pod.GetStatus()) {
		// The write that first makes the pod Ready is what puts it into
		// its Service's endpoints: it belongs to the pod's trace even when
		// readiness comes on a later sync than the start (a readiness
		// probe passing), which holds no span of its own.
		var span trace.Span
		ctx, span = m.cfg.Tracer.Start(observability.ObjectContext(ctx, pod.GetMetadata().GetAnnotations()), spanPodReady,
			trace.WithAttributes(attribute.String("shoal.pod", st.key), attribute.String("shoal.node", m.cfg.NodeName),
				attribute.String("shoal.pod.ip", status.GetPodIp())))
		defer func() { endSpan(span, err) }()
	}
	upd := proto.Clone(pod).(*shoalv1.Pod)
	upd.Status = status
	upd.Metadata.ResourceVersion = ""
	written, err := m.api.UpdateStatus(ctx, upd)
	if err != nil {
		if client.IsNotFound(err) {
			return pod, nil
		}
		return pod, fmt.Errorf("pods: status of %s: %w", st.key, err)
	}
	if !st.startupObserved && isReady(status) && !isReady(pod.GetStatus()) {
		// First Ready of this pod seen by this agent: the startup SLI.
		st.startupObserved = true
		m.cfg.Metrics.observeStartup(pod.GetMetadata().GetCreationTimestamp().AsTime())
	}
	if written == nil {
		written = upd
	}
	return written, nil
}

func isReady(s *shoalv1.PodStatus) bool {
	for _, c := range s.GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetStatus() == shoalv1.ConditionStatus_CONDITION_STATUS_TRUE
		}
	}
	return false
}

func (m *Manager) podDir(uid string) string { return filepath.Join(m.cfg.PodDir, uid) }

func (m *Manager) logDir(ns, name, uid string) string {
	return filepath.Join(m.cfg.LogDir, ns+"_"+name+"_"+uid)
}

func (m *Manager) logPath(ns, name, uid, container string, attempt int) string {
	return filepath.Join(m.logDir(ns, name, uid), container, fmt.Sprintf("%d.log", attempt))
}
