// Package interop checks Shoal's telemetry against real receivers: the
// OpenTelemetry Collector (built once by build-collector.sh, cached under
// ~/.cache/shoal/otelcol) receives service logs and container logs over the
// Fluent forward protocol and spans over OTLP/gRPC, and writes them to
// files the test reads back.
//
// The test carries the build tag interop and runs with `make interop` (see
// docs/observability.md); it is not part of `make test` because the
// collector takes minutes to build the first time.
package interop
