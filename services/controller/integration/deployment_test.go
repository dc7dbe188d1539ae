package integration

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/rollout"
	"github.com/shoalmesh/shoal/services/controller/conditions"
	"github.com/shoalmesh/shoal/services/controller/controllertest"
	"github.com/shoalmesh/shoal/services/controller/fakeagent"
	"github.com/shoalmesh/shoal/services/controller/podstate"
)

// editDeployment applies edit to the stored Deployment, retrying on
// conflicts.
func editDeployment(t *testing.T, c *controllertest.Cluster, ns, name string, edit func(*shoalv1.Deployment)) {
	t.Helper()
	ds := client.For[*shoalv1.Deployment](c.Conn)
	for {
		d, err := ds.Get(context.Background(), ns, name)
		if err != nil {
			t.Fatal(err)
		}
		edit(d)
		if _, err := ds.Update(context.Background(), d); client.IsConflict(err) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		return
	}
}

func setImage(image string) func(*shoalv1.Deployment) {
	return func(d *shoalv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = image }
}

// waitRolledOut waits for rollout.Status to say done.
func waitRolledOut(t *testing.T, c *controllertest.Cluster, ns, name string) {
	t.Helper()
	eventually(t, wait, "rollout of "+name, func(ctx context.Context) (bool, string, error) {
		st, err := rollout.Status(ctx, c.Conn, ns, name)
		if err != nil {
			return false, "", err
		}
		return st.Done, st.Message, nil
	})
}

// bounds checks, at every pod event, that at most hi pods are active and,
// once the rollout started from a settled state, at least lo are ready.
func bounds(lo, hi int) func([]*shoalv1.Pod) error {
	return func(pods []*shoalv1.Pod) error {
		cs := count(pods)
		if cs.active > hi {
			return fmt.Errorf("%d active pods, more than replicas + max surge = %d (%s)", cs.active, hi, cs)
		}
		if cs.ready < lo {
			return fmt.Errorf("%d ready pods, fewer than replicas - max unavailable = %d (%s)", cs.ready, lo, cs)
		}
		return nil
	}
}

// TestDeploymentRollingUpdate: v1 -> v2 never has fewer than replicas -
// max_unavailable ready pods nor more than replicas + max_surge pods, at
// any watch event; with counts and with percentages.
func TestDeploymentRollingUpdate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		replicas    int32
		surge, unav any
		lo, hi      int
	}{
		{name: "counts", replicas: 6, surge: 2, unav: 1, lo: 5, hi: 8},
		{name: "percentages", replicas: 8, surge: "25%", unav: "25%", lo: 6, hi: 10},
		{name: "surge-only", replicas: 4, surge: 1, unav: 0, lo: 4, hi: 5},
		{name: "unavailable-only", replicas: 4, surge: 0, unav: "50%", lo: 2, hi: 4},
	}
	// Pods take a moment to become ready, so rollouts have several steps.
	c := controllertest.Start(t, controllertest.Options{Agent: fakeagent.Config{ReadyDelay: 100 * time.Millisecond}})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := "roll-" + tc.name
			createNamespace(t, c, ns)
			d := deployment(ns, "web", tc.replicas)
			d.Spec.Strategy = &shoalv1.DeploymentStrategy{RollingUpdate: &shoalv1.RollingUpdateDeployment{
				MaxSurge: intOrStr(tc.surge), MaxUnavailable: intOrStr(tc.unav),
			}}
			if _, err := client.For[*shoalv1.Deployment](c.Conn).Create(context.Background(), d); err != nil {
				t.Fatal(err)
			}
			waitRolledOut(t, c, ns, "web")
			waitPods(t, c, ns, "app=web", int(tc.replicas), "shoal.local/greeter:v1")

			w := watchPods(t, c, ns, bounds(tc.lo, tc.hi))
			editDeployment(t, c, ns, "web", setImage("shoal.local/greeter:v2"))
			waitPods(t, c, ns, "app=web", int(tc.replicas), "shoal.local/greeter:v2")
			waitRolledOut(t, c, ns, "web")
			if err := w.err(); err != nil {
				t.Fatal(err)
			}
			if w.events < int(tc.replicas)*3 {
				t.Fatalf("only %d pod events seen during the rollout", w.events)
			}
			dep, err := client.For[*shoalv1.Deployment](c.Conn).Get(context.Background(), ns, "web")
			if err != nil {
				t.Fatal(err)
			}
			st := dep.GetStatus()
			if st.GetUpdatedReplicas() != tc.replicas || st.GetAvailableReplicas() != tc.replicas || st.GetUnavailableReplicas() != 0 ||
				!conditions.IsTrue(st.GetConditions(), rollout.ConditionAvailable) ||
				conditions.Get(st.GetConditions(), rollout.ConditionProgressing).GetReason() != rollout.ReasonNewRSAvailable {
				t.Fatalf("status after rollout: %v", st)
			}
			if rollout.RevisionOf(dep.GetMetadata()) != 2 {
				t.Fatalf("deployment revision %d, want 2", rollout.RevisionOf(dep.GetMetadata()))
			}
		})
	}
}

