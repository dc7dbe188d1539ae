package observability

import (
	"errors"
	"fmt"
	"log/slog"
)

// Config says how one service process reports about itself. Build it with
// NewConfig so that fields a binary does not set keep sensible defaults.
type Config struct {
	// Service names the binary (e.g. "apigateway"). It becomes the service
	// field of every log record and the service.name of every span.
	Service string
	// Version is the build version, reported as service.version.
	Version string
	// LogLevel is the minimum level logged: debug, info, warn or error
	// (case-insensitive; slog's "warn+2" offsets also work).
	LogLevel string
	// MetricsAddr is where ServeMetrics listens; empty means no HTTP server.
	MetricsAddr string
	// EnablePprof also serves net/http/pprof under /debug/pprof/ on
	// MetricsAddr, as etcd's --enable-pprof does: off by default because
	// profiles expose internals and cost CPU while they run.
	EnablePprof bool
	// TraceSampleRatio is the share of new traces (those without a sampled
	// parent) that are recorded, from 0 to 1. A caller's sampling decision
	// always wins, so one trace is never half recorded across services.
	TraceSampleRatio float64
	// FluentdAddress ("host:port" or "unix:///path"), when set, also ships every log record
	// to Fluentd with tag shoal.<service>.
	FluentdAddress string
	// FluentdBuffer bounds the records waiting for Fluentd (0 means
	// FluentBufferLimit); past it new records are dropped and counted.
	FluentdBuffer int
}

// NewConfig returns the defaults: info logs, every trace sampled, no
// metrics server.
func NewConfig(service string) Config {
	return Config{
		Service:          service,
		LogLevel:         "info",
		TraceSampleRatio: 1.0,
	}
}

// Validate reports every problem with c at once, without side effects.
func (c Config) Validate() error {
	var errs []error
	if c.Service == "" {
		errs = append(errs, errors.New("observability: Service is required"))
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	// The negated form also rejects NaN.
	if !(c.TraceSampleRatio >= 0 && c.TraceSampleRatio <= 1) {
		errs = append(errs, fmt.Errorf("observability: TraceSampleRatio %v is outside [0, 1]", c.TraceSampleRatio))
	}
	return errors.Join(errs...)
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("observability: LogLevel %q: want debug, info, warn or error", s)
	}
	return l, nil
}
