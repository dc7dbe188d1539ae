package e2e

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/nodeagent/agent"
	"github.com/shoalmesh/shoal/services/nodeagent/nodeagenttest"
	"github.com/shoalmesh/shoal/tools/mkimage"
)

// events lists the Events recorded about a pod, by reason.
func (e *env) events(name string) map[string][]*shoalv1.Event {
	out := map[string][]*shoalv1.Event{}
	list, err := client.For[*shoalv1.Event](e.gw.Conn).List(context.Background(), client.ListOptions{Namespace: "default"})
	if err != nil {
		return out
	}
	for _, ev := range list.Items {
		if ev.GetSpec().GetInvolvedObject().GetKind() == "Pod" && ev.GetSpec().GetInvolvedObject().GetName() == name {
			out[ev.GetSpec().GetReason()] = append(out[ev.GetSpec().GetReason()], ev)
		}
	}
	return out
}

// waitEvent waits for an Event about the pod with that reason, from the
// agent on this node, whose message contains msg, and returns it.
func (e *env) waitEvent(pod, reason, msg string) *shoalv1.Event {
	e.t.Helper()
	var found *shoalv1.Event
	waitFor(e.t, "event "+reason+" ("+msg+") on pod "+pod, func() bool {
		for _, ev := range e.events(pod)[reason] {
			src := ev.GetSpec().GetSource()
			if strings.Contains(ev.GetSpec().GetMessage(), msg) && src.GetComponent() == agent.EventComponent && src.GetHost() == e.nodeName {
				found = ev
				return true
			}
		}
		return false
	})
	return found
}

