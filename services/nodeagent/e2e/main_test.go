package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
	"github.com/shoalmesh/shoal/services/nodeagent/agent"
	"github.com/shoalmesh/shoal/services/nodeagent/nodeagenttest"
)

var (
	workDir    string
	imageDir   string
	binDir     string
	containerd *nodeagenttest.Containerd
	setupErr   error
	seq        atomic.Int32
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if setupErr = nodeagenttest.Prerequisites(); setupErr != nil {
		// Every test fails with this message; none is skipped.
		return m.Run()
	}
	var err error
	workDir, err = os.MkdirTemp("", "shoal-nodeagent-e2e-")
	if err != nil {
		setupErr = err
		return m.Run()
	}
	defer os.RemoveAll(workDir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	binDir, imageDir = filepath.Join(workDir, "bin"), filepath.Join(workDir, "images")
	if setupErr = nodeagenttest.BuildImages(ctx, binDir, imageDir); setupErr != nil {
		return m.Run()
	}
	containerd, setupErr = nodeagenttest.StartContainerd(ctx, filepath.Join(workDir, "containerd"))
	if setupErr != nil {
		return m.Run()
	}
	defer containerd.Stop()
	return m.Run()
}

// env is one node: a gateway, and an agent with a containerd namespace,
// bridge, pod CIDR and directories of its own.
type env struct {
	t        *testing.T
	gw       *gatewaytest.Env
	cfg      agent.Config
	agent    *agent.Agent
	pods     *client.Resource[*shoalv1.Pod]
	obs      *observability.Observability
	nodeName string
}

func newEnv(t *testing.T, edit ...func(*agent.Config)) *env {
	t.Helper()
	if setupErr != nil {
		t.Fatalf("node agent e2e prerequisites: %v", setupErr)
	}
	n := seq.Add(1)
	gw := gatewaytest.Start(t)
	id := fmt.Sprintf("%d-%d", os.Getpid()%100000, n)
	cfg := agent.NewConfig()
	cfg.Gateway = gw.Gateway.Addr()
	cfg.NodeName = "node-" + id
	cfg.NodeIP = "127.0.0.1"
	cfg.ContainerdAddress = containerd.Address
	cfg.ContainerdNamespace = "shoal-e2e-" + id
	cfg.ImageDir = imageDir
	cfg.PauseImage = nodeagenttest.PauseImage
	cfg.PodCIDR = fmt.Sprintf("10.%d.%d.0/24", 200+os.Getpid()%50, n%250)
	cfg.BridgeName = fmt.Sprintf("sht%d", (os.Getpid()%1000)*100+int(n)%100)
	cfg.StateDir = filepath.Join(workDir, "state-"+id)
	cfg.LogDir = filepath.Join(workDir, "logs-"+id)
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.LeaseRenewInterval = time.Second
	cfg.BackoffBase = 500 * time.Millisecond
	cfg.BackoffMax = 4 * time.Second
	cfg.ResyncPeriod = 2 * time.Second
	cfg.DeleteBridgeOnClose = true
	for _, e := range edit {
		e(&cfg)
	}
	e := &env{t: t, gw: gw, cfg: cfg, pods: client.For[*shoalv1.Pod](gw.Conn), nodeName: cfg.NodeName}
	var err error
	e.obs, err = observability.Setup(context.Background(), observability.NewConfig("nodeagent-test"), testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.deleteAllPods()
		e.stopAgent()
		containerd.Purge(context.Background(), cfg.ContainerdNamespace)
		cleanupHost(cfg)
		e.obs.Shutdown(context.Background())
	})
	e.startAgent()
	return e
}

func (e *env) startAgent() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := agent.Start(ctx, e.cfg, e.obs)
	if err != nil {
		e.t.Fatalf("starting agent: %v", err)
	}
	e.agent = a
}

