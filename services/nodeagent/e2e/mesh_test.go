package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/controller/endpoints"
	"github.com/shoalmesh/shoal/services/controller/manager"
	"github.com/shoalmesh/shoal/services/nodeagent/agent"
	"github.com/shoalmesh/shoal/services/nodeagent/nodeagenttest"
	xdsserver "github.com/shoalmesh/shoal/services/xds/server"
)

var (
	greeterOnce sync.Once
	greeterErr  error
)

// greeterReport is what tools/greeter/client prints (one JSON line per
// --report-every, running totals).
type greeterReport struct {
	Calls    int            `json:"calls"`
	Errors   int            `json:"errors"`
	Backends map[string]int `json:"backends"`
	LastErr  string         `json:"last_error"`
}

// TestMeshProxylessGreeter runs the mesh end to end on one node: a real
// gateway, xds server and Endpoints controller in-process, three greeter
// pods behind a Service and a mesh client pod whose plain grpc-go binary
// dials xds:///greeter.default.svc.cluster.local:50051 with nothing but the
// bootstrap the agent mounted (GRPC_XDS_BOOTSTRAP). Calls reach every
// replica; after one replica is deleted gracefully the client carries on
// with at most one failed call.
func TestMeshProxylessGreeter(t *testing.T) {
	if setupErr != nil {
		t.Fatalf("node agent e2e prerequisites: %v", setupErr)
	}
	greeterOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		greeterErr = nodeagenttest.BuildGreeterImages(ctx, binDir, imageDir)
	})
	if greeterErr != nil {
		t.Fatalf("building greeter images: %v", greeterErr)
	}

	var xds *xdsserver.Server
	e := newEnv(t, func(cfg *agent.Config) {
		// The xds server listens on every address; pods reach it through
		// the bridge's gateway IP (the first address of the pod CIDR).
		xds = startXDS(t, cfg.Gateway)
		_, port, _ := net.SplitHostPort(xds.Addr())
		cfg.XDSAddress = net.JoinHostPort(bridgeGateway(t, cfg.PodCIDR), port)
		startEndpointsController(t, cfg.Gateway)
	})

	svcs := client.For[*shoalv1.Service](e.gw.Conn)
	if _, err := svcs.Create(e.ctx(), &shoalv1.Service{
		Metadata: &shoalv1.ObjectMeta{Namespace: "default", Name: "greeter"},
		Spec: &shoalv1.ServiceSpec{
			Selector: map[string]string{"app": "greeter"},
			Ports: []*shoalv1.ServicePort{{Name: "grpc", Port: 50051, Protocol: shoalv1.ServiceProtocol_SERVICE_PROTOCOL_GRPC,
				TargetPort: &shoalv1.IntOrString{Value: &shoalv1.IntOrString_StrValue{StrValue: "grpc"}}}},
			Timeout: durationpb.New(10 * time.Second),
		},
	}); err != nil {
		t.Fatal(err)
	}
	replicas := []string{"greeter-a", "greeter-b", "greeter-c"}
	for _, name := range replicas {
		p := pod(name, &shoalv1.Container{
			Name: "greeter", Image: nodeagenttest.GreeterServerImage,
			Env:   []*shoalv1.EnvVar{{Name: "POD_NAME", ValueFrom: &shoalv1.EnvVarSource{FieldPath: "metadata.name"}}},
			Ports: []*shoalv1.ContainerPort{{Name: "grpc", ContainerPort: 50051}},
			ReadinessProbe: &shoalv1.Probe{PeriodSeconds: 1, Handler: &shoalv1.Probe_TcpSocket{TcpSocket: &shoalv1.TCPSocketAction{
				Port: &shoalv1.IntOrString{Value: &shoalv1.IntOrString_StrValue{StrValue: "grpc"}}}}},
		})
		p.Metadata.Labels = map[string]string{"app": "greeter"}
		p.Spec.TerminationGracePeriodSeconds = proto.Int64(10)
		e.createPod(p)
	}
	for _, name := range replicas {
		e.waitPod(name, "Running and Ready", isRunningReady)
	}
	eps := client.For[*shoalv1.Endpoints](e.gw.Conn)
	waitFor(t, "Endpoints greeter with 3 ready addresses", func() bool {
		ep, err := eps.Get(context.Background(), "default", "greeter")
		return err == nil && readyAddresses(ep) == 3
	})

	cl := pod("client", &shoalv1.Container{
		Name: "client", Image: nodeagenttest.GreeterClientImage,
		Args: []string{"--target", "xds:///greeter.default.svc.cluster.local:50051",
			"--calls", "0", "--interval", "20ms", "--report-every", "300ms", "--timeout", "10s"},
	})
	cl.Spec.Mesh = &shoalv1.MeshSpec{Enabled: true}
	cl.Spec.RestartPolicy = shoalv1.RestartPolicy_RESTART_POLICY_NEVER
	e.createPod(cl)
	e.waitPod("client", "Running", func(p *shoalv1.Pod) bool {
		return p.GetStatus().GetPhase() == shoalv1.PodPhase_POD_PHASE_RUNNING
	})

	// Every replica answers.
	before := e.waitReport(t, "calls on all three replicas", func(r greeterReport) bool {
		return r.Backends["greeter-a"] > 10 && r.Backends["greeter-b"] > 10 && r.Backends["greeter-c"] > 10
	})
	if before.Errors != 0 {
		t.Errorf("calls failed before any replica went away: %+v", before)
	}
	t.Logf("before deleting a replica: %+v", before)

	// One replica goes, gracefully (SIGTERM -> GracefulStop).
	grace := int64(10)
	if _, err := e.pods.Delete(e.ctx(), "default", "greeter-b", client.DeleteOptions{GracePeriodSeconds: &grace}); err != nil {
		t.Fatal(err)
	}
	e.waitGone("greeter-b")
	waitFor(t, "Endpoints greeter with 2 ready addresses", func() bool {
		ep, err := eps.Get(context.Background(), "default", "greeter")
		return err == nil && readyAddresses(ep) == 2
	})
	// A report written after the replica was gone, then 100 calls more.
	gone := e.lastReport(t)
	after := e.waitReport(t, "a report after the replica was gone", func(r greeterReport) bool { return r.Calls > gone.Calls })
	final := e.waitReport(t, "100 more calls", func(r greeterReport) bool {
		return r.Calls >= after.Calls+100 && r.Backends["greeter-a"] > after.Backends["greeter-a"] &&
			r.Backends["greeter-c"] > after.Backends["greeter-c"]
	})
	t.Logf("after deleting greeter-b: %+v", final)
	if final.Backends["greeter-b"] != after.Backends["greeter-b"] {
		t.Errorf("greeter-b answered after it was gone: %d then %d calls", after.Backends["greeter-b"], final.Backends["greeter-b"])
	}
	if failed := final.Errors - before.Errors; failed > 1 {
		t.Errorf("%d calls failed while a replica went away (at most the in-flight one may): %+v", failed, final)
	}
	if st := ctrStatus(e.waitPod("client", "still running", func(*shoalv1.Pod) bool { return true }), "client"); st.GetState().GetRunning() == nil {
		t.Errorf("client is no longer running: %v", st)
	}
}

