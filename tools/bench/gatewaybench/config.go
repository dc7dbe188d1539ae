package gatewaybench

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Phase names select parts of a run.
const (
	PhaseThroughput = "throughput"
	PhaseOpenLoop   = "openloop"
	PhaseFanout     = "fanout"
)

// Phases are all phases in the order they run.
var Phases = []string{PhaseThroughput, PhaseOpenLoop, PhaseFanout}

// Config is one benchmark run. The defaults finish in a few minutes on two
// cores.
type Config struct {
	// GatewayBin is the apigateway binary (bin/apigateway from make build).
	GatewayBin string
	// GatewayArgs are extra apigateway flags, appended after the
	// benchmark's own so they override them.
	GatewayArgs []string
	// Phases to run, a subset of Phases.
	Phases []string
	// StartTimeout bounds how long the gateway may take to serve.
	StartTimeout time.Duration

	Throughput ThroughputConfig
	OpenLoop   OpenLoopConfig
	Fanout     FanoutConfig
}

// ThroughputConfig is the closed-loop comparison of etcd and the gateway.
type ThroughputConfig struct {
	// Concurrency levels; each op runs once per level.
	Concurrency []int
	// StepDuration bounds each (op, concurrency) step...
	StepDuration time.Duration
	// ...and StepOps, when positive, ends it earlier after that many ops.
	StepOps int
	// ListPods is how many pods the namespace read by ListPods holds.
	ListPods int
}

// OpenLoopConfig is CreatePod at a fixed arrival rate.
type OpenLoopConfig struct {
	Rate     int // requests per second
	Duration time.Duration
	// TargetP99 is the latency the gateway should stay under.
	TargetP99 time.Duration
}

// FanoutConfig is the watch fan-out.
type FanoutConfig struct {
	// Watchers are the watcher counts; each runs on a fresh gateway.
	Watchers []int
	// StreamsPerConn is how many watch streams share one gRPC connection.
	StreamsPerConn int
	// Client is the watchers' client: ClientH2 or ClientGRPC.
	Client string
	// Events is how many pods are written while the watchers listen...
	// The default, 150 (30 s), is long enough that the gateway's garbage
	// collections, which come every few dozen to hundreds of events with
	// 10,000 watchers, weigh in the tail as often as they happen; with 20
	// events one collection was either absent or 5 % of the deliveries.
	Events int
	// ...one every Interval.
	Interval time.Duration
	// Timeout bounds the wait for the last delivery after the last write.
	Timeout time.Duration
	// TargetP99 is the per-delivery delay the gateway should stay under,
	// TargetRSS the memory it should stay under with the watchers open.
	TargetP99 time.Duration
	TargetRSS int64
}

// The fan-out's watcher clients (see h2watch.go).
const (
	// ClientH2: a reader goroutine per HTTP/2 connection, the lightest
	// client, so that the watchers take as little as possible of the
	// cores the gateway runs on.
	ClientH2 = "h2"
	// ClientGRPC: a grpc-go client stream and goroutine per watcher.
	ClientGRPC = "grpc"
)

// NewConfig returns the defaults.
func NewConfig() Config {
	return Config{
		GatewayBin:   "bin/apigateway",
		Phases:       slices.Clone(Phases),
		StartTimeout: 60 * time.Second,
		Throughput: ThroughputConfig{
			Concurrency:  []int{1, 8, 32, 64},
			StepDuration: 3 * time.Second,
			ListPods:     100,
		},
		OpenLoop: OpenLoopConfig{Rate: 200, Duration: 10 * time.Second, TargetP99: 25 * time.Millisecond},
		Fanout: FanoutConfig{
			Watchers:       []int{1000, 10000},
			StreamsPerConn: 100,
			Client:         ClientH2,
			Events:         150,
			Interval:       200 * time.Millisecond,
			Timeout:        30 * time.Second,
			TargetP99:      100 * time.Millisecond,
			TargetRSS:      500 << 20,
		},
	}
}

// Validate checks the configuration without side effects.
func (c Config) Validate() error {
	var errs []error
	if c.GatewayBin == "" {
		errs = append(errs, errors.New("the apigateway binary is required"))
	}
	for _, p := range c.Phases {
		if !slices.Contains(Phases, p) {
			errs = append(errs, fmt.Errorf("unknown phase %q (want some of %v)", p, Phases))
		}
	}
	if c.runs(PhaseThroughput) {
		t := c.Throughput
		if len(t.Concurrency) == 0 || slices.ContainsFunc(t.Concurrency, func(n int) bool { return n < 1 }) {
			errs = append(errs, errors.New("concurrency levels must be positive"))
		}
		if t.StepDuration <= 0 {
			errs = append(errs, errors.New("the step duration must be positive"))
		}
		if t.ListPods < 1 {
			errs = append(errs, errors.New("the listed namespace needs at least one pod"))
		}
	}
	if c.runs(PhaseOpenLoop) && (c.OpenLoop.Rate < 1 || c.OpenLoop.Duration <= 0) {
		errs = append(errs, errors.New("the open-loop rate and duration must be positive"))
	}
	if c.runs(PhaseFanout) {
		f := c.Fanout
		if len(f.Watchers) == 0 || slices.ContainsFunc(f.Watchers, func(n int) bool { return n < 1 }) {
			errs = append(errs, errors.New("watcher counts must be positive"))
		}
		if f.Client != ClientH2 && f.Client != ClientGRPC {
			errs = append(errs, fmt.Errorf("unknown fan-out client %q (want %s or %s)", f.Client, ClientH2, ClientGRPC))
		}
		if f.StreamsPerConn < 1 || f.Events < 1 || f.Interval < 0 || f.Timeout <= 0 {
			errs = append(errs, errors.New("streams per connection, events and timeout must be positive"))
		}
	}
	return errors.Join(errs...)
}

func (c Config) runs(phase string) bool { return slices.Contains(c.Phases, phase) }
