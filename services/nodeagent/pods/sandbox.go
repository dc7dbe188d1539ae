package pods

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/containerd/containerd/v2/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/nodeagent/podns"
	"github.com/shoalmesh/shoal/services/nodeagent/runtime"
	"github.com/shoalmesh/shoal/services/nodeagent/volumes"
)

func sandboxID(uid string) string { return uid + "-sandbox" }

// nsDir holds the pod's pinned IPC and UTS namespaces.
func (m *Manager) nsDir(uid string) string { return filepath.Join(m.podDir(uid), "ns") }

// ensureSandbox brings up the pod's volumes, namespaces and network once,
// and begins its pause container (see startSandbox).
func (m *Manager) ensureSandbox(ctx context.Context, pod *shoalv1.Pod, st *podState) error {
	st.mu.Lock()
	up := st.up
	st.mu.Unlock()
	if up {
		return nil
	}
	ctx, span := m.childSpan(ctx, spanSandbox, attribute.String("shoal.pod", st.key), attribute.String("shoal.node", m.cfg.NodeName))
	err := m.startSandbox(ctx, pod, st)
	if err == nil {
		st.mu.Lock()
		span.SetAttributes(attribute.String("shoal.pod.ip", st.ip))
		st.mu.Unlock()
	}
	endSpan(span, err)
	return err
}

// pauseStart is a pause container being made while the pod's first
// containers are: its record (snapshot, spec, labels with the pod IP) in
// the background from startSandbox on, its task by startPause once the
// containers' tasks exist.
type pauseStart struct {
	span trace.Span
	// queued: the pod's key was queued for the sync that makes the task,
	// at queuedAt (zero for a pause found by Adopt: made at once).
	queued   bool
	queuedAt time.Time
	// done is closed when c and err are set.
	done chan struct{}
	c    client.Container
	err  error
}

// startSandbox makes the volumes, the network namespace with its CNI
// attachment and the pinned IPC and UTS namespaces (hostname set), undoing
// what it made on failure, and returns once the pod has its IP: the app
// containers need nothing else, as they join the namespaces by path.
//
// The pause container's record is made meanwhile, and its task after the
// app containers' (startPause), off the path to the pod's start: the pod's
// first task create spawns its shim, which creates one task at a time, so
// the pause task first would delay the app's create by a whole runc create.
func (m *Manager) startSandbox(ctx context.Context, pod *shoalv1.Pod, st *podState) error {
	paths, err := volumes.Setup(m.podDir(st.uid), pod.GetSpec().GetVolumes())
	if err != nil {
		m.setSandboxErr(st, err)
		return err
	}
	img, err := m.rt.Image(ctx, m.cfg.PauseImage)
	var cfg ocispec.ImageConfig
	if err == nil {
		cfg, err = m.rt.ImageConfig(ctx, img)
	}
	if err != nil {
		m.setSandboxErr(st, err)
		return fmt.Errorf("pods: pause image: %w", err)
	}
	netnsPath, err := m.net.NewNamespace()
	if err != nil {
		m.setSandboxErr(st, err)
		return err
	}
	hostname := pod.GetSpec().GetHostname()
	if hostname == "" {
		hostname = st.name
	}
	if len(hostname) > 63 {
		hostname = hostname[:63]
	}
	ns, err := podns.Pin(m.nsDir(st.uid), hostname)
	if err != nil {
		_ = m.net.Teardown(ctx, st.uid, netnsPath)
		m.setSandboxErr(st, err)
		return err
	}
	// CNI and the pause container's snapshot need only the namespaces: do
	// both at once.
	type attached struct {
		ip  string
		err error
	}
	cniDone := make(chan attached, 1)
	go func() {
		ctx, span := m.childSpan(ctx, spanNetworkSetup, attribute.String("shoal.pod", st.key))
		ip, err := m.net.Attach(ctx, st.uid, netnsPath)
		if err == nil {
			span.SetAttributes(attribute.String("shoal.pod.ip", ip))
		}
		endSpan(span, err)
		cniDone <- attached{ip, err}
	}()
	pauseCtx, span := m.childSpan(ctx, spanStartPause, attribute.String("shoal.pod", st.key), attribute.String("shoal.image", m.cfg.PauseImage))
	// The pause process only sleeps: its spec comes from the image config
	// read once, and a sandbox left half-made by an earlier failed attempt
	// is replaced by Prepare.
	prep, err := m.rt.Prepare(pauseCtx, sandboxID(st.uid), img, runtime.WithImageProcess(cfg),
		runtime.WithSandboxNamespaces(netnsPath, ns.IPC, ns.UTS), runtime.WithShimGroup(sandboxID(st.uid)))
	cni := <-cniDone
	if err != nil || cni.err != nil {
		if err == nil {
			m.rt.Discard(ctx, prep)
			err = cni.err
		}
		_ = m.net.Teardown(ctx, st.uid, netnsPath)
		_ = podns.Release(m.nsDir(st.uid))
		endSpan(span, err)
		m.setSandboxErr(st, err)
		return err
	}
	st.mu.Lock()
	st.up, st.netnsPath, st.ns, st.ip, st.volumes, st.sandboxErr = true, netnsPath, ns, cni.ip, paths, ""
	if st.startTime.IsZero() {
		st.startTime = time.Now()
	}
	st.mu.Unlock()
	// The record carries the IP from its creation: a restarted agent
	// re-adopts a sandbox by its labels, and one write is cheaper than two.
	labels := m.labels(st, roleSandbox)
	labels[labelNetNS] = netnsPath
	labels[labelIP] = cni.ip
	p := &pauseStart{span: span, done: make(chan struct{})}
	st.pause = p
	go func() {
		defer close(p.done)
		p.c, p.err = m.rt.Commit(pauseCtx, prep, labels)
	}()
	return nil
}

