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
// observable, as the single interceptor chain of the service: recovery,
// then metrics, then the caller's interceptors (authentication,
// authorization, ...) in the order given.
//
// Recovery comes first so that a panic anywhere below it, including in the
// caller's interceptors, becomes codes.Internal instead of killing the
// process; metrics come next so that requests rejected by authentication
// are still counted. Panics in goroutines a handler starts itself cannot be
// recovered here.
//
// Tracing rides on a stats handler rather than an interceptor so that it
// also sees the time spent before the chain runs; grpc.health.v1 calls are
// not traced because probes would drown real traces.
//
// Pass the result to grpc.NewServer; adding further interceptor options
// there would start a second chain.
func (o *Observability) ServerOptions(unary []grpc.UnaryServerInterceptor, stream []grpc.StreamServerInterceptor) []grpc.ServerOption {
	us := []grpc.UnaryServerInterceptor{o.recoverUnary, o.serverMetrics.unary}
	for _, i := range unary {
		if i != nil {
			us = append(us, i)
		}
	}
	ss := []grpc.StreamServerInterceptor{o.recoverStream, o.serverMetrics.stream}
	for _, i := range stream {
		if i != nil {
			ss = append(ss, i)
		}
	}
	return []grpc.ServerOption{
		grpc.StatsHandler(withoutPayloads{otelgrpc.NewServerHandler(o.otelgrpcOptions()...)}),
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
// for each: on a gateway serving thousands of watchers that was 6 % of its
// CPU, spent on nothing.
type withoutPayloads struct{ stats.Handler }

func (h withoutPayloads) HandleRPC(ctx context.Context, rs stats.RPCStats) {
	switch rs.(type) {
	case *stats.InPayload, *stats.OutPayload:
		return
	}
	h.Handler.HandleRPC(ctx, rs)
}

func (o *Observability) recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if r := recover(); r != nil {
			resp, err = nil, o.recovered(ctx, info.FullMethod, r)
		}
	}()
	return handler(ctx, req)
}

func (o *Observability) recoverStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = o.recovered(ss.Context(), info.FullMethod, r)
		}
	}()
	return handler(srv, ss)
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

func (m *serverMetrics) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	start := time.Now()
	returned := false
	defer func() {
		m.observe(info.FullMethod, returned, err, time.Since(start))
	}()
	resp, err = handler(ctx, req)
	returned = true
	return resp, err
}

func (m *serverMetrics) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	start := time.Now()
	returned := false
	defer func() {
		m.observe(info.FullMethod, returned, err, time.Since(start))
	}()
	err = handler(srv, ss)
	returned = true
	return err
}

// observe records one finished RPC. When the handler did not return, a
// panic is passing through on its way to the recovery interceptor, which
// will answer codes.Internal; recording that here, instead of recovering
// and re-panicking, leaves the panic and its stack untouched.
func (m *serverMetrics) observe(fullMethod string, returned bool, err error, d time.Duration) {
	code := codes.Internal
	if returned {
		code = codeOf(err)
	}
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
