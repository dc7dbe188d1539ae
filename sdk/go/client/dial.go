package client

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// Option tunes Dial.
type Option func(*dialOptions)

type dialOptions struct {
	token string
	creds credentials.TransportCredentials
	extra []grpc.DialOption
}

// WithToken sends a bearer token with every call.
func WithToken(token string) Option { return func(o *dialOptions) { o.token = token } }

// WithTransportCredentials sets TLS (or other) credentials; without it the
// connection is plaintext, meant for loopback and tests.
func WithTransportCredentials(c credentials.TransportCredentials) Option {
	return func(o *dialOptions) { o.creds = c }
}

// WithDialOptions adds raw gRPC dial options (observability stats handlers,
// interceptors).
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *dialOptions) { o.extra = append(o.extra, opts...) }
}

// Dial connects to an apigateway. The connection is lazy: the first call
// waits for it.
func Dial(ctx context.Context, target string, opts ...Option) (*grpc.ClientConn, error) {
	o := dialOptions{}
	for _, opt := range opts {
		opt(&o)
	}
	creds := o.creds
	if creds == nil {
		creds = insecure.NewCredentials()
	}
	dopts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		// Watches carry large initial lists; match the gateway's limit.
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64 << 20)),
	}
	if o.token != "" {
		dopts = append(dopts, grpc.WithPerRPCCredentials(bearer{token: o.token, secure: o.creds != nil}))
	}
	dopts = append(dopts, o.extra...)
	return grpc.NewClient(target, dopts...)
}

type bearer struct {
	token  string
	secure bool
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

func (b bearer) RequireTransportSecurity() bool { return b.secure }

// IsNotFound reports a NOT_FOUND error.
func IsNotFound(err error) bool { return status.Code(err) == codes.NotFound }

// IsAlreadyExists reports an ALREADY_EXISTS error.
func IsAlreadyExists(err error) bool { return status.Code(err) == codes.AlreadyExists }

// IsConflict reports a stale resource_version (ABORTED).
func IsConflict(err error) bool { return status.Code(err) == codes.Aborted }

// IsGone reports that a resource_version was compacted (OUT_OF_RANGE): the
// caller must list again.
func IsGone(err error) bool { return status.Code(err) == codes.OutOfRange }

// IsInvalid reports INVALID_ARGUMENT.
func IsInvalid(err error) bool { return status.Code(err) == codes.InvalidArgument }

// Code returns the gRPC code of err.
func Code(err error) codes.Code { return status.Code(err) }
