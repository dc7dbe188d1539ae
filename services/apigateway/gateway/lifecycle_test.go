package gateway_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/apigateway/gateway"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
	"github.com/shoalmesh/shoal/services/apigateway/ipalloc"
)

func TestBindPodOnce(t *testing.T) {
	env := gatewaytest.Start(t)
	ctx := ctxT(t)
	mustCreateNamespace(t, env, "bind")
	pods := client.For[*shoalv1.Pod](env.Conn)
	p, err := pods.Create(ctx, gatewaytest.Pod("bind", "p", nil))
	if err != nil {
		t.Fatal(err)
	}
	pc := shoalv1.NewPodServiceClient(env.Conn)
	bound, err := pc.BindPod(ctx, &shoalv1.BindPodRequest{Namespace: "bind", Name: "p", NodeName: "node-a", Uid: p.GetMetadata().GetUid()})
	if err != nil {
		t.Fatal(err)
	}
	if bound.GetSpec().GetNodeName() != "node-a" {
		t.Fatalf("bound to %q", bound.GetSpec().GetNodeName())
	}
	scheduled := false
	for _, c := range bound.GetStatus().GetConditions() {
		scheduled = scheduled || (c.GetType() == "PodScheduled" && c.GetStatus() == shoalv1.ConditionStatus_CONDITION_STATUS_TRUE)
	}
	if !scheduled {
		t.Fatalf("no PodScheduled=True condition: %v", bound.GetStatus())
	}
	if _, err := pc.BindPod(ctx, &shoalv1.BindPodRequest{Namespace: "bind", Name: "p", NodeName: "node-b"}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("second bind: want FAILED_PRECONDITION, got %v", err)
	}
	// Field selectors see the binding.
	list, err := pods.List(ctx, client.ListOptions{FieldSelector: "spec.node_name=node-a"})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("field selector spec.node_name: %v, %d items", err, len(list.Items))
	}
	list, err = pods.List(ctx, client.ListOptions{FieldSelector: "status.phase=Pending,spec.node_name!=node-a"})
	if err != nil || len(list.Items) != 0 {
		t.Fatalf("field selector status.phase: %v, %d items", err, len(list.Items))
	}
}

