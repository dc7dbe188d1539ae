package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	sdkclient "github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/nodeagent/agent"
	"github.com/shoalmesh/shoal/services/nodeagent/nodeagenttest"
)

var (
	agentBinOnce sync.Once
	agentBin     string
	agentBinErr  error
)

// agentProcess runs the real nodeagent binary with the env's configuration.
type agentProcess struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startAgentBinary(t *testing.T, e *env) *agentProcess {
	t.Helper()
	agentBinOnce.Do(func() {
		agentBin, agentBinErr = nodeagenttest.BuildBinary(context.Background(), binDir, "./services/nodeagent", "nodeagent")
	})
	if agentBinErr != nil {
		t.Fatal(agentBinErr)
	}
	c := e.cfg
	cmd := exec.Command(agentBin,
		"--gateway", c.Gateway, "--node-name", c.NodeName, "--node-ip", c.NodeIP,
		"--containerd-address", c.ContainerdAddress, "--containerd-namespace", c.ContainerdNamespace,
		"--image-dir", c.ImageDir, "--pause-image", c.PauseImage, "--pod-cidr", c.PodCIDR,
		"--bridge-name", c.BridgeName, "--state-dir", c.StateDir, "--log-dir", c.LogDir,
		"--listen", "127.0.0.1:0", "--lease-renew-interval", "1s", "--metrics-addr", "",
		"--restart-backoff", "500ms", "--delete-bridge-on-exit")
	logPath := filepath.Join(workDir, c.NodeName+"-agent.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The work directory goes with the test binary: show why.
		if b, err := os.ReadFile(logPath); err == nil && t.Failed() {
			t.Logf("agent log:\n%s", b)
		}
	})
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &agentProcess{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); logf.Close(); close(p.done) }()
	t.Cleanup(func() { p.kill(syscall.SIGTERM) })
	return p
}

func (p *agentProcess) kill(sig syscall.Signal) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// The agent is killed with -9 while pods run: they keep running, a new
// agent re-adopts them (no restart, same IP, status right), a pod deleted
// while no agent ran is cleaned up, and the adopted pods still delete
// cleanly.
func TestAgentKilledAndRestartedKeepsPods(t *testing.T) {
	e := newEnv(t)
	e.stopAgent() // this test runs the binary instead
	p1 := startAgentBinary(t, e)
	e.createPod(pod("keep", shell("app", `i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.2; done`)))
	e.createPod(pod("orphan", shell("app", `exec sleep 100000`)))
	before := e.waitPod("keep", "Running and Ready", isRunningReady)
	orphan := e.waitPod("orphan", "Running and Ready", isRunningReady)

	p1.kill(syscall.SIGKILL)
	// Deleted while no agent runs: marked for deletion, containers still up.
	if _, err := e.pods.Delete(e.ctx(), "default", "orphan", sdkclient.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// The pods' containers keep running. (A pause container's task may
	// not exist yet: it is made after the pod's containers and status,
	// and the new agent makes it when it adopts the pod.)
	if n := runningTasks(t, e, `labels."shoal.role"==container`); n < 2 {
		t.Fatalf("after kill -9 only %d app tasks run; pods should keep running", n)
	}
	time.Sleep(time.Second) // the pod keeps logging with nobody reading
	startAgentBinary(t, e)

	e.waitGone("orphan")
	// The orphan's teardown above proves the new agent has synced; the
	// kept pod's status must still read Running and Ready, unchanged, with
	// its sandbox running (the pause container and the app).
	after := e.waitPod("keep", "Running and Ready", isRunningReady)
	waitFor(t, "the kept pod's pause and app tasks", func() bool { return runningTasks(t, e) == 2 })
	cs := ctrStatus(after, "app")
	if cs.GetRestartCount() != 0 || cs.GetContainerId() != ctrStatus(before, "app").GetContainerId() {
		t.Errorf("container was restarted: before %v after %v", ctrStatus(before, "app"), cs)
	}
	if after.GetStatus().GetPodIp() != before.GetStatus().GetPodIp() {
		t.Errorf("pod IP changed %s -> %s", before.GetStatus().GetPodIp(), after.GetStatus().GetPodIp())
	}
	if orphan.GetStatus().GetPodIp() == after.GetStatus().GetPodIp() {
		t.Errorf("two pods shared IP %s", orphan.GetStatus().GetPodIp())
	}
	// Logs keep flowing into the same file after re-attachment.
	ctx := e.ctx()
	var n1 int
	waitFor(t, "logs after re-adoption", func() bool {
		lines, err := e.logs(ctx, &shoalv1.PodLogsRequest{Namespace: "default", Name: "keep"})
		if err != nil {
			return false
		}
		if n1 == 0 {
			n1 = len(lines)
			return false
		}
		return len(lines) > n1
	})
	if _, err := e.pods.Delete(ctx, "default", "keep", sdkclient.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitGone("keep")
	waitFor(t, "all tasks gone", func() bool { return runningTasks(t, e) == 0 })
}

// runningTasks counts the running tasks of the env's containers that
// match the containerd filters (all when none).
func runningTasks(t *testing.T, e *env, filters ...string) int {
	t.Helper()
	c, err := client.New(e.cfg.ContainerdAddress)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := namespaces.WithNamespace(context.Background(), e.cfg.ContainerdNamespace)
	cs, err := c.Containers(ctx, filters...)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ctr := range cs {
		task, err := ctr.Task(ctx, nil)
		if err != nil {
			continue
		}
		st, err := task.Status(ctx)
		if err == nil && st.Status == client.Running {
			n++
		}
	}
	return n
}

// 100 pods created and deleted leave no containers, netns, veths, IP
// allocations, mounts, cgroups, pod directories or logs behind.
func TestHundredPodsLeaveNothingBehind(t *testing.T) {
	e := newEnv(t, func(c *agent.Config) { c.Workers = 32 })
	const n = 100
	var wg sync.WaitGroup
	sem := make(chan struct{}, 20)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			p := pod(fmt.Sprintf("many-%03d", i), shell("app", `exec sleep 100000`))
			p.Spec.Volumes = []*shoalv1.Volume{{Name: "scratch", Source: &shoalv1.Volume_EmptyDir{EmptyDir: &shoalv1.EmptyDirVolumeSource{Medium: shoalv1.StorageMedium_STORAGE_MEDIUM_MEMORY}}}}
			p.Spec.Containers[0].VolumeMounts = []*shoalv1.VolumeMount{{Name: "scratch", MountPath: "/scratch"}}
			e.createPod(p)
		}(i)
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		e.waitPod(fmt.Sprintf("many-%03d", i), "Running and Ready", isRunningReady)
	}
	if got := leftovers(e); got["containers"] != 2*n || got["netns"] != n || got["ip_allocations"] != n || got["veths"] != n {
		t.Fatalf("with %d pods running the counters are wrong (the count would prove nothing): %v", n, got)
	}
	ctx := e.ctx()
	zero := int64(0)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if _, err := e.pods.Delete(ctx, "default", fmt.Sprintf("many-%03d", i), sdkclient.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		e.waitGone(fmt.Sprintf("many-%03d", i))
	}
	assertNothingLeft(t, e)
}
