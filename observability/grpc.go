package observability

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc/filters"
	"go.opentelemetry.io/otel/metric/noop"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

// ServerOptions returns everything a Shoal gRPC server needs to be
// observable, as the single interceptor chain of the service: the server
// span, recovery and metrics in one interceptor (serveUnary/serveStream),
// then the caller's interceptors (authentication, authorization, ...) in
// the order given.
//
// Observation comes first so that a panic anywhere below it, including in
// the caller's interceptors, becomes codes.Internal instead of killing the
// process, and so that requests rejected by authentication are still
// counted and traced. Panics in goroutines a handler starts itself cannot
// be recovered here.
//
// Pass the result to grpc.NewServer; adding further interceptor options
// there would start a second chain.
func (o *Observability) ServerOptions(unary []grpc.UnaryServerInterceptor, stream []grpc.StreamServerInterceptor) []grpc.ServerOption {
	us := []grpc.UnaryServerInterceptor{o.serveUnary}
	for _, i := range unary {
		if i != nil {
			us = append(us, i)
		}
	}
	ss := []grpc.StreamServerInterceptor{o.serveStream}
	for _, i := range stream {
		if i != nil {
			ss = append(ss, i)
		}
	}
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(us...),
		grpc.ChainStreamInterceptor(ss...),
	}
}

// DialOptions returns the options that make a client connection
// observable: a tracing stats handler that propagates the caller's trace to
// the server, and client-side metrics. Append credentials and any other
// options of the caller's own.
func (o *Observability) DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithStatsHandler(withoutPayloads{otelgrpc.NewClientHandler(o.otelgrpcOptions()...)}),
		grpc.WithChainUnaryInterceptor(o.clientMetrics.unary),
		grpc.WithChainStreamInterceptor(o.clientMetrics.stream),
	}
}

// otelgrpcOptions passes every provider explicitly, because otelgrpc falls
// back to the OpenTelemetry globals that this package never sets. RPC
// metrics come from Prometheus, so otelgrpc's own meter is a no-op.
// Only clients use otelgrpc; servers trace in serveUnary/serveStream.
func (o *Observability) otelgrpcOptions() []otelgrpc.Option {
	return []otelgrpc.Option{
		otelgrpc.WithTracerProvider(o.TracerProvider),
		otelgrpc.WithPropagators(o.Propagator),
		otelgrpc.WithMeterProvider(noop.NewMeterProvider()),
		otelgrpc.WithFilter(filters.Not(filters.HealthCheck())),
	}
}

// withoutPayloads passes every stats event but the per-message ones to h.
// otelgrpc records nothing for a message unless message events are on
// (they are not: a watch stream would pile one span event per object onto
// a span that lives for hours), yet it looks its state up in the context
// for each: for a client reading a busy watch that is CPU spent on
// nothing.
type withoutPayloads struct{ stats.Handler }

func (h withoutPayloads) HandleRPC(ctx context.Context, rs stats.RPCStats) {
	switch rs.(type) {
	case *stats.InPayload, *stats.OutPayload:
		return
	}
	h.Handler.HandleRPC(ctx, rs)
}

// recovered logs the panic with its stack (debug.Stack still shows the
// panicking frames while deferred calls run) and hides the details from
// the client, which has no use for them.
func (o *Observability) recovered(ctx context.Context, method string, r any) error {
	o.Logger.ErrorContext(ctx, "panic in gRPC handler",
		"method", method,
		"panic", fmt.Sprint(r),
		"stack", string(debug.Stack()),
	)
	return status.Error(codes.Internal, "internal error")
}

// codeOf returns the code the peer sees for err: grpc-go turns bare context
// errors into Canceled/DeadlineExceeded and any other error into Unknown.
func codeOf(err error) codes.Code {
	if s, ok := status.FromError(err); ok {
		return s.Code()
	}
	return status.FromContextError(err).Code()
}

// splitMethod turns "/shoal.v1.PodService/GetPod" into its service and
// method parts.
func splitMethod(fullMethod string) (service, method string) {
	s, m, ok := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	if !ok {
		return "unknown", fullMethod
	}
	return s, m
}

// observe records one finished RPC.
func (m *serverMetrics) observe(fullMethod string, code codes.Code, d time.Duration) {
	service, method := splitMethod(fullMethod)
	m.handled.WithLabelValues(service, method, code.String()).Inc()
	m.seconds.WithLabelValues(service, method).Observe(d.Seconds())
}

func (m *clientMetrics) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	start := time.Now()
	err := invoker(ctx, method, req, reply, cc, opts...)
	m.observe(method, err, time.Since(start))
	return err
}

func (m *clientMetrics) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	start := time.Now()
	cs, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		m.observe(method, err, time.Since(start))
		return nil, err
	}
	return &observedClientStream{
		ClientStream:  cs,
		serverStreams: desc.ServerStreams,
		finish: func(err error) {
			m.observe(method, err, time.Since(start))
		},
	}, nil
}

func (m *clientMetrics) observe(method string, err error, d time.Duration) {
	m.handled.WithLabelValues(method, codeOf(err).String()).Inc()
	m.seconds.WithLabelValues(method).Observe(d.Seconds())
}

// observedClientStream records a client stream when its outcome is known:
// on the final RecvMsg. A stream the caller abandons without reading to the
// end is not recorded, since the client never learns how it ended.
type observedClientStream struct {
	grpc.ClientStream
	serverStreams bool
	once          sync.Once
	finish        func(error)
}

func (s *observedClientStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	switch {
	case errors.Is(err, io.EOF):
		s.once.Do(func() { s.finish(nil) })
	case err != nil:
		s.once.Do(func() { s.finish(err) })
	case !s.serverStreams:
		// Unary-response streams end with their single message.
		s.once.Do(func() { s.finish(nil) })
	}
	return err
}
