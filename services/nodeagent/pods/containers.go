package pods

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/containerd/containerd/v2/pkg/oci"
	"go.opentelemetry.io/otel/attribute"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/nodeagent/podlogs"
	"github.com/shoalmesh/shoal/services/nodeagent/probe"
	"github.com/shoalmesh/shoal/services/nodeagent/runtime"
	"github.com/shoalmesh/shoal/services/nodeagent/volumes"
)

func containerID(uid, name string, attempt int) string {
	return fmt.Sprintf("%s-%s-%d", uid, name, attempt)
}

// ensureContainer converges one spec container: start it, leave it running,
// or restart it per the restart policy once its back-off has passed.
func (m *Manager) ensureContainer(ctx context.Context, pod *shoalv1.Pod, st *podState, c *shoalv1.Container) error {
	st.mu.Lock()
	cs := st.containers[c.GetName()]
	if cs == nil {
		cs = &ctrState{name: c.GetName(), image: c.GetImage(), backoff: m.cfg.BackoffBase, pullBackoff: m.cfg.BackoffBase}
		st.containers[c.GetName()] = cs
	}
	if cs.adopted {
		cs.adopted = false
		t := cs.task
		cs.hasReadiness = c.GetReadinessProbe() != nil
		if cs.image == "" {
			cs.image = c.GetImage() // no record of it: take it as unchanged
		}
		st.mu.Unlock()
		m.watchContainer(pod, st, cs, c, t)
		st.mu.Lock()
	}
	if cs.running() {
		if runtime.Normalize(cs.image) == runtime.Normalize(c.GetImage()) {
			st.mu.Unlock()
			return nil
		}
		// The image was updated (the one change a pod update allows). As
		// the kubelet does for a changed container, stop it and start the
		// new one at once, whatever the restart policy.
		t, stop := cs.task, cs.stopProbes
		st.mu.Unlock()
		m.normal(pod, reasonKilling, "Container %s definition changed, will be restarted", c.GetName())
		if stop != nil {
			stop()
		}
		m.rt.Stop(ctx, t, podGrace(pod))
		st.mu.Lock()
		markStopped(cs, t)
		cs.specChanged = true
		attempt := cs.attempt + 1
		st.mu.Unlock()
		return m.restart(ctx, pod, st, cs, c, t, attempt)
	}
	attempt := cs.attempt
	if cs.exited {
		if !cs.specChanged && !shouldRestart(pod.GetSpec().GetRestartPolicy(), cs) {
			st.mu.Unlock()
			return nil
		}
		if cs.nextStart.IsZero() {
			// The container ran long enough: forget earlier crashes.
			if cs.exit.ExitedAt.Sub(cs.startedAt) > 10*m.cfg.BackoffMax {
				cs.backoff = m.cfg.BackoffBase
			}
			cs.nextStart = cs.exit.ExitedAt.Add(cs.backoff)
			cs.backoff = min(2*cs.backoff, m.cfg.BackoffMax)
			if time.Now().Before(cs.nextStart) {
				// One event per crash, not per sync of the waiting pod.
				defer m.warning(pod, reasonBackOff, "Back-off restarting failed container %s in pod %s", c.GetName(), st.key)
			}
		}
		attempt = cs.attempt + 1
	}
	if time.Now().Before(cs.nextStart) {
		if cs.waitReason == waitErrImagePull && !time.Now().Before(cs.pullFlipAt) {
			// As the kubelet: a failed pull shows as ErrImagePull, then
			// the container waits in ImagePullBackOff until the retry.
			cs.waitReason = waitImagePullBackOff
			cs.waitMsg = fmt.Sprintf("Back-off pulling image %q: %s", c.GetImage(), cs.waitMsg)
			defer m.normal(pod, reasonBackOff, "Back-off pulling image %q", c.GetImage())
			defer m.warning(pod, reasonFailed, "Error: %s", waitImagePullBackOff)
		}
		st.mu.Unlock()
		return nil
	}
	old := cs.task
	st.mu.Unlock()
	return m.restart(ctx, pod, st, cs, c, old, attempt)
}

