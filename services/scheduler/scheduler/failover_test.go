package scheduler_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
	"github.com/shoalmesh/shoal/services/scheduler/scheduler"
)

// TestLeaderFailover runs replicas with leader election against the
// gateway's etcd. The leader is stopped while pods are still arriving and
// pending, then the next leader's lease is revoked under it; each time
// another replica takes over, and every pod ends up bound exactly once (a
// watch sees spec.node_name go from "" to a node once per pod and never
// change again).
func TestLeaderFailover(t *testing.T) {
	env := gatewaytest.Start(t)
	conn := env.Conn
	for i := range 10 {
		createNodes(t, conn, node(fmt.Sprintf("node-%d", i), 64000, 64*gib, 110))
	}
	bl := watchBinds(t, conn, "default")

	newReplica := func(id string) *scheduler.Scheduler {
		cfg := testConfig(env)
		cfg.Identity = id
		cfg.LeaderElection.Enabled = true
		cfg.LeaderElection.EtcdEndpoints = []string{env.Gateway.EtcdEndpoint()}
		cfg.LeaderElection.Prefix = "/shoal/leader/scheduler-test"
		cfg.LeaderElection.TTL = 2 * time.Second
		// Few binds in flight at a time, so the leader stops with pods
		// still pending.
		cfg.Scheduling.MaxInFlightBinds = 4
		return startScheduler(t, cfg)
	}
	a, b := newReplica("a"), newReplica("b")
	var leader, standby *scheduler.Scheduler
	waitFor(t, "a leader", func() (bool, string) {
		switch {
		case a.IsLeader():
			leader, standby = a, b
		case b.IsLeader():
			leader, standby = b, a
		default:
			return false, "neither leads"
		}
		return true, ""
	})
	if standby.IsLeader() {
		t.Fatal("both replicas lead")
	}
	if got := healthStatus(t, leader); got != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("leader health %v, want SERVING", got)
	}
	if got := healthStatus(t, standby); got != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("standby health %v, want NOT_SERVING", got)
	}

	// createPods streams pods p-<from>..p-<to-1> in the background.
	createPods := func(from, to int) <-chan error {
		done := make(chan error, 1)
		go func() {
			for i := from; i < to; i++ {
				if _, err := client.For[*shoalv1.Pod](conn).Create(context.Background(), pod("default", fmt.Sprintf("p-%03d", i), 10, mib)); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		return done
	}
	boundAtLeast := func(n int) {
		waitFor(t, fmt.Sprintf("%d pods bound", n), func() (bool, string) {
			got := len(bl.bound())
			return got >= n, fmt.Sprintf("%d bound", got)
		})
	}

	// Phase 1: the leader shuts down (resigns) while pods arrive.
	created := createPods(0, 250)
	boundAtLeast(50)
	if err := leader.Close(); err != nil {
		t.Fatalf("stopping the leader: %v", err)
	}
	stoppedAt := len(bl.bound())
	t.Logf("leader %s stopped after %d binds", leader.Identity(), stoppedAt)
	waitFor(t, "the standby to lead", func() (bool, string) { return standby.IsLeader(), "still standing by" })
	if err := <-created; err != nil {
		t.Fatal(err)
	}
	boundAtLeast(250)
	if stoppedAt >= 250 {
		t.Errorf("the leader bound every pod before it stopped; the failover was not tested")
	}

	// Phase 2: the leader's lease is revoked under it (as when it is
	// partitioned from etcd or paused past its TTL): it stops leading while
	// its binds may still be in flight, and another replica takes over. The
	// gateway's once-only BindPod keeps every pod bound once.
	c := newReplica("c")
	leader = standby
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{env.Gateway.EtcdEndpoint()}, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	created = createPods(250, 450)
	boundAtLeast(300)
	resp, err := cli.Get(context.Background(), "/shoal/leader/scheduler-test/", clientv3.WithPrefix(),
		clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend), clientv3.WithLimit(1))
	if err != nil || len(resp.Kvs) == 0 {
		t.Fatalf("reading the election: %v (%d keys)", err, len(resp.Kvs))
	}
	if got := string(resp.Kvs[0].Value); got != leader.Identity() {
		t.Fatalf("the election names %q, want the leader %q", got, leader.Identity())
	}
	if _, err := cli.Revoke(context.Background(), clientv3.LeaseID(resp.Kvs[0].Lease)); err != nil {
		t.Fatal(err)
	}
	revokedAt := len(bl.bound())
	t.Logf("revoked the lease of %s after %d binds", leader.Identity(), revokedAt)
	if err := <-created; err != nil {
		t.Fatal(err)
	}
	boundAtLeast(450)
	if !leader.IsLeader() && !c.IsLeader() {
		waitFor(t, "a leader after the revocation", func() (bool, string) {
			return leader.IsLeader() || c.IsLeader(), "nobody leads"
		})
	}

	bl.check(t)
	// The gateway agrees with the watch.
	res, err := client.For[*shoalv1.Pod](conn).List(context.Background(), client.ListOptions{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 450 {
		t.Errorf("%d pods, want 450", len(res.Items))
	}
	for _, p := range res.Items {
		if p.GetSpec().GetNodeName() == "" {
			t.Errorf("pod %s is not bound", p.GetMetadata().GetName())
		}
	}
}

func healthStatus(t *testing.T, s *scheduler.Scheduler) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	conn, err := client.Dial(context.Background(), s.HealthAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetStatus()
}