// TestDeploymentRollback: v1 -> v2 -> undo gives v1 back as revision 3 on
// the first ReplicaSet; undo to an explicit revision works too.
func TestDeploymentRollback(t *testing.T) {
	t.Parallel()
	c := controllertest.Start(t, controllertest.Options{})
	ctx := context.Background()
	createNamespace(t, c, "undo")
	if _, err := client.For[*shoalv1.Deployment](c.Conn).Create(ctx, deployment("undo", "web", 3)); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(t, c, "undo", "web")
	editDeployment(t, c, "undo", "web", setImage("shoal.local/greeter:v2"))
	waitPods(t, c, "undo", "app=web", 3, "shoal.local/greeter:v2")
	waitRolledOut(t, c, "undo", "web")

	hist, err := rollout.History(ctx, c.Conn, "undo", "web")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Number != 1 || hist[1].Number != 2 {
		t.Fatalf("history %v", revisions(hist))
	}
	v1RS := hist[0].ReplicaSet.GetMetadata().GetName()

	if _, err := rollout.Undo(ctx, c.Conn, "undo", "web", 0); err != nil {
		t.Fatal(err)
	}
	waitPods(t, c, "undo", "app=web", 3, "shoal.local/greeter:v1")
	waitRolledOut(t, c, "undo", "web")
	eventually(t, wait, "v1's replica set to become revision 3", func(ctx context.Context) (bool, string, error) {
		hist, err := rollout.History(ctx, c.Conn, "undo", "web")
		if err != nil {
			return false, "", err
		}
		last := hist[len(hist)-1]
		return len(hist) == 2 && last.Number == 3 && last.ReplicaSet.GetMetadata().GetName() == v1RS, fmt.Sprint(revisions(hist)), nil
	})

	// Explicit revision: back to v2 (revision 2), which becomes 4.
	if _, err := rollout.Undo(ctx, c.Conn, "undo", "web", 2); err != nil {
		t.Fatal(err)
	}
	waitPods(t, c, "undo", "app=web", 3, "shoal.local/greeter:v2")
	waitRolledOut(t, c, "undo", "web")
	if _, err := rollout.Undo(ctx, c.Conn, "undo", "web", 42); !errors.Is(err, rollout.ErrRevisionNotFound) {
		t.Fatalf("undo to a missing revision: %v", err)
	}
}

func revisions(h []rollout.Revision) []string {
	var out []string
	for _, r := range h {
		out = append(out, fmt.Sprintf("%d:%s", r.Number, r.ReplicaSet.GetMetadata().GetName()))
	}
	return out
}

