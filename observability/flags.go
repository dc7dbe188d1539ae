package observability

import "flag"

// RegisterFlags binds the flags every Shoal service shares to c, so that
// log, trace and Fluentd settings read the same on every binary (and get the
// same SHOAL_<SERVICE>_* environment overrides through flagenv).
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	fs.StringVar(&c.FluentdAddress, "fluentd-address", c.FluentdAddress,
		"Fluentd forward address (host:port or unix:///path); logs are also shipped there with tag shoal."+c.Service+"; empty disables shipping")
	fs.IntVar(&c.FluentdBuffer, "fluentd-buffer", FluentBufferLimit, "log records buffered for Fluentd before new ones are dropped (and counted)")
	fs.Float64Var(&c.TraceSampleRatio, "trace-sample-ratio", c.TraceSampleRatio, "fraction of new traces sampled (OTLP export is configured by OTEL_* variables)")
}

// RegisterMetricsFlags binds the flags of the HTTP server ServeMetrics
// starts. Services that serve /metrics from a server of their own (xds's
// admin endpoint) leave them out.
func (c *Config) RegisterMetricsFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr, "address of the Prometheus /metrics, /healthz (and, with --enable-pprof, /debug/pprof/) endpoint; empty disables it")
	c.RegisterPprofFlag(fs)
}

// RegisterPprofFlag binds --enable-pprof alone, for services whose HTTP
// endpoint is their own (xds's admin address).
func (c *Config) RegisterPprofFlag(fs *flag.FlagSet) {
	fs.BoolVar(&c.EnablePprof, "enable-pprof", c.EnablePprof, "serve Go's /debug/pprof/ profiles on the metrics (xds: admin) address; they show the command line and let callers spend CPU, so keep that address trusted")
}
