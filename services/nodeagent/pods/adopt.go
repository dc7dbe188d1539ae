package pods

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"time"

	"github.com/containerd/containerd/v2/client"

	"github.com/shoalmesh/shoal/services/nodeagent/podlogs"
	"github.com/shoalmesh/shoal/services/nodeagent/podns"
	"github.com/shoalmesh/shoal/services/nodeagent/runtime"
)

// Adopt rebuilds the state of pods started by an earlier agent process from
// containerd's labels and re-attaches to their tasks, so that they keep
// running. A pod whose sandbox container is gone, or whose pause task is
// gone without pinned namespaces, is torn down (sync recreates it if the
// pod still exists); one whose pause task was never made (the agent
// stopped after its containers started) is adopted with that task pending,
// which its first sync makes; one whose pause process has exited is
// adopted as it is, and its first sync recreates the sandbox (see
// sandboxChanged). Probes and exit watchers start at the pod's first sync,
// when its spec is known.
func (m *Manager) Adopt(ctx context.Context) error {
	all, err := m.rt.Containers(ctx, runtime.LabelFilter(LabelPodUID, ""))
	if err != nil {
		return err
	}
	byUID := map[string][]client.Container{}
	labels := map[string]map[string]string{}
	for _, c := range all {
		l, err := c.Labels(m.rt.WithNamespace(ctx))
		if err != nil {
			continue
		}
		uid := l[LabelPodUID]
		byUID[uid] = append(byUID[uid], c)
		labels[c.ID()] = l
	}
	for uid, cs := range byUID {
		var sandbox client.Container
		for _, c := range cs {
			if labels[c.ID()][labelRole] == roleSandbox {
				sandbox = c
			}
		}
		any := labels[cs[0].ID()]
		st := &podState{key: any[labelNamespace] + "/" + any[labelName], uid: uid,
			namespace: any[labelNamespace], name: any[labelName], containers: map[string]*ctrState{}}
		ok := sandbox != nil
		if ok {
			l := labels[sandbox.ID()]
			t, err := m.rt.Attach(ctx, sandbox, nil, nil)
			pending := errors.Is(err, runtime.ErrNoTask) && podns.Pinned(m.nsDir(uid))
			switch {
			case l[labelIP] == "":
				ok = false
			case pending:
				// The agent stopped between the pod's start (its
				// containers run in its pinned namespaces, its status may
				// say Ready) and the pause container's task: the first
				// sync makes that task, as the start would have.
				st.up, st.netnsPath, st.ip, st.ns = true, l[labelNetNS], l[labelIP], podns.PathsIn(m.nsDir(uid))
				st.startTime = created(l)
				st.pause = adoptedPause(sandbox)
			case err != nil:
				ok = false
			default:
				if m.rt.Created(ctx, t) {
					// Stopped between the pause task's create and start.
					// Should the start fail, the task is gone and the
					// first sync recreates the sandbox.
					_ = m.rt.StartTask(ctx, t)
				}
				// A pause task that died while the agent was down is
				// adopted dead: the pod's first sync handles it as a
				// sandbox change (containers stopped and restarted with
				// their restart counts up, logs kept), as when it dies
				// under a running agent.
				st.up, st.sandbox, st.netnsPath, st.ip = true, t, l[labelNetNS], l[labelIP]
				st.startTime = created(l)
				st.ns, err = m.adoptNamespaces(st, t)
				ok = err == nil
			}
		}
		if !ok {
			m.log.Info("tearing down adopted pod without a live sandbox", "pod", st.key, "uid", uid)
			if sandbox != nil {
				st.netnsPath = labels[sandbox.ID()][labelNetNS]
			}
			if err := m.teardown(ctx, st, 0); err != nil {
				m.log.Warn("teardown of broken pod", "pod", st.key, "err", err)
			}
			continue
		}
		if err := m.adoptContainers(ctx, st, cs, labels); err != nil {
			return err
		}
		m.setState(st.key, st)
		if st.sandbox != nil {
			m.watchSandbox(st, st.sandbox)
		}
		m.log.Info("adopted pod", "pod", st.key, "uid", uid, "containers", len(st.containers))
	}
	return nil
}

// adoptNamespaces finds the pod's pinned IPC and UTS namespaces. A pod
// started by an agent that did not pin them has them in its pause process
// only: they are pinned from it, so that its containers' next starts join
// them by path as well. A dead pause process leaves nothing to pin: the
// first sync makes a new sandbox (the paths stay empty until then).
func (m *Manager) adoptNamespaces(st *podState, pause *runtime.Task) (podns.Paths, error) {
	dir := m.nsDir(st.uid)
	if podns.Pinned(dir) {
		return podns.PathsIn(dir), nil
	}
	select {
	case <-pause.Exited:
		return podns.Paths{}, nil
	default:
	}
	return podns.PinFrom(dir, pause.Pid())
}

func (m *Manager) adoptContainers(ctx context.Context, st *podState, cs []client.Container, labels map[string]map[string]string) error {
	sort.Slice(cs, func(i, j int) bool {
		return attemptOf(labels[cs[i].ID()]) > attemptOf(labels[cs[j].ID()])
	})
	for _, c := range cs {
		l := labels[c.ID()]
		if l[labelRole] != roleContainer {
			continue
		}
		name, attempt := l[labelContainer], attemptOf(l)
		if _, seen := st.containers[name]; seen {
			// An older attempt: only the newest matters.
			_ = m.rt.Remove(ctx, c)
			continue
		}
		w, err := podlogs.Open(m.logPath(st.namespace, st.name, st.uid, name, attempt), m.cfg.LogMaxSize,
			podlogs.Meta{Namespace: st.namespace, Pod: st.name, Container: name, Node: m.cfg.NodeName}, m.sink)
		if err != nil {
			return err
		}
		cst := &ctrState{name: name, attempt: attempt, id: c.ID(), log: w, startedAt: created(l),
			backoff: m.cfg.BackoffBase, pullBackoff: m.cfg.BackoffBase, adopted: true}
		if info, err := c.Info(m.rt.WithNamespace(ctx)); err == nil {
			// The image it runs: a pod updated while the agent was down
			// gets its container restarted with the new one.
			cst.image = info.Image
		}
		t, err := m.rt.Attach(ctx, c, w.Stream("stdout"), w.Stream("stderr"))
		if err == nil && m.rt.Created(ctx, t) {
			err = runtime.ErrNoTask // its start never came: as if it had no task
		}
		switch {
		case errors.Is(err, runtime.ErrNoTask):
			// Created but never started: start it again.
			_ = m.rt.Remove(ctx, c)
			w.Close()
			cst.log, cst.adopted = nil, false
		case err != nil:
			return err
		default:
			cst.task = t
			if isDone(t) {
				cst.exited, cst.exit = true, t.Exit()
			}
		}
		st.containers[name] = cst
	}
	return nil
}

func isDone(t *runtime.Task) bool {
	select {
	case <-t.Exited:
		return true
	case <-time.After(200 * time.Millisecond):
		return false
	}
}

func attemptOf(l map[string]string) int {
	n, _ := strconv.Atoi(l[labelAttempt])
	return n
}

func created(l map[string]string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, l[labelCreated])
	return t
}
