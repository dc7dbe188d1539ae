// Package prometheus_test checks deploy/prometheus against a real
// Prometheus: it scrapes a running gateway and evaluates the project's SLO
// rules, so a rule that names a metric or label the services do not export
// fails here instead of staying silently empty in production.
package prometheus_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/internal/binarytest"
	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/apigateway/gateway"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
)

// prometheusBin is where Debian's prometheus package installs the server.
const prometheusBin = "/usr/bin/prometheus"

// TestSLORulesOnRealPrometheus starts a gateway serving /metrics, a real
// Prometheus scraping it every second with rules/shoal-slo.yml, makes API
// calls, and waits until the API latency SLO series and the node NotReady
// series have the values the traffic implies.
func TestSLORulesOnRealPrometheus(t *testing.T) {
	if _, err := os.Stat(prometheusBin); err != nil {
		t.Fatalf("%s is missing (%v): install Debian's prometheus package (apt-get install prometheus; .ci/run does it)", prometheusBin, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	metricsAddr, conn := startGateway(t, ctx)
	rules, err := filepath.Abs(filepath.Join("rules", "shoal-slo.yml"))
	if err != nil {
		t.Fatal(err)
	}
	prom := startPrometheus(t, metricsAddr, rules)

	// One NotReady node for the node SLO series.
	nodes := shoalv1.NewNodeServiceClient(conn)
	created, err := nodes.CreateNode(ctx, &shoalv1.CreateNodeRequest{Node: gatewaytest.Node("node-down")})
	if err != nil {
		t.Fatal(err)
	}
	created.Status.Conditions = []*shoalv1.Condition{{Type: "Ready", Status: shoalv1.ConditionStatus_CONDITION_STATUS_FALSE}}
	if _, err := nodes.UpdateNodeStatus(ctx, &shoalv1.UpdateNodeStatusRequest{Node: created}); err != nil {
		t.Fatal(err)
	}

	// API traffic for as long as the test runs: rate() over the scrapes
	// needs requests between them.
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Add(1)
	go func() {
		defer wg.Done()
		namespaces := shoalv1.NewNamespaceServiceClient(conn)
		for ctx.Err() == nil {
			_, _ = namespaces.GetNamespace(ctx, &shoalv1.GetNamespaceRequest{Name: "default"})
			_, _ = namespaces.ListNamespaces(ctx, &shoalv1.ListNamespacesRequest{})
			time.Sleep(10 * time.Millisecond)
		}
	}()

	p99 := prom.waitFor(t, "shoal:apiserver_request_latency_seconds:p99_5m", func(v float64) bool {
		return !math.IsNaN(v) && v > 0 && v <= 10
	})
	t.Logf("shoal:apiserver_request_latency_seconds:p99_5m = %gs", p99)
	prom.waitFor(t, "shoal:nodes_not_ready:count", func(v float64) bool { return v == 1 })
}

// startGateway runs a gateway with embedded etcd whose Observability serves
// /metrics on a loopback port of its own, as the binary does.
func startGateway(t *testing.T, ctx context.Context) (metricsAddr string, conn *grpc.ClientConn) {
	t.Helper()
	ocfg := observability.NewConfig("apigateway")
	ocfg.MetricsAddr = "127.0.0.1:0"
	obs, err := observability.Setup(ctx, ocfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = obs.Shutdown(context.Background()) })
	if metricsAddr, err = obs.ServeMetrics(ctx); err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.Start(ctx, gatewaytest.Config(t), obs)
	if err != nil {
		t.Fatalf("starting gateway: %v", err)
	}
	t.Cleanup(func() { _ = gw.Close() })
	cc, err := client.Dial(ctx, gw.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return metricsAddr, cc
}

// promServer is a Prometheus this test started.
type promServer struct {
	base string // http://127.0.0.1:port
}

// startPrometheus runs /usr/bin/prometheus on a free loopback port with
// storage in a temporary directory, scraping target every second as job
// "apigateway" (the job name the rules select on) and evaluating rules
// every second. Only this process is stopped at the end, by its PID.
func startPrometheus(t *testing.T, target, rules string) *promServer {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - %q
scrape_configs:
  - job_name: apigateway
    static_configs:
      - targets: [%q]
`, rules, target)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	port := gatewaytest.FreePort(t)
	binarytest.Start(t, exec.Command(prometheusBin,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port),
		"--log.level=info",
	))
	return &promServer{base: "http://127.0.0.1:" + strconv.Itoa(port)}
}

// waitFor queries expr until it returns one sample whose value satisfies
// ok, and returns that value. It fails the test, with what Prometheus last
// answered and the state of its targets, if that does not happen within a
// generous bound (this bounds a hang; it asserts no timing).
func (p *promServer) waitFor(t *testing.T, expr string, ok func(float64) bool) float64 {
	t.Helper()
	var last string
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		v, raw, err := p.query(expr)
		switch {
		case err != nil:
			last = err.Error()
		case len(v) == 1 && ok(v[0]):
			return v[0]
		default:
			last = raw
		}
	}
	_, targets, _ := p.get("/api/v1/targets")
	t.Fatalf("Prometheus never returned a fitting value for %s; last answer: %s\ntargets: %s", expr, last, binarytest.Tail([]byte(targets), 2000))
	return 0
}

// query runs an instant query and returns the values of the vector result.
func (p *promServer) query(expr string) ([]float64, string, error) {
	_, body, err := p.get("/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		return nil, "", err
	}
	var resp struct {
		Status string `json:"status"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		return nil, body, fmt.Errorf("decoding %q: %w", body, err)
	}
	if resp.Status != "success" || resp.Data.ResultType != "vector" {
		return nil, body, fmt.Errorf("query %s: %s", expr, body)
	}
	var out []float64
	for _, r := range resp.Data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, body, fmt.Errorf("value %q: %w", s, err)
		}
		out = append(out, v)
	}
	return out, body, nil
}

func (p *promServer) get(path string) (int, string, error) {
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(p.base + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}
