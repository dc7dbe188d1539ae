// Package observability is the one setup call every Shoal service binary
// makes: structured logs (slog, JSON), traces (OpenTelemetry) and metrics
// (Prometheus), plus the single gRPC interceptor chain that ties them to
// every request.
//
// Nothing here touches process-wide state: the tracer provider and the
// propagator are never installed as OpenTelemetry globals, so two services
// started in one test process keep separate telemetry. Everything a caller
// needs hangs off the *Observability value returned by Setup.
//
// Traces are always recorded, so every log line written inside a request
// carries trace_id and span_id, but they leave the process only when the
// standard OpenTelemetry variables ask for it (OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_TRACES_EXPORTER=otlp); the
// exporter itself reads the rest of the OTEL_EXPORTER_OTLP_* variables.
// Ended spans wait for export in a bounded queue (OTEL_BSP_* variables); a
// span that finds it full is dropped and counted in
// shoal_trace_spans_dropped_total, so a slow or dead collector never slows
// a request. Log records shipped to Fluentd (Config.FluentdAddress) take the
// same approach: a bounded buffer, drops counted in
// shoal_fluentd_records_total.
//
// A service's main.go uses it like this:
//
//	cfg := observability.NewConfig("scheduler")
//	cfg.Version = version
//	cfg.MetricsAddr = ":9090"
//	obs, err := observability.Setup(ctx, cfg, os.Stdout)
//	if err != nil {
//		return err
//	}
//	defer func() {
//		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
//		defer cancel()
//		_ = obs.Shutdown(ctx)
//	}()
//	if _, err := obs.ServeMetrics(ctx); err != nil {
//		return err
//	}
//
//	srv := grpc.NewServer(obs.ServerOptions(
//		[]grpc.UnaryServerInterceptor{authn.Unary},
//		[]grpc.StreamServerInterceptor{authn.Stream},
//	)...)
//	conn, err := grpc.NewClient(gatewayAddr, append(obs.DialOptions(), creds)...)
//
//	ctx, span := obs.Tracer("scheduler").Start(ctx, "schedule")
//	defer span.End()
//	obs.Logger.InfoContext(ctx, "bound pod", "pod", key) // carries trace_id, span_id
package observability
