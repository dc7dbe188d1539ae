package gateway_test

import (
	"io"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
)

// fakeAgent stands in for a node agent's NodeAgentService (the real one is
// tested end to end in the node agent's own tests).
type fakeAgent struct {
	shoalv1.UnimplementedNodeAgentServiceServer
	got chan *shoalv1.PodLogsRequest
}

func (f *fakeAgent) PodLogs(req *shoalv1.PodLogsRequest, s grpc.ServerStreamingServer[shoalv1.PodLogsResponse]) error {
	f.got <- req
	for _, l := range []string{"hello", "world"} {
		if err := s.Send(&shoalv1.PodLogsResponse{Lines: []*shoalv1.LogLine{{Stream: "stdout", Content: []byte(l)}}}); err != nil {
			return err
		}
	}
	return nil
}

func TestPodLogsProxiedToTheNode(t *testing.T) {
	env := gatewaytest.Start(t)
	ctx := ctxT(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	agent := &fakeAgent{got: make(chan *shoalv1.PodLogsRequest, 1)}
	srv := grpc.NewServer()
	shoalv1.RegisterNodeAgentServiceServer(srv, agent)
	go srv.Serve(lis)
	defer srv.Stop()

	node := gatewaytest.Node("node-a")
	node.Status.Addresses = []*shoalv1.NodeAddress{{Type: shoalv1.NodeAddressType_NODE_ADDRESS_TYPE_INTERNAL_IP, Address: "127.0.0.1"}}
	node.Status.DaemonEndpoints = &shoalv1.NodeDaemonEndpoints{AgentPort: int32(lis.Addr().(*net.TCPAddr).Port)}
	if _, err := client.For[*shoalv1.Node](env.Conn).Create(ctx, node); err != nil {
		t.Fatal(err)
	}
	pods := client.For[*shoalv1.Pod](env.Conn)
	if _, err := pods.Create(ctx, gatewaytest.Pod("default", "logger", nil)); err != nil {
		t.Fatal(err)
	}
	logs := shoalv1.NewPodLogServiceClient(env.Conn)
	s, err := logs.PodLogs(ctx, &shoalv1.PodLogsRequest{Namespace: "default", Name: "logger"})
	if err == nil {
		_, err = s.Recv()
	}
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("logs of an unscheduled pod: want FAILED_PRECONDITION, got %v", err)
	}
	if _, err := shoalv1.NewPodServiceClient(env.Conn).BindPod(ctx, &shoalv1.BindPodRequest{Namespace: "default", Name: "logger", NodeName: "node-a"}); err != nil {
		t.Fatal(err)
	}
	tail := int64(5)
	s, err = logs.PodLogs(ctx, &shoalv1.PodLogsRequest{Namespace: "default", Name: "logger", Container: "app", TailLines: &tail})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for {
		msg, err := s.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range msg.GetLines() {
			lines = append(lines, string(l.GetContent()))
		}
	}
	if len(lines) != 2 || lines[0] != "hello" || lines[1] != "world" {
		t.Fatalf("lines %q", lines)
	}
	req := <-agent.got
	if req.GetContainer() != "app" || req.GetTailLines() != 5 || req.GetName() != "logger" {
		t.Fatalf("the agent got %v", req)
	}
}
