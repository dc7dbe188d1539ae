package leaderelection_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/shoalmesh/shoal/sdk/go/leaderelection"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
)

// TestOneLeaderAndFailover runs three candidates against a real etcd: one
// leads at a time; when it stops, another takes over.
func TestOneLeaderAndFailover(t *testing.T) {
	env := gatewaytest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	newClient := func() *clientv3.Client {
		cli, err := clientv3.New(clientv3.Config{Endpoints: []string{env.Gateway.EtcdEndpoint()}, Logger: zap.NewNop()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cli.Close() })
		return cli
	}
	var leading atomic.Int32
	var overlap atomic.Bool
	var mu sync.Mutex
	led := map[string]bool{}
	stops := map[string]context.CancelFunc{}
	var wg sync.WaitGroup
	for _, id := range []string{"a", "b", "c"} {
		cctx, stop := context.WithCancel(ctx)
		stops[id] = stop
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = leaderelection.Run(cctx, leaderelection.Config{Client: newClient(), Prefix: "/test/leader", Identity: id, TTL: 2 * time.Second}, func(lctx context.Context) {
				if leading.Add(1) > 1 {
					overlap.Store(true)
				}
				mu.Lock()
				led[id] = true
				mu.Unlock()
				<-lctx.Done()
				leading.Add(-1)
			})
		}()
	}
	cli := newClient()
	// The elected key appears a moment before its owner's Campaign returns:
	// wait until the leader really runs.
	running := func(id string) {
		for {
			mu.Lock()
			ok := led[id]
			mu.Unlock()
			if ok {
				return
			}
			select {
			case <-ctx.Done():
				t.Fatalf("%s is the elected leader but never ran lead", id)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	first := waitLeader(t, ctx, cli, "")
	running(first)
	stops[first]()
	second := waitLeader(t, ctx, cli, first)
	running(second)
	stops[second]()
	third := waitLeader(t, ctx, cli, second)
	running(third)
	for _, stop := range stops {
		stop()
	}
	wg.Wait()
	if overlap.Load() {
		t.Fatal("two candidates led at once")
	}
	if first == second || second == third || first == third {
		t.Fatalf("leaders %s, %s, %s: leadership did not move", first, second, third)
	}
}

func waitLeader(t *testing.T, ctx context.Context, cli *clientv3.Client, not string) string {
	t.Helper()
	for {
		id, err := leaderelection.Leader(ctx, cli, "/test/leader")
		if err == nil && id != "" && id != not {
			return id
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no new leader (last %q, err %v)", id, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
