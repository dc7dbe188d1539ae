package integration

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
	"github.com/shoalmesh/shoal/services/controller/controllertest"
	"github.com/shoalmesh/shoal/services/controller/podstate"
)

// wait is the generous bound of every condition wait.
const wait = 30 * time.Second

var eventually = controllertest.Eventually

func labelsOf(app string) map[string]string { return map[string]string{"app": app} }

func template(app, image string) *shoalv1.PodTemplateSpec {
	spec := gatewaytest.PodSpec()
	spec.Containers[0].Image = image
	return &shoalv1.PodTemplateSpec{Metadata: &shoalv1.ObjectMeta{Labels: labelsOf(app)}, Spec: spec}
}

func replicaSet(ns, name string, replicas int32) *shoalv1.ReplicaSet {
	return &shoalv1.ReplicaSet{
		Metadata: &shoalv1.ObjectMeta{Namespace: ns, Name: name, Labels: labelsOf(name)},
		Spec: &shoalv1.ReplicaSetSpec{
			Replicas: proto.Int32(replicas),
			Selector: &shoalv1.LabelSelector{MatchLabels: labelsOf(name)},
			Template: template(name, "shoal.local/greeter:v1"),
		},
	}
}

func deployment(ns, name string, replicas int32) *shoalv1.Deployment {
	return &shoalv1.Deployment{
		Metadata: &shoalv1.ObjectMeta{Namespace: ns, Name: name, Labels: labelsOf(name)},
		Spec: &shoalv1.DeploymentSpec{
			Replicas: proto.Int32(replicas),
			Selector: &shoalv1.LabelSelector{MatchLabels: labelsOf(name)},
			Template: template(name, "shoal.local/greeter:v1"),
		},
	}
}

func intOrStr(v any) *shoalv1.IntOrString {
	switch x := v.(type) {
	case int:
		return &shoalv1.IntOrString{Value: &shoalv1.IntOrString_IntValue{IntValue: int32(x)}}
	case string:
		return &shoalv1.IntOrString{Value: &shoalv1.IntOrString_StrValue{StrValue: x}}
	}
	panic(v)
}

// createNamespace makes a namespace for one test.
func createNamespace(t *testing.T, c *controllertest.Cluster, name string) {
	t.Helper()
	if _, err := client.For[*shoalv1.Namespace](c.Conn).Create(context.Background(), gatewaytest.Namespace(name)); err != nil {
		t.Fatal(err)
	}
}

// podsOf lists the pods of a namespace matching a label selector.
func podsOf(ctx context.Context, c *controllertest.Cluster, ns, sel string) ([]*shoalv1.Pod, error) {
	res, err := client.For[*shoalv1.Pod](c.Conn).List(ctx, client.ListOptions{Namespace: ns, LabelSelector: sel})
	if err != nil {
		return nil, err
	}
	return res.Items, nil
}

// census counts pods: active (not deleting, not finished) and of those the
// ready ones.
type census struct {
	active, ready, deleting int
	images                  map[string]int // active pods by image
	nodes                   map[string]int // active pods by node
}

func count(pods []*shoalv1.Pod) census {
	c := census{images: map[string]int{}, nodes: map[string]int{}}
	for _, p := range pods {
		if !podstate.IsActive(p) {
			if p.GetMetadata().GetDeletionTimestamp() != nil {
				c.deleting++
			}
			continue
		}
		c.active++
		if podstate.IsReady(p) {
			c.ready++
		}
		c.images[p.GetSpec().GetContainers()[0].GetImage()]++
		c.nodes[p.GetSpec().GetNodeName()]++
	}
	return c
}

func (c census) String() string {
	return fmt.Sprintf("active=%d ready=%d deleting=%d images=%s nodes=%s", c.active, c.ready, c.deleting, mapString(c.images), mapString(c.nodes))
}

func mapString(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s:%d,", k, m[k])
	}
	return "{" + strings.TrimSuffix(b.String(), ",") + "}"
}

// waitPods waits until the selected pods are exactly want active and ready
// (with no pod being deleted), all running image when image is not empty.
func waitPods(t *testing.T, c *controllertest.Cluster, ns, sel string, want int, image string) []*shoalv1.Pod {
	t.Helper()
	var last []*shoalv1.Pod
	eventually(t, wait, fmt.Sprintf("%d ready pods %s in %s", want, sel, ns), func(ctx context.Context) (bool, string, error) {
		pods, err := podsOf(ctx, c, ns, sel)
		if err != nil {
			return false, "", err
		}
		last = pods
		cs := count(pods)
		ok := cs.active == want && cs.ready == want && cs.deleting == 0
		if image != "" {
			ok = ok && cs.images[image] == want
		}
		return ok, cs.String(), nil
	})
	return last
}

// podWatcher keeps the pods of a namespace from a watch stream and checks
// an invariant after every event.
type podWatcher struct {
	pods   map[string]*shoalv1.Pod
	events int
	errs   chan error
	stop   context.CancelFunc
	done   chan struct{}
}

// watchPods starts checking check(pods) after every pod event in ns; it
// stops at the test's end or on stop().
func watchPods(t *testing.T, c *controllertest.Cluster, ns string, check func(pods []*shoalv1.Pod) error) *podWatcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cli := client.For[*shoalv1.Pod](c.Conn)
	list, err := cli.List(ctx, client.ListOptions{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	w, err := cli.Watch(ctx, client.WatchOptions{Namespace: ns, ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	pw := &podWatcher{pods: map[string]*shoalv1.Pod{}, errs: make(chan error, 1), stop: cancel, done: make(chan struct{})}
	for _, p := range list.Items {
		pw.pods[p.GetMetadata().GetName()] = p
	}
	go func() {
		defer close(pw.done)
		defer w.Close()
		for {
			ev, err := w.Recv()
			if err != nil {
				return
			}
			name := ev.Object.GetMetadata().GetName()
			switch ev.Type {
			case shoalv1.WatchEventType_WATCH_EVENT_TYPE_ADDED, shoalv1.WatchEventType_WATCH_EVENT_TYPE_MODIFIED:
				pw.pods[name] = ev.Object
			case shoalv1.WatchEventType_WATCH_EVENT_TYPE_DELETED:
				delete(pw.pods, name)
			default:
				continue
			}
			pw.events++
			if err := check(slicesOf(pw.pods)); err != nil {
				select {
				case pw.errs <- fmt.Errorf("after event %d (%s %s): %w", pw.events, ev.Type, name, err):
				default:
				}
			}
		}
	}()
	t.Cleanup(pw.close)
	return pw
}

func (pw *podWatcher) close() {
	pw.stop()
	<-pw.done
}

// err stops the watcher and returns the first violation.
func (pw *podWatcher) err() error {
	pw.close()
	select {
	case err := <-pw.errs:
		return err
	default:
		return nil
	}
}

func slicesOf(m map[string]*shoalv1.Pod) []*shoalv1.Pod {
	out := make([]*shoalv1.Pod, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}

func sortedKeys(m map[string]*shoalv1.Pod) []string {
	keys := make([]string, 0, len(m))
	for k := range maps.Keys(m) {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
