// Command testserver is the static program inside the node agent's test
// images: an HTTP server (GET /healthz answers 500 while -unhealthy-file
// exists, GET / answers -message) and a grpc.health.v1 server, so tests can
// exercise http, tcp and grpc probes.
//
//	CGO_ENABLED=0 go build -o bin/testserver ./tools/testimages/testserver
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func main() {
	httpAddr := flag.String("http", ":8080", "HTTP listen address; empty disables")
	grpcAddr := flag.String("grpc", ":9090", "gRPC health listen address; empty disables")
	unhealthy := flag.String("unhealthy-file", "/tmp/unhealthy", "while this file exists /healthz fails and gRPC health is NOT_SERVING")
	message := flag.String("message", "hello from testserver", "body of GET /")
	flag.Parse()

	ok := func() bool { _, err := os.Stat(*unhealthy); return err != nil }
	if *httpAddr != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
			if !ok() {
				http.Error(w, "unhealthy", http.StatusInternalServerError)
				return
			}
			fmt.Fprintln(w, "ok")
		})
		mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, *message) })
		l, err := net.Listen("tcp", *httpAddr)
		if err != nil {
			log.Fatal(err)
		}
		go func() { log.Fatal(http.Serve(l, mux)) }()
		log.Printf("http on %s", l.Addr())
	}
	if *grpcAddr != "" {
		l, err := net.Listen("tcp", *grpcAddr)
		if err != nil {
			log.Fatal(err)
		}
		srv := grpc.NewServer()
		hs := &healthServer{ok: ok}
		healthpb.RegisterHealthServer(srv, hs)
		go func() { log.Fatal(srv.Serve(l)) }()
		log.Printf("grpc health on %s", l.Addr())
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	s := <-sigs
	log.Printf("got %v, exiting", s)
}

// healthServer answers from the unhealthy file on every call.
type healthServer struct {
	healthpb.UnimplementedHealthServer
	ok func() bool
}

func (h *healthServer) Check(_ context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	st := healthpb.HealthCheckResponse_SERVING
	if !h.ok() {
		st = healthpb.HealthCheckResponse_NOT_SERVING
	}
	return &healthpb.HealthCheckResponse{Status: st}, nil
}
