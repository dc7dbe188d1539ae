package integration

import (
	"context"
	"testing"
	"time"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/controller/controllertest"
	"github.com/shoalmesh/shoal/services/controller/fakeagent"
	"github.com/shoalmesh/shoal/services/controller/manager"
)

// TestLeaderFailover: two managers elect one leader; the leader goes away
// in the middle of a rolling update; the other takes over and finishes it,
// within the rollout's bounds throughout.
func TestLeaderFailover(t *testing.T) {
	t.Parallel()
	c := controllertest.Start(t, controllertest.Options{
		Managers: 2,
		// Slow pods: the rollout takes a few seconds, long enough to
		// interrupt.
		Agent: fakeagent.Config{ReadyDelay: 300 * time.Millisecond},
	})
	ctx := context.Background()
	var first *manager.Manager
	eventually(t, wait, "a leader", func(context.Context) (bool, string, error) {
		first = c.Leader()
		return first != nil, "", nil
	})
	createNamespace(t, c, "failover")
	d := deployment("failover", "web", 6)
	d.Spec.Strategy = &shoalv1.DeploymentStrategy{RollingUpdate: &shoalv1.RollingUpdateDeployment{
		MaxSurge: intOrStr(1), MaxUnavailable: intOrStr(0),
	}}
	if _, err := client.For[*shoalv1.Deployment](c.Conn).Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(t, c, "failover", "web")
	w := watchPods(t, c, "failover", bounds(6, 7))
	editDeployment(t, c, "failover", "web", setImage("shoal.local/greeter:v2"))
	eventually(t, wait, "rollout under way", func(ctx context.Context) (bool, string, error) {
		d, err := client.For[*shoalv1.Deployment](c.Conn).Get(ctx, "failover", "web")
		if err != nil {
			return false, "", err
		}
		st := d.GetStatus()
		return st.GetUpdatedReplicas() >= 2 && st.GetUpdatedReplicas() < 6, st.String(), nil
	})
	// The leader shuts down (SIGTERM): it resigns, the standby leads.
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, wait, "the standby to lead", func(context.Context) (bool, string, error) {
		l := c.Leader()
		if l == nil {
			return false, "no leader", nil
		}
		return l != first, "leader " + l.Identity(), nil
	})
	waitPods(t, c, "failover", "app=web", 6, "shoal.local/greeter:v2")
	waitRolledOut(t, c, "failover", "web")
	if err := w.err(); err != nil {
		t.Fatal(err)
	}
}
