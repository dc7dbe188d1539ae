package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/apigateway/registry"
)

// PodLogs proxies PodLogService calls to the node agent that runs the pod.
type PodLogs struct {
	shoalv1.UnimplementedPodLogServiceServer
	reg      *registry.Registry
	log      *slog.Logger
	dialOpts []grpc.DialOption

	mu    sync.Mutex
	conns map[string]*grpc.ClientConn
}

// NewPodLogs returns the proxy; dialOpts are added to every connection to a
// node agent (tracing, credentials).
func NewPodLogs(reg *registry.Registry, log *slog.Logger, dialOpts ...grpc.DialOption) *PodLogs {
	return &PodLogs{reg: reg, log: log, dialOpts: dialOpts, conns: map[string]*grpc.ClientConn{}}
}

// Close closes the connections to node agents.
func (p *PodLogs) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for addr, c := range p.conns {
		c.Close()
		delete(p.conns, addr)
	}
}

func (p *PodLogs) conn(addr string) (*grpc.ClientConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.conns[addr]; ok {
		return c, nil
	}
	opts := append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, p.dialOpts...)
	c, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, err
	}
	p.conns[addr] = c
	return c, nil
}

// agentAddress is where a node's agent serves NodeAgentService.
func agentAddress(n *shoalv1.Node) (string, bool) {
	port := n.GetStatus().GetDaemonEndpoints().GetAgentPort()
	if port <= 0 {
		return "", false
	}
	var host string
	for _, a := range n.GetStatus().GetAddresses() {
		switch a.GetType() {
		case shoalv1.NodeAddressType_NODE_ADDRESS_TYPE_INTERNAL_IP:
			return net.JoinHostPort(a.GetAddress(), strconv.Itoa(int(port))), true
		case shoalv1.NodeAddressType_NODE_ADDRESS_TYPE_EXTERNAL_IP, shoalv1.NodeAddressType_NODE_ADDRESS_TYPE_HOSTNAME:
			if host == "" {
				host = a.GetAddress()
			}
		}
	}
	if host == "" {
		return "", false
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port))), true
}

// PodLogs finds the pod's node and relays the node agent's stream.
func (p *PodLogs) PodLogs(req *shoalv1.PodLogsRequest, stream grpc.ServerStreamingServer[shoalv1.PodLogsResponse]) error {
	ctx := stream.Context()
	switch {
	case req.GetNamespace() == "":
		return badRequest("namespace", "required")
	case req.GetName() == "":
		return badRequest("name", "required")
	case req.TailLines != nil && req.GetTailLines() < 0:
		return badRequest("tail_lines", "must be >= 0")
	}
	obj, err := p.reg.Get(ctx, "Pod", req.GetNamespace(), req.GetName())
	if err != nil {
		return toStatus(p.log, err)
	}
	pod := obj.(*shoalv1.Pod)
	if pod.GetSpec().GetNodeName() == "" {
		return status.Errorf(codes.FailedPrecondition, "pod %q is not scheduled to a node yet", req.GetName())
	}
	nobj, err := p.reg.Get(ctx, "Node", "", pod.GetSpec().GetNodeName())
	if err != nil {
		return toStatus(p.log, err)
	}
	addr, ok := agentAddress(nobj.(*shoalv1.Node))
	if !ok {
		return status.Errorf(codes.Unavailable, "node %q publishes no agent endpoint", pod.GetSpec().GetNodeName())
	}
	conn, err := p.conn(addr)
	if err != nil {
		return status.Errorf(codes.Unavailable, "node %q: %v", pod.GetSpec().GetNodeName(), err)
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	in, err := shoalv1.NewNodeAgentServiceClient(conn).PodLogs(cctx, req)
	if err != nil {
		return err
	}
	for {
		msg, err := in.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(msg); err != nil {
			return err
		}
	}
}
