package localcluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shoalmesh/shoal/services/xds/bootstrap"
)

// TestStory walks DESIGN.md's story with the real binaries: a one-node
// cluster as `make run` brings it up (node agent in its own network
// namespace), the sample app applied with shoalctl, calls from a proxyless
// gRPC client on the host balanced over the 3 replicas, a rollout to v2
// with no failed call, rollout undo, scale 5 and back to 1, delete
// everything, and nothing left behind once the cluster is down.
func TestStory(t *testing.T) {
	if err := Prerequisites(); err != nil {
		t.Fatalf("the local cluster's prerequisites (CI installs them in .ci/run): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	tmp, err := os.MkdirTemp("", "shoal-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	bin, images := filepath.Join(tmp, "bin"), filepath.Join(tmp, "images")
	if err := BuildBinaries(ctx, bin); err != nil {
		t.Fatal(err)
	}
	if err := BuildImages(ctx, filepath.Join(tmp, "build"), images); err != nil {
		t.Fatal(err)
	}
	cl, err := Up(ctx, Config{
		Dir: filepath.Join(tmp, "cluster"), BinDir: bin, ImageDir: images,
		Nodes: 1, NetnsPerNode: true, ID: "e2e",
		NodeSubnet: "10.215.0.0/24", PodCIDRPrefix: "10.216",
	})
	if err != nil {
		t.Fatal(err)
	}
	downed := false
	defer func() {
		if !downed {
			cl.Down()
		}
	}()
	dump := func() {
		for _, p := range []string{"nodeagent-node-1", "controller", "xds"} {
			b, _ := os.ReadFile(cl.LogPath(p))
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("--- %s.log (tail)\n%s", p, b)
		}
	}

	s := &story{t: t, ctx: ctx, cl: cl, bin: bin, dump: dump}
	bs, err := bootstrap.GRPC(cl.XDSAddr, "proxyless~127.0.0.1~e2e-client.default~default.svc.cluster.local", bootstrap.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.bootstrap = filepath.Join(tmp, "xds-bootstrap.json")
	if err := os.WriteFile(s.bootstrap, bs, 0o644); err != nil {
		t.Fatal(err)
	}
	app := filepath.Join(RepoRoot(), "deploy", "local", "sample-app.yaml")

	// 1. Apply; three replicas become available.
	s.ctl("apply", "-f", app)
	s.ctl("rollout", "status", "deployment/greeter")
	s.waitPods(3)

	// 2. Calls are balanced over the three replicas.
	rep := s.callsUntil(300, func(r report) bool { return len(r.Backends) == 3 })
	for name, n := range rep.Backends {
		if n < 50 {
			t.Errorf("replica %s got %d of 300 calls: not balanced (%v)", name, n, rep.Backends)
		}
	}

	// 3. set image v2 while a client calls without pause: no call fails.
	bg := s.startClient()
	s.ctl("set", "image", "deployment/greeter", "greeter="+GreeterV2Image)
	s.ctl("rollout", "status", "deployment/greeter")
	s.waitPods(3)
	// Let the client see the new endpoints before it stops.
	v2 := s.podNames()
	s.callsUntil(60, func(r report) bool { return sameKeys(r.Backends, v2) })
	during := bg.stop()
	if during.Errors != 0 || during.Calls == 0 {
		s.dump()
		t.Fatalf("during the rollout: %d calls, %d failed (last: %s)", during.Calls, during.Errors, during.LastErr)
	}
	t.Logf("rollout to v2: %d calls, none failed, over %d backends", during.Calls, len(during.Backends))
	if img := s.image(); img != GreeterV2Image {
		t.Fatalf("after set image the template's image is %s", img)
	}

	// 4. rollout undo takes it back to v1.
	s.ctl("rollout", "undo", "deployment/greeter")
	s.ctl("rollout", "status", "deployment/greeter")
	if img := s.image(); img != GreeterV1Image {
		t.Fatalf("after rollout undo the template's image is %s", img)
	}
	s.waitPods(3)

	// 5. Scale to 5 and back to 1.
	s.ctl("scale", "deployment/greeter", "--replicas=5")
	s.waitPods(5)
	s.callsUntil(200, func(r report) bool { return len(r.Backends) == 5 })
	s.ctl("scale", "deployment/greeter", "--replicas=1")
	s.waitPods(1)

	// 6. Delete everything.
	s.ctl("delete", "-f", app, "--wait")
	s.waitPods(0)

	// 7. Down: nothing of ours is left on the host.
	downed = true
	if err := cl.Down(); err != nil {
		t.Errorf("down: %v", err)
	}
	left := cl.Leftovers()
	for _, v := range left {
		if v != 0 {
			t.Errorf("left behind after Down: %v", left)
			break
		}
	}
}

type story struct {
	t         *testing.T
	ctx       context.Context
	cl        *Cluster
	bin       string
	bootstrap string
	dump      func()
}

func (s *story) ctl(args ...string) string {
	s.t.Helper()
	cmd := exec.CommandContext(s.ctx, filepath.Join(s.bin, "shoalctl"), append([]string{"--server", s.cl.GatewayAddr}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.dump()
		s.t.Fatalf("shoalctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

type podList struct {
	Items []struct {
		Metadata struct {
			Name              string `json:"name"`
			DeletionTimestamp string `json:"deletionTimestamp"`
		} `json:"metadata"`
		Status struct {
			Phase      string `json:"phase"`
			Conditions []struct {
				Type   string `json:"type"`
				Status string `json:"status"`
			} `json:"conditions"`
		} `json:"status"`
	} `json:"items"`
}

func (s *story) pods() podList {
	s.t.Helper()
	var l podList
	out := s.ctl("get", "pods", "-l", "app=greeter", "-o", "json")
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		s.t.Fatalf("shoalctl get pods -o json: %v\n%s", err, out)
	}
	return l
}

// waitPods waits until the greeter has exactly n pods, all running and
// ready, none terminating.
func (s *story) waitPods(n int) {
	s.t.Helper()
	var last podList
	for i := 0; i < 900; i++ {
		last = s.pods()
		ok := len(last.Items) == n
		for _, p := range last.Items {
			ready := false
			for _, c := range p.Status.Conditions {
				ready = ready || (strings.EqualFold(c.Type, "Ready") && strings.HasSuffix(c.Status, "TRUE"))
			}
			ok = ok && ready && p.Metadata.DeletionTimestamp == ""
		}
		if ok {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.dump()
	s.t.Fatalf("never had exactly %d ready greeter pods; last: %+v", n, last)
}

func (s *story) podNames() map[string]bool {
	out := map[string]bool{}
	for _, p := range s.pods().Items {
		out[p.Metadata.Name] = true
	}
	return out
}

func sameKeys(a map[string]int, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func (s *story) image() string {
	s.t.Helper()
	var d struct {
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct {
						Image string `json:"image"`
					} `json:"containers"`
				} `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	out := s.ctl("get", "deployment", "greeter", "-o", "json")
	if err := json.Unmarshal([]byte(out), &d); err != nil || len(d.Spec.Template.Spec.Containers) == 0 {
		s.t.Fatalf("shoalctl get deployment -o json: %v\n%s", err, out)
	}
	return d.Spec.Template.Spec.Containers[0].Image
}

type report struct {
	Calls    int            `json:"calls"`
	Errors   int            `json:"errors"`
	Backends map[string]int `json:"backends"`
	LastErr  string         `json:"last_error"`
}

func (s *story) client(args ...string) *exec.Cmd {
	cmd := exec.CommandContext(s.ctx, filepath.Join(s.bin, "client"),
		append([]string{"--target", "xds:///greeter.default.svc.cluster.local:50051"}, args...)...)
	cmd.Env = append(os.Environ(), bootstrap.EnvVar+"="+s.bootstrap)
	return cmd
}

// callsUntil runs the client (n calls) until its report satisfies ok and
// has no failed call (xds pushes endpoint changes asynchronously: a run
// may start before the client's view has caught up).
func (s *story) callsUntil(n int, ok func(report) bool) report {
	s.t.Helper()
	var last report
	var lastOut string
	for i := 0; i < 60; i++ {
		out, err := s.client("--calls", fmt.Sprint(n), "--interval", "1ms").Output()
		lastOut = string(out)
		last = report{}
		if jerr := json.Unmarshal(out, &last); jerr == nil && err == nil && last.Errors == 0 && ok(last) {
			return last
		}
		time.Sleep(500 * time.Millisecond)
	}
	s.dump()
	s.t.Fatalf("the client never saw what was expected; last report: %s", lastOut)
	return last
}

type bgClient struct {
	cmd *exec.Cmd
	out bytes.Buffer
	t   *testing.T
}

// startClient runs the client until stop, calling without pause.
func (s *story) startClient() *bgClient {
	s.t.Helper()
	b := &bgClient{t: s.t}
	b.cmd = s.client("--calls", "0", "--interval", "5ms")
	b.cmd.Stdout = &b.out
	if err := b.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	return b
}

func (b *bgClient) stop() report {
	b.t.Helper()
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	_ = b.cmd.Wait() // exit 1 when a call failed: the report says which
	var r report
	if err := json.Unmarshal(b.out.Bytes(), &r); err != nil {
		b.t.Fatalf("client report: %v: %q", err, b.out.String())
	}
	return r
}