func (e *env) stopAgent() {
	if e.agent != nil {
		e.agent.Close()
		e.agent = nil
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	if os.Getenv("SHOAL_E2E_VERBOSE") != "" {
		w.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

func (e *env) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	e.t.Cleanup(cancel)
	return ctx
}

// createPod binds a pod to the env's node at creation.
func (e *env) createPod(p *shoalv1.Pod) *shoalv1.Pod {
	e.t.Helper()
	if p.Metadata.Namespace == "" {
		p.Metadata.Namespace = "default"
	}
	p.Spec.NodeName = e.nodeName
	out, err := e.pods.Create(e.ctx(), p)
	if err != nil {
		e.t.Fatalf("creating pod %s: %v", p.Metadata.Name, err)
	}
	return out
}

// waitPod waits (generously) until cond holds for the pod, and returns it.
func (e *env) waitPod(name string, what string, cond func(*shoalv1.Pod) bool) *shoalv1.Pod {
	e.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var last *shoalv1.Pod
	for time.Now().Before(deadline) {
		p, err := e.pods.Get(context.Background(), "default", name)
		if err == nil {
			last = p
			if cond(p) {
				return p
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatalf("pod %s: timed out waiting for %s; last status: %v", name, what, last.GetStatus())
	return nil
}

func (e *env) waitGone(name string) {
	e.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		_, err := e.pods.Get(context.Background(), "default", name)
		if client.IsNotFound(err) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatalf("pod %s was never deleted", name)
}

func isRunningReady(p *shoalv1.Pod) bool {
	return p.GetStatus().GetPhase() == shoalv1.PodPhase_POD_PHASE_RUNNING && condTrue(p, "Ready")
}

func condTrue(p *shoalv1.Pod, typ string) bool {
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == typ {
			return c.GetStatus() == shoalv1.ConditionStatus_CONDITION_STATUS_TRUE
		}
	}
	return false
}

func ctrStatus(p *shoalv1.Pod, name string) *shoalv1.ContainerStatus {
	for _, c := range p.GetStatus().GetContainerStatuses() {
		if c.GetName() == name {
			return c
		}
	}
	return nil
}

func pod(name string, containers ...*shoalv1.Container) *shoalv1.Pod {
	return &shoalv1.Pod{Metadata: &shoalv1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: &shoalv1.PodSpec{Containers: containers, TerminationGracePeriodSeconds: proto.Int64(2)}}
}

func shell(name, script string) *shoalv1.Container {
	return &shoalv1.Container{Name: name, Image: nodeagenttest.BusyboxImage, Command: []string{"sh", "-c", script}}
}

// logs reads a container's log through the gateway's PodLogs.
func (e *env) logs(ctx context.Context, req *shoalv1.PodLogsRequest) ([]string, error) {
	stream, err := shoalv1.NewPodLogServiceClient(e.gw.Conn).PodLogs(ctx, req)
	if err != nil {
		return nil, err
	}
	var out []string
	for {
		msg, err := stream.Recv()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		for _, l := range msg.GetLines() {
			out = append(out, string(l.GetContent()))
		}
	}
}

// deleteAllPods lets a running agent tear its pods down (the agent itself
// leaves pods running when it stops, by design).
func (e *env) deleteAllPods() {
	if e.agent == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	zero := int64(0)
	list, err := e.pods.List(ctx, client.ListOptions{Namespace: "default"})
	if err != nil {
		return
	}
	for _, p := range list.Items {
		_, _ = e.pods.Delete(ctx, "default", p.GetMetadata().GetName(), client.DeleteOptions{GracePeriodSeconds: &zero})
	}
	for ctx.Err() == nil {
		l, err := e.pods.List(ctx, client.ListOptions{Namespace: "default"})
		if err == nil && len(l.Items) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// cleanupHost removes what a failed test may leave: mounts under the
// agent's state dir (netns pins, tmpfs) and the bridge.
func cleanupHost(cfg agent.Config) {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	var mounts []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && strings.HasPrefix(f[4], cfg.StateDir+"/") {
			mounts = append(mounts, f[4])
		}
	}
	for i := len(mounts) - 1; i >= 0; i-- {
		_ = syscall.Unmount(mounts[i], syscall.MNT_DETACH)
	}
	if _, err := net.InterfaceByName(cfg.BridgeName); err == nil {
		_ = exec.Command("ip", "link", "delete", cfg.BridgeName).Run()
	}
}
