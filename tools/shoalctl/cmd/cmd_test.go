package cmd

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/rollout"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
	"github.com/shoalmesh/shoal/tools/shoalctl/printers"
)

// cli runs the command tree in-process against one gateway.
type cli struct {
	t      *testing.T
	config string
	conn   *client.Resource[*shoalv1.Deployment]
	env    *gatewaytest.Env
}

func newCLI(t *testing.T) *cli {
	env := gatewaytest.Start(t)
	config := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(config, []byte("server: "+env.Gateway.Addr()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &cli{t: t, config: config, env: env, conn: client.For[*shoalv1.Deployment](env.Conn)}
}

// syncBuffer is a buffer commands running in goroutines write to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// run executes shoalctl with args and returns stdout, stderr and the exit
// code.
func (c *cli) run(ctx context.Context, stdin string, args ...string) (string, string, int) {
	var out, errOut syncBuffer
	code := c.runTo(ctx, stdin, &out, &errOut, args...)
	return out.String(), errOut.String(), code
}

func (c *cli) runTo(ctx context.Context, stdin string, out, errOut *syncBuffer, args ...string) int {
	env := map[string]string{}
	full := append([]string{"--config", c.config}, args...)
	if len(args) > 1 && args[0] == "__complete" {
		// The shell passes the user's flags after the command being completed.
		full = append([]string{"__complete", args[1], "--config", c.config}, args[2:]...)
	}
	return Execute(ctx, full, Options{
		In: strings.NewReader(stdin), Out: out, Err: errOut,
		Env: func(k string) string { return env[k] },
	})
}

// ages are the AGE cells of a test's objects: seconds old at most.
var ages = regexp.MustCompile(`\b\d+s\b`)

// normalize replaces ages with <age> and realigns tables the way the
// printer aligns them, so that expectations do not depend on the clock.
func normalize(s string) string {
	s = ages.ReplaceAllString(s, "<age>")
	if !strings.HasPrefix(s, "NAME ") && !strings.HasPrefix(s, "NAMESPACE ") {
		return s
	}
	var out strings.Builder
	tw := printers.NewTabWriter(&out)
	for _, line := range strings.SplitAfter(s, "\n") {
		if strings.Contains(line, "   ") {
			cells := strings.Split(strings.TrimRight(line, "\n"), "   ")
			var kept []string
			for _, c := range cells {
				if c = strings.TrimSpace(c); c != "" {
					kept = append(kept, c)
				}
			}
			line = strings.Join(kept, "\t") + "\n"
		}
		io.WriteString(tw, line)
	}
	tw.Flush()
	return out.String()
}

// eventually polls cond until it holds (the test's own deadline bounds it).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if t.Context().Err() != nil {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type step struct {
	name     string
	stdin    string
	args     []string
	wantCode int
	wantOut  string // exact, after normalize; "-" skips the check
	wantErr  string // exact; "-" skips the check
	check    func(t *testing.T, c *cli)
}

func (c *cli) steps(steps []step) {
	for _, s := range steps {
		c.t.Run(s.name, func(t *testing.T) {
			out, errOut, code := c.run(t.Context(), s.stdin, s.args...)
			if code != s.wantCode {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, s.wantCode, out, errOut)
			}
			if s.wantOut != "-" && normalize(out) != s.wantOut {
				t.Errorf("stdout:\n%s\nwant:\n%s", normalize(out), s.wantOut)
			}
			if s.wantErr != "-" && errOut != s.wantErr {
				t.Errorf("stderr:\n%s\nwant:\n%s", errOut, s.wantErr)
			}
			if s.check != nil {
				s.check(t, c)
			}
		})
	}
}

