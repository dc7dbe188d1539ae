package observability

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ErrShutdown is returned by ServeMetrics after Shutdown.
var ErrShutdown = errors.New("observability: shut down")

type serverMetrics struct {
	handled *prometheus.CounterVec
	seconds *prometheus.HistogramVec
}

type clientMetrics struct {
	handled *prometheus.CounterVec
	seconds *prometheus.HistogramVec
}

// newRegistry builds a registry of its own rather than using
// prometheus.DefaultRegisterer, so that several services (or tests) in one
// process never collide.
func newRegistry() (*prometheus.Registry, *serverMetrics, *clientMetrics) {
	reg := prometheus.NewRegistry()
	sm := &serverMetrics{
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_grpc_server_handled_total",
			Help: "RPCs completed by this server, by gRPC service, method and status code.",
		}, []string{"service", "method", "code"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shoal_grpc_server_handling_seconds",
			Help:    "Time from the start of an RPC to its completion on this server (whole stream for streaming RPCs).",
			Buckets: prometheus.DefBuckets,
		}, []string{"service", "method"}),
	}
	cm := &clientMetrics{
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_grpc_client_handled_total",
			Help: "RPCs completed by this process as a client, by full method name and status code.",
		}, []string{"method", "code"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shoal_grpc_client_handling_seconds",
			Help:    "Time from the start of an RPC to its completion as seen by this client.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method"}),
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		sm.handled, sm.seconds,
		cm.handled, cm.seconds,
	)
	return reg, sm, cm
}

// metricsShutdownGrace bounds how long a cancelled ServeMetrics context
// waits for in-flight scrapes; scrapes are short, so this rarely matters.
const metricsShutdownGrace = 5 * time.Second

// ServeMetrics starts the HTTP server for Prometheus (/metrics) and
// liveness probes (/healthz) on cfg.MetricsAddr and returns the address it
// bound, which differs from the configured one for ":0". It returns
// ("", nil) when MetricsAddr is empty. The server stops when ctx is
// cancelled or on Shutdown, whichever comes first; it can be started once.
func (o *Observability) ServeMetrics(ctx context.Context) (string, error) {
	if o.cfg.MetricsAddr == "" {
		return "", nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return "", ErrShutdown
	}
	if o.httpSrv != nil {
		return "", errors.New("observability: metrics server already started")
	}

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", o.cfg.MetricsAddr)
	if err != nil {
		return "", fmt.Errorf("observability: metrics listener: %w", err)
	}

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.InstrumentMetricHandler(o.Registry,
		promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{
			ErrorLog: slog.NewLogLogger(o.Logger.Handler(), slog.LevelError),
			// Report gather errors but still serve what could be gathered:
			// one broken collector should not blind the whole scrape.
			ErrorHandling: promhttp.ContinueOnError,
		})))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	if o.cfg.EnablePprof {
		HandlePprof(mux)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn),
	}
	o.httpSrv = srv

	o.wg.Add(2)
	go func() {
		defer o.wg.Done()
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			o.Logger.Error("metrics server stopped", "addr", ln.Addr().String(), "error", err)
		}
	}()
	go func() {
		defer o.wg.Done()
		select {
		case <-ctx.Done():
			// Shutdown's own context is gone with ctx, so give scrapes
			// a bounded grace period of their own.
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), metricsShutdownGrace)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				_ = srv.Close()
			}
		case <-o.stop:
		}
	}()
	return ln.Addr().String(), nil
}

// HandlePprof serves Go's runtime profiles under /debug/pprof/ on mux: the
// one registration for every service's HTTP endpoint (ServeMetrics, xds's
// admin server).
func HandlePprof(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}