// A pod whose image is only in a registry (a real one, in-process on
// loopback, spoken to in plain HTTP) starts from a containerd pull; a
// missing image is ErrImagePull with the registry's error, then
// ImagePullBackOff, and the agent carries on.
func TestRegistryPullAndPullErrors(t *testing.T) {
	e := newEnv(t)
	reg := nodeagenttest.StartRegistry()
	defer reg.Close()
	spec, err := mkimage.Busybox("registry/busybox:v1", "/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	img, err := mkimage.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := reg.Push(e.ctx(), "shoal/busybox", "v1", img)
	if err != nil {
		t.Fatal(err)
	}
	c := &shoalv1.Container{Name: "app", Image: ref, Command: []string{"sh", "-c", "echo pulled-and-running; exec sleep 100000"}}
	e.createPod(pod("pulled", c))
	got := e.waitPod("pulled", "Running and Ready", isRunningReady)
	if cs := ctrStatus(got, "app"); cs.GetImage() != ref || cs.GetRestartCount() != 0 {
		t.Errorf("container status: %v", cs)
	}
	e.waitEvent("pulled", "Pulling", ref)
	e.waitEvent("pulled", "Pulled", "from registry")
	e.waitEvent("pulled", "Created", "Created container app")
	e.waitEvent("pulled", "Started", "Started container app")

	// Present now: IfNotPresent (the default of a v1 tag) does not pull.
	e.createPod(pod("present", &shoalv1.Container{Name: "app", Image: ref, Command: []string{"sleep", "100000"}}))
	e.waitPod("present", "Running and Ready", isRunningReady)
	e.waitEvent("present", "Pulled", "already present on machine")
	if evs := e.events("present")["Pulling"]; len(evs) != 0 {
		t.Errorf("IfNotPresent pulled a present image: %v", evs)
	}
	// A new image (the one change a pod update allows) restarts the
	// container with it, as the kubelet does.
	ref2, err := reg.Push(e.ctx(), "shoal/busybox", "v2", img)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := e.pods.Get(e.ctx(), "default", "present")
	if err != nil {
		t.Fatal(err)
	}
	cur.Spec.Containers[0].Image = ref2
	if _, err := e.pods.Update(e.ctx(), cur); err != nil {
		t.Fatalf("updating the image: %v", err)
	}
	e.waitPod("present", "restarted with the new image", func(p *shoalv1.Pod) bool {
		cs := ctrStatus(p, "app")
		return isRunningReady(p) && cs.GetRestartCount() == 1 && cs.GetImage() == ref2
	})
	e.waitEvent("present", "Killing", "Container app definition changed, will be restarted")
	e.waitEvent("present", "Pulling", ref2)
	// Always pulls again from the registry, even though it is present.
	always := &shoalv1.Container{Name: "app", Image: ref, Command: []string{"sleep", "100000"},
		ImagePullPolicy: shoalv1.ImagePullPolicy_IMAGE_PULL_POLICY_ALWAYS}
	e.createPod(pod("always", always))
	e.waitPod("always", "Running and Ready", isRunningReady)
	e.waitEvent("always", "Pulled", "from registry")

	missing := reg.Host + "/shoal/missing:v1"
	e.createPod(pod("missing", &shoalv1.Container{Name: "app", Image: missing}))
	var sawErr string
	p := e.waitPod("missing", "ErrImagePull, then ImagePullBackOff", func(p *shoalv1.Pod) bool {
		w := ctrStatus(p, "app").GetState().GetWaiting()
		if w.GetReason() == "ErrImagePull" {
			sawErr = w.GetMessage()
		}
		return sawErr != "" && w.GetReason() == "ImagePullBackOff"
	})
	// The registry's answer (404, MANIFEST_UNKNOWN / not found) is in the message.
	if !strings.Contains(sawErr, missing) || !strings.Contains(sawErr, "not found") {
		t.Errorf("ErrImagePull message %q lacks the image or the registry's error", sawErr)
	}
	if w := ctrStatus(p, "app").GetState().GetWaiting(); !strings.Contains(w.GetMessage(), "Back-off pulling image") || p.GetStatus().GetPhase() != shoalv1.PodPhase_POD_PHASE_PENDING {
		t.Errorf("status: %v", p.GetStatus())
	}
	e.waitEvent("missing", "Failed", "Failed to pull image")
	e.waitEvent("missing", "BackOff", "Back-off pulling image")
	// A reference no registry could serve (upper case, two colons) is the
	// same ErrImagePull, never a crash.
	bad := "127.0.0.1:1/Shoal/BAD::v1"
	e.createPod(pod("badref", &shoalv1.Container{Name: "app", Image: bad}))
	p = e.waitPod("badref", "ErrImagePull or ImagePullBackOff", func(p *shoalv1.Pod) bool {
		r := ctrStatus(p, "app").GetState().GetWaiting().GetReason()
		return r == "ErrImagePull" || r == "ImagePullBackOff"
	})
	if msg := ctrStatus(p, "app").GetState().GetWaiting().GetMessage(); !strings.Contains(msg, bad) {
		t.Errorf("bad reference message %q", msg)
	}
	// The agent is alive and well: the pulled pod still runs, a new one starts.
	e.createPod(pod("after", shell("app", "exec sleep 100000")))
	e.waitPod("after", "Running and Ready", isRunningReady)
	select {
	case err := <-e.agent.Err():
		t.Fatalf("agent failed: %v", err)
	default:
	}
}

// Never uses what the node holds (containerd, the image directory) and
// never pulls; a missing image waits with ErrImageNeverPull.
func TestPullPolicyNever(t *testing.T) {
	e := newEnv(t)
	never := shoalv1.ImagePullPolicy_IMAGE_PULL_POLICY_NEVER
	local := shell("app", "exec sleep 100000")
	local.ImagePullPolicy = never
	e.createPod(pod("local", local))
	e.waitPod("local", "Running and Ready", isRunningReady)
	e.waitEvent("local", "Pulled", "already present on machine")

	// 127.0.0.1:1 would refuse a pull at once; Never must not even try.
	e.createPod(pod("nopull", &shoalv1.Container{Name: "app", Image: "127.0.0.1:1/nowhere:v1", ImagePullPolicy: never}))
	p := e.waitPod("nopull", "ErrImageNeverPull", func(p *shoalv1.Pod) bool {
		return ctrStatus(p, "app").GetState().GetWaiting().GetReason() == "ErrImageNeverPull"
	})
	msg := ctrStatus(p, "app").GetState().GetWaiting().GetMessage()
	if msg != `Container image "127.0.0.1:1/nowhere:v1" is not present with pull policy of Never` {
		t.Errorf("message %q", msg)
	}
	e.waitEvent("nopull", "ErrImageNeverPull", "is not present with pull policy of Never")
	if evs := e.events("nopull")["Pulling"]; len(evs) != 0 {
		t.Errorf("Never pulled: %v", evs)
	}
}

// A registry that accepts the connection and never answers ends the pull
// after --image-pull-timeout, and the error says so; the pod backs off as
// for any failed pull.
func TestPullTimeout(t *testing.T) {
	const timeout = 700 * time.Millisecond
	e := newEnv(t, func(c *agent.Config) { c.ImagePullTimeout = timeout })
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		lis.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})

	ref := lis.Addr().String() + "/shoal/silent:v1"
	e.createPod(pod("silent", &shoalv1.Container{Name: "app", Image: ref}))
	var sawErr string
	e.waitPod("silent", "ErrImagePull, then ImagePullBackOff", func(p *shoalv1.Pod) bool {
		w := ctrStatus(p, "app").GetState().GetWaiting()
		if w.GetReason() == "ErrImagePull" {
			sawErr = w.GetMessage()
		}
		return sawErr != "" && w.GetReason() == "ImagePullBackOff"
	})
	if want := "no answer within the image pull timeout of " + timeout.String(); !strings.Contains(sawErr, want) || !strings.Contains(sawErr, ref) {
		t.Errorf("ErrImagePull message %q: want the image and %q", sawErr, want)
	}
	e.waitEvent("silent", "Failed", "image pull timeout")
}