func (c *cli) deployment(t *testing.T, ns, name string) *shoalv1.Deployment {
	t.Helper()
	d, err := c.conn.Get(t.Context(), ns, name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestApplyGetScaleSetImageDelete walks through a user's day: apply a
// multi-document file of Kubernetes manifests, look at it, change it, break
// it, and delete parts of it, checking the printed output and the API state.
func TestApplyGetScaleSetImageDelete(t *testing.T) {
	c := newCLI(t)
	c.steps([]step{
		{name: "apply creates", args: []string{"apply", "-f", "testdata/app.yaml"}, wantOut: `namespace/shop created
deployment/web created
service/web created
replicaset/cache created
pod/debug created
`, check: func(t *testing.T, c *cli) {
			d := c.deployment(t, "shop", "web")
			if got := d.GetSpec().GetTemplate().GetSpec().GetContainers()[0].GetResources().GetRequests().GetCpuMillis(); got != 100 {
				t.Errorf("cpu request = %d", got)
			}
			rs, err := client.For[*shoalv1.ReplicaSet](c.env.Conn).Get(t.Context(), "shop", "cache")
			if err != nil || rs.GetSpec().GetSelector().GetMatchLabels()["app"] != "cache" {
				t.Errorf("replicationcontroller became %v, %v", rs, err)
			}
		}},
		{name: "apply again is unchanged", args: []string{"apply", "-f", "testdata/app.yaml"}, wantOut: `namespace/shop unchanged
deployment/web unchanged
service/web unchanged
replicaset/cache unchanged
pod/debug unchanged
`},
		{name: "get deployments", args: []string{"get", "deploy", "-n", "shop"}, wantOut: `NAME   READY   UP-TO-DATE   AVAILABLE   AGE
web    0/3     0            0           <age>
`},
		{name: "get several types", args: []string{"get", "rs,svc", "-n", "shop", "-o", "name"}, wantOut: `replicaset/cache
service/web
`},
		{name: "get pods by label", args: []string{"get", "pods", "-l", "app=debug", "-n", "shop"}, wantOut: `NAME    READY   STATUS    RESTARTS   AGE
debug   0/1     Pending   0          <age>
`},
		{name: "get nothing", args: []string{"get", "pods", "-l", "app=none", "-n", "shop"}, wantOut: "",
			wantErr: "No resources found in shop namespace.\n"},
		{name: "get missing", args: []string{"get", "pod", "nope", "-n", "shop"}, wantCode: 1, wantOut: "",
			wantErr: "error: pods \"nope\" not found\n"},
		{name: "get unknown type", args: []string{"get", "widgets"}, wantCode: 1, wantOut: "",
			wantErr: "error: the server doesn't have a resource type \"widgets\"\n"},
		{name: "scale", args: []string{"scale", "deployment/web", "--replicas=5", "-n", "shop"}, wantOut: "deployment/web scaled\n",
			check: func(t *testing.T, c *cli) {
				if got := c.deployment(t, "shop", "web").GetSpec().GetReplicas(); got != 5 {
					t.Errorf("replicas = %d, want 5", got)
				}
			}},
		{name: "scale with a wrong precondition", args: []string{"scale", "deploy", "web", "--replicas=1", "--current-replicas=2", "-n", "shop"},
			wantCode: 1, wantOut: "", wantErr: "error: expected replicas to be 2, was 5\n"},
		{name: "set image", args: []string{"set", "image", "deployment/web", "web=nginx:1.28", "-n", "shop"}, wantOut: "deployment/web image updated\n",
			check: func(t *testing.T, c *cli) {
				d := c.deployment(t, "shop", "web")
				if got := d.GetSpec().GetTemplate().GetSpec().GetContainers()[0].GetImage(); got != "nginx:1.28" {
					t.Errorf("image = %q", got)
				}
				if d.GetSpec().GetReplicas() != 5 {
					t.Errorf("set image lost the scale: %d", d.GetSpec().GetReplicas())
				}
			}},
		{name: "set image of a missing container", args: []string{"set", "image", "deployment/web", "nope=x", "-n", "shop"},
			wantCode: 1, wantOut: "", wantErr: "error: unable to find container named \"nope\" in deployment/web\n"},
		{name: "apply brings the manifest back", args: []string{"apply", "-f", "testdata/app.yaml"}, wantOut: `namespace/shop unchanged
deployment/web configured
service/web unchanged
replicaset/cache unchanged
pod/debug unchanged
`, check: func(t *testing.T, c *cli) {
			d := c.deployment(t, "shop", "web")
			if d.GetSpec().GetReplicas() != 3 || d.GetSpec().GetTemplate().GetSpec().GetContainers()[0].GetImage() != "nginx:1.27" {
				t.Errorf("apply did not restore the manifest: %v", d.GetSpec())
			}
		}},
		{name: "apply from stdin", stdin: "apiVersion: v1\nkind: Service\nmetadata: {name: extra}\nspec:\n  ports: [{port: 8080}]\n",
			args: []string{"apply", "-f", "-", "-n", "shop"}, wantOut: "service/extra created\n"},
		{name: "get services wide", args: []string{"get", "svc", "extra", "-n", "shop", "-o", "json"}, wantOut: "-",
			check: func(t *testing.T, c *cli) {
				svc, err := client.For[*shoalv1.Service](c.env.Conn).Get(t.Context(), "shop", "extra")
				if err != nil || svc.GetSpec().GetClusterIp() == "" {
					t.Fatalf("service: %v %v", svc, err)
				}
			}},
		{name: "invalid object", args: []string{"apply", "-f", "testdata/invalid.yaml"}, wantCode: 1, wantOut: "",
			wantErr: `error: Deployment "bad" is invalid: spec.template.spec.containers[0].image: Required value
error: Deployment "bad" is invalid: spec.template.spec.containers[0].ports[0].containerPort: Required value
`},
		{name: "refused manifest applies nothing", args: []string{"apply", "-f", "testdata/refused.yaml"}, wantCode: 1, wantOut: "",
			wantErr: "error: testdata/refused.yaml (document 2, Deployment refused): spec.template.spec.containers[0].securityContext: not supported by Shoal\n",
			check: func(t *testing.T, c *cli) {
				if _, err := client.For[*shoalv1.Service](c.env.Conn).Get(t.Context(), "shop", "refused"); !client.IsNotFound(err) {
					t.Errorf("the valid document of a refused file was applied: %v", err)
				}
			}},
		{name: "namespace mismatch", args: []string{"apply", "-f", "testdata/app.yaml", "-n", "other"}, wantCode: 1, wantOut: "namespace/shop unchanged\n",
			wantErr: "-"},
		{name: "delete by label", args: []string{"delete", "pods", "-l", "app=debug", "-n", "shop"}, wantOut: "pod \"debug\" deleted\n",
			check: func(t *testing.T, c *cli) {
				if _, err := client.For[*shoalv1.Pod](c.env.Conn).Get(t.Context(), "shop", "debug"); !client.IsNotFound(err) {
					t.Errorf("pod still there: %v", err)
				}
			}},
		{name: "delete by name", args: []string{"delete", "svc/extra", "replicaset/cache", "-n", "shop"}, wantOut: "service \"extra\" deleted\nreplicaset \"cache\" deleted\n"},
		{name: "delete missing", args: []string{"delete", "svc", "extra", "-n", "shop"}, wantCode: 1, wantOut: "", wantErr: "error: services \"extra\" not found\n"},
		{name: "delete missing ignored", args: []string{"delete", "svc", "extra", "-n", "shop", "--ignore-not-found"}, wantOut: ""},
		{name: "delete needs names or a selector", args: []string{"delete", "pods", "-n", "shop"}, wantCode: 1, wantOut: "",
			wantErr: "error: resource(s) were provided, but no name was specified; use --all to delete every pods\n"},
		{name: "delete -f", args: []string{"delete", "-f", "testdata/app.yaml", "--ignore-not-found"}, wantOut: `namespace "shop" deleted
deployment "web" deleted
service "web" deleted
`},
	})
}

func TestNamespaceMismatchMessage(t *testing.T) {
	c := newCLI(t)
	_, errOut, code := c.run(t.Context(), "", "apply", "-f", "testdata/app.yaml", "-n", "other")
	want := "error: testdata/app.yaml (document 2, Deployment web): the namespace from the provided object \"shop\" does not match the namespace \"other\". You must pass '--namespace=shop' to perform this operation.\n"
	if code != 1 || !strings.HasPrefix(errOut, want) {
		t.Fatalf("code %d, stderr:\n%s", code, errOut)
	}
}

// TestNodesAndDrain: cordon, uncordon, and drain with its refusal of pods
// without a controller.
func TestNodesAndDrain(t *testing.T) {
	c := newCLI(t)
	ctx := t.Context()
	if _, err := client.For[*shoalv1.Node](c.env.Conn).Create(ctx, gatewaytest.Node("node-a")); err != nil {
		t.Fatal(err)
	}
	pods := client.For[*shoalv1.Pod](c.env.Conn)
	for _, name := range []string{"owned", "lonely"} {
		p := gatewaytest.Pod("default", name, map[string]string{"app": name})
		p.Spec.NodeName = "node-a"
		if name == "owned" {
			p.Metadata.OwnerReferences = []*shoalv1.OwnerReference{{Kind: "ReplicaSet", Name: "rs", Uid: "u1", Controller: true}}
		}
		if _, err := pods.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	c.steps([]step{
		{name: "cordon", args: []string{"cordon", "node-a"}, wantOut: "node/node-a cordoned\n"},
		{name: "cordon again", args: []string{"cordon", "node-a"}, wantOut: "node/node-a already cordoned\n"},
		{name: "get nodes", args: []string{"get", "nodes"}, wantOut: `NAME     STATUS                     ROLES    AGE     VERSION
node-a   Ready,SchedulingDisabled   <none>   <age>   <none>
`},
		{name: "uncordon", args: []string{"uncordon", "node/node-a"}, wantOut: "node/node-a uncordoned\n"},
		{name: "drain refuses pods without a controller", args: []string{"drain", "node-a"}, wantCode: 1, wantOut: "node/node-a cordoned\n",
			wantErr: "error: unable to drain node \"node-a\": cannot delete Pods that declare no controller (use --force to override): default/lonely\n"},
		{name: "drain --force", args: []string{"drain", "node-a", "--force", "--grace-period=0"},
			wantOut: "node/node-a already cordoned\nevicting pod default/lonely\nevicting pod default/owned\npod/lonely evicted\npod/owned evicted\nnode/node-a drained\n",
			wantErr: "Warning: deleting Pods that declare no controller: default/lonely\n",
			check: func(t *testing.T, c *cli) {
				left, err := pods.List(t.Context(), client.ListOptions{FieldSelector: "spec.node_name=node-a"})
				if err != nil || len(left.Items) != 0 {
					t.Errorf("pods left on the node: %v %v", left, err)
				}
			}},
	})
}

// TestRollout: history and undo over ReplicaSets carrying the Deployment
// controller's revision annotation, status following a rollout live, and
// pause/resume.
func TestRollout(t *testing.T) {
	c := newCLI(t)
	ctx := t.Context()
	if out, errOut, code := c.run(ctx, "", "apply", "-f", "testdata/app.yaml"); code != 0 {
		t.Fatalf("apply: %s %s", out, errOut)
	}
	d := c.deployment(t, "shop", "web")
	// What the deployment controller would have made: revision 1 (nginx:1.26)
	// and revision 2 (the current template).
	rsClient := client.For[*shoalv1.ReplicaSet](c.env.Conn)
	for rev, image := range map[string]string{"1": "nginx:1.26", "2": "nginx:1.27"} {
		tmpl := proto.Clone(d.GetSpec().GetTemplate()).(*shoalv1.PodTemplateSpec)
		tmpl.Spec.Containers[0].Image = image
		tmpl.Metadata.Labels[rollout.PodTemplateHashLabel] = "h" + rev
		rs := &shoalv1.ReplicaSet{
			Metadata: &shoalv1.ObjectMeta{Namespace: "shop", Name: "web-h" + rev, Labels: tmpl.Metadata.Labels,
				Annotations:     map[string]string{rollout.RevisionAnnotation: rev},
				OwnerReferences: []*shoalv1.OwnerReference{{Kind: "Deployment", Name: "web", Uid: d.GetMetadata().GetUid(), Controller: true}}},
			Spec: &shoalv1.ReplicaSetSpec{Replicas: proto.Int32(0), Selector: &shoalv1.LabelSelector{MatchLabels: tmpl.Metadata.Labels}, Template: tmpl},
		}
		if rev == "1" {
			rs.Metadata.Annotations[rollout.ChangeCauseAnnotation] = "first release"
		}
		if _, err := rsClient.Create(ctx, rs); err != nil {
			t.Fatal(err)
		}
	}
	c.steps([]step{
		{name: "history", args: []string{"rollout", "history", "deployment/web", "-n", "shop"}, wantOut: `deployment/web
REVISION   CHANGE-CAUSE
1          first release
2          <none>
`},
		{name: "history of a revision", args: []string{"rollout", "history", "deploy", "web", "--revision=1", "-n", "shop"}, wantOut: `deployment/web with revision #1
Pod Template:
  Labels:       app=web
  Annotations:  <none>
  Containers:
   web:
    Image:      nginx:1.26
`},
		{name: "undo", args: []string{"rollout", "undo", "deployment/web", "-n", "shop"}, wantOut: "deployment/web rolled back\n",
			check: func(t *testing.T, c *cli) {
				if got := c.deployment(t, "shop", "web").GetSpec().GetTemplate().GetSpec().GetContainers()[0].GetImage(); got != "nginx:1.26" {
					t.Errorf("image after undo = %q", got)
				}
			}},
		{name: "undo to a missing revision", args: []string{"rollout", "undo", "deployment/web", "--to-revision=9", "-n", "shop"}, wantCode: 1, wantOut: "",
			wantErr: "error: unable to find specified revision 9 in history\n"},
		{name: "pause", args: []string{"rollout", "pause", "deployment/web", "-n", "shop"}, wantOut: "deployment/web paused\n",
			check: func(t *testing.T, c *cli) {
				if !c.deployment(t, "shop", "web").GetSpec().GetPaused() {
					t.Error("not paused")
				}
			}},
		{name: "pause again", args: []string{"rollout", "pause", "deployment/web", "-n", "shop"}, wantOut: "deployment/web already paused\n"},
		{name: "resume", args: []string{"rollout", "resume", "deployment/web", "-n", "shop"}, wantOut: "deployment/web resumed\n"},
		{name: "status of a pod", args: []string{"rollout", "status", "pod/x"}, wantCode: 1, wantOut: "",
			wantErr: "error: no rollouts for pods: only deployments have them\n"},
	})

	t.Run("status follows the rollout", func(t *testing.T) {
		setStatus := func(st *shoalv1.DeploymentStatus) {
			t.Helper()
			cur := c.deployment(t, "shop", "web")
			st.ObservedGeneration = cur.GetMetadata().GetGeneration()
			cur.Status = st
			if _, err := c.conn.UpdateStatus(ctx, cur); err != nil {
				t.Fatal(err)
			}
		}
		setStatus(&shoalv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 1, AvailableReplicas: 0})
		var out, errOut syncBuffer
		done := make(chan int)
		go func() { done <- c.runTo(ctx, "", &out, &errOut, "rollout", "status", "deployment/web", "-n", "shop") }()
		first := "Waiting for deployment \"web\" rollout to finish: 1 out of 3 new replicas have been updated...\n"
		eventually(t, "the first progress line", func() bool { return out.String() == first })
		setStatus(&shoalv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 2})
		eventually(t, "the second progress line", func() bool { return strings.Count(out.String(), "\n") == 2 })
		setStatus(&shoalv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3, ReadyReplicas: 3})
		if code := <-done; code != 0 {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
		want := first +
			"Waiting for deployment \"web\" rollout to finish: 2 of 3 updated replicas are available...\n" +
			"deployment \"web\" successfully rolled out\n"
		if out.String() != want {
			t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
		}
	})
}

// TestWatchAndDescribe: get -w prints changes as they happen; describe
// shows an object's events.
func TestWatchAndDescribe(t *testing.T) {
	c := newCLI(t)
	ctx, cancel := context.WithCancel(t.Context())
	var out, errOut syncBuffer
	done := make(chan int)
	go func() { done <- c.runTo(ctx, "", &out, &errOut, "get", "pods", "-w") }()
	eventually(t, "the header", func() bool { return strings.HasPrefix(out.String(), "NAME") })
	pods := client.For[*shoalv1.Pod](c.env.Conn)
	if _, err := pods.Create(t.Context(), gatewaytest.Pod("default", "web-0", map[string]string{"app": "web"})); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new pod's row", func() bool { return strings.Contains(out.String(), "web-0 ") })
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if got := normalize(out.String()); !strings.HasSuffix(got, "web-0   0/1     Pending   0          <age>\n") {
		t.Errorf("watch output:\n%s", got)
	}

	ev := gatewaytest.Object("Event", "default", "web-0.1").(*shoalv1.Event)
	ev.Spec.Reason, ev.Spec.Message = "Scheduled", "Successfully assigned default/web-0 to node-a"
	ev.Spec.Source = &shoalv1.EventSource{Component: "scheduler"}
	if _, err := client.For[*shoalv1.Event](c.env.Conn).Create(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	o, errText, code := c.run(t.Context(), "", "describe", "pod", "web-0")
	if code != 0 {
		t.Fatalf("describe: %s", errText)
	}
	for _, want := range []string{
		"Name:               web-0\n",
		"Namespace:          default\n",
		"Labels:             app=web\n",
		"Status:             Pending\n",
		"Container app:      shoal.local/greeter:v1\n",
		"Spec:\n  containers:\n  - image: shoal.local/greeter:v1\n",
		"Events:\n  Type     Reason      Age",
		"Normal   Scheduled   ",
		"scheduler   Successfully assigned default/web-0 to node-a\n",
	} {
		if !strings.Contains(o, want) {
			t.Errorf("describe output lacks %q:\n%s", want, o)
		}
	}
}

// TestErrorsAndCompletion: connection problems are one clear line; the
// completion command and dynamic completion work.
func TestErrorsAndCompletion(t *testing.T) {
	c := newCLI(t)
	if _, err := client.For[*shoalv1.Pod](c.env.Conn).Create(t.Context(), gatewaytest.Pod("default", "web-0", nil)); err != nil {
		t.Fatal(err)
	}
	c.steps([]step{
		{name: "unreachable server", args: []string{"get", "pods", "--server", "127.0.0.1:1"}, wantCode: 1, wantOut: "",
			wantErr: "error: cannot reach the Shoal API at 127.0.0.1:1: connection refused\n"},
		{name: "logs of an unbound pod", args: []string{"logs", "web-0"}, wantCode: 1, wantOut: "", wantErr: "-"},
		{name: "bash completion", args: []string{"completion", "bash"}, wantOut: "-"},
		{name: "complete types", args: []string{"__complete", "get", "dep"}, wantOut: "deploy\ndeployment\ndeployment.apps\ndeployments\ndeployments.apps\n:4\n", wantErr: "-"},
		{name: "complete names", args: []string{"__complete", "get", "pods", "w"}, wantOut: "web-0\n:4\n", wantErr: "-"},
	})
}
