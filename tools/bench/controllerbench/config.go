package controllerbench

import (
	"errors"
	"time"
)

// Config is one benchmark run. The defaults (1,000 replicas on 20 fake
// nodes) take a minute or two on two cores.
type Config struct {
	// GatewayBin and ControllerBin are the service binaries
	// (go build -o bin/ ./services/apigateway ./services/controller).
	GatewayBin    string
	ControllerBin string
	// Replicas of the Deployment.
	Replicas int
	// Nodes (fake, served in-process by fakeagent) and their pod capacity.
	Nodes       int
	PodsPerNode int
	// MaxSurge and MaxUnavailable of the rolling update ("25%" or a count).
	MaxSurge, MaxUnavailable string
	// ControllerWorkers is the controller's --workers.
	ControllerWorkers int
	// AgentWorkers update pod status in parallel on the node side.
	AgentWorkers int
	// Binder binds pods with fakeagent's Binder instead of the real
	// scheduler (which then runs in the benchmark's process).
	Binder bool
	// StartTimeout bounds each service's start; PhaseTimeout each phase.
	StartTimeout time.Duration
	PhaseTimeout time.Duration
}

// NewConfig returns the defaults.
func NewConfig() Config {
	return Config{
		GatewayBin:        "bin/apigateway",
		ControllerBin:     "bin/controller",
		Replicas:          1000,
		Nodes:             20,
		PodsPerNode:       110,
		MaxSurge:          "25%",
		MaxUnavailable:    "25%",
		ControllerWorkers: 5,
		AgentWorkers:      16,
		StartTimeout:      60 * time.Second,
		PhaseTimeout:      10 * time.Minute,
	}
}

// Validate checks the configuration without side effects.
func (c Config) Validate() error {
	var errs []error
	if c.GatewayBin == "" || c.ControllerBin == "" {
		errs = append(errs, errors.New("the apigateway and controller binaries are required"))
	}
	if c.Replicas < 1 || c.Nodes < 1 || c.PodsPerNode < 1 {
		errs = append(errs, errors.New("replicas, nodes and pods per node must be positive"))
	}
	if c.Nodes*c.PodsPerNode < c.Replicas*3/2 {
		errs = append(errs, errors.New("the nodes cannot hold the replicas plus the rolling update's surge"))
	}
	if c.ControllerWorkers < 1 || c.AgentWorkers < 1 {
		errs = append(errs, errors.New("workers must be positive"))
	}
	if c.StartTimeout <= 0 || c.PhaseTimeout <= 0 {
		errs = append(errs, errors.New("timeouts must be positive"))
	}
	return errors.Join(errs...)
}
