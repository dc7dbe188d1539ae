package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/nodeagent/nodeagenttest"
)

func TestTwoPodsReachEachOtherByIP(t *testing.T) {
	e := newEnv(t)
	srv := pod("server", &shoalv1.Container{Name: "app", Image: nodeagenttest.TestServerImage, Args: []string{"-message", "hi-from-server-pod"}})
	e.createPod(srv)
	s := e.waitPod("server", "Running and Ready", isRunningReady)
	ip := s.GetStatus().GetPodIp()
	e.createPod(pod("client", shell("app", fmt.Sprintf(`until wget -q -O- http://%s:8080/; do sleep 0.2; done; echo done; exec sleep 100000`, ip))))
	c := e.waitPod("client", "Running and Ready", isRunningReady)
	if c.GetStatus().GetPodIp() == ip {
		t.Fatalf("both pods have IP %s", ip)
	}
	ctx := e.ctx()
	waitFor(t, "client to reach the server pod", func() bool {
		lines, err := e.logs(ctx, &shoalv1.PodLogsRequest{Namespace: "default", Name: "client"})
		return err == nil && slices.Contains(lines, "hi-from-server-pod") && slices.Contains(lines, "done")
	})
}

func TestCrashingContainerBacksOffAndRestarts(t *testing.T) {
	e := newEnv(t)
	e.createPod(pod("crasher", shell("app", `echo "crashing at $(date +%s%N)"; exit 3`)))
	var sawBackoff bool
	p := e.waitPod("crasher", "restart count >= 3", func(p *shoalv1.Pod) bool {
		cs := ctrStatus(p, "app")
		if cs.GetState().GetWaiting().GetReason() == "CrashLoopBackOff" {
			sawBackoff = true
		}
		return cs.GetRestartCount() >= 3
	})
	if !sawBackoff {
		t.Errorf("never saw CrashLoopBackOff")
	}
	cs := ctrStatus(p, "app")
	term := cs.GetLastTerminationState().GetTerminated()
	if term.GetExitCode() != 3 || term.GetReason() != "Error" {
		t.Errorf("last termination = %v", term)
	}
	if p.GetStatus().GetPhase() != shoalv1.PodPhase_POD_PHASE_RUNNING || condTrue(p, "Ready") {
		t.Errorf("phase %v, ready %v", p.GetStatus().GetPhase(), condTrue(p, "Ready"))
	}
	// The previous instance's log is served.
	lines, err := e.logs(e.ctx(), &shoalv1.PodLogsRequest{Namespace: "default", Name: "crasher", Previous: true})
	if err != nil || len(lines) != 1 || !strings.HasPrefix(lines[0], "crashing at") {
		t.Errorf("previous logs = %q, %v", lines, err)
	}
}

func TestRestartPolicyNeverAndOnFailure(t *testing.T) {
	e := newEnv(t)
	ok := pod("ok", shell("app", `echo fine; exit 0`))
	ok.Spec.RestartPolicy = shoalv1.RestartPolicy_RESTART_POLICY_ON_FAILURE
	e.createPod(ok)
	bad := pod("bad", shell("app", `exit 7`))
	bad.Spec.RestartPolicy = shoalv1.RestartPolicy_RESTART_POLICY_NEVER
	e.createPod(bad)
	p := e.waitPod("ok", "Succeeded", func(p *shoalv1.Pod) bool { return p.GetStatus().GetPhase() == shoalv1.PodPhase_POD_PHASE_SUCCEEDED })
	if cs := ctrStatus(p, "app"); cs.GetRestartCount() != 0 || cs.GetState().GetTerminated().GetReason() != "Completed" {
		t.Errorf("ok: %v", cs)
	}
	p = e.waitPod("bad", "Failed", func(p *shoalv1.Pod) bool { return p.GetStatus().GetPhase() == shoalv1.PodPhase_POD_PHASE_FAILED })
	if cs := ctrStatus(p, "app"); cs.GetRestartCount() != 0 || cs.GetState().GetTerminated().GetExitCode() != 7 {
		t.Errorf("bad: %v", cs)
	}
}

