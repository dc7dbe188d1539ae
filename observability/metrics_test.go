package observability

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc/codes"
)

func TestServeMetricsDisabled(t *testing.T) {
	o, _ := setupTest(t, NewConfig("svc")) // MetricsAddr ""
	addr, err := o.ServeMetrics(context.Background())
	if addr != "" || err != nil {
		t.Fatalf("ServeMetrics = %q, %v; want \"\", nil", addr, err)
	}
}

func TestServeMetricsEndpoints(t *testing.T) {
	cfg := NewConfig("svc")
	cfg.MetricsAddr = "127.0.0.1:0"
	o, _ := setupTest(t, cfg)
	addr, err := o.ServeMetrics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, port, _ := net.SplitHostPort(addr); port == "0" || port == "" {
		t.Fatalf("ServeMetrics returned %q, want the bound port", addr)
	}
	if _, err := o.ServeMetrics(context.Background()); err == nil {
		t.Error("second ServeMetrics succeeded, want an error")
	}

	tests := []struct {
		path       string
		wantStatus int
		wantBody   string // substring
	}{
		{"/healthz", http.StatusOK, "ok"},
		{"/metrics", http.StatusOK, "go_goroutines"},
		{"/metrics", http.StatusOK, "process_cpu_seconds_total"},
		{"/metrics", http.StatusOK, "promhttp_metric_handler_requests_total"},
		{"/nope", http.StatusNotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := http.Get("http://" + addr + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if !strings.Contains(string(body), tc.wantBody) {
				t.Errorf("body lacks %q:\n%.500s", tc.wantBody, body)
			}
		})
	}
}

// TestServeMetricsPprof: profiles are served only when asked for.
func TestServeMetricsPprof(t *testing.T) {
	for _, enabled := range []bool{false, true} {
		t.Run(fmt.Sprint("enabled=", enabled), func(t *testing.T) {
			cfg := NewConfig("svc")
			cfg.MetricsAddr = "127.0.0.1:0"
			cfg.EnablePprof = enabled
			o, _ := setupTest(t, cfg)
			addr, err := o.ServeMetrics(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.Get("http://" + addr + "/debug/pprof/goroutine?debug=1")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			got := resp.StatusCode == http.StatusOK && strings.Contains(string(body), "goroutine profile")
			if got != enabled {
				t.Errorf("pprof served = %v (status %d), want %v", got, resp.StatusCode, enabled)
			}
		})
	}
}

// waitDown polls until nothing accepts connections on addr.
func waitDown(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("metrics server on %s still accepting connections", addr)
}

func TestServeMetricsStopsWithContext(t *testing.T) {
	cfg := NewConfig("svc")
	cfg.MetricsAddr = "127.0.0.1:0"
	o, _ := setupTest(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	addr, err := o.ServeMetrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err != nil {
		t.Fatalf("server not up: %v", err)
	}
	cancel()
	waitDown(t, addr)
}

func TestShutdownIdempotent(t *testing.T) {
	cfg := NewConfig("svc")
	cfg.MetricsAddr = "127.0.0.1:0"
	o, err := Setup(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := o.ServeMetrics(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = o.Shutdown(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Shutdown #%d: %v", i, err)
		}
	}
	if err := o.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown after Shutdown: %v", err)
	}
	waitDown(t, addr)
	if _, err := o.ServeMetrics(context.Background()); !errors.Is(err, ErrShutdown) {
		t.Errorf("ServeMetrics after Shutdown = %v, want ErrShutdown", err)
	}
	// Spans after Shutdown are dropped, not a crash.
	_, span := o.Tracer("late").Start(context.Background(), "op")
	span.End()
}

func TestMetricsLint(t *testing.T) {
	o, _ := setupTest(t, NewConfig("svc"))
	// Touch every vector so that lint sees a sample of each.
	o.serverMetrics.observe("/a.B/C", codes.OK, time.Millisecond)
	o.clientMetrics.observe("/a.B/C", nil, time.Millisecond)
	fams, err := o.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var ours []*dto.MetricFamily
	for _, f := range fams {
		if strings.HasPrefix(f.GetName(), "shoal_") {
			ours = append(ours, f)
		}
	}
	// grpc server and client (2 each), trace span dropped and exported.
	if len(ours) != 6 {
		t.Fatalf("got %d shoal_ families, want 6", len(ours))
	}
	problems, err := promlint.NewWithMetricFamilies(ours).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}