// adoptedPause is the pause container c, found without a task by Adopt,
// whose task startPause is to make.
func adoptedPause(c client.Container) *pauseStart {
	p := &pauseStart{span: trace.SpanFromContext(context.Background()), done: make(chan struct{}), c: c, queued: true}
	close(p.done)
	return p
}

// startPause creates and starts the task of the pause container begun by
// startSandbox (waiting for its record), on the pod's sync after the one
// that started it, with ctx rather than that sync's lease, which is gone. Should it fail, the pod is up without a
// sandbox: the next sync (the error requeues the pod) handles it as a
// sandbox that died (sandboxChanged).
func (m *Manager) startPause(ctx context.Context, st *podState) error {
	p := st.pause
	if p == nil {
		return nil
	}
	st.pause = nil
	<-p.done
	err := p.err
	var t *runtime.Task
	if err == nil {
		if t, err = m.rt.CreateTask(ctx, p.c, nil, nil); err == nil {
			err = m.rt.StartTask(ctx, t)
		}
	}
	endSpan(p.span, err)
	if err != nil {
		m.setSandboxErr(st, err)
		return fmt.Errorf("pods: starting the sandbox of %s: %w", st.key, err)
	}
	st.mu.Lock()
	st.sandbox = t
	st.mu.Unlock()
	m.watchSandbox(st, t)
	return nil
}

func (m *Manager) setSandboxErr(st *podState, err error) {
	st.mu.Lock()
	st.sandboxErr = err.Error()
	st.mu.Unlock()
}

func (m *Manager) labels(st *podState, role string) map[string]string {
	return map[string]string{
		LabelPodUID: st.uid, labelNamespace: st.namespace, labelName: st.name, labelRole: role,
		labelCreated: time.Now().UTC().Format(time.RFC3339Nano),
	}
}

func (m *Manager) removeContainerID(ctx context.Context, id string) {
	c, err := m.rt.Client().LoadContainer(m.rt.WithNamespace(ctx), id)
	if err == nil {
		_ = m.rt.Remove(ctx, c)
	}
}

// stopContainers stops the pod's containers that pick selects: their
// probes first, then all their tasks at once (SIGTERM, grace, SIGKILL),
// onStop (may be nil) just before each. It returns them with the sandbox
// and network namespace they ran in.
func (m *Manager) stopContainers(ctx context.Context, st *podState, pick func(*ctrState) bool, grace time.Duration, onStop func(*ctrState)) ([]*ctrState, *runtime.Task, string) {
	st.mu.Lock()
	var picked []*ctrState
	for _, c := range st.containers {
		if pick(c) {
			picked = append(picked, c)
			if c.stopProbes != nil {
				c.stopProbes()
			}
		}
	}
	sandbox, netnsPath := st.sandbox, st.netnsPath
	st.mu.Unlock()

	var wg sync.WaitGroup
	for _, c := range picked {
		if c.task == nil {
			continue
		}
		if onStop != nil {
			onStop(c)
		}
		wg.Go(func() { m.rt.Stop(ctx, c.task, grace) })
	}
	wg.Wait()
	return picked, sandbox, netnsPath
}