func TestGracefulPodDeletion(t *testing.T) {
	env := gatewaytest.Start(t)
	ctx := ctxT(t)
	mustCreateNamespace(t, env, "grace")
	pods := client.For[*shoalv1.Pod](env.Conn)
	pc := shoalv1.NewPodServiceClient(env.Conn)

	// Never bound: gone at once.
	if _, err := pods.Create(ctx, gatewaytest.Pod("grace", "unbound", nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Delete(ctx, "grace", "unbound", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Get(ctx, "grace", "unbound"); status.Code(err) != codes.NotFound {
		t.Fatalf("unbound pod after delete: want NOT_FOUND, got %v", err)
	}

	// Bound: marked, then removed when the node agent confirms.
	if _, err := pods.Create(ctx, gatewaytest.Pod("grace", "bound", nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.BindPod(ctx, &shoalv1.BindPodRequest{Namespace: "grace", Name: "bound", NodeName: "node-a"}); err != nil {
		t.Fatal(err)
	}
	marked, err := pods.Delete(ctx, "grace", "bound", client.DeleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if marked.GetMetadata().GetDeletionTimestamp() == nil || marked.GetMetadata().GetDeletionGracePeriodSeconds() != 30 {
		t.Fatalf("bound pod: want deletion timestamp and 30s grace, got %v", marked.GetMetadata())
	}
	if _, err := pods.Get(ctx, "grace", "bound"); err != nil {
		t.Fatalf("a terminating pod must still be readable: %v", err)
	}
	// A later delete may shorten the grace, never lengthen it.
	long := int64(300)
	again, err := pods.Delete(ctx, "grace", "bound", client.DeleteOptions{GracePeriodSeconds: &long})
	if err != nil || again.GetMetadata().GetDeletionGracePeriodSeconds() != 30 {
		t.Fatalf("lengthening the grace: %v %v", err, again.GetMetadata())
	}
	zero := int64(0)
	if _, err := pods.Delete(ctx, "grace", "bound", client.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Get(ctx, "grace", "bound"); status.Code(err) != codes.NotFound {
		t.Fatalf("confirmed pod: want NOT_FOUND, got %v", err)
	}
}

func TestFinalizersHoldObjects(t *testing.T) {
	env := gatewaytest.Start(t)
	ctx := ctxT(t)
	mustCreateNamespace(t, env, "fin")
	rss := client.For[*shoalv1.ReplicaSet](env.Conn)
	rs := gatewaytest.Object("ReplicaSet", "fin", "rs").(*shoalv1.ReplicaSet)
	rs.Metadata.Finalizers = []string{"example.com/hold"}
	if _, err := rss.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	held, err := rss.Delete(ctx, "fin", "rs", client.DeleteOptions{PropagationPolicy: shoalv1.PropagationPolicy_PROPAGATION_POLICY_FOREGROUND})
	if err != nil {
		t.Fatal(err)
	}
	if held.GetMetadata().GetDeletionTimestamp() == nil {
		t.Fatal("no deletion timestamp on a held object")
	}
	want := map[string]bool{"example.com/hold": true, "foregroundDeletion": true}
	for _, f := range held.GetMetadata().GetFinalizers() {
		delete(want, f)
	}
	if len(want) != 0 {
		t.Fatalf("finalizers %v lack %v", held.GetMetadata().GetFinalizers(), want)
	}
	held.Metadata.Finalizers = nil
	if _, err := rss.Update(ctx, held); err != nil {
		t.Fatal(err)
	}
	if _, err := rss.Get(ctx, "fin", "rs"); status.Code(err) != codes.NotFound {
		t.Fatalf("after clearing finalizers: want NOT_FOUND, got %v", err)
	}
}

func TestNamespaceLifecycle(t *testing.T) {
	env := gatewaytest.Start(t)
	ctx := ctxT(t)
	pods := client.For[*shoalv1.Pod](env.Conn)
	nss := client.For[*shoalv1.Namespace](env.Conn)
	if _, err := pods.Create(ctx, gatewaytest.Pod("later", "p", nil)); status.Code(err) != codes.NotFound {
		t.Fatalf("pod before its namespace: want NOT_FOUND, got %v", err)
	}
	ns, err := nss.Create(ctx, gatewaytest.Namespace("later"))
	if err != nil {
		t.Fatal(err)
	}
	if ns.GetStatus().GetPhase() != shoalv1.NamespacePhase_NAMESPACE_PHASE_ACTIVE {
		t.Fatalf("new namespace phase %v", ns.GetStatus().GetPhase())
	}
	// Immediately after creation (no waiting for caches).
	if _, err := pods.Create(ctx, gatewaytest.Pod("later", "p", nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := nss.Delete(ctx, "", "later", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Create(ctx, gatewaytest.Pod("later", "q", nil)); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("pod in a terminating namespace: want FAILED_PRECONDITION, got %v", err)
	}
	list, err := nss.List(ctx, client.ListOptions{FieldSelector: "status.phase=Terminating"})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("terminating namespaces: %v %d", err, len(list.Items))
	}
}

func TestServiceClusterIPs(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.WithConfig(func(c *gateway.Config) { c.ServiceCIDR = "10.200.0.0/24" }))
	other := gatewaytest.Start(t, gatewaytest.WithEtcd(env.Gateway.EtcdEndpoint()), gatewaytest.WithConfig(func(c *gateway.Config) { c.ServiceCIDR = "10.200.0.0/24" }))
	ctx := ctxT(t)
	mustCreateNamespace(t, env, "svc")
	var mu sync.Mutex
	ips := map[string]string{}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn := env.Conn
			if i%2 == 1 {
				conn = other.Conn // two gateways allocate from one range
			}
			s, err := client.For[*shoalv1.Service](conn).Create(ctx, gatewaytest.Object("Service", "svc", fmt.Sprintf("s-%d", i)).(*shoalv1.Service))
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if prev, dup := ips[s.GetSpec().GetClusterIp()]; dup {
				errs <- fmt.Errorf("%s given to both %s and %s", s.GetSpec().GetClusterIp(), prev, s.GetMetadata().GetName())
			}
			ips[s.GetSpec().GetClusterIp()] = s.GetMetadata().GetName()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	svcs := client.For[*shoalv1.Service](env.Conn)
	taken, err := svcs.Get(ctx, "svc", "s-0")
	if err != nil {
		t.Fatal(err)
	}
	ip := taken.GetSpec().GetClusterIp()
	if !netip.MustParsePrefix("10.200.0.0/24").Contains(netip.MustParseAddr(ip)) {
		t.Fatalf("%s outside the range", ip)
	}
	dup := gatewaytest.Object("Service", "svc", "dup").(*shoalv1.Service)
	dup.Spec.ClusterIp = ip
	if _, err := svcs.Create(ctx, dup); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("explicit taken IP: want INVALID_ARGUMENT, got %v", err)
	}
	// Updates keep the IP (even when the client leaves it empty) and may not change it.
	taken.Spec.ClusterIp = ""
	taken.Metadata.Labels["v"] = "2"
	upd, err := svcs.Update(ctx, taken)
	if err != nil || upd.GetSpec().GetClusterIp() != ip {
		t.Fatalf("update lost the IP: %v %q", err, upd.GetSpec().GetClusterIp())
	}
	upd.Spec.ClusterIp = "10.200.0.250"
	if _, err := svcs.Update(ctx, upd); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("changing the IP: want INVALID_ARGUMENT, got %v", err)
	}
	// Deleting frees it.
	if _, err := svcs.Delete(ctx, "svc", "s-0", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	resp, err := env.Gateway.EtcdClient().Get(ctx, ipalloc.Key(netip.MustParseAddr(ip)))
	if err != nil || len(resp.Kvs) != 0 {
		t.Fatalf("IP %s still allocated after delete: %v %d", ip, err, len(resp.Kvs))
	}
	if _, err := svcs.Create(ctx, dup); err != nil {
		t.Fatalf("reusing a freed IP: %v", err)
	}
}

func TestAuthentication(t *testing.T) {
	tokens := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(tokens, []byte(`admin-token,admin,1,"system:masters"
reader-token,dash,2,"system:readers"
node-token,system:node:node-a,3,"system:nodes"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := gatewaytest.Start(t, gatewaytest.WithConfig(func(c *gateway.Config) { c.TokenFile = tokens }))
	ctx := ctxT(t)
	admin := env.Dial(t, client.WithToken("admin-token"))
	reader := env.Dial(t, client.WithToken("reader-token"))
	node := env.Dial(t, client.WithToken("node-token"))
	wrong := env.Dial(t, client.WithToken("nope"))

	if err := checkHealth(ctx, env); err != nil {
		t.Fatalf("health must not need a token: %v", err)
	}
	if _, err := client.For[*shoalv1.Namespace](env.Conn).List(ctx, client.ListOptions{}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("no token: want UNAUTHENTICATED, got %v", err)
	}
	if _, err := client.For[*shoalv1.Namespace](wrong).List(ctx, client.ListOptions{}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("unknown token: want UNAUTHENTICATED, got %v", err)
	}
	if _, err := client.For[*shoalv1.Namespace](admin).Create(ctx, gatewaytest.Namespace("team")); err != nil {
		t.Fatalf("admin create: %v", err)
	}
	if _, err := client.For[*shoalv1.Namespace](reader).List(ctx, client.ListOptions{}); err != nil {
		t.Fatalf("reader list: %v", err)
	}
	if _, err := client.For[*shoalv1.Namespace](reader).Create(ctx, gatewaytest.Namespace("x")); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("reader create: want PERMISSION_DENIED, got %v", err)
	}
	w, err := client.For[*shoalv1.Pod](wrong).Watch(ctx, client.WatchOptions{})
	if err == nil {
		_, err = w.Recv()
		w.Close()
	}
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("watch without a valid token: want UNAUTHENTICATED, got %v", err)
	}
	nodes := client.For[*shoalv1.Node](node)
	if _, err := nodes.Create(ctx, gatewaytest.Node("node-a")); err != nil {
		t.Fatalf("node registering itself: %v", err)
	}
	if _, err := nodes.Create(ctx, gatewaytest.Node("node-b")); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("node registering another node: want PERMISSION_DENIED, got %v", err)
	}
	if _, err := client.For[*shoalv1.Namespace](node).Create(ctx, gatewaytest.Namespace("y")); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("node creating a namespace: want PERMISSION_DENIED, got %v", err)
	}
}

func TestSystemNamespacesExist(t *testing.T) {
	env := gatewaytest.Start(t)
	ctx := ctxT(t)
	for _, name := range gateway.SystemNamespaces {
		ns, err := client.For[*shoalv1.Namespace](env.Conn).Get(ctx, "", name)
		if err != nil || ns.GetStatus().GetPhase() != shoalv1.NamespacePhase_NAMESPACE_PHASE_ACTIVE {
			t.Fatalf("namespace %s: %v %v", name, err, ns.GetStatus())
		}
	}
}