func TestLivenessProbeRestartsHungContainer(t *testing.T) {
	e := newEnv(t)
	// Healthy for a while, then "hangs": the exec probe's file goes away.
	c := shell("app", `touch /tmp/healthy; sleep 2; rm /tmp/healthy; exec sleep 100000`)
	c.LivenessProbe = &shoalv1.Probe{PeriodSeconds: 1, FailureThreshold: 2,
		Handler: &shoalv1.Probe_Exec{Exec: &shoalv1.ExecAction{Command: []string{"cat", "/tmp/healthy"}}}}
	// A tcp and a grpc liveness probe on a healthy server never restart it.
	ts := &shoalv1.Container{Name: "server", Image: nodeagenttest.TestServerImage,
		LivenessProbe: &shoalv1.Probe{PeriodSeconds: 1, Handler: &shoalv1.Probe_Grpc{Grpc: &shoalv1.GRPCAction{Port: 9090}}},
		ReadinessProbe: &shoalv1.Probe{PeriodSeconds: 1, Handler: &shoalv1.Probe_TcpSocket{TcpSocket: &shoalv1.TCPSocketAction{
			Port: &shoalv1.IntOrString{Value: &shoalv1.IntOrString_IntValue{IntValue: 8080}}}}}}
	p := pod("hung", c, ts)
	p.Spec.TerminationGracePeriodSeconds = proto.Int64(1)
	e.createPod(p)
	got := e.waitPod("hung", "a liveness restart", func(p *shoalv1.Pod) bool { return ctrStatus(p, "app").GetRestartCount() >= 1 })
	term := ctrStatus(got, "app").GetLastTerminationState().GetTerminated()
	if term.GetReason() != "LivenessProbeFailed" {
		t.Errorf("last termination = %v", term)
	}
	if ctrStatus(got, "server").GetRestartCount() != 0 {
		t.Errorf("healthy server restarted: %v", ctrStatus(got, "server"))
	}
	if !ctrStatus(got, "server").GetReady() {
		e.waitPod("hung", "server ready", func(p *shoalv1.Pod) bool { return ctrStatus(p, "server").GetReady() })
	}
	// The agent said why, as the kubelet does.
	e.waitEvent("hung", "Unhealthy", "Liveness probe failed: exec [cat /tmp/healthy] exited 1")
	e.waitEvent("hung", "Killing", "Container app failed liveness probe, will be restarted")
	e.waitEvent("hung", "BackOff", "Back-off restarting failed container app")
}

func TestReadinessProbeFlipsReady(t *testing.T) {
	e := newEnv(t)
	flagDir := t.TempDir()
	c := &shoalv1.Container{Name: "app", Image: nodeagenttest.TestServerImage,
		Args:         []string{"-unhealthy-file", "/flags/unhealthy"},
		VolumeMounts: []*shoalv1.VolumeMount{{Name: "flags", MountPath: "/flags", ReadOnly: true}},
		Ports:        []*shoalv1.ContainerPort{{Name: "http", ContainerPort: 8080}},
		ReadinessProbe: &shoalv1.Probe{PeriodSeconds: 1, FailureThreshold: 1, Handler: &shoalv1.Probe_HttpGet{HttpGet: &shoalv1.HTTPGetAction{
			Path: "/healthz", Port: &shoalv1.IntOrString{Value: &shoalv1.IntOrString_StrValue{StrValue: "http"}}}}}}
	p := pod("ready", c)
	p.Spec.Volumes = []*shoalv1.Volume{{Name: "flags", Source: &shoalv1.Volume_HostPath{HostPath: &shoalv1.HostPathVolumeSource{
		Path: flagDir, Type: shoalv1.HostPathType_HOST_PATH_TYPE_DIRECTORY}}}}
	e.createPod(p)
	e.waitPod("ready", "Ready", isRunningReady)
	if err := os.WriteFile(filepath.Join(flagDir, "unhealthy"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	got := e.waitPod("ready", "not Ready", func(p *shoalv1.Pod) bool { return !condTrue(p, "Ready") })
	if got.GetStatus().GetPhase() != shoalv1.PodPhase_POD_PHASE_RUNNING || ctrStatus(got, "app").GetReady() || ctrStatus(got, "app").GetRestartCount() != 0 {
		t.Errorf("unready pod: %v", got.GetStatus())
	}
	if err := os.Remove(filepath.Join(flagDir, "unhealthy")); err != nil {
		t.Fatal(err)
	}
	e.waitPod("ready", "Ready again", isRunningReady)
}

func TestMissingImageIsErrImagePull(t *testing.T) {
	e := newEnv(t)
	e.createPod(pod("noimage", &shoalv1.Container{Name: "app", Image: "shoal.local/does-not-exist:v1"}))
	p := e.waitPod("noimage", "ErrImagePull", func(p *shoalv1.Pod) bool {
		return ctrStatus(p, "app").GetState().GetWaiting().GetReason() == "ErrImagePull"
	})
	msg := ctrStatus(p, "app").GetState().GetWaiting().GetMessage()
	if !strings.Contains(msg, "shoal.local/does-not-exist:v1") || p.GetStatus().GetPhase() != shoalv1.PodPhase_POD_PHASE_PENDING {
		t.Errorf("status: %v", p.GetStatus())
	}
	// Deleting a pod that never started works.
	if _, err := e.pods.Delete(e.ctx(), "default", "noimage", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitGone("noimage")
	assertNothingLeft(t, e)
}