// podGrace is the pod's termination grace period (30 s when unset).
func podGrace(pod *shoalv1.Pod) time.Duration {
	if g := pod.GetSpec().TerminationGracePeriodSeconds; g != nil {
		return time.Duration(max(*g, 0)) * time.Second
	}
	return 30 * time.Second
}

// markStopped records that the agent stopped t (it has exited, or Stop
// gave up waiting and it counts as killed). Call with st.mu held.
func markStopped(cs *ctrState, t *runtime.Task) {
	select {
	case <-t.Exited:
		cs.exited, cs.exit = true, t.Exit()
	default:
		cs.exited, cs.exit = true, runtime.Exit{Code: 137}
	}
	if cs.exit.ExitedAt.IsZero() {
		cs.exit.ExitedAt = time.Now()
	}
	cs.ready = false
}

// restart removes the container's previous instance old (nil for none)
// and starts attempt; a start that fails backs off.
func (m *Manager) restart(ctx context.Context, pod *shoalv1.Pod, st *podState, cs *ctrState, c *shoalv1.Container, old *runtime.Task, attempt int) error {
	if old != nil {
		// Keep the old instance's log as "previous"; drop its container.
		if err := m.rt.Remove(ctx, old.Container); err != nil {
			return err
		}
	}
	sctx, span := m.childSpan(ctx, spanStartContainer,
		attribute.String("shoal.pod", st.key), attribute.String("shoal.container", c.GetName()),
		attribute.String("shoal.image", c.GetImage()), attribute.String("shoal.node", m.cfg.NodeName),
		attribute.Int("shoal.container.attempt", attempt))
	err := m.startContainer(sctx, pod, st, cs, c, attempt)
	result := "Started"
	if err != nil {
		result = startErrReason(err)
	}
	span.SetAttributes(attribute.String("shoal.result", result))
	endSpan(span, err)
	if err != nil {
		st.mu.Lock()
		reason := startErrReason(err)
		cs.waitReason, cs.waitMsg = reason, err.Error()
		if reason == waitErrImagePull || reason == waitErrImageNeverPull {
			// Image pulls back off on their own schedule, as the
			// kubelet's image back-off is apart from its crash back-off.
			if cs.pullBackoff <= 0 {
				cs.pullBackoff = m.cfg.BackoffBase
			}
			cs.nextStart = time.Now().Add(cs.pullBackoff)
			cs.pullFlipAt = time.Now().Add(pullBackOffShown(cs.pullBackoff))
			cs.pullBackoff = min(2*cs.pullBackoff, m.cfg.BackoffMax)
		} else {
			cs.nextStart = time.Now().Add(cs.backoff)
			cs.backoff = min(2*cs.backoff, m.cfg.BackoffMax)
		}
		st.mu.Unlock()
		m.warning(pod, reasonFailed, "Error: %s", reason)
		m.log.Warn("container did not start", "pod", st.key, "container", c.GetName(), "reason", reason, "err", err)
		return nil // retried after the back-off via nextWake, not the rate limiter
	}
	return nil
}

// startErrReason is the Waiting reason of a container that did not start.
func startErrReason(err error) string {
	var cerr configErr
	var ierr imageErr
	switch {
	case errors.As(err, &ierr):
		return ierr.reason
	case errors.As(err, &cerr):
		return "CreateContainerConfigError"
	}
	return "CreateContainerError"
}

func shouldRestart(p shoalv1.RestartPolicy, cs *ctrState) bool {
	switch p {
	case shoalv1.RestartPolicy_RESTART_POLICY_NEVER:
		return false
	case shoalv1.RestartPolicy_RESTART_POLICY_ON_FAILURE:
		return cs.exit.Code != 0 || cs.livenessFailed
	default:
		return true
	}
}

