package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/nodeagent/agent"
	"github.com/shoalmesh/shoal/services/nodeagent/runtime"
)

func TestNodeRegistersAndRenewsLease(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx()
	n, err := client.For[*shoalv1.Node](e.gw.Conn).Get(ctx, "", e.nodeName)
	if err != nil {
		t.Fatalf("node not registered: %v", err)
	}
	st := n.GetStatus()
	if st.GetCapacity().GetCpuMillis() <= 0 || st.GetCapacity().GetMemoryBytes() <= 0 || st.GetCapacity().GetPods() != 110 {
		t.Errorf("capacity = %v", st.GetCapacity())
	}
	if !strings.HasPrefix(st.GetNodeInfo().GetContainerRuntimeVersion(), "containerd://") || st.GetNodeInfo().GetKernelVersion() == "" || st.GetNodeInfo().GetAgentVersion() == "" {
		t.Errorf("node_info = %v", st.GetNodeInfo())
	}
	if st.GetDaemonEndpoints().GetAgentPort() <= 0 {
		t.Errorf("no agent port published")
	}
	if n.GetSpec().GetPodCidr() != e.cfg.PodCIDR {
		t.Errorf("pod CIDR = %q, want %q", n.GetSpec().GetPodCidr(), e.cfg.PodCIDR)
	}
	ready := false
	for _, c := range st.GetConditions() {
		ready = ready || (c.GetType() == "Ready" && c.GetStatus() == shoalv1.ConditionStatus_CONDITION_STATUS_TRUE)
	}
	if !ready {
		t.Errorf("node not Ready: %v", st.GetConditions())
	}
	leases := client.For[*shoalv1.Lease](e.gw.Conn)
	l1, err := leases.Get(ctx, agent.LeaseNamespace, e.nodeName)
	if err != nil {
		t.Fatalf("no lease: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		l2, err := leases.Get(ctx, agent.LeaseNamespace, e.nodeName)
		if err == nil && l2.GetSpec().GetRenewTime().AsTime().After(l1.GetSpec().GetRenewTime().AsTime()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lease never renewed")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Two containers of one pod share an emptyDir (one writes, the other reads)
// and talk over localhost; the pod gets an IP the host reaches; logs come
// through the gateway; delete honours the grace period and cleans up.
func TestPodTwoContainersLocalhostEmptyDirLogsDelete(t *testing.T) {
	e := newEnv(t)
	p := pod("web",
		shell("server", `echo shared-secret > /data/msg; echo hello-localhost > /www/index.html; echo server-started; trap 'echo got-term; exit 0' TERM; httpd -p 8080 -h /www; while true; do sleep 0.2; done`),
		shell("client", `for i in $(seq 1 200); do if [ -f /data/msg ] && out=$(wget -q -O- http://127.0.0.1:8080/); then echo "read $(cat /data/msg) got $out"; break; fi; sleep 0.1; done; for i in $(seq 1 5); do echo line-$i; done; exec sleep 100000`),
	)
	p.Spec.Volumes = []*shoalv1.Volume{
		{Name: "data", Source: &shoalv1.Volume_EmptyDir{EmptyDir: &shoalv1.EmptyDirVolumeSource{}}},
		{Name: "www", Source: &shoalv1.Volume_EmptyDir{EmptyDir: &shoalv1.EmptyDirVolumeSource{Medium: shoalv1.StorageMedium_STORAGE_MEDIUM_MEMORY, SizeLimitBytes: 1 << 20}}},
	}
	p.Spec.Containers[0].VolumeMounts = []*shoalv1.VolumeMount{{Name: "data", MountPath: "/data"}, {Name: "www", MountPath: "/www"}}
	p.Spec.Containers[1].VolumeMounts = []*shoalv1.VolumeMount{{Name: "data", MountPath: "/data", ReadOnly: true}}
	p.Spec.Containers[0].Ports = []*shoalv1.ContainerPort{{Name: "http", ContainerPort: 8080}}
	p.Spec.Containers[0].ReadinessProbe = &shoalv1.Probe{PeriodSeconds: 1, Handler: &shoalv1.Probe_HttpGet{HttpGet: &shoalv1.HTTPGetAction{Path: "/", Port: &shoalv1.IntOrString{Value: &shoalv1.IntOrString_StrValue{StrValue: "http"}}}}}
	p.Spec.TerminationGracePeriodSeconds = proto.Int64(10)
	e.createPod(p)

	got := e.waitPod("web", "Running and Ready", isRunningReady)
	if got.GetStatus().GetPodIp() == "" || got.GetStatus().GetHostIp() != "127.0.0.1" {
		t.Fatalf("pod_ip %q host_ip %q", got.GetStatus().GetPodIp(), got.GetStatus().GetHostIp())
	}
	for _, cs := range got.GetStatus().GetContainerStatuses() {
		if cs.GetState().GetRunning() == nil || !cs.GetReady() || cs.GetRestartCount() != 0 {
			t.Errorf("container %s: %v", cs.GetName(), cs)
		}
	}
	// Events from the agent on this node: the (latest-tagged, so Always)
	// image fetched from its archive, each container created and started.
	e.waitEvent("web", "Pulling", `Pulling image "shoal.local/busybox:latest"`)
	e.waitEvent("web", "Pulled", `Successfully pulled image "shoal.local/busybox:latest" from image archive`)
	for _, name := range []string{"server", "client"} {
		e.waitEvent("web", "Created", "Created container "+name)
		e.waitEvent("web", "Started", "Started container "+name)
	}
	// The host reaches the pod by its IP.
	resp, err := http.Get("http://" + got.GetStatus().GetPodIp() + ":8080/")
	if err != nil {
		t.Fatalf("host -> pod: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.TrimSpace(string(body)) != "hello-localhost" {
		t.Errorf("host -> pod body %q", body)
	}

	// Logs through the gateway: the client read the emptyDir file and the
	// server over localhost.
	ctx := e.ctx()
	var lines []string
	waitFor(t, "client log lines", func() bool {
		lines, err = e.logs(ctx, &shoalv1.PodLogsRequest{Namespace: "default", Name: "web", Container: "client"})
		return err == nil && slices.Contains(lines, "line-5")
	})
	if !slices.Contains(lines, "read shared-secret got hello-localhost") {
		t.Fatalf("client did not reach the server over localhost with the shared file: %q", lines)
	}
	tail, err := e.logs(ctx, &shoalv1.PodLogsRequest{Namespace: "default", Name: "web", Container: "client", TailLines: proto.Int64(2)})
	if err != nil || !slices.Equal(tail, []string{"line-4", "line-5"}) {
		t.Fatalf("tail 2 = %q, %v", tail, err)
	}
	if _, err := e.logs(ctx, &shoalv1.PodLogsRequest{Namespace: "default", Name: "web"}); client.Code(err).String() != "InvalidArgument" {
		t.Errorf("logs without container of a 2-container pod: %v", err)
	}

	// Follow: lines written later arrive on the open stream.
	fctx, fcancel := context.WithCancel(ctx)
	defer fcancel()
	stream, err := shoalv1.NewPodLogServiceClient(e.gw.Conn).PodLogs(fctx, &shoalv1.PodLogsRequest{Namespace: "default", Name: "web", Container: "server", Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil || string(first.GetLines()[0].GetContent()) != "server-started" {
		t.Fatalf("follow first = %v, %v", first, err)
	}

	// Delete with a grace period: the server traps SIGTERM and logs it.
	start := time.Now()
	if _, err := e.pods.Delete(ctx, "default", "web", client.DeleteOptions{GracePeriodSeconds: proto.Int64(5)}); err != nil {
		t.Fatal(err)
	}
	sawTerm := false
	for !sawTerm {
		msg, err := stream.Recv()
		if err != nil {
			break
		}
		for _, l := range msg.GetLines() {
			sawTerm = sawTerm || string(l.GetContent()) == "got-term"
		}
	}
	if !sawTerm {
		t.Errorf("follow stream never showed the SIGTERM handler's line")
	}
	e.waitGone("web")
	t.Logf("deleted in %v", time.Since(start))
	e.waitEvent("web", "Killing", "Stopping container server")
	assertNothingLeft(t, e)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// leftovers counts what pods leave on the host: containers, netns pins,
// IP allocations, veths on the bridge, mounts under the state dir and
// container cgroups.
func leftovers(e *env) map[string]int {
	ctx := context.Background()
	out := map[string]int{}
	cs, _ := e.agent.Runtime().Containers(ctx, runtime.LabelFilter("shoal.pod.uid", ""))
	out["containers"] = len(cs)
	ns, _ := os.ReadDir(e.agent.Network().NetNSDir())
	out["netns"] = len(ns)
	ips, _ := os.ReadDir(e.agent.Network().IPAMDir())
	for _, f := range ips {
		if !strings.HasPrefix(f.Name(), "last_reserved_ip") && f.Name() != "lock" {
			out["ip_allocations"]++
		}
	}
	links, _ := filepath.Glob("/sys/class/net/" + e.cfg.BridgeName + "/brif/*")
	out["veths"] = len(links)
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(mounts), "\n") {
		if strings.Contains(l, e.cfg.StateDir) {
			out["mounts"]++
		}
	}
	cg, _ := filepath.Glob(fmt.Sprintf("/sys/fs/cgroup/memory/%s/*", e.cfg.ContainerdNamespace))
	for _, d := range cg {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			out["cgroups"]++
		}
	}
	pods, _ := os.ReadDir(filepath.Join(e.cfg.StateDir, "pods"))
	out["pod_dirs"] = len(pods)
	logs, _ := os.ReadDir(e.cfg.LogDir)
	out["log_dirs"] = len(logs)
	out["agent_pods"] = e.agent.Pods()
	return out
}

func assertNothingLeft(t *testing.T, e *env) {
	t.Helper()
	var last map[string]int
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		last = leftovers(e)
		clean := true
		for _, v := range last {
			clean = clean && v == 0
		}
		if clean {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("pods left things behind: %v", last)
}
