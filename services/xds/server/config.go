package server

import (
	"errors"
	"time"

	"github.com/shoalmesh/shoal/services/xds/resources"
)

// Config is everything an xds server needs.
type Config struct {
	// GatewayAddr is the apigateway's gRPC address; Token its bearer token
	// (empty when authentication is off).
	GatewayAddr string
	Token       string
	// ListenAddr serves ADS and grpc.health.v1.
	ListenAddr string
	// AdminAddr serves /metrics, /healthz, /debug/config and /debug/acks
	// over HTTP; empty disables it.
	AdminAddr string
	// Pprof also serves /debug/pprof/ on AdminAddr. Off by default: it
	// shows the command line and lets any caller spend the server's CPU.
	Pprof bool
	// Debounce is the least time between two rebuilds: a change after a
	// quiet period is rebuilt at once, and the changes that follow within
	// Debounce of a rebuild are coalesced into one rebuild when it ends.
	Debounce time.Duration
	// Resources are the settings of the generated resources (cluster
	// domain, outlier detection, circuit breakers).
	Resources resources.Options
	// ShutdownTimeout bounds the graceful drain on Close.
	ShutdownTimeout time.Duration
}

// NewConfig returns the defaults.
func NewConfig() Config {
	return Config{
		GatewayAddr:     "127.0.0.1:6443",
		ListenAddr:      "127.0.0.1:15010",
		AdminAddr:       "127.0.0.1:15014",
		Debounce:        50 * time.Millisecond,
		Resources:       resources.DefaultOptions(),
		ShutdownTimeout: 5 * time.Second,
	}
}

// Validate checks the configuration without side effects.
func (c Config) Validate() error {
	var errs []error
	if c.GatewayAddr == "" {
		errs = append(errs, errors.New("gateway address is required"))
	}
	if c.ListenAddr == "" {
		errs = append(errs, errors.New("listen address is required"))
	}
	if c.Debounce < 0 {
		errs = append(errs, errors.New("debounce must not be negative"))
	}
	if c.Resources.Domain == "" {
		errs = append(errs, errors.New("cluster domain is required"))
	}
	return errors.Join(errs...)
}
