package gateway_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/informer"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
)

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func names(pods []*shoalv1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.GetMetadata().GetName())
	}
	sort.Strings(out)
	return out
}

// TestInformerRelistsAfterCompaction: an informer whose gateway goes away
// while the cluster changes and etcd compacts its history gets OUT_OF_RANGE
// when it resumes, relists, and ends with exactly the cluster's state,
// having told its handlers about every deletion it missed.
func TestInformerRelistsAfterCompaction(t *testing.T) {
	primary := gatewaytest.Start(t)
	ctx := ctxT(t)
	mustCreateNamespace(t, primary, "inf")
	writes := client.For[*shoalv1.Pod](primary.Conn)

	cfg := gatewaytest.Config(t)
	cfg.EtcdEndpoints = []string{primary.Gateway.EtcdEndpoint()}
	cfg.ListenAddr = fmt.Sprintf("127.0.0.1:%d", gatewaytest.FreePort(t))
	cfg.WatchCacheSize = 8
	edge := gatewaytest.StartConfig(t, cfg)
	conn, err := client.Dial(ctx, cfg.ListenAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	inf := informer.New[*shoalv1.Pod](client.For[*shoalv1.Pod](conn), informer.WithNamespace("inf"), informer.WithBackoff(50*time.Millisecond, 500*time.Millisecond))
	var mu sync.Mutex
	deleted := map[string]bool{}
	inf.AddEventHandler(informer.HandlerFuncs[*shoalv1.Pod]{DeleteFunc: func(p *shoalv1.Pod) {
		mu.Lock()
		deleted[p.GetMetadata().GetName()] = true
		mu.Unlock()
	}})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- inf.Run(runCtx) }()
	defer func() {
		stop()
		<-done
	}()
	for i := 0; i < 5; i++ {
		if _, err := writes.Create(ctx, gatewaytest.Pod("inf", fmt.Sprintf("old-%d", i), nil)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the informer to see 5 pods", func() bool { return len(inf.List()) == 5 })

	edge.Gateway.Close()
	for i := 0; i < 3; i++ {
		if _, err := writes.Delete(ctx, "inf", fmt.Sprintf("old-%d", i), client.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 20; i++ {
		if _, err := writes.Create(ctx, gatewaytest.Pod("inf", fmt.Sprintf("new-%02d", i), nil)); err != nil {
			t.Fatal(err)
		}
	}
	head, err := primary.Gateway.EtcdClient().Get(ctx, "/", clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := primary.Gateway.EtcdClient().Compact(ctx, head.Header.Revision); err != nil {
		t.Fatal(err)
	}
	// A new gateway on the same address: the informer reconnects to it.
	gatewaytest.StartConfig(t, cfg)

	want, err := writes.List(ctx, client.ListOptions{Namespace: "inf"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the informer to relist", func() bool {
		return fmt.Sprint(names(inf.List())) == fmt.Sprint(names(want.Items))
	})
	// Handlers run on the informer's own goroutine, after the store is
	// replaced, so the deletions may reach them a moment after List shows
	// the new state.
	eventually(t, "delete events for old-0..old-2", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return deleted["old-0"] && deleted["old-1"] && deleted["old-2"]
	})
	mu.Lock()
	defer mu.Unlock()
	for name := range deleted {
		if name != "old-0" && name != "old-1" && name != "old-2" {
			t.Errorf("delete event for %s, which still exists", name)
		}
	}
}