func (m *Manager) startContainer(ctx context.Context, pod *shoalv1.Pod, st *podState, cs *ctrState, c *shoalv1.Container, attempt int) error {
	st.mu.Lock()
	podIP := st.ip
	st.mu.Unlock()
	p := m.takePrepared(st, c, attempt)
	meshMounts, meshEnv, err := m.meshSetup(pod, st.uid, podIP, c)
	if err != nil {
		if p != nil && p.err == nil {
			m.rt.Discard(ctx, p.prep)
			p.log.Close()
		}
		return err
	}
	var (
		prep *runtime.Prepared
		w    *podlogs.Writer
	)
	if p != nil {
		prep, w, err = p.prep, p.log, p.err
	} else {
		prep, w, err = m.prepareContainer(ctx, pod, st, c, attempt)
	}
	if err != nil {
		return err
	}
	st.mu.Lock()
	cs.pullBackoff = m.cfg.BackoffBase
	paths, netnsPath, ip, ns := st.volumes, st.netnsPath, st.ip, st.ns
	st.mu.Unlock()
	abandon := func() {
		m.rt.Discard(ctx, prep)
		w.Close()
	}
	if ns.IPC == "" {
		abandon()
		return fmt.Errorf("pods: %s has no sandbox namespaces", st.key)
	}
	if paths == nil {
		// Adopted pod: volumes exist; recompute their paths (idempotent).
		if paths, err = volumes.Setup(m.podDir(st.uid), pod.GetSpec().GetVolumes()); err != nil {
			abandon()
			return err
		}
		st.mu.Lock()
		st.volumes = paths
		st.mu.Unlock()
	}
	mounts, err := volumes.Mounts(c, paths)
	if err != nil {
		abandon()
		return err
	}
	mounts = append(mounts, meshMounts...)
	id := prep.ID
	labels := m.labels(st, roleContainer)
	labels[labelContainer] = c.GetName()
	labels[labelAttempt] = strconv.Itoa(attempt)
	ctr, err := m.rt.Commit(ctx, prep, labels,
		runtime.WithSandboxNamespaces(netnsPath, ns.IPC, ns.UTS),
		oci.WithEnv(append(meshEnv, envOf(pod, c, ip, m.cfg.NodeIP)...)),
		oci.WithMounts(mounts))
	if err != nil {
		w.Close()
		return err
	}
	m.normal(pod, reasonCreated, "Created container %s", c.GetName())
	t, err := m.rt.Start(ctx, ctr, w.Stream("stdout"), w.Stream("stderr"))
	if err != nil {
		w.Close()
		_ = m.rt.Remove(ctx, ctr)
		return err
	}
	m.normal(pod, reasonStarted, "Started container %s", c.GetName())
	st.mu.Lock()
	if cs.exited && cs.task != nil {
		cs.lastTerm = terminated(cs)
	}
	if cs.log != nil {
		cs.log.Close()
	}
	cs.attempt, cs.id, cs.task, cs.log, cs.image = attempt, id, t, w, c.GetImage()
	cs.startedAt, cs.exited, cs.exit = time.Now(), false, runtime.Exit{}
	cs.waitReason, cs.waitMsg, cs.nextStart, cs.livenessFailed, cs.specChanged = "", "", time.Time{}, false, false
	cs.hasReadiness = c.GetReadinessProbe() != nil
	cs.ready = false
	st.mu.Unlock()
	if attempt >= 2 {
		// Keep the current and the previous instance's logs only.
		old := m.logPath(st.namespace, st.name, st.uid, c.GetName(), attempt-2)
		_ = os.Remove(old)
		_ = os.Remove(old + ".1")
	}
	m.watchContainer(pod, st, cs, c, t)
	return nil
}

