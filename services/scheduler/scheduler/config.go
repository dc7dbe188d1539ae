package scheduler

import (
	"errors"
	"fmt"
	"time"
)

// Config is everything a scheduler needs, grouped by concern.
type Config struct {
	// GatewayAddr is the apigateway's gRPC address.
	GatewayAddr string
	// Token is the bearer token for the gateway (group system:controllers
	// when the gateway authenticates); TokenFile, if set, is read instead.
	Token     string
	TokenFile string
	// ListenAddr serves grpc.health.v1: NOT_SERVING while standing by,
	// SERVING while leading with synced caches. Empty serves nothing.
	ListenAddr string
	// Identity names this replica in the election and in Events; empty
	// means host name, pid and a random suffix.
	Identity string

	LeaderElection LeaderElectionConfig
	Scheduling     SchedulingConfig

	// ShutdownTimeout bounds Close's wait for the health server's drain.
	ShutdownTimeout time.Duration
}

// LeaderElectionConfig says how replicas elect the one that schedules.
type LeaderElectionConfig struct {
	// Enabled runs an etcd lease election; without it this replica
	// schedules at once (one replica only).
	Enabled bool
	// EtcdEndpoints are used for the election only: the scheduler reads
	// and writes objects through the gateway, and needs etcd credentials
	// for Prefix alone.
	EtcdEndpoints []string
	// Prefix is the election's key prefix.
	Prefix string
	// TTL is the lease's time to live: how long a dead leader holds on
	// before a standby takes over (a leader that shuts down resigns at
	// once).
	TTL time.Duration
	// Optional etcd authentication: a user whose role may only read and
	// write Prefix, and client TLS.
	EtcdUsername     string
	EtcdPasswordFile string
	EtcdCAFile       string
	EtcdCertFile     string
	EtcdKeyFile      string
}

// SchedulingConfig tunes the scheduling loop.
type SchedulingConfig struct {
	// PercentageOfNodesToScore bounds how many feasible nodes a cycle looks
	// for before scoring, as a share of all nodes (kube-scheduler's
	// percentageOfNodesToScore). 0 is adaptive: 50% minus 1% per 125 nodes,
	// at least 5%; never fewer than 100 nodes. 100 checks every node.
	PercentageOfNodesToScore int
	// Parallelism is how many goroutines filter and score nodes.
	Parallelism int
	// MaxInFlightBinds bounds concurrent BindPod calls; the loop waits for
	// a slot when they are all taken.
	MaxInFlightBinds int
	// PodInitialBackoff and PodMaxBackoff bound the per-pod retry back-off.
	PodInitialBackoff time.Duration
	PodMaxBackoff     time.Duration
	// PodMaxUnschedulableDuration is how long an unschedulable pod waits
	// for a helpful cluster event before it is retried anyway.
	PodMaxUnschedulableDuration time.Duration
	// BindTimeout bounds one BindPod call.
	BindTimeout time.Duration
	// RecordScheduledEvents records a Normal "Scheduled" Event per bound pod
	// (FailedScheduling Events are always recorded).
	RecordScheduledEvents bool
}

// NewConfig returns the defaults.
func NewConfig() Config {
	return Config{
		GatewayAddr: "127.0.0.1:6443",
		ListenAddr:  "127.0.0.1:10259",
		LeaderElection: LeaderElectionConfig{
			Enabled:       true,
			EtcdEndpoints: []string{"http://127.0.0.1:2379"},
			Prefix:        "/shoal/leader/scheduler",
			TTL:           10 * time.Second,
		},
		Scheduling: SchedulingConfig{
			Parallelism:                 16,
			MaxInFlightBinds:            64,
			PodInitialBackoff:           time.Second,
			PodMaxBackoff:               10 * time.Second,
			PodMaxUnschedulableDuration: time.Minute,
			BindTimeout:                 30 * time.Second,
			RecordScheduledEvents:       true,
		},
		ShutdownTimeout: 5 * time.Second,
	}
}

// Validate reports every problem at once, without side effects.
func (c Config) Validate() error {
	var errs []error
	if c.GatewayAddr == "" {
		errs = append(errs, errors.New("gateway address is required"))
	}
	if c.Token != "" && c.TokenFile != "" {
		errs = append(errs, errors.New("give a token or a token file, not both"))
	}
	if le := c.LeaderElection; le.Enabled {
		if len(le.EtcdEndpoints) == 0 {
			errs = append(errs, errors.New("leader election needs etcd endpoints"))
		}
		if le.Prefix == "" {
			errs = append(errs, errors.New("leader election needs a key prefix"))
		}
		if le.TTL < time.Second {
			errs = append(errs, fmt.Errorf("lease TTL %v: must be at least 1s", le.TTL))
		}
		if (le.EtcdCertFile == "") != (le.EtcdKeyFile == "") {
			errs = append(errs, errors.New("etcd client certificate and key go together"))
		}
	}
	s := c.Scheduling
	if s.PercentageOfNodesToScore < 0 || s.PercentageOfNodesToScore > 100 {
		errs = append(errs, fmt.Errorf("percentage of nodes to score %d: must be 0 (adaptive) to 100", s.PercentageOfNodesToScore))
	}
	if s.Parallelism < 1 {
		errs = append(errs, errors.New("parallelism must be at least 1"))
	}
	if s.MaxInFlightBinds < 1 {
		errs = append(errs, errors.New("max in-flight binds must be at least 1"))
	}
	if s.PodInitialBackoff <= 0 || s.PodMaxBackoff < s.PodInitialBackoff {
		errs = append(errs, errors.New("pod back-off: initial must be positive and at most the maximum"))
	}
	if s.PodMaxUnschedulableDuration <= 0 {
		errs = append(errs, errors.New("pod max unschedulable duration must be positive"))
	}
	if s.BindTimeout <= 0 {
		errs = append(errs, errors.New("bind timeout must be positive"))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("shutdown timeout must be positive"))
	}
	return errors.Join(errs...)
}
