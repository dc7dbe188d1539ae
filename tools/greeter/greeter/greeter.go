// Package greeter is the mesh's demo workload: a gRPC server that answers
// with its own name (the pod or host name), so that tests and the client
// program can count how calls spread over replicas. It speaks grpc-go's
// interop TestService (grpc.testing.TestService/UnaryCall): SimpleResponse
// carries the server's name in server_id and hostname.
//
//	srv := greeter.NewServer("greeter-0")
//	go srv.Serve(lis)
//
//	conn, _ := grpc.NewClient("xds:///greeter.default.svc.cluster.local:50051", creds)
//	name, err := greeter.Call(ctx, conn, "x-user", "alice")
package greeter

import (
	"context"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
)

// Service answers UnaryCall with its name and counts the calls it served.
type Service struct {
	testgrpc.UnimplementedTestServiceServer
	Name string

	mu    sync.Mutex
	calls int
}

// UnaryCall implements grpc.testing.TestService.
func (s *Service) UnaryCall(context.Context, *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	return &testpb.SimpleResponse{ServerId: s.Name, Hostname: s.Name}, nil
}

// EmptyCall implements grpc.testing.TestService.
func (s *Service) EmptyCall(context.Context, *testpb.Empty) (*testpb.Empty, error) {
	return &testpb.Empty{}, nil
}

// Calls is how many UnaryCalls the service answered.
func (s *Service) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// NewServer is a gRPC server with the greeter service named name and
// grpc.health.v1 reporting SERVING.
func NewServer(name string, opts ...grpc.ServerOption) (*grpc.Server, *Service) {
	srv := grpc.NewServer(opts...)
	svc := &Service{Name: name}
	testgrpc.RegisterTestServiceServer(srv, svc)
	h := health.NewServer()
	healthpb.RegisterHealthServer(srv, h)
	return srv, svc
}

// Call makes one UnaryCall and returns the name of the server that
// answered; header/value, when set, go along as metadata (for RING_HASH).
func Call(ctx context.Context, conn grpc.ClientConnInterface, header, value string) (string, error) {
	if header != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, header, value)
	}
	resp, err := testgrpc.NewTestServiceClient(conn).UnaryCall(ctx, &testpb.SimpleRequest{FillServerId: true})
	if err != nil {
		return "", err
	}
	return resp.GetServerId(), nil
}
