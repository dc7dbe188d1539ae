package probe

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

type fakeExec struct{ code int }

func (f fakeExec) Exec(context.Context, []string) (int, error) { return f.code, nil }

func port(n int) *shoalv1.IntOrString {
	return &shoalv1.IntOrString{Value: &shoalv1.IntOrString_IntValue{IntValue: int32(n)}}
}

func TestCheck(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	_, hp, _ := net.SplitHostPort(srv.Listener.Addr().String())
	httpPort, _ := strconv.Atoi(hp)

	gl, _ := net.Listen("tcp", "127.0.0.1:0")
	gs := grpc.NewServer()
	hs := health.NewServer()
	healthpb.RegisterHealthServer(gs, hs)
	go gs.Serve(gl)
	defer gs.Stop()
	hs.SetServingStatus("down", healthpb.HealthCheckResponse_NOT_SERVING)
	grpcPort := gl.Addr().(*net.TCPAddr).Port

	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()

	target := Target{IP: "127.0.0.1", Ports: []*shoalv1.ContainerPort{{Name: "http", ContainerPort: int32(httpPort)}}, Exec: fakeExec{0}}
	tests := []struct {
		name   string
		probe  *shoalv1.Probe
		target Target
		ok     bool
	}{
		{"exec 0", &shoalv1.Probe{Handler: &shoalv1.Probe_Exec{Exec: &shoalv1.ExecAction{Command: []string{"true"}}}}, target, true},
		{"exec 1", &shoalv1.Probe{Handler: &shoalv1.Probe_Exec{Exec: &shoalv1.ExecAction{Command: []string{"false"}}}}, Target{Exec: fakeExec{1}}, false},
		{"tcp open", &shoalv1.Probe{Handler: &shoalv1.Probe_TcpSocket{TcpSocket: &shoalv1.TCPSocketAction{Port: port(httpPort)}}}, target, true},
		{"tcp closed", &shoalv1.Probe{Handler: &shoalv1.Probe_TcpSocket{TcpSocket: &shoalv1.TCPSocketAction{Port: port(closedPort)}}}, target, false},
		{"http named port", &shoalv1.Probe{Handler: &shoalv1.Probe_HttpGet{HttpGet: &shoalv1.HTTPGetAction{Path: "/healthz",
			Port: &shoalv1.IntOrString{Value: &shoalv1.IntOrString_StrValue{StrValue: "http"}}}}}, target, true},
		{"http 404", &shoalv1.Probe{Handler: &shoalv1.Probe_HttpGet{HttpGet: &shoalv1.HTTPGetAction{Path: "/nope", Port: port(httpPort)}}}, target, false},
		{"http unknown port name", &shoalv1.Probe{Handler: &shoalv1.Probe_HttpGet{HttpGet: &shoalv1.HTTPGetAction{
			Port: &shoalv1.IntOrString{Value: &shoalv1.IntOrString_StrValue{StrValue: "nope"}}}}}, target, false},
		{"grpc serving", &shoalv1.Probe{Handler: &shoalv1.Probe_Grpc{Grpc: &shoalv1.GRPCAction{Port: int32(grpcPort)}}}, target, true},
		{"grpc not serving", &shoalv1.Probe{Handler: &shoalv1.Probe_Grpc{Grpc: &shoalv1.GRPCAction{Port: int32(grpcPort), Service: "down"}}}, target, false},
		{"no handler", &shoalv1.Probe{}, target, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(context.Background(), tc.probe, tc.target)
			if (err == nil) != tc.ok {
				t.Errorf("Check() = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrProbe) {
				t.Errorf("error does not wrap ErrProbe: %v", err)
			}
		})
	}
}

type flipExec struct {
	mu   sync.Mutex
	code int
}

func (f *flipExec) Exec(context.Context, []string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.code, nil
}

func (f *flipExec) set(c int) { f.mu.Lock(); f.code = c; f.mu.Unlock() }

// Run reports only threshold crossings: ready after success, not ready
// after failure_threshold failures, ready again.
func TestRunReportsFlips(t *testing.T) {
	ex := &flipExec{}
	p := &shoalv1.Probe{PeriodSeconds: 1, FailureThreshold: 2,
		Handler: &shoalv1.Probe_Exec{Exec: &shoalv1.ExecAction{Command: []string{"x"}}}}
	reports := make(chan bool, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Run(ctx, p, Target{Exec: ex}, false, func(ok bool, _ error) { reports <- ok })
	next := func() bool {
		select {
		case ok := <-reports:
			return ok
		case <-time.After(30 * time.Second):
			t.Fatal("no report")
			return false
		}
	}
	if !next() {
		t.Fatal("first report should be ready")
	}
	ex.set(1)
	if next() {
		t.Fatal("second report should be not ready")
	}
	ex.set(0)
	if !next() {
		t.Fatal("third report should be ready")
	}
}