// watchContainer records the task's exit and runs its probes; both only
// touch cs under st.mu and enqueue the pod.
func (m *Manager) watchContainer(pod *shoalv1.Pod, st *podState, cs *ctrState, c *shoalv1.Container, t *runtime.Task) {
	pctx, cancel := context.WithCancel(context.Background())
	st.mu.Lock()
	cs.stopProbes = cancel
	st.mu.Unlock()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		select {
		case <-t.Exited:
		case <-m.done:
			cancel()
			return
		}
		cancel()
		st.mu.Lock()
		if cs.task == t {
			cs.exited, cs.exit, cs.ready = true, t.Exit(), false
			if cs.exit.ExitedAt.IsZero() {
				cs.exit.ExitedAt = time.Now()
			}
		}
		st.mu.Unlock()
		m.q.Add(st.key)
	}()
	st.mu.Lock()
	ip := st.ip
	st.mu.Unlock()
	target := probe.Target{IP: ip, Ports: c.GetPorts(), Exec: &execer{m: m, t: t}}
	unhealthy := func(kind string) probe.RunOption {
		return probe.OnFailure(func(err error) {
			m.warning(pod, reasonUnhealthy, "%s probe failed: %s", kind, strings.TrimPrefix(err.Error(), probe.ErrProbe.Error()+": "))
		})
	}
	if p := c.GetReadinessProbe(); p != nil {
		go probe.Run(pctx, p, target, false, func(ok bool, err error) {
			st.mu.Lock()
			if cs.task == t {
				cs.ready = ok
			}
			st.mu.Unlock()
			m.q.Add(st.key)
		}, unhealthy("Readiness"))
	}
	if p := c.GetLivenessProbe(); p != nil {
		grace := podGrace(pod)
		go probe.Run(pctx, p, target, true, func(ok bool, err error) {
			if ok {
				return
			}
			m.log.Info("liveness probe failed, restarting container", "pod", st.key, "container", c.GetName(), "err", err)
			m.normal(pod, reasonKilling, "Container %s failed liveness probe, will be restarted", c.GetName())
			st.mu.Lock()
			if cs.task == t {
				cs.livenessFailed = true
			}
			st.mu.Unlock()
			// The kill outlives the probe loop that ordered it.
			m.rt.Stop(context.WithoutCancel(pctx), t, grace)
		}, unhealthy("Liveness"))
	}
}

var execSeq atomic.Int64

type execer struct {
	m *Manager
	t *runtime.Task
}

func (e *execer) Exec(ctx context.Context, argv []string) (int, error) {
	id := fmt.Sprintf("probe-%d", execSeq.Add(1))
	return e.m.rt.Exec(ctx, e.t.Container, e.t.Task, id, argv, nil)
}

func envOf(pod *shoalv1.Pod, c *shoalv1.Container, podIP, hostIP string) []string {
	var env []string
	for _, e := range c.GetEnv() {
		v := e.GetValue()
		if fp := e.GetValueFrom().GetFieldPath(); fp != "" {
			switch fp {
			case "metadata.name":
				v = pod.GetMetadata().GetName()
			case "metadata.namespace":
				v = pod.GetMetadata().GetNamespace()
			case "metadata.uid":
				v = pod.GetMetadata().GetUid()
			case "spec.nodeName", "spec.node_name":
				v = pod.GetSpec().GetNodeName()
			case "status.podIP", "status.pod_ip":
				v = podIP
			case "status.hostIP", "status.host_ip":
				v = hostIP
			}
		}
		env = append(env, e.GetName()+"="+v)
	}
	return env
}

func terminated(cs *ctrState) *shoalv1.ContainerStateTerminated {
	reason := "Completed"
	if cs.exit.Code != 0 {
		reason = "Error"
	}
	if cs.livenessFailed {
		reason = "LivenessProbeFailed"
	}
	msg := ""
	if cs.exit.Err != nil {
		msg = cs.exit.Err.Error()
	}
	return &shoalv1.ContainerStateTerminated{
		ExitCode: int32(cs.exit.Code), Reason: reason, Message: msg,
		StartedAt: tsOf(cs.startedAt), FinishedAt: tsOf(cs.exit.ExitedAt),
		ContainerId: "containerd://" + cs.id,
	}
}
