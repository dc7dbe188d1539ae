package pods

import "google.golang.org/grpc"

type grpcCallOption = grpc.CallOption