// TestMeshPodWithoutXDSAddressWaits: an agent without --xds-address does
// not run mesh pods and says why.
func TestMeshPodWithoutXDSAddressWaits(t *testing.T) {
	e := newEnv(t)
	p := pod("meshy", shell("app", "sleep 3600"))
	p.Spec.Mesh = &shoalv1.MeshSpec{Enabled: true}
	e.createPod(p)
	got := e.waitPod("meshy", "Waiting/CreateContainerConfigError", func(p *shoalv1.Pod) bool {
		return ctrStatus(p, "app").GetState().GetWaiting().GetReason() == "CreateContainerConfigError"
	})
	if msg := ctrStatus(got, "app").GetState().GetWaiting().GetMessage(); !strings.Contains(msg, "--xds-address") {
		t.Errorf("waiting message %q does not name --xds-address", msg)
	}
	if got.GetStatus().GetPhase() != shoalv1.PodPhase_POD_PHASE_PENDING {
		t.Errorf("phase = %v, want Pending", got.GetStatus().GetPhase())
	}
	// A plain pod on the same agent runs.
	e.createPod(pod("plain", shell("app", "sleep 3600")))
	e.waitPod("plain", "Running", isRunningReady)
}

func startXDS(t *testing.T, gateway string) *xdsserver.Server {
	t.Helper()
	obs, err := observability.Setup(context.Background(), observability.NewConfig("xds-e2e"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { obs.Shutdown(context.Background()) })
	cfg := xdsserver.NewConfig()
	cfg.GatewayAddr = gateway
	cfg.ListenAddr = "0.0.0.0:0"
	cfg.AdminAddr = ""
	cfg.Debounce = 10 * time.Millisecond
	cfg.ShutdownTimeout = time.Second
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := xdsserver.Start(ctx, cfg, obs)
	if err != nil {
		t.Fatalf("starting the xds server: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// startEndpointsController runs the real Endpoints controller (only it) in
// a controller manager without leader election.
func startEndpointsController(t *testing.T, gateway string) {
	t.Helper()
	obs, err := observability.Setup(context.Background(), observability.NewConfig("controller-e2e"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { obs.Shutdown(context.Background()) })
	cfg := manager.NewConfig()
	cfg.Gateway = gateway
	cfg.LeaderElect = false
	cfg.ListenAddr = ""
	cfg.Controllers = []string{endpoints.Name}
	cfg.ShutdownTimeout = time.Second
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := manager.Start(ctx, cfg, obs)
	if err != nil {
		t.Fatalf("starting the endpoints controller: %v", err)
	}
	t.Cleanup(func() { m.Close() })
}

// bridgeGateway is the first address of the pod CIDR: the bridge plugin's
// gateway, where pods reach the host.
func bridgeGateway(t *testing.T, cidr string) string {
	t.Helper()
	_, n, err := net.ParseCIDR(cidr)
	if err != nil {
		t.Fatal(err)
	}
	ip := n.IP.To4()
	gw := net.IPv4(ip[0], ip[1], ip[2], ip[3]+1)
	return gw.String()
}

func readyAddresses(ep *shoalv1.Endpoints) int {
	n := 0
	for _, a := range ep.GetSpec().GetAddresses() {
		if a.GetReady() {
			n++
		}
	}
	return n
}

// lastReport is the client's latest report line, read through the
// gateway's PodLogs (zero before the first report).
func (e *env) lastReport(t *testing.T) greeterReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tail := int64(40)
	lines, err := e.logs(ctx, &shoalv1.PodLogsRequest{Namespace: "default", Name: "client", TailLines: &tail})
	if err != nil {
		t.Logf("client logs: %v", err)
		return greeterReport{}
	}
	for i := len(lines) - 1; i >= 0; i-- {
		var r greeterReport
		if strings.HasPrefix(lines[i], "{") && json.Unmarshal([]byte(lines[i]), &r) == nil {
			return r
		}
	}
	return greeterReport{}
}

// waitReport waits (generously) until the client's latest report passes
// cond and returns it.
func (e *env) waitReport(t *testing.T, what string, cond func(greeterReport) bool) greeterReport {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	var last greeterReport
	for time.Now().Before(deadline) {
		last = e.lastReport(t)
		if cond(last) {
			return last
		}
		time.Sleep(200 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tail := int64(30)
	lines, _ := e.logs(ctx, &shoalv1.PodLogsRequest{Namespace: "default", Name: "client", TailLines: &tail})
	t.Fatalf("client: timed out waiting for %s; last report %+v; log tail:\n%s", what, last, strings.Join(lines, "\n"))
	return last
}
