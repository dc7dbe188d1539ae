package agent

import (
	"errors"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/nodeagent/podlogs"
	"github.com/shoalmesh/shoal/services/nodeagent/pods"
)

// logServer serves NodeAgentService; it is the only place errors become
// gRPC status codes.
type logServer struct {
	shoalv1.UnimplementedNodeAgentServiceServer
	a *Agent
}

var _ shoalv1.NodeAgentServiceServer = (*logServer)(nil)

func (s *logServer) PodLogs(req *shoalv1.PodLogsRequest, stream grpc.ServerStreamingServer[shoalv1.PodLogsResponse]) error {
	if req.GetNamespace() == "" || req.GetName() == "" {
		return status.Error(codes.InvalidArgument, "namespace and name are required")
	}
	if req.TailLines != nil && req.GetTailLines() < 0 {
		return status.Error(codes.InvalidArgument, "tail_lines must be >= 0")
	}
	path, done, err := s.a.pods.LogFile(req.GetNamespace(), req.GetName(), req.GetContainer(), req.GetPrevious())
	switch {
	case errors.Is(err, pods.ErrAmbiguous):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, pods.ErrNoLog):
		return status.Error(codes.NotFound, err.Error())
	case err != nil:
		return status.Error(codes.Internal, err.Error())
	}
	o := podlogs.ReadOptions{TailLines: req.TailLines, Follow: req.GetFollow(), Done: done}
	if req.GetSinceTime() != nil {
		o.Since = req.GetSinceTime().AsTime()
	}
	err = podlogs.Read(stream.Context(), path, o, func(lines []*shoalv1.LogLine) error {
		return stream.Send(&shoalv1.PodLogsResponse{Lines: lines})
	})
	if err != nil && stream.Context().Err() == nil {
		return status.Error(codes.Internal, err.Error())
	}
	return nil
}