// teardown stops every container (SIGTERM, grace, SIGKILL), then removes
// containers, sandbox, network, volumes and logs. Safe to repeat.
func (m *Manager) teardown(ctx context.Context, st *podState, grace time.Duration) error {
	ctrs, sandbox, netnsPath := m.stopContainers(ctx, st, func(*ctrState) bool { return true }, grace, nil)
	var errs []error
	for _, c := range ctrs {
		if c.task != nil {
			if err := m.rt.Remove(ctx, c.task.Container); err != nil {
				errs = append(errs, err)
			}
		}
		if c.log != nil {
			c.log.Close()
		}
	}
	// Containers of earlier attempts or of a crashed agent, by label.
	if cs, err := m.rt.Containers(ctx, runtime.LabelFilter(LabelPodUID, st.uid)); err == nil {
		for _, c := range cs {
			if c.ID() == sandboxID(st.uid) {
				continue
			}
			if err := m.rt.Remove(ctx, c); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if sandbox != nil {
		m.rt.Stop(ctx, sandbox, 0)
	}
	if p := st.pause; p != nil {
		// A pause container whose task was still to make: its record goes
		// with the sandbox's.
		st.pause = nil
		<-p.done
		endSpan(p.span, errors.New("pods: pod torn down before its sandbox started"))
	}
	m.removeContainerID(ctx, sandboxID(st.uid))
	if err := m.net.Teardown(ctx, st.uid, netnsPath); err != nil {
		errs = append(errs, err)
	}
	// The pinned namespaces go before the pod directory holding them.
	if err := podns.Release(m.nsDir(st.uid)); err != nil {
		errs = append(errs, err)
	} else if err := volumes.Teardown(m.podDir(st.uid)); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(m.logDir(st.namespace, st.name, st.uid)); err != nil {
		errs = append(errs, err)
	}
	st.mu.Lock()
	st.up, st.sandbox, st.containers = false, nil, map[string]*ctrState{}
	st.mu.Unlock()
	return errors.Join(errs...)
}

// watchSandbox enqueues the pod when its pause process exits, so that a
// sandbox killed from outside is handled at once rather than at the next
// resync (which would notice it too).
func (m *Manager) watchSandbox(st *podState, t *runtime.Task) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		select {
		case <-t.Exited:
			m.q.Add(st.key)
		case <-m.done:
		}
	}()
}

// sandboxDied says whether the pod's pause process has exited under it,
// or never came up (startPause failed; one still to make is pending).
func sandboxDied(st *podState) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.up || st.sandboxLost {
		return false
	}
	if st.sandbox == nil {
		return st.pause == nil
	}
	select {
	case <-st.sandbox.Exited:
		return true
	default:
		return false
	}
}

// sandboxChanged handles a sandbox that died while the pod runs, as the
// kubelet does: the pod's containers lose their network and IPC/UTS
// namespaces' owner, so they are stopped (with the pod's grace period),
// the old sandbox and its network go, and the next ensureSandbox makes a
// new one; containers the restart policy restarts start again at once
// (their restart counts go up). When no container would start again
// (restart policy Never, or OnFailure with every container succeeded), no
// sandbox is made and the pod ends with what its containers did.
func (m *Manager) sandboxChanged(ctx context.Context, pod *shoalv1.Pod, st *podState) error {
	m.log.Info("pod sandbox died, stopping its containers and recreating it", "pod", st.key, "uid", st.uid)
	m.normal(pod, reasonSandboxChanged, "Pod sandbox changed, it will be killed and re-created.")
	running, sandbox, netnsPath := m.stopContainers(ctx, st, (*ctrState).running, podGrace(pod), func(cs *ctrState) {
		m.normal(pod, reasonKilling, "Stopping container %s", cs.name)
	})

	policy := pod.GetSpec().GetRestartPolicy()
	st.mu.Lock()
	for _, cs := range running {
		markStopped(cs, cs.task)
		cs.adopted = false // nothing left to watch
		if shouldRestart(policy, cs) {
			// Not a crash: start again now, without a back-off.
			cs.nextStart = time.Now()
		}
	}
	restart := false
	for _, c := range m.containersOf(pod) {
		cs := st.containers[c.GetName()]
		if cs == nil || !cs.exited || shouldRestart(policy, cs) {
			restart = true
		}
	}
	st.mu.Unlock()

	var errs []error
	if sandbox != nil {
		if err := m.rt.Remove(ctx, sandbox.Container); err != nil {
			errs = append(errs, err)
		}
	} else {
		m.removeContainerID(ctx, sandboxID(st.uid)) // its task never started
	}
	if err := m.net.Teardown(ctx, st.uid, netnsPath); err != nil {
		errs = append(errs, err)
	}
	// A new sandbox has new namespaces, as the kubelet's does.
	if err := podns.Release(m.nsDir(st.uid)); err != nil {
		errs = append(errs, err)
	}
	st.mu.Lock()
	if restart {
		st.up, st.sandbox, st.netnsPath, st.ns, st.ip = false, nil, "", podns.Paths{}, ""
	} else {
		// Keep the dead task: the status is computed from what the
		// containers did, and teardown at deletion finds nothing left.
		st.sandboxLost = true
	}
	st.mu.Unlock()
	return errors.Join(errs...)
}