// TestDeploymentRecreate: old pods are all gone before a new one exists.
func TestDeploymentRecreate(t *testing.T) {
	t.Parallel()
	c := controllertest.Start(t, controllertest.Options{})
	createNamespace(t, c, "recreate")
	d := deployment("recreate", "web", 4)
	d.Spec.Strategy = &shoalv1.DeploymentStrategy{Type: shoalv1.DeploymentStrategyType_DEPLOYMENT_STRATEGY_TYPE_RECREATE}
	if _, err := client.For[*shoalv1.Deployment](c.Conn).Create(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(t, c, "recreate", "web")
	w := watchPods(t, c, "recreate", func(pods []*shoalv1.Pod) error {
		images := map[string]bool{}
		for _, p := range pods {
			if !podstate.IsTerminal(p) {
				images[p.GetSpec().GetContainers()[0].GetImage()] = true // terminating ones too
			}
		}
		if len(images) > 1 {
			return fmt.Errorf("old and new pods at once: %v", images)
		}
		return nil
	})
	editDeployment(t, c, "recreate", "web", setImage("shoal.local/greeter:v2"))
	waitPods(t, c, "recreate", "app=web", 4, "shoal.local/greeter:v2")
	waitRolledOut(t, c, "recreate", "web")
	if err := w.err(); err != nil {
		t.Fatal(err)
	}
}

// TestDeploymentPauseScaleResume: a paused Deployment scales but does not
// roll out; resuming rolls out; replicas changed mid-rollout are spread
// over both ReplicaSets; min_ready_seconds delays availability.
func TestDeploymentPauseScaleResume(t *testing.T) {
	t.Parallel()
	c := controllertest.Start(t, controllertest.Options{})
	ctx := context.Background()
	createNamespace(t, c, "pause")
	d := deployment("pause", "web", 3)
	d.Spec.MinReadySeconds = 1
	if _, err := client.For[*shoalv1.Deployment](c.Conn).Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(t, c, "pause", "web")

	if _, err := rollout.Pause(ctx, c.Conn, "pause", "web"); err != nil {
		t.Fatal(err)
	}
	editDeployment(t, c, "pause", "web", func(d *shoalv1.Deployment) {
		d.Spec.Template.Spec.Containers[0].Image = "shoal.local/greeter:v2"
		d.Spec.Replicas = proto.Int32(5)
	})
	// Scaled, still v1, Progressing says paused.
	waitPods(t, c, "pause", "app=web", 5, "shoal.local/greeter:v1")
	eventually(t, wait, "paused condition", func(ctx context.Context) (bool, string, error) {
		d, err := client.For[*shoalv1.Deployment](c.Conn).Get(ctx, "pause", "web")
		if err != nil {
			return false, "", err
		}
		cond := conditions.Get(d.GetStatus().GetConditions(), rollout.ConditionProgressing)
		return cond.GetReason() == rollout.ReasonPaused && d.GetStatus().GetAvailableReplicas() == 5, d.GetStatus().String(), nil
	})
	rss, err := client.For[*shoalv1.ReplicaSet](c.Conn).List(ctx, client.ListOptions{Namespace: "pause"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rss.Items) != 1 {
		t.Fatalf("a paused deployment made %d replica sets", len(rss.Items))
	}

	if _, err := rollout.Resume(ctx, c.Conn, "pause", "web"); err != nil {
		t.Fatal(err)
	}
	waitPods(t, c, "pause", "app=web", 5, "shoal.local/greeter:v2")
	waitRolledOut(t, c, "pause", "web")
}

// TestDeploymentProgressDeadline: a rollout whose pods never become ready
// is reported as having exceeded its deadline; scaling mid-rollout is
// proportional.
func TestDeploymentProgressDeadline(t *testing.T) {
	t.Parallel()
	c := controllertest.Start(t, controllertest.Options{Agent: fakeagent.Config{HoldLabel: "hold"}})
	ctx := context.Background()
	createNamespace(t, c, "stuck")
	d := deployment("stuck", "web", 4)
	d.Spec.ProgressDeadlineSeconds = proto.Int32(2)
	if _, err := client.For[*shoalv1.Deployment](c.Conn).Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(t, c, "stuck", "web")
	editDeployment(t, c, "stuck", "web", func(d *shoalv1.Deployment) {
		d.Spec.Template.Metadata.Labels["hold"] = "yes"
		d.Spec.Template.Spec.Containers[0].Image = "shoal.local/greeter:broken"
	})
	eventually(t, wait, "progress deadline exceeded", func(ctx context.Context) (bool, string, error) {
		st, err := rollout.Status(ctx, c.Conn, "stuck", "web")
		if errors.Is(err, rollout.ErrProgressDeadline) {
			return true, "", nil
		}
		if err != nil {
			return false, "", err
		}
		return false, st.Message, nil
	})
	// The old pods keep serving: at least replicas - max unavailable (3).
	pods, err := podsOf(ctx, c, "stuck", "app=web")
	if err != nil {
		t.Fatal(err)
	}
	if cs := count(pods); cs.images["shoal.local/greeter:v1"] < 3 || cs.ready < 3 {
		t.Fatalf("old pods after a stuck rollout: %s", cs)
	}

	// Scale 4 -> 8 mid-rollout: both ReplicaSets grow in proportion.
	editDeployment(t, c, "stuck", "web", func(d *shoalv1.Deployment) { d.Spec.Replicas = proto.Int32(8) })
	// Before: old 3 + new 2 = 5 = 4 + max surge 1. After: 8 + max surge 2
	// = 10, shared in proportion to the sizes: old 6, new 4.
	eventually(t, wait, "proportional scale-up", func(ctx context.Context) (bool, string, error) {
		rss, err := client.For[*shoalv1.ReplicaSet](c.Conn).List(ctx, client.ListOptions{Namespace: "stuck"})
		if err != nil {
			return false, "", err
		}
		sizes := map[string]int{}
		for _, rs := range rss.Items {
			sizes[rs.GetSpec().GetTemplate().GetSpec().GetContainers()[0].GetImage()] = int(rs.GetSpec().GetReplicas())
		}
		return sizes["shoal.local/greeter:v1"] == 6 && sizes["shoal.local/greeter:broken"] == 4, mapString(sizes), nil
	})
}
