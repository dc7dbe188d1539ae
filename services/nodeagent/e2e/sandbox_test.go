package e2e

import (
	"context"
	"syscall"
	"testing"
	"time"

	containerdclient "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
)

// sandboxPid waits for a running pause process of the pod other than pid
// not and returns its host pid, read with a containerd client of its own
// (the agent may be stopped).
func (e *env) sandboxPid(uid string, not uint32) uint32 {
	e.t.Helper()
	// The pause task is made after the pod is Ready, once no other pod of
	// the node is still to start: wait for it.
	deadline := time.Now().Add(90 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		var pid uint32
		pid, err = e.sandboxTask(uid, func(ctx context.Context, t containerdclient.Task) (uint32, error) {
			st, err := t.Status(ctx)
			if err != nil || st.Status != containerdclient.Running {
				return 0, err
			}
			return t.Pid(), nil
		})
		if err == nil && pid != 0 && pid != not {
			return pid
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatalf("no running sandbox task of %s other than pid %d: %v", uid, not, err)
	return 0
}

// sandboxPidOrZero is sandboxPid, 0 while the pod has no pause task.
func (e *env) sandboxPidOrZero(uid string) uint32 {
	pid, _ := e.sandboxTask(uid, func(ctx context.Context, t containerdclient.Task) (uint32, error) { return t.Pid(), nil })
	return pid
}

// deleteSandboxTask kills and deletes the pod's pause task, leaving its
// container: as an agent stopped before making the task leaves it.
func (e *env) deleteSandboxTask(uid string) {
	e.t.Helper()
	_, err := e.sandboxTask(uid, func(ctx context.Context, t containerdclient.Task) (uint32, error) {
		_, err := t.Delete(ctx, containerdclient.WithProcessKill)
		return 0, err
	})
	if err != nil {
		e.t.Fatalf("deleting the sandbox task of %s: %v", uid, err)
	}
}

func (e *env) sandboxTask(uid string, do func(context.Context, containerdclient.Task) (uint32, error)) (uint32, error) {
	c, err := containerdclient.New(containerd.Address)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	ctx := namespaces.WithNamespace(context.Background(), e.cfg.ContainerdNamespace)
	ctr, err := c.LoadContainer(ctx, uid+"-sandbox")
	if err != nil {
		return 0, err
	}
	task, err := ctr.Task(ctx, nil)
	if err != nil {
		return 0, err
	}
	return do(ctx, task)
}

// A pause process killed from outside while the agent runs: the agent
// notices, records SandboxChanged, stops the pod's containers, makes a new
// sandbox and starts them again (restart counts go up).
func TestDeadSandboxIsRecreated(t *testing.T) {
	e := newEnv(t)
	c := &shoalv1.Container{Name: "app", Image: "shoal.local/testserver:latest", Ports: []*shoalv1.ContainerPort{{Name: "http", ContainerPort: 8080}},
		ReadinessProbe: &shoalv1.Probe{PeriodSeconds: 1, Handler: &shoalv1.Probe_HttpGet{HttpGet: &shoalv1.HTTPGetAction{
			Path: "/healthz", Port: &shoalv1.IntOrString{Value: &shoalv1.IntOrString_StrValue{StrValue: "http"}}}}}}
	created := e.createPod(pod("phoenix", c, shell("side", "exec sleep 100000")))
	uid := created.GetMetadata().GetUid()
	e.waitPod("phoenix", "Running and Ready", isRunningReady)
	old := e.sandboxPid(uid, 0)
	if err := syscall.Kill(int(old), syscall.SIGKILL); err != nil {
		t.Fatalf("killing pause pid %d: %v", old, err)
	}
	got := e.waitPod("phoenix", "Running and Ready with restarted containers", func(p *shoalv1.Pod) bool {
		return isRunningReady(p) && ctrStatus(p, "app").GetRestartCount() >= 1 && ctrStatus(p, "side").GetRestartCount() >= 1
	})
	e.sandboxPid(uid, old) // a new pause process, not the killed one
	if got.GetStatus().GetPodIp() == "" {
		t.Errorf("no pod IP after the new sandbox")
	}
	e.waitEvent("phoenix", "SandboxChanged", "Pod sandbox changed")
	e.waitEvent("phoenix", "Killing", "Stopping container app")
	// The old sandbox's netns, IP and veth are gone: one of each is left.
	if l := leftovers(e); l["netns"] != 1 || l["ip_allocations"] != 1 || l["veths"] != 1 || l["containers"] != 3 {
		t.Errorf("after the sandbox change: %v", l)
	}

	// The same while the agent is down: the restarted agent adopts the
	// dead sandbox and recreates it; restart counts go on, logs are kept.
	e.stopAgent()
	second := e.sandboxPid(uid, old)
	if err := syscall.Kill(int(second), syscall.SIGKILL); err != nil {
		t.Fatalf("killing pause pid %d: %v", second, err)
	}
	e.startAgent()
	e.waitPod("phoenix", "Running and Ready after the agent's restart", func(p *shoalv1.Pod) bool {
		return isRunningReady(p) && ctrStatus(p, "app").GetRestartCount() >= 2 && ctrStatus(p, "side").GetRestartCount() >= 2
	})
	e.sandboxPid(uid, second) // a new pause process after the agent's restart
	if lines, err := e.logs(e.ctx(), &shoalv1.PodLogsRequest{Namespace: "default", Name: "phoenix", Container: "app", Previous: true}); err != nil {
		t.Errorf("previous logs of app after the agent's restart: %v", err)
	} else {
		t.Logf("previous app log: %d lines", len(lines))
	}
	if _, err := e.pods.Delete(e.ctx(), "default", "phoenix", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitGone("phoenix")
	assertNothingLeft(t, e)
}
