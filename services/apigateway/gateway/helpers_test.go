package gateway_test

import (
	"context"
	"fmt"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
)

func checkHealth(ctx context.Context, env *gatewaytest.Env) error {
	resp, err := healthpb.NewHealthClient(env.Conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return err
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("health: %v", resp.GetStatus())
	}
	return nil
}

func reflectServices(ctx context.Context, env *gatewaytest.Env) (map[string]bool, error) {
	stream, err := reflectionpb.NewServerReflectionClient(env.Conn).ServerReflectionInfo(ctx)
	if err != nil {
		return nil, err
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		return nil, err
	}
	resp, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, s := range resp.GetListServicesResponse().GetService() {
		out[s.GetName()] = true
	}
	return out, stream.CloseSend()
}
