package lifecycle

import (
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// HealthServer serves grpc.health.v1, and nothing else, on a listener of
// its own: the probe endpoint of a service that has no gRPC API to put it
// on (the controller manager, the scheduler). It exists so that those
// services start it, report its failure and drain it the same way.
//
// Every method is safe on a nil *HealthServer and does nothing there, so a
// service whose listen address is empty (no health server) needs no
// checks.
type HealthServer struct {
	health *health.Server
	server *grpc.Server
	lis    net.Listener
	done   chan struct{} // closed when Serve has returned
}

// ServeHealth listens on addr and serves grpc.health.v1 there with opts
// (observability's ServerOptions, say) until Stop. The server as a whole
// ("") starts SERVING, and the services named in notServing (which may
// include "") NOT_SERVING, before the first probe can be answered.
// onServeErr, when not nil, is called from the serving goroutine if Serve
// fails.
func ServeHealth(addr string, opts []grpc.ServerOption, onServeErr func(error), notServing ...string) (*HealthServer, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	h := &HealthServer{health: health.NewServer(), server: grpc.NewServer(opts...), lis: lis, done: make(chan struct{})}
	for _, service := range notServing {
		h.health.SetServingStatus(service, healthpb.HealthCheckResponse_NOT_SERVING)
	}
	healthpb.RegisterHealthServer(h.server, h.health)
	go func() {
		defer close(h.done)
		if err := h.server.Serve(lis); err != nil && onServeErr != nil {
			onServeErr(err)
		}
	}()
	return h, nil
}

// Addr is the address the server listens on ("" for a nil server).
func (h *HealthServer) Addr() string {
	if h == nil {
		return ""
	}
	return h.lis.Addr().String()
}

// SetServingStatus sets the status of service ("" is the server as a
// whole). After Shutdown it does nothing.
func (h *HealthServer) SetServingStatus(service string, status healthpb.HealthCheckResponse_ServingStatus) {
	if h != nil {
		h.health.SetServingStatus(service, status)
	}
}

// Shutdown turns every service NOT_SERVING for good, so that probes see
// the drain before the server stops answering.
func (h *HealthServer) Shutdown() {
	if h != nil {
		h.health.Shutdown()
	}
}

// Stop stops serving: gracefully, then forcibly once timeout has passed,
// and returns when the server has stopped. Call Shutdown first.
func (h *HealthServer) Stop(timeout time.Duration) {
	if h == nil {
		return
	}
	StopGracefully(h.server, timeout)
	<-h.done
}

// StopGracefully stops srv with GracefulStop, which waits for every RPC to
// finish (a watch may never), and with Stop once timeout has passed. It
// returns when srv has stopped.
func StopGracefully(srv *grpc.Server, timeout time.Duration) {
	stopped := make(chan struct{})
	go func() {
		srv.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(timeout):
		srv.Stop()
		<-stopped
	}
}
